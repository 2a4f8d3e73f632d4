'use strict';
// Socket: a stream.Duplex over one NativeSocket handle, behaving like Node's net.Socket.
// The handle reaches JavaScript only through `_onEvent` (events queued by the native side);
// after destroy the handle is null and late events are ignored. Flow control is the stream's:
// push() returning false stops native reads, _read restarts them; a write's callback fires
// when the native write completed, so 'drain' and write()'s return value are Node's own.

const { Duplex, addAbortSignal } = require('stream');
const { isUint8Array } = require('util').types;
const net = require('net');
const { binding, EV } = require('./native');
const { installSurface, installHandleSurface, installReadingFlag, installMethods } = require('./socket-surface');
const { OnreadMethods } = require('./socket-onread');
const { OptionMethods } = require('./socket-options');
const errors = require('./errors');
const { normalizeConnectArgs, validateConnectOptions, connectLookupOptions, lookupAll } = require('./args');

const kEvents = Symbol('cio.events');
const debug = require('util').debuglog('cio'); // NODE_DEBUG=cio
// Emitted once the socket can take writes natively: after connect (plain) or after the
// handshake (TLS). Writes and end() made earlier wait for it.
const kWritable = Symbol('cio.writable');
// Native events held back for the next turn of the loop (see _onBatch).
const kDeferred = Symbol('cio.deferredEvents');

// Node's net.Socket is a plain function: callable without `new` (`net.Socket()`), and
// subclassable both with `class extends` and the old way (`util.inherits` + `Socket.call(this)`).
// So is cio's; the methods are written in the class body below and copied onto its prototype.
function Socket(options) {
  if (!(this instanceof Socket)) return new Socket(options);
  // Node's checks, in Node's order.
  if (options?.objectMode) {
    throw errors.invalidArgValue('options.objectMode', options.objectMode, 'is not supported');
  } else if (options?.readableObjectMode || options?.writableObjectMode) {
    const name = options.readableObjectMode ? 'readableObjectMode' : 'writableObjectMode';
    throw errors.invalidArgValue(`options.${name}`, options[name], 'is not supported');
  }
  if (typeof options === 'number') throw errors.codedError('ERR_CIO_UNSUPPORTED_OPTION', "cio does not support the option 'fd'");
  options = { ...options };
  errors.refuseUnsupported(options, ['fd', 'handle'], 'the option');
  if (options.keepAliveInitialDelay !== undefined) {
    errors.validateNumber(options.keepAliveInitialDelay, 'options.keepAliveInitialDelay');
  }
  if (options.signal !== undefined) errors.validateAbortSignal(options.signal, 'options.signal');
  Duplex.call(this, {
    // Node's Socket: the stream itself always allows half-open; a socket that does not ends
    // its writable side when the readable side ends (onReadableStreamEnd below).
    allowHalfOpen: Boolean(options.allowHalfOpen),
    emitClose: false,
    autoDestroy: true,
    highWaterMark: options.highWaterMark,
    readableHighWaterMark: options.readableHighWaterMark,
    writableHighWaterMark: options.writableHighWaterMark,
  });
  this._handle = null;
  this.connecting = false;
  // True once readStart() was called and no readStop() since (false: not known to read).
  this._reading = false;
  this._addrs = {};
  this._bytesRead = 0;
  this._bytesDispatched = 0;
  this._pendingWrite = null;
  this._writeCb = null;
  this._finalCb = null;
  this._timeoutMs = 0;
  this._timer = null;
  this._refed = true;
  this._closeEmitted = false;
  this._host = null;
  // Node's onread: { buffer: Uint8Array | () => Uint8Array, callback(nread, buf) } reads into
  // the caller's buffer instead of 'data' events (a malformed one is ignored, as by Node).
  this._onread = null;
  const onread = options.onread;
  if (onread !== null && typeof onread === 'object' &&
      (isUint8Array(onread.buffer) || typeof onread.buffer === 'function') && typeof onread.callback === 'function') {
    const gen = typeof onread.buffer === 'function' ? onread.buffer : null;
    this._onread = { buffer: gen ? null : onread.buffer, gen, callback: onread.callback, pending: null, stopped: false };
  }
  this._noDelay = Boolean(options.noDelay);
  this._keepAlive = Boolean(options.keepAlive);
  this._keepAliveInitialDelay = options.keepAliveInitialDelay > 0 ? options.keepAliveInitialDelay : 0;
  this.server = null;
  this._server = null;
  // Native events arrive as (code, payload), or as one flat array [code, payload, ...].
  this[kEvents] = (a, b) => {
    if (typeof a !== 'number') this._onBatch(a);
    else if (this[kDeferred]) this[kDeferred].push(a, b);
    else this._onEvent(a, b);
  };
  this[kDeferred] = null;
  // Node's onReadableStreamEnd: without allowHalfOpen, a write after the peer's end fails
  // with EPIPE "This socket has been ended by the other party".
  this.on('end', onReadableStreamEnd);
  if (options.timeout) this.setTimeout(options.timeout);
  // The stream's own abort handling, as Node's Duplex applies it: an aborted signal destroys
  // the socket with an AbortError (at once when it is aborted already).
  this._signal = options.signal || null;
  if (options.signal) addAbortSignal(options.signal, this);
  if (debug.enabled) this.once('end', () => debug('socket end from %s:%s', this.remoteAddress, this.remotePort));
}
Object.setPrototypeOf(Socket.prototype, Duplex.prototype);
Object.setPrototypeOf(Socket, Duplex);

