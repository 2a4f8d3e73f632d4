'use strict';
// Node's call forms for connect() and listen(), collapsed into one options object each (as
// Node's normalizeConnectArgs does), so the socket and server code see a single shape; the
// synchronous checks of connect options, and the host lookup a connect starts with.

const dns = require('dns');
const net = require('net');
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

// Node's lookupAndConnect checks for a TCP connect (synchronous, Node's codes), and the options
// the host lookup takes: { family, hints, all } (all: Node's autoSelectFamily lookup).
function connectLookupOptions(options) {
  const { localAddress } = options;
  if (localAddress && !net.isIP(localAddress)) throw invalidIpAddress(localAddress);
  let autoSelectFamily = options.autoSelectFamily;
  if (autoSelectFamily !== undefined && autoSelectFamily !== null) {
    if (typeof autoSelectFamily !== 'boolean') throw errors.invalidArgType('options.autoSelectFamily', 'of type boolean', autoSelectFamily);
  } else {
    autoSelectFamily = typeof net.getDefaultAutoSelectFamily === 'function' ? net.getDefaultAutoSelectFamily() : false;
  }
  const attemptTimeout = options.autoSelectFamilyAttemptTimeout;
  if (attemptTimeout !== undefined && attemptTimeout !== null) {
    errors.validateNumber(attemptTimeout, 'options.autoSelectFamilyAttemptTimeout');
    if (!Number.isInteger(attemptTimeout)) throw errors.outOfRange('options.autoSelectFamilyAttemptTimeout', 'an integer', attemptTimeout);
    if (attemptTimeout < 1 || attemptTimeout > 2 ** 31 - 1) {
      throw errors.outOfRange('options.autoSelectFamilyAttemptTimeout', `>= 1 && <= ${2 ** 31 - 1}`, attemptTimeout);
    }
  }
  if (net.isIP(options.host || 'localhost')) return null;
  if (options.lookup !== undefined && options.lookup !== null) errors.validateFunction(options.lookup, 'options.lookup');
  let family = options.family;
  if (family === 'IPv4') family = 4;
  else if (family === 'IPv6') family = 6;
  const dnsopts = { family, hints: options.hints || 0 };
  if (dnsopts.family !== 4 && dnsopts.family !== 6 && dnsopts.hints === 0) dnsopts.hints = dns.ADDRCONFIG;
  if (dnsopts.family !== 4 && dnsopts.family !== 6 && !localAddress && autoSelectFamily) dnsopts.all = true;
  return dnsopts;
}

function invalidIpAddress(ip) {
  return errors.codedError('ERR_INVALID_IP_ADDRESS', `Invalid IP address: ${ip}`, TypeError);
}

function invalidAddressFamily(family, host, port) {
  const err = errors.codedError('ERR_INVALID_ADDRESS_FAMILY', `Invalid address family: ${family} ${host}:${port}`, RangeError);
  err.host = host;
  err.port = port;
  return err;
}

// Resolves `host` as Node's connect does (options.lookup or dns.lookup, with dnsopts from
// connectLookupOptions), emitting 'lookup' on `socket` per address as Node does; cb(err, list)
// with the usable addresses, IPv4/IPv6 alternating from the first one's family, each once.
function lookupAll(host, options, dnsopts, socket, cb) {
  const lookup = options.lookup || dns.lookup;
  lookup(host, { ...dnsopts }, (err, addresses, fam) => {
    if (!socket.connecting) return;
    if (err) {
      socket.emit('lookup', err, undefined, undefined, host);
      cb(err);
      return;
    }
    let list = Array.isArray(addresses) ? addresses : [{ address: addresses, family: fam }];
    if (!dnsopts.all) {
      const { address, family } = list[0] || {};
      socket.emit('lookup', null, address, family, host);
      list = list.slice(0, 1);
    } else {
      for (const { address, family } of list) {
        socket.emit('lookup', null, address, family, host);
        if (!socket.connecting) return;
      }
    }
    const groups = [[], []];
    let first = null;
    const seen = new Set();
    for (const a of list) {
      if (!a || !net.isIP(a.address) || (a.family !== 4 && a.family !== 6) || seen.has(a.address)) continue;
      if (first === null) first = a.family;
      seen.add(a.address);
      groups[a.family === first ? 0 : 1].push({ address: a.address, family: a.family });
    }
    if (!groups[0].length) {
      const a = list[0] || {};
      if (!net.isIP(a.address)) cb(invalidIpAddress(a.address));
      else if (a.family !== 4 && a.family !== 6) cb(invalidAddressFamily(a.family, options.host, options.port));
      else cb(errors.codedError('ENOTFOUND', `getaddrinfo ENOTFOUND ${host}`));
      return;
    }
    const ordered = [];
    for (let i = 0; i < Math.max(groups[0].length, groups[1].length); i++) {
      if (i < groups[0].length) ordered.push(groups[0][i]);
      if (i < groups[1].length) ordered.push(groups[1][i]);
    }
    cb(null, ordered);
  });
}

