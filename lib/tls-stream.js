'use strict';
// TLS over an existing socket or stream: Node's tls.connect({ socket }), new TLSSocket(stream,
// options) and a TLS server fed server.emit('connection', stream) (STARTTLS, proxy tunnels,
// TLS inside TLS, in-memory Duplex pairs). The TLS itself is a native rustls connection with
// no descriptor (src/js/tls_stream.rs): the ciphertext read from the underlying stream is fed
// to it, and the ciphertext it returns is written back to the stream, with the stream's own
// backpressure both ways. Verification and what the handshake reports are the socket paths'
// own (runtime::secure); the socket's surface (getPeerCertificate(), getCipher(), ...) is
// lib/tls.js's TLSSocket's, borrowed by install().

const { Duplex } = require('stream');
const { binding } = require('./native');
const errors = require('./errors');
const debug = require('util').debuglog('cio'); // NODE_DEBUG=cio
const { applyServerIdentity, checkServername, initSecureState } = require('./tls-options');

let tlsError; // lib/tls.js's native error → Node error mapping, given by install()

function isStream(value) {
  return value !== null && typeof value === 'object' && typeof value.on === 'function' &&
    typeof value.write === 'function' && typeof value.end === 'function';
}

function disconnectedError(options) {
  // Node's onConnectEnd: the endpoint as the caller gave it in the connect options.
  const err = errors.codedError('ECONNRESET', 'Client network socket disconnected before secure TLS connection was established');
  const o = options || {};
  err.path = o.path;
  err.host = o.host;
  err.port = o.port;
  err.localAddress = o.localAddress;
  return err;
}

class StreamTLSSocket extends Duplex {
  /**
   * `socket`: the underlying stream (a cio or Node net.Socket, connected, connecting or not yet
   * connected, any Duplex, another TLS socket). `options.context`: the native TlsContext
   * (client or server side); `options.servername` for a client.
   */
  constructor(socket, options) {
    super({
      allowHalfOpen: Boolean(options.allowHalfOpen),
      highWaterMark: options.highWaterMark,
      emitClose: true,
      autoDestroy: true,
    });
    const made = binding.TlsStream.create(options.context, options.isServer ? undefined : options.servername);
    if (!(made instanceof binding.TlsStream)) throw errors.codedError(made.code, made.message);
    this._handle = made;
    this._handle.writeQueueSize = 0;
    this._context = options.context;
    this._started = false;
    this._socket = socket;
    this._isServer = Boolean(options.isServer);
    this._tlsOptions = options.tlsOptions || {};
    this._connectOptions = options.connectOptions || null;
    this._servername = options.servername;
    this.server = options.server || undefined;
    initSecureState(this);
    this._pendingWrite = null;
    this._readPaused = false;
    this._controlReleased = !this._isServer;
    this._errorEmitted = false;
    this._handshakeTimer = null;

    this._onSocketData = (buf) => this._feed(buf);
    this._onSocketEnd = () => this._onStreamEnd();
    this._onSocketError = (err) => this._fail(err);
    this._onSocketClose = () => this._onStreamClose();
    this._onSocketTimeout = () => this.emit('timeout');
    socket.on('data', this._onSocketData);
    socket.on('end', this._onSocketEnd);
    socket.on('error', this._onSocketError);
    socket.on('close', this._onSocketClose);
    if (typeof socket.resume === 'function' && !socket.destroyed) socket.resume();

    const timeout = options.handshakeTimeout;
    if (timeout > 0) {
      this._handshakeTimer = setTimeout(() => {
        this._handshakeTimer = null;
        this._fail(errors.codedError('ERR_TLS_HANDSHAKE_TIMEOUT', 'TLS handshake timeout'));
      }, timeout);
      if (typeof this._handshakeTimer.unref === 'function') this._handshakeTimer.unref();
    }
    // A client speaks first, once the underlying socket is connected (it may still be
    // connecting, or be connected right after this call, as Node allows).
    if (!this._isServer) process.nextTick(() => this._start());
  }

  get connecting() {
    return Boolean(this._socket && this._socket.connecting);
  }

