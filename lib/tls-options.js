'use strict';
// TLS options → the native TlsContext: Node's options checked and normalised (material lists,
// aliases, options cio refuses, handshakeTimeout), server contexts built once per server and
// client contexts cached by the identity of their material. Used by lib/tls.js.

const { binding } = require('./native');
const errors = require('./errors');
const { originOf } = require('./material');

// Node tls options cio cannot honour: refused loudly rather than silently ignored.
const UNSUPPORTED = ['pfx', 'passphrase', 'secureContext', 'ciphers', 'ecdhCurve', 'dhparam',
  'secureProtocol', 'secureOptions', 'crl', 'sigalgs', 'privateKeyEngine', 'privateKeyIdentifier',
  'SNICallback', 'pskCallback', 'session', 'ticketKeys', 'sessionIdContext', 'clientCertEngine',
  'enableTrace', 'ALPNCallback', 'honorCipherOrder', 'sessionTimeout', 'requestOCSP',
  'pskIdentityHint'];

const ALIASES = { key: 'private', cert: 'public', ca: 'root' };

function materialList(name, value) {
  if (value === undefined || value === null || value === false) return undefined;
  const items = Array.isArray(value) ? value : [value];
  return items.map((item) => {
    if (typeof item === 'string') return item;
    if (Buffer.isBuffer(item)) return originOf(item) || item; // a file's path names it in errors
    if (item instanceof Uint8Array) return Buffer.from(item.buffer, item.byteOffset, item.byteLength);
    throw errors.invalidArgType(`options.${name}`, 'a file path, a PEM string or a Buffer (or an array of them)', item);
  });
}

/**
 * ALPNProtocols as Node's convertALPNProtocols takes them: an array of names (strings, Buffers,
 * TypedArrays; each 1 to 255 bytes) or one Buffer/TypedArray in the wire format (each name
 * preceded by its length). cio also takes a single string as one name. Anything else is
 * refused here with Node's errors, before a malformed ClientHello could reach the wire.
 */
function alpnNames(value) {
  if (typeof value === 'string') value = [value];
  if (Array.isArray(value)) {
    return value.map((p, i) => {
      let bytes;
      if (typeof p === 'string') bytes = Buffer.from(p);
      else if (ArrayBuffer.isView(p)) bytes = Buffer.from(p.buffer, p.byteOffset, p.byteLength);
      else if (p instanceof ArrayBuffer) bytes = Buffer.from(p);
      else throw errors.invalidArgType('string', 'of type string or an instance of Buffer or ArrayBuffer', p);
      if (bytes.length > 255) {
        throw errors.codedError('ERR_OUT_OF_RANGE',
          `The byte length of the protocol at index ${i} exceeds the maximum length. It must be <= 255. Received ${bytes.length}`, RangeError);
      }
      if (bytes.length === 0) {
        throw errors.codedError('ERR_INVALID_ARG_VALUE', `The protocol at index ${i} of "options.ALPNProtocols" is empty`, TypeError);
      }
      return bytes.toString();
    });
  }
  if (ArrayBuffer.isView(value)) {
    const wire = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    const names = [];
    for (let i = 0; i < wire.length;) {
      const n = wire[i];
      if (n === 0 || i + 1 + n > wire.length) {
        throw errors.codedError('ERR_INVALID_ARG_VALUE',
          'The property \'options.ALPNProtocols\' is not a valid ALPN wire-format list (length-prefixed names)', TypeError);
      }
      names.push(wire.subarray(i + 1, i + 1 + n).toString());
      i += 1 + n;
    }
    return names;
  }
  throw errors.invalidArgType('options.ALPNProtocols', 'an instance of Array, Buffer, TypedArray, or DataView', value);
}

// Options (read through the prototype chain, as cio's contexts inherit module options) →
// the native TlsOptions.
function nativeOptions(options, isServer) {
  errors.refuseUnsupported(options, UNSUPPORTED, 'the TLS option', ' (its TLS runs on rustls, not OpenSSL)');
  const out = {};
  for (const name of ['key', 'cert', 'ca']) {
    const value = options[name] !== undefined && options[name] !== null ? options[name] : options[ALIASES[name]];
    out[name] = materialList(name, value);
  }
  if (options.ALPNProtocols !== undefined && options.ALPNProtocols !== null) {
    out.alpnProtocols = alpnNames(options.ALPNProtocols);
  }
  if (options.minVersion !== undefined) out.minVersion = String(options.minVersion);
  if (options.maxVersion !== undefined) out.maxVersion = String(options.maxVersion);
  if (typeof options.sessionResumption === 'boolean') out.sessionResumption = options.sessionResumption;
  if (isServer) {
    out.requestCert = options.requestCert === true;
    out.rejectUnauthorized = options.rejectUnauthorized !== false;
    for (const name of ['allowClients', 'denyClients']) {
      const v = options[name];
      if (v === undefined || v === null) continue;
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
        throw errors.invalidArgType(`options.${name}`, 'an array of strings', v);
      }
      out[name] = v;
    }
    const t = handshakeTimeout(options);
    if (t !== undefined) out.handshakeTimeout = t;
  } else {
    out.rejectUnauthorized = options.rejectUnauthorized !== false;
    out.checkServerIdentity = typeof options.checkServerIdentity !== 'function';
  }
  return out;
}

