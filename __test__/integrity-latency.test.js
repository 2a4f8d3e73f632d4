'use strict';
// Handshake latency: a mutual-TLS connection with cio at either end (or both) is set up, used
// for one small exchange and closed no slower than with Node's tls at both ends, measured in the
// same test. Every pairing (cio->cio, cio->Node, Node->cio), TLS 1.2 and 1.3, full and resumed
// handshakes, the client or the server speaking first, with and without noDelay.
//
// The regression this guards against: the flight that completes a handshake sent on its own,
// then the first small write held back by Nagle's algorithm until the peer's delayed ACK
// (~40 ms per connection, against Node's few ms).
//
// Bound: cio's median over a few sequential connections below 2 x Node's median + 8 ms, generous
// for a noisy 2-core machine and far below the ~40 ms of the stall.
const fs = require('fs');
const path = require('path');
const tls = require('tls');
const cio = require('..');

const F = (n) => fs.readFileSync(path.join(__dirname, 'fixtures', n));
const SERVER = { key: F('server.key'), cert: F('server.crt'), ca: F('ca.crt'), requestCert: true };
const CLIENT = { key: F('alice.key'), cert: F('alice.crt'), ca: F('ca.crt'), host: '127.0.0.1', servername: 'localhost' };
const CONNECTIONS = 7; // timed, after one untimed connection (which also yields the session)
const DEADLINE_MS = 5000; // per connection

const open = [];

function startServer(kind, cell) {
  const o = Object.assign({}, SERVER, { minVersion: cell.version, maxVersion: cell.version, noDelay: cell.noDelay });
  const server = kind === 'cio' ? cio.createServer(Object.assign({ isSecure: true }, o)) : tls.createServer(o);
  server.on('secureConnection', (socket) => {
    open.push(socket);
    socket.on('error', () => {});
    if (cell.first === 'server') {
      socket.write('s');
      socket.on('data', () => {});
    } else {
      socket.once('data', () => socket.end('s'));
    }
  });
  open.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** One connection: connect, one small exchange, close; milliseconds until the client's 'close'. */
function connectOnce(kind, port, cell, state) {
  return new Promise((resolve, reject) => {
    const o = Object.assign({}, CLIENT, { port, minVersion: cell.version, maxVersion: cell.version, noDelay: cell.noDelay });
    if (kind === 'node' && cell.resumed && state.session) o.session = state.session;
    const t0 = process.hrtime.bigint();
    const client = kind === 'cio'
      ? cio.connect(Object.assign({ isSecure: true, sessionResumption: cell.resumed }, o))
      : tls.connect(o);
    open.push(client);
    const timer = setTimeout(() => {
      client.destroy();
      reject(new Error(`${kind} client: no close within ${DEADLINE_MS} ms`));
    }, DEADLINE_MS);
    client.on('session', (session) => { state.session = session; });
    client.on('secureConnect', () => {
      if (client.isSessionReused()) state.reused++;
      if (cell.first === 'client') client.write('c');
    });
    client.on('data', () => { if (cell.first === 'server') client.end(); });
    client.on('error', (err) => { clearTimeout(timer); reject(err); });
    client.on('close', () => {
      clearTimeout(timer);
      resolve(Number(process.hrtime.bigint() - t0) / 1e6);
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median time of CONNECTIONS sequential connections from a `clientKind` client to a `serverKind` server. */
async function measure(clientKind, serverKind, cell) {
  const server = await startServer(serverKind, cell);
  const port = server.address().port;
  const state = { reused: 0, session: null };
  const times = [];
  try {
    await connectOnce(clientKind, port, cell, state);
    state.reused = 0;
    for (let i = 0; i < CONNECTIONS; i++) times.push(await connectOnce(clientKind, port, cell, state));
  } finally {
    await new Promise((r) => server.close(() => r()));
  }
  return { p50: median(times), times, reused: state.reused };
}

afterEach(async () => {
  for (const item of open.splice(0)) {
    if (typeof item.destroy === 'function') item.destroy();
    else if (item.listening) await new Promise((r) => item.close(() => r()));
  }
});

const CELLS = [];
for (const version of ['TLSv1.2', 'TLSv1.3']) {
  for (const resumed of [false, true]) {
    for (const first of ['client', 'server']) {
      for (const noDelay of [false, true]) CELLS.push({ version, resumed, first, noDelay });
    }
  }
}
const label = (c) => `${c.version}, ${c.resumed ? 'resumed' : 'full'} handshake, ${c.first} speaks first, noDelay ${c.noDelay}`;

// Both I/O paths: on Node's loop the last flight leaves with the first write; on the runtime
// (CIO_IO=tokio) Nagle is off until the first write went out.
describe('a mutual-TLS connection with cio at either end is set up and used as fast as with Node at both ends', () => {
  test.each(CELLS.map((c) => [label(c), c]))('%s', async (_name, cell) => {
    const node = await measure('node', 'node', cell);
    const bound = 2 * node.p50 + 8;
    const results = {};
    for (const [c, s] of [['cio', 'cio'], ['cio', 'node'], ['node', 'cio']]) {
      const r = await measure(c, s, cell);
      results[`${c}->${s}`] = r;
      // A resumed cell must really resume (mostly: a server may decline now and then).
      if (cell.resumed) expect({ pairing: `${c}->${s}`, resumedSome: r.reused > 0 }).toEqual({ pairing: `${c}->${s}`, resumedSome: true });
    }
    const report = Object.fromEntries(Object.entries(results).map(([k, r]) => [k, +r.p50.toFixed(1)]));
    const slow = Object.entries(report).filter(([, p50]) => p50 >= bound);
    // On failure the message shows every median next to Node's and the bound.
    expect({ nodeP50: +node.p50.toFixed(1), bound: +bound.toFixed(1), slow }).toEqual({ nodeP50: +node.p50.toFixed(1), bound: +bound.toFixed(1), slow: [] });
  }, 60000);
});
