'use strict';
// TLS options are checked as Node's tls checks them, with Node's codes and messages, before
// anything reaches the native side or the wire; the same calls are made on Node's tls and on
// cio's in each test.
const net = require('net');
const tls = require('tls');
const cio = require('..');
const { F, read, tracker, buildCio } = require('./tls-helpers');

const track = tracker();
afterEach(() => track.closeAll());

const key = read('server.key');
const cert = read('server.crt');

/** The error a call throws, as [code, message], or 'no error' (a socket made is destroyed). */
function outcome(fn) {
  try {
    const made = fn();
    if (made && typeof made.destroy === 'function') {
      made.on('error', () => {});
      made.destroy();
    }
    if (made && typeof made.close === 'function') made.close();
    return 'no error';
  } catch (err) {
    return [err.code, err.message];
  }
}

// Node sets the servername after it started connecting, so a call that throws there would leave
// a connecting socket behind: Node's calls get an unconnected socket of their own instead.
const nodeConnect = (o) => tls.connect({ socket: new net.Socket(), ...o });
const cioConnect = (o) => cio.connect({ port: 9, host: '127.0.0.1', isSecure: true, ...o });
const nodeServer = (o) => tls.createServer({ key, cert, ...o });
const cioServer = (o) => cio.createServer({ key, cert, isSecure: true, ...o });

describe('ALPNProtocols and servername are validated like Node\'s tls', () => {
  test.each([
    ['a protocol name over 255 bytes', { ALPNProtocols: ['h2', 'a'.repeat(256)] }],
    ['a protocol name that is not a string or Buffer', { ALPNProtocols: [5] }],
    ['a servername that is not a string', { servername: 5 }],
  ])('client: %s throws Node\'s error synchronously', (_name, options) => {
    const node = outcome(() => nodeConnect(options));
    expect(node).not.toBe('no error');
    expect(outcome(() => cioConnect(options))).toEqual(node);
  });

  test('server: a protocol name over 255 bytes throws Node\'s error', () => {
    const options = { ALPNProtocols: ['a'.repeat(300)] };
    const node = outcome(() => nodeServer(options));
    expect(node).not.toBe('no error');
    expect(outcome(() => cioServer(options))).toEqual(node);
  });

  test('cio.client() reports a bad ALPN list as a failed run carrying the same coded error', () => {
    const result = buildCio().client({ port: 9, host: '127.0.0.1', ca: F('ca.crt'), ALPNProtocols: ['a'.repeat(256)] });
    expect(result.failed.error.code).toBe('ERR_OUT_OF_RANGE');
  });

  test('ALPNProtocols as one Buffer is Node\'s wire format (length-prefixed names), negotiated like Node', async () => {
    const wire = Buffer.from('\x08http/1.1\x02h2', 'latin1');
    const negotiate = async (server) => {
      track(server);
      server.on('secureConnection', (s) => s.end());
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const client = track(tls.connect({ port: server.address().port, host: '127.0.0.1', ca: read('ca.crt'), servername: 'localhost', ALPNProtocols: ['h2'] }));
      await new Promise((resolve, reject) => { client.once('secureConnect', resolve); client.once('error', reject); });
      return client.alpnProtocol;
    };
    const node = await negotiate(nodeServer({ ALPNProtocols: wire }));
    const ours = await negotiate(cioServer({ ALPNProtocols: wire }));
    expect(node).toBe('h2');
    expect(ours).toBe(node);
    expect(outcome(() => cioServer({ ALPNProtocols: Buffer.from([5, 0x68]) }))[0]).toBe('ERR_INVALID_ARG_VALUE');
  });
});

// The same scenario run once with Node's tls and once with cio's: what each observes must agree.
const os = require('os');
const path = require('path');
let sockSeq = 0;
const sockPath = () => path.join(os.tmpdir(), `cio-parity-${process.pid}-${++sockSeq}.sock`);
const libs = {
  node: { server: (o, l) => tls.createServer(o, l), connect: (o, cb) => tls.connect(o, cb) },
  cio: { server: (o, l) => cio.createServer({ ...o, isSecure: true }, l), connect: (o, cb) => cio.connect({ ...o, isSecure: true }, cb) },
};
const listening = (server, ...args) => new Promise((resolve) => server.listen(...args, resolve));

