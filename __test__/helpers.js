'use strict';
// Shared test helpers: real sockets on 127.0.0.1 with ephemeral ports, promises for events,
// and no fixed sleeps (waits are for conditions, with deadlines).
const fs = require('fs');
const crypto = require('crypto');

function once(emitter, event) {
  return new Promise((resolve, reject) => {
    const onEvent = (...args) => { emitter.removeListener('error', onError); resolve(args); };
    const onError = (err) => { emitter.removeListener(event, onEvent); reject(err); };
    emitter.once(event, onEvent);
    if (event !== 'error') emitter.once('error', onError);
  });
}

async function listen(server, host = '127.0.0.1') {
  server.listen(0, host);
  await once(server, 'listening');
  return server.address().port;
}

function closeServer(server) {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

function collect(socket) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    socket.on('data', (d) => chunks.push(d));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
  });
}

function sha256(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

function fdCount() {
  return fs.readdirSync('/proc/self/fd').length;
}

// Polls `predicate` on each event-loop turn until it holds or the deadline passes.
async function until(predicate, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (predicate()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setImmediate(r));
  }
}

// A free port: bind, read it, close (nobody listens there afterwards).
async function freePort() {
  const net = require('net');
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** mulberry32: a small seeded generator, so a failing randomized test can be replayed. */
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  /** Log-uniform in [lo, hi]: as many small values as large ones, per order of magnitude. */
  next.logInt = (lo, hi) => Math.min(hi, Math.floor(Math.exp(Math.log(lo) + next() * (Math.log(hi + 1) - Math.log(lo)))));
  next.bytes = (n) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
    return b;
  };
  next.pick = (list) => list[Math.floor(next() * list.length)];
  return next;
}

module.exports = { once, listen, closeServer, collect, sha256, fdCount, until, freePort, rng };
