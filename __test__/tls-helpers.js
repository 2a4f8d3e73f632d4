'use strict';
// Helpers for the TLS tests (tls-*.test.js): fixture paths, a resource tracker closed after each
// test, a cio TLS server that records what reaches user code, one recorded cio client connection,
// Node's matrix recording, and openssl peers. No fixed sleeps: waits are for events/conditions.
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const net = require('net');
const buildCio = require('..');
const { until, freePort } = require('./helpers');

const FIX = path.join(__dirname, 'fixtures');
const F = (name) => path.join(FIX, name);
const read = (name) => fs.readFileSync(F(name));

/** Things to close after each test: sockets, servers, child processes. */
function tracker() {
  const items = [];
  const track = (item) => {
    items.push(item);
    return item;
  };
  track.closeAll = async () => {
    const all = items.splice(0);
    for (const item of all) {
      if (typeof item.kill === 'function' && item.exitCode === null && item.signalCode === null) item.kill('SIGKILL');
      else if (typeof item.destroy === 'function') item.destroy();
    }
    for (const item of all) {
      if (typeof item.listening === 'boolean' && item.listening) await new Promise((r) => item.close(() => r()));
    }
  };
  return track;
}

const mutualServer = (more) => Object.assign({ key: F('server.key'), cert: F('server.crt'), ca: F('ca.crt'), requestCert: true }, more);
const asClient = (who) => ({ key: F(`${who}.key`), cert: F(`${who}.crt`) });

/**
 * Starts `cio.server(options)` on 127.0.0.1:0 and records what reaches user code: every
 * 'secureConnection' (authorized, authorizationError, peer CN, data received), 'tlsClientError',
 * 'clientRejected', and each run of the server-client chain. `onSecure(socket)` (default: end
 * with 'hi') runs for each secure connection.
 */
async function startServer(track, options, { cio = buildCio(), onSecure } = {}) {
  const server = cio.server(options);
  if (!server || typeof server.listen !== 'function') throw new Error('server() failed: ' + (server.failed ? server.failed.reason : JSON.stringify(server)));
  track(server);
  const rec = { secure: [], tlsClientErrors: [], rejected: [], chainRuns: 0, data: [], connections: 0 };
  const counter = function countRuns() { rec.chainRuns++; };
  counter.options = { id: 'test/count-runs', before: ['cio/authenticate-client'] };
  cio.onServerClient(counter);
  server.on('connection', () => rec.connections++);
  server.on('secureConnection', (socket) => {
    track(socket);
    const peer = socket.getPeerCertificate();
    rec.secure.push({ authorized: socket.authorized, authorizationError: socket.authorizationError, peerCN: peer && peer.subject ? peer.subject.CN : undefined });
    socket.on('data', (d) => rec.data.push(d.toString()));
    socket.on('error', () => {});
    if (onSecure) onSecure(socket);
    else socket.end('hi');
  });
  server.on('tlsClientError', (err, socket) => rec.tlsClientErrors.push({ code: err.code, message: err.message, socket }));
  server.on('clientRejected', (name, peer) => rec.rejected.push({ name, peer }));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  rec.port = server.address().port;
  return { cio, server, port: rec.port, rec };
}

/**
 * One cio client connection to `port`, recorded until it closes: 'secureConnect' (authorized,
 * authorizationError), error codes, data received. Writes `send` right away when given.
 */
async function connectClient(track, port, options, { cio = buildCio(), send } = {}) {
  const client = cio.client(Object.assign({ port, host: '127.0.0.1' }, options));
  if (!client || typeof client.on !== 'function') throw new Error('client() failed: ' + JSON.stringify(client));
  track(client);
  const out = { errors: [], data: '' };
  client.on('secureConnect', () => { out.secure = { authorized: client.authorized, authorizationError: client.authorizationError }; });
  client.on('error', (e) => out.errors.push(e));
  client.on('data', (d) => { out.data += d; });
  if (send !== undefined) client.write(send);
  await new Promise((r) => client.on('close', r));
  out.client = client;
  return out;
}

/** Node's recorded outcomes (tools/node-tls-matrix.js), by cell name. */
function nodeMatrix() {
  const cells = {};
  for (const line of fs.readFileSync(F('node-tls-matrix.txt'), 'utf8').split('\n')) {
    if (!line.startsWith('[')) continue;
    const [name, outcome] = JSON.parse(line);
    cells[name] = outcome;
  }
  return cells;
}

/** Runs `fn(port)` with a port that was free a moment ago, retrying when it was taken meanwhile. */
async function withFreePort(fn, tries = 5) {
  for (let i = 0; ; i++) {
    const port = await freePort();
    try {
      return await fn(port);
    } catch (err) {
      if (err.code !== 'EADDRINUSE' || i >= tries) throw err;
    }
  }
}

/**
 * Spawns `openssl s_server` on `port` (one connection, mutual TLS when `verify`), resolving once
 * it accepts; rejects with code EADDRINUSE when the port was taken.
 */
function opensslServer(track, port, args) {
  const child = track(spawn('openssl', ['s_server', '-accept', String(port), '-naccept', '1', ...args], { stdio: ['pipe', 'pipe', 'pipe'] }));
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => { out.stdout += d; });
  child.stderr.on('data', (d) => { out.stderr += d; });
  out.exited = new Promise((r) => child.on('exit', (code) => r(code)));
  const ready = new Promise((resolve, reject) => {
    const check = () => {
      if (/ACCEPT/.test(out.stdout)) resolve({ child, out });
      else if (/in use|bind/i.test(out.stderr)) reject(Object.assign(new Error(out.stderr), { code: 'EADDRINUSE' }));
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.on('exit', () => { check(); reject(new Error('openssl s_server exited: ' + out.stderr)); });
  });
  return ready;
}

/** Connects a raw TCP socket that never speaks; resolves when the peer closes it. */
function stalledClient(track, port) {
  const raw = track(net.connect(port, '127.0.0.1'));
  raw.on('error', () => {});
  raw.on('data', () => {});
  return new Promise((resolve) => raw.on('close', () => resolve(raw)));
}

module.exports = { FIX, F, read, tracker, mutualServer, asClient, startServer, connectClient, nodeMatrix, withFreePort, opensslServer, stalledClient, until, buildCio };
