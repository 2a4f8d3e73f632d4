'use strict'
// The core listeners of the three chains (SPEC section 4). Each factory returns fresh
// functions with fresh `options`, so every Cio instance has its own: disabling or removing
// one on one instance never touches another. The core listeners chain themselves with
// `after` constraints, so a user listener can never reorder them relative to each other.

const net = require('./net')
const { invalidArgType } = require('./errors')
const { moveAliases, readMaterial, unableToRead } = require('./material')
const { installRelisten, relistenSettings } = require('./relisten')
const debug = require('util').debuglog('cio') // NODE_DEBUG=cio

function withOptions(options, fn) {
  fn.options = options
  return fn
}

/** id CheckOrderedError, before '*': fails the run when the chain could not be ordered. */
function checkOrdered() {
  return withOptions({ id: 'CheckOrderedError', before: ['*'] }, function CheckOrderedError(control) {
    if (control.chain.orderError) control.fail('Unable to order the chain', control.chain.orderError)
  })
}

function moveAliasesListener() {
  return withOptions({ id: 'cio/move-aliases' }, function moveAliasesCore(control, context) {
    moveAliases(context)
  })
}

/** isSecure: a boolean option wins; else key, cert or ca, or an explicit rejectUnauthorized/requestCert. */
function secure() {
  return withOptions({ id: 'cio/secure', after: ['cio/move-aliases'] }, function secureCore(control, context) {
    if (typeof context.isSecure === 'boolean') {
      context.isSecure = context.isSecure // an own property, even when inherited
      return
    }
    context.isSecure = !!(context.key || context.cert || context.ca ||
      context.rejectUnauthorized === true || context.requestCert === true)
  })
}

function ensureCerts() {
  return withOptions({ id: 'cio/ensure-certs', after: ['cio/secure'] }, function ensureCertsCore(control, context) {
    const failure = readMaterial(context)
    if (failure) control.fail(unableToRead(failure), failure.reason)
  })
}

/** A coded error (bad TLS material or option) fails the run with its own message as the reason. */
function failClearly(control, error) {
  if (!error || typeof error.code !== 'string') throw error
  control.fail(error.message, error)
}

function createClient() {
  return withOptions({ id: 'cio/createClient', after: ['cio/ensure-certs'] }, function createClientCore(control, context) {
    const onConnect = context.onConnect
    // onConnect(socket) (SPEC section 3): the connect callback, also given the socket
    const callback = typeof onConnect === 'function' ? function connected() { onConnect.call(this, this) } : undefined
    try {
      context.client = net.connect(context, callback)
    } catch (error) {
      failClearly(control, error)
    }
  })
}

/** The server's decision callbacks must be functions (a list of names belongs in allowClients). */
function checkCallbacks(context) {
  for (const name of ['isClientAllowed', 'rejectClient']) {
    const value = context[name]
    if (value !== undefined && value !== null && typeof value !== 'function') {
      const hint = Array.isArray(value) ? ' (for a list of names, use allowClients)' : ''
      const error = invalidArgType(`options.${name}`, 'of type function', value)
      error.message += hint
      return error
    }
  }
  return null
}

function createServer() {
  return withOptions({ id: 'cio/createServer', after: ['cio/ensure-certs'] }, function createServerCore(control, context) {
    const bad = checkCallbacks(context)
    if (bad) return failClearly(control, bad)
    let server
    try {
      server = net.createServer(context)
    } catch (error) {
      return failClearly(control, error)
    }
    if (typeof context.onConnect === 'function') server.on('connection', context.onConnect)
    if (typeof context.onSecureConnect === 'function') server.on('secureConnection', context.onSecureConnect)
    context.server = server
  })
}

function relistener() {
  return withOptions({ id: 'cio/relistener', after: ['cio/createServer'] },
    function relistenerCore(control, context) {
      if (context.noRelisten === true) return
      const { settings, error } = relistenSettings(context)
      if (error) return control.fail(error.message, error)
      installRelisten(context.server, context, settings)
    })
}

/**
 * Installs the server's `_gate`: for each accepted socket, run the server-client chain with a
 * fresh context (prototype: the server's context; own `serverClient`), and let the server emit
 * 'connection'/'secureConnection' only when the run succeeds and the client was not rejected.
 */
