'use strict';
// Node's event-loop semantics, in child processes: an open server or socket keeps the process
// alive; once closed, destroyed or unref'd, the process exits by itself.
const path = require('path');
const net = require('net');
const { spawn } = require('child_process');
const { once, until } = require('./helpers');

const PKG = path.resolve(__dirname, '..');

// Runs `body` in `node -e` with `cio` (the module builder's instance) and `net` in scope.
// Resolves when the child exits on its own, with its code and output; a child still running
// after `ms` is killed and reported as { timedOut: true }.
function run(body, ms = 8000) {
  const script = `const cio = require(${JSON.stringify(PKG)})(); const net = require('net');\n${body}`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err, timedOut: signal === 'SIGKILL' });
    });
  });
}

// Starts a child that must stay alive; resolves with it once it printed `marker`.
async function start(body, marker) {
  const script = `const cio = require(${JSON.stringify(PKG)})(); const net = require('net');\n${body}`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const ok = await until(() => out.includes(marker) || child.exitCode !== null, 10000);
  if (!ok || child.exitCode !== null) throw new Error(`child did not print ${marker}: ${out}`);
  child.output = () => out;
  return child;
}

// A child that printed 'connected' and 'accepted' still runs: it answers SIGUSR2 (a signal
// handler alone does not keep Node alive) and stays up until killed.
async function expectStillServing(child) {
  try {
    expect(await until(() => child.output().includes('accepted'), 5000)).toBe(true);
    child.kill('SIGUSR2');
    expect(await until(() => child.output().includes('pong'), 5000)).toBe(true);
    expect(child.exitCode).toBe(null);
  } finally {
    child.kill();
  }
  expect((await child.exited).signal).toBe('SIGTERM');
}

function expectClean(r) {
  expect(r.err).toBe('');
  expect(r.timedOut).toBe(false);
  expect(r.code).toBe(0);
}

describe('the process exits by itself', () => {
  test('after server.close()', async () => {
    const r = await run(`
      const s = cio.server({});
      s.listen(0, '127.0.0.1', () => s.close(() => console.log('closed')));
    `);
    expectClean(r);
    expect(r.out).toBe('closed\n');
  });

  test('after server.close() with a connection that then ends', async () => {
    const r = await run(`
      const s = cio.server({ onConnect: (c) => { s.close(() => console.log('closed')); c.end('bye'); } });
      s.listen(0, '127.0.0.1', () => {
        const c = cio.client({ port: s.address().port, host: '127.0.0.1' });
        c.on('data', (d) => console.log(String(d)));
      });
    `);
    expectClean(r);
    expect(r.out.split('\n').sort().join(' ').trim()).toBe('bye closed');
  });

  test('after server.unref()', async () => {
    const r = await run(`
      const s = cio.server({});
      s.listen(0, '127.0.0.1', () => console.log('listening'));
      s.unref();
    `);
    expectClean(r);
    expect(r.out).toBe('listening\n');
  });

  test('after socket.unref() on both ends of an idle connection (server unref\'d too)', async () => {
    // As with Node, the accepted socket is a handle of its own: both ends must be unref'd.
    const r = await run(`
      // The server greets, so both ends are known to be up before the last unref().
      const s = cio.server({ onConnect: (c) => { console.log('accepted'); c.unref(); c.write('hi'); } });
      s.listen(0, '127.0.0.1', () => {
        s.unref();
        const c = cio.client({ port: s.address().port, host: '127.0.0.1' });
        c.once('data', () => { console.log('connected'); c.unref(); });
      });
    `);
    expectClean(r);
    expect(r.out.split('\n').sort().join(' ').trim()).toBe('accepted connected');
  });

  test('after socket.unref() with an idle connection to a server in another process', async () => {
    const server = net.createServer();
    const sockets = [];
    server.on('connection', (c) => sockets.push(c));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const r = await run(`
      const c = cio.client({ port: ${server.address().port}, host: '127.0.0.1' });
      c.on('connect', () => { console.log('connected'); c.unref(); });
    `);
    expectClean(r);
    expect(r.out).toBe('connected\n');
    sockets.forEach((c) => c.destroy());
    await new Promise((resolve) => server.close(resolve));
  });

  test("after socket.unref() on both ends of an idle mutual-TLS connection (server unref'd too)", async () => {
    // Established TLS connections run on Node's loop too: unref must reach them there.
    const r = await run(`
      const F = (f) => require('path').join(${JSON.stringify(path.join(__dirname, 'fixtures'))}, f);
      const s = cio.server({ key: F('server.key'), cert: F('server.crt'), ca: F('ca.crt'), requestCert: true });
      s.on('secureConnection', (c) => { console.log('accepted'); c.unref(); c.write('hi'); });
      s.listen(0, '127.0.0.1', () => {
        s.unref();
        const tlsCio = require(${JSON.stringify(PKG)})({ key: F('alice.key'), cert: F('alice.crt'), ca: F('ca.crt') });
        const c = tlsCio.client({ port: s.address().port, host: '127.0.0.1', servername: 'localhost' });
        c.once('data', () => { console.log('connected'); c.unref(); });
      });
    `);
    expectClean(r);
    expect(r.out.split('\n').sort().join(' ').trim()).toBe('accepted connected');
  });

  test('after destroy()', async () => {
    const r = await run(`
      const s = cio.server({ onConnect: (c) => c.on('close', () => { console.log('peer closed'); s.close(); }) });
      s.listen(0, '127.0.0.1', () => {
        const c = cio.client({ port: s.address().port, host: '127.0.0.1' });
        c.on('connect', () => c.destroy());
        c.on('close', () => console.log('close'));
      });
    `);
    expectClean(r);
    expect(r.out.split('\n').sort().join(' ').trim()).toBe('close peer closed');
  });

  test('after end() on both sides', async () => {
    const r = await run(`
      const s = cio.server({ onConnect: (c) => { c.resume(); c.on('end', () => c.end()); } });
      s.listen(0, '127.0.0.1', () => {
        s.unref();
        const c = cio.client({ port: s.address().port, host: '127.0.0.1' });
        c.resume();
        c.on('connect', () => c.end('done'));
        c.on('close', (hadError) => console.log('close', hadError));
      });
    `);
    expectClean(r);
    expect(r.out).toBe('close false\n');
  });

  test('after a destroyed client whose connection failed', async () => {
    const r = await run(`
      const c = cio.client({ port: 1, host: '127.0.0.1' });
      c.on('error', (e) => console.log(e.code));
    `);
    expectClean(r);
    expect(r.out).toBe('ECONNREFUSED\n');
  });
});

