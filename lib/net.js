'use strict';
// Node-net-like factories over the native core. TLS sockets and servers (lib/tls.js) build on
// these classes; lib/cio.js's core listeners create everything through here.

const { Socket, normalizeConnectArgs } = require('./socket');
const { Server } = require('./server');

function connect(...args) {
  const [options, cb] = normalizeConnectArgs(args);
  const socket = new Socket(options);
  return socket.connect(options, cb);
}

function createServer(options, connectionListener) {
  return new Server(options, connectionListener);
}

module.exports = { connect, createConnection: connect, createServer, Socket, Server };
