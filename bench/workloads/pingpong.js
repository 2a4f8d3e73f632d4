'use strict';
// pingpong-tcp / pingpong-tls: one connection, 64-byte messages, the next one sent only after the
// whole echo has arrived (bytes are counted: TCP may split or coalesce them). 20,000 round trips.
// Headline: round trips/s; notes: p50 and p99 round-trip latency (process.hrtime.bigint()).

const { scaled, ready, closed, secondsSince, socketError, percentile } = require('../lib');

const MESSAGE = Buffer.alloc(64, 'p');

/**
 * Run `count` sequential round trips of MESSAGE on a connected socket. Records each round trip's
 * latency in nanoseconds into `latencies` (if given). Resolves when the last echo has arrived.
 */
function pingLoop(socket, count, label, latencies) {
  return new Promise((resolve, reject) => {
    let done = 0;
    let pending = 0; // echo bytes still expected for the message in flight
    let sentAt = 0n;
    const onError = (err) => { cleanup(); reject(socketError(label, err)); };
    const onClose = () => {
      cleanup();
      reject(new Error(`${label}: connection closed after ${done}/${count} round trips`));
    };
    const send = () => {
      pending = MESSAGE.length;
      sentAt = process.hrtime.bigint();
      socket.write(MESSAGE);
    };
    const onData = (chunk) => {
      pending -= chunk.length;
      if (pending > 0) return;
      if (pending < 0) {
        cleanup();
        reject(new Error(`${label}: ${-pending} unexpected extra bytes echoed`));
        return;
      }
      if (latencies) latencies[done] = Number(process.hrtime.bigint() - sentAt);
      if (++done === count) { cleanup(); resolve(); } else send();
    };
    const cleanup = () => {
      socket.removeListener('data', onData);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    send();
  });
}

/** Connect, wait for the impl's ready event, and turn Nagle off (latency benchmark). */
async function openSocket(impl, port, tls, tracker, label) {
  const socket = tracker.add(impl.connect({ port, tls }));
  await ready(socket, impl.readyEvent(tls), label);
  if (typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
  return socket;
}

/** End our side and wait until the connection is fully closed. */
async function finish(socket) {
  socket.end();
  await closed(socket);
}

module.exports = {
  variants: { 'pingpong-tcp': { tls: false }, 'pingpong-tls': { tls: true } },
  unit: 'rt/s',
  higherIsBetter: true,

  onServerConnection(socket) {
    if (typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
    socket.on('data', (chunk) => socket.write(chunk));
  },

  async run({ impl, port, tls, scale, tracker, label }) {
    const count = scaled(20000, scale, 20);
    const socket = await openSocket(impl, port, tls, tracker, label);
    const latencies = new Float64Array(count);
    const start = process.hrtime.bigint();
    await pingLoop(socket, count, label, latencies);
    const seconds = secondsSince(start);
    await finish(socket);
    return {
      value: count / seconds,
      extra: {
        p50_us: percentile(latencies, 50) / 1000,
        p99_us: percentile(latencies, 99) / 1000,
        count,
      },
    };
  },

  pingLoop,
  openSocket,
  finish,
};