function onReadableStreamEnd() {
  if (!this.allowHalfOpen) this.write = writeAfterFIN;
}

function writeAfterFIN(chunk, encoding, cb) {
  if (!this.writableEnded) return Duplex.prototype.write.call(this, chunk, encoding, cb);
  if (typeof encoding === 'function') cb = encoding;
  const er = errors.codedError('EPIPE', 'This socket has been ended by the other party');
  if (typeof cb === 'function') process.nextTick(cb, er);
  this.destroy(er);
  return false;
}

class SocketMethods {
  // ---- connection setup -------------------------------------------------------------------

  connect(...args) {
    const [options, cb] = normalizeConnectArgs(args);
    if (cb !== null) this.once('connect', cb);
    // options.port === null is checked later, as in Node.
    if (options.port === undefined && (options.path === undefined || options.path === null)) {
      throw errors.codedError('ERR_MISSING_ARGS', 'The "options" or "port" or "path" argument must be specified', TypeError);
    }
    if (this.write !== Socket.prototype.write) this.write = Socket.prototype.write;
    // Node allows connect() again on a socket that was closed: the same object starts over.
    // Not one destroyed by its own aborted `signal` (tls.connect/net.connect with a signal
    // aborted before the call): Node resurrects that one and connects anyway, leaving an open
    // connection nobody asked for (with TLS it even trips an assertion in Node 20); cio keeps
    // it destroyed, with the AbortError it reported.
    if (this.destroyed && this._signal && this._signal.aborted) return this;
    if (this.destroyed) this._reset();
    this._connectNumbers = validateConnectOptions(options);
    const auto = options.path ? null : connectLookupOptions(options);
    if (options.timeout) this.setTimeout(options.timeout);
    this._newHandle();
    this.connecting = true;
    this._connectOptions = options;
    debug('socket connect %s', options.path || `${options.host || 'localhost'}:${options.port}`);
    this._isPipe = Boolean(options.path);
    if (options.path) {
      this._host = options.path;
      process.nextTick(() => {
        if (!this.connecting || !this._handle) return;
        this._startUnix(options.path);
      });
      return this;
    }
    const host = options.host || 'localhost';
    const port = options.port === undefined ? undefined : +options.port;
    this._host = host;
    this._port = port;
    const family = net.isIP(host);
    if (family) {
      process.nextTick(() => this._connectTo([{ address: host, family }], port, options));
      return this;
    }
    lookupAll(host, options, auto, this, (err, list) => {
      if (!this.connecting) return;
      if (err) {
        // Deferred, as Node's connectErrorNT: createConnection() callers add listeners after.
        process.nextTick(() => this.destroy(err));
        return;
      }
      if (list.length > 1) this.autoSelectFamilyAttemptedAddresses = [];
      this._connectTo(list, port, options);
    });
    return this;
  }

  // What destroy() left behind, cleared for a new connect() (Node's initSocketHandle and
  // _undestroy): the stream starts over, and the addresses and counters with it.
  _reset() {
    this._undestroy();
    this._handle = null;
    this._closeEmitted = false;
    this._addrs = {};
    this._pendingWrite = null;
    this._writeCb = null;
    this._finalCb = null;
    this._reading = false;
    this._bytesRead = 0;
    this._bytesDispatched = 0;
    delete this.autoSelectFamilyAttemptedAddresses;
  }

