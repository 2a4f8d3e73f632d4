'use strict'
// TEMPORARY: replaced by the native core on merge.
// A stand-in for the core engineer's lib/net.js, built on Node's net/tls so the chain layer
// can be tested now. Interface: connect(options, cb) -> Socket, createServer(options, cb) ->
// Server; options are read through their prototype chain; for every accepted socket the
// server calls `server._gate(socket, proceed)` before emitting 'connection' (plain) or
// 'secureConnection' (TLS). No chain logic lives here.

const net = require('net')
const tls = require('tls')

// Node's tls/net copy only own properties; cio contexts carry defaults on the prototype.
function flatten(options) {
  const flat = {}
  for (const key in options) flat[key] = options[key] // eslint-disable-line guard-for-in
  return flat
}

function connect(options, connectListener) {
  const flat = flatten(options || {})
  return flat.isSecure ? tls.connect(flat, connectListener) : net.connect(flat, connectListener)
}

function createServer(options, connectionListener) {
  const flat = flatten(options || {})
  const secure = !!flat.isSecure
  const server = secure ? tls.createServer(flat) : net.createServer(flat)
  const gated = secure ? 'secureConnection' : 'connection'
  server._gate = function defaultGate(socket, proceed) { proceed() }
  const emit = server.emit
  server.emit = function gatedEmit(event, ...args) {
    if (event !== gated) return emit.call(this, event, ...args)
    const socket = args[0]
    this._gate(socket, () => emit.call(this, event, ...args))
    return true
  }
  if (typeof connectionListener === 'function') server.on(gated, connectionListener)
  return server
}

module.exports = { connect, createServer }
