'use strict';
// idle-tcp: open 5,000 connections (100 connecting at a time) and leave them idle. Headline:
// resident memory per connection in KiB (lower is better) = RSS growth, after full garbage
// collections, of the process holding the server ends, divided by the connection count.
// - inproc: that process holds BOTH ends, so the figure covers a client and a server socket.
// - child:  the figure is the server process alone; the notes add the client process's figure.

const { scaled, runPool, settledRss, ready, closed } = require('../lib');

const CONNECTING = 100;
const KiB = 1024;

module.exports = {
  variants: { 'idle-tcp': { tls: false } },
  unit: 'KiB/conn',
  higherIsBetter: false,

  onServerConnection() { /* hold the connection, read nothing, write nothing */ },

  async run({ impl, port, tls, scale, host, tracker, label }) {
    const count = scaled(5000, scale, 200);
    const child = host.mode === 'child';
    const before = await host.query({ cmd: 'mem' });
    const localBefore = child ? settledRss() : 0;

    const sockets = [];
    await runPool(count, CONNECTING, async () => {
      const socket = tracker.add(impl.connect({ port, tls }));
      sockets.push(socket);
      await ready(socket, impl.readyEvent(tls), label);
    });
    const after = await host.query({ cmd: 'mem', connections: count });
    const localAfter = child ? settledRss() : 0;

    for (const s of sockets) s.destroy();
    await Promise.all(sockets.map(closed));

    const extra = { connections: count };
    if (child) extra.client_kib = (localAfter - localBefore) / KiB / count;
    return { value: (after.rss - before.rss) / KiB / count, extra };
  },
};
