'use strict';
// One measured run of one workload with one implementation in one mode.
//
// Memory workloads (family.isolated, i.e. idle-tcp) run in a FRESH process even in inproc mode
// (bench/isolated-run.js holds both the client and the server ends): in a warm process the
// memory freed by earlier runs is reused, so RSS growth would understate the cost of a
// connection and mix one implementation's leftovers into the other's figure.

const path = require('path');
const { fork } = require('child_process');
const { getImpl } = require('./impls');
const { createHost } = require('./host');
const { Tracker, withTimeout } = require('./lib');

async function runHere({ mode, implName, workload, scale, timeout, label }) {
  const impl = getImpl(implName);
  const host = createHost(mode, implName, workload.name);
  const tracker = new Tracker();
  let result;
  let failure;
  try {
    const port = await host.start();
    const run = workload.family.run({ impl, port, tls: workload.tls, scale, host, tracker, label });
    result = await withTimeout(run, timeout * 1000, `${label} (raise --timeout?)`,
      () => tracker.destroyAll());
  } catch (err) {
    failure = err;
  }
  tracker.destroyAll();
  try {
    await withTimeout(host.stop(), 10000, `${label}: closing the server`);
  } catch (err) {
    if (!failure) failure = err;
    else failure.message += `; then ${err.message}`;
  }
  if (failure) throw failure;
  return result;
}

const ISOLATED = path.join(__dirname, 'isolated-run.js');

function runIsolated(spec) {
  const { implName, workload, scale, timeout, label } = spec;
  return new Promise((resolve, reject) => {
    const child = fork(ISOLATED, [implName, workload.name, String(scale), String(timeout), label], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    let outcome = null;
    child.on('message', (msg) => { outcome = msg; });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (outcome && outcome.type === 'result') resolve(outcome.result);
      else if (outcome && outcome.type === 'error') reject(new Error(outcome.message));
      else reject(new Error(`${label}: isolated run exited without a result (code ${code}, signal ${signal})`));
    });
  });
}

/** spec: { mode, implName, workload, scale, timeout (s), label } -> { value, extra } */
function runOnce(spec) {
  return spec.mode === 'inproc' && spec.workload.family.isolated ? runIsolated(spec) : runHere(spec);
}

module.exports = { runOnce, runHere };
