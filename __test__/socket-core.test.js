'use strict';
// The native socket core seen through the public entry: cio sockets and servers must be
// indistinguishable from Node's net objects for plain TCP.
const net = require('net');
const os = require('os');
const path = require('path');
const { Duplex } = require('stream');
const EventEmitter = require('events');
const buildCio = require('..');
const { once, listen, closeServer, collect, sha256 } = require('./helpers');

const cio = buildCio();

function echoServer() {
  const server = cio.server({});
  server.on('connection', (c) => c.pipe(c));
  return server;
}

async function transfer(size) {
  const server = cio.server({});
  const received = new Promise((resolve) => {
    server.on('connection', (c) => collect(c).then((buf) => { c.end(); resolve(buf); }));
  });
  const port = await listen(server);
  const payload = require('crypto').randomBytes(size);
  const client = cio.client({ port, host: '127.0.0.1' });
  client.end(payload);
  client.resume();
  const buf = await received;
  await once(client, 'close');
  await closeServer(server);
  return [sha256(payload), sha256(buf), buf.length];
}

describe('plain TCP through cio', () => {
  test('a client and a server exchange data both ways', async () => {
    const server = echoServer();
    const port = await listen(server);
    const client = cio.client({ port, host: '127.0.0.1' });
    expect(client).toBeInstanceOf(Duplex);
    expect(server).toBeInstanceOf(EventEmitter);
    await once(client, 'connect');
    client.end('ping');
    const got = await collect(client);
    expect(got.toString()).toBe('ping');
    await once(client, 'close');
    await closeServer(server);
  });

  test('1 MiB arrives intact', async () => {
    const [sent, got, len] = await transfer(1024 * 1024);
    expect(len).toBe(1024 * 1024);
    expect(got).toBe(sent);
  });

  test('64 MiB arrives intact', async () => {
    const [sent, got, len] = await transfer(64 * 1024 * 1024);
    expect(len).toBe(64 * 1024 * 1024);
    expect(got).toBe(sent);
  }, 60000);

  test('a Node net client talks to a cio server', async () => {
    const server = echoServer();
    const port = await listen(server);
    const client = net.connect(port, '127.0.0.1');
    client.end('from node');
    expect((await collect(client)).toString()).toBe('from node');
    await closeServer(server);
  });

  test('a cio client talks to a Node net server', async () => {
    const server = net.createServer((c) => c.pipe(c));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const client = cio.client({ port: server.address().port, host: '127.0.0.1' });
    client.end('from cio');
    expect((await collect(client)).toString()).toBe('from cio');
    await new Promise((r) => server.close(r));
  });

  test('with allowHalfOpen the side that ended can still receive', async () => {
    const server = cio.server({ allowHalfOpen: true });
    server.on('connection', (c) => {
      const chunks = [];
      c.on('data', (d) => chunks.push(d));
      c.on('end', () => {
        expect(c.writable).toBe(true);
        c.end('reply after your end: ' + Buffer.concat(chunks));
      });
    });
    const port = await listen(server);
    const client = cio.client({ port, host: '127.0.0.1', allowHalfOpen: true });
    client.end('question');
    const got = await collect(client);
    expect(got.toString()).toBe('reply after your end: question');
    await once(client, 'close');
    await closeServer(server);
  });

  test('without allowHalfOpen a peer end closes the socket', async () => {
    const server = cio.server({});
    const serverSide = new Promise((resolve) => server.on('connection', resolve));
    const port = await listen(server);
    const client = cio.client({ port, host: '127.0.0.1' });
    const clientClosed = once(client, 'close');
    const sock = await serverSide;
    const closed = once(sock, 'close');
    client.end();
    sock.resume();
    await closed;
    expect(sock.destroyed).toBe(true);
    client.resume();
    await clientClosed;
    await closeServer(server);
  });

  test("'listening', 'connect' and 'ready' are emitted after the call returns", async () => {
    const server = echoServer();
    const order = [];
    server.listen(0, '127.0.0.1');
    order.push('listen returned');
    expect(server.listening).toBe(true);
    await once(server, 'listening');
    order.push('listening');
    const client = cio.client({ port: server.address().port, host: '127.0.0.1' });
    order.push('client returned');
    expect(client.connecting).toBe(true);
    expect(client.readyState).toBe('opening');
    client.on('connect', () => {
      order.push('connect');
      expect(client.readyState).toBe('open');
    });
    client.on('ready', () => order.push('ready'));
    await once(client, 'ready');
    expect(order).toEqual(['listen returned', 'listening', 'client returned', 'connect', 'ready']);
    client.destroy();
    await closeServer(server);
  });

  test("'close' fires exactly once, with hadError", async () => {
    const server = echoServer();
    const port = await listen(server);
    const client = cio.client({ port, host: '127.0.0.1' });
    const seen = [];
    client.on('close', (hadError) => seen.push(hadError));
    await once(client, 'connect');
    client.destroy();
    client.destroy();
    await once(client, 'close');
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([false]);
    await closeServer(server);
  });

  test('addresses and byte counters match what the peer sees', async () => {
    const server = echoServer();
    const port = await listen(server);
    const client = cio.client({ port, host: '127.0.0.1' });
    const connected = once(client, 'connect');
    const [serverSock] = await once(server, 'connection');
    await connected;
    expect(client.remoteAddress).toBe('127.0.0.1');
    expect(client.remotePort).toBe(port);
    expect(client.remoteFamily).toBe('IPv4');
    expect(serverSock.remotePort).toBe(client.localPort);
    expect(client.address()).toEqual({ address: '127.0.0.1', family: 'IPv4', port: client.localPort });
    expect(server.address()).toEqual({ address: '127.0.0.1', family: 'IPv4', port });
    client.write('12345');
    expect(client.bytesWritten).toBe(5);
    client.end('678');
    const got = await collect(client);
    expect(got.length).toBe(8);
    expect(client.bytesRead).toBe(8);
    expect(client.bytesWritten).toBe(8);
    await closeServer(server);
  });

  test("write() returns false under backpressure and 'drain' follows", async () => {
    const server = cio.server({});
    const port = await listen(server);
    const client = cio.client({ port, host: '127.0.0.1' });
    const connected = once(client, 'connect');
    const [serverSock] = await once(server, 'connection');
    serverSock.pause();
    await connected;
    const chunk = Buffer.alloc(64 * 1024, 1);
    let ok = true;
    let writes = 0;
    while (ok) {
      ok = client.write(chunk);
      writes++;
    }
    expect(ok).toBe(false);
    expect(writes).toBeGreaterThan(0);
    const drained = once(client, 'drain');
    serverSock.resume();
    await drained;
    client.destroy();
    serverSock.destroy();
    await closeServer(server);
  });

  test("setTimeout emits 'timeout' on an idle socket and activity postpones it", async () => {
    const server = echoServer();
    const port = await listen(server);
    const client = cio.client({ port, host: '127.0.0.1' });
    await once(client, 'connect');
    const started = Date.now();
    client.setTimeout(150);
    await once(client, 'timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(client.destroyed).toBe(false);
    client.setTimeout(0);
    client.destroy();
    await closeServer(server);
  });

  test('setNoDelay, setKeepAlive, ref and unref return the socket', async () => {
    const server = echoServer();
    const port = await listen(server);
    const client = cio.client({ port, host: '127.0.0.1' });
    await once(client, 'connect');
    expect(client.setNoDelay(true)).toBe(client);
    expect(client.setKeepAlive(true, 1000)).toBe(client);
    expect(client.unref()).toBe(client);
    expect(client.ref()).toBe(client);
    expect(server.unref()).toBe(server);
    expect(server.ref()).toBe(server);
    client.destroy();
    await closeServer(server);
  });

  test('getConnections counts open connections and close waits for them', async () => {
    const server = echoServer();
    const port = await listen(server);
    const client = cio.client({ port, host: '127.0.0.1' });
    await once(server, 'connection');
    const n = await new Promise((r) => server.getConnections((e, count) => r(count)));
    expect(n).toBe(1);
    let closed = false;
    server.close(() => { closed = true; });
    expect(server.listening).toBe(false);
    // The open connection still works, and 'close' waits for it.
    client.write('still served');
    await once(client, 'data');
    expect(closed).toBe(false);
    client.destroy();
    await once(server, 'close');
    expect(closed).toBe(true);
  });

  test('Unix domain sockets work through path', async () => {
    const sockPath = path.join(os.tmpdir(), `cio-test-${process.pid}-${Date.now()}.sock`);
    const server = echoServer();
    server.listen(sockPath);
    await once(server, 'listening');
    expect(server.address()).toBe(sockPath);
    const client = cio.client({ path: sockPath });
    client.end('over unix');
    expect((await collect(client)).toString()).toBe('over unix');
    await closeServer(server);
    expect(require('fs').existsSync(sockPath)).toBe(false);
  });

  test('a server stops accepting after maxConnections and emits drop', async () => {
    const server = echoServer();
    server.maxConnections = 1;
    const port = await listen(server);
    const a = cio.client({ port, host: '127.0.0.1' });
    await once(server, 'connection');
    const b = cio.client({ port, host: '127.0.0.1' });
    // 'connect' on b and 'drop' on the server race each other: listen for both up front.
    const bPort = new Promise((r) => b.on('connect', () => r(b.localPort)));
    const [info] = await once(server, 'drop');
    expect(info.remotePort).toBe(await bPort);
    b.resume();
    await once(b, 'close');
    a.destroy();
    await closeServer(server);
  });

  test('a connection attempted right after close() returns is refused, as with Node', async () => {
    const server = cio.server({});
    const port = await listen(server);
    const closed = once(server, 'close');
    server.close();
    const err = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.on('error', resolve);
      c.on('connect', () => { c.destroy(); resolve(null); });
    });
    expect(err && err.code).toBe('ECONNREFUSED');
    await closed;
  });
});
