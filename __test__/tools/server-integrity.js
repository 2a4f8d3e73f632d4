'use strict';
// Scenarios of __test__/integrity-server.test.js, each run against Node's `tls`/`net` or cio
// (through the public entry) and resolving to a plain record of what both ends saw. They run
// in the jest process, or in a child (`node server-integrity.js <scenario> <impl> [json]`,
// printing the record as JSON) when the runtime path is wanted (CIO_IO=tokio) or when the
// server might crash: a crash is the child's exit code, not a dead test run.
const tls = require('tls');
const net = require('net');
const os = require('os');
const path = require('path');
const fs = require('fs');
const buildCio = require('../..');
const { SERVER_TLS, CLIENT_TLS, deadline, bridgedTlsClient } = require('../raw-tls-helpers');

const WAIT = 5000;
let unixSeq = 0;

function tlsServer(impl, more = {}, cio = buildCio()) {
  const opts = Object.assign(SERVER_TLS(), more);
  return impl === 'node' ? tls.createServer(opts) : cio.server(opts);
}

function listen(server, where) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.removeListener('error', reject);
      resolve();
    };
    if (typeof where === 'string') server.listen(where, done);
    else server.listen(0, '127.0.0.1', done);
  });
}

function unixPath() {
  return path.join(os.tmpdir(), `cio-integrity-${process.pid}-${++unixSeq}.sock`);
}

function target(server, where) {
  return typeof where === 'string' ? { path: where } : { host: '127.0.0.1', port: server.address().port };
}

function closed(emitter) {
  return new Promise((resolve) => emitter.once('close', resolve));
}

/**
 * Item 2: the server is closed while a TLS connection it accepted is still in its handshake
 * (at the client's 'secureConnect': with TLS 1.3 the server has not yet read the client's
 * Finished; with TLS 1.2 it has finished but not necessarily announced the connection).
 * The connection must still be announced and get the server's data; 'close' waits for it.
 */
async function closeDuringHandshake(impl, { unix = false, maxVersion } = {}) {
  const server = tlsServer(impl);
  const rec = { secureConnect: false, secureConnection: 0, clientData: '', clientErrors: [], tlsClientErrors: [], socketClosedBeforeServerClose: null };
  let accepted = null;
  server.on('secureConnection', (s) => {
    rec.secureConnection++;
    accepted = s;
    s.on('error', () => {});
    s.end('from server');
  });
  server.on('tlsClientError', (e) => rec.tlsClientErrors.push(e.code));
  const serverClosed = closed(server).then(() => {
    rec.socketClosedBeforeServerClose = accepted !== null && accepted.destroyed;
  });
  const where = unix ? unixPath() : 0;
  await listen(server, where);
  const client = tls.connect(Object.assign(CLIENT_TLS(), target(server, where), maxVersion ? { maxVersion } : {}));
  client.on('secureConnect', () => {
    rec.secureConnect = true;
    server.close();
  });
  client.on('data', (d) => { rec.clientData += d; });
  client.on('error', (e) => rec.clientErrors.push(e.code));
  await deadline(closed(client), WAIT, 'the client to close');
  await deadline(serverClosed, WAIT, "the server's 'close'");
  return rec;
}

/**
 * Item 2, plain TCP: the server is closed from the client's 'connect' callback, when the
 * connection may be accepted (on the runtime, its CONNECTION event queued) but not yet
 * announced. It is either served in full, or refused/reset like a connection still in the
 * backlog; never accepted and then silently dropped (a clean end without the data).
 */
/**
 * Linux, from /proc/net/tcp: how many connections wait in the accept queue of the listener on
 * `port` (the rx_queue of its LISTEN row) and how many server-side connections on `port` are
 * established (accepted or not); null when that cannot be read.
 */
function acceptState(port) {
  let table;
  try {
    table = fs.readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return null;
  }
  const hexPort = ':' + port.toString(16).toUpperCase().padStart(4, '0');
  const state = { queued: null, established: 0 };
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || !f[1].endsWith(hexPort)) continue;
    if (f[3] === '0A') state.queued = parseInt(f[4].split(':')[1], 16);
    else if (f[3] === '01') state.established++;
  }
  return state.queued === null ? null : state;
}

