'use strict';
// idle-tcp: open 5,000 connections (100 connecting at a time) and leave them idle. Headline:
// resident memory per connection in KiB (lower is better) = RSS growth, after full garbage
// collections, of the process holding the server ends, divided by the connection count.
// - inproc: that process holds BOTH ends, so the figure covers a client and a server socket;
//           each run gets a fresh process (bench/isolated-run.js) so earlier runs' freed memory
//           cannot be reused and hide the growth.
// - child:  the figure is the server process alone (a fresh child per run).

const { scaled, runPool, ready, closed } = require('../lib');

const CONNECTING = 100;
const KiB = 1024;

module.exports = {
  variants: { 'idle-tcp': { tls: false } },
  unit: 'KiB/conn',
  higherIsBetter: false,
  isolated: true, // inproc runs get a fresh process (see bench/run.js)

  onServerConnection() { /* hold the connection, read nothing, write nothing */ },

  async run({ impl, port, tls, scale, host, tracker, label }) {
    const count = scaled(5000, scale, 1000);
    const before = await host.query({ cmd: 'mem' });

    const sockets = [];
    await runPool(count, CONNECTING, async () => {
      const socket = tracker.add(impl.connect({ port, tls }));
      sockets.push(socket);
      await ready(socket, impl.readyEvent(tls), label);
    });
    const after = await host.query({ cmd: 'mem', connections: count });

    for (const s of sockets) s.destroy();
    await Promise.all(sockets.map(closed));

    return { value: (after.rss - before.rss) / KiB / count, extra: { connections: count } };
  },
};
