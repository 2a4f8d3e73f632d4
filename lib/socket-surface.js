'use strict';
// The read-only surface a Socket shares with Node's net.Socket: address(), the endpoints,
// byte counters and state getters. Installed on Socket.prototype by lib/socket.js.
//
// Also the handle surface: what Node's own modules (http, https, http2, tls) call on
// `socket._handle` when they are given a cio socket. Per member, either it is true of the
// native handle and implemented, or it is absent so that Node takes the path it takes for any
// user-supplied stream:
//   getAsyncId()      implemented: the async id of an async_hooks resource ('CIOSOCKET') owned by
//                     the handle (http's keep-alive agent calls it on every kept-alive response)
//   reading           implemented: a plain flag on the handle, the one the Socket itself reads
//                     and writes (http's server sets it and calls readStart()/readStop() directly
//                     on 'resume'/'pause', as it does for a net.Socket's handle)
//   readStart/readStop native methods (src/socket/io.rs)
//   isStreamBase      absent: the handle is not a libuv StreamBase, so http's server parses what
//                     the socket emits as 'data' (no parser.consume) and http2 wraps the socket
//                     in a JS stream socket
//   asyncReset, getProviderType
//                     absent: a pooled socket keeps its async id when an agent reuses it (the
//                     agent's guard for user-supplied sockets)
//   fd, bytesRead, bytesWritten, writeQueueSize, getpeername, getsockname
//                     absent: Node reads these only from its own sockets' handles; a cio socket
//                     answers socket.bytesRead/bytesWritten/address()/remoteAddress itself
const { AsyncResource } = require('async_hooks');

const kAsyncResource = Symbol('cio.asyncResource');

function bytesWritten() {
  let bytes = this._bytesDispatched;
  const buffered = this.writableBuffer;
  if (!buffered) return undefined;
  for (const el of buffered) {
    bytes += Buffer.isBuffer(el.chunk) ? el.chunk.length : Buffer.byteLength(el.chunk, el.encoding);
  }
  if (this._pendingWrite) bytes += this._pendingWrite[0].length;
  return bytes;
}

function readyState() {
  if (this.connecting) return 'opening';
  if (this.readable && this.writable) return 'open';
  if (this.readable && !this.writable) return 'readOnly';
  if (!this.readable && this.writable) return 'writeOnly';
  return 'closed';
}

const GETTERS = {
  remoteAddress() { return this._addrs.remoteAddress; },
  remotePort() { return this._addrs.remotePort; },
  remoteFamily() { return this._addrs.remoteFamily; },
  localAddress() { return this._addrs.localAddress; },
  localPort() { return this._addrs.localPort; },
  localFamily() { return this._addrs.localFamily; },
  bytesRead() { return this._bytesRead; },
  pending() { return !this._handle || this.connecting; },
  _connecting() { return this.connecting; }, // Node's old name, still read by some libraries
  bytesWritten,
  readyState,
  bufferSize() { return this.writableLength; },
};

function installSurface(proto) {
  proto.address = function address() {
    const a = this._addrs;
    if (!a.localAddress && !a.localPort) return {};
    return { address: a.localAddress, family: a.localFamily, port: a.localPort };
  };
  for (const [name, get] of Object.entries(GETTERS)) {
    Object.defineProperty(proto, name, { get, configurable: true, enumerable: false });
  }
}

// The async_hooks resource of a handle, made when first asked for (its 'init' hook then runs
// in the context that asked, and its 'destroy' when the handle is collected).
function getAsyncId() {
  let resource = this[kAsyncResource];
  if (!resource) {
    resource = new AsyncResource('CIOSOCKET');
    this[kAsyncResource] = resource;
  }
  return resource.asyncId();
}

function installHandleSurface(HandleClass) {
  Object.defineProperty(HandleClass.prototype, 'getAsyncId', {
    value: getAsyncId, configurable: true, writable: true, enumerable: false,
  });
}

// The Socket's "native reads are on" flag lives on its handle (as net.Socket's does), so that
// Node code toggling `socket._handle.reading` around its own readStart()/readStop() calls and
// the Socket's flow control agree on whether the handle reads.
function installReadingFlag(proto) {
  Object.defineProperty(proto, '_reading', {
    get() { return Boolean(this._handle && this._handle.reading); },
    set(on) { if (this._handle) this._handle.reading = Boolean(on); },
    configurable: true,
    enumerable: false,
  });
}

/** Copies the methods (and accessors) of a class body onto `proto`: Node's Socket and Server
 * are plain functions, so cio writes their methods as classes and installs them. */
function installMethods(proto, Methods) {
  for (const name of Object.getOwnPropertyNames(Methods.prototype)) {
    if (name !== 'constructor') Object.defineProperty(proto, name, Object.getOwnPropertyDescriptor(Methods.prototype, name));
  }
}

module.exports = { installSurface, installHandleSurface, installReadingFlag, installMethods };
