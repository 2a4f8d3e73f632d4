'use strict';
// Public entry: require('cio') is the module builder; the classes ride along as properties.
const net = require('./lib/net');

function buildCio(moduleOptions) {
  const defaults = moduleOptions || {};
  const withDefaults = (options) => Object.assign(Object.create(defaults), options);
  return {
    client(options) { return net.connect(withDefaults(options)); },
    server(options) {
      const o = withDefaults(options);
      return net.createServer(o, o.onConnect);
    },
  };
}

module.exports = buildCio;
module.exports.Socket = net.Socket;
module.exports.Server = net.Server;
module.exports.connect = net.connect;
module.exports.createServer = net.createServer;
