'use strict';
// Options cio cannot honour are refused with a clear coded error, never silently ignored;
// onConnect receives the socket.
const buildCio = require('..');
const { once, listen, closeServer } = require('./helpers');
const path = require('path');

const fx = (f) => path.join(__dirname, 'fixtures', f);

describe('options', () => {
  test.each([
    ['reconnect', true],
    ['fd', 3],
  ])("the client option '%s' is refused with ERR_CIO_UNSUPPORTED_OPTION", (name, value) => {
    const cio = buildCio();
    const result = cio.client({ port: 1, host: '127.0.0.1', [name]: value });
    expect(result.failed.reason).toContain(name);
    expect(result.failed.error.code).toBe('ERR_CIO_UNSUPPORTED_OPTION');
    expect(result.failed.error.message).toContain(name);
  });

  test.each(['pfx', 'passphrase', 'ciphers', 'secureContext', 'honorCipherOrder'])(
    "the TLS option '%s' is refused with ERR_CIO_UNSUPPORTED_OPTION", (name) => {
      const cio = buildCio();
      const result = cio.server({ key: fx('server.key'), cert: fx('server.crt'), [name]: 'x' });
      expect(result.failed.error.code).toBe('ERR_CIO_UNSUPPORTED_OPTION');
      expect(result.failed.error.message).toContain(`'${name}'`);
    });

  test('reconnect: false is not a request and is accepted', async () => {
    const cio = buildCio();
    const server = cio.server({});
    const port = await listen(server);
    const client = cio.client({ port, host: '127.0.0.1', reconnect: false });
    await once(client, 'connect');
    client.destroy();
    await closeServer(server);
  });

  test('listen options cio does not implement throw a coded error', () => {
    const server = buildCio().server({});
    expect(() => server.listen({ port: 0, reusePort: true })).toThrow(
      expect.objectContaining({ code: 'ERR_CIO_UNSUPPORTED_OPTION' }));
  });

  test('TLS over an existing socket is honoured (never ignored); over a Unix path it connects', async () => {
    const { connect } = require('..');
    const net = require('net');
    const tunnel = new net.Socket();
    // Ignoring `socket` would dial host:port directly, around the tunnel: the TLS socket runs
    // over the tunnel instead (its end is the tunnel's; tls-over-stream.test.js covers the rest).
    const overTunnel = connect({ isSecure: true, socket: tunnel, host: '127.0.0.1', port: 1 });
    const failed = once(overTunnel, 'error').catch((e) => [e]);
    tunnel.destroy();
    const [gone] = await failed;
    expect(gone).toMatchObject({ code: 'ECONNRESET', message: 'Client network socket disconnected before secure TLS connection was established', port: 1 });
    expect(overTunnel.destroyed).toBe(true);
    // A TLS client over a Unix socket is built: a missing socket file fails as Node's does.
    const overPath = connect({ isSecure: true, path: '/tmp/cio-no-such.sock' });
    const [err] = await once(overPath, 'error').catch((e) => [e]);
    expect(err).toMatchObject({ code: 'ENOENT', syscall: 'connect' });
  });

  test('a client onConnect receives the connected socket', async () => {
    const cio = buildCio();
    const server = cio.server({ onConnect: (s) => s.end() });
    const port = await listen(server);
    const seen = await new Promise((resolve) => {
      const client = cio.client({ port, host: '127.0.0.1', onConnect(socket) { resolve([socket, this, client]); } });
    });
    expect(seen[0]).toBe(seen[2]);
    expect(seen[1]).toBe(seen[2]);
    seen[0].resume();
    await once(seen[0], 'close');
    await closeServer(server);
  });
});
