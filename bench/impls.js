'use strict';
// The two implementations under test behind one adapter interface:
//
//   impl.name                         'cio' | 'node'
//   impl.createServer(opts, onConn)   opts: { tls: boolean }; onConn(socket) for every accepted
//                                     socket ('connection' for TCP, 'secureConnection' for TLS).
//                                     TLS servers are MUTUAL: requestCert + rejectUnauthorized.
//   impl.listen(server)               -> Promise<port> (127.0.0.1, ephemeral port, backlog 4096)
//   impl.connect(opts)                opts: { port, tls } -> socket (connects to 127.0.0.1; TLS
//                                     clients present the client certificate, full handshakes)
//   impl.readyEvent(tls)              'connect' (TCP) or 'secureConnect' (TLS)
//   impl.close(server)                -> Promise (resolves once the server has closed)
//
// Fairness rules
// - Node: one tls.createSecureContext() for every client connect (what a tuned Node app does);
//   no `session` is passed, so Node never resumes sessions.
// - cio: the client's TLS material is given ONCE, as module options of one cio instance (cio's
//   equivalent of a reused secure context). Session resumption is turned off explicitly with
//   CIO_FULL_HANDSHAKE below, so both sides do full handshakes. The run reports
//   socket.isSessionReused() counts for both, to prove it.

const fs = require('fs');
const path = require('path');
const net = require('net');
const tls = require('tls');

const CERT_DIR = path.join(__dirname, 'certs');
const HOST = '127.0.0.1';
const SERVERNAME = 'localhost';

/** Per-connect options that make a cio TLS client do a full handshake (no session resumption). */
const CIO_FULL_HANDSHAKE = Object.freeze({ sessionResumption: false });

let material;
function certs() {
  if (!material) {
    const read = (f) => fs.readFileSync(path.join(CERT_DIR, f));
    material = {
      ca: read('ca.pem'),
      serverKey: read('server-key.pem'), serverCert: read('server.pem'),
      clientKey: read('client-key.pem'), clientCert: read('client.pem'),
    };
  }
  return material;
}

/** "RSA-2048" / "EC prime256v1", read from the committed server certificate. */
function describeCerts() {
  const { X509Certificate } = require('crypto');
  const key = new X509Certificate(certs().serverCert).publicKey;
  const d = key.asymmetricKeyDetails || {};
  return key.asymmetricKeyType === 'rsa' ? `RSA-${d.modulusLength}` :
    `${String(key.asymmetricKeyType).toUpperCase()} ${d.namedCurve || ''}`.trim();
}

// A deep accept queue for both implementations: with Node's default of 511, bursts of connects
// overflow it and the kernel drops the handshake's final ACK, costing a 1 s retransmission.
const BACKLOG = 4096;

function listenOn(server) {
  return new Promise((resolve, reject) => {
    const onError = (err) => reject(err);
    server.once('error', onError);
    server.listen(0, HOST, BACKLOG, () => {
      server.removeListener('error', onError);
      resolve(server.address().port);
    });
  });
}

function closeServer(server) {
  return new Promise((resolve) => server.close(() => resolve()));
}

function makeNode() {
  let clientCtx;
  return {
    name: 'node',
    readyEvent: (isTls) => (isTls ? 'secureConnect' : 'connect'),
    createServer(opts, onConnection) {
      if (!opts.tls) return net.createServer(onConnection);
      const c = certs();
      return tls.createServer({
        key: c.serverKey, cert: c.serverCert, ca: c.ca,
        requestCert: true, rejectUnauthorized: true,
      }, onConnection);
    },
    listen: listenOn,
    connect({ port, tls: isTls }) {
      if (!isTls) return net.connect({ host: HOST, port });
      if (!clientCtx) {
        const c = certs();
        clientCtx = tls.createSecureContext({ key: c.clientKey, cert: c.clientCert, ca: c.ca });
      }
      return tls.connect({ host: HOST, port, servername: SERVERNAME, secureContext: clientCtx });
    },
    close: closeServer,
  };
}

/**
 * Load the package: $CIO_BENCH_MODULE if set (a path or package name, e.g. another build),
 * else the repo checkout (`..`), then an installed `cio`.
 */
function loadCio() {
  const errors = [];
  const ids = process.env.CIO_BENCH_MODULE ? [path.resolve(process.env.CIO_BENCH_MODULE)] :
    [path.join(__dirname, '..'), 'cio'];
  for (const id of ids) {
    try {
      const build = require(id);
      if (typeof build !== 'function') throw new Error('export is not a function');
      return build;
    } catch (err) {
      errors.push(`  require(${JSON.stringify(id)}): ${err.message.split('\n')[0]}`);
    }
  }
  const e = new Error('cannot load cio (build it with `npm run build`, or run Node against ' +
    'itself with --impl node,node):\n' + errors.join('\n'));
  e.code = 'ERR_CIO_BENCH_LOAD';
  throw e;
}

/** cio's builder returns { error } results instead of throwing; turn them into exceptions. */
function checked(what, result) {
  if (!result || typeof result.on !== 'function') {
    const detail = result && (result.error || (result.failed && result.failed.reason));
    const e = new Error(`cio ${what} failed: ${detail || JSON.stringify(result)}`);
    e.cause = result && (result.reason || (result.failed && result.failed.error));
    throw e;
  }
  return result;
}

function makeCio() {
  const build = loadCio();
  let plain;
  let tlsClient;
  const instance = (opts) => {
    const cio = build(opts);
    if (cio && cio.error) throw new Error(`cio module options rejected: ${cio.error}`);
    return cio;
  };
  return {
    name: 'cio',
    readyEvent: (isTls) => (isTls ? 'secureConnect' : 'connect'),
    createServer(opts, onConnection) {
      plain = plain || instance();
      let server;
      if (!opts.tls) {
        server = checked('server()', plain.server({}));
        server.on('connection', onConnection);
      } else {
        const c = certs();
        server = checked('server()', plain.server({
          key: c.serverKey, cert: c.serverCert, ca: c.ca,
          requestCert: true, rejectUnauthorized: true,
        }));
        server.on('secureConnection', onConnection);
      }
      return server;
    },
    listen: listenOn,
    connect({ port, tls: isTls }) {
      if (!isTls) {
        plain = plain || instance();
        return checked('client()', plain.client({ host: HOST, port }));
      }
      if (!tlsClient) {
        const c = certs();
        tlsClient = instance({ key: c.clientKey, cert: c.clientCert, ca: c.ca });
      }
      return checked('client()', tlsClient.client({
        host: HOST, port, servername: SERVERNAME, ...CIO_FULL_HANDSHAKE,
      }));
    },
    close: closeServer,
  };
}

const cache = new Map();
/** The adapter for `name` ('cio' or 'node'); loaded once per process. */
function getImpl(name) {
  if (!cache.has(name)) {
    if (name === 'node') cache.set(name, makeNode());
    else if (name === 'cio') cache.set(name, makeCio());
    else throw new Error(`unknown implementation '${name}' (use cio or node)`);
  }
  return cache.get(name);
}

module.exports = { getImpl, describeCerts, CIO_FULL_HANDSHAKE, HOST };
