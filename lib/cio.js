'use strict'
// The module builder and the Cio instance (SPEC sections 1 and 2): module options as the
// prototype of every call's options, listener registration, and the three lazily built
// chains. Chain semantics live in lib/chain.js, the core listeners in lib/core-listeners.js.

const path = require('path')
const buildChain = require('./chain')
const { checkOrderOptions } = require('./order')
const { moveAliases, readMaterial, unableToRead } = require('./material')
const { clientListeners, serverListeners, serverClientListeners } = require('./core-listeners')

const debug = require('util').debuglog('cio') // NODE_DEBUG=cio

const ARGUMENT_ERRORS = new Set(['ERR_SOCKET_BAD_PORT'])
const NOT_A_LISTENER = "must be a require()'able string or a function"

/**
 * Resolves a listener module name the way a require() from the user's program would: from
 * the directory of the main module (require.main) first, then from process.cwd(). Package
 * names ('@cio/transformer'), relative paths ('./x', against those directories) and
 * absolute paths all work. The export must be a function (or have a function `default`).
 */
function requireListener(name) {
  const paths = []
  if (require.main && require.main.filename) paths.push(path.dirname(require.main.filename))
  paths.push(process.cwd())
  let exported
  try {
    exported = require(require.resolve(name, { paths }))
  } catch (reason) {
    return { error: 'Unable to require module: ' + name, reason }
  }
  if (typeof exported !== 'function' && exported && typeof exported.default === 'function') {
    exported = exported.default
  }
  if (typeof exported !== 'function') {
    return { error: 'Module export must be a function: ' + name, arg: name, exported }
  }
  return { fn: exported }
}

/** Turns registration arguments into functions; `{ fns }` or the first `{ error, ... }`. */
function toListeners(args) {
  const fns = []
  for (const arg of args.flatMap((a) => (Array.isArray(a) ? a : [a]))) {
    let fn = arg
    if (typeof arg === 'string') {
      const loaded = requireListener(arg)
      if (loaded.error) return loaded
      fn = loaded.fn
    } else if (typeof arg !== 'function') {
      return { error: NOT_A_LISTENER, arg }
    }
    const problem = checkOrderOptions(fn)
    if (problem) return { error: problem.message, arg, reason: problem }
    fns.push(fn)
  }
  return { fns }
}

function isObject(value) {
  return value !== null && typeof value === 'object'
}

class Cio {
  constructor(defaults) {
    this._defaults = defaults // the module options (aliases moved, files read); frozen in spirit
    this._chains = { client: null, server: null, serverClient: null }
    this._rejected = new WeakSet() // server-client sockets rejected by cio/authenticate-client
  }

  getClientChain() {
    if (!this._chains.client) this._chains.client = buildChain(clientListeners(this))
    return this._chains.client
  }

  getServerChain() {
    if (!this._chains.server) {
      const chain = buildChain(serverListeners(this))
      if (this._defaults.noRelisten === true) chain.disable('cio/relistener', 'noRelisten module option')
      this._chains.server = chain
    }
    return this._chains.server
  }

  getServerClientChain() {
    if (!this._chains.serverClient) this._chains.serverClient = buildChain(serverClientListeners(this))
    return this._chains.serverClient
  }

  onClient(...args) {
    return this._register(this.getClientChain(), args)
  }

  onServer(...args) {
    return this._register(this.getServerChain(), args)
  }

  onServerClient(...args) {
    return this._register(this.getServerClientChain(), args)
  }

  _register(chain, args) {
    const listeners = toListeners(args)
    if (listeners.error) return listeners
    if (listeners.fns.length > 0) chain.add(listeners.fns)
    return undefined
  }

  /**
   * The run context: the call's options object itself, its prototype set to the module
   * options (an object with a custom prototype is copied instead, keeping its own chain's
   * values readable), or a fresh object inheriting the module options.
   */
  _context(options, kind) {
    if (options === undefined || options === null) return { context: Object.create(this._defaults) }
    if (!isObject(options)) return { error: kind + ' options must be an object', options }
    let context = options
    const proto = Object.getPrototypeOf(options)
    if (proto !== this._defaults) {
      if ((proto === Object.prototype || proto === null) && Object.isExtensible(options)) {
        Object.setPrototypeOf(options, this._defaults)
      } else {
        context = Object.create(this._defaults)
        for (const key in options) context[key] = options[key] // eslint-disable-line guard-for-in
      }
    }
    return { context }
  }

  _run(chain, options, kind, product) {
    const made = this._context(options, kind)
    if (made.error) return made
    const context = made.context
    context.cio = this
    delete context[product]
    // A run that fails after its socket or server was made must not leave it behind, owned
    // by nobody (a connecting client would crash the process with an uncaught ECONNREFUSED
    // or leak its connection): whatever this run put on the context is destroyed / closed,
    // also when the failure comes later, after a pause.
    const result = chain.run({
      context,
      done(error, outcome) {
        if (outcome && outcome.failed) discard(context, product)
      },
    })
    debug('%s chain run: %s', kind, result.failed ? `failed (${result.failed.reason})` : result.stopped ? 'stopped' : 'done')
    // Node throws argument errors (a bad port, a wrong type) synchronously; so does cio,
    // rather than reporting them as a failed run.
    if (result.failed && result.failed.error && ARGUMENT_ERRORS.has(result.failed.error.code)) throw result.failed.error
    if (result.failed || result.result === false) return result
    return context[product] !== undefined ? context[product] : result
  }

  /** Runs the client chain; returns the socket, or the run result when it failed or ended early. */
  client(options) {
    return this._run(this.getClientChain(), options, 'client', 'client')
  }

  /** Runs the server chain; returns the server, or the run result when it failed or ended early. */
  server(options) {
    return this._run(this.getServerChain(), options, 'server', 'server')
  }
}

function discard(context, product) {
  if (!Object.prototype.hasOwnProperty.call(context, product)) return
  const made = context[product]
  if (!made || typeof made !== 'object') return
  debug('failed run: discarding its %s', product)
  if (typeof made.destroy === 'function') made.destroy() // a client socket
  else if (typeof made.close === 'function') made.close() // a server (listening or not)
}

/**
 * require('cio')(moduleOptions): returns a Cio, or `{ error, reason }` when a string key,
 * cert or ca (or private/public/root) cannot be read. Paths resolve against process.cwd().
 */
function buildCio(moduleOptions) {
  if (moduleOptions !== undefined && moduleOptions !== null && !isObject(moduleOptions)) {
    return { error: 'module options must be an object', options: moduleOptions }
  }
  const defaults = Object.assign({}, moduleOptions)
  moveAliases(defaults)
  const failure = readMaterial(defaults)
  if (failure) return { error: unableToRead(failure), reason: failure.reason }
  // fail fast on unusable material too (no PEM, garbage, key/cert mismatch, encrypted key, ...)
  const invalid = require('./tls').checkMaterial(defaults)
  if (invalid) return { error: invalid.message, reason: invalid }
  return new Cio(defaults)
}

module.exports = buildCio
module.exports.buildCio = buildCio
module.exports.Cio = Cio
module.exports.buildChain = buildChain // chain-builder 0.11 compatible chains, for addons and tests
