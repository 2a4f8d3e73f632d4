// Writes __test__/fixtures/node-peer-cert.txt: what Node reports as getPeerCertificate() for each
// fixture (via X509Certificate#toLegacyObject, the same shape), one `file|field|value` per line.
// src/tls/peer_cert.rs tests compare against it. Run: node __test__/tools/node-peer-cert.js
'use strict'
const { X509Certificate } = require('crypto')
const fs = require('fs')
const path = require('path')
const dir = path.join(__dirname, '..', 'fixtures')
const files = ['server.crt', 'alice.crt', 'bob.crt', 'server-ec.crt', 'legacy-server.crt', 'legacy-ca.crt', 'self-signed.crt', 'ca.crt', 'expired.crt']
const lines = []
for (const f of files) {
  const o = new X509Certificate(fs.readFileSync(path.join(dir, f))).toLegacyObject()
  for (const [k, v] of Object.entries(o)) {
    let s
    if (Buffer.isBuffer(v)) s = v.toString('hex')
    else if (typeof v === 'object') s = JSON.stringify(v)
    else s = String(v)
    lines.push(`${f}|${k}|${s}`)
  }
}
fs.writeFileSync(path.join(dir, 'node-peer-cert.txt'), lines.join('\n') + '\n')
console.log(lines.length, 'lines')
