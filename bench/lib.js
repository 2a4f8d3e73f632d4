'use strict';
// Small shared helpers for the benchmark harness (no dependencies).

const v8 = require('v8');
const vm = require('vm');

/** A callable full garbage collection, without needing `--expose-gc` on the command line. */
function getGc() {
  if (typeof global.gc === 'function') return global.gc;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc');
    if (typeof gc === 'function') return gc;
  } catch (_) { /* fall through */ }
  return () => {};
}
const gc = getGc();

/** RSS in bytes after full collections (so freed JS objects do not count). */
function settledRss() {
  gc();
  gc();
  return process.memoryUsage.rss();
}

function median(values) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Nearest-rank percentile of a numeric typed array or array (p in 0..100). */
function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Scale a count, never below `min`. */
function scaled(n, scale, min) {
  return Math.max(min, Math.round(n * scale));
}

/**
 * Tracks every socket a run creates so a failed or timed-out run can tear all of them down.
 */
class Tracker {
  constructor() { this.sockets = new Set(); }
  add(socket) {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    return socket;
  }
  destroyAll() {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}

/** Reject with a clear message if `promise` does not settle within `ms`; `onTimeout` cleans up. */
function withTimeout(promise, ms, label, onTimeout) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      if (onTimeout) onTimeout();
      reject(new Error(`${label}: did not finish within ${ms / 1000} s`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Run `total` async tasks with at most `concurrency` in flight. `task(i)` returns a promise.
 * Rejects on the first failure (no new tasks start after it).
 */
function runPool(total, concurrency, task) {
  return new Promise((resolve, reject) => {
    let started = 0;
    let finished = 0;
    let failed = false;
    const launch = () => {
      while (!failed && started < total && started - finished < concurrency) {
        const i = started++;
        Promise.resolve().then(() => task(i)).then(() => {
          finished++;
          if (finished === total) resolve();
          else launch();
        }, (err) => {
          if (!failed) { failed = true; reject(err); }
        });
      }
    };
    if (total === 0) resolve(); else launch();
  });
}

/** Resolves with the elapsed seconds since `start` (a bigint from process.hrtime.bigint()). */
function secondsSince(start) {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Wrap a socket error with the workload context. */
function socketError(label, err) {
  const e = new Error(`${label}: ${err && err.code ? err.code + ' ' : ''}${err && err.message}`);
  e.cause = err;
  return e;
}

/**
 * Resolves when `socket` emits `event` ('connect' / 'secureConnect'); rejects if it errors or
 * closes first.
 */
function ready(socket, event, label) {
  return new Promise((resolve, reject) => {
    const onError = (err) => { cleanup(); reject(socketError(label, err)); };
    const onClose = () => { cleanup(); reject(new Error(`${label}: closed before '${event}'`)); };
    const onReady = () => { cleanup(); resolve(socket); };
    const cleanup = () => {
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      socket.removeListener(event, onReady);
    };
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.once(event, onReady);
  });
}

/** Resolves once `socket` has emitted 'close' (at once if it already has). */
function closed(socket) {
  if (socket.destroyed && socket.closed) return Promise.resolve();
  return new Promise((resolve) => socket.once('close', resolve));
}

module.exports = {
  ready, closed, gc, settledRss, median, percentile, scaled, Tracker, withTimeout, runPool, secondsSince,
  socketError,
};
