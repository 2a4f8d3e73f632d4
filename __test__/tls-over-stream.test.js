'use strict';
// TLS over an existing socket or stream (lib/tls-stream.js, src/js/tls_stream.rs):
// tls.connect({ socket }), new TLSSocket(stream, options) and a TLS server fed
// server.emit('connection', stream). Every scenario runs with Node's tls and with cio's, as each
// side (client and server), in the same test, and what each run saw must be the same.
const nodeTls = require('tls');
const nodeNet = require('net');
const crypto = require('crypto');
const { Duplex } = require('stream');
const cioPkg = require('..');
const cioTls = require('../lib/tls');
const { read, tracker } = require('./tls-helpers');
const { once, listen, sha256 } = require('./helpers');

const track = tracker();
afterEach(() => track.closeAll());

const IMPLS = {
  node: { connect: nodeTls.connect, TLSSocket: nodeTls.TLSSocket, createServer: nodeTls.createServer },
  cio: {
    connect: (o, cb) => cioPkg.connect(Object.assign({ isSecure: true }, o), cb),
    TLSSocket: cioPkg.TLSSocket,
    createServer: (o, l) => cioPkg.createServer(Object.assign({ isSecure: true }, o), l),
  },
};
// [client implementation, server implementation]
const PAIRS = [['node', 'node'], ['cio', 'cio'], ['cio', 'node'], ['node', 'cio']];
const PLAIN = { node: nodeNet, cio: cioPkg };

const SERVER = { key: read('server.key'), cert: read('server.crt') };
const CA = read('ca.crt');

/** Two connected in-memory Duplex streams (no descriptor anywhere), like Node's test/common/duplexpair. */
function duplexPair() {
  const make = () => new Duplex({
    read() {},
    write(chunk, enc, cb) { this.other.push(chunk); cb(); },
    final(cb) { this.other.push(null); cb(); },
    // A side that goes away takes the other with it, as a closed connection would.
    destroy(err, cb) { if (!this.other.destroyed) this.other.destroy(); cb(err); },
  });
  const a = make();
  const b = make();
  a.other = b;
  b.other = a;
  return [track(a), track(b)];
}

/**
 * What a TLS socket sees: secure details, the data it read, its error. The promise resolves at
 * its 'end', 'error' or 'close' (Node's TLSSocket over a JS stream may never close: its stream
 * does not), with the object that keeps filling in.
 */
function observe(socket, event) {
  const seen = { secure: null, data: '', error: null };
  const done = new Promise((resolve) => {
    socket.on(event, () => {
      const peer = socket.getPeerCertificate();
      seen.secure = {
        authorized: socket.authorized,
        authorizationError: socket.authorizationError || null,
        peerCN: peer && peer.subject ? peer.subject.CN : null,
        protocol: socket.getProtocol(),
        cipher: socket.getCipher().standardName,
        alpn: socket.alpnProtocol,
      };
    });
    socket.on('data', (d) => { seen.data += d; });
    socket.on('error', (err) => { seen.error = err.code; resolve(seen); });
    socket.on('end', () => resolve(seen));
    socket.on('close', () => resolve(seen));
  });
  done.seen = seen;
  return done;
}

function lineReader(socket, onLine) {
  let buf = '';
  const onData = (d) => {
    buf += d;
    const i = buf.indexOf('\n');
    if (i < 0) return;
    socket.removeListener('data', onData);
    socket.pause();
    onLine(buf.slice(0, i));
  };
  socket.on('data', onData);
}

