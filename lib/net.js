'use strict';
// Node-net-like factories over the native core. With `isSecure: true` they build TLS sockets
// and servers (lib/tls.js), which is how lib/cio.js's core listeners create everything.

const { Socket, normalizeConnectArgs } = require('./socket');
const { Server } = require('./server');

const errors = require('./errors');

const UNSUPPORTED_CONNECT = ['reconnect', 'fd', 'blockList'];
const UNSUPPORTED_SERVER = ['blockList'];

function connect(...args) {
  const [options, cb] = normalizeConnectArgs(args);
  errors.refuseUnsupported(options, UNSUPPORTED_CONNECT, 'the option');
  if (options.isSecure === true) return require('./tls').connect(options, cb);
  const socket = new Socket(options);
  return socket.connect(options, cb);
}

function createServer(options, connectionListener) {
  if (options && typeof options === 'object') errors.refuseUnsupported(options, UNSUPPORTED_SERVER, 'the option');
  if (options && typeof options === 'object' && options.isSecure === true) {
    return require('./tls').createServer(options, connectionListener);
  }
  return new Server(options, connectionListener);
}

module.exports = { connect, createConnection: connect, createServer, Socket, Server };
