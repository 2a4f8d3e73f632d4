'use strict';
// fanout-tcp: 64 connections, each doing 500 sequential 64-byte round trips, all concurrently.
// Connections are opened first; the clock covers the round trips only. Headline: round trips/s.

const { scaled, secondsSince } = require('../lib');
const pingpong = require('./pingpong');

module.exports = {
  variants: { 'fanout-tcp': { tls: false } },
  unit: 'rt/s',
  higherIsBetter: true,

  onServerConnection: pingpong.onServerConnection,

  async run({ impl, port, tls, scale, tracker, label }) {
    const connections = scaled(64, scale, 2);
    const perConnection = scaled(500, scale, 5);
    const sockets = await Promise.all(Array.from({ length: connections },
      () => pingpong.openSocket(impl, port, tls, tracker, label)));
    const start = process.hrtime.bigint();
    await Promise.all(sockets.map((s) => pingpong.pingLoop(s, perConnection, label)));
    const seconds = secondsSince(start);
    await Promise.all(sockets.map(pingpong.finish));
    return { value: (connections * perConnection) / seconds, extra: { connections, perConnection } };
  },
};
