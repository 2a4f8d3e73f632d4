'use strict';
// Loads the native addon through napi's generated loader (binding.js) and turns a missing
// binary into an error that says what was looked for and how to get it.

let binding;
try {
  binding = require('../binding');
} catch (cause) {
  const platform = platformTriple();
  const err = new Error(
    `cio: no native binary for ${platform} could be loaded (looked for cio.${platform}.node ` +
    `in the cio package and for the package cio-${platform}). Prebuilt binaries are installed ` +
    'as optional dependencies: reinstall without --no-optional/--omit=optional. To build from ' +
    'source (needs a Rust toolchain, https://rustup.rs): `npm install && npm run build` in the ' +
    `cio package directory. Cause: ${cause && cause.message}`);
  err.code = 'ERR_CIO_NATIVE_BINDING';
  err.platform = platform;
  err.cause = cause;
  throw err;
}

// napi-rs's platform names: linux-x64-gnu, linux-arm64-musl, darwin-arm64, win32-x64-msvc, ...
function platformTriple() {
  const base = `${process.platform}-${process.arch}`;
  if (process.platform === 'win32') return `${base}-msvc`;
  if (process.platform !== 'linux') return base;
  const report = process.report && typeof process.report.getReport === 'function' ? process.report.getReport() : null;
  const glibc = report && report.header && report.header.glibcVersionRuntime;
  return `${base}-${glibc ? 'gnu' : 'musl'}`;
}

// Event codes of src/deliver/mod.rs (keep the two lists in step).
const EV = Object.freeze({
  CONNECT: 1,
  DATA: 2,
  END: 3,
  ERROR: 4,
  WRITE_DONE: 5,
  SHUTDOWN_DONE: 6,
  SECURE: 7,
  CONNECTION: 10,
  TLS_CLIENT_ERROR: 11,
  CLOSED: 12,
  TLS_ACCEPT: 13,
});

// ref()/unref() of a Socket or Server: remembered for handles made later, applied to the
// current one (whether it keeps Node's event loop alive).
function setRef(target, on) {
  target._refed = on;
  if (target._handle) {
    // An idle socket stays unreferenced until it reads or writes (lib/socket.js _idle).
    if (on) {
      if (!target._idleUnref) target._handle.ref();
    } else target._handle.unref();
  }
  return target;
}

module.exports = { binding, EV, setRef };
