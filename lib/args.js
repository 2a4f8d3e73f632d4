'use strict';
// Node's call forms for connect() and listen(), collapsed into one options object each (as
// Node's normalizeConnectArgs does), so the socket and server code see a single shape; the
// synchronous checks of connect options, and the host lookup a connect starts with.

const dns = require('dns');
const errors = require('./errors');

// Node's call forms: (options[, cb]), (port[, host][, cb]), (path[, cb]).
function normalizeConnectArgs(args) {
  if (args.length === 0) return [{}, null];
  const last = args[args.length - 1];
  const cb = typeof last === 'function' ? last : null;
  const first = args[0];
  let options;
  if (first !== null && typeof first === 'object') options = first;
  else if (typeof first === 'string' && !/^\d+$/.test(first)) options = { path: first };
  else {
    options = { port: first };
    if (typeof args[1] === 'string') options.host = args[1];
  }
  return [options, cb];
}

// Node's synchronous argument checks on a normalised connect options object; returns the
// checked numbers for the native side (connectNumbers).
function validateConnectOptions(options) {
  if (options.path !== undefined && options.path !== null && options.path !== '') {
    if (typeof options.path !== 'string') throw errors.invalidArgType('options.path', 'of type string', options.path);
  } else if (options.port !== undefined) {
    if (typeof options.port !== 'number' && typeof options.port !== 'string') {
      throw errors.invalidArgType('options.port', 'one of type number or string', options.port);
    }
    errors.validatePort(options.port);
  }
  return connectNumbers(options);
}

// The numbers a connect hands to the native side, checked so that none wraps around on its
// way to a u32: `localPort` as Node checks it (a number when truthy) and then as a port
// (ERR_SOCKET_BAD_PORT rather than binding port 70000 - 65536), and cio's `connectTimeout`
// as Node checks a timer duration. Returns { localPort, connectTimeoutMs } (undefined: none).
function connectNumbers(options) {
  let localPort;
  if (options.localPort) {
    errors.validateNumber(options.localPort, 'options.localPort');
    localPort = errors.validatePort(options.localPort, 'options.localPort');
  }
  let connectTimeoutMs;
  if (options.connectTimeout !== undefined && options.connectTimeout !== null) {
    connectTimeoutMs = errors.nativeMs(errors.timerDuration(options.connectTimeout, 'options.connectTimeout')) || undefined;
  }
  return { localPort, connectTimeoutMs };
}

// Resolves `host` to every address (options.lookup, family and hints as Node's connect
// takes them); cb(err, [{ address, family }, ...]) with at least one address on success.
function lookupAll(host, options, cb) {
  const lookup = typeof options.lookup === 'function' ? options.lookup : dns.lookup;
  const family = options.family === undefined ? 0 : options.family;
  lookup(host, { all: true, family, hints: options.hints || 0 }, (err, addresses, fam) => {
    let list = addresses;
    if (!err && !Array.isArray(list)) list = [{ address: addresses, family: fam }];
    if (!err && list.length === 0) err = errors.codedError('ENOTFOUND', `getaddrinfo ENOTFOUND ${host}`);
    cb(err, err ? undefined : list);
  });
}

// Node's listen call forms: (port[, host][, backlog]), (path[, backlog]), (options).
function normalizeListenArgs(args) {
  const first = args[0];
  if (first !== null && typeof first === 'object') {
    const o = first;
    errors.refuseUnsupported(o, ['readableAll', 'writableAll', 'reusePort', 'signal', 'fd', 'handle'], 'the listen option');
    return { port: o.port, host: o.host, path: o.path, backlog: backlogOf(o.backlog), ipv6Only: o.ipv6Only };
  }
  if (typeof first === 'string' && !/^\s*\d+\s*$/.test(first)) {
    return { path: first, backlog: backlogOf(args[1]) };
  }
  const out = { port: first };
  let i = 1;
  if (typeof args[i] === 'string') out.host = args[i++];
  out.backlog = backlogOf(args[i]);
  return out;
}

// A listen backlog as the native side takes it (an i32). Node accepts any value here and
// lets the kernel cap it; so does cio, but a value that is not a usable count (not a number,
// NaN, <= 0) means the default (511, as Node's `backlog || 511`) and a huge one is capped,
// never wrapped around.
function backlogOf(value) {
  if (typeof value !== 'number' || !(value >= 1)) return undefined;
  return Math.min(Math.floor(value), 2 ** 31 - 1);
}

module.exports = { normalizeConnectArgs, normalizeListenArgs, validateConnectOptions, lookupAll };
