'use strict';
// Lifecycle: how connections end (compared with Node net doing the same), descriptor hygiene
// over many connections, bounded buffering under a slow reader, and callbacks after destroy().
const net = require('net');
const crypto = require('crypto');
const buildCio = require('..');
const { once, listen, closeServer, sha256, fdCount, until } = require('./helpers');

const cio = buildCio();

// Node net and cio behind one interface, so one scenario runs on both.
const impls = {
  node: {
    server: (opts) => net.createServer(opts),
    client: (opts) => net.connect(opts),
  },
  cio: {
    server: (opts) => cio.server(opts),
    client: (opts) => cio.client(opts),
  },
};

// Records the events a socket emits, in order ('error' with its code and syscall).
function record(socket) {
  const seen = [];
  const emit = socket.emit;
  socket.emit = function (name, ...args) {
    if (name === 'error') seen.push(`error:${args[0].code}:${args[0].syscall}`);
    else if (name === 'close') seen.push(`close:${args[0]}`);
    else if (['connect', 'end', 'finish', 'timeout'].includes(name)) seen.push(name);
    return emit.call(this, name, ...args);
  };
  return seen;
}

function closeOf(emitter) {
  return new Promise((resolve) => emitter.once('close', resolve));
}

describe('ending connections, compared with Node net', () => {
  // The server-side socket is destroyed while the client's bytes sit unread in its receive
  // buffer: the kernel answers with RST, so the client reading sees ECONNRESET.
  async function destroyWithUnreadData(impl) {
    const server = impl.server({ pauseOnConnect: true });
    const accepted = once(server, 'connection');
    const port = await listen(server);
    const client = impl.client({ port, host: '127.0.0.1' });
    const events = record(client);
    client.on('error', () => {});
    const closed = closeOf(client);
    client.resume();
    const [peer] = await accepted;
    // The write callback fires once the bytes are in the kernel; on loopback that means in
    // the peer's receive buffer, where nobody reads them.
    await new Promise((resolve) => client.write('unread bytes', resolve));
    peer.destroy();
    await closed;
    await closeServer(server);
    return events;
  }

  // The server-side socket is destroyed with nothing unread: a FIN, so the client sees a
  // clean 'end' and closes without error.
  async function destroyWithNothingUnread(impl) {
    const server = impl.server({});
    const accepted = once(server, 'connection');
    const port = await listen(server);
    const client = impl.client({ port, host: '127.0.0.1' });
    const events = record(client);
    client.on('error', () => {});
    const closed = closeOf(client);
    client.resume();
    const [peer] = await accepted;
    peer.destroy();
    await closed;
    await closeServer(server);
    return events;
  }

  // The client is destroyed while the server streams to it: the server's writes fail or it
  // sees the end; either way it closes, and the client emits nothing after its own destroy.
  async function clientDestroysWithUnreadData(impl) {
    const server = impl.server({});
    const accepted = once(server, 'connection');
    const port = await listen(server);
    const client = impl.client({ port, host: '127.0.0.1' });
    const events = record(client);
    await once(client, 'connect');
    const [peer] = await accepted;
    const peerEvents = record(peer);
    peer.on('error', () => {});
    const peerClosed = closeOf(peer);
    // More than either implementation reads ahead, so some stays in the kernel.
    peer.write(Buffer.alloc(4 * 1024 * 1024, 1));
    // Wait until the bytes are in the client's receive queue, without reading them.
    client.pause();
    peer.resume();
    const closed = closeOf(client);
    await new Promise((resolve) => client.once('readable', resolve));
    client.destroy();
    await closed;
    await peerClosed;
    await closeServer(server);
    return { events, peer: peerEvents.includes('close:true') ? 'error' : 'clean' };
  }

  test('destroying a peer with unread data resets the connection: ECONNRESET as with Node', async () => {
    const viaNode = await destroyWithUnreadData(impls.node);
    const viaCio = await destroyWithUnreadData(impls.cio);
    expect(viaNode).toEqual(['connect', 'error:ECONNRESET:read', 'close:true']);
    expect(viaCio).toEqual(viaNode);
  });

  test("destroying a peer with nothing unread gives a clean 'end' and 'close' as with Node", async () => {
    const viaNode = await destroyWithNothingUnread(impls.node);
    const viaCio = await destroyWithNothingUnread(impls.cio);
    expect(viaNode).toContain('end');
    expect(viaNode.some((e) => e.startsWith('error'))).toBe(false);
    expect(viaCio).toEqual(viaNode);
  });

  test('destroying a client with unread data: nothing after its own close, the peer sees a reset, as with Node', async () => {
    const viaNode = await clientDestroysWithUnreadData(impls.node);
    const viaCio = await clientDestroysWithUnreadData(impls.cio);
    expect(viaNode.events).toEqual(['connect', 'close:false']);
    expect(viaCio).toEqual(viaNode);
  });
});

