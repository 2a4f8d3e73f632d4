#!/usr/bin/env node
'use strict';
// The node-compat yardstick (issue 12): runs Node's own net/tls tests against this package
// (../shared/node-compat/run.sh), compares the failures with the checked-in list of expected
// failures (test/node-compat-expected-failures.txt) and
//   - exits 1 when a test that is not on the list fails (after one rerun: a test that passes
//     the second time is reported as flaky and does not fail the run), printing the first lines
//     of its stderr;
//   - reports listed tests that now pass (remove them from the list) and listed tests that did
//     not run as applicable tests (stale entries).
//
//   node scripts/node-compat.js [--filter REGEX] [--update] [--no-run] [--work DIR]
//     --filter REGEX  only tests whose name matches (run.sh's REGEX)
//     --update        rewrite the list: drop entries that pass, keep every existing reason, add
//                     new failures with class '?' (a reason must then be written by hand: the
//                     list refuses to load with an entry that has none)
//     --no-run        use the results of the previous run in WORK instead of running the tests
//     --work DIR      run.sh's WORK (default /tmp/cio-node-compat)
// Env: NODE_COMPAT (the node-compat folder, default ../shared/node-compat next to the package),
// and run.sh's JOBS, TIMEOUT, NODE.
//
// The list: one test a line, `test-name  class  reason`, '#' starts a comment. Classes:
//   a        a TLS feature rustls does not have at all (renegotiation, TLS 1.0/1.1, ...)
//   b        the test inspects Node internals no addon can have
//   c#N      an option or feature open issue N will add (the entry leaves with that issue)

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.join(__dirname, '..');
const LIST = path.join(ROOT, 'test', 'node-compat-expected-failures.txt');
const CLASS_RE = /^(a|b|c#\d+)$/;
const STDERR_LINES = 25;

function parseArgs(argv) {
  const opts = { filter: '.', update: false, run: true, work: process.env.WORK || '/tmp/cio-node-compat' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--update') opts.update = true;
    else if (a === '--no-run') opts.run = false;
    else if (a === '--filter' && i + 1 < argv.length) opts.filter = argv[++i];
    else if (a === '--work' && i + 1 < argv.length) opts.work = path.resolve(argv[++i]);
    else {
      console.error(`node-compat: unknown argument ${a}\nusage: node scripts/node-compat.js [--filter REGEX] [--update] [--no-run] [--work DIR]`);
      process.exit(2);
    }
  }
  return opts;
}

// Returns Map name -> { cls, reason, line } and the header comment lines; throws on a bad entry.
function readList(file, { allowUnknownClass = false } = {}) {
  const entries = new Map();
  const header = [];
  const problems = [];
  if (!fs.existsSync(file)) return { entries, header, problems };
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  let inHeader = true;
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) {
      if (inHeader) header.push(raw);
      return;
    }
    inHeader = false;
    const m = /^(test-\S+\.js)\s+(\S+)\s+(.*)$/.exec(line);
    if (!m) {
      problems.push(`${path.basename(file)}:${i + 1}: expected "test-name  class  reason": ${line}`);
      return;
    }
    const [, name, cls, reason] = m;
    if (!CLASS_RE.test(cls) && !(allowUnknownClass && cls === '?')) {
      problems.push(`${path.basename(file)}:${i + 1}: ${name}: class must be a, b or c#<issue>, not '${cls}'`);
    }
    if (reason.trim() === '' || /^\(?reason needed\)?$/i.test(reason.trim())) {
      problems.push(`${path.basename(file)}:${i + 1}: ${name}: no reason given`);
    }
    if (entries.has(name)) problems.push(`${path.basename(file)}:${i + 1}: ${name} listed twice`);
    entries.set(name, { cls, reason: reason.trim() });
  });
  return { entries, header, problems };
}

