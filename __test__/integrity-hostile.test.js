'use strict';
// Hostile clients against a cio mutual-TLS server: random bytes, truncated ClientHellos, a valid
// ClientHello followed by garbage, garbage after the handshake, and resets (SO_LINGER 0) before
// the ClientHello, mid-handshake, right after it and mid-data, plus one client that stalls in
// its handshake. The server must neither crash nor stop serving: a legitimate mutual-TLS
// client runs alongside every hostile one and must be served exactly. The server's sockets get
// no 'error' listener from the application, so an error the server failed to contain would be
// an uncaught exception. Randomness is seeded; the seed is printed on failure and can be
// replayed with CIO_HOSTILE_SEED=<seed>.
const net = require('net');
const tls = require('tls');
const buildCio = require('..');
const { SERVER_TLS, CLIENT_TLS, deadline, bridgedTlsClient, captureClientHello, rng } = require('./raw-tls-helpers');

const SEED = Number(process.env.CIO_HOSTILE_SEED) || (Date.now() % 2147483647) + 1;
const ROUNDS = 40;
const WAIT = 5000;

const closed = (s) => (s.closed === true ? Promise.resolve() : new Promise((r) => s.once('close', r)));

/** One hostile connection of `kind`; resolves once its socket is closed (or, for 'stall', at once). */
function hostile(kind, port, random, hello, leftovers) {
  const target = { host: '127.0.0.1', port };
  const endOrReset = (raw) => (random() < 0.5 ? raw.end() : raw.resetAndDestroy());
  const rawClient = (onConnect) => {
    const raw = net.connect(target);
    raw.on('error', () => {});
    raw.on('data', () => {});
    raw.on('connect', () => onConnect(raw));
    return closed(raw);
  };
  const bridged = (setup) => {
    const b = bridgedTlsClient(target, CLIENT_TLS());
    setup(b);
    return closed(b.raw).then(() => b.tlsSocket.destroy());
  };
  switch (kind) {
    case 'random bytes':
      return rawClient((raw) => {
        raw.write(random.bytes(random.int(1, 3000)));
        endOrReset(raw);
      });
    case 'truncated ClientHello':
      return rawClient((raw) => {
        raw.write(hello.subarray(0, random.int(1, hello.length - 1)));
        endOrReset(raw);
      });
    case 'ClientHello then garbage':
      return rawClient((raw) => {
        raw.write(Buffer.concat([hello, random.bytes(random.int(1, 2000))]));
        // Half-close: the server answers or fails on the garbage, then closes.
        if (random() < 0.5) raw.end();
        else raw.once('data', () => raw.resetAndDestroy());
      });
    case 'reset before ClientHello':
      return rawClient((raw) => raw.resetAndDestroy());
    case 'reset mid-handshake':
      return bridged(({ raw }) => raw.once('data', () => raw.resetAndDestroy()));
    case 'reset right after the handshake':
      return bridged(({ raw, tlsSocket }) => tlsSocket.on('secureConnect', () => raw.resetAndDestroy()));
    case 'reset mid-data':
      return bridged(({ raw, tlsSocket }) => tlsSocket.on('secureConnect', () => {
        tlsSocket.write(random.bytes(random.int(1000, 60000)));
        setImmediate(() => raw.resetAndDestroy());
      }));
    case 'garbage after the handshake':
      return bridged(({ raw, tlsSocket }) => tlsSocket.on('secureConnect', () => {
        // Bytes outside TLS: the server fails on the bad record and closes the connection.
        raw.write(random.bytes(random.int(1, 500)));
      }));
    case 'stall mid-handshake': {
      // Left hanging: the server's handshake timeout ends it; closed after the rounds.
      const raw = net.connect(target, () => raw.write(hello.subarray(0, random.int(1, hello.length - 1))));
      raw.on('error', () => {});
      leftovers.push(raw);
      return Promise.resolve();
    }
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

const KINDS = ['random bytes', 'truncated ClientHello', 'ClientHello then garbage', 'reset before ClientHello',
  'reset mid-handshake', 'reset right after the handshake', 'reset mid-data', 'garbage after the handshake',
  'stall mid-handshake'];

/** The legitimate client: mutual TLS, one request, the exact answer back. */
async function legitimate(impl, port, n) {
  const opts = Object.assign(CLIENT_TLS(), { host: '127.0.0.1', port });
  const client = impl === 'node' ? tls.connect(opts) : buildCio().client(opts);
  const out = { data: '', errors: [], authorized: null };
  client.on('secureConnect', () => {
    out.authorized = client.authorized;
    client.write(`ping ${n}\n`);
  });
  client.on('data', (d) => { out.data += d; });
  client.on('error', (e) => out.errors.push(e.code || e.message));
  await deadline(closed(client), WAIT, `legitimate client ${n} to finish`);
  return out;
}

test(`a cio TLS server survives random bytes, truncated or garbled ClientHellos, garbage after the handshake and resets at every stage, and serves an interleaved mutual-TLS client each time (seed ${SEED})`, async () => {
  const random = rng(SEED);
  const steps = [];
  const leftovers = [];
  const cio = buildCio();
  const server = cio.server(Object.assign(SERVER_TLS(), { handshakeTimeout: 1500 }));
  const seen = { serverErrors: [], tlsClientErrors: 0, served: [] };
  server.on('error', (e) => seen.serverErrors.push(e.code || e.message));
  server.on('tlsClientError', () => { seen.tlsClientErrors++; });
  server.on('secureConnection', (socket) => {
    // No 'error' listener on purpose: containing a hostile client's errors is the server's job.
    let line = '';
    socket.on('data', (d) => {
      line += d;
      const m = /^ping (\d+)\n/.exec(line);
      if (m) {
        seen.served.push({ n: Number(m[1]), authorized: socket.authorized, cn: socket.getPeerCertificate().subject.CN });
        socket.end(`pong ${m[1]}\n`);
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  try {
    const hello = await captureClientHello(CLIENT_TLS());
    for (let n = 0; n < ROUNDS; n++) {
      const kind = n < KINDS.length ? KINDS[n] : random.pick(KINDS);
      const impl = random() < 0.5 ? 'cio' : 'node';
      steps.push(`${n}:${kind}/${impl}`);
      const bad = hostile(kind, port, random, hello, leftovers);
      const good = await legitimate(impl, port, n);
      expect({ n, kind, good }).toEqual({ n, kind, good: { data: `pong ${n}\n`, errors: [], authorized: true } });
      await deadline(bad, WAIT, `the ${kind} client to be closed`);
      expect(server.listening).toBe(true);
    }
    expect(seen.served.map((s) => s.n)).toEqual(Array.from({ length: ROUNDS }, (_, i) => i));
    expect(seen.served.every((s) => s.authorized && s.cn === 'alice')).toBe(true);
    expect(seen.serverErrors).toEqual([]);
    expect(seen.tlsClientErrors).toBeGreaterThan(0);
  } catch (err) {
    err.message = `hostile-client seed ${SEED} (replay: CIO_HOSTILE_SEED=${SEED}); rounds: ${steps.join(', ')}\n${err.message}`;
    throw err;
  } finally {
    for (const raw of leftovers) raw.destroy();
    await deadline(new Promise((resolve) => server.close(() => resolve())), WAIT, "the server's 'close'");
  }
}, 60000);