/** Reads a client to its end: { data, authorized, protocol } or { error: [code, message] }. */
function outcomeOf(client) {
  return new Promise((resolve) => {
    let data = '';
    client.on('data', (d) => { data += d; });
    client.on('end', () => resolve({ data, authorized: client.authorized, protocol: client.getProtocol() }));
    client.on('error', (err) => resolve({ error: [err.code, err.message] }));
  });
}

describe('tls.connect({ path }): a TLS client over a Unix domain socket', () => {
  test.each(['node', 'cio'].map((server) => [server]))('against a %s TLS server on a Unix socket, Node and cio clients agree', async (serverLib) => {
    const p = sockPath();
    const server = track(libs[serverLib].server({ key, cert }, (s) => s.end('over a pipe')));
    await listening(server, p);
    const results = {};
    for (const lib of ['node', 'cio']) {
      // host and port are ignored when path is given (Node's test-tls-net-connect-prefer-path)
      const client = track(libs[lib].connect({ path: p, host: '127.0.0.1', port: 9, ca: read('ca.crt'), servername: 'localhost' }));
      results[lib] = await outcomeOf(client);
    }
    expect(results.node).toEqual({ data: 'over a pipe', authorized: true, protocol: 'TLSv1.3' });
    expect(results.cio).toEqual(results.node);
  });

  test('a peer that hangs up before the handshake: the same ECONNRESET, carrying the path', async () => {
    const p = sockPath();
    const server = track(net.createServer((c) => track(c).end()));
    await listening(server, p);
    const results = {};
    for (const lib of ['node', 'cio']) {
      const client = track(libs[lib].connect({ path: p }));
      results[lib] = await new Promise((resolve) => client.once('error', (e) => resolve({
        code: e.code, message: e.message, path: e.path, host: e.host, port: e.port, localAddress: e.localAddress,
      })));
    }
    expect(results.node.code).toBe('ECONNRESET');
    expect(results.node.path).toBe(p);
    expect(results.cio).toEqual(results.node);
  });

  test('a certificate the client does not trust fails over a Unix socket as over TCP', async () => {
    const p = sockPath();
    const server = track(tls.createServer({ key, cert }, (s) => s.end()));
    server.on('tlsClientError', () => {});
    await listening(server, p);
    const results = {};
    for (const lib of ['node', 'cio']) {
      results[lib] = await outcomeOf(track(libs[lib].connect({ path: p, servername: 'localhost' })));
    }
    expect(results.node.error).toBeDefined();
    expect(results.cio.error[0]).toBe(results.node.error[0]);
  });
});

/**
 * Runs `client(port)` against `server` (listening on 127.0.0.1) and resolves with what both
 * sides report: the server's 'tlsClientError' and the client's 'error' (code, reason).
 */
async function failedHandshake(server, client) {
  track(server);
  await listening(server, 0, '127.0.0.1');
  const seen = {};
  const serverSide = new Promise((resolve) => server.once('tlsClientError', (e) => resolve({ code: e.code, library: e.library, reason: e.reason })));
  const c = track(client(server.address().port));
  const clientSide = new Promise((resolve) => c.once('error', (e) => resolve(e.code)));
  seen.server = await serverSide;
  seen.client = await clientSide;
  return seen;
}