function writeList(file, header, entries) {
  const names = [...entries.keys()].sort();
  const width = Math.max(0, ...names.map((n) => n.length)) + 2;
  const body = names.map((n) => {
    const e = entries.get(n);
    return `${n.padEnd(width)}${e.cls.padEnd(6)}${e.reason}`;
  });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${[...header, ...body].join('\n')}\n`);
}

// last-run.txt: "pass  t", "FAIL  t  (note)", "n/a-baseline  t  (...)", "n/a-skipped  t  (...)".
function readResults(work) {
  const file = path.join(work, 'last-run.txt');
  if (!fs.existsSync(file)) throw new Error(`no ${file}: the run did not finish`);
  const results = new Map();
  const totals = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^(pass|FAIL|n\/a-baseline|n\/a-skipped)\s+(test-\S+\.js)(?:\s+\((.*)\))?/.exec(line);
    if (m) results.set(m[2], { status: m[1], note: m[3] || '' });
    else if (line.trim()) totals.push(line);
  }
  return { results, totals };
}

function runCompat(compat, work, filter, extraEnv = {}) {
  const args = [path.join(compat, 'run.sh'), ROOT];
  if (filter !== '.') args.push(filter);
  const r = spawnSync('bash', args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, WORK: work, ...extraEnv },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return r.status;
}

function firstLines(file, n) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(0, n).map((l) => `    | ${l}`).join('\n');
  } catch {
    return `    (no ${file})`;
  }
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const compat = path.resolve(process.env.NODE_COMPAT || path.join(ROOT, '..', 'shared', 'node-compat'));
  if (!fs.existsSync(path.join(compat, 'run.sh'))) {
    console.error(`node-compat: ${compat}/run.sh not found (set NODE_COMPAT to the node-compat folder)`);
    process.exit(2);
  }
  const list = readList(LIST, { allowUnknownClass: opts.update });
  if (list.problems.length && !opts.update) {
    console.error(`node-compat: ${path.relative(ROOT, LIST)} has problems:\n  ${list.problems.join('\n  ')}`);
    process.exit(2);
  }

  const started = Date.now();
  if (opts.run) {
    console.log(`node-compat: running ${compat}/run.sh (WORK=${opts.work}${opts.filter !== '.' ? `, filter ${opts.filter}` : ''})`);
    runCompat(compat, opts.work, opts.filter);
  }
  const { results, totals } = readResults(opts.work);

  const failed = [...results].filter(([, r]) => r.status === 'FAIL').map(([t]) => t);
  let unlisted = failed.filter((t) => !list.entries.has(t));
  const nowPassing = [...list.entries.keys()].filter((t) => results.has(t) && results.get(t).status === 'pass');
  const stale = [...list.entries.keys()].filter((t) => results.has(t) && results.get(t).status.startsWith('n/a'));
  const notRun = [...list.entries.keys()].filter((t) => !results.has(t));

  // One rerun of the unlisted failures (cio only: they were applicable in this run).
  const flaky = [];
  if (unlisted.length && opts.run && !opts.update) {
    const rerunWork = path.join(opts.work, 'rerun');
    console.log(`node-compat: rerunning ${unlisted.length} unlisted failure(s) once: ${unlisted.join(' ')}`);
    runCompat(compat, rerunWork, `^(${unlisted.map(escapeRe).join('|')})$`, { MODES: 'cio' });
    const again = readResults(rerunWork).results;
    for (const t of unlisted) if (again.has(t) && again.get(t).status === 'pass') flaky.push(t);
    unlisted = unlisted.filter((t) => !flaky.includes(t));
  }

  console.log('');
  for (const line of totals) console.log(line);
  const applicable = [...results.values()].filter((r) => r.status === 'pass' || r.status === 'FAIL').length;
  const passed = [...results.values()].filter((r) => r.status === 'pass').length;
  console.log(`node-compat: ${passed} of ${applicable} applicable tests pass (${applicable ? ((100 * passed) / applicable).toFixed(1) : '0'} %), ` +
    `${failed.length - unlisted.length - flaky.length} expected failures, ${((Date.now() - started) / 1000).toFixed(0)} s`);

  if (flaky.length) {
    console.log(`\nflaky (failed, then passed on a rerun; not failing the run):\n  ${flaky.join('\n  ')}`);
  }
  if (nowPassing.length) {
    console.log(`\non the expected-failures list but passing now (remove them, or run with --update):\n  ${nowPassing.join('\n  ')}`);
  }
  if (stale.length) {
    console.log(`\non the list but not applicable in this run (n/a on plain Node):\n  ${stale.map((t) => `${t} (${results.get(t).status})`).join('\n  ')}`);
  }
  if (notRun.length && opts.filter === '.') {
    console.log(`\non the list but not run at all (renamed or excluded?):\n  ${notRun.join('\n  ')}`);
  }

  if (opts.update) {
    const next = new Map();
    for (const t of failed) {
      next.set(t, list.entries.get(t) || { cls: '?', reason: '(reason needed)' });
    }
    // Entries for tests outside this run's filter, or not run at all, stay as they are.
    for (const [t, e] of list.entries) if (!results.has(t)) next.set(t, e);
    writeList(LIST, list.header.length ? list.header : defaultHeader(), next);
    const added = failed.filter((t) => !list.entries.has(t));
    console.log(`\nnode-compat: wrote ${path.relative(ROOT, LIST)}: ${next.size} entries, ${nowPassing.length} removed, ${added.length} added` +
      (added.length ? ` (class '?', write their reasons):\n  ${added.join('\n  ')}` : ''));
    return 0;
  }

  if (unlisted.length) {
    console.log(`\nFAILED: ${unlisted.length} test(s) not on ${path.relative(ROOT, LIST)} failed:`);
    for (const t of unlisted) {
      console.log(`\n  ${t} (${results.get(t).note})`);
      console.log(firstLines(path.join(opts.work, 'fail', `${t}.stderr`), STDERR_LINES));
    }
    return 1;
  }
  console.log('\nnode-compat: OK (every failure is on the expected-failures list)');
  return 0;
}

function defaultHeader() {
  return [
    '# Node v20 net/tls tests (../shared/node-compat) expected to fail with cio, checked by',
    '# scripts/node-compat.js (CI: .ci/run). One test a line: name, class, one-line reason.',
    '#   a     a TLS feature rustls does not have at all',
    '#   b     the test inspects Node internals no addon can have',
    '#   c#N   an option or feature open issue N adds (the entry leaves the list with it)',
    '',
  ];
}

if (require.main === module) process.exit(main());

module.exports = { readList, readResults };