  _newHandle() {
    if (this._handle) this._handle.close();
    this._handle = new binding.NativeSocket();
    this._reading = false;
    this._onLoop = false;
    this._idleUnref = false;
  }

  // Events through the runtime (TLS handshakes, Unix sockets, connect timeouts): a plain TCP
  // connect passes its callback to connectTcp instead, and usually never needs this.
  _startEvents() {
    this._handle.start(this[kEvents]);
    if (!this._refed) this._handle.unref();
  }

  // Tries each resolved address in turn (Node's autoSelectFamily order, one after the other).
  _connectTo(list, port, options) {
    if (!this.connecting || !this._handle) return;
    this._candidates = list.slice(1);
    this._attempt = list[0].address;
    this._attemptFamily = list[0].family;
    if (this.autoSelectFamilyAttemptedAddresses) this.autoSelectFamilyAttemptedAddresses.push(`${list[0].address}:${port}`);
    this.emit('connectionAttempt', list[0].address, port, list[0].family);
    try {
      this._startConnect({
        address: list[0].address,
        port,
        localAddress: options.localAddress,
        localPort: this._connectNumbers.localPort,
        timeoutMs: this._connectNumbers.connectTimeoutMs,
        noDelay: options.noDelay === true || this._noDelay,
      });
    } catch (err) {
      this.destroy(err);
    }
  }

  // TLS sockets connect with a handshake instead.
  _startConnect(params) {
    this._handle.connectTcp(params, this[kEvents]);
    if (!this._refed) this._handle.unref();
  }

  // A Unix-socket connect (TLS sockets add their handshake).
  _startUnix(path) {
    this._startEvents();
    this._handle.connectUnix(path);
  }

  // True once writes can go to the native handle.
  _canWrite() {
    return !this.connecting;
  }

  _flushPending() {
    this.emit(kWritable);
    if (this._pendingWrite) {
      const [chunk, cb] = this._pendingWrite;
      this._pendingWrite = null;
      this._write(chunk, null, cb);
    }
  }

  // An accepted connection (server side). The handle does not read until asked: like Node's
  // Socket constructor, start the flow with read(0) unless the server has pauseOnConnect.
  _attach(handle, addrs, pauseOnConnect = false) {
    this._handle = handle;
    this._reading = false;
    this._addrs = addrs || handle.addresses();
    debug('socket accepted from %s:%s', this._addrs.remoteAddress, this._addrs.remotePort);
    // Plain connections run on Node's own loop; the rest (TLS) deliver through the runtime.
    const onLoop = this._attachNative();
    if (onLoop === null) return;
    if (!onLoop) handle.start(this[kEvents]);
    else if (!this._refed) handle.unref();
    if (pauseOnConnect) this.pause();
    else this.read(0);
  }

  // A connected plain socket moves onto Node's event loop (src/uvloop/).
  _attachLoop() {
    this._onLoop = this._attachNative();
    if (this._onLoop && !this._refed) this._handle.unref();
  }

  // The handle's move onto Node's loop: true when it runs there, false when it stays on the
  // runtime, null when the system refused (a descriptor that cannot be detached from tokio):
  // then the socket fails with a coded error instead of a native exception.
  _attachNative() {
    try {
      return this._handle.attach(this[kEvents]);
    } catch (err) {
      const failure = errors.codedError('ERR_CIO_INTERNAL', `cio could not run the connection on Node's loop: ${err.message}`);
      process.nextTick(() => this.destroy(failure));
      return null;
    }
  }

  // A connected socket that neither reads nor writes does not keep the process alive (as an
  // idle libuv handle does not). On Node's loop readStop makes the handle idle by itself; a
  // socket on the runtime path is unreferenced until it reads or writes again.
  _idle() {
    if (!this._onLoop && this._refed && this._handle && !this._idleUnref) {
      this._idleUnref = true;
      this._handle.unref();
    }
  }

  _busy() {
    if (this._idleUnref) {
      this._idleUnref = false;
      if (this._refed && this._handle) this._handle.ref();
    }
  }

  // ---- native events ------------------------------------------------------------------------

