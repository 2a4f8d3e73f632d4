'use strict';
// A socket's timeout, TCP options and ref/unref, as Node's net.Socket has them. Installed onto
// Socket.prototype by lib/socket.js.

const { setRef } = require('./native');
const errors = require('./errors');
const debug = require('util').debuglog('cio'); // NODE_DEBUG=cio

class OptionMethods {
  // Node's setStreamTimeout: nothing on a destroyed socket; getTimerDuration's checks
  // (ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE; above 2^31-1 ms a TimeoutOverflowWarning and that
  // maximum, where a plain timer would fire after 1 ms); a callback must be a function.
  setTimeout(ms, cb) {
    if (this.destroyed) return this;
    this.timeout = ms;
    const duration = errors.timerDuration(ms, 'msecs');
    this._timeoutMs = duration;
    this._clearTimer();
    if (duration === 0) {
      if (cb !== undefined) {
        errors.validateFunction(cb, 'callback');
        this.removeListener('timeout', cb);
      }
    } else {
      this._timer = setTimeout(() => this._onTimeout(), duration);
      this._timer.unref();
      if (cb !== undefined) {
        errors.validateFunction(cb, 'callback');
        this.once('timeout', cb);
      }
    }
    return this;
  }

  _onTimeout() {
    this._timer = null;
    if (this.destroyed) return;
    this.emit('timeout');
  }

  _touch() {
    if (this._timer) this._timer.refresh();
  }

  _clearTimer() {
    if (this._timer) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  setNoDelay(noDelay = true) {
    if (this._handle && !this.connecting) {
      try {
        this._handle.setNoDelay(Boolean(noDelay));
      } catch (err) {
        // Node ignores what the system says here too; no native error text reaches the caller
        debug('setNoDelay(%s) not applied: %s', noDelay, err.message);
      }
    } else if (!this.destroyed) this.once('connect', () => this.setNoDelay(noDelay));
    return this;
  }

  setKeepAlive(enable = false, initialDelay = 0) {
    // Node's ~~(ms / 1000) seconds; Node ignores what the system makes of it (a delay the
    // kernel refuses leaves keep-alive on with its default delay), and so does cio.
    let secs = ~~(initialDelay / 1000);
    if (secs < 0) secs = 0;
    if (this._handle && !this.connecting) {
      try {
        this._handle.setKeepAlive(Boolean(enable), secs);
      } catch (err) {
        debug('setKeepAlive(%s, %d) not applied: %s', enable, secs, err.message);
      }
    } else if (!this.destroyed) this.once('connect', () => this.setKeepAlive(enable, initialDelay));
    return this;
  }

  ref() {
    return setRef(this, true);
  }

  unref() {
    return setRef(this, false);
  }
}

module.exports = { OptionMethods };
