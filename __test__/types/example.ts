// Compile-only example (tsc --noEmit --strict): uses every part of cio's public API as typed
// by index.d.ts. It is never run. `// @ts-expect-error` lines prove misuse is rejected.

import buildCio = require('../..');
import { readFileSync } from 'fs';
import * as tls from 'tls';

type Cio = buildCio.Cio;

// ---- the builder and its error result ------------------------------------------------------

const built = buildCio({
  private: 'test/certs/server.key', // a path: read now, relative to process.cwd()
  public: readFileSync('test/certs/server.crt'),
  root: ['test/certs/ca.crt', readFileSync('test/certs/other-ca.crt')],
  noRelisten: false,
  retryDelay: 500,
  maxRetries: 5,
  myAddonOption: { anything: true }, // addons read their own options from the context
});
if ('error' in built) {
  // { error: "Unable to read 'key' from: /abs/path", reason: Error }
  const message: string = built.error;
  const code: string | undefined = built.reason && built.reason.code;
  console.error(message, code, built.options);
  throw built.reason;
}
const cio: Cio = built;
const plainCio = buildCio();
const withNothing = buildCio(undefined);
void plainCio;
void withNothing;

// @ts-expect-error module options must be an object
buildCio(5);
// @ts-expect-error retryDelay is a number of milliseconds
buildCio({ retryDelay: 'soon' });
// @ts-expect-error cio's TLS runs on rustls: TLSv1.2 and TLSv1.3 only
buildCio({ minVersion: 'TLSv1' });

// ---- listeners, ordering, registration errors ----------------------------------------------

function logClient(this: buildCio.ClientContext, control: buildCio.Control<buildCio.ClientContext>, context: buildCio.ClientContext): void {
  const port: number | string | undefined = this.port;
  const same: boolean = context === this;
  console.log('client run', port, same, control.chain.array.length);
}
logClient.options = { id: 'my/log-client', after: ['cio/secure'], before: ['cio/createClient'] } as buildCio.ListenerOptions;

const afterCreate: buildCio.Listener<buildCio.ClientContext> = Object.assign(
  (control: buildCio.Control<buildCio.ClientContext>, context: buildCio.ClientContext) => {
    const socket = context.client;
    if (socket) socket.setNoDelay(true);
    if (context.isSecure === false) control.stop('plain');
  },
  { options: { id: 'my/after-create', after: ['cio/createClient'] } },
);

const firstOfAll: buildCio.Listener<buildCio.ServerContext> = function firstOfAll(control, context) {
  const chain: buildCio.Chain<buildCio.ServerContext> = control.chain;
  console.log(chain.orderError, context.cio === cio);
};
firstOfAll.options = { id: 'my/first', before: ['*'], this: { custom: 'this' } };

let registered = cio.onClient(logClient, afterCreate);
registered = cio.onClient([logClient, '@cio/transformer']);
registered = cio.onClient('./my-addon', '/abs/path/addon.js');
registered = cio.onServer(firstOfAll, function (control, context) {
  // `this` and `context` are the server context
  if (this.requestCert && !context.isClientAllowed) control.fail('no allow-list')
});
registered = cio.onServerClient(function checkPeer(control, context) {
  const socket = context.serverClient;
  if ('encrypted' in socket) {
    const peer = socket.getPeerCertificate();
    if (peer && peer.subject && peer.subject.CN === 'mallory') return control.fail('not you', new Error('mallory'));
  }
  return undefined;
});
if (registered !== undefined) {
  // { error, arg } or { error: 'Unable to require module: x', reason }
  const err: buildCio.RegisterError = registered;
  console.error(err.error, err.arg, err.reason, err.exported);
}

// @ts-expect-error a number is not a listener
cio.onClient(42);
// @ts-expect-error listener options: before is an array of ids
cio.onServer(Object.assign(() => undefined, { options: { before: 'cio/secure' } }));
// @ts-expect-error a client listener sees a client context, not a server-client one
cio.onClient((control: buildCio.Control<buildCio.ServerClientContext>) => control.next());

