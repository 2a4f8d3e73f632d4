'use strict';
// Child process of integrity-churn.test.js: opens and closes many cio connections (mutual TLS
// and plain TCP, cio at both ends, through require('cio')'s Node-like API) and reports file
// descriptors and memory at checkpoints, after full garbage collections, as one JSON line.
//
//   node --expose-gc --max-semi-space-size=2 churn-child.js <tls|tcp> <warmup> <window> <windows> [inFlight]
//
// (A small fixed young generation keeps V8's own footprint from growing with the allocation
// rate, which would otherwise swamp the native figure: RSS minus V8's heapTotal.)
//
// Checkpoints: after `warmup` connections, then after each further `window` connections
// (`windows` of them). Every connection: connect, one byte each way, both ends closed; a
// checkpoint is taken only once every socket of both ends has emitted 'close'.
const fs = require('fs');
const path = require('path');
const cio = require(path.join(__dirname, '..', '..'));

const [kind, warmup, window, windows, inFlightArg] = process.argv.slice(2);
const useTls = kind === 'tls';
const inFlight = Number(inFlightArg || 8);
const F = (n) => fs.readFileSync(path.join(__dirname, '..', 'fixtures', n));
const SERVER = useTls ? { isSecure: true, key: F('server.key'), cert: F('server.crt'), ca: F('ca.crt'), requestCert: true } : {};
const CLIENT = useTls ? { isSecure: true, key: F('alice.key'), cert: F('alice.crt'), ca: F('ca.crt'), servername: 'localhost' } : {};
const DEADLINE_MS = 10000; // per connection

let serverOpen = 0;
const server = cio.createServer(SERVER);
server.on(useTls ? 'secureConnection' : 'connection', (socket) => {
  serverOpen++;
  socket.on('error', () => {});
  socket.on('close', () => { serverOpen--; });
  socket.once('data', () => socket.end('y'));
});
let serverError = null;
server.on('tlsClientError', (err) => { serverError = serverError || err; });

let n = 0;
function one(port) {
  n++;
  // Every other TLS client resumes its session (cio's default), the rest do full handshakes.
  const options = Object.assign({ port, host: '127.0.0.1' }, CLIENT, useTls ? { sessionResumption: n % 2 === 0 } : {});
  return new Promise((resolve, reject) => {
    const socket = cio.connect(options);
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('connection did not close in time')); }, DEADLINE_MS);
    socket.once(useTls ? 'secureConnect' : 'connect', () => socket.write('x'));
    socket.on('data', () => {});
    socket.on('error', (err) => { clearTimeout(timer); reject(err); });
    socket.on('close', () => { clearTimeout(timer); resolve(); });
  });
}

async function run(port, count) {
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      await one(port);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

async function settle() {
  const deadline = Date.now() + DEADLINE_MS;
  while (serverOpen > 0) {
    if (Date.now() > deadline) throw new Error(`${serverOpen} server sockets still open`);
    await new Promise((r) => setImmediate(r));
  }
  if (serverError) throw serverError;
  for (let i = 0; i < 4; i++) {
    global.gc();
    await new Promise((r) => setImmediate(r));
  }
}

function reading(done) {
  const mu = process.memoryUsage();
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const anon = Number(/^RssAnon:\s+(\d+)/m.exec(status)[1]) * 1024;
  return { connections: done, fds: fs.readdirSync('/proc/self/fd').length, rss: mu.rss, heapTotal: mu.heapTotal, heapUsed: mu.heapUsed, external: mu.external, native: mu.rss - mu.heapTotal, anon };
}

server.listen(0, '127.0.0.1', async () => {
  const port = server.address().port;
  const readings = [];
  const t0 = Date.now();
  try {
    let done = 0;
    await run(port, Number(warmup));
    done += Number(warmup);
    await settle();
    readings.push(reading(done));
    for (let w = 0; w < Number(windows); w++) {
      await run(port, Number(window));
      done += Number(window);
      await settle();
      readings.push(reading(done));
    }
    await new Promise((r) => server.close(r));
    process.stdout.write(JSON.stringify({ kind, ms: Date.now() - t0, readings }) + '\n');
  } catch (err) {
    process.stdout.write(JSON.stringify({ kind, error: String(err && err.stack) }) + '\n');
    process.exitCode = 1;
    server.close();
  }
});
