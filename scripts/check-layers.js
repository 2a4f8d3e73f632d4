#!/usr/bin/env node
// The layer rule of src/ (see docs/architecture.md), checked on the source text:
//
// - every top-level module of src/ has a layer (LAYERS below); a file may import (name a
//   `crate::`/`super::` path into) its own top-level module or a module of a LOWER layer, never
//   one of the same layer or a higher one (so the two I/O paths, `uvloop` and `runtime`, share
//   a layer and meet only through `handover`, which is below both);
// - no circle between files: a module may import its own children, but a child that imports
//   its parent's items while the parent imports the child's is a circle like any other.
//
// Edges come from every `crate::…`/`super::…`/`self::…` path in a file (in `use` lines, with
// brace groups expanded, and inline in code), resolved to the longest module path that is a
// file. `mod x;` declarations are not edges; inline `#[cfg(test)] mod tests { … }` blocks are
// left out (their `super::*` is the file itself). Exits 1 and lists what is wrong.
//
// Usage: node scripts/check-layers.js [src-dir]

'use strict';
const fs = require('fs');
const path = require('path');

const LAYERS = {
  // pure: no sockets, no napi calls
  tls: 0,
  ordering: 0,
  sync: 0,
  errors: 1,
  devcerts: 1,
  // data both I/O paths share
  net: 2,
  // how events reach JavaScript
  deliver: 3,
  // the one meeting point of the two I/O paths
  handover: 4,
  // the two I/O paths: Node's loop and the tokio runtime
  uvloop: 5,
  runtime: 5,
  // the handles JavaScript holds
  js: 6,
  // lib.rs: the table of contents
  '': 7,
};

const root = path.resolve(process.argv[2] || path.join(__dirname, '..', 'src'));

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return walk(p);
    return e.name.endsWith('.rs') ? [p] : [];
  });
}

// src/lib.rs -> [], src/a.rs -> [a], src/a/mod.rs -> [a], src/a/b.rs -> [a, b]
function modulePath(file) {
  const parts = path.relative(root, file).replace(/\.rs$/, '').split(path.sep);
  if (parts.length === 1 && parts[0] === 'lib') return [];
  if (parts[parts.length - 1] === 'mod') parts.pop();
  return parts;
}

function stripped(text) {
  // Inline test modules: from `#[cfg(test)]` followed by `mod name {` to the matching brace.
  let out = text;
  const re = /#\[cfg\(test\)\]\s*(pub\s+)?mod\s+\w+\s*\{/g;
  let m;
  while ((m = re.exec(out))) {
    let depth = 1;
    let i = m.index + m[0].length;
    while (i < out.length && depth > 0) {
      if (out[i] === '{') depth++;
      else if (out[i] === '}') depth--;
      i++;
    }
    out = out.slice(0, m.index) + out.slice(i);
    re.lastIndex = m.index;
  }
  // Comments and string literals (doc comments name modules freely).
  return out
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .replace(/"(?:[^"\\]|\\.)*"/g, '""');
}

// `a::{b, c::{d, e}}` -> [[a, b], [a, c, d], [a, c, e]]
function expand(tree) {
  tree = tree.replace(/\s+as\s+\w+/g, '').replace(/\s+/g, '');
  const brace = tree.indexOf('{');
  if (brace < 0) return [tree.split('::').filter((s) => s && s !== '*')];
  const prefix = tree.slice(0, brace).split('::').filter(Boolean);
  const inner = tree.slice(brace + 1, tree.lastIndexOf('}'));
  const items = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= inner.length; i++) {
    const c = inner[i];
    if (c === '{') depth++;
    else if (c === '}') depth--;
    else if ((c === ',' || i === inner.length) && depth === 0) {
      if (i > start) items.push(inner.slice(start, i));
      start = i + 1;
    }
  }
  return items.flatMap((item) => expand(item).map((p) => prefix.concat(p)));
}

const files = walk(root);
const byModule = new Map(files.map((f) => [modulePath(f).join('::'), f]));
const rel = (f) => path.relative(path.dirname(root), f);

function resolve(from, segments) {
  const own = modulePath(from);
  // The module a `super::` path starts from: the parent of this file's module.
  let base;
  let rest = segments.slice(1);
  if (segments[0] === 'crate') base = [];
  else if (segments[0] === 'self') base = own;
  else {
    base = own.slice(0, -1);
    while (rest[0] === 'super') {
      base = base.slice(0, -1);
      rest = rest.slice(1);
    }
  }
  const full = base.concat(rest);
  for (let n = full.length; n >= 0; n--) {
    const f = byModule.get(full.slice(0, n).join('::'));
    if (f) return f;
  }
  return null;
}

const edges = new Map(files.map((f) => [f, new Set()]));
for (const f of files) {
  const text = stripped(fs.readFileSync(f, 'utf8'));
  const paths = [];
  for (const m of text.matchAll(/\buse\s+((?:crate|super|self)::[^;]+);/g)) paths.push(...expand(m[1]));
  const noUse = text.replace(/\buse\s+[^;]+;/g, '');
  for (const m of noUse.matchAll(/\b(?:crate|super|self)(?:::[A-Za-z_]\w*)+/g)) paths.push(m[0].split('::'));
  for (const p of paths) {
    if (p[0] === 'self' && p.length === 1) continue;
    const to = resolve(f, p);
    if (to && to !== f) edges.get(f).add(to);
  }
}

const problems = [];
const top = (f) => modulePath(f)[0] ?? '';
for (const f of files) {
  const t = top(f);
  if (!(t in LAYERS)) problems.push(`${rel(f)}: top-level module \`${t}\` has no layer in scripts/check-layers.js`);
}
for (const [f, tos] of edges) {
  for (const to of tos) {
    const a = top(f);
    const b = top(to);
    if (a === b || !(a in LAYERS) || !(b in LAYERS)) continue;
    if (LAYERS[b] >= LAYERS[a]) {
      problems.push(`${rel(f)} (${a}, layer ${LAYERS[a]}) imports ${rel(to)} (${b}, layer ${LAYERS[b]})`);
    }
  }
}

// Circles: strongly connected components of more than one file (Tarjan).
let index = 0;
const idx = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
function strong(v) {
  idx.set(v, index);
  low.set(v, index++);
  stack.push(v);
  onStack.add(v);
  for (const w of edges.get(v)) {
    if (!idx.has(w)) {
      strong(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const scc = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1) problems.push(`import circle: ${scc.map(rel).sort().join(', ')}`);
  }
}
for (const f of files) if (!idx.has(f)) strong(f);

if (problems.length) {
  console.error(`check-layers: ${problems.length} problem(s) in ${rel(root)}/`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(`check-layers: ${files.length} files, ${[...edges.values()].reduce((n, s) => n + s.size, 0)} imports, layers respected, no circles`);
