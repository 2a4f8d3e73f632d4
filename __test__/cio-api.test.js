'use strict'
// The drop-in cio API: module builder, registration, chains and core listeners, contexts,
// the server-client chain and client authentication. Real sockets on 127.0.0.1, port 0.
const path = require('path')
const fs = require('fs')
const buildCio = require('..')

const FIX = path.join(__dirname, 'fixtures', 'chains')
const rel = (name) => path.relative(process.cwd(), path.join(FIX, name))

const cleanup = []
afterEach(async () => {
  const items = cleanup.splice(0)
  const isServer = (item) => typeof item.listening === 'boolean'
  for (const socket of items.filter((item) => !isServer(item))) socket.destroy()
  for (const server of items.filter(isServer)) {
    await new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()))
  }
})

function listen(server) {
  cleanup.push(server)
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server.address().port))
  })
}

/** A listener that records this.<prop> after cio/secure and stops the run (no socket made). */
function probeAfter(after, record) {
  const probe = function probe(control) { record(this); control.stop('probed') }
  probe.options = { id: 'probe', after: [after], before: ['cio/createClient', 'cio/createServer'] }
  return probe
}

describe('module builder', () => {
  test('require(cio) is a builder returning an instance', () => {
    expect(typeof buildCio).toBe('function')
    const cio = buildCio()
    for (const m of ['client', 'server', 'onClient', 'onServer', 'onServerClient',
      'getClientChain', 'getServerChain', 'getServerClientChain']) {
      expect(typeof cio[m]).toBe('function')
    }
  })

  test('reads string key/cert/ca (and aliases) at build time, relative to cwd', () => {
    const cio = buildCio({ private: rel('server.key'), public: rel('server.crt'), root: [rel('ca.crt')] })
    let seen
    cio.onClient(probeAfter('cio/secure', (ctx) => { seen = ctx }))
    cio.client()
    expect(seen.key).toEqual(fs.readFileSync(path.join(FIX, 'server.key')))
    expect(seen.cert).toEqual(fs.readFileSync(path.join(FIX, 'server.crt')))
    expect(seen.ca).toEqual([fs.readFileSync(path.join(FIX, 'ca.crt'))])
    expect(seen.private).toBeUndefined()
  })

  test.each([
    ['key', { key: 'no/such.key' }, 'no/such.key'],
    ['key', { private: 'missing-private.pem' }, 'missing-private.pem'],
    ['cert', { public: 'missing-public.pem' }, 'missing-public.pem'],
    ['ca', { root: ['missing-root.pem'] }, 'missing-root.pem'],
  ])("an unreadable %s gives the exact error result", (name, options, file) => {
    const result = buildCio(options)
    expect(result.error).toBe(`Unable to read '${name}' from: ` + path.resolve(process.cwd(), file))
    expect(result.reason.code).toBe('ENOENT')
    expect(Object.keys(result).sort()).toEqual(['error', 'reason'])
  })

  test('an empty file or a directory is an error result naming the path', () => {
    const empty = buildCio({ cert: rel('empty.pem') })
    expect(empty.error).toBe("Unable to read 'cert' from: " + path.join(FIX, 'empty.pem'))
    expect(empty.reason.code).toBe('ERR_CIO_EMPTY_FILE')
    const dir = buildCio({ ca: rel('') || '.' })
    expect(dir.error).toMatch(/^Unable to read 'ca' from: /)
    expect(dir.reason.code).toBe('EISDIR')
  })

  test('module options that are not an object are an error result', () => {
    expect(buildCio('nope')).toEqual({ error: 'module options must be an object', options: 'nope' })
  })

  test('module options are the prototype of call options and visible to listeners', () => {
    const cio = buildCio({ shared: 'module', overridden: 'module' })
    let self
    let ctx
    cio.onClient(probeAfter('cio/move-aliases', function (c) { self = c }))
    cio.onClient(function record(control, context) { ctx = context })
    cio.getClientChain().array.find((fn) => fn.name === 'record').options = { before: ['probe'] }
    const options = { overridden: 'call' }
    cio.client(options)
    expect(self).toBe(options)
    expect(ctx).toBe(options)
    expect(options.shared).toBe('module')
    expect(options.overridden).toBe('call')
    expect(options.cio).toBe(cio)
  })
})

