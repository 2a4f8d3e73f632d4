'use strict';
// scripts/check-layers.js (the layer rule of src/, see docs/architecture.md): it passes on the
// tree as it is, and it does fail on a layer violation, on the two I/O paths importing each
// other, and on an import circle.

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const SCRIPT = path.join(__dirname, '..', 'scripts', 'check-layers.js');

function check(dir) {
  const r = spawnSync(process.execPath, dir ? [SCRIPT, dir] : [SCRIPT], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

function tree(files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cio-layers-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

test('src/ keeps the layer rule and has no import circle', () => {
  const r = check();
  expect(r.out).toMatch(/layers respected, no circles/);
  expect(r.code).toBe(0);
});

test('a lower layer importing a higher one fails', () => {
  const dir = tree({
    'lib.rs': 'pub mod net;\npub mod js;\n',
    'net/mod.rs': 'use crate::js::Handle;\n',
    'js/mod.rs': 'pub struct Handle;\n',
  });
  const r = check(dir);
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/net\/mod\.rs \(net, layer 2\) imports .*js\/mod\.rs \(js, layer 6\)/);
});

test('the two I/O paths importing each other outside handover fails', () => {
  const dir = tree({
    'lib.rs': '',
    'uvloop/mod.rs': 'pub mod io;\n',
    'uvloop/io.rs': 'fn f() { crate::runtime::conn::x(); }\n',
    'runtime/mod.rs': 'pub mod conn;\n',
    'runtime/conn.rs': 'pub fn x() {}\n',
  });
  const r = check(dir);
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/uvloop\/io\.rs \(uvloop, layer 5\) imports .*runtime\/conn\.rs/);
});

test('an import circle fails, also between a parent and its child', () => {
  const dir = tree({
    'lib.rs': '',
    'tls/mod.rs': 'mod a;\nuse self::a::{A, B as _};\npub struct P;\n',
    'tls/a.rs': 'use super::P;\npub struct A;\npub struct B;\n',
  });
  const r = check(dir);
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/import circle: .*tls\/a\.rs, .*tls\/mod\.rs/);
});
