'use strict';
// ws (ws and wss), undici and mqtt (against an aedes broker) over cio sockets: servers fed the
// accepted sockets, clients given a socket through the library's own hook (ws's
// createConnection, undici's connect, mqtt's stream builder). Every pairing of Node's and cio's
// sockets runs in the same test, Node at both ends as the yardstick.
const http = require('http');
const https = require('https');
const { WebSocket, WebSocketServer } = require('ws');
const undici = require('undici');
const mqtt = require('mqtt');
const createBroker = require('aedes');
const { PAIRS, tracker, listen, connect, connected, isCio } = require('./library-helpers');

let track;
beforeEach(() => { track = tracker(); });
afterEach(() => track.closeAll());

function waitFor(emitter, event) {
  return new Promise((resolve, reject) => {
    const onError = (err) => reject(err);
    emitter.once(event, (...args) => {
      emitter.removeListener('error', onError);
      resolve(args);
    });
    if (event !== 'error') emitter.once('error', onError);
  });
}

describe('ws over cio sockets', () => {
  for (const secure of [false, true]) {
    test(`${secure ? 'wss' : 'ws'}: handleUpgrade on the server, createConnection on the client; text and binary echo and a clean close (every pairing)`, async () => {
      for (const [serverKind, clientKind] of PAIRS) {
        const wss = new WebSocketServer({ noServer: true });
        track({ destroy: () => wss.close() });
        const web = secure ? https.createServer({}) : http.createServer();
        track({ destroy: () => web.closeAllConnections() });
        const serverSide = [];
        web.on('upgrade', (req, socket, head) => {
          wss.handleUpgrade(req, socket, head, (ws) => {
            serverSide.push({ cio: isCio(socket), encrypted: Boolean(socket.encrypted), cn: secure ? socket.getPeerCertificate().subject.CN : undefined });
            ws.on('message', (data, isBinary) => ws.send(isBinary ? Buffer.concat([Buffer.from([0xff]), data]) : `echo:${data}`, { binary: isBinary }));
          });
        });
        const { port } = await listen(serverKind, {
          secure,
          onSocket: (socket) => web.emit(secure ? 'secureConnection' : 'connection', socket),
        }, track);
        let clientSocket;
        const ws = new WebSocket(`${secure ? 'wss' : 'ws'}://localhost:${port}/chat`, {
          createConnection: () => {
            clientSocket = connect(clientKind, { port, secure });
            return clientSocket;
          },
        });
        track({ destroy: () => ws.terminate() });
        await waitFor(ws, 'open');
        const replies = [];
        const twoReplies = new Promise((resolve) => ws.on('message', (data, isBinary) => {
          replies.push(isBinary ? [...data] : data.toString());
          if (replies.length === 2) resolve();
        }));
        ws.send('hello');
        ws.send(Buffer.from([1, 2, 3]));
        await twoReplies;
        expect(replies).toEqual(['echo:hello', [0xff, 1, 2, 3]]);
        expect(isCio(clientSocket)).toBe(clientKind === 'cio');
        expect(serverSide).toEqual([{ cio: serverKind === 'cio', encrypted: secure, cn: secure ? 'alice' : undefined }]);
        ws.close(1000, 'bye');
        const [code, reason] = await waitFor(ws, 'close');
        expect([code, reason.toString()]).toEqual([1000, 'bye']);
      }
    });
  }
});

describe('undici over cio sockets', () => {
  for (const secure of [false, true]) {
    test(`an undici Client with a custom connect (${secure ? 'TLS' : 'TCP'}) reuses one socket for sequential requests, with bodies (every pairing)`, async () => {
      for (const [serverKind, clientKind] of PAIRS) {
        const web = secure ? https.createServer({}) : http.createServer();
        track({ destroy: () => web.closeAllConnections() });
        web.on('request', (req, res) => {
          const chunks = [];
          req.on('data', (c) => chunks.push(c));
          req.on('end', () => res.end(JSON.stringify({ url: req.url, len: Buffer.concat(chunks).length, cio: isCio(req.socket) })));
        });
        const { port, sockets } = await listen(serverKind, {
          secure,
          onSocket: (socket) => web.emit(secure ? 'secureConnection' : 'connection', socket),
        }, track);
        const made = [];
        const client = new undici.Client(`${secure ? 'https' : 'http'}://localhost:${port}`, {
          connect: (opts, callback) => {
            const socket = connect(clientKind, { port, secure });
            made.push(socket);
            connected(socket, secure).then(() => callback(null, socket), (err) => callback(err, null));
          },
        });
        track({ destroy: () => client.destroy() });
        for (let i = 0; i < 3; i++) {
          const res = await client.request({ path: `/u${i}`, method: 'POST', body: Buffer.alloc(i * 20000, 0x61) });
          expect(res.statusCode).toBe(200);
          expect(await res.body.json()).toEqual({ url: `/u${i}`, len: i * 20000, cio: serverKind === 'cio' });
        }
        expect(made.length).toBe(1);
        expect(sockets.length).toBe(1);
        expect(isCio(made[0])).toBe(clientKind === 'cio');
        await client.close();
      }
    });
  }
});

describe('mqtt against an aedes broker over cio sockets', () => {
  test('a client subscribes, publishes QoS 0 and 1 and receives its messages through a broker fed cio sockets (every pairing)', async () => {
    for (const [serverKind, clientKind] of PAIRS) {
      const broker = createBroker();
      track({ destroy: () => broker.close() });
      const { port } = await listen(serverKind, { onSocket: (socket) => broker.handle(socket) }, track);
      const sockets = [];
      const client = new mqtt.MqttClient(() => {
        const socket = connect(clientKind, { port });
        sockets.push(socket);
        return socket;
      }, { protocolVersion: 4, clientId: `c-${serverKind}-${clientKind}`, reconnectPeriod: 0, keepalive: 30 });
      track({ destroy: () => client.end(true) });
      await waitFor(client, 'connect');
      const received = [];
      const both = new Promise((resolve) => client.on('message', (topic, payload, packet) => {
        received.push([topic, payload.toString(), packet.qos]);
        if (received.length === 2) resolve();
      }));
      await client.subscribeAsync('t/#', { qos: 1 });
      await client.publishAsync('t/a', 'zero', { qos: 0 });
      await client.publishAsync('t/b', 'one', { qos: 1 });
      await both;
      expect(received.sort()).toEqual([['t/a', 'zero', 0], ['t/b', 'one', 1]]);
      expect(sockets.length).toBe(1);
      expect(isCio(sockets[0])).toBe(clientKind === 'cio');
      await client.endAsync();
      await new Promise((r) => broker.close(r));
    }
  });
});
