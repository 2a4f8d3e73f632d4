#!/usr/bin/env node
'use strict';
// The cio developer CLI: development certificates, an echo server, a stdin/stdout client.
// Status lines go to stderr; stdout carries only data (for `connect`).

const fs = require('fs');
const path = require('path');

const USAGE = `Usage:
  cio certs --out DIR [--server NAME]... [--client NAME]... [--days N] [--force]
      Write a development CA, a server certificate (default name: localhost, which also
      covers 127.0.0.1 and ::1) and one client certificate per --client into DIR:
      ca.crt ca.key server.crt server.key NAME.crt NAME.key
  cio serve --port N [--host H] [--tls DIR] [--allow NAME]...
      Run an echo server on H (default 127.0.0.1). With --tls: mutual TLS using DIR's
      ca.crt, server.crt and server.key; clients need a certificate from that CA, and
      with --allow only the named clients are accepted.
  cio connect HOST:PORT [--tls DIR [--as NAME]]
      Connect stdin/stdout to HOST:PORT. With --tls: verify the server against DIR/ca.crt
      and present DIR/NAME.crt as the client certificate.
  cio help
`;

class UsageError extends Error {}

// Parses `argv` against `spec` ({ name: 'string' | 'list' | 'flag' }); bare words go to `_`.
function parseArgs(argv, spec) {
  const out = { _: [] };
  for (const [name, kind] of Object.entries(spec)) if (kind === 'list') out[name] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      out._.push(arg);
      continue;
    }
    let name = arg.slice(2);
    let value;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const kind = spec[name];
    if (!kind) throw new UsageError(`unknown option --${name}`);
    if (kind === 'flag') {
      if (value !== undefined) throw new UsageError(`--${name} takes no value`);
      out[name] = true;
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
    }
    if (kind === 'list') out[name].push(value);
    else if (out[name] !== undefined) throw new UsageError(`--${name} given twice`);
    else out[name] = value;
  }
  return out;
}

function parsePort(text, what) {
  if (!/^\d+$/.test(text || '') || +text > 65535) throw new UsageError(`${what} must be a port number 0-65535, got '${text}'`);
  return +text;
}

function log(msg) {
  process.stderr.write(`cio: ${msg}\n`);
}

// TLS in sockets lands as lib/tls.js; without it key/cert would be ignored, so refuse.
function requireTls() {
  if (!fs.existsSync(path.join(__dirname, '..', 'lib', 'tls.js'))) {
    const err = new Error('this build of cio has no TLS support yet (lib/tls.js is missing)');
    err.code = 'ERR_CIO_NO_TLS';
    throw err;
  }
}

// The builder returns a result object instead of a socket/server when a chain fails.
function checkBuilt(product, what) {
  if (product && typeof product.on === 'function') return product;
  const detail = product && (product.error || (product.failed && product.failed.reason) || product.reason);
  throw new Error(`cannot create the ${what}: ${detail || JSON.stringify(product)}`);
}

function certs(argv) {
  const a = parseArgs(argv, { out: 'string', server: 'list', client: 'list', days: 'string', force: 'flag' });
  if (a._.length) throw new UsageError(`unexpected argument '${a._[0]}'`);
  if (!a.out) throw new UsageError('certs needs --out DIR');
  let days;
  if (a.days !== undefined) {
    if (!/^\d+$/.test(a.days)) throw new UsageError(`--days must be a whole number, got '${a.days}'`);
    days = +a.days;
  }
  const { generateDevCerts, writeDevCerts } = require('../lib/devcerts');
  let set;
  try {
    set = generateDevCerts({ serverNames: a.server.length ? a.server : undefined, clientNames: a.client, days });
  } catch (err) {
    throw new UsageError(err.message); // every refusal here is about the names or --days
  }
  const files = writeDevCerts(path.resolve(a.out), set, { force: Boolean(a.force) });
  for (const f of files) process.stdout.write(`${f}\n`);
  log(`wrote a CA, a server certificate for ${(a.server.length ? a.server : ['localhost']).join(', ')}` +
    (a.client.length ? ` and client certificates for ${a.client.join(', ')}` : '') + ` into ${path.resolve(a.out)}`);
  return 0;
}

