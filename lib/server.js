'use strict';
// Server: an EventEmitter over one NativeServer handle, behaving like Node's net.Server.
// listen() binds synchronously (errors and 'listening' are emitted on the next tick, as Node
// does); every accepted connection becomes a Socket that passes through `_gate` (the hook the
// server-client chain uses) before 'connection' is emitted. 'close' waits until the listening
// descriptor is gone and every connection has closed.

const EventEmitter = require('events');
const dns = require('dns');
const fs = require('fs');
const net = require('net');
const { binding, EV, setRef } = require('./native');
const errors = require('./errors');
const { normalizeListenArgs } = require('./args');
const { Socket } = require('./socket');
const { installMethods } = require('./socket-surface');
const debug = require('util').debuglog('cio'); // NODE_DEBUG=cio

// Node's net.Server is a plain function (`net.Server()` works, and so do `class extends` and
// `util.inherits` + `Server.call(this)`); so is cio's. The methods are written in the class
// body below and copied onto its prototype.
function Server(options, connectionListener) {
  if (!(this instanceof Server)) return new Server(options, connectionListener);
  EventEmitter.call(this);
  if (typeof options === 'function') {
    connectionListener = options;
    options = {};
  } else if (options === null || options === undefined || typeof options === 'object') {
    options = { ...options };
  } else {
    throw errors.invalidArgType('options', 'of type object', options);
  }
  if (options.keepAliveInitialDelay !== undefined) {
    errors.validateNumber(options.keepAliveInitialDelay, 'options.keepAliveInitialDelay');
    if (options.keepAliveInitialDelay < 0) options.keepAliveInitialDelay = 0;
  }
  if (options.highWaterMark !== undefined) {
    errors.validateNumber(options.highWaterMark, 'options.highWaterMark');
    if (options.highWaterMark < 0) options.highWaterMark = undefined;
  }
  this._options = options;
  this.allowHalfOpen = Boolean(options.allowHalfOpen);
  this.pauseOnConnect = Boolean(options.pauseOnConnect);
  this.noDelay = Boolean(options.noDelay);
  this.keepAlive = Boolean(options.keepAlive);
  this.keepAliveInitialDelay = ~~(options.keepAliveInitialDelay / 1000);
  this.highWaterMark = options.highWaterMark ?? defaultHighWaterMark();
  this.maxConnections = undefined;
  this._handshaking = 0; // TLS handshakes admitted at their TCP accept and not yet ended (maxConnections)
  this._handle = null;
  this._closing = null;
  this._address = null;
  this._connections = 0;
  this._refed = true;
  this._closesOwed = 0; // 'close' events owed (one per close() while drained, as Node emits)
  this._closeOnDrain = false; // a close() waits for CLOSED to know whether it owes a 'close'
  this._connectionEvent = 'connection';
  this._events_ = (batch) => this._onBatch(batch);
  if (typeof connectionListener === 'function') this.on(this._connectionEvent, connectionListener);
}
Object.setPrototypeOf(Server.prototype, EventEmitter.prototype);
Object.setPrototypeOf(Server, EventEmitter);

// Node's addServerAbortSignalOption: an aborted signal closes the server.
function addAbortSignal(server, signal) {
  const onAborted = () => server.close();
  if (signal.aborted) {
    process.nextTick(onAborted);
    return;
  }
  signal.addEventListener('abort', onAborted, { once: true });
  server.once('close', () => signal.removeEventListener('abort', onAborted));
}

function defaultHighWaterMark() {
  const stream = require('stream');
  return typeof stream.getDefaultHighWaterMark === 'function' ? stream.getDefaultHighWaterMark(false) : 16 * 1024;
}

// With events.captureRejections, a rejected async 'connection' listener destroys that socket
// and any other rejected listener becomes the server's 'error', as Node's Server does.
Server.prototype[EventEmitter.captureRejectionSymbol] = function captureRejection(err, event, sock) {
  if (event === 'connection') sock.destroy(err);
  else this.emit('error', err);
};

class ServerMethods {
  get listening() {
    return this._handle !== null;
  }

