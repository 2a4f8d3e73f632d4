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

// Node's synchronous argument checks on a normalised connect options object.
function validateConnectOptions(options) {
  if (options.path !== undefined && options.path !== null && options.path !== '') {
    if (typeof options.path !== 'string') throw errors.invalidArgType('options.path', 'of type string', options.path);
  } else if (options.port !== undefined) {
    if (typeof options.port !== 'number' && typeof options.port !== 'string') {
      throw errors.invalidArgType('options.port', 'one of type number or string', options.port);
    }
    errors.validatePort(options.port);
  }
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
    return { port: o.port, host: o.host, path: o.path, backlog: o.backlog, ipv6Only: o.ipv6Only };
  }
  if (typeof first === 'string' && !/^\s*\d+\s*$/.test(first)) {
    return { path: first, backlog: typeof args[1] === 'number' ? args[1] : undefined };
  }
  const out = { port: first };
  let i = 1;
  if (typeof args[i] === 'string') out.host = args[i++];
  if (typeof args[i] === 'number') out.backlog = args[i];
  return out;
}

module.exports = { normalizeConnectArgs, normalizeListenArgs, validateConnectOptions, lookupAll };
