'use strict';
// `npm run demo` (scripts/demo.js) runs end to end: alice allowed, bob rejected, temp dir gone.

const { execFile } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const HAS_TLS = fs.existsSync(path.join(ROOT, 'lib', 'tls.js'));

function demo() {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'scripts', 'demo.js')], { cwd: ROOT, timeout: 30000 },
      (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }));
  });
}

(HAS_TLS ? test : test.skip)('the demo allows alice, rejects bob, cleans up and exits 0', async () => {
  const r = await demo();
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/alice: allowed: the server answered "welcome alice/);
  expect(r.stdout).toMatch(/bob: rejected: no reply/);
  const dir = /certificates for alice and bob in (\S+)/.exec(r.stdout)[1];
  expect(fs.existsSync(dir)).toBe(false);
});

(HAS_TLS ? test.skip : test)('without TLS in this build the demo says so and exits 1', async () => {
  const r = await demo();
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('no TLS support yet');
});
