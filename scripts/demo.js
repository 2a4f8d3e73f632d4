#!/usr/bin/env node
'use strict';
// `npm run demo`: mutual TLS with client allow-listing, end to end, in one process.
// Generates development certificates into a temporary directory, starts a cio server that
// requires client certificates and allows only `alice`, connects `alice` and `bob` as cio
// clients, prints what happened to each, cleans up and exits 0 (1 if anything went wrong).

const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const say = (who, text) => process.stdout.write(`${who.padEnd(7)} ${text}\n`);

if (!fs.existsSync(path.join(root, 'lib', 'tls.js'))) {
  process.stderr.write('demo: this build of cio has no TLS support yet (lib/tls.js is missing); ' +
    'the demo needs it.\n');
  process.exit(1);
}

const buildCio = require(root);
const { generateDevCerts, writeDevCerts } = require(path.join(root, 'lib', 'devcerts'));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cio-demo-'));
const file = (name) => path.join(dir, name);
let server = null;

function cleanup() {
  fs.rmSync(dir, { recursive: true, force: true });
}

function finish(code, why) {
  clearTimeout(watchdog);
  if (why) process.stderr.write(`demo: ${why}\n`);
  const done = () => {
    cleanup();
    process.exitCode = code;
  };
  if (server && server.listening) server.close(done);
  else done();
}

const watchdog = setTimeout(() => finish(1, 'timed out after 15 s'), 15000);

// One client: connect with its certificate, say hello, report what came back.
function visit(cio, port, name) {
  return new Promise((resolve) => {
    const outcome = { name, secure: false, reply: '', error: null };
    const socket = cio.client({
      host: 'localhost', port,
      key: file(`${name}.key`), cert: file(`${name}.crt`), ca: file('ca.crt'),
    });
    if (!socket || typeof socket.on !== 'function') {
      outcome.error = new Error(`client() failed: ${JSON.stringify(socket)}`);
      resolve(outcome);
      return;
    }
    socket.setEncoding('utf8');
    socket.on('secureConnect', () => {
      outcome.secure = true;
      say(name, `handshake done, server certificate verified (authorized=${socket.authorized}); sending "hello from ${name}"`);
      socket.write(`hello from ${name}`);
    });
    socket.on('data', (text) => {
      outcome.reply += text;
      say(name, `received: "${text}"`);
      socket.end();
    });
    socket.on('error', (err) => {
      outcome.error = err;
      say(name, `connection failed: ${err.code || ''} ${err.message}`);
    });
    socket.on('close', () => {
      if (!outcome.reply) say(name, 'connection closed without a reply');
      resolve(outcome);
    });
  });
}

async function main() {
  const set = generateDevCerts({ serverNames: ['localhost'], clientNames: ['alice', 'bob'], days: 1 });
  writeDevCerts(dir, set);
  say('setup', `generated a CA, a server certificate for localhost and client certificates for alice and bob in ${dir}`);

  const cio = buildCio();
  server = cio.server({
    key: file('server.key'), cert: file('server.crt'), ca: file('ca.crt'),
    requestCert: true, rejectUnauthorized: true, allowClients: ['alice'],
  });
  if (!server || typeof server.listen !== 'function') throw new Error(`server() failed: ${JSON.stringify(server)}`);
  // The rejection is reported on the server as 'clientRejected' (name, peer) or, when the
  // allow-list refused the certificate during the handshake, as 'tlsClientError'.
  let serverRejected;
  const rejection = new Promise((resolve) => { serverRejected = resolve; });
  server.on('secureConnection', (socket) => {
    const cn = socket.getPeerCertificate().subject.CN;
    say('server', `accepted a client with certificate CN=${cn}`);
    socket.setEncoding('utf8');
    socket.on('data', (text) => socket.write(`welcome ${cn}, you said "${text}"`));
    socket.on('error', () => {});
  });
  server.on('clientRejected', (name) => {
    say('server', `rejected client '${name}': not in allowClients`);
    serverRejected();
  });
  server.on('tlsClientError', (err) => {
    say('server', `refused a client during the TLS handshake: ${err.code || ''} ${err.message}`);
    serverRejected();
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = server.address().port;
  say('server', `listening on 127.0.0.1:${port} (mutual TLS, allowClients: ['alice'])`);

  const alice = await visit(cio, port, 'alice');
  const bob = await visit(cio, port, 'bob');
  await Promise.race([rejection, new Promise((resolve) => setTimeout(resolve, 2000))]);

  process.stdout.write('\nWhat happened:\n');
  for (const o of [alice, bob]) {
    const how = o.reply
      ? `allowed: the server answered "${o.reply}"`
      : `rejected: no reply; the connection ${o.error ? `failed with ${o.error.code || o.error.message}` : 'was closed by the server'}`;
    process.stdout.write(`  ${o.name}: ${how}\n`);
  }
  const ok = alice.reply.includes('welcome alice') && !alice.error && bob.reply === '';
  finish(ok ? 0 : 1, ok ? null : 'unexpected outcome: alice should be answered and bob rejected');
}

main().catch((err) => finish(1, err.stack || String(err)));
