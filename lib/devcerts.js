'use strict';
// Development certificates for mutual TLS (generated in Rust, src/devcerts.rs) and the file
// layout the CLI and the demo share:
//   ca.crt ca.key  server.crt server.key  <client>.crt <client>.key
// Keys are written with mode 0600. Not for production use.

const fs = require('fs');
const path = require('path');
const { binding } = require('./native');

const RESERVED = new Set(['ca', 'server']);

function codedError(message, cause) {
  const err = new Error(message);
  err.code = 'ERR_CIO_DEV_CERTS';
  if (cause) err.cause = cause;
  return err;
}

// { serverNames?, clientNames?, days?, caName? } → { ca, server, clients: [{ name, cert, key }] }
function generateDevCerts(options = {}) {
  for (const name of options.clientNames || []) {
    if (RESERVED.has(name)) throw codedError(`client name '${name}' is reserved (it names the ${name} files)`);
  }
  try {
    return binding.generateDevCerts(options);
  } catch (e) {
    throw codedError(`cannot generate certificates: ${e.message}`, e);
  }
}

// Writes a generated set into `dir` (created if needed). Refuses to overwrite unless `force`.
// Returns the written file paths.
function writeDevCerts(dir, set, { force = false } = {}) {
  const files = [
    ['ca', set.ca],
    ['server', set.server],
    ...set.clients.map((c) => [c.name, c]),
  ].flatMap(([base, c]) => [
    [path.join(dir, `${base}.crt`), c.cert, 0o644],
    [path.join(dir, `${base}.key`), c.key, 0o600],
  ]);
  if (!force) {
    const existing = files.filter(([file]) => fs.existsSync(file)).map(([file]) => file);
    if (existing.length) throw codedError(`refusing to overwrite ${existing.join(', ')} (use --force)`);
  }
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, text, mode] of files) {
    fs.writeFileSync(file, text, { mode });
    fs.chmodSync(file, mode);
  }
  return files.map(([file]) => file);
}

// Reads the files of one identity from a directory written by writeDevCerts:
// `name` 'server' for the server; a client name; or null for the CA only.
function readDevCerts(dir, name) {
  const read = (file) => {
    try {
      return fs.readFileSync(path.join(dir, file));
    } catch (e) {
      throw codedError(`cannot read ${path.join(dir, file)}: ${e.code || e.message}`, e);
    }
  };
  const out = { ca: read('ca.crt') };
  if (name) {
    out.cert = read(`${name}.crt`);
    out.key = read(`${name}.key`);
  }
  return out;
}

module.exports = { generateDevCerts, writeDevCerts, readDevCerts };