async function closeDuringAccept(impl, { unix = false, waitForAccept = false } = {}) {
  const server = impl === 'node' ? net.createServer() : buildCio().server({});
  const rec = { connection: 0, clientData: '', clientErrors: [] };
  server.on('connection', (s) => {
    rec.connection++;
    s.on('error', () => {});
    s.end('from server');
  });
  const serverClosed = closed(server);
  const where = unix ? unixPath() : 0;
  await listen(server, where);
  const client = net.connect(target(server, where));
  if (waitForAccept) {
    // Runtime accept loop (CIO_IO=tokio). net.connect() makes its connect(2) call in a
    // nextTick queued before this one; this one then holds the JavaScript thread until the
    // runtime has taken the established connection off the accept queue, and closes the
    // server in the same turn, while the connection's CONNECTION event waits for this thread
    // (bounded by a deadline; a condition, not a guess).
    process.nextTick(() => {
      const port = server.address().port;
      const until = Date.now() + 2000;
      let st = acceptState(port);
      while (st && !(st.established > 0 && st.queued === 0) && Date.now() < until) st = acceptState(port);
      rec.acceptedBeforeClose = Boolean(st && st.established > 0 && st.queued === 0);
      server.close();
    });
  } else {
    client.on('connect', () => server.close());
  }
  client.on('data', (d) => { rec.clientData += d; });
  client.on('error', (e) => rec.clientErrors.push(e.code));
  await deadline(closed(client), WAIT, 'the client to close');
  await deadline(serverClosed, WAIT, "the server's 'close'");
  return rec;
}

/**
 * Item 2 with maxConnections = 1: connection A is served and held open; B arrives, and the
 * server is closed before it decided about B (cio: at B's 'secureConnect', its handshake in
 * flight; Node refuses B at accept, so there: at 'drop'). B is dropped, A keeps working, and
 * 'close' comes only after A closed.
 */
async function closeAtMaxConnections(impl) {
  const server = tlsServer(impl);
  server.maxConnections = 1;
  const rec = { secureConnection: 0, drops: 0, aData: '', bData: '', aClosedBeforeServerClose: null };
  const firstSocket = new Promise((resolve) => server.once('secureConnection', resolve));
  server.on('secureConnection', (s) => {
    rec.secureConnection++;
    s.on('error', () => {});
    s.on('data', (d) => s.end(`echo ${d}`));
  });
  await listen(server, 0);
  const port = server.address().port;
  const a = tls.connect(Object.assign(CLIENT_TLS(), { host: '127.0.0.1', port }));
  a.on('error', () => {});
  a.on('data', (d) => { rec.aData += d; });
  await deadline(firstSocket, WAIT, 'connection A');
  // 'close' waits for the server's own socket of A: it is destroyed by then (its 'close' event
  // and the client's come a turn later, in Node too; in one process their order against the
  // server's is the I/O path's).
  const aServerSide = await firstSocket;
  const aClose = closed(a);
  const serverClosed = closed(server).then(() => { rec.aClosedBeforeServerClose = aServerSide.destroyed; });
  const dropped = new Promise((resolve) => server.once('drop', resolve));
  const b = tls.connect(Object.assign(CLIENT_TLS(), { host: '127.0.0.1', port }));
  rec.bSecure = false;
  rec.bError = null;
  b.on('secureConnect', () => { rec.bSecure = true; });
  b.on('error', (e) => { rec.bError = e.code; });
  b.on('data', (d) => { rec.bData += d; });
  // Both refuse B at its TCP accept (cio: before its handshake, as Node's net.Server does).
  dropped.then(() => server.close());
  await deadline(dropped, WAIT, "B's 'drop'");
  rec.drops++;
  await deadline(closed(b), WAIT, 'B to close');
  a.write('after close');
  await deadline(aClose, WAIT, 'A to close');
  await deadline(serverClosed, WAIT, "the server's 'close'");
  return rec;
}

/**
 * Item 3: a client resets its connection (SO_LINGER 0) at `stage`:
 *   'connect'        right after the TCP connect, before its ClientHello
 *   'secureConnect'  at its own 'secureConnect' (before the server announced the connection)
 *   'after'          after the server's 'secureConnection' (once it received the server's first
 *                    bytes), with `listener` saying whether the application listens for the
 *                    socket's 'error'
 *   'chain'          (cio only) while a paused server-client chain holds the connection back
 *   'chain-end'      (cio only) the same, but the client ends the connection cleanly instead
 * The record says what the server reported; a crash is the process dying.
 */