describe('tls.createServer() without key and cert: made, and each handshake fails as in Node', () => {
  test.each([['TLSv1.3'], ['TLSv1.2']])('a client offering up to %s', async (maxVersion) => {
    const results = {};
    for (const lib of ['node', 'cio']) {
      results[lib] = await failedHandshake(libs[lib].server({}), (port) => libs[lib].connect({ port, host: '127.0.0.1', rejectUnauthorized: false, maxVersion }));
    }
    expect(results.node.client).toBe('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE');
    expect(results.cio).toEqual(results.node);
  });

  test('bytes that are not TLS: the same \'tlsClientError\' (wrong version number)', async () => {
    const results = {};
    for (const lib of ['node', 'cio']) {
      const server = track(libs[lib].server({}));
      await listening(server, 0, '127.0.0.1');
      const c = track(net.connect(server.address().port, '127.0.0.1', () => c.write(Buffer.alloc(1024, 42))));
      c.on('error', () => {});
      results[lib] = await new Promise((resolve) => server.once('tlsClientError', (e) => resolve({
        code: e.code, library: e.library, reason: e.reason, message: /SSL routines:[^:]*:wrong version number/.test(e.message),
      })));
    }
    expect(results.node).toEqual({ code: 'ERR_SSL_WRONG_VERSION_NUMBER', library: 'SSL routines', reason: 'wrong version number', message: true });
    expect(results.cio).toEqual(results.node);
  });
});