// Node's toNumber / isPipeName: a string that is not a non-negative number names a pipe.
function toNumber(x) {
  const n = Number(x);
  return n >= 0 ? n : false;
}
function isPipeName(s) {
  return typeof s === 'string' && toNumber(s) === false;
}

// Node's Server.prototype.listen argument handling: (port[, host][, backlog][, cb]),
// (path[, backlog][, cb]), (options[, cb]). Returns { port, host, path, backlog, ipv6Only,
// readableAll, writableAll, signal } with the port validated, or throws Node's errors.
function normalizeListenArgs(args) {
  let options = {};
  const arg0 = args[0];
  if (args.length > 0) {
    if (typeof arg0 === 'object' && arg0 !== null) options = arg0;
    else if (isPipeName(arg0)) options = { path: arg0 };
    else {
      options = { port: arg0 };
      if (args.length > 1 && typeof args[1] === 'string') options.host = args[1];
    }
  }
  const backlogFromArgs = toNumber(args.length > 1 && args[1]) || toNumber(args.length > 2 && args[2]);
  errors.refuseUnsupported(options, ['_handle', 'handle', 'fd'], 'the listen option',
    ' (adopting an existing descriptor or handle: issue 17)');
  errors.refuseUnsupported(options, ['reusePort'], 'the listen option', ' (issue 17)');
  if (options.signal !== undefined) errors.validateAbortSignal(options.signal, 'options.signal');
  const out = { signal: options.signal, ipv6Only: options.ipv6Only };
  let port = options.port;
  if (args.length === 0 || typeof arg0 === 'function' || (port === undefined && 'port' in options) || port === null) port = 0;
  if (typeof port === 'number' || typeof port === 'string') {
    errors.validatePort(port, 'options.port');
    out.port = port | 0;
    out.host = options.host || undefined;
    out.backlog = backlogOf(options.backlog || backlogFromArgs);
    return out;
  }
  if (options.path && isPipeName(options.path)) {
    if (options.path[0] === '\0' && (options.readableAll || options.writableAll)) {
      throw errors.invalidArgValue('options', options,
        'can not set readableAll or writableAllt to true when path is abstract unix socket');
    }
    out.path = options.path;
    out.backlog = backlogOf(options.backlog || backlogFromArgs);
    out.readableAll = options.readableAll === true;
    out.writableAll = options.writableAll === true;
    return out;
  }
  if (!('port' in options || 'path' in options)) {
    throw errors.invalidArgValue('options', options, 'must have the property "port" or "path"');
  }
  throw errors.invalidArgValue('options', options);
}

// A listen backlog as the native side takes it (an i32). Node accepts any value here and
// lets the kernel cap it; so does cio, but a value that is not a usable count (not a number,
// NaN, <= 0) means the default (511, as Node's `backlog || 511`) and a huge one is capped,
// never wrapped around.
function backlogOf(value) {
  if (typeof value !== 'number' || !(value >= 1)) return undefined;
  return Math.min(Math.floor(value), 2 ** 31 - 1);
}

module.exports = { normalizeConnectArgs, normalizeListenArgs, validateConnectOptions, connectLookupOptions, lookupAll };