// ---- control: fail, stop, pause/resume, resume.callback, next, context, remove, disable ----

cio.onClient(function everyControl(control, context) {
  const failed = control.fail('bad', new Error('why'));
  if (failed.result) {
    const f: buildCio.Failure<buildCio.ClientContext> = failed.failed;
    console.log(f.reason, f.index, f.fn, f.error);
  } else {
    const reason: string = failed.reason;
    console.log(reason);
  }
  const stopped = control.stop('done early');
  if (stopped.result) console.log(stopped.stopped.index);

  const resume = control.pause('waiting for a lookup');
  setTimeout(() => resume(), 10);
  const resume2 = control.pause();
  require('dns').lookup('localhost', resume2.callback('lookup failed', 'address'));
  const cb: (error?: unknown, value?: unknown) => { result: boolean } = control.pause().callback();
  cb(null, 1);

  const rest = control.next();
  if (rest.result && 'context' in rest) {
    console.log(rest.context.client, rest.stopped, rest.failed, rest.removed, rest.paused);
  }
  control.next(Object.create(context), true);
  control.context(Object.create(context));
  control.context(context, true);
  const removed = control.remove('one shot');
  if (removed.result) console.log(removed.removed.length);
  control.disable('not now');
  control.disable();
});

// ---- client with TLS options ----------------------------------------------------------------

const tlsClient = cio.client({
  host: 'localhost',
  port: 8443,
  key: 'certs/alice.key',
  cert: 'certs/alice.crt',
  ca: ['certs/ca.crt'],
  servername: 'localhost',
  rejectUnauthorized: true,
  ALPNProtocols: ['h2', 'http/1.1'],
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  sessionResumption: true,
  handshakeTimeout: 5000,
  connectTimeout: 2000,
  timeout: 30000,
  noDelay: true,
  keepAlive: true,
  keepAliveInitialDelay: 1000,
  allowHalfOpen: false,
  localAddress: '127.0.0.1',
  localPort: 0,
  checkServerIdentity: (host, cert) => tls.checkServerIdentity(host, cert as unknown as tls.PeerCertificate),
  onConnect() {
    // `this` is the socket; no arguments
    this.write('hello');
  },
  reconnect: { retryDelay: 100, maxDelay: 5000, factor: 2, maxRetries: 10 },
});
if (tlsClient instanceof buildCio.Socket) {
  const secure: buildCio.TLSSocket = tlsClient; // the TLS overload: key/cert/ca given
  useTlsSocket(secure);
} else if ('error' in tlsClient) {
  console.error(tlsClient.error, tlsClient.options);
} else if (tlsClient.result === false && 'reason' in tlsClient) {
  const disabled: 'chain disabled' = tlsClient.reason;
  console.log(disabled);
} else if ('chain' in tlsClient) {
  // the chain failed (e.g. "Unable to read 'key' from: ..."), stopped or paused first
  const failed = tlsClient.failed;
  if (failed) console.error(failed.reason, failed.error, failed.index, failed.fn.options);
  console.log(tlsClient.stopped, tlsClient.paused, tlsClient.context.cio);
}

const plain = cio.client({ port: '8080', host: '::1', isSecure: false, family: 6 });
if (plain instanceof buildCio.Socket) useSocket(plain);
const unix = cio.client({ path: '/tmp/cio.sock' });
if (unix instanceof buildCio.Socket) {
  if ('encrypted' in unix) useTlsSocket(unix); // module options may make it TLS
  else useSocket(unix);
}
cio.client();

// @ts-expect-error port is a number or a string
cio.client({ port: true });
// @ts-expect-error onConnect is a function
cio.client({ onConnect: 'yes' });
// @ts-expect-error ALPN protocol names are strings or Buffers
cio.client({ ALPNProtocols: [1, 2] });

