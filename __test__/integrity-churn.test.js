'use strict';
// Churn: thousands of connections opened and closed through require('cio') — mutual TLS (cio
// client and cio server; half of the clients resume their session, half do full handshakes)
// and plain TCP — leave the process's file descriptors and native memory flat.
//
// Each kind runs in a fresh child process (__test__/tools/churn-child.js) so that nothing else
// lives in the measured process. After a warm-up (caches filled, allocator arenas grown to
// their working size) it reads /proc/self/fd and memory after full garbage collections, once
// every socket of both ends has closed; then again after each further window of connections.
//
// Tolerances:
// - file descriptors: exactly the count after the warm-up, at every later reading;
// - native memory (RSS minus V8's heapTotal, both ends of every connection in the process):
//   growth from the first to the last reading below 1 KiB per mutual-TLS connection (3,000
//   after a 3,000 warm-up) and 160 B per TCP connection (20,000 after 3,000). Checked by
//   leaking every socket's native state on purpose (the LoopIo box never freed): TLS then grows
//   ~18.7 KiB/connection and TCP ~0.27 KiB/connection, both caught. Clean runs: -310..+260
//   B/connection (TLS; over 41,000 connections it is ~13 B/connection once past the first
//   ~6,000, during which glibc's per-thread arenas grow to their working size) and -35..+30
//   B/connection (TCP). Readings move by up to ~1 MiB between runs.
const path = require('path');
const { execFile } = require('child_process');

const CHILD = path.join(__dirname, 'tools', 'churn-child.js');

function churn(kind, warmup, window, windows) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', '--max-semi-space-size=2', CHILD, kind, String(warmup), String(window), String(windows)],
      { timeout: 60000 }, (err, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop();
        let result;
        try {
          result = JSON.parse(line);
        } catch (_) {
          reject(new Error(`churn child (${kind}) gave no result: ${err ? err.message : ''}\n${stdout}\n${stderr}`));
          return;
        }
        if (result.error) reject(new Error(`churn child (${kind}) failed: ${result.error}`));
        else resolve(result);
      });
  });
}

function summary(result) {
  const first = result.readings[0];
  const last = result.readings[result.readings.length - 1];
  const connections = last.connections - first.connections;
  return {
    fds: result.readings.map((r) => r.fds),
    nativeMiB: result.readings.map((r) => +(r.native / 1048576).toFixed(2)),
    rssMiB: result.readings.map((r) => +(r.rss / 1048576).toFixed(2)),
    growthPerConnection: Math.round((last.native - first.native) / connections),
    connections,
    ms: result.ms,
  };
}

describe('opening and closing thousands of connections leaves file descriptors and native memory flat', () => {
  test.each([
    ['mutual-TLS connections (cio client and server, resumed and full handshakes)', 'tls', 3000, 1500, 2, 1024],
    ['plain TCP connections (cio client and server)', 'tcp', 3000, 10000, 2, 160],
  ])('%s', async (_name, kind, warmup, window, windows, maxGrowth) => {
    const s = summary(await churn(kind, warmup, window, windows));
    // Shown on failure, and by `--verbose` runs of this file.
    console.log(`churn ${kind}: ${warmup} warm-up + ${s.connections} measured connections in ${s.ms} ms; fds ${s.fds.join(' ')}; native MiB ${s.nativeMiB.join(' ')}; rss MiB ${s.rssMiB.join(' ')}; growth ${s.growthPerConnection} B/connection`);
    expect(s.fds).toEqual(s.fds.map(() => s.fds[0]));
    expect({ kind, growthPerConnection: s.growthPerConnection, below: s.growthPerConnection < maxGrowth })
      .toEqual({ kind, growthPerConnection: s.growthPerConnection, below: true });
  }, 90000);
});