describe('resources', () => {
  test('1,000 connections opened and closed leave no extra open file descriptors', async () => {
    const server = cio.server({});
    server.on('connection', (c) => c.pipe(c));
    const port = await listen(server);
    // The listening server (and the runtime it started) stays up while we count.
    const before = fdCount();
    let opened = 0;
    let done = 0;
    async function worker() {
      while (opened < 1000) {
        opened++;
        const c = cio.client({ port, host: '127.0.0.1' });
        const closed = closeOf(c);
        c.end('x');
        c.resume();
        const hadError = await closed;
        expect(hadError).toBe(false);
        done++;
      }
    }
    await Promise.all(Array.from({ length: 50 }, worker));
    expect(done).toBe(1000);
    // Descriptors close on the runtime just after 'close'; wait for the count, with a deadline.
    const settled = await until(() => fdCount() === before, 5000);
    expect(fdCount()).toBe(before);
    expect(settled).toBe(true);
    await closeServer(server);
  }, 60000);

  test("a slow reader keeps buffered bytes bounded while a fast writer waits on 'drain'", async () => {
    const TOTAL = 64 * 1024 * 1024;
    const chunk = crypto.randomBytes(64 * 1024);
    const server = cio.server({});
    const accepted = once(server, 'connection');
    const port = await listen(server);
    const writer = cio.client({ port, host: '127.0.0.1' });
    await once(writer, 'connect');
    const [reader] = await accepted;
    if (global.gc) global.gc();
    const rss0 = process.memoryUsage().rss;
    let peakRss = 0;
    let peakReadable = 0;
    let peakWritable = 0;
    const sample = () => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss - rss0);
      peakReadable = Math.max(peakReadable, reader.readableLength);
      peakWritable = Math.max(peakWritable, writer.writableLength);
    };
    // The reader takes one chunk per timer turn: far slower than the writer can send.
    const hash = crypto.createHash('sha256');
    let received = 0;
    const readAll = new Promise((resolve, reject) => {
      reader.on('error', reject);
      const step = () => {
        let buf;
        while ((buf = reader.read(16 * 1024)) !== null) {
          hash.update(buf);
          received += buf.length;
          sample();
          if (received % (64 * 1024) === 0) { setTimeout(step, 1); return; }
        }
        if (received >= TOTAL) { resolve(); return; }
        reader.once('readable', step);
      };
      reader.once('readable', step);
    });
    // The writer honours backpressure.
    const sent = crypto.createHash('sha256');
    let falses = 0;
    let drains = 0;
    writer.on('drain', () => { drains++; });
    for (let written = 0; written < TOTAL; written += chunk.length) {
      sent.update(chunk);
      sample();
      if (!writer.write(chunk)) {
        falses++;
        await once(writer, 'drain');
      }
    }
    await readAll;
    sample();
    if (process.env.CIO_TEST_VERBOSE) console.log({ peakRss, peakReadable, peakWritable, falses, drains });
    expect(received).toBe(TOTAL);
    expect(hash.digest('hex')).toBe(sent.digest('hex'));
    expect(falses).toBeGreaterThan(0);
    expect(drains).toBe(falses);
    expect(peakRss).toBeLessThan(48 * 1024 * 1024);
    expect(peakReadable).toBeLessThan(2 * 1024 * 1024);
    expect(peakWritable).toBeLessThan(2 * 1024 * 1024);
    writer.destroy();
    reader.destroy();
    await closeServer(server);
  }, 120000);
});

describe('destroy()', () => {
  test('a native callback after destroy() is a no-op: no event after close, nothing thrown', async () => {
    const server = cio.server({});
    const accepted = once(server, 'connection');
    const port = await listen(server);
    const client = cio.client({ port, host: '127.0.0.1' });
    await once(client, 'connect');
    const [peer] = await accepted;
    peer.on('error', () => {});
    peer.resume();
    // Data flows both ways and writes are in flight when the client is destroyed.
    const big = Buffer.alloc(1024 * 1024, 7);
    client.on('data', () => {});
    peer.write(big);
    peer.write(big);
    client.write(big);
    client.write(big);
    let afterClose = [];
    let closes = 0;
    const events = record(client);
    const emit = client.emit;
    client.emit = function (name, ...args) {
      if (closes > 0) afterClose.push(name);
      if (name === 'close') closes++;
      return emit.call(this, name, ...args);
    };
    const writeCbs = [];
    client.write(big, (err) => writeCbs.push(err && err.code));
    expect(await until(() => client.bytesRead > 0)).toBe(true);
    client.destroy();
    expect(client.destroyed).toBe(true);
    expect(client._handle).toBe(null);
    await closeOf(client);
    // Let whatever the native side still had queued arrive and be ignored.
    const peerClosed = closeOf(peer);
    await peerClosed;
    await new Promise((r) => setImmediate(r));
    expect(closes).toBe(1);
    expect(afterClose).toEqual([]);
    expect(events.filter((e) => e.startsWith('error'))).toEqual([]);
    afterClose = null;
    await closeServer(server);
  });
});
