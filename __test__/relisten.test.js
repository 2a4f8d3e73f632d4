'use strict'
// Re-listen on EADDRINUSE (SPEC section 8) against a really occupied port on 127.0.0.1.
const net = require('net')
const buildCio = require('..')

let stderr
const servers = []
beforeEach(() => { stderr = jest.spyOn(console, 'error').mockImplementation(() => {}) })
afterEach(async () => {
  stderr.mockRestore()
  for (const server of servers.splice(0)) {
    await new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve(server.close())))
  }
})

/** A plain Node server holding a port, so cio's listen() gets EADDRINUSE. */
async function occupyPort() {
  const blocker = net.createServer()
  servers.push(blocker)
  await new Promise((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  return { blocker, port: blocker.address().port }
}

function track(server) {
  servers.push(server)
  const seen = { errors: [], relisten: 0, listening: 0, close: 0 }
  server.on('error', (error) => seen.errors.push(error.code))
  server.on('relisten', () => seen.relisten++)
  server.on('listening', () => seen.listening++)
  server.on('close', () => seen.close++)
  return seen
}

describe('re-listen on EADDRINUSE', () => {
  test('re-listens once the port is freed; the listen callback and listening fire once', async () => {
    const { blocker, port } = await occupyPort()
    const server = buildCio().server({ retryDelay: 20 })
    const seen = track(server)
    // the blocker's fd is closed synchronously by close(), before the 20 ms retry fires
    server.once('error', () => blocker.close())
    const callback = jest.fn()
    await new Promise((resolve) => server.listen(port, '127.0.0.1', () => { callback(); resolve() }))
    expect(server.address().port).toBe(port)
    expect(seen.errors).toEqual(['EADDRINUSE'])
    expect(seen.relisten).toBe(1)
    expect(seen.listening).toBe(1)
    expect(callback).toHaveBeenCalledTimes(1)
    expect(stderr.mock.calls).toEqual([['Address in use, retrying in 0.02 seconds...']])
  })

  test('gives up after maxRetries with a message and a close', async () => {
    const { port } = await occupyPort()
    const server = buildCio().server({ retryDelay: 10, maxRetries: 1 })
    const seen = track(server)
    const callback = jest.fn()
    const gaveUp = new Promise((resolve) => server.on('close', () => { if (seen.errors.length === 2) resolve() }))
    server.listen(port, '127.0.0.1', callback)
    await gaveUp
    expect(seen.errors).toEqual(['EADDRINUSE', 'EADDRINUSE'])
    expect(seen.relisten).toBe(1)
    expect(stderr.mock.calls).toEqual([
      ['Address in use, retrying in 0.01 seconds...'],
      ['Address in use. Exiting after 1 retries.'],
    ])
    expect(callback).not.toHaveBeenCalled()
    expect(seen.listening).toBe(0)
    expect(server.listening).toBe(false)
  })

  test('defaults to a 3 second delay, and close() cancels the pending retry', async () => {
    const { port } = await occupyPort()
    const server = buildCio().server()
    const seen = track(server)
    await new Promise((resolve) => {
      server.once('error', resolve)
      server.listen(port, '127.0.0.1')
    })
    expect(stderr.mock.calls).toEqual([['Address in use, retrying in 3 seconds...']])
    await new Promise((resolve) => server.close(() => resolve()))
    // were the 3 s timer still pending, it would re-listen after close and keep jest alive
    expect(seen.relisten).toBe(0)
  })

  test('calls a user relisten(server, listenArgs) instead of listening again itself', async () => {
    const { blocker, port } = await occupyPort()
    const calls = []
    const server = buildCio().server({
      retryDelay: 5,
      relisten(srv, args) {
        calls.push(args)
        blocker.close(() => srv.listen(...args))
      },
    })
    const seen = track(server)
    const callback = jest.fn()
    await new Promise((resolve) => server.listen(port, '127.0.0.1', () => { callback(); resolve() }))
    expect(calls).toEqual([[port, '127.0.0.1']])
    expect(seen.relisten).toBe(1)
    expect(callback).toHaveBeenCalledTimes(1)
  })

  test.each([
    ['a server option', {}, { noRelisten: true }],
    ['a module option', { noRelisten: true }, {}],
  ])('noRelisten as %s turns re-listen off', async (_, moduleOptions, serverOptions) => {
    const { port } = await occupyPort()
    const cio = buildCio(moduleOptions)
    const server = cio.server(serverOptions)
    servers.push(server)
    const error = await new Promise((resolve) => {
      server.on('error', (e) => resolve({ code: e.code, logged: stderr.mock.calls.length }))
      server.listen(port, '127.0.0.1')
    })
    // with re-listen on, the retry message is logged inside the same 'error' emit
    expect(error).toEqual({ code: 'EADDRINUSE', logged: 0 })
    // and the other instance / other calls keep re-listen
    const other = buildCio().getServerChain()
    expect(other.isDisabled(other.array[5])).toBe(false)
  })

  test('noRelisten: false keeps re-listen on, and removing cio/relistener turns it off', async () => {
    const { port } = await occupyPort()
    const on = buildCio().server({ noRelisten: false, retryDelay: 1000 })
    servers.push(on)
    await new Promise((resolve) => { on.once('error', resolve); on.listen(port, '127.0.0.1') })
    expect(stderr).toHaveBeenCalledTimes(1)
    on.close()

    const cio = buildCio()
    expect(cio.getServerChain().remove('cio/relistener').result).toBe(true)
    const off = cio.server()
    servers.push(off)
    const logged = await new Promise((resolve) => {
      off.on('error', () => resolve(stderr.mock.calls.length))
      off.listen(port, '127.0.0.1')
    })
    expect(logged).toBe(1)
  })
  test('without a user error listener, giving up neither throws nor crashes', async () => {
    const { port } = await occupyPort()
    const server = buildCio().server({ retryDelay: 1, maxRetries: 0 })
    servers.push(server)
    await new Promise((resolve) => {
      server.once('close', resolve)
      server.listen(port, '127.0.0.1')
    })
    expect(stderr.mock.calls).toEqual([['Address in use. Exiting after 0 retries.']])
  })

  test('an error re-listen does not handle still throws when nobody else listens', () => {
    const server = buildCio().server()
    servers.push(server)
    const error = Object.assign(new Error('other'), { code: 'EOTHER' })
    expect(() => server.emit('error', error)).toThrow(error)
    server.on('error', () => {})
    expect(() => server.emit('error', error)).not.toThrow()
  })
})