// `handshakeTimeout` (ms) as the native side takes it: undefined when not given (the server's
// default, 120000 as Node's, applies), 0 for no limit. Checked as Node checks it
// (validateNumber: ERR_INVALID_ARG_TYPE) and as Node's socket.setTimeout then checks the
// value it is given (ERR_OUT_OF_RANGE when negative, NaN or infinite; truncated to 2^31-1 ms
// with a TimeoutOverflowWarning), so nothing wraps around on its way to a u32.
function handshakeTimeout(options) {
  const value = options.handshakeTimeout;
  if (value === undefined || value === null) return undefined;
  return errors.nativeMs(errors.timerDuration(value, 'options.handshakeTimeout'));
}

function createContext(options, isServer) {
  const result = binding.TlsContext.create(isServer, nativeOptions(options, isServer));
  if (result instanceof binding.TlsContext) return result;
  throw errors.codedError(result.code, result.message);
}

/**
 * Parses and checks the TLS material of `options` (key, cert, ca and aliases; paths, PEM text,
 * Buffers) the way a context would, without building one for a side: null when usable, else a
 * coded Error naming the option and the path. A key or cert given alone is not an error here
 * (its counterpart may come with each call).
 */
function checkMaterial(options) {
  const n = {};
  for (const name of ['key', 'cert', 'ca']) {
    const value = options[name] !== undefined && options[name] !== null ? options[name] : options[ALIASES[name]];
    try {
      n[name] = materialList(name, value);
    } catch (err) {
      return err;
    }
  }
  if (!n.key && !n.cert && !n.ca) return null;
  const result = binding.TlsContext.create(false, { key: n.key, cert: n.cert, ca: n.ca });
  if (result instanceof binding.TlsContext) return null;
  if (/was given without a/.test(result.message)) return null;
  return errors.codedError(result.code, result.message);
}

// Client contexts are cached by the identity of their material, so repeated connects with the
// same options (e.g. cio's module options) reuse one parsed, shared configuration.
const bufferIds = new WeakMap();
let nextBufferId = 1;
const clientContexts = new Map();
const MAX_CACHED_CONTEXTS = 64;

function identity(v) {
  if (v === undefined) return '-';
  if (typeof v === 'string') return `s${v.length}:${v}`;
  if (!bufferIds.has(v)) bufferIds.set(v, nextBufferId++);
  return `b${bufferIds.get(v)}`;
}

function clientContext(options) {
  const n = nativeOptions(options, false);
  const key = JSON.stringify([
    ['key', 'cert', 'ca'].map((k) => (n[k] || []).map(identity)),
    n.rejectUnauthorized, n.checkServerIdentity, n.alpnProtocols, n.minVersion, n.maxVersion, n.sessionResumption,
  ]);
  let ctx = clientContexts.get(key);
  if (!ctx) {
    const result = binding.TlsContext.create(false, n);
    if (!(result instanceof binding.TlsContext)) throw errors.codedError(result.code, result.message);
    ctx = result;
    if (clientContexts.size >= MAX_CACHED_CONTEXTS) clientContexts.delete(clientContexts.keys().next().value);
    clientContexts.set(key, ctx);
  }
  return ctx;
}

/**
 * Node's onConnectSecure: a user's checkServerIdentity decides after the handshake; a failure
 * marks the socket unauthorized and destroys it unless rejectUnauthorized is false. False when
 * the socket was destroyed.
 */
function applyServerIdentity(socket, options, servername) {
  if (typeof options.checkServerIdentity !== 'function') return true;
  const err = options.checkServerIdentity(servername, socket.getPeerCertificate(true));
  if (!err) return true;
  socket.authorized = false;
  socket.authorizationError = err.code || err.message;
  if (options.rejectUnauthorized === false) return true;
  socket.destroy(err);
  return false;
}

let ipServernameWarned = false;

/**
 * Node's setServername checks, for every TLS client (over a socket or a stream): a truthy
 * servername must be a string, and an IP address gives DEP0123 (once per process).
 */
function checkServername(servername) {
  if (!servername) return;
  if (typeof servername !== 'string') throw errors.invalidArgType('name', 'of type string', servername);
  if (!ipServernameWarned && require('net').isIP(servername)) {
    ipServernameWarned = true;
    process.emitWarning('Setting the TLS ServerName to an IP address is not permitted by RFC 6066. This will be ignored in a future version.', 'DeprecationWarning', 'DEP0123');
  }
}

/** What a TLS socket knows before its handshake (both kinds of TLSSocket start this way). */
function initSecureState(socket) {
  socket.encrypted = true;
  socket.authorized = false;
  socket.authorizationError = null;
  socket.alpnProtocol = false;
  socket.servername = undefined;
  socket._secureEstablished = false;
  socket._info = null;
  socket._peerChain = null;
}

module.exports = { applyServerIdentity, checkServername, initSecureState, checkMaterial, clientContext, createContext, handshakeTimeout };
