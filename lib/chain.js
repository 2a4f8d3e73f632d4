'use strict'
// Chain and Control: the listener runner, compatible with chain-builder 0.11 (SPEC section 4).
// A chain holds listener functions, orders them (lib/order.js, native) before a run when its
// array changed, and runs them as `fn.call(thisArg, control, context)`. Disabled state is
// kept per chain (never on the shared function object), so one chain cannot affect another.

const { EventEmitter } = require('events')
const { idOf, orderFns } = require('./order')

class Chain extends EventEmitter {
  /** `new Chain()`, `new Chain(fn, ...)`, `new Chain([fns])` or `new Chain({ array })`. */
  constructor(...args) {
    super()
    this.array = []
    this.orderError = null // the Error of the last failed ordering, else null
    this._disabled = false // false, or the reason the whole chain is disabled
    this._disabledFns = new Map() // fn -> reason; per chain on purpose
    this._ordered = [] // snapshot of `array` after the last ordering
    let fns = args
    if (args.length === 1 && args[0] && !Array.isArray(args[0]) && typeof args[0] === 'object') {
      fns = args[0].array ? [args[0].array] : []
    }
    if (fns.length > 0) {
      const added = this.add(...fns)
      if (added.error) throw new TypeError(added.error)
    }
  }

  add(...args) {
    const fns = args.length === 1 && Array.isArray(args[0]) ? args[0] : args
    for (const fn of fns) {
      if (typeof fn !== 'function') return { error: 'must be a function', fn }
    }
    this.array.push(...fns)
    this.emit('add', fns)
    return { result: true, added: fns, chain: this }
  }

  /** Indices into `array` selected by an index, an id or a function; null for a bad selector. */
  _find(which) {
    if (typeof which === 'number') {
      return Number.isInteger(which) && which >= 0 && which < this.array.length ? [which] : []
    }
    if (typeof which === 'string') {
      return this.array.flatMap((fn, i) => (idOf(fn) === which ? [i] : []))
    }
    if (typeof which === 'function') {
      return this.array.flatMap((fn, i) => (fn === which ? [i] : []))
    }
    return null
  }

  remove(which, reason) {
    const indices = this._find(which)
    if (indices === null) return { result: false, reason: 'must be an index, an id or a function', which }
    if (indices.length === 0) return { result: false, reason: 'not found', which }
    const removed = indices.map((i) => this.array[i])
    this.array = this.array.filter((_, i) => !indices.includes(i))
    for (const fn of removed) if (!this.array.includes(fn)) this._disabledFns.delete(fn)
    this.emit('remove', reason, removed)
    return { result: true, reason, removed }
  }

  /** disable() / disable(reason): the chain; disable(index|fn, reason?) / disable(id, reason): one listener. */
  disable(which, reason) {
    if (which === undefined || (typeof which === 'string' && arguments.length === 1)) {
      this._disabled = which === undefined ? true : which
      this.emit('disable', this._disabled)
      return { result: true, reason: this._disabled }
    }
    const indices = this._find(which)
    if (indices === null) return { result: false, reason: 'must be an index, an id or a function', which }
    if (indices.length === 0) return { result: false, reason: 'not found', which }
    const fns = indices.map((i) => this.array[i])
    for (const fn of fns) this._disabledFns.set(fn, reason === undefined ? true : reason)
    this.emit('disable', reason, fns)
    return { result: true, reason, disabled: fns }
  }

  enable(which) {
    if (which === undefined) {
      this._disabled = false
      this.emit('enable')
      return { result: true }
    }
    const indices = this._find(which)
    if (indices === null) return { result: false, reason: 'must be an index, an id or a function', which }
    if (indices.length === 0) return { result: false, reason: 'not found', which }
    const fns = indices.map((i) => this.array[i])
    for (const fn of fns) this._disabledFns.delete(fn)
    this.emit('enable', fns)
    return { result: true, enabled: fns }
  }

