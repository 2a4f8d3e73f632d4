'use strict';
// Public entry: require('cio') is the module builder (lib/cio.js); the Node-like classes and
// factories ride along as properties for code that wants them directly.
const buildCio = require('./lib/cio');
const net = require('./lib/net');

module.exports = buildCio;
module.exports.Socket = net.Socket;
module.exports.Server = net.Server;
module.exports.connect = net.connect;
module.exports.createConnection = net.connect;
module.exports.createServer = net.createServer;
module.exports.TLSSocket = require('./lib/tls').TLSSocket;
