'use strict';
// connect-tcp / connect-tls: 2,000 connections, at most 50 in flight. Each one connects (TLS:
// mutual, full handshake, the server requires and verifies the client certificate), sends one
// byte, receives one byte, ends and waits for 'close'. Headline: connections/s.
// TLS notes: how many handshakes were resumed (socket.isSessionReused(); must be 0 — both
// implementations are configured for full handshakes, see bench/impls.js).

const { scaled, runPool, secondsSince, socketError } = require('../lib');

const IN_FLIGHT = 50;
const BYTE = Buffer.from('x');

function oneConnection({ impl, port, tls, tracker, label }, stats) {
  return new Promise((resolve, reject) => {
    const socket = tracker.add(impl.connect({ port, tls }));
    let answered = false;
    socket.once(impl.readyEvent(tls), () => {
      if (tls) {
        if (socket.authorized === false) {
          reject(new Error(`${label}: server not authorized: ${socket.authorizationError}`));
          socket.destroy();
          return;
        }
        if (typeof socket.isSessionReused === 'function') {
          stats.checked++;
          if (socket.isSessionReused()) stats.resumed++;
        }
      }
      socket.write(BYTE);
    });
    socket.on('data', () => {
      if (answered) return;
      answered = true;
      socket.end();
    });
    socket.on('error', (err) => reject(socketError(label, err)));
    socket.on('close', () => {
      if (answered) resolve();
      else reject(new Error(`${label}: connection closed without the server's byte`));
    });
  });
}

module.exports = {
  variants: { 'connect-tcp': { tls: false }, 'connect-tls': { tls: true } },
  unit: 'conn/s',
  higherIsBetter: true,

  onServerConnection(socket) {
    socket.once('data', () => socket.end(BYTE));
  },

  async run(ctx) {
    const total = scaled(2000, ctx.scale, 4);
    const stats = { checked: 0, resumed: 0 };
    const start = process.hrtime.bigint();
    await runPool(total, IN_FLIGHT, () => oneConnection(ctx, stats));
    const seconds = secondsSince(start);
    const extra = { connections: total };
    if (ctx.tls) {
      extra.resumed = stats.checked === total ? stats.resumed : NaN; // NaN: impl cannot tell
    }
    return { value: total / seconds, extra };
  },
};