  // A batch holds one socket's events in order, and may hold a read's data and the EOF after
  // it. Node hands those to JavaScript in separate callbacks, running promise jobs in between
  // (so a reply written from a promise settled by 'data' still precedes the end that
  // allowHalfOpen: false makes on EOF): an END after other events of a batch is delivered,
  // with everything that follows it, on the next turn of the event loop.
  _onBatch(batch) {
    if (this[kDeferred]) {
      for (let i = 0; i < batch.length; i++) this[kDeferred].push(batch[i]);
      return;
    }
    for (let i = 0; i < batch.length; i += 2) {
      if (i > 0 && batch[i] === EV.END) {
        this[kDeferred] = batch.slice(i);
        const handle = this._handle;
        setImmediate(() => {
          const rest = this[kDeferred];
          this[kDeferred] = null;
          if (this._handle === handle) this._onBatch(rest); // not a closed handle's leftovers
        });
        return;
      }
      this._onEvent(batch[i], batch[i + 1]);
    }
  }

  _onEvent(code, payload) {
    if (this._handle === null) return;
    switch (code) {
      case EV.DATA: this._onData(payload); break;
      case EV.CONNECT: this._afterConnect(payload); break;
      case EV.END: this.push(null); this.read(0); break;
      case EV.ERROR: this._onNativeError(payload); break;
      case EV.WRITE_DONE: this._afterWrite(payload); break;
      case EV.SHUTDOWN_DONE: this._afterShutdown(); break;
      default: if (this._onExtraEvent) this._onExtraEvent(code, payload);
    }
  }

  _afterConnect(addrs) {
    this.connecting = false;
    // A connected handle reads until told to stop (src/events.rs, src/loopio): say so, as
    // Node's afterConnect does with tryReadStart, so the handle's reading flag is true.
    this._reading = true;
    if (!this.encrypted) this._attachLoop();
    this._addrs = addrs && addrs.remoteAddress ? addrs : this._handle.addresses();
    debug('socket connected to %s:%s', this._addrs.remoteAddress, this._addrs.remotePort);
    if (this._connectOptions) {
      const o = this._connectOptions;
      // keepAlive / noDelay of the constructor (Node's) or of connect() (cio's factories).
      if (o.keepAlive) this.setKeepAlive(true, o.keepAliveInitialDelay);
      else if (this._keepAlive) this.setKeepAlive(true, this._keepAliveInitialDelay);
    }
    this._touch();
    // Node starts reading after a connect only when the stream is not paused or asked for a
    // read while connecting (its _read waits for 'connect'); a connected socket that reads
    // nothing and writes nothing does not keep the process alive.
    if (!this.encrypted && this.isPaused() && !this._readableState.reading && this._handle) {
      this._reading = false;
      this._handle.readStop();
      if (!this._pendingWrite && this.writableLength === 0) this._idle();
    }
    // 'connect' first, then the writes made while connecting (Node queues them behind a
    // 'connect' listener of its own, added after the caller's connect callback).
    this._onConnected();
    if (this._handle && this._canWrite()) this._flushPending();
  }

  // Overridden by TLS sockets, which announce themselves after the handshake too.
  _onConnected() {
    this.emit('connect');
    this.emit('ready');
  }

  _onNativeError(info) {
    debug('socket error %s %s', info.code, info.syscall);
    if (this.connecting && info.syscall === 'connect' && this._candidates && this._candidates.length) {
      this.emit('connectionAttemptFailed', this._attempt, this._port, this._attemptFamily,
        errors.exceptionWithHostPort(info, this._attempt, this._port));
      this._connectTo(this._candidates, this._port, this._connectOptions);
      return;
    }
    const err = this.connecting
      ? errors.exceptionWithHostPort(info, this._attempt || this._host, this._port)
      : errors.errnoException(info);
    this.destroy(err);
  }

  _onData(buf) {
    this._bytesRead += buf.length;
    this._touch();
    if (this._onread) {
      const o = this._onread;
      // Bytes the native side had already read when reading stopped wait with the rest.
      if (o.stopped) o.pending = o.pending ? Buffer.concat([o.pending, buf]) : buf;
      else this._deliverOnread(buf);
      return;
    }
    if (!this.push(buf) && this._handle) {
      this._reading = false;
      this._handle.readStop();
    }
  }

  _read() {
    if (this._onread && this._onread.stopped) return;
    // Like Node's tryReadStart: only cross into native code when reading was stopped (the
    // stream calls _read after every push).
    if (this._handle && !this.connecting && !this._reading) {
      this._busy();
      this._reading = true;
      this._handle.readStart();
    }
  }

  // ---- writing ------------------------------------------------------------------------------