  listen(...args) {
    const cb = typeof args[args.length - 1] === 'function' ? args[args.length - 1] : null;
    if (this._handle || this._pendingListen) {
      throw errors.codedError('ERR_SERVER_ALREADY_LISTEN', 'Listen method has been called more than once without closing.');
    }
    const opts = normalizeListenArgs(args);
    if (cb) this.once('listening', cb);
    if (opts.signal) addAbortSignal(this, opts.signal);
    if (opts.path !== undefined) {
      this._bind({ path: opts.path, backlog: opts.backlog });
      if (this._handle && (opts.readableAll || opts.writableAll)) this._chmodPipe(opts);
      return this;
    }
    const port = opts.port;
    const host = opts.host;
    if (!host || net.isIP(host)) {
      this._bind({ address: host || undefined, port, backlog: opts.backlog, ipv6Only: opts.ipv6Only });
      return this;
    }
    this._pendingListen = true;
    dns.lookup(host, (err, ip) => {
      this._pendingListen = false;
      if (err) {
        this.emit('error', err);
        return;
      }
      this._bind({ address: ip, port, backlog: opts.backlog, ipv6Only: opts.ipv6Only });
    });
    return this;
  }

  // listen({ path, readableAll, writableAll }): read/write permission for everyone on the
  // socket file, as libuv's uv_pipe_chmod adds it; a failure closes the server and throws.
  _chmodPipe(opts) {
    let mode = 0;
    if (opts.readableAll) mode |= 0o444;
    if (opts.writableAll) mode |= 0o222;
    try {
      const st = fs.statSync(opts.path);
      if ((st.mode & mode) !== mode) fs.chmodSync(opts.path, (st.mode | mode) & 0o7777);
    } catch (err) {
      this._closing = this._handle;
      this._handle = null;
      this._closing.close();
      throw errors.errnoException({ code: err.code, errno: err.errno, syscall: 'uv_pipe_chmod' });
    }
  }

  _bind(opts) {
    const handle = new binding.NativeServer();
    handle.start(this._events_);
    if (this._tlsContext) {
      handle.setTls(this._tlsContext);
      // TLS: accepted connections wait for the 'connection' listeners while there are some.
      handle.announceAccepts(this._wantsAccepts());
    }
    const result = handle.listen(opts);
    if (result.error) {
      handle.release();
      const address = opts.path !== undefined ? opts.path : (opts.address || (opts.port !== undefined ? '::' : undefined));
      const err = errors.uvExceptionWithHostPort(result.error, address, opts.path !== undefined ? undefined : opts.port);
      debug('server listen error %s', err.code);
      process.nextTick(() => this.emit('error', err));
      return;
    }
    this._handle = handle;
    this._address = opts.path !== undefined ? opts.path : result.bound;
    // Node's connection key: "<address type>:<address>:<port asked for>".
    this._connectionKey = opts.path !== undefined
      ? `-1:${opts.path}:-1`
      : `${result.bound.family === 'IPv6' ? 6 : 4}:${opts.address || result.bound.address}:${opts.port}`;
    debug('server listening on %s', typeof this._address === 'string' ? this._address : `${this._address.address}:${this._address.port}`);
    if (!this._refed) handle.unref();
    process.nextTick(() => {
      if (this._handle === handle) this.emit('listening');
    });
  }

  _onBatch(batch) {
    for (let i = 0; i < batch.length; i += 2) {
      const code = batch[i];
      const payload = batch[i + 1];
      if (code === EV.CONNECTION) this._onConnection(payload);
      else if (code === EV.CLOSED) this._onClosed();
      else if (code === EV.ERROR) this.emit('error', errors.errnoException(payload));
      else if (this._onExtraEvent) this._onExtraEvent(code, payload);
    }
  }

  _onConnection(handle) {
    // A TLS handshake admitted at its TCP accept (TLS_ACCEPT) is a connection now.
    if (this._handshaking > 0) this._handshaking--;
    // A connection accepted before close() (its TLS handshake may have finished since) still
    // reaches the application, as with Node; the accept loop reports it before CLOSED. Only
    // a server that was released (or never listened) has nobody to take it.
    if (this._handle === null && this._closing === null) {
      handle.close();
      return;
    }
    if (this.maxConnections !== undefined && this._connections >= this.maxConnections) {
      const a = handle.addresses();
      handle.close();
      this._emitDrop(a);
      return;
    }
    const socket = this._wrap(handle);
    this._connections++;
    socket.server = this;
    socket._server = this;
    if (this.noDelay) socket.setNoDelay(true);
    if (this.keepAlive) socket.setKeepAlive(true, this.keepAliveInitialDelay * 1000);
    this._gate(socket, () => {
      if (socket.destroyed) return;
      if (socket._releaseControl) socket._releaseControl();
      this.emit(this._connectionEvent, socket);
    });
  }