  _start() {
    if (this.destroyed || !this._handle) return;
    const s = this._socket;
    if (s.connecting) {
      s.once('connect', () => this._start());
      return;
    }
    this._started = true;
    this._apply(this._handle.start());
  }

  /** Node's setServername(): the SNI name of the ClientHello, so only before it is sent. */
  setServername(name) {
    if (typeof name !== 'string') throw errors.invalidArgType('name', 'of type string', name);
    if (this._isServer) throw errors.codedError('ERR_TLS_SNI_FROM_SERVER', 'Cannot issue SNI from a TLS server-side socket');
    if (!this._handle) return;
    if (this._started) {
      throw errors.codedError('ERR_CIO_TLS_STARTED', 'cio cannot change the servername of a TLS socket whose ClientHello was already sent');
    }
    const made = binding.TlsStream.create(this._context, name);
    if (!(made instanceof binding.TlsStream)) throw errors.codedError(made.code, made.message);
    made.writeQueueSize = this._handle.writeQueueSize;
    this._handle = made;
    this._servername = name;
  }

  _feed(buf) {
    if (!this._handle) return;
    if (!(buf instanceof Uint8Array)) {
      // Node's JSStreamSocket: ciphertext cannot survive a string decoder or object mode.
      this._socket.removeListener('data', this._onSocketData);
      this._fail(errors.codedError('ERR_STREAM_WRAP', 'Stream has StringDecoder set or is in objectMode'));
      return;
    }
    this._apply(this._handle.feed(Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)));
  }

  /** Acts on one native step: ciphertext out, handshake done, plaintext in, close_notify, failure. */
  _apply(r) {
    if (r.out) this._send(r.out);
    if (r.error) {
      this._fail(tlsError(r.error, this._isServer ? null : this));
      return;
    }
    if (r.secure) this._onSecure(r.secure);
    if (this.destroyed) return;
    if (r.plain && !this._readEnded && !this.push(r.plain) && !this._readPaused) {
      this._readPaused = true;
      if (typeof this._socket.pause === 'function') this._socket.pause();
    }
    if (r.ended) this._endReadable();
  }

  _send(buf, cb) {
    const s = this._socket;
    if (s.destroyed || s.writableEnded) {
      if (cb) process.nextTick(cb);
      return;
    }
    const handle = this._handle;
    handle.writeQueueSize += buf.length;
    s.write(buf, (err) => {
      handle.writeQueueSize -= buf.length;
      if (cb) cb(err);
    });
  }

  _onSecure(info) {
    if (this._handshakeTimer) clearTimeout(this._handshakeTimer);
    this._handshakeTimer = null;
    this._applySecure(info);
    if (this._isServer) {
      this.emit('secure');
      if (!this.destroyed && !this._controlReleased) {
        this._controlReleased = true;
        if (this.server) this.server.emit('secureConnection', this);
      }
    } else {
      if (this._viaConnect && !applyServerIdentity(this, this._tlsOptions, this._servername)) return;
      this._flushPendingWrite();
      this.emit('secure');
      if (this._viaConnect) this.emit('secureConnect');
    }
    if (this._isServer) this._flushPendingWrite();
  }

  _flushPendingWrite() {
    const p = this._pendingWrite;
    this._pendingWrite = null;
    if (p) this._write(p[0], p[1], p[2]);
  }

  _endReadable() {
    if (this._readEnded) return;
    this._readEnded = true;
    this.push(null);
  }

  _onStreamEnd() {
    if (!this._secureEstablished) {
      this._fail(this._isServer ? errors.codedError('ECONNRESET', 'socket hang up') : disconnectedError(this._connectOptions));
      return;
    }
    this._endReadable();
  }

  _onStreamClose() {
    if (this.destroyed) return;
    if (!this._secureEstablished) {
      this._fail(this._isServer ? errors.codedError('ECONNRESET', 'socket hang up') : disconnectedError(this._connectOptions));
      return;
    }
    // What was read stays readable; the socket closes once it has been ('end').
    this._endReadable();
    if (this.readableEnded) this.destroy();
    else this.once('end', () => this.destroy());
  }

  /** A failure: the server's 'tlsClientError' before the socket was handed over, else 'error'. */
  _fail(err) {
    if (this.destroyed) return;
    if (this._isServer && !this._controlReleased) {
      if (!this._errorEmitted && this.server) {
        this._errorEmitted = true;
        debug('tls client error over a stream %s', err && err.code);
        this.server.emit('tlsClientError', err, this);
      }
      this.destroy();
      return;
    }
    this.destroy(err);
  }

  _read() {
    if (this._readPaused) {
      this._readPaused = false;
      if (typeof this._socket.resume === 'function') this._socket.resume();
    }
  }

  _write(chunk, encoding, cb) {
    if (!this._secureEstablished) {
      this._pendingWrite = [chunk, encoding, cb];
      return;
    }
    if (!this._handle) {
      cb(errors.codedError('ERR_STREAM_DESTROYED', 'Cannot call write after a stream was destroyed'));
      return;
    }
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
    if (buf.length === 0) {
      process.nextTick(cb);
      return;
    }
    const out = this._handle.write(buf);
    if (!Buffer.isBuffer(out)) {
      cb(tlsError(out, this));
      return;
    }
    // Completes when the underlying stream took the ciphertext: its backpressure is ours.
    this._send(out, (err) => cb(err || null));
  }

  _final(cb) {
    const finish = () => {
      const s = this._socket;
      if (!s.destroyed && !s.writableEnded) s.end();
      cb();
    };
    if (!this._secureEstablished) {
      // Ended before the handshake finished: the ending waits for it (the pending write has
      // gone first, as Node sends it after the handshake).
      this.once('secure', () => this._final(cb));
      return;
    }
    const out = this._handle ? this._handle.shutdown() : null;
    if (out) this._send(out);
    finish();
  }

  _destroy(err, cb) {
    if (this._handshakeTimer) clearTimeout(this._handshakeTimer);
    this._handshakeTimer = null;
    const s = this._socket;
    s.removeListener('data', this._onSocketData);
    s.removeListener('end', this._onSocketEnd);
    s.removeListener('close', this._onSocketClose);
    s.removeListener('timeout', this._onSocketTimeout);
    // Late errors of the underlying stream (a reset after we closed) are not the user's.
    s.removeListener('error', this._onSocketError);
    s.on('error', () => {});
    this._handle = null;
    if (!s.destroyed) {
      // After a clean end the ciphertext (close_notify) leaves first.
      if (!err && s.writableEnded && !s.writableFinished) s.once('finish', () => s.destroy());
      else s.destroy();
    }
    cb(err);
  }

  // The underlying socket's surface, as Node's TLSSocket shows it.
  address() {
    return typeof this._socket.address === 'function' ? this._socket.address() : {};
  }

  get remoteAddress() { return this._socket.remoteAddress; }
  get remotePort() { return this._socket.remotePort; }
  get remoteFamily() { return this._socket.remoteFamily; }
  get localAddress() { return this._socket.localAddress; }
  get localPort() { return this._socket.localPort; }
  get bytesRead() { return this._socket.bytesRead; }
  get bytesWritten() { return this._socket.bytesWritten; }

  setTimeout(ms, cb) {
    if (typeof this._socket.setTimeout !== 'function') return this;
    this._socket.removeListener('timeout', this._onSocketTimeout);
    this._socket.setTimeout(ms);
    if (ms > 0) this._socket.on('timeout', this._onSocketTimeout);
    if (typeof cb === 'function') {
      if (ms > 0) this.once('timeout', cb);
      else this.removeListener('timeout', cb);
    }
    return this;
  }

  setNoDelay(noDelay) {
    if (typeof this._socket.setNoDelay === 'function') this._socket.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable, delay) {
    if (typeof this._socket.setKeepAlive === 'function') this._socket.setKeepAlive(enable, delay);
    return this;
  }

  ref() {
    if (typeof this._socket.ref === 'function') this._socket.ref();
    return this;
  }

  unref() {
    if (typeof this._socket.unref === 'function') this._socket.unref();
    return this;
  }

  get readyState() {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }
}