  _write(chunk, encoding, cb) {
    if (this._handle && !this._canWrite()) {
      this._pendingWrite = [chunk, cb];
      return;
    }
    if (!this._handle) {
      cb(errors.codedError('ERR_SOCKET_CLOSED', 'Socket is closed'));
      return;
    }
    this._busy();
    this._bytesDispatched += chunk.length;
    this._touch();
    const r = this._handle.write(chunk);
    if (r === 0) cb();
    else if (r === 1) this._writeCb = cb;
    else {
      // The write failed at once (EPIPE, ECONNRESET): destroy now, as Node's writeGeneric does.
      this._writeCb = cb;
      this.destroy(errors.errnoException(r));
    }
  }

  _writev(chunks, cb) {
    const bufs = chunks.map((c) => c.chunk);
    this._write(bufs.length === 1 ? bufs[0] : Buffer.concat(bufs), null, cb);
  }

  _afterWrite(info) {
    const cb = this._writeCb;
    this._writeCb = null;
    this._touch();
    if (!cb) return;
    if (info) cb(errors.errnoException(info));
    else cb();
  }

  _final(cb) {
    if ((this._handle && !this._canWrite()) || this._pendingWrite) {
      this.once(kWritable, () => this._final(cb));
      return;
    }
    if (!this._handle) {
      cb();
      return;
    }
    this._busy();
    if (this._handle.shutdown() === 0) {
      cb();
      return;
    }
    this._finalCb = cb;
  }

  _afterShutdown() {
    const cb = this._finalCb;
    this._finalCb = null;
    if (cb) cb();
  }

  // ---- teardown -----------------------------------------------------------------------------

  _destroy(err, cb) {
    debug('socket close%s', err ? ` (${err.code || err.message})` : '');
    this._clearTimer();
    this.connecting = false;
    const hadHandle = this._handle !== null;
    if (hadHandle) {
      if (this._resetAndClosing) {
        this._resetAndClosing = false;
        const failed = this._handle.setLingerZero();
        if (failed) this.emit('error', errors.errnoException(failed));
      }
      this._handle.close();
      this._handle = null;
    }
    const writeCb = this._writeCb;
    this._writeCb = null;
    // A write made while connecting that never reached the connection: Node's
    // ERR_SOCKET_CLOSED_BEFORE_CONNECTION (after the 'error', as Node's close listener runs).
    const pending = this._pendingWrite;
    this._pendingWrite = null;
    if (this._server) {
      const server = this._server;
      this._server = null;
      server._connectionClosed();
    }
    cb(err);
    if (writeCb) writeCb(err || errors.codedError('ERR_SOCKET_CLOSED', 'Socket is closed'));
    if (pending) {
      const closed = errors.codedError('ERR_SOCKET_CLOSED_BEFORE_CONNECTION', 'Socket closed before the connection was established');
      this.once('close', () => pending[1](closed));
    }
    const emitClose = () => {
      if (this._closeEmitted) return;
      this._closeEmitted = true;
      this.emit('close', Boolean(err));
    };
    if (hadHandle) setImmediate(emitClose);
    else process.nextTick(emitClose);
  }

  // Node's resetAndDestroy: closes a TCP connection with RST instead of FIN (SO_LINGER 0),
  // after the connect when it is still connecting. A socket that is not a TCP socket (Unix,
  // TLS: Node's handle is then not a TCP handle) throws ERR_INVALID_HANDLE_TYPE; one without
  // a handle (never connected, or destroyed) is destroyed with ERR_SOCKET_CLOSED.
  resetAndDestroy() {
    if (this._handle) {
      if (this.encrypted || this._isPipe) throw errors.codedError('ERR_INVALID_HANDLE_TYPE', 'This handle type cannot be sent', TypeError);
      if (this.connecting) this.once('connect', () => this._resetNow());
      else this._resetNow();
    } else {
      this.destroy(errors.codedError('ERR_SOCKET_CLOSED', 'Socket is closed'));
    }
    return this;
  }

  _resetNow() {
    this._resetAndClosing = true;
    return this.destroy();
  }

  destroySoon() {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }
}

installMethods(Socket.prototype, SocketMethods);
installMethods(Socket.prototype, OnreadMethods);
installMethods(Socket.prototype, OptionMethods);
installSurface(Socket.prototype);
installReadingFlag(Socket.prototype);
installHandleSurface(binding.NativeSocket);

module.exports = { Socket, normalizeConnectArgs };
