'use strict';
// The developer CLI (bin/cio.js), spawned as users run it: certificates that work for mutual
// TLS with Node's own tls module, the echo server and stdin/stdout client, usage errors.

const { spawn, execFile } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const tls = require('tls');
const { once, until } = require('./helpers');

const CLI = path.join(__dirname, '..', 'bin', 'cio.js');
const HAS_TLS = fs.existsSync(path.join(__dirname, '..', 'lib', 'tls.js'));

function run(args, { input, timeout = 15000 } = {}) {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { timeout },
      (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }));
    if (input !== undefined) child.stdin.end(input);
  });
}

// Starts `cio serve`, resolving with the child and its port once it is listening.
function serve(args) {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /listening on [^\s]+:(\d+)/.exec(stderr);
      if (m) resolve({ child, port: +m[1], log: () => stderr });
    });
    child.on('exit', (code) => reject(new Error(`cio serve exited with ${code}: ${stderr}`)));
  });
}

async function stop(child) {
  if (child.exitCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  return code;
}

let dir;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cio-cli-'));
  const r = await run(['certs', '--out', dir, '--server', 'localhost', '--client', 'alice', '--client', 'bob']);
  expect(r.stderr).toContain('wrote a CA');
  expect(r.code).toBe(0);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const read = (f) => fs.readFileSync(path.join(dir, f));

// A mutual-TLS echo with Node's tls on both ends, using the CLI's files.
// `servername` undefined: the host IP itself is checked against the certificate.
async function nodeMtls(clientName, { ca = read('ca.crt'), servername = 'localhost' } = {}) {
  const server = tls.createServer({
    key: read('server.key'), cert: read('server.crt'), ca: read('ca.crt'),
    requestCert: true, rejectUnauthorized: true,
  }, (s) => { s.peerCN = s.getPeerCertificate().subject.CN; server.lastCN = s.peerCN; s.pipe(s); });
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const client = tls.connect({
      host: '127.0.0.1', port: server.address().port, ca, ...(servername ? { servername } : {}),
      key: read(`${clientName}.key`), cert: read(`${clientName}.crt`),
    });
    await once(client, 'secureConnect');
    const chunks = [];
    client.on('data', (d) => chunks.push(d));
    client.end('hello over mutual TLS');
    await once(client, 'end');
    return { authorized: client.authorized, echoed: Buffer.concat(chunks).toString(), serverSaw: server.lastCN };
  } finally {
    server.close();
  }
}

describe('cio certs', () => {
  test('writes a CA, the server and each client, keys private', () => {
    for (const base of ['ca', 'server', 'alice', 'bob']) {
      expect(read(`${base}.crt`).toString()).toMatch(/^-----BEGIN CERTIFICATE-----/);
      expect(read(`${base}.key`).toString()).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      expect(fs.statSync(path.join(dir, `${base}.key`)).mode & 0o077).toBe(0);
    }
  });

  test('the server certificate names localhost, 127.0.0.1 and ::1; clients carry their name as CN', () => {
    const server = new (require('crypto').X509Certificate)(read('server.crt'));
    expect(server.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(server.checkIssued(new (require('crypto').X509Certificate)(read('ca.crt')))).toBe(true);
    const alice = new (require('crypto').X509Certificate)(read('alice.crt'));
    expect(alice.subject).toBe('CN=alice');
  });

  test('the certificates work for a mutual-TLS round trip with Node\'s own tls', async () => {
    const r = await nodeMtls('alice');
    expect(r).toEqual({ authorized: true, echoed: 'hello over mutual TLS', serverSaw: 'alice' });
    expect(await nodeMtls('bob', { servername: null }))
      .toEqual({ authorized: true, echoed: 'hello over mutual TLS', serverSaw: 'bob' });
  });

  test('a second CA\'s certificates are not trusted by the first', async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'cio-cli-other-'));
    try {
      expect((await run(['certs', '--out', other])).code).toBe(0);
      await expect(nodeMtls('alice', { ca: fs.readFileSync(path.join(other, 'ca.crt')) }))
        // Node's server sends its CA along (OpenSSL auto-chain), which the client does not trust.
        .rejects.toMatchObject({ code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  test('refuses to overwrite existing files without --force', async () => {
    const r = await run(['certs', '--out', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('refusing to overwrite');
  });
});

describe('cio serve / cio connect', () => {
  test('plain TCP: connect pipes stdin to the echo server and the echo to stdout', async () => {
    const s = await serve([]);
    try {
      const r = await run(['connect', `127.0.0.1:${s.port}`], { input: 'line one\nline two\n' });
      expect(r.stdout).toBe('line one\nline two\n');
      expect(r.code).toBe(0);
      expect(s.log()).toMatch(/127\.0\.0\.1:\d+ connected/);
    } finally {
      expect(await stop(s.child)).toBe(0);
    }
  });

  test('connect reports a refused connection and exits non-zero', async () => {
    const s = await serve([]);
    const port = s.port;
    await stop(s.child);
    const r = await run(['connect', `127.0.0.1:${port}`], { input: '' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ECONNREFUSED');
  });

  (HAS_TLS ? test : test.skip)('mutual TLS: an allowed client is echoed, another is rejected', async () => {
    const s = await serve(['--tls', dir, '--allow', 'alice']);
    try {
      const ok = await run(['connect', `localhost:${s.port}`, '--tls', dir, '--as', 'alice'], { input: 'secret\n' });
      expect(ok.stdout).toBe('secret\n');
      expect(ok.code).toBe(0);
      const no = await run(['connect', `localhost:${s.port}`, '--tls', dir, '--as', 'bob'], { input: 'secret\n' });
      expect(no.stdout).toBe('');
      expect(no.code).toBe(1);
      // Refused by the allow-list: 'clientRejected' or, during the handshake, 'tlsClientError'.
      const rejected = /rejected client 'bob'|ERR_CIO_CLIENT_REJECTED Client Rejected: bob/;
      expect(await until(() => rejected.test(s.log()))).toBe(true);
    } finally {
      await stop(s.child);
    }
  });

  (HAS_TLS ? test.skip : test)('--tls refuses to run while this build has no TLS (instead of serving plaintext)', async () => {
    const r = await run(['serve', '--port', '0', '--tls', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_CIO_NO_TLS');
  });
});

describe('bad arguments', () => {
  test.each([
    [[], 'no command given'],
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['certs'], 'certs needs --out DIR'],
    [['certs', '--out'], '--out needs a value'],
    [['certs', '--out', '/tmp/x', '--client', '../evil'], "invalid client name '../evil'"],
    [['certs', '--out', '/tmp/x', '--client', 'ca'], 'reserved'],
    [['certs', '--out', '/tmp/x', '--days', 'soon'], '--days must be a whole number'],
    [['serve'], 'serve needs --port N'],
    [['serve', '--port', 'http'], "--port must be a port number 0-65535, got 'http'"],
    [['serve', '--port', '1', '--allow', 'alice'], '--allow needs --tls DIR'],
    [['serve', '--port', '1', '--verbose'], 'unknown option --verbose'],
    [['connect'], 'connect needs exactly one HOST:PORT'],
    [['connect', 'localhost'], "expected HOST:PORT, got 'localhost'"],
    [['connect', 'localhost:70000'], 'PORT must be a port number'],
    [['connect', 'localhost:1', '--as', 'alice'], '--as needs --tls DIR'],
  ])('cio %j exits 2 with a usage message', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('Usage:');
    expect(r.stdout).toBe('');
  });

  test('cio help prints usage on stdout and exits 0', async () => {
    const r = await run(['help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage:/);
  });
});
