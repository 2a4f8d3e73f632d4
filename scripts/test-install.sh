#!/usr/bin/env bash
# The no-Rust install test: installs dist/'s two tarballs (from `npm run package`) into a fresh
# temporary project with cargo/rustc/rustup removed from PATH, then runs scripts/install-smoke.js
# there, which goes through the installed package only (the CLI's `cio certs`, then a round
# trip: mutual TLS when the installed cio has TLS, plain TCP otherwise — it says which).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
version="$(node -p "require('$repo/package.json').version")"
main_tgz="$repo/dist/cio-$version.tgz"
plat_tgz="$repo/dist/cio-linux-x64-gnu-$version.tgz"
for f in "$main_tgz" "$plat_tgz"; do
  [ -f "$f" ] || { echo "test-install: $f is missing; run \`npm run package\` first" >&2; exit 1; }
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/cio-install.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# PATH without any directory that holds a Rust tool; node and npm come back through a shim dir
# when they lived in such a directory.
node_bin="$(command -v node)"; npm_bin="$(command -v npm)"
clean=""
IFS=: read -r -a parts <<<"$PATH"
for d in "${parts[@]}"; do
  [ -n "$d" ] || continue
  if [ -e "$d/cargo" ] || [ -e "$d/rustc" ] || [ -e "$d/rustup" ]; then continue; fi
  clean="${clean:+$clean:}$d"
done
mkdir -p "$tmp/shim"
ln -s "$node_bin" "$tmp/shim/node"
ln -s "$npm_bin" "$tmp/shim/npm"
clean="$clean:$tmp/shim"

mkdir -p "$tmp/app"
cp "$repo/scripts/install-smoke.js" "$tmp/app/smoke.js"
cd "$tmp/app"
env -i HOME="$HOME" PATH="$clean" TMPDIR="${TMPDIR:-/tmp}" bash -euo pipefail -c '
  if command -v cargo >/dev/null || command -v rustc >/dev/null || command -v rustup >/dev/null; then
    echo "test-install: a Rust toolchain is still on PATH" >&2; exit 1
  fi
  printf "{\"name\":\"cio-install-test\",\"version\":\"1.0.0\",\"private\":true}\n" > package.json
  start=$(date +%s%N)
  npm install --no-audit --no-fund --offline --loglevel=error "$0" "$1" \
    || npm install --no-audit --no-fund --loglevel=error "$0" "$1"
  echo "test-install: installed in $(( ($(date +%s%N) - start) / 1000000 )) ms"
  node smoke.js
' "$main_tgz" "$plat_tgz"
