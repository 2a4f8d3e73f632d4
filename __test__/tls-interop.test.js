'use strict';
// Interop with TLS peers nobody here wrote: Node's own tls in both directions, and
// `openssl s_client` / `openssl s_server` spawned on loopback. Each exchanges bytes over mutual TLS.
const tls = require('tls');
const { spawn } = require('child_process');
const { F, read, tracker, mutualServer, asClient, startServer, connectClient, withFreePort, opensslServer, until, buildCio } = require('./tls-helpers');

const track = tracker();
afterEach(() => track.closeAll());

/** cio server handler: answer the first chunk with 'cio got <chunk>' and end. */
const echoOnce = (socket) => socket.once('data', (d) => socket.end('cio got ' + d));

describe('Node tls peers', () => {
  test('a Node tls client completes mutual TLS with a cio server and exchanges bytes', async () => {
    const { rec, port } = await startServer(track, mutualServer(), { onSecure: echoOnce });
    const client = track(tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: read('ca.crt'), cert: read('alice.crt'), key: read('alice.key') }));
    let data = '';
    client.on('data', (d) => { data += d; });
    await new Promise((resolve, reject) => { client.on('secureConnect', resolve); client.on('error', reject); });
    expect(client.authorized).toBe(true);
    expect(client.getPeerCertificate().subject.CN).toBe('localhost');
    client.write('ping');
    await new Promise((r) => client.on('close', r));
    expect(data).toBe('cio got ping');
    expect(rec.secure).toEqual([{ authorized: true, authorizationError: null, peerCN: 'alice' }]);
  });

  test('a Node tls client without a certificate is refused by a cio mutual-TLS server', async () => {
    const { rec, port } = await startServer(track, mutualServer());
    const client = track(tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: read('ca.crt') }));
    client.on('error', () => {});
    client.on('data', () => {});
    await new Promise((r) => client.on('close', r));
    await until(() => rec.tlsClientErrors.length > 0);
    expect(rec.tlsClientErrors.map((e) => e.code)).toEqual(['ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE']);
    expect(rec.secure).toEqual([]);
  });

  test('a cio client completes mutual TLS with a Node tls server and exchanges bytes', async () => {
    const seen = [];
    const server = track(tls.createServer({ key: read('server.key'), cert: read('server.crt'), ca: read('ca.crt'), requestCert: true, rejectUnauthorized: true }, (s) => {
      track(s);
      seen.push([s.authorized, s.getPeerCertificate().subject.CN]);
      s.once('data', (d) => s.end('node got ' + d));
    }));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const out = await connectClient(track, server.address().port, Object.assign({ ca: F('ca.crt'), servername: 'localhost', onConnect: (c) => c.write('ping') }, asClient('alice')));
    expect(out.errors).toEqual([]);
    expect(out.secure).toEqual({ authorized: true, authorizationError: null });
    expect(out.data).toBe('node got ping');
    expect(seen).toEqual([[true, 'alice']]);
  });
});

describe('openssl peers', () => {
  test('a cio client completes mutual TLS with openssl s_server and exchanges bytes both ways', async () => {
    const { child, out, port } = await withFreePort((port) => opensslServer(track, port, [
      '-cert', F('server.crt'), '-key', F('server.key'), '-CAfile', F('ca.crt'), '-Verify', '1', '-verify_return_error',
    ]).then((r) => Object.assign(r, { port })));
    const client = track(buildCio().client(Object.assign({ port, host: '127.0.0.1', ca: F('ca.crt'), servername: 'localhost' }, asClient('alice'))));
    let data = '';
    client.on('data', (d) => { data += d; });
    await new Promise((resolve, reject) => { client.on('secureConnect', resolve); client.on('error', reject); });
    expect(client.authorized).toBe(true);
    client.write('from-cio\n');
    expect(await until(() => out.stdout.includes('from-cio'))).toBe(true);
    child.stdin.write('from-openssl\n');
    expect(await until(() => data.includes('from-openssl'))).toBe(true);
    client.end();
    await out.exited;
    expect(out.stdout).toMatch(/subject=.*CN\s*=\s*alice/);
  });

  test('openssl s_client completes mutual TLS with a cio server and exchanges bytes both ways', async () => {
    const { rec, port } = await startServer(track, mutualServer(), { onSecure: echoOnce });
    const child = track(spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost',
      '-cert', F('alice.crt'), '-key', F('alice.key'), '-CAfile', F('ca.crt'), '-verify_return_error', '-verify_hostname', 'localhost', '-quiet']));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.stdin.end('from-openssl\n');
    const code = await new Promise((r) => child.on('exit', r));
    expect(stdout).toBe('cio got from-openssl\n');
    expect(code).toBe(0);
    expect(stderr).toMatch(/verify return:1/);
    expect(rec.secure).toEqual([{ authorized: true, authorizationError: null, peerCN: 'alice' }]);
    expect(rec.data.join('')).toBe('from-openssl\n');
  });

  test('openssl s_client with a client certificate from the wrong CA is refused by a cio server', async () => {
    const { rec, port } = await startServer(track, mutualServer());
    const child = track(spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost',
      '-cert', F('mallory.crt'), '-key', F('mallory.key'), '-CAfile', F('ca.crt'), '-quiet']));
    child.stdout.on('data', () => {});
    child.stderr.on('data', () => {});
    child.stdin.end('hello\n');
    await new Promise((r) => child.on('exit', r));
    await until(() => rec.tlsClientErrors.length > 0);
    expect(rec.tlsClientErrors.length).toBe(1);
    expect(rec.secure).toEqual([]);
    expect(rec.chainRuns).toBe(0);
  });
});
