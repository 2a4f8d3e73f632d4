'use strict'
// TLS material given as file paths: the `private`/`public`/`root` aliases and reading
// string `key`/`cert`/`ca` paths (relative to process.cwd()) into Buffers. Used by the
// module builder (at build time) and by the `cio/ensure-certs` core listener (per call).

const fs = require('fs')
const path = require('path')

const ALIASES = [['private', 'key'], ['public', 'cert'], ['root', 'ca']]
// Buffers read from a path → that absolute path, so errors about their content can name the
// file (lib/tls.js hands the path to the native loader instead of the anonymous Buffer).
const origins = new WeakMap()
const MATERIAL = ['key', 'cert', 'ca']

/** Moves own alias properties onto their Node names; an own Node-named value wins. */
function moveAliases(target) {
  for (const [alias, name] of ALIASES) {
    if (!Object.prototype.hasOwnProperty.call(target, alias)) continue
    if (!Object.prototype.hasOwnProperty.call(target, name)) target[name] = target[alias]
    delete target[alias]
  }
}

/** A string that is not PEM text is a file path. */
function isPath(value) {
  return typeof value === 'string' && !value.includes('-----BEGIN')
}

function readOne(name, value) {
  if (!isPath(value)) return { value }
  const absPath = path.resolve(process.cwd(), value)
  try {
    const data = fs.readFileSync(absPath)
    if (data.length === 0) {
      const reason = new Error(`The '${name}' file is empty: ${absPath}`)
      reason.code = 'ERR_CIO_EMPTY_FILE'
      return { name, absPath, reason }
    }
    origins.set(data, absPath)
    return { value: data }
  } catch (reason) {
    return { name, absPath, reason }
  }
}

/**
 * Replaces string paths in `target.key/cert/ca` (own or inherited; arrays too) with own
 * Buffer properties. Returns null, or `{ name, absPath, reason }` for the first failure.
 */
function readMaterial(target) {
  for (const name of MATERIAL) {
    const value = target[name]
    if (Array.isArray(value)) {
      if (!value.some(isPath)) continue
      const read = []
      for (const each of value) {
        const one = readOne(name, each)
        if (one.reason) return one
        read.push(one.value)
      }
      target[name] = read
    } else if (isPath(value)) {
      const one = readOne(name, value)
      if (one.reason) return one
      target[name] = one.value
    }
  }
  return null
}

function unableToRead(failure) {
  return `Unable to read '${failure.name}' from: ${failure.absPath}`
}

/** The absolute path a Buffer was read from by readMaterial, or undefined. */
function originOf(buffer) {
  return origins.get(buffer)
}

module.exports = { ALIASES, moveAliases, readMaterial, unableToRead, originOf }
