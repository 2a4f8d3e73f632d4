'use strict';
// Native memory of a cio mutual-TLS (or plain TCP) server over many connections.
// The server runs in a forked child (so only its memory is measured); the parent drives
// connections with Node's tls/net client (full handshakes), IN_FLIGHT at a time, and asks the
// child for its memory at checkpoints (after a full GC): rss, heapTotal, native = rss - heapTotal.
//
//   node bench/server-memory.js [--total 40000] [--tls|--tcp] [--server cio|node] [--in-flight 16]
//
// Environment passes through to the child (try MALLOC_ARENA_MAX=2, or CIO_MALLOC_TRIM=1 to
// call malloc_trim(0) before each reading: a figure that drops then is allocator slack).
const fs = require('fs');
const path = require('path');
const tls = require('tls');
const net = require('net');
const { fork } = require('child_process');

const F = (n) => fs.readFileSync(path.join(__dirname, '..', '__test__', 'fixtures', n));
const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : dflt; };

function serve() {
  const kind = arg('--server', 'cio');
  const useTls = !process.argv.includes('--tcp');
  const cio = require(process.env.CIO_BENCH_MODULE || '..');
  const opts = { key: F('server.key'), cert: F('server.crt'), ca: F('ca.crt'), requestCert: true };
  let server;
  const onConn = (s) => { s.on('error', () => {}); s.once('data', () => s.end('y')); };
  if (kind === 'cio') server = cio.createServer(Object.assign({ isSecure: useTls }, useTls ? opts : {}), useTls ? undefined : onConn);
  else server = useTls ? tls.createServer(opts) : net.createServer(onConn);
  if (useTls) server.on('secureConnection', onConn);
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('message', async (m) => {
    if (m === 'quit') {
      server.close(() => process.disconnect());
      return;
    }
    if (m !== 'mem') return;
    for (let i = 0; i < 3; i++) { global.gc(); await new Promise((r) => setImmediate(r)); }
    const mu = process.memoryUsage();
    const fds = fs.readdirSync('/proc/self/fd').length;
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const kb = (name) => Number((status.match(new RegExp(`^${name}:\\s+(\\d+)`, 'm')) || [0, 0])[1]) * 1024;
    process.send({ mem: { rss: mu.rss, heapTotal: mu.heapTotal, external: mu.external, arrayBuffers: mu.arrayBuffers, fds, anon: kb('RssAnon') } });
  });
}

function one(port, useTls) {
  return new Promise((resolve, reject) => {
    const o = { port, host: '127.0.0.1', servername: 'localhost', key: F('alice.key'), cert: F('alice.crt'), ca: F('ca.crt') };
    const s = useTls ? tls.connect(o) : net.connect(port, '127.0.0.1');
    s.once(useTls ? 'secureConnect' : 'connect', () => s.write('x'));
    s.on('data', () => {});
    s.on('error', reject);
    s.on('close', resolve);
  });
}

async function main() {
  if (process.argv.includes('--serve')) return serve();
  const total = Number(arg('--total', 40000));
  const inFlight = Number(arg('--in-flight', 16));
  const useTls = !process.argv.includes('--tcp');
  // HEAPTRACK=1: the server runs under heaptrack (its report is named on stdout at exit).
  const forkOpts = process.env.HEAPTRACK === '1'
    ? { execPath: 'heaptrack', execArgv: [process.execPath, '--expose-gc'] }
    : { execArgv: ['--expose-gc'] };
  const child = fork(__filename, ['--serve', ...process.argv.slice(2)], forkOpts);
  const { port } = await new Promise((r) => child.once('message', r));
  const mem = () => new Promise((r) => { child.once('message', (m) => r(m.mem)); child.send('mem'); });
  const checkpoints = new Set([0, 1000, 2000, 5000, 10000, 20000, 30000, 40000, 60000, 80000, 100000, 150000, 200000].filter((n) => n <= total));
  checkpoints.add(total);
  let done = 0;
  let prev = null;
  const t0 = Date.now();
  const print = (m) => {
    const native = m.rss - m.heapTotal;
    const per = prev ? ((native - prev.native) / (done - prev.done)).toFixed(1) : '';
    console.log(`${String(done).padStart(7)} conns  rss ${(m.rss / 1048576).toFixed(1).padStart(6)} MiB  heapTotal ${(m.heapTotal / 1048576).toFixed(1).padStart(5)}  native ${(native / 1048576).toFixed(2).padStart(6)} MiB  ${per.padStart(7)} B/conn since last  anon ${(m.anon / 1048576).toFixed(1)} MiB  ext ${(m.external / 1048576).toFixed(1)}  fds ${m.fds}  ${((Date.now() - t0) / 1000).toFixed(0)}s`);
    prev = { native, done };
  };
  print(await mem());
  while (done < total) {
    const next = Math.min(...[...checkpoints].filter((c) => c > done));
    while (done < next) {
      const batch = Math.min(inFlight, next - done);
      await Promise.all(Array.from({ length: batch }, () => one(port, useTls)));
      done += batch;
    }
    print(await mem());
  }
  child.send('quit');
  await new Promise((r) => child.once('exit', r));
}
main().catch((e) => { console.error(e); process.exit(1); });
