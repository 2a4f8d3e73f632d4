'use strict'
// Chain and Control semantics (chain-builder 0.11 compatible), through the package entry.
const { buildChain } = require('..')

function named(name, fn, options) {
  Object.defineProperty(fn, 'name', { value: name })
  if (options) fn.options = options
  return fn
}

function recorder() {
  const calls = []
  const make = (name, body, options) => named(name, function (control, context) {
    calls.push(name)
    if (body) return body.call(this, control, context)
  }, options)
  return { calls, make }
}

describe('chain building', () => {
  test('add accepts several functions or one array and emits add', () => {
    const chain = buildChain()
    const seen = []
    chain.on('add', (added) => seen.push(added.length))
    const a = () => {}
    const b = () => {}
    const c = () => {}
    const result = chain.add(a, b)
    expect(result).toEqual({ result: true, added: [a, b], chain })
    expect(chain.add([c]).added).toEqual([c])
    expect(chain.array).toEqual([a, b, c])
    expect(seen).toEqual([2, 1])
  })

  test('add rejects a non-function and adds nothing', () => {
    const chain = buildChain()
    const a = () => {}
    expect(chain.add(a, 'nope')).toEqual({ error: 'must be a function', fn: 'nope' })
    expect(chain.array).toEqual([])
  })

  test('a chain can be built from functions, an array or { array }', () => {
    const a = () => {}
    const b = () => {}
    expect(buildChain(a, b).array).toEqual([a, b])
    expect(buildChain([a, b]).array).toEqual([a, b])
    expect(buildChain({ array: [a] }).array).toEqual([a])
  })

  test('remove by index, id and function, and reports not found', () => {
    const a = named('a', () => {})
    const b = named('b', () => {}, { id: 'bee' })
    const c = named('c', () => {})
    const chain = buildChain(a, b, c)
    const removals = []
    chain.on('remove', (reason, removed) => removals.push([reason, removed]))
    expect(chain.remove(0, 'by index')).toEqual({ result: true, reason: 'by index', removed: [a] })
    expect(chain.remove('bee').removed).toEqual([b])
    expect(chain.remove(c).removed).toEqual([c])
    expect(chain.array).toEqual([])
    expect(chain.remove('bee')).toMatchObject({ result: false, reason: 'not found' })
    expect(chain.remove(7)).toMatchObject({ result: false, reason: 'not found' })
    expect(removals).toEqual([['by index', [a]], [undefined, [b]], [undefined, [c]]])
  })

  test('clear empties the chain and emits clear', () => {
    const chain = buildChain(() => {}, () => {})
    const cleared = jest.fn()
    chain.on('clear', cleared)
    expect(chain.clear().result).toBe(true)
    expect(chain.array).toEqual([])
    expect(cleared).toHaveBeenCalledTimes(1)
  })
})

