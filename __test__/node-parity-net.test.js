'use strict';
// Node parity for the net behaviours issue 12 fixed: every scenario runs once with Node's own
// `net` and once with cio (through the public entry), and the two outcomes must be equal.
// Sockets on 127.0.0.1 with ephemeral ports; every socket and server is closed.
const net = require('net');
const fs = require('fs');
const os = require('os');
const path = require('path');
const util = require('util');
const events = require('events');
const { spawnSync } = require('child_process');
const cio = require('..');

const impls = { node: net, cio };

// Runs `scenario(impl)` for both and expects equal results; returns them.
async function parity(scenario) {
  const nodeResult = await scenario(impls.node, 'node');
  const cioResult = await scenario(impls.cio, 'cio');
  expect(cioResult).toEqual(nodeResult);
  return nodeResult;
}

// What a synchronous call threw (or 'no throw'), in comparable form.
function thrown(fn) {
  try {
    fn();
    return 'no throw';
  } catch (err) {
    return { name: err.name, code: err.code, message: err.message };
  }
}

function listening(impl, ...args) {
  return new Promise((resolve, reject) => {
    const server = impl.createServer(...args);
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function closed(server) {
  return new Promise((resolve) => server.close(() => resolve()));
}

function errorOf(emitter) {
  return new Promise((resolve) => emitter.once('error', (err) => resolve({ name: err.name, code: err.code, message: err.message })));
}

describe('node parity: net', () => {
  test('Socket and Server are callable without new and subclassable the old way', () => parity((impl) => {
    function Legacy(opts) {
      impl.Socket.call(this, opts);
      this.legacy = true;
    }
    util.inherits(Legacy, impl.Socket);
    const legacy = new Legacy({ allowHalfOpen: true });
    const plain = impl.Socket();
    const server = impl.Server();
    const out = {
      socket: plain instanceof impl.Socket,
      server: server instanceof impl.Server,
      legacy: legacy instanceof impl.Socket && legacy.legacy && legacy.allowHalfOpen,
      endListeners: impl.Socket({ allowHalfOpen: false }).listenerCount('end'),
    };
    plain.destroy();
    legacy.destroy();
    return out;
  }));

  test('synchronous argument checks throw Node\'s codes and messages', () => parity((impl) => ({
    noArgs: thrown(() => impl.Socket().connect()),
    objectMode: thrown(() => impl.Socket({ objectMode: true })),
    readableObjectMode: thrown(() => impl.Socket({ readableObjectMode: true })),
    localAddress: thrown(() => impl.connect({ port: 1, host: '127.0.0.1', localAddress: 'not-an-ip' })),
    lookup: thrown(() => impl.connect({ port: 1, host: 'example.invalid', lookup: 'x' })),
    autoSelectFamily: thrown(() => impl.connect({ port: 1, host: 'example.invalid', autoSelectFamily: 'x' })),
    createServer: thrown(() => impl.createServer('x')),
    listenPortAndPath: thrown(() => impl.createServer().listen({ port: -1, path: '/tmp/x.sock' })),
    listenNothing: thrown(() => impl.createServer().listen({ host: '127.0.0.1' })),
    listenSignal: thrown(() => impl.createServer().listen({ port: 0, signal: 1 })),
    setTimeoutString: thrown(() => impl.Socket().setTimeout('100')),
    setTimeoutCallback: thrown(() => impl.Socket().setTimeout(1, 'x')),
    keepAliveInitialDelay: thrown(() => impl.Socket({ keepAliveInitialDelay: 'x' })),
    serverHighWaterMark: thrown(() => impl.createServer({ highWaterMark: 'x' })),
  })));

  test('a lookup that gives no usable address fails with ERR_INVALID_IP_ADDRESS', () => parity(async (impl) => {
    const socket = impl.connect({ host: 'example.invalid', port: 1, lookup: (h, o, cb) => (o.all ? cb(null, [{ address: undefined, family: 4 }]) : cb(null, undefined, 4)) });
    return errorOf(socket);
  }));

  test('family names and the attempted-addresses list of autoSelectFamily', () => parity(async (impl) => {
    const server = await listening(impl, (s) => s.end());
    const { port } = server.address();
    const byName = impl.connect({ host: 'localhost', port, family: 'IPv4' });
    await events.once(byName, 'connect');
    const family = byName.remoteFamily;
    byName.destroy();
    // ::1 refuses (nobody listens there), then 127.0.0.1 answers.
    const lookup = (h, o, cb) => cb(null, [{ address: '::1', family: 6 }, { address: '127.0.0.1', family: 4 }]);
    const multi = impl.connect({ host: 'example.test', port, lookup, autoSelectFamily: true });
    await events.once(multi, 'connect');
    const attempted = multi.autoSelectFamilyAttemptedAddresses.map((a) => a.replace(`:${port}`, ':PORT'));
    multi.destroy();
    await closed(server);
    return { family, attempted };
  }));

  test('resetAndDestroy: RST to the peer, ERR_SOCKET_CLOSED without a connection or on a Unix socket', () => parity(async (impl) => {
    const unconnected = impl.Socket();
    const unconnectedErr = errorOf(unconnected);
    unconnected.resetAndDestroy();
    let peer;
    const server = await listening(impl, (s) => { peer = s; });
    const client = impl.connect(server.address().port, '127.0.0.1');
    await events.once(client, 'connect');
    const serverSideErr = await new Promise((resolve) => {
      const check = () => {
        peer.once('error', (err) => resolve({ code: err.code, message: err.message }));
        client.resetAndDestroy();
      };
      if (peer) check();
      else server.once('connection', check);
    });
    await closed(server);

    const sockPath = path.join(os.tmpdir(), `cio-parity-${process.pid}-${Date.now()}.sock`);
    const unix = impl.createServer((s) => s.destroy());
    await new Promise((r) => unix.listen(sockPath, r));
    const uc = impl.connect(sockPath);
    await events.once(uc, 'connect');
    const unixThrow = thrown(() => uc.resetAndDestroy());
    uc.destroy();
    await closed(unix);
    return { unconnected: await unconnectedErr, serverSideErr, unixThrow };
  }));

  test('resetAndDestroy while connecting resets once connected', () => parity(async (impl) => {
    let peerErr;
    const server = await listening(impl, (s) => {
      peerErr = new Promise((resolve) => s.once('error', (err) => resolve(err.code)));
    });
    const client = impl.connect(server.address().port, '127.0.0.1');
    client.resetAndDestroy();
    await events.once(client, 'close');
    await new Promise((r) => (peerErr ? r() : server.once('connection', () => r())));
    const code = await peerErr;
    await closed(server);
    return code;
  }));

  test('connect() again after close reuses the same socket', () => parity(async (impl) => {
    const server = await listening(impl, (s) => s.end('hi'));
    const { port } = server.address();
    const socket = impl.Socket();
    const rounds = [];
    for (let i = 0; i < 2; i++) {
      const got = [];
      socket.connect(port, '127.0.0.1');
      socket.on('data', (d) => got.push(String(d)));
      await events.once(socket, 'close');
      socket.removeAllListeners('data');
      rounds.push({ got: got.join(''), destroyed: socket.destroyed, bytesRead: socket.bytesRead });
    }
    await closed(server);
    return rounds;
  }));

  test('a write made while connecting fails with ERR_SOCKET_CLOSED_BEFORE_CONNECTION on destroy', () => parity(async (impl) => {
    const server = await listening(impl);
    const socket = impl.connect(server.address().port, '127.0.0.1');
    const result = new Promise((resolve) => socket.write('x', (err) => resolve({ code: err && err.code, message: err && err.message })));
    socket.destroy();
    const out = await result;
    await closed(server);
    return out;
  }));

  test('a connected socket that is paused does not keep the process alive', () => parity((impl, name) => {
    const script = `
      const net = require(${JSON.stringify(name === 'node' ? 'net' : path.join(__dirname, '..'))});
      net.createServer((c) => c.unref()).listen(0, '127.0.0.1', function () {
        net.connect(this.address().port, '127.0.0.1').pause();
        setTimeout(() => process.exit(3), 3000).unref();
      }).unref();`;
    const r = spawnSync(process.execPath, ['-e', script], { timeout: 10000 });
    return r.status;
  }));

  test('events.captureRejections: a rejected connection listener destroys that socket', () => parity(async (impl) => {
    const server = impl.createServer({});
    server[events.captureRejectionSymbol] = impl.Server.prototype[events.captureRejectionSymbol];
    const capture = new events.EventEmitter({ captureRejections: true });
    // The server's own captureRejections switch, as `events.captureRejections = true` sets it.
    server[Object.getOwnPropertySymbols(capture).find((s) => String(s) === 'Symbol(kCapture)')] = true;
    let serverError = null;
    server.on('error', (err) => { serverError = err.message; });
    server.on('connection', async () => { throw new Error('kaboom'); });
    const socketErr = new Promise((resolve) => server.once('connection', (s) => s.once('error', (err) => resolve(err.message))));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const client = impl.connect(server.address().port, '127.0.0.1');
    client.on('error', () => {});
    const out = { socketErr: await socketErr };
    await events.once(client, 'close');
    await closed(server);
    out.serverError = serverError;
    return out;
  }));

  test('a write after the peer ended, without allowHalfOpen, fails with EPIPE', () => parity(async (impl) => {
    const server = await listening(impl, (s) => s.end());
    const client = impl.connect(server.address().port, '127.0.0.1');
    client.resume();
    await events.once(client, 'end');
    const emitted = errorOf(client);
    const err = await new Promise((resolve) => client.write('late', (e) => resolve(e)));
    client.destroy();
    await closed(server);
    return { code: err && err.code, message: err && err.message, emitted: await emitted };
  }));

  test('listen with an AbortSignal closes the server; the connect signal destroys with AbortError', () => parity(async (impl) => {
    const ac = new AbortController();
    const server = impl.createServer();
    await new Promise((r) => server.listen({ port: 0, host: '127.0.0.1', signal: ac.signal }, r));
    const closedEvent = events.once(server, 'close');
    ac.abort();
    await closedEvent;
    const pre = new AbortController();
    pre.abort();
    const socket = impl.connect({ port: 1, host: '127.0.0.1', signal: pre.signal });
    const err = await errorOf(socket);
    return { listening: server.listening, err };
  }));

  test('_connecting, highWaterMark, setTimeout after destroy, bytes counters', () => parity(async (impl) => {
    const server = await listening(impl, (s) => s.resume().end('12345'));
    const socket = impl.Socket({ highWaterMark: 5 });
    const hwm = [socket.readableHighWaterMark, socket.writableHighWaterMark];
    socket.connect(server.address().port, '127.0.0.1');
    const connecting = socket._connecting;
    socket.write('abc');
    socket.resume();
    await events.once(socket, 'close');
    const afterDestroy = socket.setTimeout(5, () => {}) === socket && socket.listenerCount('timeout');
    await closed(server);
    return { hwm, connecting, afterDestroy, bytesRead: socket.bytesRead, bytesWritten: socket.bytesWritten };
  }));

  test('onread: the caller\'s buffer, no data events, stop by returning false', () => parity(async (impl) => {
    const server = await listening(impl, (s) => s.end('hello world'));
    const buf = Buffer.alloc(4);
    const got = [];
    const socket = impl.connect({
      port: server.address().port,
      host: '127.0.0.1',
      onread: {
        buffer: buf,
        callback(n, b) {
          got.push([n, b === buf, b.toString('latin1', 0, n)]);
          if (got.length === 1) {
            setImmediate(() => this.resume());
            return false;
          }
          return true;
        },
      },
    });
    let dataEvents = 0;
    socket.on('data', () => dataEvents++);
    await events.once(socket, 'end');
    socket.destroy();
    await closed(server);
    return { got, dataEvents };
  }));

  test('listen({ path, readableAll, writableAll }) opens the socket file to everyone', () => parity(async (impl, name) => {
    const sockPath = path.join(os.tmpdir(), `cio-parity-${name}-${process.pid}.sock`);
    const server = impl.createServer();
    await new Promise((r) => server.listen({ path: sockPath, readableAll: true, writableAll: true }, r));
    // eslint-disable-next-line no-bitwise
    const mode = fs.statSync(sockPath).mode & 0o666;
    await closed(server);
    return mode;
  }));
});

// The TLS parts of the same issue that sit on these sockets: Node's tls vs cio's isSecure.
describe('node parity: tls details', () => {
  const tls = require('tls');
  const fx = (f) => fs.readFileSync(path.join(__dirname, 'fixtures', f));
  const serverOpts = { key: fx('server.key'), cert: fx('server.crt') };
  const tlsImpls = {
    node: { connect: (o, cb) => tls.connect(o, cb), createServer: (o, l) => tls.createServer(o, l) },
    cio: { connect: (o, cb) => cio.connect({ ...o, isSecure: true }, cb), createServer: (o, l) => cio.createServer({ ...o, isSecure: true }, l) },
  };
  async function tlsParity(scenario) {
    const nodeResult = await scenario(tlsImpls.node, 'node');
    const cioResult = await scenario(tlsImpls.cio, 'cio');
    expect(cioResult).toEqual(nodeResult);
  }

  test('servername and ALPNProtocols are checked as Node checks them (no napi-rs error, nothing malformed on the wire)', () => tlsParity((impl) => {
    // A lookup that never answers: Node's tls.connect starts connecting before it checks
    // servername, and the socket it leaves behind on that throw must not go anywhere.
    const lookup = () => {};
    const attempt = (o) => thrown(() => impl.connect({ port: 1, host: 'example.invalid', lookup, ...o }).on('error', () => {}).destroy());
    return {
      servername: attempt({ servername: 1 }),
      tooLong: attempt({ ALPNProtocols: ['x'.repeat(300)] }),
      notString: attempt({ ALPNProtocols: [1] }),
      fine: attempt({ ALPNProtocols: ['h2', 'http/1.1'] }),
    };
  }));

  test('ALPNProtocols as one wire-format Buffer, as Node takes it', () => tlsParity(async (impl) => {
    const server = tls.createServer({ ...serverOpts, ALPNProtocols: ['http/1.1'] }, (s) => s.end());
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const wire = Buffer.from([2, 104, 50, 8, 104, 116, 116, 112, 47, 49, 46, 49]); // h2, http/1.1
    const client = impl.connect({ port: server.address().port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: wire });
    await events.once(client, 'secureConnect');
    const chosen = client.alpnProtocol;
    client.destroy();
    await closed(server);
    return chosen;
  }));

  test('write() past the highWaterMark returns false and bufferSize counts this tick\'s writes', () => tlsParity(async (impl) => {
    const server = impl.createServer(serverOpts, (s) => s.resume());
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const client = impl.connect({ port: server.address().port, host: '127.0.0.1', rejectUnauthorized: false });
    await events.once(client, 'secureConnect');
    const sizes = [];
    for (let i = 1; i <= 3; i++) {
      client.write('a');
      sizes.push(client.bufferSize);
    }
    const big = client.write(Buffer.alloc(1024 * 1024));
    await events.once(client, 'drain');
    client.end();
    await events.once(client, 'close');
    await closed(server);
    return { sizes, big };
  }));

  test('a peer that leaves during the handshake: ECONNRESET with the connect options (client), \'socket hang up\' (server)', () => tlsParity(async (impl) => {
    const plain = net.createServer((c) => c.resume().end());
    await new Promise((r) => plain.listen(0, '127.0.0.1', r));
    const client = impl.connect({ port: plain.address().port, family: 4, localAddress: '127.0.0.1' }, () => {});
    const clientErr = await new Promise((resolve) => client.once('error', (e) => resolve({
      code: e.code, message: e.message, host: e.host, port: e.port === plain.address().port, localAddress: e.localAddress, path: e.path,
    })));
    await closed(plain);

    const server = impl.createServer(serverOpts, () => {});
    const serverErr = new Promise((resolve) => server.once('tlsClientError', (e) => resolve({ code: e.code, message: e.message })));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    net.connect(server.address().port, '127.0.0.1', function leave() { this.destroy(); });
    const out = { clientErr, serverErr: await serverErr };
    await closed(server);
    return out;
  }));
});
