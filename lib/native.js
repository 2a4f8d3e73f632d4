'use strict';
// Loads the native addon through napi's generated loader (binding.js) and turns a missing
// binary into an error that says what was looked for and how to get it.

let binding;
try {
  binding = require('../binding');
} catch (cause) {
  const platform = `${process.platform}-${process.arch}`;
  const err = new Error(
    `cio: no native binary for ${platform} could be loaded. ` +
    'Prebuilt binaries are published as optional dependencies (cio-linux-x64-gnu, ...); ' +
    'reinstall without --no-optional, or build from source with a Rust toolchain: ' +
    '`npm install && npm run build` in the cio package directory.');
  err.code = 'ERR_CIO_NATIVE_BINDING';
  err.platform = platform;
  err.cause = cause;
  throw err;
}

// Event codes of src/events.rs (keep the two lists in step).
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
});

module.exports = { binding, EV };