  // Builds the Socket for an accepted handle (TLS servers override it).
  _wrap(handle) {
    const socket = new Socket({ allowHalfOpen: this.allowHalfOpen, highWaterMark: this.highWaterMark });
    socket._isPipe = typeof this._address === 'string';
    socket._attach(handle, null, this.pauseOnConnect);
    return socket;
  }

  // The application's 'connection' listeners (a TLS server keeps one of its own for streams).
  // Node's 'drop': a connection refused over maxConnections, with its endpoints.
  _emitDrop(a) {
    this.emit('drop', {
      localAddress: a.localAddress, localPort: a.localPort, localFamily: a.localFamily,
      remoteAddress: a.remoteAddress, remotePort: a.remotePort, remoteFamily: a.remoteFamily,
    });
  }

  // A TLS server hears of each TCP accept before its handshake (TLS_ACCEPT) while somebody
  // listens for 'connection' or a maxConnections limit applies (checked there, as Node does).
  _wantsAccepts() {
    return this._rawConnectionListeners() > 0 || this.maxConnections !== undefined;
  }

  get maxConnections() {
    return this._maxConnections;
  }

  set maxConnections(value) {
    this._maxConnections = value;
    if (this._tlsContext && this._handle) this._handle.announceAccepts(this._wantsAccepts());
  }

  _rawConnectionListeners() {
    return this.listeners('connection').filter((fn) => fn !== this._streamConnectionListener).length;
  }

  // The hook run before a connection is announced; the server-client chain replaces it.
  _gate(socket, proceed) {
    proceed();
  }

  // Node's Server.prototype.close: a callback given while the server is not listening gets
  // ERR_SERVER_NOT_RUNNING, from the 'close' event that close() still emits (Node emits one
  // per close() call made while drained, on the next tick). cio's listening descriptor closes
  // asynchronously (`_closing`), so an owed 'close' waits for it to be gone.
  close(cb) {
    if (typeof cb === 'function') {
      if (!this._handle) {
        this.once('close', function close() {
          cb(errors.codedError('ERR_SERVER_NOT_RUNNING', 'Server is not running.'));
        });
      } else {
        this.once('close', cb);
      }
    }
    if (this._handle) {
      debug('server close');
      this._closing = this._handle;
      this._handle = null;
      this._closing.close();
      // Whether this close() owes a 'close' now is known once the accept loop reports CLOSED:
      // TLS handshakes it accepted before may still bring connections (Node counts those as
      // connections from their TCP accept).
      this._closeOnDrain = true;
    } else if (this._connections === 0) {
      this._closesOwed++;
    }
    this._emitCloseIfDrained();
    return this;
  }

  _onClosed() {
    if (this._closing) {
      this._closing.release();
      this._closing = null;
    }
    if (this._closeOnDrain) {
      this._closeOnDrain = false;
      if (this._connections === 0) this._closesOwed++;
    }
    this._emitCloseIfDrained();
  }

  _connectionClosed() {
    this._connections--;
    // Node's socket close calls server._emitCloseIfDrained(): once the server is closed, the
    // last connection to go emits 'close'.
    if (this._connections === 0 && !this._handle && !this._closeOnDrain) this._closesOwed++;
    this._emitCloseIfDrained();
  }

  // Node's _emitCloseIfDrained: 'close' on the next tick, as many as close() calls and
  // closed-server drains asked for (each was owed only when nothing was left open); here
  // also not before the listening descriptor is gone.
  _emitCloseIfDrained() {
    if (this._closing) return;
    for (; this._closesOwed > 0; this._closesOwed--) process.nextTick(emitCloseNT, this);
  }

  address() {
    if (!this._handle) return null;
    if (typeof this._address === 'string') return this._address;
    const a = this._address;
    return { address: a.address, family: a.family, port: a.port };
  }

  getConnections(cb) {
    if (typeof cb === 'function') process.nextTick(cb, null, this._connections);
    return this;
  }

  ref() {
    return setRef(this, true);
  }

  unref() {
    return setRef(this, false);
  }
}

function emitCloseNT(server) {
  debug('server emit close');
  server.emit('close');
}

installMethods(Server.prototype, ServerMethods);

module.exports = { Server, normalizeListenArgs };
