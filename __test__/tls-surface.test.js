'use strict';
// The TLS socket surface (compared with Node's own tls where Node defines the shape), module-level
// TLS options reaching every client and server, the isSecure rule, and the handshake timeout.
const tls = require('tls');
const net = require('net');
const { F, read, tracker, mutualServer, asClient, startServer, connectClient, stalledClient, until, buildCio } = require('./tls-helpers');

const track = tracker();
afterEach(() => track.closeAll());

const trust = { ca: F('ca.crt'), servername: 'localhost' };

/** A Node tls server; resolves its port. */
async function nodeServer(options, onSecure = (s) => s.end('hi')) {
  const server = track(tls.createServer(options, (s) => { track(s); s.on('error', () => {}); onSecure(s); }));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return server.address().port;
}

/** Connects with `connect(options)` and resolves the socket once secure. */
function secured(socket) {
  track(socket);
  return new Promise((resolve, reject) => {
    socket.on('secureConnect', () => resolve(socket));
    socket.on('error', reject);
  });
}

const SHAPE = ['subject', 'issuer', 'subjectaltname', 'valid_from', 'valid_to', 'serialNumber', 'fingerprint', 'fingerprint256', 'raw'];
const pick = (cert, keys) => Object.fromEntries(keys.map((k) => [k, Buffer.isBuffer(cert[k]) ? cert[k].toString('hex') : cert[k]]));
const plain = (v) => JSON.parse(JSON.stringify(v));

describe('the TLS socket surface', () => {
  test('getPeerCertificate(true) on a cio client has the fields of Node\'s, with the same values', async () => {
    const port = await nodeServer({ key: read('server.key'), cert: read('server.crt') });
    const cioClient = await secured(buildCio().client({ port, host: '127.0.0.1', ...trust }));
    const nodeClient = await secured(tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: read('ca.crt') }));
    const mine = cioClient.getPeerCertificate(true);
    const node = nodeClient.getPeerCertificate(true);
    expect(plain(pick(mine, SHAPE))).toEqual(plain(pick(node, SHAPE)));
    expect(Buffer.isBuffer(mine.raw)).toBe(true);
    const missing = Object.keys(node).filter((k) => !(k in mine));
    expect(missing).toEqual([]);
    // detailed: the issuer chain ends at the CA (Node links it to itself)
    expect(mine.issuerCertificate.fingerprint256).toBe(node.issuerCertificate.fingerprint256);
    expect(mine.issuerCertificate.issuerCertificate).toBe(mine.issuerCertificate);
    expect(cioClient.getPeerCertificate(false).issuerCertificate).toBeUndefined();
  });

  test('a cio server sees a client certificate exactly as a Node server does (multi-valued OU, email SAN)', async () => {
    const certs = {};
    const { port } = await startServer(track, mutualServer(), { onSecure: (s) => { certs.cio = s.getPeerCertificate(); s.end(); } });
    await connectClient(track, port, { ...trust, ...asClient('alice') });
    const nodePort = await nodeServer({ key: read('server.key'), cert: read('server.crt'), ca: read('ca.crt'), requestCert: true },
      (s) => { certs.node = s.getPeerCertificate(); s.end(); });
    await connectClient(track, nodePort, { ...trust, ...asClient('alice') });
    expect(plain(pick(certs.cio, SHAPE))).toEqual(plain(pick(certs.node, SHAPE)));
    expect(certs.cio.subject.OU).toEqual(['dev', 'ops']);
  });

  test('a server socket without a client certificate gives {} from getPeerCertificate()', async () => {
    let peer;
    const { port } = await startServer(track, { key: F('server.key'), cert: F('server.crt') }, { onSecure: (s) => { peer = s.getPeerCertificate(); s.end(); } });
    await connectClient(track, port, trust);
    expect(peer).toEqual({});
  });

  test('secureConnect, encrypted, getProtocol, getCipher, servername on both sides (TLS 1.3 by default)', async () => {
    let server;
    const { port } = await startServer(track, mutualServer(), { onSecure: (s) => {
      server = { encrypted: s.encrypted, protocol: s.getProtocol(), cipher: s.getCipher(), servername: s.servername };
      s.end('hi');
    } });
    const client = await secured(buildCio().client({ port, host: '127.0.0.1', ...trust, ...asClient('alice') }));
    expect(client.encrypted).toBe(true);
    expect(client.getProtocol()).toBe('TLSv1.3');
    expect(client.getCipher()).toEqual({ name: expect.stringMatching(/^TLS_(AES_\d+_GCM_SHA\d+|CHACHA20_POLY1305_SHA256)$/), standardName: expect.any(String), version: 'TLSv1.3' });
    await until(() => server !== undefined);
    expect(server).toEqual({ encrypted: true, protocol: 'TLSv1.3', cipher: client.getCipher(), servername: 'localhost' });
  });

  test('maxVersion TLSv1.2 forces TLS 1.2 with an OpenSSL cipher name, as Node\'s client reports it', async () => {
    const { port } = await startServer(track, { key: F('server.key'), cert: F('server.crt') });
    const client = await secured(buildCio().client({ port, host: '127.0.0.1', ...trust, maxVersion: 'TLSv1.2' }));
    expect(client.getProtocol()).toBe('TLSv1.2');
    const nodeClient = await secured(tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: read('ca.crt'), maxVersion: 'TLSv1.2' }));
    expect(nodeClient.getProtocol()).toBe('TLSv1.2');
    expect(client.getCipher().version).toBe('TLSv1.2');
    expect(client.getCipher().name).toMatch(/^ECDHE-RSA-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)$/);
  });

  test('a server with minVersion TLSv1.3 refuses a client capped at TLSv1.2', async () => {
    const { rec, port } = await startServer(track, { key: F('server.key'), cert: F('server.crt'), minVersion: 'TLSv1.3' });
    const out = await connectClient(track, port, { ...trust, maxVersion: 'TLSv1.2' });
    expect(out.errors.length).toBe(1);
    await until(() => rec.tlsClientErrors.length > 0);
    expect(rec.tlsClientErrors.length).toBe(1);
  });

  test('ALPNProtocols on both sides agree on the server\'s preference present in the client list', async () => {
    let serverAlpn;
    const { port } = await startServer(track, { key: F('server.key'), cert: F('server.crt'), ALPNProtocols: ['h2', 'http/1.1'] },
      { onSecure: (s) => { serverAlpn = s.alpnProtocol; s.end(); } });
    const client = await secured(buildCio().client({ port, host: '127.0.0.1', ...trust, ALPNProtocols: ['http/1.1', 'h2'] }));
    expect(client.alpnProtocol).toBe('h2');
    await until(() => serverAlpn !== undefined);
    expect(serverAlpn).toBe('h2');
    const none = await secured(buildCio().client({ port, host: '127.0.0.1', ...trust }));
    expect(none.alpnProtocol).toBe(false);
  });

  test('the server sees no servername when the client connects by IP without one', async () => {
    let name;
    const { port } = await startServer(track, { key: F('server.key'), cert: F('server.crt') }, { onSecure: (s) => { name = s.servername; s.end(); } });
    await connectClient(track, port, { ca: F('ca.crt') });
    expect(name).toBe(false);
  });

  test('isSessionReused() is false on a first connection and true on the next one from the same client options', async () => {
    const { port } = await startServer(track, { key: F('server.key'), cert: F('server.crt') });
    const cio = buildCio({ ca: F('ca.crt') });
    const first = await connectClient(track, port, { servername: 'localhost' }, { cio });
    expect(first.client.isSessionReused()).toBe(false);
    const second = await connectClient(track, port, { servername: 'localhost' }, { cio });
    expect(second.data).toBe('hi');
    expect(second.client.isSessionReused()).toBe(true);
  });
});