function emitNewServerClient(cio) {
  return withOptions({ id: 'cio/emit-new-server-client', after: ['cio/createServer'] },
    function emitNewServerClientCore(control, context) {
      const server = context.server
      server._gate = function cioGate(socket, proceed) {
        const clientContext = Object.create(context)
        clientContext.serverClient = socket
        cio.getServerClientChain().run({
          context: clientContext,
          done(error, result) {
            debug('server-client chain run: %s', result.failed ? `failed (${result.failed.reason})` : 'done')
            if (result.failed) {
              // the server decided: not a 'tlsClientError'
              if (socket._releaseControl) socket._releaseControl()
              socket.destroy()
              server.emit('serverClientFailed', result.failed, socket)
              return
            }
            if (cio._rejected.has(socket) || socket.destroyed) return
            proceed()
          },
        })
      }
    })
}

/**
 * Only for secure servers: name = peer subject CN; isClientAllowed decides (default allow).
 * A decision may be a Promise (any thenable): the run pauses, so the connection is not
 * announced and none of its bytes reach user code until it settles; true (truthy) admits,
 * false or a rejection refuses exactly as a synchronous false does. A client that leaves
 * meanwhile ends the run quietly: never announced, never rejected, nothing thrown.
 */
function authenticateClient(cio) {
  return withOptions({ id: 'cio/authenticate-client' }, function authenticateClientCore(control, context) {
    // No isClientAllowed: every client is allowed, and its certificate need not be decoded.
    if (!context.isSecure || typeof context.isClientAllowed !== 'function') return
    const socket = context.serverClient
    const peer = (typeof socket.getPeerCertificate === 'function' && socket.getPeerCertificate()) || {}
    const name = peer.subject ? peer.subject.CN : undefined
    const verdict = context.isClientAllowed(name, peer)
    if (!isThenable(verdict)) {
      if (!verdict) rejectClient(cio, control, context, socket, name, peer)
      return
    }
    awaitVerdict(cio, control, context, socket, name, peer, verdict)
  })
}

function isThenable(value) {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.then === 'function'
}

function awaitVerdict(cio, control, context, socket, name, peer, verdict) {
  const resume = control.pause('isClientAllowed pending')
  let settled = false
  // Nobody listens on the socket yet: a reset meanwhile must not become an uncaught 'error'.
  const onError = (error) => debug('client %s failed while isClientAllowed was pending: %s', name, error.code || error.message)
  const onClose = () => {
    if (settled) return
    settled = true
    debug('client %s left while isClientAllowed was pending', name)
    control.stop('Client disconnected before isClientAllowed decided: ' + name)
  }
  socket.on('error', onError)
  socket.once('close', onClose)
  const settle = (allowed, reason) => {
    if (settled) return
    settled = true
    socket.removeListener('error', onError)
    socket.removeListener('close', onClose)
    if (socket.destroyed) {
      control.stop('Client disconnected before isClientAllowed decided: ' + name)
      return
    }
    if (allowed) {
      resume()
      return
    }
    if (reason !== undefined) debug('isClientAllowed rejected for %s: %s', name, reason && reason.message)
    try {
      rejectClient(cio, control, context, socket, name, peer)
    } catch (error) {
      control.fail('caught error', error) // as a throwing listener fails the run (the socket is destroyed)
    }
  }
  // Settled outside the promise job, so that an exception in what follows (a 'secureConnection'
  // listener, rejectClient) is uncaught as in the synchronous case, never an unhandled rejection.
  Promise.resolve(verdict).then(
    (allowed) => process.nextTick(settle, Boolean(allowed)),
    (reason) => process.nextTick(settle, false, reason === undefined ? null : reason))
}

function rejectClient(cio, control, context, socket, name, peer) {
  cio._rejected.add(socket)
  // the server decided: not a 'tlsClientError'
  if (typeof socket._releaseControl === 'function') socket._releaseControl()
  debug('client rejected by isClientAllowed: %s', name)
  // Discard whatever the rejected client sent (nobody in the application listens) and keep
  // reading, so its end-of-stream is seen and the socket closes after rejectClient's end().
  socket.resume()
  if (typeof context.rejectClient === 'function') {
    context.rejectClient(socket, name, peer)
  } else {
    const error = new Error('Client Rejected: ' + name)
    error.code = 'ERR_CIO_CLIENT_REJECTED'
    // never an uncaught 'error': only emitted when somebody listens for it
    if (require('./tls').hasErrorListener(socket)) socket.emit('error', error)
    socket.destroy()
  }
  if (context.server) context.server.emit('clientRejected', name, peer)
  control.stop('Client Rejected: ' + name)
}

const clientListeners = () =>
  [checkOrdered(), moveAliasesListener(), secure(), ensureCerts(), createClient()]

const serverListeners = (cio) => [checkOrdered(), moveAliasesListener(), secure(), ensureCerts(),
  createServer(), relistener(), emitNewServerClient(cio)]

const serverClientListeners = (cio) => [checkOrdered(), authenticateClient(cio)]

module.exports = { clientListeners, serverListeners, serverClientListeners }
