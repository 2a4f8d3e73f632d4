'use strict';
// TLS sockets and servers, shaped like Node's tls.TLSSocket / tls.Server. Handshakes,
// certificate verification and encryption run natively (src/runtime/secure.rs, src/tls/); this file
// exposes what the handshake established: 'secureConnect', authorized/authorizationError,
// getPeerCertificate() & co. Options are checked and contexts built and cached in
// lib/tls-options.js.

const net = require('net');
const { EV } = require('./native');
const errors = require('./errors');
const { Socket, normalizeConnectArgs } = require('./socket');
const { Server } = require('./server');
const debug = require('util').debuglog('cio'); // NODE_DEBUG=cio
const { applyServerIdentity, checkMaterial, checkServername, initSecureState, clientContext, createContext, handshakeTimeout } = require('./tls-options');
const tlsStream = require('./tls-stream'); // TLS over an existing socket or stream
const { AcceptedConnection } = require('./tls-accept');

// OpenSSL's names for the TLS 1.2 suites rustls offers (TLS 1.3 names are the IANA ones).
const OPENSSL_NAMES = {
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
};

function tlsError(info, socket) {
  if (info.code === 'ETIMEDOUT' && info.syscall === 'handshake') {
    return errors.codedError('ERR_TLS_HANDSHAKE_TIMEOUT', 'TLS handshake timeout');
  }
  if (info.code === 'ECONNRESET' && socket && !socket._secureEstablished) {
    // Node's onConnectEnd: the endpoint as the caller gave it in the connect options.
    const err = errors.codedError('ECONNRESET', 'Client network socket disconnected before secure TLS connection was established');
    const o = socket._connectOptions || {};
    err.path = o.path;
    err.host = o.host;
    err.port = o.port;
    err.localAddress = o.localAddress;
    return err;
  }
  if (info.code === 'ECONNRESET' && !socket) {
    // Server side, a client that left during the handshake: Node's onSocketClose says
    // 'socket hang up' in its 'tlsClientError'.
    return errors.codedError('ECONNRESET', 'socket hang up');
  }
  if (info.errno) return errors.errnoException(info);
  const err = errors.codedError(info.code, info.message || info.code);
  // OpenSSL's errors carry their library and reason as properties in Node.
  const openssl = /^ERR_SSL_/.test(info.code) && /^(SSL routines|Provider routines):[^:]*:([^:]*)/.exec(err.message);
  if (openssl) {
    err.library = openssl[1];
    err.reason = openssl[2];
  }
  if (info.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const i = err.message.indexOf(': ');
    if (i >= 0) err.reason = err.message.slice(i + 2);
    if (socket) err.host = socket.servername || socket._host;
  }
  return err;
}

class TLSSocket extends Socket {
  constructor(options = {}, streamOptions) {
    // Node's new TLSSocket(socket, options): TLS over that socket or stream (lib/tls-stream.js).
    if (tlsStream.isStream(options)) return tlsStream.construct(options, streamOptions, { clientContext, createContext });
    if ((options === undefined || options === null) && streamOptions) options = streamOptions;
    super(options || {});
    initSecureState(this);
    this._tlsOptions = options;
  }

  connect(...args) {
    const [options, cb] = normalizeConnectArgs(args);
    // TLS over an existing socket or stream is tls.connect({ socket }) / new TLSSocket(socket):
    // here `socket` is refused, never ignored (ignoring it would dial host:port directly).
    errors.refuseUnsupported(options, ['socket'], 'the TLS option', ' in TLSSocket#connect() (use connect({ isSecure: true, socket }) or new TLSSocket(socket, options))');
    checkServername(options.servername);
    this._tlsOptions = options;
    this._handshakeTimeout = handshakeTimeout(options);
    this._context = clientContext(options);
    const host = options.host || 'localhost';
    this._servername = options.servername || host;
    if (typeof cb === 'function') this.once('secureConnect', cb);
    return super.connect(options);
  }

  _startConnect(params) {
    this._startEvents();
    const t = this._handshakeTimeout;
    this._handle.connectTls(params, this._context, this._servername, t > 0 ? t : undefined);
  }

  // A TLS client over a Unix socket: the connect, then the same handshake as over TCP.
  _startUnix(path) {
    this._startEvents();
    const t = this._handshakeTimeout;
    this._handle.connectUnixTls(path, this._context, this._servername, t > 0 ? t : undefined);
  }

