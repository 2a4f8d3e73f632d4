#!/usr/bin/env node
'use strict';
// cio vs Node's own net/tls, side by side in one run. See bench/README.md.
//
//   node bench/compare.js [--workloads a,b] [--rounds N] [--scale F] [--mode inproc|child|both]
//                         [--impl cio,node] [--markdown FILE] [--json FILE] [--timeout S]

const fs = require('fs');
const os = require('os');
const { getImpl, describeCerts } = require('./impls');
const { runOnce } = require('./run');
const { getWorkload, workloadNames } = require('./workloads');
const { median } = require('./lib');

const USAGE = `usage: node bench/compare.js [options]
  --workloads a,b   workloads to run (default: all)
                    ${workloadNames().join(', ')}
  --rounds N        rounds per implementation, alternating A B A B ... (default 3)
  --scale F         multiply counts and sizes by F, e.g. 0.01 for a quick look (default 1)
  --mode M          inproc (client and server in this process), child (server in a forked
                    child process) or both (default both)
  --impl A,B        the two implementations to compare; the ratio is A/B (default cio,node)
  --markdown FILE   also write the result table as Markdown
  --json FILE       also write all samples and medians as JSON
  --no-warmup       skip the unrecorded warm-up run (scale <= 0.01) of each implementation
                    before the measured rounds of every workload and mode
  --timeout S       give up on a single run after S seconds (default 300)
  --help`;

// Targets from issue 6 (cio/Node ratio of medians); shown when comparing cio against node.
const TARGETS = {
  'connect-tls': { min: 5 },
  'bulk-tls': { min: 2 },
  'bulk-tcp': { min: 1.5 },
  'pingpong-tcp': { min: 1 },
  'fanout-tcp': { min: 1 },
  'connect-tcp': { min: 1 },
  'idle-tcp': { max: 0.5 },
};

function usageError(message) {
  const e = new Error(`${message}\n\n${USAGE}`);
  e.usage = true;
  return e;
}

function parseArgs(argv) {
  const opts = {
    workloads: workloadNames(), rounds: 3, scale: 1, modes: ['inproc', 'child'],
    impls: ['cio', 'node'], markdown: null, json: null, timeout: 300, warmup: true,
  };
  for (let i = 0; i < argv.length; i++) {
    let [flag, value] = argv[i].split(/=(.*)/s);
    if (flag === '--help' || flag === '-h') { opts.help = true; continue; }
    if (flag === '--no-warmup') { opts.warmup = false; continue; }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw usageError(`${flag} needs a value`);
    }
    const list = () => value.split(',').map((s) => s.trim()).filter(Boolean);
    const number = (min) => {
      const n = Number(value);
      if (!Number.isFinite(n) || n < min) throw usageError(`${flag} must be a number >= ${min}`);
      return n;
    };
    switch (flag) {
      case '--workloads':
        opts.workloads = list();
        for (const w of opts.workloads) {
          if (!workloadNames().includes(w)) throw usageError(`unknown workload '${w}'`);
        }
        break;
      case '--rounds': opts.rounds = Math.floor(number(1)); break;
      case '--scale': opts.scale = number(Number.MIN_VALUE); break;
      case '--timeout': opts.timeout = number(1); break;
      case '--markdown': opts.markdown = value; break;
      case '--json': opts.json = value; break;
      case '--mode':
        if (!['inproc', 'child', 'both'].includes(value)) throw usageError('--mode: inproc, child or both');
        opts.modes = value === 'both' ? ['inproc', 'child'] : [value];
        break;
      case '--impl':
        opts.impls = list();
        if (opts.impls.length !== 2) throw usageError('--impl takes two names, e.g. cio,node');
        break;
      default: throw usageError(`unknown option ${flag}`);
    }
  }
  return opts;
}

/** Column labels: "cio", "node"; a repeated name gets a suffix ("node", "node#2"). */
function labelsFor(impls) {
  return impls.map((name, i) => (impls.indexOf(name) !== i ? `${name}#${i + 1}` : name));
}

