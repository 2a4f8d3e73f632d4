'use strict';
// Node's http2 over cio sockets: a server fed accepted sockets (emit('connection') for h2c,
// emit('secureConnection') for h2 over mutual TLS) and a client given its socket through
// http2.connect's createConnection. Every pairing of Node's and cio's sockets runs in the
// same test, Node at both ends as the yardstick.
//
// A cio socket's handle is not a libuv StreamBase, so Node's http2 wraps it in its internal
// JSStreamSocket and reads `encrypted`/`alpnProtocol` from that wrapper (Node 20,
// lib/internal/http2/core.js setupHandle). The traffic is the same as over Node's sockets; the
// session's view of the TLS layer is not (see the test.failing below and docs/libraries.md).
const http2 = require('http2');
const tls = require('tls');
const { PAIRS, TLS_SERVER, TLS_CLIENT, tracker, listen, connect, isCio } = require('./library-helpers');

let track;
beforeEach(() => { track = tracker(); });
afterEach(() => track.closeAll());

const H2_SERVER = Object.assign({}, TLS_SERVER, { ALPNProtocols: ['h2'] });

function closeSession(session) {
  if (session.closed) return Promise.resolve();
  return new Promise((resolve) => session.close(resolve));
}

/**
 * One h2 (or h2c) exchange for a pairing: two concurrent streams with request bodies, then a
 * graceful close of the client session. Returns what each side saw. `secure`: false (h2c),
 * true (the sockets' own TLS: cio's rustls or Node's OpenSSL), or 'node-tls' (Node's TLS over
 * the pairing's TCP sockets: the server is fed plain sockets, the client wraps its plain socket
 * with tls.connect({ socket })).
 */
async function exchange(serverKind, clientKind, secure) {
  const nodeTls = secure === 'node-tls';
  let server;
  if (nodeTls) server = http2.createSecureServer(H2_SERVER);
  else server = secure ? http2.createSecureServer({}) : http2.createServer();
  const sessions = [];
  server.on('session', (s) => { sessions.push(s); track({ destroy: () => s.destroy() }); });
  const serverSaw = [];
  server.on('stream', (stream, headers) => {
    const s = stream.session;
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      const peer = secure && typeof s.socket.getPeerCertificate === 'function' ? s.socket.getPeerCertificate() : undefined;
      serverSaw.push({ path: headers[':path'], len: Buffer.concat(chunks).length, alpn: s.alpnProtocol, encrypted: s.encrypted, peerCN: peer && peer.subject ? peer.subject.CN : undefined });
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.end(`ok ${headers[':path']}`);
    });
  });
  const accepted = [];
  const { port } = await listen(serverKind, {
    secure: secure === true,
    tlsOptions: H2_SERVER,
    onSocket: (socket) => {
      accepted.push(socket);
      server.emit(secure === true ? 'secureConnection' : 'connection', socket);
    },
  }, track);
  let clientSocket;
  const session = http2.connect(`${secure ? 'https' : 'http'}://localhost:${port}`, {
    createConnection: () => {
      if (nodeTls) {
        clientSocket = connect(clientKind, { port });
        return tls.connect(Object.assign({ socket: clientSocket, ALPNProtocols: ['h2'] }, TLS_CLIENT));
      }
      clientSocket = connect(clientKind, { port, secure, extra: { ALPNProtocols: ['h2'] } });
      return clientSocket;
    },
  });
  track({ destroy: () => session.destroy() });
  const errors = [];
  session.on('error', (err) => errors.push(err));
  await new Promise((resolve, reject) => {
    session.once('connect', resolve);
    session.once('error', reject);
  });
  const responses = await Promise.all([1, 2].map((i) => new Promise((resolve, reject) => {
    const req = session.request({ ':path': `/s${i}`, ':method': 'POST' });
    let text = '';
    let status;
    req.on('response', (h) => { status = h[':status']; });
    req.on('data', (d) => { text += d; });
    req.on('end', () => resolve([status, text]));
    req.on('error', reject);
    req.end(Buffer.alloc(i * 30000, 0x62));
  })));
  const peer = secure && typeof session.socket.getPeerCertificate === 'function' ? session.socket.getPeerCertificate() : undefined;
  const clientSaw = { alpn: session.alpnProtocol, encrypted: session.encrypted, peerCN: peer && peer.subject ? peer.subject.CN : undefined };
  // the sockets themselves, as the application holds them
  const socketsSaw = secure === true ? {
    client: { alpn: clientSocket.alpnProtocol, authorized: clientSocket.authorized, peerCN: clientSocket.getPeerCertificate().subject.CN },
    server: { alpn: accepted[0].alpnProtocol, authorized: accepted[0].authorized, peerCN: accepted[0].getPeerCertificate().subject.CN },
  } : undefined;
  await closeSession(session);
  await Promise.all(sessions.map(closeSession));
  expect(errors).toEqual([]);
  expect(isCio(clientSocket)).toBe(clientKind === 'cio');
  expect(isCio(accepted[0])).toBe(serverKind === 'cio');
  return { responses, serverSaw: serverSaw.sort((a, b) => a.path.localeCompare(b.path)), clientSaw, socketsSaw, connections: accepted.length };
}

