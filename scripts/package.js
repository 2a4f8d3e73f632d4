#!/usr/bin/env node
'use strict';
// `npm run package`: writes the installable tarballs into dist/ — the main package (JavaScript,
// loader, types, CLI; never a binary) and one platform package per npm/<platform>/ directory
// whose binary was built on this machine. Builds the release addon first (cargo skips the work
// when it is up to date); `--no-build` packs the binary that is already there.
//
// Checks what it packed: versions in step, the main tarball holds what users need and no .node,
// each platform tarball holds its .node.

const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const args = process.argv.slice(2);

function fail(msg) {
  process.stderr.write(`package: ${msg}\n`);
  process.exit(1);
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function run(cmd, cmdArgs, cwd) {
  return execFileSync(cmd, cmdArgs, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
}

// npm pack --json → the tarball's file name and the paths inside it.
function pack(dir) {
  const out = run('npm', ['pack', '--json', '--pack-destination', dist], dir);
  const info = JSON.parse(out.slice(out.indexOf('[')))[0];
  return { file: path.join(dist, info.filename), paths: info.files.map((f) => f.path), size: info.size };
}

const rootPkg = readJson(path.join(root, 'package.json'));
const platformDirs = fs.readdirSync(path.join(root, 'npm'))
  .map((d) => path.join(root, 'npm', d))
  .filter((d) => fs.existsSync(path.join(d, 'package.json')));

// Versions must agree, or the loader's optional dependency would not match what we ship.
for (const dir of platformDirs) {
  const p = readJson(path.join(dir, 'package.json'));
  const wanted = rootPkg.optionalDependencies && rootPkg.optionalDependencies[p.name];
  if (p.version !== rootPkg.version || wanted !== rootPkg.version) {
    fail(`${p.name} is at ${p.version} and optionalDependencies lists ${wanted}, ` +
      `but cio is at ${rootPkg.version}; run \`npx napi version\` and update optionalDependencies.`);
  }
}

if (!args.includes('--no-build')) {
  process.stdout.write('package: building the release addon (npm run build)\n');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
}

fs.mkdirSync(dist, { recursive: true });
for (const f of fs.readdirSync(dist)) if (f.endsWith('.tgz')) fs.rmSync(path.join(dist, f));

const built = [];
for (const dir of platformDirs) {
  const p = readJson(path.join(dir, 'package.json'));
  const binary = path.join(root, p.main);
  if (!fs.existsSync(binary)) continue; // not built on this machine
  fs.copyFileSync(binary, path.join(dir, p.main));
  const t = pack(dir);
  if (!t.paths.includes(p.main)) fail(`${path.basename(t.file)} does not contain ${p.main}`);
  built.push(t);
}
if (built.length === 0) {
  fail(`no platform binary found (looked for ${platformDirs.map((d) => readJson(path.join(d, 'package.json')).main).join(', ')}); ` +
    'build one with `npm run build`.');
}

const main = pack(root);
const required = ['package.json', 'index.js', 'binding.js', 'binding.d.ts', 'lib/native.js', 'bin/cio.js']
  .concat(fs.existsSync(path.join(root, 'index.d.ts')) ? ['index.d.ts'] : []);
const missing = required.filter((f) => !main.paths.includes(f));
if (missing.length) fail(`${path.basename(main.file)} lacks ${missing.join(', ')}`);
const binaries = main.paths.filter((f) => f.endsWith('.node'));
if (binaries.length) fail(`${path.basename(main.file)} must not contain binaries: ${binaries.join(', ')}`);
if (!fs.existsSync(path.join(root, 'index.d.ts'))) {
  process.stderr.write('package: warning: index.d.ts does not exist yet; the main package ships without it\n');
}

for (const t of [main, ...built]) {
  process.stdout.write(`package: ${path.relative(root, t.file)} (${(t.size / 1024).toFixed(1)} kB packed, ${t.paths.length} files)\n`);
}