describe('running', () => {
  test('runs listeners in order with this === context and returns the result', () => {
    const { calls, make } = recorder()
    let self
    const chain = buildChain(make('a', function (control, context) { self = this; context.a = 1 }), make('b'))
    const context = { x: 1 }
    const result = chain.run({ context })
    expect(calls).toEqual(['a', 'b'])
    expect(self).toBe(context)
    expect(result).toEqual({ result: true, context, chain })
    expect(context.a).toBe(1)
  })

  test('options.this replaces the this of a listener', () => {
    const other = {}
    let self
    const fn = named('f', function () { self = this }, { this: other })
    buildChain(fn).run()
    expect(self).toBe(other)
  })

  test('base and props build the context', () => {
    const base = { inherited: true }
    let seen
    buildChain((control, context) => { seen = context }).run({ base, props: { own: { value: 2, enumerable: true } } })
    expect(Object.getPrototypeOf(seen)).toBe(base)
    expect(seen.inherited).toBe(true)
    expect(seen.own).toBe(2)
  })

  test('emits start and done, and calls done(null, result)', () => {
    const chain = buildChain(() => {})
    const events = []
    chain.on('start', () => events.push('start'))
    chain.on('done', (error, result) => events.push(['done', error, result.result]))
    const done = jest.fn()
    chain.run({ done })
    expect(events).toEqual(['start', ['done', null, true]])
    expect(done).toHaveBeenCalledWith(null, expect.objectContaining({ result: true }))
  })

  test('a disabled chain does not run', () => {
    const fn = jest.fn()
    const chain = buildChain(fn)
    const disabled = jest.fn()
    const enabled = jest.fn()
    chain.on('disable', disabled)
    chain.on('enable', enabled)
    expect(chain.disable('maintenance')).toEqual({ result: true, reason: 'maintenance' })
    expect(chain.run()).toEqual({ result: false, reason: 'chain disabled' })
    chain.enable()
    expect(chain.run().result).toBe(true)
    expect(fn).toHaveBeenCalledTimes(1)
    expect(disabled).toHaveBeenCalledWith('maintenance')
    expect(enabled).toHaveBeenCalledTimes(1)
  })

  test('disable/enable one listener by index, id (with reason) and function', () => {
    const { calls, make } = recorder()
    const a = make('a')
    const b = make('b', null, { id: 'bee' })
    const c = make('c')
    const chain = buildChain(a, b, c)
    chain.disable(0)
    chain.disable('bee', 'not today')
    chain.disable(c, 'nor this')
    chain.run()
    expect(calls).toEqual([])
    expect(chain.isDisabled(b)).toBe('not today')
    chain.enable('bee')
    chain.enable(a)
    chain.run()
    expect(calls).toEqual(['a', 'b'])
    expect(chain.enable('nobody')).toMatchObject({ result: false, reason: 'not found' })
  })

  test('disabling a listener in one chain leaves the same function enabled in another', () => {
    const fn = jest.fn()
    const one = buildChain(fn)
    const two = buildChain(fn)
    one.disable(fn, 'here only')
    one.run()
    two.run()
    expect(fn).toHaveBeenCalledTimes(1)
  })

  test('select disables, enables, removes and affects the matching listeners', () => {
    const { calls, make } = recorder()
    const chain = buildChain(make('keep'), make('x1'), make('x2'))
    const xs = chain.select((fn) => fn.name.startsWith('x'))
    expect(xs.disable('x off').disabled).toHaveLength(2)
    chain.run()
    expect(calls).toEqual(['keep'])
    xs.enable()
    const touched = []
    xs.affect((fn) => touched.push(fn.name))
    expect(touched).toEqual(['x1', 'x2'])
    expect(xs.remove('gone').removed).toHaveLength(2)
    expect(chain.array.map((fn) => fn.name)).toEqual(['keep'])
  })
})

