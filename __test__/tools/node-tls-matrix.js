// Records what Node's own `tls` does with the fixtures: the reference behaviour the native
// verifier (src/tls/verify.rs) must match. Run: node __test__/tools/node-tls-matrix.js
'use strict'
const tls = require('tls')
const fs = require('fs')
const path = require('path')
const F = (n) => fs.readFileSync(path.join(__dirname, '..', 'fixtures', n))

function tamper(pem) { // flip one byte of the signature (last bytes of the DER)
  const b64 = pem.toString().replace(/-----[^-]+-----/g, '').replace(/\s+/g, '')
  const der = Buffer.from(b64, 'base64'); der[der.length - 5] ^= 0x01
  return '-----BEGIN CERTIFICATE-----\n' + der.toString('base64').match(/.{1,64}/g).join('\n') + '\n-----END CERTIFICATE-----\n'
}

function run(srvOpts, cliOpts) {
  return new Promise((resolve) => {
    const out = {}
    const server = tls.createServer(srvOpts, (s) => {
      out.server = { authorized: s.authorized, authorizationError: s.authorizationError, peerCN: (s.getPeerCertificate() || {}).subject?.CN }
      s.end('hi')
    })
    server.on('tlsClientError', (e) => { (out.tlsClientError ||= []).push(`${e.code} | ${e.message.split('\n')[0]}`) })
    server.listen(0, '127.0.0.1', () => {
      const c = tls.connect({ port: server.address().port, host: '127.0.0.1', ...cliOpts }, () => {
        out.client = { authorized: c.authorized, authorizationError: c.authorizationError }
      })
      c.on('error', (e) => { (out.clientError ||= []).push(`${e.code} | ${e.message.split('\n')[0]}`) })
      c.on('data', () => {})
      c.on('close', () => setTimeout(() => { server.close(); resolve(out) }, 50))
    })
  })
}

const srv = (cert, key) => ({ cert: F(cert), key: F(key) })
const clientCases = [
  ['modern leaf, ca, servername localhost', srv('server.crt', 'server.key'), { ca: F('ca.crt'), servername: 'localhost' }],
  ['modern leaf, ca, host 127.0.0.1 (IP SAN)', srv('server.crt', 'server.key'), { ca: F('ca.crt') }],
  ['modern leaf, ca, wrong host', srv('server.crt', 'server.key'), { ca: F('ca.crt'), servername: 'example.com' }],
  ['modern leaf, no ca (system roots)', srv('server.crt', 'server.key'), { servername: 'localhost' }],
  ['modern leaf, wrong ca', srv('server.crt', 'server.key'), { ca: F('wrong-ca.crt'), servername: 'localhost' }],
  ['modern leaf, ca = the leaf itself', srv('server.crt', 'server.key'), { ca: F('server.crt'), servername: 'localhost' }],
  ['EC leaf (SEC1 key)', srv('server-ec.crt', 'server-ec.key'), { ca: F('ca.crt'), servername: 'localhost' }],
  ['legacy v1 leaf, legacy ca, localhost', srv('legacy-server.crt', 'legacy-server.key'), { ca: F('legacy-ca.crt'), servername: 'localhost' }],
  ['legacy v1 leaf, legacy ca, host 127.0.0.1 no servername', srv('legacy-server.crt', 'legacy-server.key'), { ca: F('legacy-ca.crt') }],
  ['legacy v1 leaf, legacy ca, wrong host', srv('legacy-server.crt', 'legacy-server.key'), { ca: F('legacy-ca.crt'), servername: 'example.com' }],
  ['legacy v1 leaf, modern ca', srv('legacy-server.crt', 'legacy-server.key'), { ca: F('ca.crt'), servername: 'localhost' }],
  ['self-signed, ca = itself', srv('self-signed.crt', 'self-signed.key'), { ca: F('self-signed.crt'), servername: 'localhost' }],
  ['self-signed, no ca', srv('self-signed.crt', 'self-signed.key'), { servername: 'localhost' }],
  ['self-signed, other ca', srv('self-signed.crt', 'self-signed.key'), { ca: F('ca.crt'), servername: 'localhost' }],
  ['expired', srv('expired.crt', 'server.key'), { ca: F('ca.crt'), servername: 'localhost' }],
  ['expired + wrong host', srv('expired.crt', 'server.key'), { ca: F('ca.crt'), servername: 'example.com' }],
  ['expired + wrong ca', srv('expired.crt', 'server.key'), { ca: F('wrong-ca.crt'), servername: 'localhost' }],
  ['not yet valid', srv('not-yet-valid.crt', 'server.key'), { ca: F('ca.crt'), servername: 'localhost' }],
  ['bad signature', { cert: tamper(F('server.crt')), key: F('server.key') }, { ca: F('ca.crt'), servername: 'localhost' }],
  ['intermediate: leaf+inter sent, ca', srv('inter-server-chain.crt', 'inter-server.key'), { ca: F('ca.crt'), servername: 'localhost' }],
  ['intermediate: leaf only sent, ca', srv('inter-server.crt', 'inter-server.key'), { ca: F('ca.crt'), servername: 'localhost' }],
  ['intermediate: leaf only sent, ca = intermediate', srv('inter-server.crt', 'inter-server.key'), { ca: F('intermediate.crt'), servername: 'localhost' }],
  ['intermediate: leaf+inter sent, wrong ca', srv('inter-server-chain.crt', 'inter-server.key'), { ca: F('wrong-ca.crt'), servername: 'localhost' }],
  ['intermediate: full chain sent, wrong ca', srv('inter-server-fullchain.crt', 'inter-server.key'), { ca: F('wrong-ca.crt'), servername: 'localhost' }],
  ['name-constrained intermediate (permitted example.com), localhost leaf', srv('constrained-server-chain.crt', 'constrained-server.key'), { ca: F('ca.crt'), servername: 'localhost' }],
  ['alice (clientAuth-only EKU) as server cert', srv('alice.crt', 'alice.key'), { ca: F('ca.crt'), servername: 'alice' }],
  ['wrong-ca server, ca = ca', srv('wrong-ca-server.crt', 'wrong-ca-server.key'), { ca: F('ca.crt'), servername: 'localhost' }],
  ['modern leaf, ca, rejectUnauthorized false, wrong host', srv('server.crt', 'server.key'), { ca: F('ca.crt'), servername: 'example.com', rejectUnauthorized: false }],
  ['modern leaf, wrong ca, rejectUnauthorized false', srv('server.crt', 'server.key'), { ca: F('wrong-ca.crt'), servername: 'localhost', rejectUnauthorized: false }],
]