describe('ca material as Node reads it', () => {
  /** A client of `lib` with `options` against a Node server with `serverOptions`: what it sees. */
  async function clientSees(lib, options, serverOptions = {}) {
    const server = track(tls.createServer({ key, cert, ...serverOptions }, (s) => s.end('ok')));
    server.on('tlsClientError', () => {});
    await listening(server, 0, '127.0.0.1');
    const client = track(libs[lib].connect({ port: server.address().port, host: '127.0.0.1', servername: 'localhost', ...options }));
    const seen = await outcomeOf(client);
    return seen.error ? { error: seen.error[0] } : seen;
  }

  test('a ca holding no certificate (a private key) is ignored, on a server as on a client', async () => {
    // server side (test-tls-cnnic-whitelist): made, serving as without that ca
    const server = { ca: key };
    const node = await clientSees('node', { ca: read('ca.crt') }, server);
    expect(node.data).toBe('ok');
    const server2 = track(cio.createServer({ key, cert, ca: key, isSecure: true }, (s) => s.end('ok')));
    await listening(server2, 0, '127.0.0.1');
    const viaCio = await outcomeOf(track(tls.connect({ port: server2.address().port, host: '127.0.0.1', servername: 'localhost', ca: read('ca.crt') })));
    expect(viaCio).toEqual(node);
    // client side: the given ca still replaces the default roots, so nothing is trusted
    const results = {};
    for (const lib of ['node', 'cio']) results[lib] = await clientSees(lib, { ca: key });
    expect(results.node).toEqual({ error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(results.cio).toEqual(results.node);
  });

  test('a TRUSTED CERTIFICATE block in ca is trusted as the certificate it holds', async () => {
    const trusted = require('child_process').execFileSync('openssl', ['x509', '-in', F('ca.crt'), '-addtrust', 'serverAuth', '-trustout']);
    expect(trusted.toString()).toMatch(/BEGIN TRUSTED CERTIFICATE/);
    const results = {};
    for (const lib of ['node', 'cio']) results[lib] = await clientSees(lib, { ca: trusted });
    expect(results.node).toEqual({ data: 'ok', authorized: true, protocol: 'TLSv1.3' });
    expect(results.cio).toEqual(results.node);
  });
});

describe('a TLS server\'s \'connection\': the raw TCP accept, before the handshake, as Node\'s tls.Server', () => {
  /** One connection to a `lib` server whose 'connection' listener runs `onRaw`: the events seen, in order. */
  async function run(lib, onRaw) {
    const events = [];
    const server = track(libs[lib].server({ key, cert }, (s) => { events.push('secureConnection'); s.end('hi'); }));
    server.on('connection', (raw) => {
      events.push('connection');
      const a = { remoteAddress: raw.remoteAddress, remoteFamily: raw.remoteFamily, localPort: raw.localPort, remotePort: typeof raw.remotePort };
      events.push(a);
      onRaw(raw);
    });
    server.on('tlsClientError', (e) => events.push(`tlsClientError ${e.code} ${e.message}`));
    await listening(server, 0, '127.0.0.1');
    const port = server.address().port;
    const client = track(tls.connect({ port, host: '127.0.0.1', ca: read('ca.crt'), servername: 'localhost' }));
    const seen = await new Promise((resolve) => {
      let data = '';
      let error;
      client.on('data', (d) => { data += d; });
      client.on('error', (e) => { error = e.code; });
      client.on('close', () => resolve(error ? `client ${error}` : `client ${data}`));
    });
    events.push(seen);
    // the local port of the raw socket is the server's
    for (const e of events) if (typeof e === 'object') e.localPort = e.localPort === port;
    return events;
  }

  test('announced before the handshake, with the connection\'s endpoints', async () => {
    const node = await run('node', () => {});
    expect(node).toEqual(['connection', { remoteAddress: '127.0.0.1', remoteFamily: 'IPv4', localPort: true, remotePort: 'number' }, 'secureConnection', 'client hi']);
    expect(await run('cio', () => {})).toEqual(node);
  });

  test('destroying it aborts the handshake: tlsClientError ECONNRESET, the client\'s ECONNRESET', async () => {
    const node = await run('node', (raw) => raw.destroy());
    expect(node).toContain('tlsClientError ECONNRESET socket hang up');
    expect(node[node.length - 1]).toBe('client ECONNRESET');
    expect(await run('cio', (raw) => raw.destroy())).toEqual(node);
  });

  test('writing to it is refused with a coded error (the bytes belong to TLS), which ends that connection', async () => {
    let err;
    const events = await run('cio', (raw) => {
      raw.on('error', (e) => { err = e; });
      raw.write('raw');
    });
    expect(err.code).toBe('ERR_CIO_UNSUPPORTED_OPERATION');
    expect(events).toContain('tlsClientError ECONNRESET socket hang up');
    expect(events[events.length - 1]).toBe('client ECONNRESET');
  });

  test('an IP address as servername: Node\'s DEP0123 warning, once', async () => {
    const script = `
      const lib = process.argv[1] === 'cio' ? require(${JSON.stringify(path.join(__dirname, '..'))}) : require('tls');
      const connect = (o) => (process.argv[1] === 'cio' ? lib.connect({ ...o, isSecure: true }) : lib.connect(o));
      const warnings = [];
      process.on('warning', (w) => warnings.push([w.name, w.code, w.message]));
      for (let i = 0; i < 2; i++) connect({ port: 9, host: '127.0.0.1', servername: '127.0.0.1' }).on('error', () => {});
      connect({ port: 9, host: '127.0.0.1', servername: 'localhost' }).on('error', () => {});
      setImmediate(() => console.log(JSON.stringify(warnings)));`;
    const out = (lib) => JSON.parse(require('child_process').execFileSync(process.execPath, ['-e', script, lib], { stdio: ['ignore', 'pipe', 'pipe'] }).toString());
    const node = out('node');
    expect(node).toEqual([['DeprecationWarning', 'DEP0123', 'Setting the TLS ServerName to an IP address is not permitted by RFC 6066. This will be ignored in a future version.']]);
    expect(out('cio')).toEqual(node);
  });
});

describe('TLS failures after the handshake get Node\'s (OpenSSL\'s) codes', () => {
  /**
   * A `lib` client through a proxy that corrupts the last byte of what the server sends once the
   * client is connected; the client's error, and the alert the Node server receives for it.
   */
  async function corrupted(lib, maxVersion) {
    let corrupt = false;
    let serverSide;
    const serverError = new Promise((resolve) => { serverSide = resolve; });
    const server = track(tls.createServer({ key, cert, maxVersion }, (s) => {
      s.on('error', (e) => serverSide(e.code));
      s.on('data', () => s.write('x'.repeat(100)));
    }));
    await listening(server, 0, '127.0.0.1');
    const proxy = track(net.createServer((down) => {
      track(down);
      const up = track(net.connect(server.address().port, '127.0.0.1'));
      up.on('data', (d) => {
        if (corrupt) {
          d = Buffer.from(d);
          d[d.length - 1] ^= 0xff;
        }
        down.write(d);
      });
      down.on('data', (d) => up.write(d));
      for (const s of [up, down]) s.on('error', () => {});
      up.on('close', () => down.destroy());
      down.on('close', () => up.destroy());
    }));
    await listening(proxy, 0, '127.0.0.1');
    const client = track(libs[lib].connect({ port: proxy.address().port, host: '127.0.0.1', ca: read('ca.crt'), servername: 'localhost' }));
    client.on('secureConnect', () => { corrupt = true; client.write('go'); });
    const clientError = await new Promise((resolve) => client.on('error', (e) => resolve([e.code, e.library, e.reason])));
    return { client: clientError, server: await serverError };
  }

  test.each([
    ['TLSv1.3', ['ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC', 'SSL routines', 'decryption failed or bad record mac']],
    // OpenSSL 3 reports an AES-GCM record that does not open from its provider in TLS 1.2
    ['TLSv1.2', ['ERR_SSL_CIPHER_OPERATION_FAILED', 'Provider routines', 'cipher operation failed']],
  ])('a corrupted record (%s): the same error, and the peer gets the same alert', async (maxVersion, expected) => {
    const node = await corrupted('node', maxVersion);
    expect(node).toEqual({ client: expected, server: 'ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC' });
    expect(await corrupted('cio', maxVersion)).toEqual(node);
  });
});

describe('a client without the certificate a server requires', () => {
  test.each([['TLSv1.3'], ['TLSv1.2']])('%s: the server\'s error and the alert the client gets are Node\'s (no TLS 1.3 alert in TLS 1.2)', async (maxVersion) => {
    const results = {};
    for (const lib of ['node', 'cio']) {
      const server = libs[lib].server({ key, cert, ca: read('ca.crt'), requestCert: true, rejectUnauthorized: true }, () => {});
      results[lib] = await failedHandshake(server, (port) => {
        const c = tls.connect({ port, host: '127.0.0.1', ca: read('ca.crt'), servername: 'localhost', maxVersion });
        c.on('secureConnect', () => c.write('x')); // TLS 1.3: the alert comes after the client's Finished
        return c;
      });
    }
    expect(results.node.server.code).toBe('ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
    expect(results.node.client).toBe(maxVersion === 'TLSv1.2' ? 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' : 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    expect(results.cio).toEqual(results.node);
  });
});

describe('a checkServerIdentity callback decides after the handshake, as in Node', () => {
  // Over a socket (cio's own connect) and over a stream (TLS on an existing socket), each
  // against Node's tls.connect doing the same.
  const refuse = () => Object.assign(new Error('not the host we wanted'), { code: 'ERR_TEST_IDENTITY' });

  async function run(kind, overStream, rejectUnauthorized) {
    const server = track(tls.createServer({ key, cert }, (s) => s.end('hi')));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const port = server.address().port;
    const options = { host: '127.0.0.1', ca: read('ca.crt'), servername: 'localhost', checkServerIdentity: refuse, rejectUnauthorized };
    if (overStream) options.socket = track(net.connect(port, '127.0.0.1'));
    else options.port = port;
    const client = track(kind === 'node' ? tls.connect(options) : cio.connect({ ...options, isSecure: true }));
    return new Promise((resolve) => {
      client.once('secureConnect', () => resolve({ secure: true, authorized: client.authorized, authorizationError: client.authorizationError }));
      client.once('error', (err) => resolve({ error: err.code, destroyed: client.destroyed }));
    });
  }

  test.each([
    ['over a socket', false],
    ['over an existing socket', true],
  ])('%s: an identity error destroys the socket, or with rejectUnauthorized false marks it unauthorized', async (_name, overStream) => {
    for (const rejectUnauthorized of [true, false]) {
      const node = await run('node', overStream, rejectUnauthorized);
      const ours = await run('cio', overStream, rejectUnauthorized);
      expect(node).toEqual(rejectUnauthorized
        ? { error: 'ERR_TEST_IDENTITY', destroyed: true }
        : { secure: true, authorized: false, authorizationError: 'ERR_TEST_IDENTITY' });
      expect({ rejectUnauthorized, ours }).toEqual({ rejectUnauthorized, ours: node });
      await track.closeAll();
    }
  });
});
