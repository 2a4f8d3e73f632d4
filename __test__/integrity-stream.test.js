'use strict';
// No byte lost, in any pairing: randomized TLS and TCP streams in both directions, with
// random write sizes (1 B to 1 MiB, bursts of tiny writes), random pause/resume on each
// reader and random end timing, between cio and cio, cio and Node, and cio and openssl
// (s_server / s_client), compared by hash. Every scenario is driven by a seed, printed on
// failure; `CIO_STREAM_SEEDS=200 npx jest integrity-stream` runs more of them.
const crypto = require('crypto');
const net = require('net');
const tls = require('tls');
const { spawn } = require('child_process');
const { F, read, tracker, buildCio } = require('./tls-helpers');
const { rng } = require('./helpers');

const track = tracker();
afterEach(() => track.closeAll());

const SEEDS = Number(process.env.CIO_STREAM_SEEDS) || 8;
const BASE_SEED = Number(process.env.CIO_STREAM_SEED) || 0x5eed;
const sha = (buf) => crypto.createHash('sha256').update(buf).digest('hex');


/** The plan of one side: what it sends, in which write sizes, and how its reader behaves. */
function plan(r) {
  const shape = r();
  const total = shape < 0.1 ? 0 : shape < 0.5 ? r.logInt(1, 256 * 1024) : r.int(256 * 1024, 3 * 1024 * 1024);
  const payload = crypto.randomBytes(total);
  const sizes = [];
  for (let left = total; left > 0;) {
    // A burst of tiny writes (many small TLS records) now and then, else log-uniform sizes.
    const burst = r() < 0.15 ? r.int(1, 3000) : 1;
    for (let i = 0; i < burst && left > 0; i++) {
      const n = Math.min(left, burst > 1 ? r.int(1, 120) : r.logInt(1, 1024 * 1024));
      sizes.push(n);
      left -= n;
    }
  }
  return {
    payload,
    sizes,
    // Sometimes each write waits for the one before to complete: every write becomes its
    // own TLS record, so the peer's kernel queue fills with small records.
    oneByOne: r() < 0.3,
    respectDrain: r() < 0.7,
    yieldEvery: r.int(1, 50), // writes between turns of the event loop
    endDelay: r.int(0, 3), // loop turns between the last write and end()
    startPaused: r() < 0.3,
    pauseChance: r() < 0.5 ? 0 : 0.02 + r() * 0.1,
    maxPauseMs: r() < 0.3 ? r.int(20, 60) : r.int(0, 15),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Writes the plan's payload into `socket` in its sizes, then ends it. */
async function writePlan(socket, p) {
  let off = 0;
  for (let i = 0; i < p.sizes.length; i++) {
    const chunk = p.payload.subarray(off, off + p.sizes[i]);
    off += p.sizes[i];
    if (p.oneByOne) {
      await new Promise((resolve) => socket.write(chunk, resolve));
      continue;
    }
    const ok = socket.write(chunk);
    if (!ok && p.respectDrain) await new Promise((resolve) => socket.once('drain', resolve));
    else if (i % p.yieldEvery === 0) await tick();
  }
  for (let i = 0; i < p.endDelay; i++) await tick();
  socket.end();
}

/** Collects what `socket` receives until its end, pausing and resuming as the plan says. */
function readPlan(socket, p, r) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let pauses = 0;
    const resumeLater = () => setTimeout(() => socket.resume(), r.int(0, p.maxPauseMs));
    if (p.startPaused) {
      socket.pause();
      resumeLater();
    }
    socket.on('data', (d) => {
      chunks.push(d);
      if (pauses < 30 && r() < p.pauseChance) {
        pauses++;
        socket.pause();
        resumeLater();
      }
    });
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
  });
}

// ---- peers: each starts a server (resolving its port and a promise of the far end's socket)
// or connects a client. cio and Node sockets run the plan themselves; openssl is fed by pipes.

const tlsServerOptions = { key: F('server.key'), cert: F('server.crt'), ca: F('ca.crt'), requestCert: true };
const tlsClientOptions = { key: F('alice.key'), cert: F('alice.crt'), ca: F('ca.crt'), servername: 'localhost' };
const asBuffers = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, k === 'servername' || typeof v === 'boolean' ? v : read(v.split('/').pop())]));