describe('chains', () => {
  test('fresh chains hold the core listeners with exact ids', () => {
    const cio = buildCio()
    const ids = (chain) => chain.array.map((fn) => fn.options.id)
    expect(ids(cio.getClientChain())).toEqual(['CheckOrderedError', 'cio/move-aliases', 'cio/secure',
      'cio/ensure-certs', 'cio/createClient'])
    expect(ids(cio.getServerChain())).toEqual(['CheckOrderedError', 'cio/move-aliases', 'cio/secure',
      'cio/ensure-certs', 'cio/createServer', 'cio/relistener', 'cio/emit-new-server-client'])
    expect(ids(cio.getServerClientChain())).toEqual(['CheckOrderedError', 'cio/authenticate-client'])
    expect(cio.getClientChain().array[0].options.before).toEqual(['*'])
  })

  test('each getter returns the same chain every time', () => {
    const cio = buildCio()
    expect(cio.getClientChain()).toBe(cio.getClientChain())
    expect(cio.getServerChain()).toBe(cio.getServerChain())
    expect(cio.getServerClientChain()).toBe(cio.getServerClientChain())
  })

  test('instances have their own core listeners: disabling one never affects another', () => {
    const one = buildCio({ noRelisten: true })
    const two = buildCio()
    one.getClientChain().disable('cio/createClient', 'testing')
    expect(one.client({ port: 1 }).client).toBeUndefined()
    expect(one.getServerChain().isDisabled(one.getServerChain().array[5])).toBe('noRelisten module option')
    expect(two.getServerChain().isDisabled(two.getServerChain().array[5])).toBe(false)
    expect(one.getClientChain().array[4]).not.toBe(two.getClientChain().array[4])
    expect(one.getClientChain().array[4].options).not.toBe(two.getClientChain().array[4].options)
    const socket = two.client({ port: 1, host: '127.0.0.1' })
    socket.on('error', () => {})
    cleanup.push(socket)
    expect(typeof socket.write).toBe('function')
  })
})

describe('registration', () => {
  test('functions, arrays and several arguments are added in order', () => {
    const cio = buildCio()
    const a = () => {}
    const b = () => {}
    const c = () => {}
    expect(cio.onServer(a, [b, c])).toBeUndefined()
    expect(cio.getServerChain().array.slice(7)).toEqual([a, b, c])
  })

  test('a require()-able string is resolved like a require from the program', () => {
    const cio = buildCio()
    expect(cio.onServerClient(path.join(FIX, 'listener.js'))).toBeUndefined()
    expect(cio.onClient('./' + rel('listener.js'))).toBeUndefined()
    expect(cio.getServerClientChain().array[2].options.id).toBe('fixture/from-module')
    expect(cio.getClientChain().array[5]).toBe(require('./fixtures/chains/listener.js'))
  })

  test.each([[42], [null], [{}]])('a non-function non-string (%p) is an error result', (arg) => {
    const cio = buildCio()
    expect(cio.onClient(() => {}, arg)).toEqual({ error: "must be a require()'able string or a function", arg })
    expect(cio.getClientChain().array).toHaveLength(5)
  })

  test('a string that cannot be required is an error result with the reason', () => {
    const cio = buildCio()
    const missing = cio.onServer('@cio/does-not-exist-here')
    expect(missing.error).toBe('Unable to require module: @cio/does-not-exist-here')
    expect(missing.reason.code).toBe('MODULE_NOT_FOUND')
    const throwing = cio.onServer(path.join(FIX, 'throws-on-load.js'))
    expect(throwing.error).toBe('Unable to require module: ' + path.join(FIX, 'throws-on-load.js'))
    expect(throwing.reason.message).toBe('fixture failed to load')
  })

  test('a module whose export is not a function is an error result', () => {
    const name = path.join(FIX, 'not-a-function.js')
    expect(buildCio().onClient(name)).toMatchObject({ error: 'Module export must be a function: ' + name })
  })
})

describe('core listeners', () => {
  test.each([
    [{}, false],
    [{ ca: Buffer.from('x') }, true],
    [{ cert: Buffer.from('x') }, true],
    [{ key: Buffer.from('x') }, true],
    [{ rejectUnauthorized: true }, true],
    [{ rejectUnauthorized: false }, false],
    [{ requestCert: true }, true],
    [{ key: Buffer.from('x'), isSecure: false }, false],
    [{ isSecure: true }, true],
  ])('cio/secure decides isSecure for %p', (options, expected) => {
    const cio = buildCio()
    let seen
    cio.onClient(probeAfter('cio/secure', (ctx) => { seen = ctx.isSecure }))
    cio.client(options)
    expect(seen).toBe(expected)
  })

  test('cio/ensure-certs fails the run when a path cannot be read', () => {
    const result = buildCio().client({ cert: 'missing.crt', port: 1 })
    expect(result.result).toBe(false)
    expect(result.failed.reason).toBe("Unable to read 'cert' from: " + path.resolve('missing.crt'))
    expect(result.failed.error.code).toBe('ENOENT')
  })

  test('a listener after cio/createClient sees this.client, one before does not', async () => {
    const cio = buildCio()
    const port = await listen(cio.server())
    const seen = {}
    const before = function beforeCreate() { seen.before = this.client }
    before.options = { before: ['cio/createClient'] }
    const after = function afterCreate() { seen.after = this.client }
    after.options = { after: ['cio/createClient'] }
    cio.onClient(after, before)
    const client = cio.client({ port, host: '127.0.0.1' })
    cleanup.push(client)
    expect(seen.before).toBeUndefined()
    expect(seen.after).toBe(client)
  })

  test('bad retryDelay/maxRetries make server() return a clear failure', () => {
    const cio = buildCio()
    for (const options of [{ retryDelay: -1 }, { retryDelay: '5' }, { maxRetries: 1.5 }, { maxRetries: -2 }]) {
      const result = cio.server(options)
      expect(result.result).toBe(false)
      expect(result.failed.error.code).toBe('ERR_CIO_INVALID_OPTION')
      expect(result.failed.reason).toMatch(/^(retryDelay|maxRetries) must be a non-negative/)
    }
    expect(typeof cio.server({ retryDelay: -1, noRelisten: true }).listen).toBe('function')
  })

  test('call options that are not an object are an error result', () => {
    expect(buildCio().client(12345)).toEqual({ error: 'client options must be an object', options: 12345 })
    expect(buildCio().server('x')).toEqual({ error: 'server options must be an object', options: 'x' })
  })
})

