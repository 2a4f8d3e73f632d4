'use strict';
// Node's `onread` socket option: reads go into the caller's buffer and callback instead of
// 'data' events, and pause()/resume()/read() stop and start the handle's reading directly.
// Installed onto Socket.prototype by lib/socket.js.

const { Duplex } = require('stream');
const { isUint8Array } = require('util').types;
const errors = require('./errors');

class OnreadMethods {
  // onread: the bytes go into the caller's buffer, at most its length per callback; a
  // callback that returns false stops reading (the rest of this chunk waits for resume/read).
  _deliverOnread(buf) {
    const o = this._onread;
    let off = 0;
    while (off < buf.length && !this.destroyed) {
      if (o.buffer === null && o.gen) {
        const next = o.gen();
        if (!isUint8Array(next) || next.length === 0) {
          this.destroy(errors.invalidArgType('onread.buffer()', 'a non-empty Uint8Array', next));
          return;
        }
        o.buffer = next;
      }
      const target = o.buffer;
      const n = Math.min(target.length, buf.length - off);
      if (n === 0) {
        this.destroy(errors.invalidArgValue('options.onread.buffer', target, 'must not be empty'));
        return;
      }
      target.set(buf.subarray(off, off + n));
      off += n;
      const keep = o.callback.call(this, n, target) !== false;
      if (o.gen) {
        const next = o.gen();
        if (isUint8Array(next)) o.buffer = next;
      }
      if (!keep) this._onreadStop();
      if (o.stopped) {
        if (off < buf.length) o.pending = buf.subarray(off);
        return;
      }
    }
  }

  _onreadStop() {
    this._onread.stopped = true;
    if (this._handle) {
      this._reading = false;
      this._handle.readStop();
    }
  }

  // Node's pause/resume/read with onread stop and start the handle's reading directly (the
  // stream itself never holds data then).
  pause() {
    if (this._onread && !this.connecting && this._handle && !this._onread.stopped) this._onreadStop();
    return Duplex.prototype.pause.call(this);
  }

  resume() {
    if (this._onread && !this.connecting && this._handle && this._onread.stopped) this._onreadRestart();
    return Duplex.prototype.resume.call(this);
  }

  read(n) {
    if (this._onread && !this.connecting && this._handle && this._onread.stopped) this._onreadRestart();
    return Duplex.prototype.read.call(this, n);
  }

  _onreadRestart() {
    const o = this._onread;
    const pending = o.pending;
    o.pending = null;
    o.stopped = false;
    if (pending) {
      this._deliverOnread(pending);
      if (o.stopped) return;
    }
    if (this._handle) {
      this._reading = true;
      this._handle.readStart();
    }
  }
}

module.exports = { OnreadMethods };
