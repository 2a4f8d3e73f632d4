'use strict';
// Packaging and first-run behaviour that is cheap enough for every `npm test`: the platform
// package matches what the loader looks for, the main package never carries a binary, a missing
// binary gives a useful error, and NODE_DEBUG=cio traces the connection lifecycle. (The full
// pack + install-without-Rust test is scripts/test-install.sh, run by .ci/run.)

const { execFile, execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const rootPkg = require('../package.json');
const HAS_TLS = fs.existsSync(path.join(ROOT, 'lib', 'tls.js'));

function node(args, env) {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, timeout: 15000 },
      (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }));
  });
}

describe('prebuilt binary packages', () => {
  const platformPkg = require('../npm/linux-x64-gnu/package.json');

  test('npm/linux-x64-gnu is the package the generated loader requires, at the same version', () => {
    expect(platformPkg).toMatchObject({
      name: 'cio-linux-x64-gnu', version: rootPkg.version,
      os: ['linux'], cpu: ['x64'], libc: ['glibc'],
      main: `${rootPkg.napi.binaryName}.linux-x64-gnu.node`, files: ['cio.linux-x64-gnu.node'],
    });
    expect(rootPkg.optionalDependencies).toEqual({ 'cio-linux-x64-gnu': rootPkg.version });
    const loader = fs.readFileSync(path.join(ROOT, 'binding.js'), 'utf8');
    expect(loader).toContain("require('cio-linux-x64-gnu')");
    expect(loader).toContain("require('./cio.linux-x64-gnu.node')");
  });

  test('the main package holds the JavaScript, loader and CLI but no binary', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const files = JSON.parse(out.slice(out.indexOf('[')))[0].files.map((f) => f.path);
    for (const f of ['package.json', 'index.js', 'binding.js', 'binding.d.ts', 'lib/native.js', 'lib/devcerts.js', 'bin/cio.js']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.endsWith('.node'))).toEqual([]);
    expect(files.filter((f) => /^(src|__test__|target|scripts|bench|npm)\//.test(f))).toEqual([]);
  });

  test('a missing binary fails with ERR_CIO_NATIVE_BINDING naming the platform and how to build', async () => {
    const r = await node(['-e', `
      try { require('./'); console.log('loaded'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, platform: e.platform, message: e.message })); }`],
    { NAPI_RS_NATIVE_LIBRARY_PATH: path.join(ROOT, 'no-such-dir', 'cio.node') });
    const err = JSON.parse(r.stdout);
    expect(err.code).toBe('ERR_CIO_NATIVE_BINDING');
    expect(err.platform).toBe('linux-x64-gnu');
    expect(err.message).toContain('cio-linux-x64-gnu');
    expect(err.message).toContain('npm run build');
    expect(err.message).toContain('Rust toolchain');
  });
});

describe('NODE_DEBUG=cio', () => {
  const script = `
    const cio = require('./')();
    const server = cio.server({ onConnect: (s) => s.pipe(s) });
    server.listen(0, '127.0.0.1', () => {
      const c = cio.client({ host: '127.0.0.1', port: server.address().port });
      c.on('connect', () => c.end('x'));
      c.resume();
      c.on('close', () => {
        const refused = cio.client({ host: '127.0.0.1', port: server.address().port });
        server.close();
        refused.on('error', () => {});
      });
    });`;

  test('traces listen, connect, accept, end, errors and close', async () => {
    const r = await node(['-e', script], { NODE_DEBUG: 'cio' });
    expect(r.code).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => /^CIO \d+: /.test(l)).map((l) => l.replace(/^CIO \d+: /, ''));
    const expected = [
      /^server listening on 127\.0\.0\.1:\d+$/, /^socket connect 127\.0\.0\.1:\d+$/,
      /^socket accepted from 127\.0\.0\.1:\d+$/, /^socket connected to 127\.0\.0\.1:\d+$/,
      /^socket end from 127\.0\.0\.1:\d+$/, /^socket close$/, /^server close$/,
      /^socket error ECONNREFUSED connect$/, /^socket close \(ECONNREFUSED\)$/,
    ];
    for (const re of expected) expect(lines.some((l) => re.test(l))).toBe(true);
  });

  const tlsScript = `
    const cio = require('./')();
    const set = require('./lib/devcerts').generateDevCerts({ clientNames: ['alice', 'bob'] });
    const server = cio.server({ key: set.server.key, cert: set.server.cert, ca: set.ca.cert,
      requestCert: true, isClientAllowed: (name) => name === 'alice' });
    server.on('secureConnection', (s) => s.end('hi'));
    server.listen(0, '127.0.0.1', () => {
      const port = server.address().port;
      const visit = (c, next) => {
        const s = cio.client({ host: 'localhost', port, ca: set.ca.cert, key: c.key, cert: c.cert });
        s.on('error', () => {});
        s.resume();
        s.on('close', next);
      };
      visit(set.clients[0], () => visit(set.clients[1], () => {
        const busy = cio.server({ retryDelay: 10, maxRetries: 1 });
        busy.on('error', () => {});
        busy.on('close', () => server.close());
        busy.listen(port, '127.0.0.1');
      }));
    });`;

  (HAS_TLS ? test : test.skip)('traces chain runs, handshakes, client rejections and re-listen attempts', async () => {
    const r = await node(['-e', tlsScript], { NODE_DEBUG: 'cio' });
    expect(r.code).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => /^CIO \d+: /.test(l)).map((l) => l.replace(/^CIO \d+: /, ''));
    for (const line of ['server chain run: done', 'client chain run: done', 'tls handshake done: authorized=true',
      'server-client chain run: done', 'client rejected by isClientAllowed: bob',
      'relisten: attempt 1 of 1 in 10 ms', 'relisten: giving up after 1 retries', 'server listen error EADDRINUSE']) {
      expect(lines).toContain(line);
    }
  });

  test('is silent without NODE_DEBUG', async () => {
    const r = await node(['-e', script], { NODE_DEBUG: '' });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });
});
