'use strict';
// The server half of one workload, in its own process.
//
//   node bench/server-child.js <cio|node> <workload>
//
// Listens on 127.0.0.1 (ephemeral port) and prints "listening 127.0.0.1:<port>". When forked by
// bench/compare.js it reports the port over IPC instead, answers queries ({cmd:'mem'} for the
// idle workload) and on {type:'close'} closes every socket and the server, then exits. It also
// exits when its parent goes away, so a crashed harness never leaves servers behind.

const { ServerSide } = require('./host');

const [implName, workloadName] = process.argv.slice(2);
const viaIpc = typeof process.send === 'function';

function fatal(err) {
  const message = (err && err.message) || String(err);
  if (viaIpc && process.connected) process.send({ type: 'fatal', message }, () => process.exit(1));
  else { console.error(`server-child: ${message}`); process.exit(1); }
}

async function main() {
  if (!implName || !workloadName) {
    throw new Error('usage: node bench/server-child.js <cio|node> <workload>');
  }
  const side = new ServerSide(implName, workloadName);
  const port = await side.start();

  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await side.stop();
    if (process.connected) process.disconnect();
    // Everything is closed; the event loop ends on its own and the process exits.
  };

  if (!viaIpc) {
    console.log(`listening 127.0.0.1:${port}`);
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
    return;
  }
  process.on('message', (msg) => {
    if (msg.type === 'close') shutdown().catch(fatal);
    else if (msg.type === 'query') {
      side.query(msg.req).then(
        (reply) => process.send({ type: 'reply', id: msg.id, reply }),
        (err) => process.send({ type: 'reply', id: msg.id, error: err.message }),
      );
    }
  });
  process.once('disconnect', shutdown);
  process.send({ type: 'listening', port });
}

main().catch(fatal);
