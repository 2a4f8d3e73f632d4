'use strict';
// Smoke test of the benchmark harness (bench/compare.js) at tiny scale, so it cannot rot.
//
// It compares cio against Node by default, which is what it must do once the native core is in
// the tree. CIO_BENCH_SMOKE_IMPL=node,node runs Node against itself instead (for working on the
// harness without a built addon); do not set it in CI.

const { execFile } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const COMPARE = path.join(ROOT, 'bench', 'compare.js');
const IMPLS = process.env.CIO_BENCH_SMOKE_IMPL || 'cio,node';
const WORKLOADS = ['pingpong-tcp', 'pingpong-tls', 'bulk-tcp', 'bulk-tls', 'connect-tcp',
  'connect-tls', 'fanout-tcp', 'idle-tcp'];

function runCompare(args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [COMPARE, ...args], { cwd: ROOT, timeout: 120000 },
      (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }));
  });
}

/** The data rows of the first Markdown table in `text`, as arrays of trimmed cells. */
function tableRows(text) {
  return text.split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| workload') && !l.startsWith('|---'))
    .map((l) => l.slice(1, -1).split(' | ').map((c) => c.trim()));
}

const number = (cell) => Number(cell.replace(/,/g, '').replace(/×$/, ''));

describe('benchmark harness at smoke scale', () => {
  let dir;
  let run;
  let seconds;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cio-bench-smoke-'));
    const start = Date.now();
    run = await runCompare(['--impl', IMPLS, '--scale', '0.001', '--rounds', '1', '--mode', 'both',
      '--no-warmup', '--markdown', path.join(dir, 'table.md'), '--json', path.join(dir, 'out.json')]);
    seconds = (Date.now() - start) / 1000;
  }, 130000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('runs every workload in both modes and exits cleanly with everything closed', () => {
    if (run.code !== 0) throw new Error(`compare.js exited ${run.code}:\n${run.stderr}`);
    expect(run.stderr).not.toMatch(/FAILED|handles still open|did not exit/);
    expect(seconds).toBeLessThan(60);
  });

  test('prints a table row per workload and mode with finite positive medians and ratio', () => {
    const rows = tableRows(run.stdout);
    const [a, b] = IMPLS.split(',');
    for (const workload of WORKLOADS) {
      for (const mode of ['inproc', 'child']) {
        const row = rows.find((r) => r[0] === workload && r[1] === mode);
        expect(row).toBeDefined();
        // workload | mode | size | unit | A | B | A/B | target | notes
        for (const cell of row.slice(4, 7)) {
          const n = number(cell);
          expect(Number.isFinite(n)).toBe(true);
          expect(n).toBeGreaterThan(0);
        }
      }
    }
    expect(run.stdout).toContain(`| ${a} |`);
    expect(rows).toHaveLength(WORKLOADS.length * 2);
  });

  test('reports latency percentiles and zero resumed TLS sessions', () => {
    const { rows } = JSON.parse(fs.readFileSync(path.join(dir, 'out.json'), 'utf8'));
    const pingpong = rows.find((r) => r.workload === 'pingpong-tcp');
    for (const extra of pingpong.extras) {
      expect(extra.p50_us).toBeGreaterThan(0);
      expect(extra.p99_us).toBeGreaterThanOrEqual(extra.p50_us);
    }
    for (const row of rows.filter((r) => r.workload === 'connect-tls')) {
      for (const extra of row.extras) expect(extra.resumed).toBe(0);
    }
  });

  test('writes the table as Markdown with the date, machine and Node version', () => {
    const md = fs.readFileSync(path.join(dir, 'table.md'), 'utf8');
    expect(md).toMatch(/Date: \d{4}-\d\d-\d\dT/);
    expect(md).toContain(`Machine: ${os.cpus()[0].model.trim()} × ${os.cpus().length}`);
    expect(md).toContain(process.version);
    expect(tableRows(md)).toHaveLength(WORKLOADS.length * 2);
  });

  test('rejects a bad option value with a usage message and a non-zero exit', async () => {
    const bad = await runCompare(['--rounds', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--rounds must be a number/);
    expect(bad.stderr).toMatch(/usage: node bench\/compare\.js/);
  });
});