function serve(argv) {
  const a = parseArgs(argv, { port: 'string', host: 'string', tls: 'string', allow: 'list' });
  if (a._.length) throw new UsageError(`unexpected argument '${a._[0]}'`);
  if (a.port === undefined) throw new UsageError('serve needs --port N');
  const port = parsePort(a.port, '--port');
  if (a.allow.length && !a.tls) throw new UsageError('--allow needs --tls DIR');
  const host = a.host || '127.0.0.1';
  const cio = require('..')();
  let options = {};
  if (a.tls) {
    requireTls();
    const m = require('../lib/devcerts').readDevCerts(a.tls, 'server');
    options = { key: m.key, cert: m.cert, ca: m.ca, requestCert: true, rejectUnauthorized: true };
    if (a.allow.length) options.allowClients = a.allow;
  }
  const server = checkBuilt(cio.server(options), 'server');
  const event = a.tls ? 'secureConnection' : 'connection';
  server.on(event, (socket) => {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const cert = a.tls && socket.getPeerCertificate ? socket.getPeerCertificate() : null;
    log(`${peer} connected${cert && cert.subject ? ` as ${cert.subject.CN}` : ''}`);
    socket.on('error', (err) => log(`${peer}: ${err.code || ''} ${err.message}`));
    socket.on('close', () => log(`${peer} closed`));
    socket.pipe(socket);
  });
  server.on('clientRejected', (name) => log(`rejected client '${name}'`));
  server.on('tlsClientError', (err) => log(`TLS handshake failed: ${err.code || ''} ${err.message}`));
  server.on('error', (err) => {
    log(`server error: ${err.code || ''} ${err.message}`);
    process.exitCode = 1;
  });
  server.listen(port, host, () => {
    const addr = server.address();
    log(`listening on ${addr.address}:${addr.port}` +
      (a.tls ? ` (mutual TLS${a.allow.length ? `, allowing ${a.allow.join(', ')}` : ''})` : ''));
  });
  const stop = () => server.close(() => process.exit(process.exitCode || 0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return null; // keeps running
}

function connect(argv) {
  const a = parseArgs(argv, { tls: 'string', as: 'string' });
  if (a._.length !== 1) throw new UsageError('connect needs exactly one HOST:PORT');
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(a._[0]);
  if (!m) throw new UsageError(`expected HOST:PORT, got '${a._[0]}'`);
  const host = m[1] || m[2];
  const port = parsePort(m[3], 'PORT');
  if (a.as && !a.tls) throw new UsageError('--as needs --tls DIR');
  const cio = require('..')();
  let options = { host, port };
  if (a.tls) {
    requireTls();
    const mat = require('../lib/devcerts').readDevCerts(a.tls, a.as || null);
    options = Object.assign(options, mat, { rejectUnauthorized: true });
  }
  const socket = checkBuilt(cio.client(options), 'client');
  socket.on(a.tls ? 'secureConnect' : 'connect', () => {
    log(`connected to ${host}:${port}${a.tls ? ` (TLS${a.as ? ` as ${a.as}` : ''})` : ''}`);
    process.stdin.pipe(socket);
  });
  socket.pipe(process.stdout);
  socket.on('error', (err) => {
    log(`${err.code || 'error'}: ${err.message}`);
    process.exitCode = 1;
  });
  socket.on('close', () => process.exit(process.exitCode || 0));
  return null;
}

function main(argv) {
  const [command, ...rest] = argv;
  switch (command) {
    case 'certs': return certs(rest);
    case 'serve': return serve(rest);
    case 'connect': return connect(rest);
    case 'help': case '--help': case '-h':
      process.stdout.write(USAGE);
      return 0;
    case undefined: throw new UsageError('no command given');
    default: throw new UsageError(`unknown command '${command}'`);
  }
}

try {
  const code = main(process.argv.slice(2));
  if (code !== null) process.exitCode = code;
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`cio: ${err.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else {
    log(`${err.code ? `${err.code}: ` : ''}${err.message}`);
    process.exitCode = 1;
  }
}