  /** The reason `fn` is disabled in this chain, or false. */
  isDisabled(fn) {
    return this._disabledFns.has(fn) ? this._disabledFns.get(fn) : false
  }

  /** Acts on every listener for which `predicate(fn, index)` is truthy. */
  select(predicate) {
    const chosen = () => this.array.filter((fn, i) => predicate(fn, i))
    return {
      disable: (reason) => {
        const fns = chosen()
        for (const fn of fns) this._disabledFns.set(fn, reason === undefined ? true : reason)
        if (fns.length > 0) this.emit('disable', reason, fns)
        return { result: true, reason, disabled: fns }
      },
      enable: () => {
        const fns = chosen()
        for (const fn of fns) this._disabledFns.delete(fn)
        if (fns.length > 0) this.emit('enable', fns)
        return { result: true, enabled: fns }
      },
      remove: (reason) => {
        const fns = chosen()
        this.array = this.array.filter((fn) => !fns.includes(fn))
        for (const fn of fns) this._disabledFns.delete(fn)
        if (fns.length > 0) this.emit('remove', reason, fns)
        return { result: true, reason, removed: fns }
      },
      affect: (fn) => {
        const fns = chosen()
        fns.forEach((each, i) => fn(each, i))
        return { result: true, affected: fns }
      },
    }
  }

  clear() {
    const removed = this.array
    this.array = []
    this._disabledFns.clear()
    this.emit('clear', removed)
    return { result: true, removed }
  }

  /** Orders `array` when it changed since the last successful ordering. */
  _orderIfChanged() {
    const same = this._ordered.length === this.array.length &&
      this._ordered.every((fn, i) => fn === this.array[i])
    if (same) return
    try {
      this.array = orderFns(this.array)
      this._ordered = this.array.slice()
      this.orderError = null
    } catch (error) {
      this.orderError = error // kept until the array changes again; CheckOrderedError fails on it
    }
  }

  run(options) {
    const opts = options || {}
    const done = typeof opts.done === 'function' ? opts.done : null
    if (this._disabled !== false) {
      const result = { result: false, reason: 'chain disabled' }
      if (done) done(null, result)
      return result
    }
    this._orderIfChanged()
    let context = opts.context
    if (context === undefined || context === null) {
      context = Object.create(opts.base || Object.prototype, opts.props || {})
    }
    const run = new Run(this, this.array.slice(), context, done)
    this.emit('start', context)
    execute(run, 0)
    return run.ended ? run.result : run.pausedResult()
  }
}

/** The state of one run. */
class Run {
  constructor(chain, fns, context, done) {
    this.chain = chain
    this.fns = fns // snapshot: removing a listener mid-run does not shift the walk
    this.context = context
    this.nextContext = null // a one-listener override from control.context(ctx)
    this.done = done
    this.stopped = null
    this.failed = null
    this.removed = []
    this.paused = null // { reason, index, fn, control } while waiting for resume()
    this.ended = false
    this.result = null
  }

  pausedResult() {
    const { reason, index, fn } = this.paused
    return { result: true, paused: { reason, index, fn }, context: this.context, chain: this.chain }
  }

  finish() {
    if (this.ended) return
    this.ended = true
    this.paused = null
    const result = { result: !this.failed, context: this.context, chain: this.chain }
    if (this.stopped) result.stopped = this.stopped
    if (this.failed) result.failed = this.failed
    if (this.removed.length > 0) result.removed = this.removed
    this.result = result
    if (this.stopped) this.chain.emit('stop', this.stopped, result)
    if (this.failed) this.chain.emit('fail', this.failed, result)
    const error = this.failed ? (this.failed.error || new Error(this.failed.reason)) : null
    this.chain.emit('done', error, result)
    if (this.done) this.done(error, result)
  }
}