describe('server-client chain', () => {
  test('runs before connection with serverClient on a context inheriting the server options', async () => {
    const cio = buildCio()
    const events = []
    let clientContext
    cio.onServerClient(function (control, context) {
      clientContext = context
      events.push(this === context ? 'chain' : 'wrong this')
    })
    const options = { custom: 'from server options' }
    const server = cio.server(options)
    server.on('connection', (socket) => { events.push('connection'); cleanup.push(socket) })
    const port = await listen(server)
    const client = cio.client({ port, host: '127.0.0.1' })
    cleanup.push(client)
    await new Promise((resolve) => server.once('connection', resolve))
    expect(events).toEqual(['chain', 'connection'])
    expect(Object.getPrototypeOf(clientContext)).toBe(options)
    expect(clientContext.custom).toBe('from server options')
    expect(clientContext.server).toBe(server)
    expect(clientContext.hasOwnProperty('serverClient')).toBe(true)
  })

  test('a paused server-client chain delays connection until resume()', async () => {
    const cio = buildCio()
    const events = []
    cio.onServerClient((control, context) => {
      const resume = control.pause('waiting for the first bytes')
      context.serverClient.once('data', (data) => {
        events.push('data:' + data)
        resume()
      })
    })
    const server = cio.server()
    const connected = new Promise((resolve) => server.on('connection', (socket) => {
      events.push('connection')
      cleanup.push(socket)
      resolve()
    }))
    const port = await listen(server)
    const client = cio.client({ port, host: '127.0.0.1', onConnect: () => client.write('go') })
    cleanup.push(client)
    await connected
    expect(events).toEqual(['data:go', 'connection'])
  })

  test('a failing server-client chain closes the socket and never emits connection', async () => {
    const cio = buildCio()
    cio.onServerClient((control) => control.fail('not today'))
    const server = cio.server({ onConnect: () => { throw new Error('must not connect') } })
    const failed = new Promise((resolve) => server.on('serverClientFailed', resolve))
    const port = await listen(server)
    const client = cio.client({ port, host: '127.0.0.1' })
    cleanup.push(client)
    const closed = new Promise((resolve) => client.on('close', resolve))
    expect((await failed).reason).toBe('not today')
    await closed
  })
})

describe('client authentication', () => {
  const tlsServerOptions = (more) => Object.assign({
    key: rel('server.key'), cert: rel('server.crt'), ca: rel('ca.crt'), requestCert: true,
    isClientAllowed: (name) => name === 'allowed-client',
  }, more)
  const tlsClient = (cio, port, who) => {
    const client = cio.client({ port, host: '127.0.0.1', servername: 'localhost',
      key: rel(who + '.key'), cert: rel(who + '.crt'), ca: rel('ca.crt') })
    cleanup.push(client)
    return client
  }

  test('an allowed client reaches secureConnection', async () => {
    const cio = buildCio()
    const server = cio.server(tlsServerOptions())
    const secured = new Promise((resolve) => server.on('secureConnection', (socket) => {
      cleanup.push(socket)
      resolve(socket.getPeerCertificate().subject.CN)
    }))
    const port = await listen(server)
    tlsClient(cio, port, 'allowed-client').on('error', () => {})
    expect(await secured).toBe('allowed-client')
  })

  test('a denied client is rejected without crashing, closed, and reported', async () => {
    const cio = buildCio()
    const server = cio.server(tlsServerOptions())
    server.on('secureConnection', () => { throw new Error('must not be seen') })
    const rejected = new Promise((resolve) => server.on('clientRejected', (name, peer) => resolve([name, peer])))
    const port = await listen(server)
    const client = tlsClient(cio, port, 'denied-client')
    client.on('error', () => {})
    const closed = new Promise((resolve) => client.on('close', resolve))
    const [name, peer] = await rejected
    expect(name).toBe('denied-client')
    expect(peer.subject.CN).toBe('denied-client')
    await closed
  })

  test('rejectClient decides what a denied client gets', async () => {
    const cio = buildCio()
    const calls = []
    const server = cio.server(tlsServerOptions({
      rejectClient(socket, name, peer) {
        calls.push([name, peer.subject.CN])
        socket.end('Sorry, you are not allowed, ' + name)
      },
    }))
    const port = await listen(server)
    const client = tlsClient(cio, port, 'denied-client')
    client.setEncoding('utf8')
    let text = ''
    client.on('data', (chunk) => { text += chunk })
    await new Promise((resolve) => client.on('end', resolve))
    expect(text).toBe('Sorry, you are not allowed, denied-client')
    expect(calls).toEqual([['denied-client', 'denied-client']])
  })
})
