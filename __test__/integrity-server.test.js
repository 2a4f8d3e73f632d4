'use strict';
// Integrity of servers (issue 10, items 2 and 3), cio and Node's own `tls`/`net` side by side:
// close() lets connections the server already accepted finish, and a client resetting (or
// just leaving right after its handshake) never crashes a TLS server nor leaves errors behind.
// The scenarios live in tools/server-integrity.js; the ones that need the runtime path
// (CIO_IO=tokio) or that could crash the server run in a child process.
const path = require('path');
const { execFile } = require('child_process');
const scenarios = require('./tools/server-integrity');

const TOOL = path.join(__dirname, 'tools', 'server-integrity.js');

/** Runs one scenario in a child process; resolves to { status, rec, stderr }. */
function inChild(name, impl, arg = {}, env = {}) {
  return new Promise((resolve) => {
    execFile(process.execPath, [TOOL, name, impl, JSON.stringify(arg)], { env: Object.assign({}, process.env, env), timeout: 20000 },
      (err, stdout, stderr) => {
        const lines = String(stdout).trim().split('\n');
        let rec = null;
        try {
          rec = JSON.parse(lines[lines.length - 1]);
        } catch {
          rec = null;
        }
        resolve({ status: err ? (err.code === undefined ? 'killed' : err.code) : 0, rec, stderr: String(stderr) });
      });
  });
}

function expectClean(run, what) {
  if (run.status !== 0 || !run.rec) throw new Error(`${what}: the child exited with ${run.status}\n${run.stderr}`);
  return run.rec;
}

const SERVED = {
  secureConnect: true,
  secureConnection: 1,
  clientData: 'from server',
  clientErrors: [],
  tlsClientErrors: [],
  socketClosedBeforeServerClose: true,
};

describe('server.close() lets the connections it already accepted finish (issue 10, item 2)', () => {
  test('a TLS connection still in its handshake at close() is announced, gets the server\'s data, and \'close\' waits for it (TLS 1.3 and 1.2, as Node)', async () => {
    for (const maxVersion of ['TLSv1.3', 'TLSv1.2']) {
      for (let i = 0; i < 3; i++) {
        const node = await scenarios.closeDuringHandshake('node', { maxVersion });
        const cio = await scenarios.closeDuringHandshake('cio', { maxVersion });
        expect(node).toEqual(SERVED);
        expect(cio).toEqual(node);
      }
    }
  }, 30000);

  test('a TLS server on a Unix socket does the same (as Node)', async () => {
    const node = await scenarios.closeDuringHandshake('node', { unix: true });
    const cio = await scenarios.closeDuringHandshake('cio', { unix: true });
    expect(node).toEqual(SERVED);
    expect(cio).toEqual(node);
  }, 15000);

  test('a plain server closed from its client\'s connect callback serves that connection or refuses it, never accepts and drops it (as Node)', async () => {
    for (const impl of ['node', 'cio']) {
      for (const unix of [false, true]) {
        const rec = await scenarios.closeDuringAccept(impl, { unix });
        const served = rec.connection === 1 && rec.clientData === 'from server' && rec.clientErrors.length === 0;
        const refused = rec.connection === 0 && rec.clientData === '' && rec.clientErrors.includes('ECONNRESET');
        expect({ impl, unix, rec, ok: served || refused }).toEqual({ impl, unix, rec, ok: true });
      }
    }
  }, 15000);

  test('on the runtime path (CIO_IO=tokio), TLS, Unix-socket TLS and plain TCP servers keep connections accepted before close()', async () => {
    const env = { CIO_IO: 'tokio' };
    expect(expectClean(await inChild('closeDuringHandshake', 'cio', {}, env), 'TLS')).toEqual(SERVED);
    expect(expectClean(await inChild('closeDuringHandshake', 'cio', { unix: true }, env), 'TLS over a Unix socket')).toEqual(SERVED);
    expect(expectClean(await inChild('closeDuringHandshake', 'cio', { maxVersion: 'TLSv1.2' }, env), 'TLS 1.2')).toEqual(SERVED);
    // close() while the runtime holds an accepted connection whose CONNECTION event has not
    // reached JavaScript yet: it is served (before the fix it was closed without a word).
    const plain = expectClean(await inChild('closeDuringAccept', 'cio', { waitForAccept: true }, env), 'plain TCP');
    expect(plain).toEqual({ connection: 1, clientData: 'from server', clientErrors: [], acceptedBeforeClose: true });
  }, 30000);

  test('with maxConnections reached, a TLS connection over the limit is dropped at its TCP accept (\'drop\', its handshake fails with ECONNRESET) and \'close\' waits for the open one (as Node)', async () => {
    const expected = { secureConnection: 1, drops: 1, aData: 'echo after close', bData: '', bSecure: false, bError: 'ECONNRESET', aClosedBeforeServerClose: true };
    const node = await scenarios.closeAtMaxConnections('node');
    const cio = await scenarios.closeAtMaxConnections('cio');
    expect(node).toEqual(expected);
    expect(cio).toEqual(node);
    expect(expectClean(await inChild('closeAtMaxConnections', 'cio', {}, { CIO_IO: 'tokio' }), 'runtime path')).toEqual(expected);
  }, 30000);
});