describe('http2 over cio sockets', () => {
  test('h2c: two concurrent streams with bodies over one connection, sessions report h2c (every pairing)', async () => {
    for (const [serverKind, clientKind] of PAIRS) {
      const r = await exchange(serverKind, clientKind, false);
      expect(r.responses).toEqual([[200, 'ok /s1'], [200, 'ok /s2']]);
      expect(r.serverSaw).toEqual([
        { path: '/s1', len: 30000, alpn: 'h2c', encrypted: false, peerCN: undefined },
        { path: '/s2', len: 60000, alpn: 'h2c', encrypted: false, peerCN: undefined },
      ]);
      expect(r.clientSaw).toEqual({ alpn: 'h2c', encrypted: false, peerCN: undefined });
      expect(r.connections).toBe(1);
    }
  });

  test('h2 over mutual TLS: streams flow, and the sockets the application holds negotiated h2 with verified certificates on both sides (every pairing)', async () => {
    for (const [serverKind, clientKind] of PAIRS) {
      const r = await exchange(serverKind, clientKind, true);
      expect(r.responses).toEqual([[200, 'ok /s1'], [200, 'ok /s2']]);
      expect(r.serverSaw.map((s) => [s.path, s.len])).toEqual([['/s1', 30000], ['/s2', 60000]]);
      expect(r.socketsSaw).toEqual({
        client: { alpn: 'h2', authorized: true, peerCN: 'localhost' },
        server: { alpn: 'h2', authorized: true, peerCN: 'alice' },
      });
      expect(r.connections).toBe(1);
    }
  });

  test("h2 with Node's TLS over cio's TCP sockets: the sessions report alpnProtocol h2, encrypted and the peer certificates (every pairing)", async () => {
    for (const [serverKind, clientKind] of PAIRS) {
      const r = await exchange(serverKind, clientKind, 'node-tls');
      expect(r.responses).toEqual([[200, 'ok /s1'], [200, 'ok /s2']]);
      expect(r.serverSaw).toEqual([
        { path: '/s1', len: 30000, alpn: 'h2', encrypted: true, peerCN: 'alice' },
        { path: '/s2', len: 60000, alpn: 'h2', encrypted: true, peerCN: 'alice' },
      ]);
      expect(r.clientSaw).toEqual({ alpn: 'h2', encrypted: true, peerCN: 'localhost' });
      expect(r.connections).toBe(1);
    }
  });

  // Known gap (Node 20): the session reads encrypted/alpnProtocol/getPeerCertificate from the
  // JSStreamSocket it wraps a non-StreamBase socket in, which has none of them, so a session
  // over a cio TLS socket reports 'h2c', encrypted false and no peer certificate. Kept as
  // test.failing: it starts passing (and so fails) the day the session sees the TLS layer.
  test.failing('h2 over mutual TLS: the sessions report alpnProtocol h2, encrypted and the peer certificate as over Node sockets (every pairing)', async () => {
    for (const [serverKind, clientKind] of PAIRS) {
      const r = await exchange(serverKind, clientKind, true);
      expect({ pairing: `${serverKind}/${clientKind}`, server: r.serverSaw[0], client: r.clientSaw }).toEqual({
        pairing: `${serverKind}/${clientKind}`,
        server: { path: '/s1', len: 30000, alpn: 'h2', encrypted: true, peerCN: 'alice' },
        client: { alpn: 'h2', encrypted: true, peerCN: 'localhost' },
      });
    }
  });
});
