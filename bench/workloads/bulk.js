'use strict';
// bulk-tcp / bulk-tls: the client sends 512 MiB in 64 KiB writes, honouring backpressure (a write()
// that returns false waits for 'drain'). The stream starts with an 8-byte big-endian length; the
// receiver counts bytes and, once it has them all, answers with the 8-byte count and ends.
// The clock runs from the first write to the arrival of that answer. Headline: MiB/s.

const { scaled, ready, closed, secondsSince, socketError } = require('../lib');

const CHUNK = Buffer.alloc(64 * 1024, 'b');
const MiB = 1024 * 1024;

module.exports = {
  variants: { 'bulk-tcp': { tls: false }, 'bulk-tls': { tls: true } },
  unit: 'MiB/s',
  higherIsBetter: true,

  onServerConnection(socket) {
    let header = Buffer.alloc(0);
    let expected = -1;
    let received = 0;
    socket.on('data', (chunk) => {
      if (expected < 0) {
        header = Buffer.concat([header, chunk]);
        if (header.length < 8) return;
        expected = Number(header.readBigUInt64BE(0));
        received = header.length - 8;
        header = null;
      } else {
        received += chunk.length;
      }
      if (received >= expected && expected >= 0) {
        const answer = Buffer.alloc(8);
        answer.writeBigUInt64BE(BigInt(received));
        expected = Infinity; // answer once
        socket.end(answer);
      }
    });
  },

  async run({ impl, port, tls, scale, tracker, label }) {
    const writes = scaled(8192, scale, 8);
    const total = writes * CHUNK.length;
    const socket = tracker.add(impl.connect({ port, tls }));
    await ready(socket, impl.readyEvent(tls), label);

    const seconds = await new Promise((resolve, reject) => {
      const answer = [];
      let answerBytes = 0;
      let start;
      socket.on('error', (err) => reject(socketError(label, err)));
      socket.on('close', () => reject(new Error(`${label}: closed before the receiver's answer`)));
      socket.on('data', (chunk) => {
        answer.push(chunk);
        answerBytes += chunk.length;
        if (answerBytes < 8) return;
        const elapsed = secondsSince(start);
        const got = Number(Buffer.concat(answer).readBigUInt64BE(0));
        if (got !== total) reject(new Error(`${label}: receiver counted ${got} of ${total} bytes`));
        else resolve(elapsed);
      });
      let sent = 0;
      const pump = () => {
        while (sent < writes) {
          sent++;
          if (!socket.write(CHUNK)) { socket.once('drain', pump); return; }
        }
      };
      const header = Buffer.alloc(8);
      header.writeBigUInt64BE(BigInt(total));
      start = process.hrtime.bigint();
      socket.write(header);
      pump();
    });
    socket.end();
    await closed(socket);
    return { value: total / MiB / seconds, extra: { mib: total / MiB } };
  },
};
