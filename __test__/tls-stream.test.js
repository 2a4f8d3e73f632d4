'use strict';
// Established TLS connections carry data like Node's: bulk both ways under backpressure, a
// paused reader that resumes later, bytes sent right after the handshake, half-close. (cio
// runs established connections on Node's own loop; these hold for that path and for the
// runtime path alike: `CIO_IO=tokio npx jest` runs them on the latter.)
const crypto = require('crypto');
const tls = require('tls');
const { F, read, tracker, mutualServer, asClient, buildCio, until } = require('./tls-helpers');

const track = tracker();
afterEach(() => track.closeAll());

const trust = { ca: F('ca.crt'), servername: 'localhost' };
const sha = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

/** A cio mutual-TLS server; `onSecure(socket)` for each client. Resolves the port. */
async function cioServer(onSecure, options = {}) {
  const server = buildCio().server(mutualServer(options));
  track(server);
  server.on('secureConnection', (socket) => { track(socket); onSecure(socket); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return server.address().port;
}

function cioClient(port) {
  const client = buildCio(asClient('alice')).client({ port, host: '127.0.0.1', ...trust });
  return track(client);
}

/** Writes `data` in 64 KiB chunks, waiting for 'drain' whenever write() says so. */
function writeAll(socket, data) {
  return new Promise((resolve) => {
    let off = 0;
    const pump = () => {
      while (off < data.length) {
        const chunk = data.subarray(off, off + 65536);
        off += chunk.length;
        if (!socket.write(chunk)) return socket.once('drain', pump);
      }
      resolve();
    };
    pump();
  });
}

function collect(socket, bytes) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let n = 0;
    socket.on('data', (d) => {
      chunks.push(d);
      n += d.length;
      if (n >= bytes) resolve(Buffer.concat(chunks));
    });
    socket.on('error', reject);
  });
}

describe('established TLS connections', () => {
  test('8 MiB echoed through a cio server come back intact under backpressure', async () => {
    const port = await cioServer((s) => s.pipe(s));
    const data = crypto.randomBytes(8 * 1024 * 1024);
    const client = cioClient(port);
    await new Promise((r) => client.once('secureConnect', r));
    const back = collect(client, data.length);
    await writeAll(client, data);
    const got = await back;
    expect(got.length).toBe(data.length);
    expect(sha(got)).toBe(sha(data));
  });

  test('a paused reader loses nothing: 16 MiB wait in the kernel and arrive on resume', async () => {
    let serverSocket;
    let onPaused;
    const paused = new Promise((resolve) => { onPaused = resolve; });
    const port = await cioServer((s) => { serverSocket = s; s.pause(); onPaused(); });
    const data = crypto.randomBytes(16 * 1024 * 1024);
    const client = cioClient(port);
    await new Promise((r) => client.once('secureConnect', r));
    await paused;
    const written = writeAll(client, data);
    // More than the kernel buffers hold: the writer ends up waiting for 'drain'.
    await until(() => client.writableNeedDrain);
    const got = collect(serverSocket, data.length);
    serverSocket.resume();
    await written;
    expect(sha(await got)).toBe(sha(data));
  });

  test('bytes a Node client sends with its first flight reach the cio server, and end() closes cleanly', async () => {
    const received = [];
    const port = await cioServer((s) => {
      s.on('data', (d) => received.push(d));
      s.on('end', () => s.end('bye'));
    });
    const client = track(tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: read('ca.crt'), cert: read('alice.crt'), key: read('alice.key') }));
    client.write('early bytes'); // queued before the handshake completes
    client.end();
    let answer = '';
    client.on('data', (d) => { answer += d; });
    const hadError = await new Promise((r) => client.on('close', r));
    expect(hadError).toBe(false);
    expect(Buffer.concat(received).toString()).toBe('early bytes');
    expect(answer).toBe('bye');
  });

  test('allowHalfOpen: the cio client keeps writing after the server ended its side', async () => {
    let serverGot;
    const port = await cioServer((s) => {
      s.end('server done');
      let got = '';
      s.on('data', (d) => { got += d; });
      serverGot = new Promise((r) => s.on('end', () => r(got)));
    }, { allowHalfOpen: true });
    const client = buildCio(asClient('alice')).client({ port, host: '127.0.0.1', allowHalfOpen: true, ...trust });
    track(client);
    let text = '';
    client.on('data', (d) => { text += d; });
    await new Promise((r) => client.once('end', r));
    expect(text).toBe('server done');
    client.end('still writing');
    expect(await new Promise((r) => client.on('close', r))).toBe(false);
    expect(await serverGot).toBe('still writing');
  });
});
