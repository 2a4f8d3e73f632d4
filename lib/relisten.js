'use strict'
// Re-listen on EADDRINUSE (SPEC section 8), installed on a server by `cio/relistener`.
// The server remembers the arguments of the user's listen() minus the callback, which
// becomes a once('listening') listener so it fires once, when listening finally succeeds.

const { codedError } = require('./order')
const debug = require('util').debuglog('cio') // NODE_DEBUG=cio

const DEFAULT_RETRY_DELAY = 3000
const DEFAULT_MAX_RETRIES = 3
const MAX_DELAY = 2 ** 31 - 1

/** Reads retryDelay/maxRetries from the context; returns { settings } or { error }. */
function relistenSettings(context) {
  const retryDelay = context.retryDelay == null ? DEFAULT_RETRY_DELAY : context.retryDelay
  const maxRetries = context.maxRetries == null ? DEFAULT_MAX_RETRIES : context.maxRetries
  // at most what a timer holds: a longer delay would make Node's setTimeout fire after 1 ms
  if (typeof retryDelay !== 'number' || !Number.isFinite(retryDelay) || retryDelay < 0 || retryDelay > MAX_DELAY) {
    return { error: codedError(`retryDelay must be a non-negative number of milliseconds (at most ${MAX_DELAY}), got: ${String(retryDelay)}`,
      'ERR_CIO_INVALID_OPTION', { option: 'retryDelay' }) }
  }
  if (!Number.isInteger(maxRetries) || maxRetries < 0) {
    return { error: codedError(`maxRetries must be a non-negative integer, got: ${String(maxRetries)}`,
      'ERR_CIO_INVALID_OPTION', { option: 'maxRetries' }) }
  }
  return { settings: { retryDelay, maxRetries } }
}

/**
 * Wraps `server.listen`/`server.close` (own properties of this one server) and adds the
 * EADDRINUSE 'error' listener. `context.relisten(server, listenArgs)`, when a function, is
 * called instead of the default listen again.
 */
function installRelisten(server, context, { retryDelay, maxRetries }) {
  const listen = server.listen
  const close = server.close
  let listenArgs = null
  let retries = 0
  let timer = null

  const cancel = () => {
    if (timer !== null) clearTimeout(timer)
    timer = null
  }

  server.listen = function listenWithRelisten(...args) {
    if (typeof args[args.length - 1] === 'function') this.once('listening', args.pop())
    cancel()
    listenArgs = args
    retries = 0
    return listen.apply(this, args)
  }

  server.close = function closeWithoutRelisten(...args) {
    cancel()
    return close.apply(this, args)
  }

  server.on('error', function relistenOnAddressInUse(error) {
    if (!error || error.code !== 'EADDRINUSE' || listenArgs === null) {
      // we are not handling it: behave as if this listener were not here
      if (server.listenerCount('error') === 1) throw error
      return
    }
    if (retries >= maxRetries) {
      console.error(`Address in use. Exiting after ${retries} retries.`)
      debug('relisten: giving up after %d retries', retries)
      cancel()
      close.call(server)
      return
    }
    retries++
    console.error(`Address in use, retrying in ${retryDelay / 1000} seconds...`)
    debug('relisten: attempt %d of %d in %d ms', retries, maxRetries, retryDelay)
    cancel()
    timer = setTimeout(() => {
      timer = null
      close.call(server)
      server.emit('relisten')
      if (typeof context.relisten === 'function') context.relisten(server, listenArgs.slice())
      else listen.apply(server, listenArgs)
    }, retryDelay)
  })
}

module.exports = { installRelisten, relistenSettings, DEFAULT_RETRY_DELAY, DEFAULT_MAX_RETRIES }
