'use strict';
// Helpers for the real-library tests (libraries-*.test.js): each scenario runs over every
// pairing of Node's sockets and cio's (server side x client side), Node at both ends being
// the yardstick. A "listener" accepts TCP or TLS connections and hands each socket to the
// library under test (http's server.emit('connection'), aedes.handle, ...); a "connector"
// opens a client socket for the library (an Agent's createConnection, undici's connect, ...).
const net = require('net');
const tls = require('tls');
const fs = require('fs');
const path = require('path');
const cio = require('..');

const FIX = path.join(__dirname, 'fixtures');
const read = (name) => fs.readFileSync(path.join(FIX, name));

/** [server side, client side] */
const PAIRS = [['node', 'node'], ['cio', 'node'], ['node', 'cio'], ['cio', 'cio']];

/** Mutual TLS: the server asks for a client certificate from the fixture CA; alice presents one. */
const TLS_SERVER = { key: read('server.key'), cert: read('server.crt'), ca: read('ca.crt'), requestCert: true, rejectUnauthorized: true };
const TLS_CLIENT = { key: read('alice.key'), cert: read('alice.crt'), ca: read('ca.crt'), servername: 'localhost' };

/** Things to close after each test: sockets, servers, sessions, clients (anything with close/destroy). */
function tracker() {
  const items = [];
  const track = (item) => {
    items.push(item);
    return item;
  };
  track.closeAll = async () => {
    const all = items.splice(0).reverse();
    for (const item of all) {
      if (typeof item.destroy === 'function' && !(typeof item.listening === 'boolean')) item.destroy();
    }
    for (const item of all) {
      if (typeof item.listening === 'boolean' && item.listening) await new Promise((r) => item.close(() => r()));
    }
  };
  return track;
}

/**
 * Listens on 127.0.0.1:0 with Node's net/tls server or cio's, and passes every accepted socket
 * (after the handshake when `secure`) to `onSocket`. Resolves to { server, port, sockets }.
 */
async function listen(kind, { secure = false, tlsOptions = TLS_SERVER, onSocket }, track) {
  const sockets = [];
  const accept = (socket) => {
    sockets.push(socket);
    track(socket);
    onSocket(socket);
  };
  let server;
  if (kind === 'node') server = secure ? tls.createServer(tlsOptions, accept) : net.createServer(accept);
  else server = secure ? cio.createServer(Object.assign({ isSecure: true }, tlsOptions), accept) : cio.createServer(accept);
  track(server);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return { server, port: server.address().port, sockets };
}

/** A connected-or-connecting client socket to 127.0.0.1:port, Node's or cio's. */
function connect(kind, { port, secure = false, tlsOptions = TLS_CLIENT, extra = {} }) {
  const options = Object.assign({ host: '127.0.0.1', port }, secure ? tlsOptions : {}, extra);
  if (kind === 'node') return secure ? tls.connect(options) : net.connect(options);
  return cio.connect(Object.assign({ isSecure: secure }, options));
}

/** Whether `socket` is one of cio's (its handle is the native one). */
function isCio(socket) {
  return socket instanceof cio.Socket;
}

/** Resolves once `socket` is connected (and, when secure, its handshake done). */
function connected(socket, secure) {
  return new Promise((resolve, reject) => {
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

function body(res) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString()));
    res.on('error', reject);
  });
}

module.exports = { PAIRS, TLS_SERVER, TLS_CLIENT, tracker, listen, connect, connected, isCio, body, read };
