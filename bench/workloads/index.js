'use strict';
// Workload registry: every workload name maps to its family module and whether it uses TLS.
//
// A family module exports:
//   variants                       { '<name>': { tls: boolean } }
//   unit, higherIsBetter           the headline metric
//   onServerConnection(socket, state)   server side, runs in the server's process
//   run({ impl, port, tls, scale, host, tracker, label }) -> { value, extra }
//                                  client side; `extra` holds numbers shown in the notes column

const families = ['pingpong', 'bulk', 'connect', 'fanout', 'idle'].map((f) => require(`./${f}`));

const workloads = new Map();
for (const family of families) {
  for (const [name, v] of Object.entries(family.variants)) {
    workloads.set(name, { name, tls: v.tls, family });
  }
}

function getWorkload(name) {
  const w = workloads.get(name);
  if (!w) throw new Error(`unknown workload '${name}' (known: ${[...workloads.keys()].join(', ')})`);
  return w;
}

module.exports = { getWorkload, workloadNames: () => [...workloads.keys()] };
