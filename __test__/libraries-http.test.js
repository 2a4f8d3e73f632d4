'use strict';
// Node's http and https over cio sockets: the server fed accepted sockets with
// server.emit('connection' | 'secureConnection'), the client through an Agent whose
// createConnection returns the socket. Every pairing of Node's and cio's sockets runs in the
// same test, Node at both ends as the yardstick.
const http = require('http');
const https = require('https');
const { AsyncResource, triggerAsyncId } = require('async_hooks');
const { PAIRS, tracker, listen, connect, isCio, body } = require('./library-helpers');
const cio = require('..');

let track;
beforeEach(() => { track = tracker(); });
afterEach(() => track.closeAll());

function get(agent, port, path, method = 'GET', payload) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent, method }, (res) => {
      const { socket } = res; // the agent takes a kept-alive socket back after 'end'
      body(res).then((text) => resolve({ res, text, socket }), reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function httpAgent(clientKind, keepAlive) {
  const agent = new http.Agent({ keepAlive, maxSockets: 1 });
  track({ destroy: () => agent.destroy() });
  const made = [];
  agent.createConnection = (options) => {
    const socket = connect(clientKind, { port: options.port });
    made.push(socket);
    return socket;
  };
  return { agent, made };
}

async function httpServer(serverKind, handler) {
  const server = http.createServer(handler);
  track({ destroy: () => server.closeAllConnections() });
  const l = await listen(serverKind, { onSocket: (socket) => server.emit('connection', socket) }, track);
  return Object.assign(l, { http: server });
}

describe('http over cio sockets', () => {
  for (const keepAlive of [true, false]) {
    test(`an http.Agent (keepAlive ${keepAlive}) sends three requests with bodies; kept-alive sockets are reused (every pairing)`, async () => {
      const results = {};
      for (const [serverKind, clientKind] of PAIRS) {
        const { port, sockets } = await httpServer(serverKind, (req, res) => {
          const chunks = [];
          req.on('data', (c) => chunks.push(c));
          req.on('end', () => res.end(`${req.method} ${req.url} ${Buffer.concat(chunks).toString()} cio=${isCio(req.socket)}`));
        });
        const { agent, made } = httpAgent(clientKind, keepAlive);
        const texts = [];
        for (let i = 0; i < 3; i++) {
          const { text, socket } = await get(agent, port, `/r${i}`, 'POST', 'x'.repeat(i * 1000));
          expect(isCio(socket)).toBe(clientKind === 'cio');
          texts.push(text.replace(/x+/, (m) => `x*${m.length}`));
        }
        results[`${serverKind}/${clientKind}`] = { texts, connections: sockets.length, made: made.length };
        expect(texts).toEqual([0, 1, 2].map((i) => `POST /r${i} ${i ? `x*${i * 1000}` : ''} cio=${serverKind === 'cio'}`));
      }
      const expected = keepAlive ? 1 : 3;
      for (const r of Object.values(results)) {
        expect(r.connections).toBe(expected);
        expect(r.made).toBe(expected);
      }
    });
  }

  test('a kept-alive response is handed back to the agent in the async context of the socket handle (every pairing)', async () => {
    for (const [serverKind, clientKind] of PAIRS) {
      const { port } = await httpServer(serverKind, (req, res) => res.end('ok'));
      const { agent } = httpAgent(clientKind, true);
      // http's client frees a kept-alive socket in a nextTick whose trigger is the handle's
      // async id (defaultTriggerAsyncIdScope(socket._handle.getAsyncId(), ...))
      const freed = new Promise((resolve) => agent.once('free', (s) => resolve([s, triggerAsyncId()])));
      const { socket } = await get(agent, port, '/');
      const [freedSocket, trigger] = await freed;
      expect(freedSocket).toBe(socket);
      expect(trigger).toBe(socket._handle.getAsyncId());
      // reusing the pooled socket: Node's handle takes a new async id (asyncReset); a cio handle
      // has no asyncReset, so the agent's generic path keeps its id
      const again = await get(agent, port, '/again');
      expect(again.socket).toBe(socket);
      const after = socket._handle.getAsyncId();
      if (clientKind === 'cio') expect(after).toBe(trigger);
      else expect(after).toBeGreaterThan(trigger);
    }
  });

  test("the server pauses and resumes cio sockets through the handle's reading flag without stalling (pipelined requests)", async () => {
    for (const [serverKind, clientKind] of PAIRS) {
      const { port } = await httpServer(serverKind, (req, res) => {
        // answer out of step so the server pauses the socket while a request is pending
        setImmediate(() => res.end(`done ${req.url}`));
      });
      const socket = track(connect(clientKind, { port }));
      let text = '';
      const count = () => (text.match(/done \/p\d/g) || []).length;
      socket.on('data', (d) => { text += d; });
      // rounds of two pipelined requests: the server pauses the socket for the second and
      // resumes it after the first answer, and must read the next round after that
      for (let round = 0; round < 3; round++) {
        socket.write(`GET /p${2 * round} HTTP/1.1\r\nHost: x\r\n\r\nGET /p${2 * round + 1} HTTP/1.1\r\nHost: x\r\n\r\n`);
        await new Promise((resolve, reject) => {
          const check = () => { if (count() === 2 * round + 2) { socket.removeListener('data', check); resolve(); } };
          socket.on('data', check);
          socket.once('error', reject);
        });
      }
      expect(text.match(/done \/p\d/g)).toEqual(['done /p0', 'done /p1', 'done /p2', 'done /p3', 'done /p4', 'done /p5']);
      socket.destroy();
    }
  });
});

describe("http over the cio 0.5 API's sockets (the README example)", () => {
  test('cio().server onConnect feeds an http server; an agent makes its sockets with cio().client; keep-alive reuses one', async () => {
    const c = cio();
    const api = http.createServer((req, res) => res.end(`hi ${req.url}`));
    track({ destroy: () => api.closeAllConnections() });
    let connections = 0;
    const server = track(c.server({ onConnect: (socket) => { connections++; api.emit('connection', socket); } }));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const agent = new http.Agent({ keepAlive: true });
    track({ destroy: () => agent.destroy() });
    agent.createConnection = (options) => c.client({ port: options.port, host: options.host });
    const port = server.address().port;
    const a = await get(agent, port, '/a');
    const b = await get(agent, port, '/b');
    expect([a.text, b.text]).toEqual(['hi /a', 'hi /b']);
    expect(isCio(a.socket) && a.socket === b.socket).toBe(true);
    expect(connections).toBe(1);
  });
});

describe('https with mutual TLS over cio sockets', () => {
  test('the server sees the client certificate, authorized and the ALPN protocol; the client sees the server certificate; keep-alive reuses one connection (every pairing)', async () => {
    for (const [serverKind, clientKind] of PAIRS) {
      const server = https.createServer({}, (req, res) => {
        const s = req.socket;
        const peer = s.getPeerCertificate();
        res.end(JSON.stringify({
          cn: peer && peer.subject && peer.subject.CN, authorized: s.authorized, alpn: s.alpnProtocol, encrypted: s.encrypted, cio: isCio(s),
        }));
      });
      track({ destroy: () => server.closeAllConnections() });
      const tlsOptions = Object.assign({}, require('./library-helpers').TLS_SERVER, { ALPNProtocols: ['http/1.1'] });
      const { port, sockets } = await listen(serverKind, { secure: true, tlsOptions, onSocket: (socket) => server.emit('secureConnection', socket) }, track);
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
      track({ destroy: () => agent.destroy() });
      agent.createConnection = (options) => connect(clientKind, { port: options.port, secure: true, extra: { ALPNProtocols: ['http/1.1'] } });
      for (let i = 0; i < 2; i++) {
        const { seen, text } = await new Promise((resolve, reject) => {
          https.get({ host: '127.0.0.1', port, path: `/${i}`, agent }, (r) => {
            const s = r.socket;
            const cert = s.getPeerCertificate();
            const view = { cn: cert.subject.CN, authorized: s.authorized, alpn: s.alpnProtocol, cio: isCio(s) };
            body(r).then((t) => resolve({ seen: view, text: t }), reject);
          }).on('error', reject);
        });
        expect(JSON.parse(text)).toEqual({ cn: 'alice', authorized: true, alpn: 'http/1.1', encrypted: true, cio: serverKind === 'cio' });
        expect(seen).toEqual({ cn: 'localhost', authorized: true, alpn: 'http/1.1', cio: clientKind === 'cio' });
      }
      expect(sockets.length).toBe(1);
    }
  });
});

describe('the handle surface Node calls on socket._handle', () => {
  test('getAsyncId is an async_hooks id; isStreamBase, asyncReset and getProviderType are absent so Node takes its generic path', async () => {
    const { port } = await listen('cio', { onSocket: () => {} }, track);
    const socket = track(cio.connect({ port, host: '127.0.0.1' }));
    await new Promise((r) => socket.once('connect', r));
    const h = socket._handle;
    const before = new AsyncResource('probe').asyncId();
    const id = h.getAsyncId();
    expect(id).toBeGreaterThan(before);
    expect(h.getAsyncId()).toBe(id);
    for (const name of ['isStreamBase', 'asyncReset', 'getProviderType']) expect(h[name]).toBeUndefined();
    expect(h.reading).toBe(true); // a connected handle reads until told to stop
  });

  test("the handle's reading flag follows the socket's flow control: off once unread data fills the buffer, on again when it is read", async () => {
    let accepted;
    const got = new Promise((resolve) => { accepted = resolve; });
    const { port } = await listen('cio', { onSocket: (s) => { s.pause(); accepted(s); } }, track);
    const client = track(cio.connect({ port, host: '127.0.0.1' }));
    const total = 4 * 1024 * 1024;
    client.on('connect', () => client.end(Buffer.alloc(total, 7)));
    const socket = await got;
    const h = socket._handle;
    const deadline = Date.now() + 5000;
    while (h.reading && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(h.reading).toBe(false); // stopped by backpressure (push() returned false)
    expect(socket.readableLength).toBeGreaterThan(0);
    let n = 0;
    socket.on('data', (d) => { n += d.length; });
    socket.resume();
    await new Promise((r) => setImmediate(r));
    expect(h.reading).toBe(true);
    await new Promise((r) => socket.once('end', r));
    expect(n).toBe(total);
  });
});
