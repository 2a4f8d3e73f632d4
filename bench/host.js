'use strict';
// Where a workload's server runs: in this process (LocalHost) or in a forked child
// (ChildHost, driving bench/server-child.js over IPC). Both expose the same interface:
//
//   await host.start()          -> port
//   await host.query(request)   -> reply   ({ cmd: 'mem', connections?: N } -> { rss, connections })
//   await host.stop()           closes every accepted socket and the server (child: exits)

const path = require('path');
const { fork } = require('child_process');
const { getImpl } = require('./impls');
const { settledRss } = require('./lib');
const { getWorkload } = require('./workloads');

/**
 * The server half of a workload, in whatever process runs it: accepts connections, hands each to
 * the workload's `onServerConnection(socket, state)`, and tracks sockets so stop() closes them.
 */
class ServerSide {
  constructor(implName, workloadName) {
    this.impl = getImpl(implName);
    this.workload = getWorkload(workloadName);
    this.sockets = new Set();
    this.state = { connections: 0, errors: 0, lastError: null };
    this.waiters = [];
  }

  async start() {
    const { tls } = this.workload;
    this.server = this.impl.createServer({ tls }, (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      // The client side decides success; server-side resets (e.g. a client destroying its
      // socket at teardown) are counted, never fatal.
      socket.on('error', (err) => { this.state.errors++; this.state.lastError = err.message; });
      this.state.connections++;
      this.workload.family.onServerConnection(socket, this.state);
      this.waiters = this.waiters.filter((w) => !w());
    });
    this.server.on('tlsClientError', (err) => {
      this.state.errors++;
      this.state.lastError = `tlsClientError: ${err.message}`;
    });
    this.port = await this.impl.listen(this.server);
    return this.port;
  }

  /** Resolves once `n` connections have been accepted. */
  whenConnections(n) {
    return new Promise((resolve) => {
      const check = () => (this.state.connections >= n ? (resolve(), true) : false);
      if (!check()) this.waiters.push(check);
    });
  }

  async query(req) {
    if (req.cmd === 'mem') {
      if (req.connections) await this.whenConnections(req.connections);
      return { rss: settledRss(), connections: this.state.connections };
    }
    if (req.cmd === 'stats') return { ...this.state };
    throw new Error(`unknown query ${JSON.stringify(req)}`);
  }

  async stop() {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (this.server) await this.impl.close(this.server);
  }
}

class LocalHost {
  constructor(implName, workloadName) {
    this.side = new ServerSide(implName, workloadName);
    this.mode = 'inproc';
  }
  start() { return this.side.start(); }
  query(req) { return this.side.query(req); }
  stop() { return this.side.stop(); }
}

const CHILD = path.join(__dirname, 'server-child.js');

class ChildHost {
  constructor(implName, workloadName) {
    this.args = [implName, workloadName];
    this.mode = 'child';
    this.nextId = 1;
    this.pending = new Map();
  }

  start() {
    return new Promise((resolve, reject) => {
      const child = fork(CHILD, this.args, {
        execArgv: ['--expose-gc'],
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      this.child = child;
      this.exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
      child.on('message', (msg) => {
        if (msg.type === 'listening') resolve((this.port = msg.port));
        else if (msg.type === 'fatal') reject(new Error(`server child: ${msg.message}`));
        else if (msg.type === 'reply' && this.pending.has(msg.id)) {
          const { resolve: ok, reject: fail } = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          if (msg.error) fail(new Error(`server child: ${msg.error}`)); else ok(msg.reply);
        }
      });
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        const err = new Error(`server child exited early (code ${code}, signal ${signal})`);
        reject(err);
        for (const { reject: fail } of this.pending.values()) fail(err);
        this.pending.clear();
      });
    });
  }

  query(req) {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      this.child.send({ type: 'query', id, req });
    });
  }

  /** Ask the child to close everything and exit; SIGKILL it if it has not exited within 5 s. */
  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) child.send({ type: 'close' });
    else child.kill('SIGKILL');
    const watchdog = setTimeout(() => {
      console.error(`warning: server child (${this.args.join(' ')}) did not exit 5 s after ` +
        'closing everything (a handle left open?); killing it');
      child.kill('SIGKILL');
    }, 5000);
    await this.exited;
    clearTimeout(watchdog);
  }
}

function createHost(mode, implName, workloadName) {
  if (mode === 'inproc') return new LocalHost(implName, workloadName);
  if (mode === 'child') return new ChildHost(implName, workloadName);
  throw new Error(`unknown mode '${mode}' (use inproc, child or both)`);
}

module.exports = { createHost, ServerSide };
