'use strict'
// index.d.ts must describe the public API: __test__/types/example.ts uses every part of it and
// must compile with `tsc --strict` (it also holds @ts-expect-error lines that prove misuse is
// rejected, which fail the compile if they stop being errors).

const { spawnSync } = require('child_process')
const path = require('path')

const root = path.join(__dirname, '..')

test('index.d.ts type-checks against the example (tsc -p __test__/types --noEmit)', () => {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] })
  const run = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types'), '--noEmit'], {
    cwd: root,
    encoding: 'utf8',
  })
  if (run.error) throw run.error
  expect(run.stdout + run.stderr).toBe('')
  expect(run.status).toBe(0)
}, 60000)
