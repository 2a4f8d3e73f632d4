'use strict'
// Ordering of chain listeners (before/after/'*', unknown ids, cycles, ties), through the
// package entry: chains order themselves before a run when their array changed.
const buildCio = require('..')
const { buildChain } = buildCio

function listener(id, options, calls) {
  const fn = function () { calls.push(id) }
  Object.defineProperty(fn, 'name', { value: id })
  if (options) fn.options = options
  return fn
}

/** Builds a chain from [id, options] pairs, runs it, returns { ids run, result, chain }. */
function runOrder(specs) {
  const calls = []
  const chain = buildChain(specs.map(([id, options]) => listener(id, options, calls)))
  const result = chain.run()
  return { calls, result, chain }
}

describe('ordering listeners', () => {
  test.each([
    ['no constraints keep insertion order', [['a'], ['b'], ['c']], ['a', 'b', 'c']],
    ['before puts a listener right in front of its target',
      [['a'], ['b'], ['c', { before: ['a'] }]], ['c', 'a', 'b']],
    ['after puts a listener right behind its target',
      [['a', { after: ['c'] }], ['b'], ['c']], ['c', 'a', 'b']],
    ['after a later listener keeps the others in place',
      [['c'], ['b'], ['a', { after: ['c'] }]], ['c', 'b', 'a']],
    ["before '*' goes first", [['a'], ['b'], ['first', { before: ['*'] }]], ['first', 'a', 'b']],
    ["after '*' goes last", [['last', { after: ['*'] }], ['a'], ['b']], ['a', 'b', 'last']],
    ["several '*' listeners keep insertion order in their group",
      [['l1', { after: ['*'] }], ['f1', { before: ['*'] }], ['a'], ['f2', { before: ['*'] }], ['l2', { after: ['*'] }]],
      ['f1', 'f2', 'a', 'l1', 'l2']],
    ['unknown ids are ignored', [['a', { before: ['ghost'], after: ['nobody'] }], ['b']], ['a', 'b']],
    ['ties keep insertion order', [['a'], ['c', { after: ['b'] }], ['b'], ['d']], ['a', 'b', 'c', 'd']],
    ['options.id wins over the function name', [['fnName', { id: 'real' }], ['x', { before: ['real'] }]], ['x', 'fnName']],
  ])('%s', (_, specs, expected) => {
    const { calls, result, chain } = runOrder(specs)
    expect(result.result).toBe(true)
    expect(calls).toEqual(expected)
    expect(chain.array.map((fn) => fn.name)).toEqual(expected)
  })

  test('a new order applies to the very next run after a change', () => {
    const calls = []
    const chain = buildChain(listener('a', null, calls), listener('b', null, calls))
    chain.run()
    chain.add(listener('early', { before: ['a'] }, calls))
    calls.length = 0
    chain.run()
    expect(calls).toEqual(['early', 'a', 'b'])
  })

  test('a cycle of two fails the run and names both ids', () => {
    const { result, chain } = runOrder([['a', { before: ['b'] }], ['b', { before: ['a'] }]])
    expect(chain.orderError.code).toBe('ERR_CIO_ORDER_CYCLE')
    expect(chain.orderError.message).toBe('ordering cycle: a -> b -> a')
    // a bare chain has no CheckOrderedError; it keeps its previous order
    expect(result.result).toBe(true)
  })

  test('a cycle of three makes client() return the ordering failure', () => {
    const cio = buildCio()
    const mk = (id, after) => Object.assign(function () {}, { options: { id, after: [after] } })
    expect(cio.onClient(mk('x', 'z'), mk('y', 'x'), mk('z', 'y'))).toBeUndefined()
    const result = cio.client({ port: 1 })
    expect(result.result).toBe(false)
    expect(result.failed.reason).toBe('Unable to order the chain')
    expect(result.failed.error.code).toBe('ERR_CIO_ORDER_CYCLE')
    expect(result.failed.error.message).toBe('ordering cycle: x -> y -> z -> x')
    expect(result.failed.fn.options.id).toBe('CheckOrderedError')
  })

  test('a cycle makes server() fail until the offending listener is removed', () => {
    const cio = buildCio()
    const bad = function bad() {}
    bad.options = { before: ['cio/move-aliases'], after: ['cio/createServer'] }
    cio.onServer(bad)
    const failed = cio.server()
    expect(failed.failed.reason).toBe('Unable to order the chain')
    expect(failed.failed.error.message).toBe(
      'ordering cycle: cio/move-aliases -> cio/secure -> cio/ensure-certs -> cio/createServer -> bad -> cio/move-aliases')
    cio.getServerChain().remove('bad')
    const server = cio.server()
    expect(typeof server.listen).toBe('function')
  })

  test('before/after that are not arrays of strings are a clear error', () => {
    const cio = buildCio()
    const bad = function badOptions() {}
    bad.options = { before: 'cio/createClient' }
    const result = cio.onClient(bad)
    expect(result.error).toBe("options.before of listener 'badOptions' must be an array of strings")
    expect(result.reason.code).toBe('ERR_CIO_INVALID_ORDER_OPTIONS')
    expect(cio.getClientChain().array).toHaveLength(5)

    // options broken after registration: the run fails instead of crashing
    const later = function later() {}
    cio.onClient(later)
    later.options = { after: [42] }
    const run = cio.client({ port: 1 })
    expect(run.failed.reason).toBe('Unable to order the chain')
    expect(run.failed.error.code).toBe('ERR_CIO_INVALID_ORDER_OPTIONS')
  })
})
