'use strict';
// TLS options are checked as Node's tls checks them, with Node's codes and messages, before
// anything reaches the native side or the wire; the same calls are made on Node's tls and on
// cio's in each test.
const net = require('net');
const tls = require('tls');
const cio = require('..');
const { F, read, tracker, buildCio } = require('./tls-helpers');

const track = tracker();
afterEach(() => track.closeAll());

const key = read('server.key');
const cert = read('server.crt');

/** The error a call throws, as [code, message], or 'no error' (a socket made is destroyed). */
function outcome(fn) {
  try {
    const made = fn();
    if (made && typeof made.destroy === 'function') {
      made.on('error', () => {});
      made.destroy();
    }
    if (made && typeof made.close === 'function') made.close();
    return 'no error';
  } catch (err) {
    return [err.code, err.message];
  }
}

// Node sets the servername after it started connecting, so a call that throws there would leave
// a connecting socket behind: Node's calls get an unconnected socket of their own instead.
const nodeConnect = (o) => tls.connect({ socket: new net.Socket(), ...o });
const cioConnect = (o) => cio.connect({ port: 9, host: '127.0.0.1', isSecure: true, ...o });
const nodeServer = (o) => tls.createServer({ key, cert, ...o });
const cioServer = (o) => cio.createServer({ key, cert, isSecure: true, ...o });

describe('ALPNProtocols and servername are validated like Node\'s tls', () => {
  test.each([
    ['a protocol name over 255 bytes', { ALPNProtocols: ['h2', 'a'.repeat(256)] }],
    ['a protocol name that is not a string or Buffer', { ALPNProtocols: [5] }],
    ['a servername that is not a string', { servername: 5 }],
  ])('client: %s throws Node\'s error synchronously', (_name, options) => {
    const node = outcome(() => nodeConnect(options));
    expect(node).not.toBe('no error');
    expect(outcome(() => cioConnect(options))).toEqual(node);
  });

  test('server: a protocol name over 255 bytes throws Node\'s error', () => {
    const options = { ALPNProtocols: ['a'.repeat(300)] };
    const node = outcome(() => nodeServer(options));
    expect(node).not.toBe('no error');
    expect(outcome(() => cioServer(options))).toEqual(node);
  });

  test('cio.client() reports a bad ALPN list as a failed run carrying the same coded error', () => {
    const result = buildCio().client({ port: 9, host: '127.0.0.1', ca: F('ca.crt'), ALPNProtocols: ['a'.repeat(256)] });
    expect(result.failed.error.code).toBe('ERR_OUT_OF_RANGE');
  });

  test('ALPNProtocols as one Buffer is Node\'s wire format (length-prefixed names), negotiated like Node', async () => {
    const wire = Buffer.from('\x08http/1.1\x02h2', 'latin1');
    const negotiate = async (server) => {
      track(server);
      server.on('secureConnection', (s) => s.end());
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const client = track(tls.connect({ port: server.address().port, host: '127.0.0.1', ca: read('ca.crt'), servername: 'localhost', ALPNProtocols: ['h2'] }));
      await new Promise((resolve, reject) => { client.once('secureConnect', resolve); client.once('error', reject); });
      return client.alpnProtocol;
    };
    const node = await negotiate(nodeServer({ ALPNProtocols: wire }));
    const ours = await negotiate(cioServer({ ALPNProtocols: wire }));
    expect(node).toBe('h2');
    expect(ours).toBe(node);
    expect(outcome(() => cioServer({ ALPNProtocols: Buffer.from([5, 0x68]) }))[0]).toBe('ERR_INVALID_ARG_VALUE');
  });
});