describe('STARTTLS: a plain socket upgraded after a line in clear', () => {
  for (const plain of ['cio', 'node']) {
    test(`over a plain ${plain} socket, Node's and cio's tls as client and server`, async () => {
      const results = {};
      for (const [ci, si] of PAIRS) {
        const net = PLAIN[plain];
        let serverSeen;
        const server = track(net.createServer((raw) => {
          track(raw);
          raw.write('220 ready\n');
          lineReader(raw, (line) => {
            expect(line).toBe('STARTTLS');
            raw.write('220 go ahead\n');
            const s = track(new IMPLS[si].TLSSocket(raw, Object.assign({ isServer: true }, SERVER)));
            serverSeen = observe(s, 'secure');
            s.once('data', (d) => s.end(`pong ${d}`));
          });
        }));
        const port = await listen(server);
        const raw = track(net.connect({ port, host: '127.0.0.1' }));
        const clientSeen = await new Promise((resolve) => {
          lineReader(raw, (greeting) => {
            expect(greeting).toBe('220 ready');
            lineReader(raw, (go) => {
              expect(go).toBe('220 go ahead');
              const c = track(IMPLS[ci].connect({ socket: raw, ca: CA, servername: 'localhost' }, () => c.write('ping')));
              resolve(observe(c, 'secureConnect'));
            });
            raw.resume();
            raw.write('STARTTLS\n');
          });
        }).then((p) => p);
        results[`${ci}->${si}`] = { client: await clientSeen, server: serverSeen.seen };
        await new Promise((r) => server.close(r));
      }
      for (const r of Object.values(results)) {
        expect(r.client.data).toBe('pong ping');
        expect(r.client.error).toBe(null);
        expect(r.client.secure).toMatchObject({ authorized: true, authorizationError: null, peerCN: 'localhost', protocol: 'TLSv1.3' });
        expect(r.server.data).toBe('ping');
        expect(r.server.secure).toMatchObject({ peerCN: null, protocol: 'TLSv1.3' });
      }
    });
  }
});

describe('TLS through a JavaScript Duplex pair (no descriptor)', () => {
  test("client and server over in-memory streams, ALPN, Node's and cio's tls on either side", async () => {
    const results = {};
    for (const [ci, si] of PAIRS) {
      const [a, b] = duplexPair();
      const s = track(new IMPLS[si].TLSSocket(b, Object.assign({ isServer: true, ALPNProtocols: ['h2', 'http/1.1'] }, SERVER)));
      const serverSeen = observe(s, 'secure');
      s.on('data', (d) => s.end(`echo ${d}`));
      const c = track(IMPLS[ci].connect({ socket: a, ca: CA, servername: 'localhost', ALPNProtocols: ['http/1.1'] }, () => c.write('over a duplex')));
      expect(c.encrypted).toBe(true);
      expect(c instanceof IMPLS[ci].TLSSocket).toBe(true);
      expect(c instanceof (ci === 'cio' ? cioPkg.Socket : nodeNet.Socket)).toBe(true);
      results[`${ci}->${si}`] = { client: await observe(c, 'secureConnect'), server: serverSeen.seen };
    }
    const expected = {
      client: { data: 'echo over a duplex', error: null, secure: { authorized: true, authorizationError: null, peerCN: 'localhost', protocol: 'TLSv1.3', alpn: 'http/1.1' } },
      server: { data: 'over a duplex', error: null, secure: { peerCN: null, protocol: 'TLSv1.3', alpn: 'http/1.1' } },
    };
    for (const r of Object.values(results)) expect(r).toMatchObject(expected);
  });
});

describe('a TLS server fed server.emit("connection", stream)', () => {
  test("handshakes the stream and emits 'secureConnection' (cio and Node servers, either client)", async () => {
    const results = {};
    for (const [ci, si] of PAIRS) {
      const [a, b] = duplexPair();
      const got = [];
      const server = IMPLS[si].createServer(SERVER, (s) => {
        got.push(s.servername);
        s.on('data', (d) => s.end(`hello ${d}`));
      });
      server.emit('connection', b);
      const c = track(IMPLS[ci].connect({ socket: a, ca: CA, servername: 'localhost' }, () => c.write('from ' + ci)));
      const seen = await observe(c, 'secureConnect');
      results[`${ci}->${si}`] = [seen.data, seen.error, seen.secure.authorized, got];
    }
    for (const [k, r] of Object.entries(results)) expect(r).toEqual([`hello from ${k.split('->')[0]}`, null, true, ['localhost']]);
  });
});

