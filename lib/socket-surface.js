'use strict';
// The read-only surface a Socket shares with Node's net.Socket: address(), the endpoints,
// byte counters and state getters. Installed on Socket.prototype by lib/socket.js.

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

module.exports = { installSurface };
