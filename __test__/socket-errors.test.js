'use strict';
// Every error code the socket API promises, shaped like Node's: each scenario also runs
// against Node's own net where Node can do the same, and the two errors are compared.
const net = require('net');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const buildCio = require('..');
const binding = require('../binding');
const { once, listen, closeServer, collect, freePort } = require('./helpers');

const cio = buildCio();

// The parts of an error a caller can switch on.
function shape(err) {
  return {
    name: err.name,
    message: err.message,
    code: err.code,
    errno: err.errno,
    syscall: err.syscall,
    address: err.address,
    port: err.port,
    hostname: err.hostname,
  };
}

function closeOf(emitter) {
  return new Promise((resolve) => emitter.once('close', resolve));
}

function errorOf(emitter) {
  return new Promise((resolve) => emitter.once('error', resolve));
}

// A round trip through a fresh cio server and client: proof that the process still works.
async function roundTrip() {
  const server = cio.server({});
  server.on('connection', (c) => c.pipe(c));
  const port = await listen(server);
  const client = cio.client({ port, host: '127.0.0.1' });
  client.end('still alive');
  const got = (await collect(client)).toString();
  await once(client, 'close');
  await closeServer(server);
  return got;
}

describe('socket errors are shaped like Node net errors', () => {
  test('connecting to a closed port gives ECONNREFUSED with syscall, address and port', async () => {
    const port = await freePort();
    const viaCio = cio.client({ port, host: '127.0.0.1' });
    const viaNode = net.connect({ port, host: '127.0.0.1' });
    const closed = Promise.all([viaCio, viaNode].map((s) => new Promise((r) => s.once('close', r))));
    const [a, b] = await Promise.all([errorOf(viaCio), errorOf(viaNode)]);
    expect(a.code).toBe('ECONNREFUSED');
    expect(a.syscall).toBe('connect');
    expect(a.address).toBe('127.0.0.1');
    expect(a.port).toBe(port);
    expect(a.message).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(shape(a)).toEqual(shape(b));
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    await closed;
    expect(viaCio.destroyed).toBe(true);
  });

  test('listening on a busy port gives EADDRINUSE with syscall listen, like Node', async () => {
    const holder = net.createServer();
    const port = await listen(holder);
    const viaCio = cio.server({ noRelisten: true }); // the default re-listen would retry later
    viaCio.listen(port, '127.0.0.1');
    const viaNode = net.createServer();
    viaNode.listen(port, '127.0.0.1');
    const [a, b] = await Promise.all([errorOf(viaCio), errorOf(viaNode)]);
    expect(a.code).toBe('EADDRINUSE');
    expect(a.syscall).toBe('listen');
    expect(a.message).toBe(`listen EADDRINUSE: address already in use 127.0.0.1:${port}`);
    expect(shape(a)).toEqual(shape(b));
    expect(viaCio.listening).toBe(false);
    await closeServer(holder);
  });

  test("an 'error' listener attached after listen() still sees EADDRINUSE", async () => {
    const holder = cio.server({});
    const port = await listen(holder);
    const server = cio.server({ noRelisten: true }); // the default re-listen would retry later
    let sawSync = false;
    server.listen(port, '127.0.0.1');
    server.once('error', () => { sawSync = true; });
    // Nothing was emitted inside listen(): the listener attached afterwards gets the error.
    const err = await new Promise((resolve) => server.once('error', resolve));
    expect(sawSync).toBe(true);
    expect(err.code).toBe('EADDRINUSE');
    await closeServer(holder);
  });

  test('a peer that resets the connection gives ECONNRESET on read', async () => {
    // The server aborts with SO_LINGER 0 (Node's resetAndDestroy): the client sees a RST.
    const server = net.createServer((c) => c.resetAndDestroy());
    const port = await listen(server);
    const client = cio.client({ port, host: '127.0.0.1' });
    client.resume();
    const closed = closeOf(client);
    const err = await errorOf(client);
    expect(err.code).toBe('ECONNRESET');
    expect(err.syscall).toBe('read');
    expect(err.message).toBe('read ECONNRESET');
    expect(err.errno).toBe(os.constants.errno.ECONNRESET * -1);
    expect(await closed).toBe(true);
    await closeServer(server);
  });

  test('writing after the peer closed gives EPIPE, as Node does (Unix domain socket)', async () => {
    async function scenario(lib) {
      const sockPath = path.join(os.tmpdir(), `cio-epipe-${process.pid}-${lib === net ? 'n' : 'c'}.sock`);
      const server = lib === net
        ? net.createServer({ allowHalfOpen: true }, (c) => c.destroy())
        : cio.server({ allowHalfOpen: true, onConnect: (c) => c.destroy() });
      server.listen(sockPath);
      await once(server, 'listening');
      const client = lib === net
        ? net.connect({ path: sockPath, allowHalfOpen: true })
        : cio.client({ path: sockPath, allowHalfOpen: true });
      client.resume();
      const closed = closeOf(client);
      await once(client, 'end');
      const out = {};
      const cbErr = new Promise((resolve) => { out.returned = client.write('x', resolve); });
      const [err] = await once(client, 'error').catch((e) => [e]);
      out.cbCode = (await cbErr).code;
      out.hadError = await closed;
      out.error = shape(err);
      await closeServer(server);
      return out;
    }
    const viaNode = await scenario(net);
    const viaCio = await scenario(null);
    expect(viaCio.error.code).toBe('EPIPE');
    expect(viaCio.error.syscall).toBe('write');
    expect(viaCio).toEqual(viaNode);
  });

  test("an unresolvable host gives ENOTFOUND (syscall getaddrinfo) and a 'lookup' event, like Node", async () => {
    // 'bad..name' fails inside getaddrinfo without any network traffic.
    async function scenario(client) {
      const closed = closeOf(client);
      const lookup = once(client, 'lookup').catch((e) => [e]);
      const err = await errorOf(client);
      const [lookupErr, address, family, host] = await lookup;
      await closed;
      return { err: shape(err), lookup: [lookupErr && lookupErr.code, address, family, host] };
    }
    const viaCio = await scenario(cio.client({ host: 'bad..name', port: 80 }));
    const viaNode = await scenario(net.connect({ host: 'bad..name', port: 80 }));
    expect(viaCio.err.code).toBe('ENOTFOUND');
    expect(viaCio.err.syscall).toBe('getaddrinfo');
    expect(viaCio.err.hostname).toBe('bad..name');
    expect(viaCio).toEqual(viaNode);
  });

  test('connectTimeout against a listener that never accepts gives ETIMEDOUT (syscall connect)', async () => {
    // A listener with backlog 0 that never accepts: once its queue is full, SYNs go unanswered.
    const py = spawn('python3', ['-c', [
      'import socket, sys',
      's = socket.socket()',
      "s.bind(('127.0.0.1', 0))",
      's.listen(0)',
      'print(s.getsockname()[1], flush=True)',
      'sys.stdin.read()',
    ].join('\n')], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const port = Number((await once(py.stdout, 'data'))[0].toString().trim());
      const fillers = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')];
      fillers.forEach((f) => f.on('error', () => {}));
      await once(fillers[0], 'connect');
      const client = cio.client({ port, host: '127.0.0.1', connectTimeout: 300 });
      const closed = closeOf(client);
      const started = Date.now();
      const err = await errorOf(client);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(err.code).toBe('ETIMEDOUT');
      expect(err.syscall).toBe('connect');
      expect(err.address).toBe('127.0.0.1');
      expect(err.port).toBe(port);
      expect(err.message).toBe(`connect ETIMEDOUT 127.0.0.1:${port}`);
      await closed;
      fillers.forEach((f) => f.destroy());
    } finally {
      py.stdin.end();
      py.kill();
    }
  });

  test.each([65536, -1, 'abc', 1.5])('client() throws ERR_SOCKET_BAD_PORT synchronously for port %p, as Node does', (port) => {
    let nodeErr;
    try { net.connect({ port, host: '127.0.0.1' }); } catch (e) { nodeErr = e; }
    let cioErr;
    try { cio.client({ port, host: '127.0.0.1' }); } catch (e) { cioErr = e; }
    expect(nodeErr.name).toBe('RangeError');
    expect(cioErr.name).toBe('RangeError');
    expect(cioErr.code).toBe('ERR_SOCKET_BAD_PORT');
    expect(cioErr.message).toBe(nodeErr.message);
  });

  test.each([65536, -1, 1.5, '65536'])('server.listen() throws ERR_SOCKET_BAD_PORT synchronously for port %p, as Node does', (port) => {
    let nodeErr;
    const nodeServer = net.createServer();
    try { nodeServer.listen({ port, host: '127.0.0.1' }); } catch (e) { nodeErr = e; }
    const server = cio.server({});
    let cioErr;
    try { server.listen({ port, host: '127.0.0.1' }); } catch (e) { cioErr = e; }
    expect(nodeErr.name).toBe('RangeError');
    expect(cioErr.name).toBe('RangeError');
    expect(cioErr.code).toBe('ERR_SOCKET_BAD_PORT');
    expect(cioErr.message).toBe(nodeErr.message);
    expect(server.listening).toBe(false);
    let nodePosErr;
    try { net.createServer().listen(port, '127.0.0.1'); } catch (e) { nodePosErr = e; }
    let cioPosErr;
    try { cio.server({}).listen(port, '127.0.0.1'); } catch (e) { cioPosErr = e; }
    expect(cioPosErr && cioPosErr.message).toBe(nodePosErr.message);
  });

  test('a deliberate native panic becomes a catchable error and the process keeps running', async () => {
    expect(() => binding.panicForTest('boom')).toThrow(/boom/);
    expect(() => binding.panicForTest('again')).toThrow();
    expect(await roundTrip()).toBe('still alive');
  });

  test('native methods called with wrong arguments throw catchable errors', async () => {
    const s = new binding.NativeSocket();
    expect(() => s.write('not a buffer')).toThrow();
    expect(() => s.write(42)).toThrow();
    expect(() => s.connectTcp()).toThrow();
    expect(() => s.connectTcp({ address: 'not an ip', port: 1 })).toThrow();
    expect(() => s.connectTcp({ address: '127.0.0.1', port: 'x' })).toThrow();
    expect(() => s.setNoDelay('yes')).toThrow();
    expect(() => s.start(42)).toThrow();
    expect(() => binding.NativeSocket.prototype.write.call({}, Buffer.from('x'))).toThrow();
    expect(() => binding.NativeSocket.prototype.close.call({})).toThrow();
    expect(() => binding.NativeServer.prototype.listen.call({}, {})).toThrow();
    const server = new binding.NativeServer();
    expect(() => server.listen({ port: 'x' })).toThrow();
    s.close();
    server.release();
    expect(await roundTrip()).toBe('still alive');
  });
});

