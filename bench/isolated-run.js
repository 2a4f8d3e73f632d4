'use strict';
// One inproc run (client and server in THIS fresh process), forked by bench/run.js for memory
// workloads. Reports { type: 'result', result } or { type: 'error', message } over IPC, then
// exits once everything it opened is closed.
//
//   node bench/isolated-run.js <cio|node> <workload> <scale> <timeout-seconds> [label]

const { runHere } = require('./run');
const { getWorkload } = require('./workloads');

const [implName, workloadName, scale, timeout, label] = process.argv.slice(2);

function report(msg) {
  if (process.send) process.send(msg, () => process.disconnect());
  else console.log(JSON.stringify(msg));
}

runHere({
  mode: 'inproc', implName, workload: getWorkload(workloadName), scale: Number(scale),
  timeout: Number(timeout), label: label || `${workloadName} inproc ${implName}`,
}).then(
  (result) => report({ type: 'result', result }),
  (err) => { report({ type: 'error', message: err.message }); process.exitCode = 1; },
);
