'use strict';
// Node's call forms for connect() and listen(), collapsed into one options object each (as
// Node's normalizeConnectArgs does), so the socket and server code see a single shape.

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

module.exports = { normalizeConnectArgs, normalizeListenArgs };