describe('a client resetting or leaving a TLS connection never crashes the server (issue 10, item 3)', () => {
  const only = (codes, allowed) => codes.every((c) => allowed.includes(c));

  // What Node's server reports for a client that resets before 'secureConnection'.
  const RESET_BEFORE = { tlsClientErrors: ['ECONNRESET'], secureConnection: 0, socketErrors: [], socketClosed: false };

  test('a reset before the ClientHello or during the handshake is one \'tlsClientError\' ECONNRESET (as Node)', async () => {
    const node = expectClean(await inChild('resetAt', 'node', { stage: 'connect' }), 'node connect');
    const cio = expectClean(await inChild('resetAt', 'cio', { stage: 'connect' }), 'cio connect');
    expect(node).toEqual(RESET_BEFORE);
    expect(cio).toEqual(node);
    // At the client's 'secureConnect' the server is (as measured, always) still in its
    // handshake; were it already done, the reset would come after 'secureConnection' instead.
    // Either way one of the two, and never a crash.
    const after = { tlsClientErrors: [], secureConnection: 1, socketErrors: [], socketClosed: true };
    for (const impl of ['node', 'cio']) {
      const rec = expectClean(await inChild('resetAt', impl, { stage: 'secureConnect' }), `${impl} secureConnect`);
      expect([RESET_BEFORE, after]).toContainEqual(rec);
    }
  }, 30000);

  test('a reset or hang-up while the server-client chain holds the connection back is one \'tlsClientError\' and no \'secureConnection\' (as a reset before Node\'s \'secureConnection\')', async () => {
    expect(expectClean(await inChild('resetAt', 'cio', { stage: 'chain' }), 'cio, reset')).toEqual(RESET_BEFORE);
    // A clean end at that point is Node's "socket hang up" (ECONNRESET) too.
    expect(expectClean(await inChild('resetAt', 'cio', { stage: 'chain-end' }), 'cio, clean end')).toEqual(RESET_BEFORE);
  }, 20000);

  test('a reset after \'secureConnection\' reaches the application\'s \'error\' listener as ECONNRESET, and without one the server does not crash (as Node)', async () => {
    for (const listener of [true, false]) {
      for (const impl of ['node', 'cio']) {
        const rec = expectClean(await inChild('resetAt', impl, { stage: 'after', listener }), `${impl} listener=${listener}`);
        expect({ impl, listener, secureConnection: rec.secureConnection, tlsClientErrors: rec.tlsClientErrors, socketClosed: rec.socketClosed })
          .toEqual({ impl, listener, secureConnection: 1, tlsClientErrors: [], socketClosed: true });
        expect(rec.socketErrors.length <= 1 && only(rec.socketErrors, ['ECONNRESET'])).toBe(true);
        if (!listener) expect(rec.socketErrors).toEqual([]);
      }
    }
  }, 30000);

  test('clients that destroy themselves right after \'secureConnect\' leave no error on either side, cio and Node in every pairing (20 each)', async () => {
    const REPS = 20;
    for (const serverImpl of ['node', 'cio']) {
      for (const clientImpl of ['node', 'cio']) {
        const rec = await scenarios.destroyAtSecureConnect(serverImpl, clientImpl, REPS);
        const pairing = `${clientImpl} client -> ${serverImpl} server`;
        expect({ pairing, clientErrors: rec.clientErrors, serverSocketErrors: rec.serverSocketErrors, stillOpen: rec.stillOpen })
          .toEqual({ pairing, clientErrors: [], serverSocketErrors: [], stillOpen: 0 });
        if (clientImpl === 'cio') {
          // A cio client finished its handshake before 'secureConnect': the server sees a
          // complete connection and then a clean close, never a reset.
          expect({ pairing, secureConnection: rec.secureConnection, tlsClientErrors: rec.tlsClientErrors })
            .toEqual({ pairing, secureConnection: REPS, tlsClientErrors: [] });
        } else {
          // Node's client may leave before its Finished went out: Node's server and cio's both
          // report that as 'tlsClientError' (never as a socket error).
          expect(rec.secureConnection + rec.tlsClientErrors.length).toBe(REPS);
          expect(only(rec.tlsClientErrors, ['ECONNRESET'])).toBe(true);
        }
      }
    }
  }, 60000);
});
