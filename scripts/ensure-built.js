'use strict';
// For a source checkout: build the native addon when no binary can be loaded yet, so that
// `npm run demo` and `npm test` work straight after `npm install` on a fresh clone.
// (Installed packages get the prebuilt binary from cio-linux-x64-gnu and never run this.)
const { execSync } = require('child_process');
const path = require('path');

const root = path.join(__dirname, '..');
try {
  require(path.join(root, 'binding.js'));
} catch (err) {
  console.error('cio: no native binary yet; building it from source (npm run build, a few minutes)...');
  execSync('npm run build', { cwd: root, stdio: 'inherit' });
}
