'use strict';
// The socket a TLS server's 'connection' event passes. Node's tls.Server emits 'connection'
// with the raw TCP socket as soon as it is accepted, before the handshake; cio accepts and
// handshakes on its runtime (src/js/server.rs), so what it can honestly give is a view of
// that accepted connection: a net-like Socket whose endpoints are the connection's, and whose
// destroy() aborts the handshake (the server then reports 'tlsClientError' ECONNRESET, as
// Node's does). The bytes on the wire belong to the TLS layer: writing to this view is
// refused with a coded error instead of corrupting the handshake, and it reads nothing.
// Once the handshake ended, the connection is the TLSSocket's ('secureConnection'); the view
// no longer controls it.

const { Socket } = require('./socket');
const errors = require('./errors');

class AcceptedConnection extends Socket {
  constructor(server, id, addrs) {
    super({});
    this._addrs = addrs || {};
    this._tlsServer = server;
    this._handshakeId = id;
  }

  _destroy(err, cb) {
    const server = this._tlsServer;
    const handle = server && (server._handle || server._closing);
    if (handle && this._handshakeId) handle.abortHandshake(this._handshakeId);
    this._handshakeId = 0;
    super._destroy(err, cb);
  }

  _read() {}

  _write(chunk, encoding, cb) {
    cb(errors.codedError('ERR_CIO_UNSUPPORTED_OPERATION',
      "cio cannot write to a TLS server's raw connection (the 'connection' event's socket); write to the TLSSocket of 'secureConnection'"));
  }

  _writev(chunks, cb) {
    this._write(null, null, cb);
  }
}

module.exports = { AcceptedConnection };