describe('the process stays alive', () => {
  test('while a server is listening', async () => {
    const child = await start(`
      const s = cio.server({ onConnect: (c) => c.pipe(c) });
      s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));
    `, 'listening');
    try {
      const port = Number(/listening (\d+)/.exec(child.output())[1]);
      // A full round trip to the child proves it is serving, and it is still running after.
      const c = net.connect(port, '127.0.0.1');
      c.end('ping');
      const chunks = [];
      c.on('data', (d) => chunks.push(d));
      await once(c, 'end');
      expect(Buffer.concat(chunks).toString()).toBe('ping');
      expect(child.exitCode).toBe(null);
      expect(child.signalCode).toBe(null);
    } finally {
      child.kill();
    }
    expect((await child.exited).signal).toBe('SIGTERM');
  });

  test("while an idle client socket is open (its server unref'd)", async () => {
    const child = await start(`
      const s = cio.server({ onConnect: () => console.log('accepted') });
      s.listen(0, '127.0.0.1', () => {
        s.unref();
        const c = cio.client({ port: s.address().port, host: '127.0.0.1' });
        c.on('connect', () => console.log('connected'));
      });
      // Signal handlers do not keep Node alive; answering one is a round trip to the child.
      process.on('SIGUSR2', () => console.log('pong'));
    `, 'connected');
    await expectStillServing(child);
  });

  test("while an idle TLS client socket is open (its server unref'd)", async () => {
    const child = await start(`
      const F = (f) => require('path').join(${JSON.stringify(path.join(__dirname, 'fixtures'))}, f);
      const s = cio.server({ key: F('server.key'), cert: F('server.crt'), ca: F('ca.crt'), requestCert: true });
      s.on('secureConnection', () => console.log('accepted'));
      s.listen(0, '127.0.0.1', () => {
        s.unref();
        const tlsCio = require(${JSON.stringify(PKG)})({ key: F('alice.key'), cert: F('alice.crt'), ca: F('ca.crt') });
        const c = tlsCio.client({ port: s.address().port, host: '127.0.0.1', servername: 'localhost' });
        c.on('secureConnect', () => console.log('connected'));
      });
      process.on('SIGUSR2', () => console.log('pong'));
    `, 'connected');
    await expectStillServing(child);
  });

  test('while an idle client socket is open to a Node server in another process', async () => {
    const server = net.createServer((c) => c.on('data', (d) => c.write(d)));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const sockets = [];
    server.on('connection', (c) => sockets.push(c));
    const child = await start(`
      const c = cio.client({ port: ${server.address().port}, host: '127.0.0.1' });
      c.on('connect', () => c.write('hi'));
      c.on('data', (d) => console.log('echo ' + d));
    `, 'echo hi');
    try {
      expect(child.exitCode).toBe(null);
      // Another round trip from the parent's side of the connection shows it is still served.
      sockets[0].write('again');
      expect(await until(() => child.output().includes('echo again'), 5000)).toBe(true);
      expect(child.exitCode).toBe(null);
    } finally {
      child.kill();
    }
    await child.exited;
    sockets.forEach((s) => s.destroy());
    await new Promise((r) => server.close(r));
  });
});