describe('control', () => {
  test('fail ends the run whether or not its value is returned', () => {
    for (const returnIt of [true, false]) {
      const { calls, make } = recorder()
      const error = new Error('boom')
      const failing = make('f', (control) => {
        const r = control.fail('bad thing', error)
        if (returnIt) return r
      })
      const chain = buildChain(make('a'), failing, make('never'))
      const onFail = jest.fn()
      chain.on('fail', onFail)
      const result = chain.run()
      expect(calls).toEqual(['a', 'f'])
      expect(result.result).toBe(false)
      expect(result.failed).toEqual({ reason: 'bad thing', index: 1, fn: failing, error })
      expect(onFail).toHaveBeenCalledTimes(1)
    }
  })

  test('stop ends the run successfully whether or not its value is returned', () => {
    for (const returnIt of [true, false]) {
      const { calls, make } = recorder()
      const stopping = make('s', (control) => {
        const r = control.stop('enough')
        if (returnIt) return r
      })
      const chain = buildChain(stopping, make('never'))
      const onStop = jest.fn()
      chain.on('stop', onStop)
      const result = chain.run()
      expect(calls).toEqual(['s'])
      expect(result.result).toBe(true)
      expect(result.stopped).toEqual({ reason: 'enough', index: 0, fn: stopping })
      expect(onStop).toHaveBeenCalledTimes(1)
    }
  })

  test('a throwing listener fails the run with caught error', () => {
    const error = new Error('thrown')
    const thrower = named('t', () => { throw error })
    const result = buildChain(thrower, () => { throw new Error('not reached') }).run()
    expect(result.failed).toEqual({ reason: 'caught error', index: 0, fn: thrower, error })
    expect(result.result).toBe(false)
  })

  test('pause waits for resume, emitting pause and resume, then calls done', () => {
    const { calls, make } = recorder()
    let resume
    const chain = buildChain(make('p', (control) => { resume = control.pause('waiting') }), make('after'))
    const events = []
    chain.on('pause', () => events.push('pause'))
    chain.on('resume', () => events.push('resume'))
    const done = jest.fn()
    const early = chain.run({ done })
    expect(early.paused).toMatchObject({ reason: 'waiting', index: 0 })
    expect(calls).toEqual(['p'])
    expect(done).not.toHaveBeenCalled()
    resume()
    expect(calls).toEqual(['p', 'after'])
    expect(events).toEqual(['pause', 'resume'])
    expect(done).toHaveBeenCalledWith(null, expect.objectContaining({ result: true }))
    expect(resume()).toMatchObject({ result: false })
  })

  test('resume.callback stores the value under a key, or fails with the message', () => {
    let cb
    const chain = buildChain((control) => { cb = control.pause().callback('read failed', 'data') }, () => {})
    const done = jest.fn()
    const context = {}
    chain.run({ context, done })
    cb(null, 'value')
    expect(context.data).toBe('value')
    expect(done.mock.calls[0][1].result).toBe(true)

    const failDone = jest.fn()
    const after = jest.fn()
    buildChain((control) => { cb = control.pause().callback('read failed') }, after).run({ done: failDone })
    const error = new Error('io')
    cb(error)
    expect(after).not.toHaveBeenCalled()
    expect(failDone).toHaveBeenCalledWith(error, expect.objectContaining({
      result: false, failed: expect.objectContaining({ reason: 'read failed', error }),
    }))
  })

  test('next runs the rest now and returns its result', () => {
    const order = []
    let inner
    const chain = buildChain(
      (control) => { order.push('a:before'); inner = control.next(); order.push('a:after') },
      () => { order.push('b') },
    )
    const result = chain.run()
    expect(order).toEqual(['a:before', 'b', 'a:after'])
    expect(inner.result).toBe(true)
    expect(result).toBe(inner)
  })

  test('next with a context runs the rest with it', () => {
    const other = { other: true }
    let seen
    const context = {}
    const result = buildChain((control) => control.next(other), (control, ctx) => { seen = ctx }).run({ context })
    expect(seen).toBe(other)
    expect(result.context).toBe(context)
    const permanent = buildChain((control) => control.next(other, true), () => {}).run({ context })
    expect(permanent.context).toBe(other)
  })

  test('context overrides the next listener only, or the rest when permanent', () => {
    const seen = []
    const override = { override: true }
    const context = {}
    const record = (control, ctx) => { seen.push(ctx) }
    buildChain((control) => control.context(override), record, record).run({ context })
    expect(seen).toEqual([override, context])
    seen.length = 0
    const result = buildChain((control) => control.context(override, true), record, record).run({ context })
    expect(seen).toEqual([override, override])
    expect(result.context).toBe(override)
  })

  test('remove takes the current listener out of the chain and reports it', () => {
    const once = named('once', (control) => { control.remove('one shot') })
    const chain = buildChain(once, () => {})
    const result = chain.run()
    expect(result.removed).toEqual([{ reason: 'one shot', index: 0, fn: once }])
    expect(chain.array).not.toContain(once)
  })

  test('disable switches the current listener off for later runs', () => {
    const fn = jest.fn((control) => control.disable('once is enough'))
    const chain = buildChain(fn)
    chain.run()
    chain.run()
    expect(fn).toHaveBeenCalledTimes(1)
    expect(chain.isDisabled(fn)).toBe('once is enough')
  })
})