describe('module-level TLS options and isSecure', () => {
  test('module key/cert/ca reach every client: it verifies with the module ca and presents the module cert', async () => {
    const { rec, port } = await startServer(track, mutualServer());
    const cio = buildCio({ ca: F('ca.crt'), key: F('alice.key'), cert: F('alice.crt') });
    for (let i = 0; i < 2; i++) {
      const out = await connectClient(track, port, { servername: 'localhost' }, { cio });
      expect(out.errors).toEqual([]);
      expect(out.secure).toEqual({ authorized: true, authorizationError: null });
    }
    expect(rec.secure.map((s) => [s.authorized, s.peerCN])).toEqual([[true, 'alice'], [true, 'alice']]);
  });

  test('module key/cert/ca (aliases private/public/root) reach every server', async () => {
    const cio = buildCio({ private: F('server.key'), public: F('server.crt'), root: F('ca.crt') });
    const { rec, port } = await startServer(track, { requestCert: true }, { cio });
    const out = await connectClient(track, port, { ...trust, ...asClient('bob') });
    expect(out.data).toBe('hi');
    expect(rec.secure).toEqual([{ authorized: true, authorizationError: null, peerCN: 'bob' }]);
  });

  test('a call option overrides the module one (a wrong module ca, the right per-call ca)', async () => {
    const { port } = await startServer(track, { key: F('server.key'), cert: F('server.crt') });
    const cio = buildCio({ ca: F('wrong-ca.crt') });
    expect((await connectClient(track, port, { servername: 'localhost' }, { cio })).errors.map((e) => e.code)).toEqual(['UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
    expect((await connectClient(track, port, trust, { cio })).data).toBe('hi');
  });

  test('a client given only a ca speaks TLS, never plaintext, even to a plaintext listener', async () => {
    const firstBytes = [];
    const raw = track(net.createServer((s) => { track(s); s.once('data', (d) => { firstBytes.push(d); s.destroy(); }); }));
    await new Promise((r) => raw.listen(0, '127.0.0.1', r));
    const ways = [[buildCio(), { ca: F('ca.crt') }], [buildCio({ ca: F('ca.crt') }), {}]]; // per call, per module
    for (const [cio, options] of ways) {
      const client = track(cio.client({ port: raw.address().port, host: '127.0.0.1', servername: 'localhost', ...options }));
      client.on('error', () => {});
      client.write('plaintext secret');
      await new Promise((r) => client.on('close', r));
      expect(client.encrypted).toBe(true);
    }
    expect(firstBytes.length).toBe(2);
    for (const b of firstBytes) {
      expect(b[0]).toBe(0x16); // a TLS handshake record
      expect(b.toString('latin1')).not.toMatch(/plaintext secret/);
    }
  });
});

describe('handshake timeout', () => {
  test('a client that never sends a ClientHello is timed out with ERR_TLS_HANDSHAKE_TIMEOUT and closed', async () => {
    const { rec, port } = await startServer(track, { key: F('server.key'), cert: F('server.crt'), handshakeTimeout: 300 });
    const started = Date.now();
    await stalledClient(track, port);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await until(() => rec.tlsClientErrors.length > 0);
    expect(rec.tlsClientErrors.map((e) => e.code)).toEqual(['ERR_TLS_HANDSHAKE_TIMEOUT']);
    expect(rec.chainRuns).toBe(0);
    expect(rec.secure).toEqual([]);
  });

  test('handshakeTimeout that is not a non-negative integer is a clear failure of server()', () => {
    const result = buildCio().server({ key: F('server.key'), cert: F('server.crt'), handshakeTimeout: -5 });
    expect(result.result).toBe(false);
    expect(result.failed.reason).toMatch(/handshakeTimeout/);
  });
});
