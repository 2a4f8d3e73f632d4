'use strict'
// TEMPORARY: replaced by the native core on merge (the core engineer's index.js adds the
// named exports Socket, Server, ...).
module.exports = require('./lib/cio')
