'use strict';
// Handshake latency, cio vs Node's tls, per pairing (client -> server: cio->cio, cio->node,
// node->cio, node->node), TLS 1.2 and 1.3, mutual TLS, with and without noDelay, full or
// resumed handshakes, and who speaks first after the handshake:
//   client-first: the client writes 1 byte in 'secureConnect', the server answers with end(byte)
//   server-first: the server writes 1 byte in 'secureConnection', the client answers with end()
// Each connection is timed from connect() to the client's 'close' (both ends done); the
// connections run one after another. Prints p50/p99 (ms) per cell.
//
//   node bench/handshake-latency.js [--n 20] [--filter REGEXP] [--child]
//
// --child runs each server in a forked process (then only the client's clock counts).
const fs = require('fs');
const path = require('path');
const tls = require('tls');
const cio = require(process.env.CIO_BENCH_MODULE || '..');

const F = (n) => fs.readFileSync(path.join(__dirname, '..', '__test__', 'fixtures', n));
const serverOpts = { key: F('server.key'), cert: F('server.crt'), ca: F('ca.crt'), requestCert: true };
const clientOpts = { key: F('alice.key'), cert: F('alice.crt'), ca: F('ca.crt'), host: '127.0.0.1', servername: 'localhost' };

function makeServer(kind, { version, noDelay, first }) {
  const o = Object.assign({}, serverOpts, { minVersion: version, maxVersion: version, noDelay });
  const s = kind === 'cio' ? cio.createServer(Object.assign({ isSecure: true }, o)) : tls.createServer(o);
  s.on('secureConnection', (sock) => {
    sock.on('error', () => {});
    if (first === 'server') {
      sock.write('s');
      sock.on('data', () => {});
    } else {
      sock.once('data', () => sock.end('s'));
    }
  });
  s.on('tlsClientError', (e) => console.error('tlsClientError', e.message));
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r(s)));
}

function connectOnce(kind, port, { version, noDelay, first, resume }, state) {
  return new Promise((resolve, reject) => {
    const o = Object.assign({}, clientOpts, { port, minVersion: version, maxVersion: version, noDelay });
    if (kind === 'node' && resume && state.session) o.session = state.session;
    const t0 = process.hrtime.bigint();
    const c = kind === 'cio'
      ? cio.connect(Object.assign({ isSecure: true, sessionResumption: resume }, o))
      : tls.connect(o);
    c.on('session', (s) => { state.session = s; });
    c.on('secureConnect', () => {
      if (c.isSessionReused()) state.reused++;
      if (first === 'client') c.write('c');
    });
    c.on('data', () => { if (first === 'server') c.end(); });
    c.on('error', reject);
    c.on('close', () => resolve(Number(process.hrtime.bigint() - t0) / 1e6));
  });
}

async function childServer(kind, cell) {
  const { fork } = require('child_process');
  const child = fork(__filename, ['--serve', kind, JSON.stringify(cell)], { stdio: 'inherit' });
  const port = await new Promise((r) => child.once('message', r));
  return { port, close: () => new Promise((r) => { child.once('exit', r); child.kill(); }) };
}

const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

/** Times `n` sequential connections of one cell; { p50, p99, slow (>30 ms), reused }. */
async function measure(ck, sk, cell, n, child) {
  let port, close;
  if (child) {
    ({ port, close } = await childServer(sk, cell));
  } else {
    const server = await makeServer(sk, cell);
    port = server.address().port;
    close = () => new Promise((r) => server.close(r));
  }
  const state = { reused: 0 };
  const times = [];
  try {
    for (let i = 0; i < n; i++) times.push(await connectOnce(ck, port, cell, state));
  } finally {
    await close();
  }
  return { p50: pct(times, 0.5), p99: pct(times, 0.99), slow: times.filter((t) => t > 30).length, reused: state.reused, n };
}

async function main() {
  if (process.argv[2] === '--serve') {
    const s = await makeServer(process.argv[3], JSON.parse(process.argv[4]));
    process.send(s.address().port);
    return;
  }
  const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : dflt; };
  const n = Number(arg('--n', 20));
  const filter = new RegExp(arg('--filter', '.'));
  const child = process.argv.includes('--child');
  const f = (x) => x.toFixed(1).padStart(6);
  for (const resume of [false, true]) {
    for (const first of ['client', 'server']) {
      for (const version of ['TLSv1.2', 'TLSv1.3']) {
        for (const noDelay of [false, true]) {
          for (const [ck, sk] of [['cio', 'cio'], ['cio', 'node'], ['node', 'cio'], ['node', 'node']]) {
            const name = `${ck}->${sk} ${version} ${resume ? 'resumed' : 'full'} ${first}-first noDelay=${noDelay}`;
            if (!filter.test(name)) continue;
            const r = await measure(ck, sk, { version, noDelay, first, resume }, n, child);
            console.log(`${name.padEnd(56)} p50 ${f(r.p50)} p99 ${f(r.p99)} ms  >30ms ${String(r.slow).padStart(3)}/${n}  reused ${r.reused}`);
          }
        }
      }
    }
  }
}

if (require.main === module) main().catch((e) => { console.error(e); process.exit(1); });
module.exports = { measure };