  _canWrite() {
    return this._secureEstablished;
  }

  // Node's TLS writes always complete asynchronously (TLSWrap reports them after encrypting),
  // so write() returns false past the highWaterMark and bufferSize counts what was written in
  // this tick; cio encrypts and sends at once, and reports the completion on the next tick.
  _write(chunk, encoding, cb) {
    let sync = true;
    super._write(chunk, encoding, (err) => {
      if (sync) process.nextTick(cb, err);
      else cb(err);
    });
    sync = false;
  }

  _onExtraEvent(code, payload) {
    if (code === EV.SECURE) this._onSecure(payload);
  }

  _onNativeError(info) {
    if (!this.connecting && (info.errno === 0 || info.syscall === 'handshake' || !this._secureEstablished)) {
      this.destroy(tlsError(info, this));
      return;
    }
    super._onNativeError(info);
  }

  _applySecure(info) {
    debug('tls handshake done: authorized=%s%s', info.authorized, info.authorizationError ? ` (${info.authorizationError.code})` : '');
    this._info = info;
    this._secureEstablished = true;
    this.authorized = info.authorized;
    this.authorizationError = info.authorizationError ? info.authorizationError.code : null;
    this.alpnProtocol = info.alpnProtocol || false;
    this.servername = info.servername || false;
  }

  _onSecure(info) {
    // The established connection moves onto Node's loop (src/uvloop/tls_state.rs), as plain ones do.
    this._attachLoop();
    this._applySecure(info);
    if (!applyServerIdentity(this, this._tlsOptions, this._servername)) return;
    this._flushPending();
    this.emit('secureConnect');
  }

  getPeerCertificate(detailed) {
    // Like Node's: null once the socket is destroyed (its handle gone), even when read before.
    if (!this._handle) return null;
    if (!this._peerChain) this._peerChain = this._handle.peerCertificates();
    if (this._peerChain.length === 0) return {};
    // fresh objects each call: linking the detailed chain must not leak into a later plain call
    const chain = this._peerChain.map((cert) => Object.assign({}, cert));
    if (!detailed) return chain[0];
    for (let i = 0; i < chain.length; i++) {
      const next = chain[i + 1];
      if (next) chain[i].issuerCertificate = next;
      else if (chain[i].fingerprint256 && sameName(chain[i].subject, chain[i].issuer)) chain[i].issuerCertificate = chain[i];
    }
    return chain[0];
  }

  getProtocol() {
    return this._info ? this._info.protocol || null : null;
  }

  getCipher() {
    if (!this._info || !this._info.cipher) return undefined;
    const standardName = this._info.cipher.replace(/^TLS13_/, 'TLS_');
    return { name: OPENSSL_NAMES[standardName] || standardName, standardName, version: this._info.protocol };
  }

  isSessionReused() {
    return Boolean(this._info && this._info.sessionReused);
  }

  getSession() {
    return undefined;
  }

  // Server side: the socket is the application's from now on ('secureConnection', or the
  // server-client chain settled it); its errors are no longer 'tlsClientError's. False when
  // it already was.
  _releaseControl() {
    if (this[kControlReleased] !== false) return false;
    this[kControlReleased] = true;
    return true;
  }
}

