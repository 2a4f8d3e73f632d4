'use strict';
// Node-shaped errors: the native side describes a failure as { code, errno, syscall, message }
// (src/errors.rs); these helpers turn that into the Error objects Node's net/tls would throw or
// emit, with the same messages and properties. Validation errors mirror Node's own
// (ERR_SOCKET_BAD_PORT and friends) so callers can switch on `code`.

const util = require('util');

const systemErrors = typeof util.getSystemErrorMap === 'function' ? util.getSystemErrorMap() : new Map();

function describe(errno) {
  const entry = systemErrors.get(errno);
  return entry ? entry[1] : undefined;
}

function decorate(err, info) {
  err.errno = info.errno || undefined;
  err.code = info.code;
  if (info.syscall) err.syscall = info.syscall;
  if (err.errno === undefined) delete err.errno;
  return err;
}

// `read ECONNRESET`, `write EPIPE`: Node's errnoException.
function errnoException(info) {
  const msg = info.message && !info.errno ? info.message : `${info.syscall} ${info.code}`;
  return decorate(new Error(msg), info);
}

// `connect ECONNREFUSED 127.0.0.1:1`: Node's exceptionWithHostPort.
function exceptionWithHostPort(info, address, port) {
  let details = '';
  if (port !== undefined && port !== null && address) details = ` ${address}:${port}`;
  else if (address) details = ` ${address}`;
  const base = info.message && !info.errno ? info.message : `${info.syscall} ${info.code}`;
  const err = decorate(new Error(base + details), info);
  if (address) err.address = address;
  if (port !== undefined && port !== null && address) err.port = port;
  return err;
}

// `listen EADDRINUSE: address already in use 127.0.0.1:8000`: Node's uvExceptionWithHostPort.
function uvExceptionWithHostPort(info, address, port) {
  const desc = describe(info.errno) || info.message || info.code;
  let details = '';
  if (port && address) details = ` ${address}:${port}`;
  else if (address) details = ` ${address}`;
  const err = decorate(new Error(`${info.syscall} ${info.code}: ${desc}${details}`), info);
  if (address) err.address = address;
  if (port) err.port = port;
  return err;
}

// A coded cio/Node error that is not a system call failure.
function codedError(code, message, Ctor = Error) {
  const err = new Ctor(message);
  err.code = code;
  return err;
}

function specificType(value) {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `function ${value.name}`;
  if (typeof value === 'object') {
    if (value.constructor && value.constructor.name) return `an instance of ${value.constructor.name}`;
    return util.inspect(value, { depth: -1 });
  }
  let inspected = util.inspect(value, { colors: false });
  if (inspected.length > 28) inspected = `${inspected.slice(0, 25)}...`;
  return `type ${typeof value} (${inspected})`;
}

// Node's validatePort: throws RangeError ERR_SOCKET_BAD_PORT synchronously.
function validatePort(port, name = 'Port', allowZero = true) {
  if ((typeof port !== 'number' && typeof port !== 'string') ||
      (typeof port === 'string' && port.trim().length === 0) ||
      +port !== (+port >>> 0) ||
      port > 0xFFFF ||
      (port === 0 && !allowZero)) {
    const op = allowZero ? '>=' : '>';
    throw codedError('ERR_SOCKET_BAD_PORT',
      `${name} should be ${op} 0 and < 65536. Received ${specificType(port)}.`, RangeError);
  }
  return port | 0;
}

// Node's ERR_INVALID_ARG_TYPE: 'The "options.x" property ...' for a dotted name, else 'argument'.
function invalidArgType(name, expected, actual) {
  const kind = name.includes('.') ? 'property' : 'argument';
  return codedError('ERR_INVALID_ARG_TYPE',
    `The "${name}" ${kind} must be ${expected}. Received ${specificType(actual)}`, TypeError);
}

// Node's ERR_OUT_OF_RANGE (big integers written with '_' separators, as Node does).
function outOfRange(name, range, actual) {
  let received = util.inspect(actual);
  if (Number.isInteger(actual) && Math.abs(actual) > 2 ** 32) {
    received = String(actual).replace(/(\d)(?=(\d{3})+$)/g, '$1_');
  }
  return codedError('ERR_OUT_OF_RANGE',
    `The value of "${name}" is out of range. It must be ${range}. Received ${received}`, RangeError);
}

// Node's ERR_INVALID_ARG_VALUE: 'The property 'options.x' is not supported. Received true'.
function invalidArgValue(name, value, reason = 'is invalid', Ctor = TypeError) {
  const kind = name.includes('.') ? 'property' : 'argument';
  let inspected = util.inspect(value);
  if (inspected.length > 128) inspected = `${inspected.slice(0, 128)}...`;
  return codedError('ERR_INVALID_ARG_VALUE', `The ${kind} '${name}' ${reason}. Received ${inspected}`, Ctor);
}

// Node's validateAbortSignal.
function validateAbortSignal(signal, name) {
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || !('aborted' in signal))) {
    throw invalidArgType(name, 'an instance of AbortSignal', signal);
  }
}

// Node's validateFunction.
function validateFunction(value, name) {
  if (typeof value !== 'function') throw invalidArgType(name, 'of type function', value);
}

// Node's AbortError (code ABORT_ERR, the signal's reason as its cause).
class AbortError extends Error {
  constructor(message = 'The operation was aborted', options = undefined) {
    super(message, options);
    this.code = 'ABORT_ERR';
  }
}
Object.defineProperty(AbortError.prototype, 'name', { value: 'AbortError', configurable: true, writable: true });
function abortError(reason) {
  return new AbortError(undefined, reason === undefined ? undefined : { cause: reason });
}

// Node's validateNumber (no bounds).
function validateNumber(value, name) {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  return value;
}

// Node's getTimerDuration: a number, finite and >= 0; above what a timer can hold (2^31 - 1
// ms) it is truncated with Node's TimeoutOverflowWarning. Every millisecond count that reaches
// a timer or the native side goes through it, so none wraps around.
const TIMEOUT_MAX = 2 ** 31 - 1;
function timerDuration(msecs, name) {
  validateNumber(msecs, name);
  if (msecs < 0 || !Number.isFinite(msecs)) throw outOfRange(name, 'a non-negative finite number', msecs);
  if (msecs > TIMEOUT_MAX) {
    process.emitWarning(`${msecs} does not fit into a 32-bit signed integer.\nTimer duration was truncated to ${TIMEOUT_MAX}.`,
      'TimeoutOverflowWarning');
    return TIMEOUT_MAX;
  }
  return msecs;
}

// A millisecond count as the native side takes it (a whole number in 1..2^31-1, 0 = none).
function nativeMs(msecs) {
  return msecs > 0 ? Math.max(1, Math.floor(msecs)) : 0;
}

// Options cio does not implement are refused, never silently ignored (false/null/undefined
// mean "not asked for").
function refuseUnsupported(options, names, what, why = '') {
  for (const name of names) {
    const v = options[name];
    if (v !== undefined && v !== null && v !== false) {
      throw codedError('ERR_CIO_UNSUPPORTED_OPTION', `cio does not support ${what} '${name}'${why}`);
    }
  }
}

module.exports = {
  refuseUnsupported,
  errnoException,
  exceptionWithHostPort,
  uvExceptionWithHostPort,
  codedError,
  validatePort,
  invalidArgType,
  outOfRange,
  validateNumber,
  invalidArgValue,
  validateAbortSignal,
  validateFunction,
  abortError,
  timerDuration,
  nativeMs,
  TIMEOUT_MAX,
};