describe('handshakeTimeout of a server fed a stream', () => {
  test("a stream that never speaks is a 'tlsClientError' ERR_TLS_HANDSHAKE_TIMEOUT (Node and cio)", async () => {
    const codes = {};
    for (const si of ['node', 'cio']) {
      const [, b] = duplexPair();
      const server = IMPLS[si].createServer(Object.assign({ handshakeTimeout: 150 }, SERVER), () => {});
      const failed = new Promise((resolve) => server.on('tlsClientError', (err) => resolve(err.code)));
      server.emit('connection', b);
      codes[si] = await failed;
    }
    expect(codes).toEqual({ node: 'ERR_TLS_HANDSHAKE_TIMEOUT', cio: 'ERR_TLS_HANDSHAKE_TIMEOUT' });
  });
});

describe('verification over a stream is the socket path\'s', () => {
  // The code a client with the wrong CA gets, on cio's socket path (a real TLS server port).
  async function socketPathCode(ca) {
    const server = track(nodeTls.createServer(SERVER, (s) => s.end()));
    const port = await listen(server);
    const c = track(IMPLS.cio.connect({ port, host: '127.0.0.1', servername: 'localhost', ca }));
    const [err] = await once(c, 'error');
    return err.code;
  }

  test('a client with the wrong CA fails with the same code as over a socket (both tls)', async () => {
    const codes = {};
    for (const [ci, si] of PAIRS) {
      const [a, b] = duplexPair();
      const s = track(new IMPLS[si].TLSSocket(b, Object.assign({ isServer: true }, SERVER)));
      s.on('error', () => {});
      const c = track(IMPLS[ci].connect({ socket: a, ca: read('wrong-ca.crt'), servername: 'localhost' }));
      codes[`${ci}->${si}`] = (await observe(c, 'secureConnect')).error;
    }
    const viaSocket = await socketPathCode(read('wrong-ca.crt'));
    expect(viaSocket).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    for (const code of Object.values(codes)) expect(code).toBe(viaSocket);
  });

  test("mutual TLS: a client certificate from the wrong CA is a 'tlsClientError' of the server; the right one is authorized", async () => {
    const outcome = {};
    for (const [ci, si] of PAIRS) {
      for (const who of ['alice', 'mallory']) {
        const [a, b] = duplexPair();
        const server = IMPLS[si].createServer(Object.assign({ ca: CA, requestCert: true, rejectUnauthorized: true }, SERVER), (s) => {
          const peer = s.getPeerCertificate();
          s.end(`${s.authorized} ${peer.subject.CN}`);
        });
        const clientErrors = new Promise((resolve) => server.on('tlsClientError', (err) => resolve(err.code)));
        server.emit('connection', b);
        const c = track(IMPLS[ci].connect({ socket: a, ca: CA, servername: 'localhost', key: read(`${who}.key`), cert: read(`${who}.crt`) }));
        const seen = await observe(c, 'secureConnect');
        outcome[`${ci}->${si} ${who}`] = who === 'alice' ? seen.data : await clientErrors;
      }
    }
    // cio's socket path: the same server options on a port, the same client certificate.
    const server = track(IMPLS.cio.createServer(Object.assign({ ca: CA, requestCert: true, rejectUnauthorized: true }, SERVER), (s) => s.end()));
    const viaSocket = new Promise((resolve) => server.on('tlsClientError', (err) => resolve(err.code)));
    const port = await listen(server);
    const c = track(nodeTls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: CA, key: read('mallory.key'), cert: read('mallory.crt') }));
    c.on('error', () => {});
    expect(await viaSocket).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    for (const [k, v] of Object.entries(outcome)) {
      if (k.endsWith('alice')) expect(v).toBe('true alice');
      else if (k.includes('->cio')) expect(v).toBe(await viaSocket);
      else expect(typeof v).toBe('string'); // OpenSSL's own name for it
    }
  });
});

