'use strict';
// Helpers for tests that need exact control over the bytes and the end of a TLS connection:
// a Node TLS client whose ciphertext goes through a plain TCP socket we hold (so it can be
// reset with SO_LINGER 0 at any point, or fed garbage), a captured ClientHello, a seeded
// random generator, and a deadline for any promise.
const net = require('net');
const tls = require('tls');
const fs = require('fs');
const path = require('path');
const { Duplex } = require('stream');

const FIX = path.join(__dirname, 'fixtures');
const read = (name) => fs.readFileSync(path.join(FIX, name));

/** Mutual-TLS server options (fixtures) and the matching client options (alice). */
const SERVER_TLS = () => ({ key: read('server.key'), cert: read('server.crt'), ca: read('ca.crt'), requestCert: true });
const CLIENT_TLS = () => ({ key: read('alice.key'), cert: read('alice.crt'), ca: read('ca.crt'), servername: 'localhost' });

/** Rejects with `what` when `promise` has not settled within `ms`. */
function deadline(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * A Node TLS client (`tls`) whose records travel over `raw`, a plain TCP socket to `target`
 * that the test owns: `raw.resetAndDestroy()` sends a real RST at any moment, `raw.write()`
 * injects bytes outside TLS. `tlsSocket` errors are collected in `errors`.
 */
function bridgedTlsClient(target, tlsOptions) {
  const raw = net.connect(target);
  const side = new Duplex({
    read() {},
    write(chunk, enc, cb) {
      if (raw.destroyed) return cb();
      raw.write(chunk, () => cb());
    },
    final(cb) {
      if (!raw.destroyed) raw.end();
      cb();
    },
  });
  raw.on('data', (d) => side.push(d));
  raw.on('end', () => side.push(null));
  raw.on('error', () => {});
  raw.on('close', () => side.destroy());
  const errors = [];
  const tlsSocket = tls.connect(Object.assign({ socket: side }, tlsOptions));
  tlsSocket.on('error', (e) => errors.push(e.code || e.message));
  return { raw, tlsSocket, errors };
}

/** The first flight (ClientHello record) Node's TLS client sends with `tlsOptions`. */
function captureClientHello(tlsOptions) {
  return new Promise((resolve) => {
    let client = null;
    const side = new Duplex({
      read() {},
      write(chunk, enc, cb) {
        resolve(Buffer.from(chunk));
        cb();
        setImmediate(() => client.destroy());
      },
    });
    client = tls.connect(Object.assign({ socket: side }, tlsOptions));
    client.on('error', () => {});
  });
}


const { rng } = require('./helpers');

module.exports = { SERVER_TLS, CLIENT_TLS, deadline, bridgedTlsClient, captureClientHello, rng, read };