/** Runs listeners from `start`; returns when the run ended or paused. */
function execute(run, start) {
  for (let index = start; index < run.fns.length; index++) {
    const fn = run.fns[index]
    if (run.chain.isDisabled(fn) !== false) continue
    let context = run.context
    if (run.nextContext !== null) {
      context = run.nextContext
      run.nextContext = null
    }
    const control = new Control(run, index, fn)
    const thisArg = fn.options != null && fn.options.this != null ? fn.options.this : context
    try {
      fn.call(thisArg, control, context)
    } catch (error) {
      if (run.ended) throw error // the rest already ran through next(); do not swallow it
      control.fail('caught error', error)
    }
    control._returned = true
    if (control._nexted || run.ended) return
    if (run.failed || run.stopped) return run.finish()
    if (control._pause) {
      run.paused = Object.assign({}, control._pause, { index, fn, control })
      run.chain.emit('pause', control)
      return
    }
  }
  run.finish()
}

/** The first argument of every listener; valid for one listener call of one run. */
class Control {
  constructor(run, index, fn) {
    this._run = run
    this._index = index
    this._fn = fn
    this._returned = false
    this._nexted = false
    this._pause = null
    this.chain = run.chain
  }

  /** Ends the run as failed. Works with or without `return control.fail(...)`. */
  fail(reason, error) {
    const run = this._run
    if (run.ended || run.failed || run.stopped) return { result: false, reason: 'run already ended' }
    run.failed = { reason, index: this._index, fn: this._fn }
    if (error !== undefined) run.failed.error = error
    if (this._returned && run.paused && run.paused.control === this) run.finish()
    return { result: true, failed: run.failed }
  }

  /** Ends the run successfully, skipping the remaining listeners. */
  stop(reason) {
    const run = this._run
    if (run.ended || run.failed || run.stopped) return { result: false, reason: 'run already ended' }
    run.stopped = { reason, index: this._index, fn: this._fn }
    if (this._returned && run.paused && run.paused.control === this) run.finish()
    return { result: true, stopped: run.stopped }
  }

  /** Pauses the run after this listener returns; the returned resume() continues it. */
  pause(reason) {
    const run = this._run
    this._pause = { reason }
    let used = false
    const resume = () => {
      if (used) return { result: false, reason: 'already resumed' }
      used = true
      if (!this._returned) { // resumed before the listener returned: never paused at all
        this._pause = null
        return { result: true }
      }
      if (run.ended) return { result: false, reason: 'run already ended' }
      run.paused = null
      run.chain.emit('resume', this)
      if (run.failed || run.stopped) run.finish()
      else execute(run, this._index + 1)
      return { result: true }
    }
    resume.callback = (errorMessage, key) => (error, value) => {
      if (error) this.fail(errorMessage || 'callback error', error)
      else if (key !== undefined && key !== null) run.context[key] = value
      return resume()
    }
    return resume
  }

  /** Runs the rest of the chain now and returns its result (pipeline style). */
  next(context, permanent) {
    const run = this._run
    if (this._nexted || run.ended) return { result: false, reason: 'run already ended' }
    this._nexted = true
    const previous = run.context
    if (context !== undefined && context !== null) {
      run.context = context
      run.nextContext = null
    }
    execute(run, this._index + 1)
    if (!permanent && context != null && run.result) run.result.context = previous
    return run.ended ? run.result : run.pausedResult()
  }

  /** Overrides the context for the next listener, or for the rest of the run when permanent. */
  context(context, permanent) {
    if (permanent) this._run.context = context
    else this._run.nextContext = context
    return { result: true }
  }

  /** Removes the current listener from the chain. */
  remove(reason) {
    const chain = this._run.chain
    const at = chain.array.indexOf(this._fn)
    if (at < 0) return { result: false, reason: 'not found' }
    const result = chain.remove(at, reason)
    this._run.removed.push({ reason, index: this._index, fn: this._fn })
    return result
  }

  /** Disables the current listener in this chain. */
  disable(reason) {
    return this._run.chain.disable(this._fn, reason === undefined ? true : reason)
  }
}

function buildChain(...args) {
  return new Chain(...args)
}

module.exports = buildChain
module.exports.buildChain = buildChain
module.exports.Chain = Chain
module.exports.Control = Control
