'use strict'
// Listener ordering, JS side: read each function's `options` ({ id, before, after }),
// validate them, and hand them to the native, pure `orderListeners` (src/ordering.rs).
// The chain runner calls orderFns() once before a run of a chain whose array changed.

const { orderListeners } = require('./native').binding

function codedError(message, code, props) {
  const error = new Error(message)
  error.code = code
  return Object.assign(error, props)
}

/** The id used for ordering and for remove/disable by id: `options.id`, else `fn.name`. */
function idOf(fn) {
  const options = fn.options
  if (options != null && typeof options.id === 'string') return options.id
  return typeof fn.name === 'string' ? fn.name : ''
}

/**
 * Returns null when `fn.options` is usable for ordering, else an Error
 * (code ERR_CIO_INVALID_ORDER_OPTIONS) saying what is wrong.
 */
function checkOrderOptions(fn) {
  const options = fn.options
  if (options === undefined || options === null) return null
  const label = idOf(fn) || '(anonymous)'
  if (typeof options !== 'object') {
    return codedError(`options of listener '${label}' must be an object`, 'ERR_CIO_INVALID_ORDER_OPTIONS', { fn })
  }
  if (options.id !== undefined && typeof options.id !== 'string') {
    return codedError(`options.id of listener '${label}' must be a string`, 'ERR_CIO_INVALID_ORDER_OPTIONS', { fn })
  }
  for (const key of ['before', 'after']) {
    const value = options[key]
    if (value === undefined) continue
    if (!Array.isArray(value) || !value.every((s) => typeof s === 'string')) {
      return codedError(`options.${key} of listener '${label}' must be an array of strings`,
        'ERR_CIO_INVALID_ORDER_OPTIONS', { fn })
    }
  }
  return null
}

/**
 * Returns a new array with `fns` in run order. Throws an Error with code
 * ERR_CIO_INVALID_ORDER_OPTIONS (bad `fn.options`) or ERR_CIO_ORDER_CYCLE (contradictory
 * constraints; the message names the ids around the cycle).
 */
function orderFns(fns) {
  const items = fns.map((fn) => {
    const problem = checkOrderOptions(fn)
    if (problem) throw problem
    const options = fn.options || {}
    return { id: idOf(fn), before: options.before || [], after: options.after || [] }
  })
  return orderListeners(items).map((index) => fns[index])
}

module.exports = { idOf, checkOrderOptions, orderFns, codedError }