const base = { cert: F('server.crt'), key: F('server.key'), ca: F('ca.crt') }
const clients = {
  none: {},
  alice: { cert: F('alice.crt'), key: F('alice.key') },
  mallory_wrongCA: { cert: F('mallory.crt'), key: F('mallory.key') },
  legacy_client: { cert: F('legacy-client.crt'), key: F('legacy-client.key') },
  self_signed: { cert: F('self-signed.crt'), key: F('self-signed.key') },
}
async function main() {
  console.log('## client verifies server')
  for (const [name, s, c] of clientCases) console.log(JSON.stringify([name, await run(s, c)]))
  console.log('## server requestCert x rejectUnauthorized (server ca = ca.crt)')
  for (const requestCert of [false, true]) for (const rejectUnauthorized of [true, false]) for (const [cn, co] of Object.entries(clients)) {
    const r = await run({ ...base, requestCert, rejectUnauthorized }, { ca: F('ca.crt'), servername: 'localhost', ...co })
    console.log(JSON.stringify([`requestCert=${requestCert} rejectUnauthorized=${rejectUnauthorized} client=${cn}`, r]))
  }
  console.log('## server with ca = [ca, legacy-ca]')
  for (const [cn, co] of Object.entries(clients)) {
    const r = await run({ ...base, ca: [F('ca.crt'), F('legacy-ca.crt')], requestCert: true, rejectUnauthorized: true }, { ca: F('ca.crt'), servername: 'localhost', ...co })
    console.log(JSON.stringify([`legacy-ca trusted, requestCert, rejectUnauthorized, client=${cn}`, r]))
  }
  for (const v of [['TLSv1.2', 'TLSv1.2'], ['TLSv1.3', 'TLSv1.3']]) {
    const r = await run({ ...base, minVersion: v[0], maxVersion: v[1] }, { ca: F('ca.crt'), servername: 'localhost' })
    console.log(JSON.stringify([`version ${v}`, r]))
  }
}
main()