const fmt = (v) => {
  if (!Number.isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 2);
};
const EXTRA_LABELS = { p50_us: 'p50 µs', p99_us: 'p99 µs', resumed: 'resumed' };
const int = (v) => Math.round(v).toLocaleString('en-US');
const SIZE_LABELS = {
  count: (v) => `${int(v)} rt`, mib: (v) => `${+v.toFixed(2)} MiB`,
  connections: (v) => `${int(v)} conns`, perConnection: (v) => `× ${int(v)} rt`,
};

function summarize(workload, mode, labels, samples, errors, compareCioNode) {
  const medians = samples.map((s) => median(s.map((r) => r.value)));
  const extras = samples.map((s) => {
    const keys = s.length ? Object.keys(s[0].extra) : [];
    return Object.fromEntries(keys.map((k) => [k, median(s.map((r) => r.extra[k]))]));
  });
  const ratio = medians[0] / medians[1];
  const first = samples.find((s) => s.length);
  const size = first ? Object.entries(first[0].extra)
    .filter(([k]) => SIZE_LABELS[k]).map(([k, v]) => SIZE_LABELS[k](v)).join(' ') : '';
  const notes = Object.keys(EXTRA_LABELS).filter((k) => extras.some((e) => k in e))
    .map((k) => `${EXTRA_LABELS[k]} ${extras.map((e) => fmt(e[k])).join(' / ')}`);
  if (extras.some((e) => 'resumed' in e)) { // total resumed handshakes over all rounds
    notes[notes.findIndex((n) => n.startsWith('resumed'))] = 'resumed ' + samples.map((s) => {
      const resumed = s.reduce((sum, r) => sum + r.extra.resumed, 0);
      const total = s.reduce((sum, r) => sum + r.extra.connections, 0);
      return Number.isFinite(resumed) ? `${resumed}/${total}` : 'unknown';
    }).join(' / ');
  }
  let target = '';
  const t = compareCioNode && TARGETS[workload.name];
  if (t && Number.isFinite(ratio)) {
    const met = t.min !== undefined ? ratio >= t.min : ratio <= t.max;
    target = `${t.min !== undefined ? `≥ ${t.min}` : `≤ ${t.max}`}× ${met ? 'met' : 'MISSED'}`;
  }
  return {
    workload: workload.name, mode, unit: workload.family.unit,
    higherIsBetter: workload.family.higherIsBetter, size, labels, medians, ratio, extras,
    notes: notes.join('; '), target, errors, samples,
  };
}

function machine() {
  const cpus = os.cpus();
  return `${cpus.length ? cpus[0].model.trim() : 'unknown CPU'} × ${cpus.length}, ` +
    `${os.platform()} ${os.release()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM`;
}