async function serverOf(kind, secure) {
  let server;
  const accepted = new Promise((resolve) => {
    if (kind === 'cio') {
      const cio = buildCio();
      server = cio.server(secure ? { ...tlsServerOptions, allowHalfOpen: true } : { allowHalfOpen: true });
      server.on(secure ? 'secureConnection' : 'connection', resolve);
    } else {
      server = secure
        ? tls.createServer({ ...asBuffers(tlsServerOptions), allowHalfOpen: true }, resolve)
        : net.createServer({ allowHalfOpen: true }, resolve);
    }
  });
  track(server);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return { port: server.address().port, accepted: accepted.then((s) => track(s)) };
}

function clientOf(kind, secure, port) {
  let socket;
  const ready = secure ? 'secureConnect' : 'connect';
  if (kind === 'cio') {
    socket = buildCio().client(secure ? { port, host: '127.0.0.1', allowHalfOpen: true, ...tlsClientOptions } : { port, host: '127.0.0.1', allowHalfOpen: true });
  } else {
    socket = secure
      ? tls.connect({ port, host: '127.0.0.1', allowHalfOpen: true, ...asBuffers(tlsClientOptions) })
      : net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  }
  track(socket);
  return new Promise((resolve, reject) => {
    socket.once(ready, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** One scenario between two socket peers (cio or Node): both directions at once. */
async function socketScenario(seed, secure, serverKind, clientKind) {
  const r = rng(seed);
  const toServer = plan(r);
  const toClient = plan(r);
  const { port, accepted } = await serverOf(serverKind, secure);
  const [client, server] = await Promise.all([clientOf(clientKind, secure, port), accepted]);
  const gotByServer = readPlan(server, toServer, rng(seed + 1));
  const gotByClient = readPlan(client, toClient, rng(seed + 2));
  await Promise.all([writePlan(client, toServer), writePlan(server, toClient)]);
  const [s, c] = await Promise.all([gotByServer, gotByClient]);
  return {
    toServer: [s.length, toServer.payload.length, sha(s) === sha(toServer.payload)],
    toClient: [c.length, toClient.payload.length, sha(c) === sha(toClient.payload)],
  };
}

/** Starts `openssl` with `args`; resolves its exit, collecting stdout. */
function openssl(args) {
  const child = track(spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] }));
  const out = { chunks: [], length: 0, stderr: '' };
  child.stdout.on('data', (d) => { out.chunks.push(d); out.length += d.length; child.stdout.emit('progress'); });
  child.stderr.on('data', (d) => { out.stderr += d; });
  out.exited = new Promise((resolve) => child.on('exit', resolve));
  return { child, out };
}

/** openssl stdout has `n` bytes (or openssl exited). */
function stdoutReached(ssl, n) {
  return new Promise((resolve) => {
    const check = () => { if (ssl.out.length >= n) resolve(); };
    ssl.child.stdout.on('progress', check);
    ssl.out.exited.then(resolve);
    check();
  });
}

/** Feeds `p`'s payload into openssl's stdin in the plan's sizes (backpressure from the pipe). */
async function feedOpenssl(stdin, p) {
  let off = 0;
  for (const n of p.sizes) {
    const ok = stdin.write(p.payload.subarray(off, off + n));
    off += n;
    if (!ok) await new Promise((resolve) => stdin.once('drain', resolve));
  }
}

/** A cio client against `openssl s_server`, or `openssl s_client` against a cio server. */
async function opensslScenario(seed, cioIsServer) {
  const r = rng(seed);
  const toServer = plan(r);
  const toClient = plan(r);
  const [toCio, fromCio] = cioIsServer ? [toServer, toClient] : [toClient, toServer];
  let cioSocket;
  let ssl;
  if (cioIsServer) {
    const { port, accepted } = await serverOf('cio', true);
    ssl = openssl(['s_client', '-connect', `127.0.0.1:${port}`, '-quiet', '-CAfile', F('ca.crt'), '-cert', F('alice.crt'), '-key', F('alice.key')]);
    cioSocket = await accepted;
  } else {
    // s_server with -brief prints nothing on stdout but what it receives; it is ready once a
    // connection succeeds (refused until then), and accepts exactly one.
    for (let attempt = 0; ; attempt++) {
      const port = await new Promise((resolve) => {
        const probe = net.createServer().listen(0, '127.0.0.1', () => { const p = probe.address().port; probe.close(() => resolve(p)); });
      });
      ssl = openssl(['s_server', '-accept', String(port), '-naccept', '1', '-brief', '-cert', F('server.crt'), '-key', F('server.key'), '-CAfile', F('ca.crt'), '-Verify', '1']);
      const deadline = Date.now() + 5000;
      cioSocket = null;
      while (!cioSocket && Date.now() < deadline && ssl.child.exitCode === null) {
        try {
          cioSocket = await clientOf('cio', true, port);
        } catch (err) {
          if (err.code !== 'ECONNREFUSED') throw err;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      if (cioSocket || attempt >= 3) break;
    }
    if (!cioSocket) throw new Error('openssl s_server did not start: ' + ssl.out.stderr);
  }
  const gotByCio = readPlan(cioSocket, toCio, rng(seed + 1));
  const cioGotAll = new Promise((resolve) => {
    let got = 0;
    const onData = (d) => {
      got += d.length;
      if (got >= toCio.payload.length) resolve();
    };
    if (toCio.payload.length === 0) resolve();
    else cioSocket.on('data', onData); // stays paused when readPlan paused it
  });
  const cioWrote = writePlan({ write: (b, cb) => cioSocket.write(b, cb), once: (e, f) => cioSocket.once(e, f), end() {} }, fromCio);
  await Promise.all([feedOpenssl(ssl.child.stdin, toCio), cioWrote]);
  // Everything was sent both ways; once each end has it all, close: openssl closes when its
  // peer does (s_client) or when its input ends (s_server).
  await Promise.all([stdoutReached(ssl, fromCio.payload.length), cioGotAll]);
  if (cioIsServer) cioSocket.end();
  else ssl.child.stdin.end();
  const gotCio = await gotByCio;
  cioSocket.end();
  await ssl.out.exited;
  const atOpenssl = Buffer.concat(ssl.out.chunks);
  return {
    toCio: [gotCio.length, toCio.payload.length, sha(gotCio) === sha(toCio.payload)],
    fromCio: [atOpenssl.length, fromCio.payload.length, sha(atOpenssl) === sha(fromCio.payload)],
  };
}

function expectIntact(result, label) {
  for (const [dir, [got, sent, same]] of Object.entries(result)) {
    // The seed and pairing are in the message, so a failure can be replayed.
    expect({ label, dir, got, sent, same }).toEqual({ label, dir, got: sent, sent, same: true });
  }
}

const pairings = [
  ['cio', 'cio'],
  ['node', 'cio'],
  ['cio', 'node'],
];

describe.each([['TLS', true], ['TCP', false]])('randomized %s streams lose no byte', (name, secure) => {
  for (const [serverKind, clientKind] of pairings) {
    test(`${clientKind} client ↔ ${serverKind} server, both directions, ${SEEDS} seeds`, async () => {
      for (let i = 0; i < SEEDS; i++) {
        const seed = BASE_SEED + i * 7919;
        expectIntact(await socketScenario(seed, secure, serverKind, clientKind), `seed ${seed} ${name} ${clientKind}->${serverKind}`);
        await track.closeAll();
      }
    }, 60000);
  }
});

describe('randomized TLS streams with openssl peers lose no byte', () => {
  test.each([
    ['cio client ↔ openssl s_server', false, 31],
    ['openssl s_client ↔ cio server', true, 61],
  ])(`%s, ${SEEDS} seeds`, async (name, cioIsServer, offset) => {
    for (let i = 0; i < SEEDS; i++) {
      const seed = BASE_SEED + offset + i * 7919;
      expectIntact(await opensslScenario(seed, cioIsServer), `seed ${seed} ${name}`);
      await track.closeAll();
    }
  }, 60000);
});

describe('a burst of small TLS records reaches a paused cio reader whole and in order', () => {
  // A Node sender writes each record on its own (one write per completed write), so the
  // receiver's kernel queue fills with small records while it is paused. Node's receiver is
  // the yardstick in the same test.
  async function burst(receiverKind, receiverIsServer, size, count) {
    const payload = crypto.randomBytes(size * count);
    const sendAll = (socket) => {
      let i = 0;
      const next = () => {
        if (i === count) return socket.end();
        const chunk = payload.subarray(i * size, (i + 1) * size);
        i++;
        socket.write(chunk, next);
      };
      next();
      return new Promise((resolve) => socket.once('finish', resolve));
    };
    const receive = (socket, sent) => new Promise((resolve, reject) => {
      const chunks = [];
      socket.pause();
      // Resume once the sender has put everything into the kernel, or has stalled on it.
      sent.then(() => socket.resume());
      setTimeout(() => socket.resume(), 300);
      socket.on('data', (d) => chunks.push(d));
      socket.on('end', () => { resolve(Buffer.concat(chunks)); socket.end(); });
      socket.on('error', reject);
    });
    let got;
    if (receiverIsServer) {
      const { port, accepted } = await serverOf(receiverKind, true);
      const client = await clientOf('node', true, port);
      const socket = await accepted;
      got = await receive(socket, sendAll(client));
    } else {
      const { port, accepted } = await serverOf('node', true);
      const client = await clientOf(receiverKind, true, port);
      const socket = await accepted;
      got = await receive(client, sendAll(socket));
    }
    return [got.length, sha(got) === sha(payload)];
  }

  test.each([[100, 20000], [1000, 2000], [4000, 500], [8192, 250]])('%i-byte records ×%i, cio as server and as client, like Node', async (size, count) => {
    const expected = [size * count, true];
    for (const receiverIsServer of [true, false]) {
      const node = await burst('node', receiverIsServer, size, count);
      const cio = await burst('cio', receiverIsServer, size, count);
      expect({ receiverIsServer, node, cio }).toEqual({ receiverIsServer, node: expected, cio: expected });
      await track.closeAll();
    }
  }, 60000);
});

describe('WebSocket over TLS (ws) delivers every message', () => {
  // ws over wss with cio at both ends: the server's TLS sockets fed to a Node http server,
  // the client's through ws's createConnection. Node's tls at both ends is the yardstick.
  const http = require('http');
  const { WebSocket, WebSocketServer } = require('ws');

  async function wsRun(kind, count, size) {
    const httpServer = http.createServer();
    const wss = new WebSocketServer({ noServer: true });
    const sent = { toServer: crypto.createHash('sha256'), toClient: crypto.createHash('sha256') };
    const got = { toServer: crypto.createHash('sha256'), toClient: crypto.createHash('sha256') };
    const counts = { toServer: 0, toClient: 0 };
    const burst = (ws, dir) => {
      for (let i = 0; i < count; i++) {
        const b = crypto.randomBytes(size);
        sent[dir].update(b);
        ws.send(b);
      }
    };
    const receive = (ws, dir, done) => ws.on('message', (m) => {
      got[dir].update(m);
      counts[dir] += m.length;
      if (counts[dir] === count * size) done();
    });
    const serverDone = new Promise((resolve) => {
      httpServer.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => {
        receive(ws, 'toServer', resolve);
        burst(ws, 'toClient');
      }));
    });
    const { port, accepted } = await serverOf(kind, true);
    accepted.then((s) => httpServer.emit('connection', s));
    const ws = new WebSocket(`wss://localhost:${port}/`, {
      createConnection: () => (kind === 'cio'
        ? track(buildCio().client({ port, host: '127.0.0.1', ...tlsClientOptions }))
        : track(tls.connect({ port, host: '127.0.0.1', ...asBuffers(tlsClientOptions) }))),
    });
    const clientDone = new Promise((resolve, reject) => {
      ws.on('error', reject);
      receive(ws, 'toClient', resolve);
    });
    await new Promise((resolve) => ws.on('open', resolve));
    burst(ws, 'toServer');
    await Promise.all([serverDone, clientDone]);
    const closed = new Promise((resolve) => ws.on('close', resolve));
    ws.close();
    await closed;
    return {
      toServer: [counts.toServer, got.toServer.digest('hex') === sent.toServer.digest('hex')],
      toClient: [counts.toClient, got.toClient.digest('hex') === sent.toClient.digest('hex')],
    };
  }

  test.each([[20000, 100], [2000, 1000], [250, 8192]])('%i messages of %i bytes each way, cio at both ends like Node', async (count, size) => {
    const whole = [count * size, true];
    const node = await wsRun('node', count, size);
    const cio = await wsRun('cio', count, size);
    expect({ node, cio }).toEqual({ node: { toServer: whole, toClient: whole }, cio: { toServer: whole, toClient: whole } });
  }, 30000);
});