function useSocket(socket: buildCio.Socket): void {
  const ok: boolean = socket.write('data', 'utf8', (err) => { if (err) console.error(err); });
  socket.write(Buffer.from('x'), () => undefined);
  socket.setEncoding('utf8');
  socket.setNoDelay().setKeepAlive(true, 1000).setTimeout(5000, () => socket.end()).ref().unref();
  const addr = socket.address();
  if ('port' in addr) console.log(addr.address, addr.family, addr.port);
  const state: buildCio.SocketReadyState = socket.readyState;
  console.log(ok, state, socket.remoteAddress, socket.remotePort, socket.remoteFamily, socket.localAddress,
    socket.localPort, socket.localFamily, socket.bytesRead, socket.bytesWritten, socket.connecting,
    socket.pending, socket.timeout, socket.server, socket.destroyed);
  socket.on('connect', () => undefined)
    .on('ready', () => undefined)
    .on('data', (data) => { const d: Buffer | string = data; console.log(d.length); })
    .on('end', () => socket.end())
    .on('close', (hadError) => { const h: boolean = hadError; console.log(h); })
    .on('error', (err) => {
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND') console.log(err.syscall, err.address, err.port);
      if (err.code === 'ERR_CIO_CLIENT_REJECTED') console.log(err.message);
    })
    .on('drain', () => undefined)
    .on('timeout', () => socket.destroy())
    .once('lookup', (err, address, family, host) => console.log(err, address, family, host));
  socket.pipe(process.stdout);
  socket.end('bye', 'utf8', () => undefined);
  socket.destroySoon();
  socket.destroy(new Error('done'));
  // @ts-expect-error 'close' passes a boolean
  socket.on('close', (hadError: string) => hadError);
  // @ts-expect-error setTimeout takes milliseconds
  socket.setTimeout('5s');
}