function renderTable(rows, meta) {
  const [a, b] = meta.labels;
  const lines = [
    `Date: ${meta.date}  `,
    `Machine: ${meta.machine}  `,
    `Node: ${meta.node}; TLS certificates: ${meta.certs}, mutual authentication  `,
    `Medians of ${meta.rounds} rounds per implementation, run alternately (${a} ${b} ${a} ${b} …); ` +
      `scale ${meta.scale}${meta.warmup ? ', after one unrecorded warm-up run each' : ''}. inproc = client and server in one process, child = server in a ` +
      'child process. Ratio > 1 means the first is faster (for KiB/conn: uses more memory).',
    '',
    `| workload | mode | size | unit | ${a} | ${b} | ${a}/${b} | target | notes (${a} / ${b}) |`,
    '|---|---|---|---|---:|---:|---:|---|---|',
  ];
  for (const r of rows) {
    const unit = r.unit + (r.higherIsBetter ? '' : ' (lower is better)');
    const ratio = Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}×` : 'n/a';
    const notes = [r.notes, ...r.errors.map((e) => `**error** ${e}`)].filter(Boolean).join('; ');
    lines.push(`| ${r.workload} | ${r.mode} | ${r.size} | ${unit} | ${fmt(r.medians[0])} | ` +
      `${fmt(r.medians[1])} | ${ratio} | ${r.target} | ${notes.replace(/\|/g, '\\|')} |`);
  }
  return lines.join('\n') + '\n';
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) { console.log(USAGE); return; }
  for (const name of new Set(opts.impls)) getImpl(name); // fail fast if cio cannot be loaded
  if (opts.rounds < 3) console.error(`note: ${opts.rounds} round(s); use at least 3 for medians that mean anything`);

  const labels = labelsFor(opts.impls);
  // Targets are defined for the full-size workloads only.
  const compareCioNode = opts.impls[0] === 'cio' && opts.impls[1] === 'node' && opts.scale === 1;
  const rows = [];
  const totalRuns = opts.workloads.length * opts.modes.length * opts.rounds * 2;
  let runNo = 0;
  for (const name of opts.workloads) {
    const workload = getWorkload(name);
    for (const mode of opts.modes) {
      const samples = [[], []];
      const errors = [];
      if (opts.warmup && !(mode === 'inproc' && workload.family.isolated)) {
        const warm = { scale: Math.min(opts.scale, 0.01), timeout: opts.timeout };
        for (let i = 0; i < 2; i++) {
          const label = `${name} ${mode} ${labels[i]} warm-up`;
          await runOnce({ mode, implName: opts.impls[i], workload, ...warm, label })
            .catch((err) => console.error(`${label}: FAILED ${err.message}`));
        }
      }
      for (let round = 1; round <= opts.rounds; round++) {
        for (let i = 0; i < 2; i++) {
          const label = `${name} ${mode} ${labels[i]} round ${round}`;
          runNo++;
          try {
            const result = await runOnce({
              mode, implName: opts.impls[i], workload, scale: opts.scale, timeout: opts.timeout, label,
            });
            samples[i].push(result);
            console.error(`[${runNo}/${totalRuns}] ${label}: ${fmt(result.value)} ${workload.family.unit}`);
          } catch (err) {
            errors.push(`${labels[i]} round ${round}: ${err.message.split('\n')[0]}`);
            console.error(`[${runNo}/${totalRuns}] ${label}: FAILED ${err.stack || err.message}`);
          }
        }
      }
      rows.push(summarize(workload, mode, labels, samples, errors, compareCioNode));
    }
  }

  const meta = {
    date: new Date().toISOString(), machine: machine(), node: process.version,
    certs: describeCerts(), rounds: opts.rounds, scale: opts.scale, warmup: opts.warmup,
    labels, impls: opts.impls,
  };
  const table = renderTable(rows, meta);
  process.stdout.write('\n' + table);
  if (opts.markdown) fs.writeFileSync(opts.markdown, `## cio vs Node benchmark\n\n${table}`);
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ meta, rows }, null, 2) + '\n');
  if (rows.some((r) => r.errors.length)) process.exitCode = 1;

  // Every socket, server and child is closed by now, so the process should exit by itself.
  // If an implementation leaks a handle, say so instead of hanging.
  setTimeout(() => {
    console.error('warning: handles still open 5 s after the run finished; exiting anyway');
    process.exit(process.exitCode || 1);
  }, 5000).unref();
}

// If the event loop empties while a run is still waiting (e.g. an implementation dropped the
// handle that should have delivered the next event), Node would exit silently with code 0.
let finished = false;
process.on('exit', (code) => {
  if (!finished && code === 0) {
    console.error('error: the event loop emptied while a run was still waiting for an event ' +
      '(an implementation lost a handle or unref()ed a socket it was still using)');
    process.exitCode = 3;
  }
});

main().then(() => { finished = true; }, (err) => {
  finished = true;
  console.error(err.usage || err.code === 'ERR_CIO_BENCH_LOAD' ? err.message : err.stack);
  process.exit(2);
});
