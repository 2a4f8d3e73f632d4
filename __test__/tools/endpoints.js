// Prints (JSON) the endpoints each side of a connection reports, for Node's net/tls and for
// cio, plain and TLS: remoteAddress/remotePort/remoteFamily, localAddress/localPort and
// address(), seen on the server socket in its connection event and on the client socket in
// its connect event. Ports are written relative to the other side ('server port', 'client
// port') so runs compare. Used by __test__/integrity-lifecycle.test.js, run once per I/O path
// (CIO_IO=tokio selects the runtime path; it is read once per process, hence a child process).
'use strict'
const net = require('net')
const tls = require('tls')
const fs = require('fs')
const path = require('path')
const buildCio = require('../..')

const F = (name) => path.join(__dirname, '..', 'fixtures', name)
const serverTls = { key: fs.readFileSync(F('server.key')), cert: fs.readFileSync(F('server.crt')) }
const clientTls = { ca: fs.readFileSync(F('ca.crt')), servername: 'localhost' }
const cio = buildCio()

const impls = {
  node: {
    plain: { server: (cb) => net.createServer(cb), connect: (o, cb) => net.connect(o, cb) },
    tls: { server: (cb) => tls.createServer(serverTls, cb), connect: (o, cb) => tls.connect(Object.assign({}, clientTls, o), cb) },
  },
  cio: {
    plain: {
      server: (cb) => cio.server({ noRelisten: true, onConnect: cb }),
      connect: (o, cb) => cio.client(Object.assign({ onConnect: cb }, o)),
    },
    tls: {
      server: (cb) => cio.server(Object.assign({ noRelisten: true, onSecureConnect: cb }, serverTls)),
      connect: (o, cb) => cio.client(Object.assign({ onConnect: cb }, clientTls, o)),
    },
  },
}

function describe(socket, ports) {
  const rel = (port) => (port === ports.server ? 'server port' : port === ports.client ? 'client port' : port)
  const a = socket.address()
  return {
    remoteAddress: socket.remoteAddress,
    remotePort: rel(socket.remotePort),
    remoteFamily: socket.remoteFamily,
    localAddress: socket.localAddress,
    localPort: rel(socket.localPort),
    address: a && typeof a === 'object' ? Object.assign({}, a, { port: rel(a.port) }) : a,
  }
}

async function run(kind) {
  const { server: makeServer, connect } = kind
  let seenServer
  const serverSide = new Promise((resolve) => { seenServer = resolve })
  const server = makeServer((socket) => {
    seenServer(socket)
    socket.on('error', () => {})
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const serverPort = server.address().port
  let client
  const connected = new Promise((resolve) => {
    client = connect({ port: serverPort, host: '127.0.0.1' }, () => resolve())
    client.on('error', () => {})
  })
  const [sock] = await Promise.all([serverSide, connected])
  const ports = { server: serverPort, client: client.localPort }
  const out = { server: describe(sock, ports), client: describe(client, ports) }
  const closed = new Promise((resolve) => server.close(resolve))
  sock.destroy()
  client.destroy()
  await closed
  return out
}

async function main() {
  const result = {}
  for (const [name, impl] of Object.entries(impls)) {
    result[name] = { plain: await run(impl.plain), tls: await run(impl.tls) }
  }
  process.stdout.write(JSON.stringify(result))
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