function useTlsSocket(socket: buildCio.TLSSocket): void {
  useSocket(socket);
  socket.on('secureConnect', () => {
    const encrypted: true = socket.encrypted;
    const authorized: boolean = socket.authorized;
    const why: buildCio.ErrorCode | null = socket.authorizationError;
    if (why === 'DEPTH_ZERO_SELF_SIGNED_CERT' || why === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE') console.log('untrusted');
    const alpn: string | false = socket.alpnProtocol;
    const servername: string | false | undefined = socket.servername;
    const protocol: buildCio.TlsVersion | null = socket.getProtocol();
    const cipher = socket.getCipher();
    if (cipher) console.log(cipher.name, cipher.standardName, cipher.version);
    const reused: boolean = socket.isSessionReused();
    console.log(encrypted, authorized, alpn, servername, protocol, reused, socket.getSession());

    const peer = socket.getPeerCertificate();
    if (peer && peer.subject) {
      const cn: string | string[] | undefined = peer.subject.CN;
      const fields: Array<string | string[] | undefined> = [peer.subject.O, peer.issuer.CN as string, peer.subjectaltname,
        peer.valid_from, peer.valid_to, peer.serialNumber, peer.fingerprint, peer.fingerprint256,
        peer.fingerprint512, peer.modulus, peer.exponent, peer.asn1Curve, peer.nistCurve];
      const raw: Buffer = peer.raw;
      console.log(cn, fields, raw.length, peer.ca, peer.bits, peer.pubkey, peer.ext_key_usage);
    }
    const detailed = socket.getPeerCertificate(true);
    if (detailed && detailed.raw) {
      let cert: buildCio.DetailedPeerCertificate | undefined = detailed;
      while (cert && cert.issuerCertificate !== cert) cert = cert.issuerCertificate;
    }
  });
  // @ts-expect-error the peer certificate's raw is a Buffer
  const notString: string | undefined = socket.getPeerCertificate()!.raw;
  void notString;
}

// ---- server with TLS options ----------------------------------------------------------------

const tlsServer = cio.server({
  key: 'certs/server.key',
  cert: 'certs/server.crt',
  ca: 'certs/ca.crt',
  requestCert: true,
  rejectUnauthorized: true,
  allowClients: ['alice', '*.example.com'],
  denyClients: ['bob'],
  isClientAllowed(name, peerCert) {
    const serial: string | undefined = peerCert.serialNumber;
    return name !== undefined && name !== 'eve' && serial !== '00' && this.serverClient !== undefined;
  },
  rejectClient(socket, name) {
    socket.end('Sorry, you are not allowed, ' + name);
  },
  onConnect(socket) { console.log('raw connection', socket.remoteAddress); },
  onSecureConnect(socket) {
    console.log(socket.authorized, socket.getPeerCertificate());
    this.getConnections((err, count) => console.log(err, count));
  },
  noRelisten: false,
  retryDelay: 1000,
  maxRetries: 2,
  relisten(server, listenArgs) {
    server.listen(...(listenArgs as [number]));
  },
  handshakeTimeout: 10000,
  pauseOnConnect: false,
  ALPNProtocols: 'http/1.1',
});
if (tlsServer instanceof buildCio.Server) {
  const secureServer: buildCio.TLSServer = tlsServer;
  useServer(secureServer);
} else if ('chain' in tlsServer && tlsServer.failed) {
  console.error(tlsServer.failed.reason, tlsServer.failed.error);
}

const plainServer = cio.server({ onConnect(socket) { socket.pipe(socket); } });
if (plainServer instanceof buildCio.Server) useServer(plainServer);
cio.server();

// @ts-expect-error maxRetries is a number
cio.server({ maxRetries: 'three' });
// @ts-expect-error isClientAllowed receives (name, peerCert), name is not a number
cio.server({ isClientAllowed: (name: number) => name > 0 });
// @ts-expect-error allowClients is an array of names
cio.server({ allowClients: 'alice' });
// isClientAllowed may decide asynchronously
cio.server({ requestCert: true, async isClientAllowed(name) { return name === 'alice'; } });
// @ts-expect-error isClientAllowed is a function, not a list of names (that is allowClients)
cio.server({ isClientAllowed: ['alice'] });
// @ts-expect-error an async isClientAllowed resolves to a boolean
cio.server({ isClientAllowed: async () => 'yes' });

function useServer(server: buildCio.Server): void {
  server.listen(8443, '127.0.0.1', 511, () => undefined);
  server.listen(8443, () => undefined);
  server.listen({ port: 0, host: 'localhost', backlog: 10, exclusive: false });
  server.listen('/tmp/cio.sock');
  server.listen();
  const address = server.address();
  if (address && typeof address !== 'string') console.log(address.port, address.address, address.family);
  server.maxConnections = 100;
  const listening: boolean = server.listening;
  console.log(listening);
  server.getConnections((err, count) => console.log(err, count + 1));
  server.ref().unref();
  server
    .on('listening', () => undefined)
    .on('connection', (socket) => { const s: buildCio.Socket = socket; s.end(); })
    .on('secureConnection', (socket) => { const a: boolean = socket.authorized; console.log(a); })
    .on('error', (err) => { if (err.code === 'EADDRINUSE') console.log(err.syscall, err.address, err.port); })
    .on('close', () => undefined)
    .on('relisten', () => undefined)
    .on('tlsClientError', (err, socket) => console.log(err.code, socket.remoteAddress))
    .on('clientRejected', (name, peerCert) => console.log(name, peerCert.fingerprint256))
    .on('drop', (data) => console.log(data.remoteAddress, data.remotePort))
    .once('serverClientFailed', (failed, socket) => console.log(failed.reason, socket.destroyed));
  server.close((err) => { if (err) console.error(err.message); });
  // @ts-expect-error 'connection' passes a socket, not a string
  server.on('connection', (socket: string) => socket);
}

// ---- chains ---------------------------------------------------------------------------------

const clientChain = cio.getClientChain();
const serverChain: buildCio.Chain<buildCio.ServerContext> = cio.getServerChain();
const serverClientChain: buildCio.Chain<buildCio.ServerClientContext> = cio.getServerClientChain();
console.log(clientChain.array.length, serverChain.array.map((fn) => fn.options && fn.options.id), serverClientChain.orderError);

const added = clientChain.add(afterCreate);
if ('error' in added) console.error(added.error, added.fn);
else console.log(added.result, added.added, added.chain === clientChain);
clientChain.add([afterCreate, logClient]);

const removed = clientChain.remove('my/log-client', 'no longer needed');
if (removed.result) console.log(removed.removed, removed.reason);
else console.log(removed.reason === 'not found');
clientChain.remove(0);
clientChain.remove(afterCreate);

serverChain.disable('cio/relistener', 'we handle EADDRINUSE ourselves');
serverChain.disable(0);
serverChain.disable(firstOfAll, true);
serverChain.disable('maintenance'); // the whole chain
serverChain.disable();
serverChain.enable('cio/relistener');
serverChain.enable();
const reason: string | boolean = serverChain.isDisabled(firstOfAll);
console.log(reason);

const selection = clientChain.select((fn, index) => index > 0 && (fn.options?.id ?? fn.name).startsWith('my/'));
selection.disable('for now');
selection.enable();
selection.affect((fn, index) => console.log(index, fn.name));
selection.remove('gone');
clientChain.clear();

const run = serverClientChain.run({
  context: Object.create(null) as buildCio.ServerClientContext,
  done(error, result) {
    if (error) console.error(error.message);
    if ('chain' in result) console.log(result.context.serverClient);
  },
});
if ('chain' in run) {
  if (run.failed && run.failed.reason === 'Unable to order the chain') console.error(run.failed.error);
} else {
  console.log(run.reason);
}
serverClientChain.run();
serverClientChain.run({ base: {}, props: { serverClient: { value: null } } });

clientChain
  .on('add', (fns) => console.log(fns.length))
  .on('remove', (why, fns) => console.log(why, fns))
  .on('disable', (why, fns) => console.log(why, fns))
  .on('enable', (fns) => console.log(fns))
  .on('clear', (fns) => console.log(fns))
  .on('start', (context) => console.log(context.host))
  .on('done', (error, result) => console.log(error, result.result))
  .on('pause', (control) => control.stop())
  .on('resume', (control) => console.log(control.chain))
  .on('stop', (stopped, result) => console.log(stopped.reason, result.context))
  .once('fail', (failed, result) => console.log(failed.error, result.failed));

// @ts-expect-error chains hold functions
clientChain.add('not a function');
// @ts-expect-error select takes a predicate
clientChain.select('my/');
// @ts-expect-error run's done callback takes (error, result)
clientChain.run({ done: (result: number) => result });

// ---- Node-style exports ---------------------------------------------------------------------

const direct = buildCio.connect({ port: 80, host: 'example.com' }, () => undefined);
const directSecure: buildCio.TLSSocket = buildCio.connect({ port: 443, host: 'example.com', isSecure: true, ca: 'ca.crt' });
const byPort: buildCio.Socket = buildCio.connect(80, 'example.com');
const byPath: buildCio.Socket = buildCio.connect('/tmp/cio.sock');
const manual = new buildCio.Socket({ allowHalfOpen: true }).connect(8080, 'localhost', () => undefined);
console.log(direct, directSecure, byPort, byPath, manual);
const rawServer: buildCio.Server = buildCio.createServer((socket) => socket.end());
const rawServer2: buildCio.Server = new buildCio.Server({ pauseOnConnect: true }, (socket) => socket.resume());
const secureServer: buildCio.TLSServer = buildCio.createServer(
  { isSecure: true, key: 'k.pem', cert: 'c.pem' }, (socket) => console.log(socket.alpnProtocol));
console.log(rawServer, rawServer2, secureServer);
// @ts-expect-error connect takes options, a port or a path
buildCio.connect(true);

// ---- TLS over an existing socket or stream ---------------------------------------------------

import { Duplex } from 'stream';
declare const plainSocket: buildCio.Socket;
const upgraded: buildCio.TLSSocket = buildCio.connect({ isSecure: true, socket: plainSocket, servername: 'localhost' }, () => {});
declare const someDuplex: Duplex;
const overDuplex: buildCio.TLSSocket = new buildCio.TLSSocket(someDuplex, { isServer: true, key: 'server.key', cert: 'server.crt' });
overDuplex.on('secure', () => console.log(overDuplex.getProtocol()));
void upgraded;
// @ts-expect-error the stream comes first
new buildCio.TLSSocket({ isServer: true });