/**
 * Wires this file into lib/tls.js: the TLSSocket surface is borrowed, `new TLSSocket(stream)`
 * makes these sockets, and they are `instanceof` cio's TLSSocket and Socket.
 */
function install(tls) {
  tlsError = tls.tlsError;
  for (const name of ['_applySecure', 'getPeerCertificate', 'getProtocol', 'getCipher', 'isSessionReused', 'getSession']) {
    Object.defineProperty(StreamTLSSocket.prototype, name, Object.getOwnPropertyDescriptor(tls.TLSSocket.prototype, name));
  }
  // Node's TLSSocket over a stream is a net.Socket and a tls.TLSSocket; so are these.
  for (const Class of [tls.TLSSocket, tls.Socket]) {
    Object.defineProperty(Class, Symbol.hasInstance, {
      value(obj) {
        return Function.prototype[Symbol.hasInstance].call(this, obj) || (this === Class && obj instanceof StreamTLSSocket);
      },
    });
  }
}

/** The native context and servername for a client over a stream (`tls.connect({ socket })`). */
function clientOver(socket, options, cb, { clientContext, handshakeTimeout }) {
  checkServername(options.servername);
  const context = clientContext(options);
  const t = handshakeTimeout(options);
  const tlssock = new StreamTLSSocket(socket, {
    context,
    servername: options.servername || options.host || 'localhost',
    allowHalfOpen: options.allowHalfOpen,
    highWaterMark: options.highWaterMark,
    tlsOptions: options,
    connectOptions: options,
    handshakeTimeout: t,
  });
  tlssock._viaConnect = true;
  if (typeof cb === 'function') tlssock.once('secureConnect', cb);
  return tlssock;
}