describe('backpressure over an upgraded TCP socket', () => {
  const SIZE = 8 * 1024 * 1024;
  const up = crypto.randomBytes(SIZE);
  const down = crypto.randomBytes(SIZE);

  // Writes `data` in 64 KiB pieces honouring write()'s false and 'drain', then ends. Every
  // socket is half-open: one side may finish before the other (its end must not end the other's
  // writing).
  const send = (socket, data) => new Promise((resolve) => {
    let off = 0;
    const pump = () => {
      while (off < data.length) {
        const chunk = data.subarray(off, off + 65536);
        off += chunk.length;
        if (!socket.write(chunk) && off < data.length) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.end(resolve);
    };
    pump();
  });
  // Collects everything until 'end'; starts paused (the caller resumes it).
  const receive = (socket) => {
    socket.pause();
    const chunks = [];
    socket.on('data', (d) => chunks.push(d));
    return new Promise((resolve) => socket.on('end', () => resolve(Buffer.concat(chunks))));
  };

  // [client tls, server tls, plain sockets underneath]
  const RUNS = PAIRS.map(([ci, si]) => [ci, si, 'node']).concat(PAIRS.map(([ci, si]) => [ci, si, 'cio']));
  test.each(RUNS)('8 MiB each way, readers held until both writers are held back: %s client, %s server, over %s plain sockets (sha256)', async (ci, si, plain) => {
    const net = PLAIN[plain];
    let serverSide;
    let clientReady;
    const secured = new Promise((resolve) => { clientReady = resolve; });
    const accepted = new Promise((resolve) => {
      const server = track(net.createServer({ allowHalfOpen: true }, (raw) => {
        track(raw);
        const s = track(new IMPLS[si].TLSSocket(raw, Object.assign({ isServer: true, allowHalfOpen: true }, SERVER)));
        serverSide = { s, got: receive(s), sent: send(s, down) };
        resolve();
      }));
      listen(server).then((port) => {
        const raw = track(net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }));
        raw.once('connect', () => {
          const c = track(IMPLS[ci].connect({ socket: raw, ca: CA, servername: 'localhost', allowHalfOpen: true }));
          c.once('secureConnect', () => clientReady(c));
        });
      });
    });
    const c = await secured;
    await accepted;
    const clientGot = receive(c);
    const clientSent = send(c, up);
    // Nobody reads yet: both writers must be held back (write() returned false) ...
    let turns = 0;
    await new Promise((resolve, reject) => {
      const check = () => {
        if (c.writableNeedDrain && serverSide.s.writableNeedDrain) resolve();
        else if (++turns > 2000) reject(new Error('the writers were never held back'));
        else setTimeout(check, 5);
      };
      check();
    });
    // ... and everything arrives, in order, once both read.
    c.resume();
    serverSide.s.resume();
    const [g1, g2] = await Promise.all([clientGot, serverSide.got, clientSent, serverSide.sent]);
    expect([sha256(g1), sha256(g2)]).toEqual([sha256(down), sha256(up)]);
  }, 30000);
});

describe('surface', () => {
  test("require('cio').TLSSocket is cio's, and accepts a stream; Node's SecureContext is refused with a coded error", () => {
    expect(cioPkg.TLSSocket).toBe(cioTls.TLSSocket);
    const [a] = duplexPair();
    expect(() => new cioPkg.TLSSocket(a, { secureContext: nodeTls.createSecureContext({}) })).toThrow(expect.objectContaining({ code: 'ERR_CIO_UNSUPPORTED_OPTION' }));
    const t = track(new cioPkg.TLSSocket(a, { isServer: true, key: SERVER.key, cert: SERVER.cert }));
    expect(t).toBeInstanceOf(cioPkg.TLSSocket);
    expect(() => t.setServername('x')).toThrow(expect.objectContaining({ code: 'ERR_TLS_SNI_FROM_SERVER' }));
  });

  test("a stream that emits strings fails with Node's ERR_STREAM_WRAP (Node and cio)", async () => {
    const codes = {};
    for (const impl of ['node', 'cio']) {
      const [a, b] = duplexPair();
      a.setEncoding('latin1');
      const c = track(IMPLS[impl].connect({ socket: a, ca: CA, servername: 'localhost' }));
      const failed = once(c, 'error').catch((e) => [e]);
      b.write(Buffer.from([22, 3, 3, 0, 5, 1, 2, 3, 4, 5]));
      codes[impl] = (await failed)[0].code;
    }
    expect(codes).toEqual({ node: 'ERR_STREAM_WRAP', cio: 'ERR_STREAM_WRAP' });
  });
});