async function resetAt(impl, { stage, listener = false }) {
  const cio = buildCio();
  const rec = { tlsClientErrors: [], secureConnection: 0, socketErrors: [], socketClosed: false };
  let bridge = null;
  let socketClosed = null;
  if (stage === 'chain' || stage === 'chain-end') {
    const holdBack = function holdBack(control, context) {
      const resume = control.pause('waiting for an authorization');
      context.serverClient.once('close', () => resume());
      if (stage === 'chain') bridge.raw.resetAndDestroy();
      else bridge.tlsSocket.end();
    };
    cio.onServerClient(holdBack);
  }
  const server = tlsServer(impl, {}, cio);
  server.on('tlsClientError', (e, s) => {
    rec.tlsClientErrors.push(e.code);
    if (s && !s.destroyed) s.destroy();
  });
  const gone = new Promise((resolve) => { socketClosed = resolve; });
  const clientError = new Promise((resolve) => server.once('tlsClientError', resolve));
  server.on('secureConnection', (s) => {
    rec.secureConnection++;
    if (listener) s.on('error', (e) => rec.socketErrors.push(e.code));
    s.on('close', () => {
      rec.socketClosed = true;
      socketClosed();
    });
    s.write('ready');
  });
  await listen(server, 0);
  bridge = bridgedTlsClient({ host: '127.0.0.1', port: server.address().port }, CLIENT_TLS());
  const { raw, tlsSocket } = bridge;
  if (stage === 'connect') raw.on('connect', () => raw.resetAndDestroy());
  if (stage === 'secureConnect') tlsSocket.on('secureConnect', () => raw.resetAndDestroy());
  if (stage === 'after') tlsSocket.on('data', () => raw.resetAndDestroy());
  await deadline(closed(raw), WAIT, 'the client to reset');
  tlsSocket.destroy();
  if (stage === 'after') await deadline(gone, WAIT, "the server's socket to close");
  else await deadline(Promise.race([clientError, gone]), WAIT, "the server's 'tlsClientError' (or its socket to close)");
  await new Promise((resolve) => server.close(() => resolve()));
  return rec;
}

/**
 * Item 3: `reps` clients of `clientImpl` destroy themselves at 'secureConnect', one after the
 * other, against a server of `serverImpl`. Records every 'error' on either side, the server's
 * 'tlsClientError's and 'secureConnection's.
 */
async function destroyAtSecureConnect(serverImpl, clientImpl, reps = 20) {
  const cio = buildCio();
  const server = tlsServer(serverImpl, {}, cio);
  const rec = { secureConnection: 0, tlsClientErrors: [], serverSocketErrors: [], clientErrors: [] };
  const open = new Set();
  server.on('secureConnection', (s) => {
    rec.secureConnection++;
    open.add(s);
    s.on('error', (e) => rec.serverSocketErrors.push(e.code));
    s.on('close', () => open.delete(s));
  });
  server.on('tlsClientError', (e) => rec.tlsClientErrors.push(e.code));
  await listen(server, 0);
  const port = server.address().port;
  for (let i = 0; i < reps; i++) {
    const o = Object.assign(CLIENT_TLS(), { host: '127.0.0.1', port });
    const c = clientImpl === 'node' ? tls.connect(o) : cio.client(o);
    c.on('error', (e) => rec.clientErrors.push(e.code));
    c.on('secureConnect', () => c.destroy());
    await deadline(closed(c), WAIT, `client ${i} to close`);
  }
  // Every connection the server announced closes (its errors, if any, are recorded by then).
  const t0 = Date.now();
  const settled = () => open.size === 0 && rec.secureConnection + rec.tlsClientErrors.length >= reps;
  while (!settled() && Date.now() - t0 < WAIT) await new Promise((r) => setTimeout(r, 5));
  rec.waitedMs = Date.now() - t0;
  rec.stillOpen = open.size;
  await new Promise((resolve) => server.close(() => resolve()));
  return rec;
}

const SCENARIOS = { closeDuringHandshake, closeDuringAccept, closeAtMaxConnections, resetAt, destroyAtSecureConnect };

if (require.main === module) {
  const [name, impl, json] = process.argv.slice(2);
  SCENARIOS[name](impl, json ? JSON.parse(json) : undefined).then(
    (rec) => {
      process.stdout.write(JSON.stringify(rec) + '\n');
      process.exit(0);
    },
    (err) => {
      process.stderr.write(`scenario failed: ${err && err.stack}\n`);
      process.exit(3);
    },
  );
}

module.exports = SCENARIOS;