/**
 * `new TLSSocket(stream, options)`: Node's constructor over a stream. A client verifies
 * nothing by itself here (as Node's: only tls.connect() rejects); `authorized` and
 * `authorizationError` still say what verification found. `secureContext` may be a context
 * cio built (a TLS server's); Node's OpenSSL SecureContext objects are refused.
 */
function construct(socket, options, { clientContext, createContext }) {
  options = options || {};
  let context;
  const rest = Object.assign({}, options);
  if (options.secureContext !== undefined && options.secureContext !== null) {
    if (!(options.secureContext instanceof binding.TlsContext)) {
      throw errors.codedError('ERR_CIO_UNSUPPORTED_OPTION', "cio does not support the TLS option 'secureContext' (its TLS runs on rustls, not OpenSSL): pass key, cert, ca & co. instead");
    }
    context = options.secureContext;
    if (context.isServer !== Boolean(options.isServer)) {
      throw errors.invalidArgValue('options.secureContext', '[TlsContext]', options.isServer ? 'is a client context, not a server one' : 'is a server context, not a client one');
    }
    delete rest.secureContext;
  } else if (options.isServer) {
    context = createContext(rest, true);
  } else {
    context = clientContext(Object.assign(rest, { rejectUnauthorized: false }));
  }
  return new StreamTLSSocket(socket, {
    context,
    isServer: Boolean(options.isServer),
    server: options.server,
    servername: options.servername || 'localhost',
    allowHalfOpen: options.allowHalfOpen,
    highWaterMark: options.highWaterMark,
    tlsOptions: options,
  });
}

/**
 * A TLS server's 'connection' listener (Node's tlsConnectionListener): a stream given with
 * server.emit('connection', stream) is handshaken as the server's connections are, and becomes
 * 'secureConnection' or 'tlsClientError'.
 */
function serverConnectionListener(server, options) {
  return function tlsConnectionListener(raw) {
    // The server's own connections (raw._server) are handshaken natively; a stream somebody
    // else gives it (any Duplex, a plain or TLS socket) is handshaken here.
    // (nor the raw views of them a TLS server's 'connection' event passes: lib/tls-accept.js)
    if (!isStream(raw) || raw._server === server || raw._tlsServer === server) return;
    const socket = new StreamTLSSocket(raw, {
      context: server._tlsContext,
      isServer: true,
      server,
      allowHalfOpen: server.allowHalfOpen,
      highWaterMark: server.highWaterMark,
      tlsOptions: options,
      // The server's own limit (Node's 120000 ms unless handshakeTimeout said otherwise).
      handshakeTimeout: server._tlsContext.handshakeTimeoutMs,
    });
    return socket;
  };
}

module.exports = { StreamTLSSocket, install, clientOver, construct, serverConnectionListener, isStream };
