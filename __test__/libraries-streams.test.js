'use strict';
// Node's stream utilities over cio sockets: stream.pipeline, stream.finished, events.once,
// for await, readline. Every pairing of Node's and cio's sockets runs in the same test, Node
// at both ends as the yardstick.
const events = require('events');
const readline = require('readline');
const crypto = require('crypto');
const { Readable, Writable, PassThrough } = require('stream');
const { pipeline, finished } = require('stream/promises');
const { PAIRS, tracker, listen, connect, isCio } = require('./library-helpers');

let track;
beforeEach(() => { track = tracker(); });
afterEach(() => track.closeAll());

function sink() {
  const chunks = [];
  const w = new Writable({ write(chunk, enc, cb) { chunks.push(chunk); cb(); } });
  w.data = () => Buffer.concat(chunks);
  return w;
}

describe('stream utilities over cio sockets', () => {
  test('stream.pipeline carries 4 MiB through a server echo (socket → socket) and into a sink, then stream.finished settles both ends (every pairing)', async () => {
    const payload = crypto.randomBytes(4 * 1024 * 1024);
    const digest = (b) => crypto.createHash('sha256').update(b).digest('hex');
    for (const [serverKind, clientKind] of PAIRS) {
      const served = [];
      const { port } = await listen(serverKind, {
        onSocket: (socket) => served.push(pipeline(socket, new PassThrough(), socket)),
      }, track);
      const client = track(connect(clientKind, { port }));
      const out = sink();
      await Promise.all([
        pipeline(Readable.from((function* chunks() {
          for (let i = 0; i < payload.length; i += 65536) yield payload.subarray(i, i + 65536);
        }())), client),
        pipeline(client, out),
      ]);
      expect(digest(out.data())).toBe(digest(payload));
      await Promise.all(served);
      await finished(client);
      expect(client.destroyed).toBe(true);
      expect(isCio(client)).toBe(clientKind === 'cio');
    }
  });

  test('events.once waits for connect, data and close; for await reads a socket to its end (every pairing)', async () => {
    for (const [serverKind, clientKind] of PAIRS) {
      const { port } = await listen(serverKind, {
        onSocket: async (socket) => {
          let got = '';
          for await (const chunk of socket) {
            got += chunk;
            if (got.endsWith('\n')) break; // leaving the loop destroys the socket, as Node's does
          }
        },
      }, track);
      const { port: port2 } = await listen(serverKind, {
        onSocket: (socket) => socket.end('a'.repeat(100000)),
      }, track);
      const client = track(connect(clientKind, { port }));
      await events.once(client, 'connect');
      client.write('ping\n');
      const [hadError] = await events.once(client, 'close');
      expect(hadError).toBe(false);
      const reader = track(connect(clientKind, { port: port2 }));
      let n = 0;
      for await (const chunk of reader) n += chunk.length;
      expect(n).toBe(100000);
      expect(reader.destroyed).toBe(true);
    }
  });

  test('events.once rejects with the error of a socket whose peer refuses the connection (every client kind)', async () => {
    for (const clientKind of ['node', 'cio']) {
      const { server, port } = await listen('node', { onSocket: () => {} }, track);
      await new Promise((r) => server.close(r));
      const client = track(connect(clientKind, { port }));
      await expect(events.once(client, 'connect')).rejects.toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect', port });
    }
  });

  test('readline reads lines split across writes from a socket, and a line protocol answers each (every pairing)', async () => {
    for (const [serverKind, clientKind] of PAIRS) {
      const { port } = await listen(serverKind, {
        onSocket: async (socket) => {
          const rl = readline.createInterface({ input: socket, crlfDelay: Infinity });
          for await (const line of rl) socket.write(`${line.toUpperCase()}\n`);
          socket.end();
        },
      }, track);
      const client = track(connect(clientKind, { port }));
      const lines = [];
      const rl = readline.createInterface({ input: client, crlfDelay: Infinity });
      const done = (async () => { for await (const line of rl) lines.push(line); })();
      client.write('alpha\nbe');
      client.write('ta\r\ngamma');
      client.end('\n');
      await done;
      expect({ pairing: `${serverKind}/${clientKind}`, lines }).toEqual({ pairing: `${serverKind}/${clientKind}`, lines: ['ALPHA', 'BETA', 'GAMMA'] });
    }
  });

  test("a reply written once a promise settles after 'data' reaches a peer that sent its data and FIN together (every pairing)", async () => {
    for (const [serverKind, clientKind] of PAIRS) {
      const { port } = await listen(serverKind, {
        onSocket: (socket) => {
          // allowHalfOpen is false: the socket ends itself on EOF, after the promise jobs of
          // the read that came before it, as Node runs each read's callback on its own
          socket.on('data', (d) => Promise.resolve().then(() => socket.write(`echo ${d}`)));
        },
      }, track);
      const client = track(connect(clientKind, { port }));
      client.end('x');
      let got = '';
      client.on('data', (d) => { got += d; });
      await new Promise((resolve, reject) => { client.on('close', resolve); client.on('error', reject); });
      expect({ pairing: `${serverKind}/${clientKind}`, got }).toEqual({ pairing: `${serverKind}/${clientKind}`, got: 'echo x' });
    }
  });

  test('pipeline destroys the socket and rejects when the sink fails; the peer sees the close (every pairing)', async () => {
    for (const [serverKind, clientKind] of PAIRS) {
      let peer;
      const { port } = await listen(serverKind, {
        onSocket: (socket) => {
          peer = socket;
          socket.on('error', () => {});
          socket.write(Buffer.alloc(100000, 1));
        },
      }, track);
      const client = track(connect(clientKind, { port }));
      const failing = new Writable({ write(chunk, enc, cb) { cb(new Error('sink failed')); } });
      await expect(pipeline(client, failing)).rejects.toThrow('sink failed');
      expect(client.destroyed).toBe(true);
      if (!peer.destroyed) await new Promise((r) => peer.once('close', r));
    }
  });
});