function sameName(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

// Node's tls.Server keeps two listeners on every accepted socket for its whole life
// (tlsConnectionListener): until the server hands the socket over with 'secureConnection'
// ("releases control"), an error, or the peer hanging up, is reported once as 'tlsClientError';
// afterwards an error is the application's to handle, and one nobody listens for is dropped
// instead of thrown (a client resetting the connection never crashes the server).
const kControlReleased = Symbol('cio.controlReleased');
const kErrorEmitted = Symbol('cio.tlsClientErrorEmitted');

function onServerSocketError(err) {
  if (this[kControlReleased] || this[kErrorEmitted] || !this.server) return;
  this[kErrorEmitted] = true;
  this.server.emit('tlsClientError', err, this);
}

function onServerSocketClose(hadError) {
  // Closed by an error: already reported. Only a peer that hung up is reported here (not a
  // socket the server-client chain destroyed on purpose).
  if (hadError || this[kControlReleased] || this[kErrorEmitted] || !this.server) return;
  if (!this._readableState.ended) return;
  this[kErrorEmitted] = true;
  this.server.emit('tlsClientError', errors.codedError('ECONNRESET', 'socket hang up'), this);
}

/** True when somebody besides the server's own bookkeeping listens for the socket's 'error'. */
function hasErrorListener(socket) {
  return socket.listeners('error').some((fn) => fn !== onServerSocketError);
}

class TLSServer extends Server {
  constructor(options, listener) {
    if (typeof options === 'function') {
      listener = options;
      options = {};
    }
    options = options || {};
    super(options);
    this._connectionEvent = 'secureConnection';
    this._tlsContext = createContext(options, true);
    // Streams given with server.emit('connection', stream) are handshaken (Node's
    // tlsConnectionListener); that listener is the server's own, not the application's.
    this._streamConnectionListener = tlsStream.serverConnectionListener(this, options);
    this.on('connection', this._streamConnectionListener);
    // Accepted connections wait for the application's 'connection' listeners only while there
    // are some (set at listen, and here when they come and go).
    this.on('newListener', (event, fn) => {
      if (event === 'connection' && fn !== this._streamConnectionListener && this._handle) this._handle.announceAccepts(true);
    });
    this.on('removeListener', (event) => {
      if (event === 'connection' && this._handle) this._handle.announceAccepts(this._rawConnectionListeners() > 0);
    });
    if (typeof listener === 'function') this.on('secureConnection', listener);
  }

  _wrap(handle) {
    const socket = new TLSSocket({ allowHalfOpen: this.allowHalfOpen, highWaterMark: this.highWaterMark });
    socket._attach(handle, null, this.pauseOnConnect);
    const info = handle.secureInfo();
    if (info) socket._applySecure(info);
    socket[kControlReleased] = false;
    socket[kErrorEmitted] = false;
    socket.on('error', onServerSocketError);
    socket.on('close', onServerSocketClose);
    return socket;
  }

  _onExtraEvent(code, payload) {
    if (code === EV.TLS_ACCEPT) {
      // Node's 'connection' for the raw TCP accept: its listeners run before the handshake
      // reads anything (lib/tls-accept.js); then the handshake starts, unless one of them
      // destroyed the connection.
      const [id, addrs] = payload;
      // Node's net.Server refuses a connection over maxConnections at its TCP accept: the raw
      // socket closes (the client's handshake fails with ECONNRESET) and only 'drop' is
      // emitted. Handshakes admitted meanwhile count as connections, as in Node.
      if (this.maxConnections !== undefined) {
        if (this._connections + this._handshaking >= this.maxConnections) {
          const handle = this._handle || this._closing;
          if (handle) handle.abortHandshake(id, false);
          this._emitDrop(addrs || {});
          return;
        }
        this._handshaking++;
      }
      const view = this._rawConnectionListeners() > 0 ? new AcceptedConnection(this, id, addrs) : null;
      try {
        if (view) this.emit('connection', view);
      } finally {
        // After the ticks the listeners queued (a refused write destroys the view on one).
        process.nextTick(() => {
          const handle = this._handle || this._closing;
          if (handle && (!view || !view.destroyed)) handle.startHandshake(id);
        });
      }
      return;
    }
    if (code !== EV.TLS_CLIENT_ERROR) return;
    if (this._handshaking > 0) this._handshaking--; // an admitted handshake that failed
    const [info, addrs] = payload;
    debug('tls client error %s', info.code);
    const shell = new TLSSocket({});
    shell._addrs = addrs || {};
    shell.destroy();
    this.emit('tlsClientError', tlsError(info, null), shell);
  }
}

function connect(...args) {
  const [options, cb] = normalizeConnectArgs(args);
  if (options.socket !== undefined && options.socket !== null && options.socket !== false) {
    return tlsStream.clientOver(options.socket, options, cb, { clientContext, handshakeTimeout });
  }
  const socket = new TLSSocket(options);
  return socket.connect(options, cb);
}

function createServer(options, listener) {
  return new TLSServer(options, listener);
}

tlsStream.install({ TLSSocket, Socket, tlsError });

module.exports = { connect, createServer, checkMaterial, hasErrorListener, TLSSocket, Server: TLSServer, checkServerIdentity: require('tls').checkServerIdentity, isIP: net.isIP };
