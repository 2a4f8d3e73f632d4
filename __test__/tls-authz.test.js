'use strict';
// Client authentication on mutual-TLS servers built with cio: isClientAllowed / rejectClient /
// the default rejection (cio/authenticate-client, in JavaScript after the handshake) and the
// native allowClients / denyClients lists (during the handshake, before any JavaScript runs).
const { F, tracker, mutualServer, asClient, startServer, connectClient, until, buildCio } = require('./tls-helpers');

const track = tracker();
afterEach(() => track.closeAll());

const trustServer = { ca: F('ca.crt'), servername: 'localhost' };
const clientAs = (who) => Object.assign({}, trustServer, asClient(who));

/** A user server-client listener after cio/authenticate-client: it must never see a rejected client. */
function watchAfterAuth(cio, seen) {
  const watch = function watchClient() {
    seen.push(this.serverClient);
    this.serverClient.on('data', (d) => seen.push(String(d)));
  };
  watch.options = { id: 'test/after-auth', after: ['cio/authenticate-client'] };
  cio.onServerClient(watch);
}

describe('isClientAllowed and the default rejection', () => {
  test('isClientAllowed receives the subject CN and the peer certificate in Node\'s shape', async () => {
    const calls = [];
    const { rec, port } = await startServer(track, mutualServer({
      isClientAllowed(name, peer) { calls.push([name, peer.subject.CN, peer.issuer.CN, typeof peer.fingerprint256]); return true; },
    }));
    const out = await connectClient(track, port, clientAs('alice'));
    expect(out.data).toBe('hi');
    expect(calls).toEqual([['alice', 'alice', 'cio test CA', 'string']]);
    expect(rec.secure.map((s) => s.peerCN)).toEqual(['alice']);
  });

  test('a rejected client never reaches secureConnection and none of its bytes reach user code', async () => {
    const cio = buildCio();
    const seenAfterAuth = [];
    watchAfterAuth(cio, seenAfterAuth);
    const { server, rec, port } = await startServer(track, mutualServer({ isClientAllowed: (name) => name !== 'bob' }), { cio });
    const out = await connectClient(track, port, clientAs('bob'), { send: 'secret bytes from bob' });
    await until(() => rec.rejected.length > 0);
    expect(rec.rejected.map((r) => r.name)).toEqual(['bob']);
    expect(rec.rejected[0].peer.subject.CN).toBe('bob');
    expect(rec.secure).toEqual([]);
    expect(rec.data).toEqual([]);
    expect(seenAfterAuth).toEqual([]);
    expect(rec.chainRuns).toBe(1);
    expect(out.data).toBe('');
    expect(out.client.destroyed).toBe(true);
    // the server keeps serving others
    const ok = await connectClient(track, port, clientAs('alice'));
    expect(ok.data).toBe('hi');
    expect(rec.secure.map((s) => s.peerCN)).toEqual(['alice']);
    expect(server.listening).toBe(true);
  });

  test('the default rejection emits ERR_CIO_CLIENT_REJECTED on the socket when someone listens, then closes it', async () => {
    const cio = buildCio();
    const socketErrors = [];
    const closed = [];
    const listen = function listenForErrors() {
      const socket = this.serverClient;
      socket.on('error', (e) => socketErrors.push([e.message, e.code]));
      socket.on('close', () => closed.push(true));
    };
    listen.options = { id: 'test/listen-errors', before: ['cio/authenticate-client'] };
    cio.onServerClient(listen);
    const { rec, port } = await startServer(track, mutualServer({ isClientAllowed: () => false }), { cio });
    await connectClient(track, port, clientAs('bob'));
    await until(() => closed.length > 0);
    expect(socketErrors).toEqual([['Client Rejected: bob', 'ERR_CIO_CLIENT_REJECTED']]);
    expect(rec.rejected.map((r) => r.name)).toEqual(['bob']);
  });

  test('the default rejection does not crash when nobody listens for error on the socket', async () => {
    const uncaught = [];
    const onUncaught = (e) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const { rec, port } = await startServer(track, mutualServer({ isClientAllowed: () => false }));
      const out = await connectClient(track, port, clientAs('alice'));
      await until(() => rec.rejected.length > 0);
      expect(out.data).toBe('');
      expect(rec.rejected.map((r) => r.name)).toEqual(['alice']);
      expect(uncaught).toEqual([]);
    } finally {
      process.removeListener('uncaughtException', onUncaught);
    }
  });

  test('rejectClient replaces the default rejection; the client gets only what it sends', async () => {
    const calls = [];
    const { rec, port } = await startServer(track, mutualServer({
      isClientAllowed: (name) => name === 'alice',
      rejectClient(socket, name, peer) {
        calls.push([name, peer.subject.CN]);
        socket.end('go away ' + name);
      },
    }));
    const out = await connectClient(track, port, clientAs('bob'), { send: 'hello?' });
    expect(out.data).toBe('go away bob');
    expect(calls).toEqual([['bob', 'bob']]);
    expect(rec.secure).toEqual([]);
    expect(rec.data).toEqual([]);
    expect(rec.rejected.map((r) => r.name)).toEqual(['bob']);
  });

  test('a plaintext server ignores isClientAllowed (authentication is only for secure servers)', async () => {
    const calls = [];
    const cio = buildCio();
    const server = track(cio.server({ isClientAllowed: () => { calls.push(1); return false; } }));
    const seen = new Promise((resolve) => server.on('connection', (s) => { track(s); s.end('plain'); resolve(); }));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const client = track(cio.client({ port: server.address().port, host: '127.0.0.1' }));
    client.resume();
    await seen;
    await new Promise((r) => client.on('close', r));
    expect(calls).toEqual([]);
  });
});

describe('allowClients / denyClients, enforced during the handshake', () => {
  const cases = [
    ['an exact allow admits that name', { allowClients: ['alice'] }, 'alice', true],
    ['an exact allow refuses other names', { allowClients: ['alice'] }, 'bob', false],
    ['a glob allow admits matching CNs', { allowClients: ['al*'] }, 'alice', true],
    ['a glob allow refuses non-matching CNs', { allowClients: ['al*'] }, 'bob', false],
    ['a glob matches a DNS subjectAltName', { allowClients: ['*.example'] }, 'alice', true],
    ['an exact email subjectAltName is allowed', { allowClients: ['alice@example.com'] }, 'alice', true],
    ['an exact deny refuses that name', { denyClients: ['bob'] }, 'bob', false],
    ['a deny list admits everyone else', { denyClients: ['bob'] }, 'alice', true],
    ['a glob deny refuses matching names', { denyClients: ['b*'] }, 'bob', false],
    ['deny wins over allow', { allowClients: ['*'], denyClients: ['alice'] }, 'alice', false],
    ['deny wins over an exact allow of the same name', { allowClients: ['bob'], denyClients: ['b?b', 'bo*'] }, 'bob', false],
    ['allow with deny of someone else admits', { allowClients: ['*'], denyClients: ['bob'] }, 'alice', true],
  ];

  test.each(cases)('%s', async (_name, lists, who, admitted) => {
    const cio = buildCio();
    const seenAfterAuth = [];
    watchAfterAuth(cio, seenAfterAuth);
    const { rec, port } = await startServer(track, mutualServer(lists), { cio });
    const out = await connectClient(track, port, clientAs(who), { send: 'payload' });
    if (admitted) {
      expect(out.data).toBe('hi');
      expect(rec.secure.map((s) => s.peerCN)).toEqual([who]);
      expect(rec.chainRuns).toBe(1);
    } else {
      await until(() => rec.tlsClientErrors.length > 0);
      // never reached JavaScript on the server: only 'tlsClientError'
      expect(rec.tlsClientErrors.map((e) => e.code)).toEqual(['ERR_CIO_CLIENT_REJECTED']);
      expect(rec.tlsClientErrors[0].message).toMatch(new RegExp(`^Client Rejected: ${who}`));
      expect(rec.chainRuns).toBe(0);
      expect(rec.secure).toEqual([]);
      expect(rec.rejected).toEqual([]);
      expect(rec.data).toEqual([]);
      expect(seenAfterAuth).toEqual([]);
      expect(out.data).toBe('');
      expect(out.errors.length).toBe(1);
    }
  });

  test('an allow list refuses a client that sends no certificate (requestCert, rejectUnauthorized false)', async () => {
    const { rec, port } = await startServer(track, mutualServer({ rejectUnauthorized: false, allowClients: ['*'] }));
    const out = await connectClient(track, port, trustServer);
    await until(() => rec.tlsClientErrors.length > 0);
    expect(rec.tlsClientErrors.map((e) => e.code)).toEqual(['ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE']);
    expect(rec.secure).toEqual([]);
    expect(rec.chainRuns).toBe(0);
    expect(out.data).toBe('');
  });

  test('allowClients that is not an array of strings is a clear failure of server()', () => {
    const result = buildCio().server(mutualServer({ allowClients: 'alice' }));
    expect(result.result).toBe(false);
    expect(result.failed.error.code).toBe('ERR_INVALID_ARG_TYPE');
    expect(result.failed.error.message).toMatch(/allowClients/);
  });
});
