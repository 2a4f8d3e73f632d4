//! The handle's half-close, destroy, ref state, socket options and endpoints, for sockets on
//! Node's loop and on the runtime alike.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::deliver::Ev;
use crate::net::AddrPair;
use crate::runtime::io_tasks::WriteCmd;
use crate::sync::lock;

use super::NativeSocket;

#[napi]
impl NativeSocket {
  /// Half-closes after queued writes. Returns 0 when done at once, 1 when a `SHUTDOWN_DONE`
  /// event follows.
  #[napi(catch_unwind)]
  pub fn shutdown(&self) -> u32 {
    if let Some(later) = self.core.with_loop(|io| io.shutdown()) {
      return later as u32;
    }
    let sent = lock(&self.core.writer).as_ref().map(|tx| tx.send(WriteCmd::Shutdown).is_ok()).unwrap_or(false);
    if !sent {
      self.core.emitter.emit(Ev::ShutdownDone(None));
    }
    1
  }

  /// Destroys the socket: no more events, every task aborted, the descriptor released.
  #[napi(catch_unwind)]
  pub fn close(&self) {
    self.core.close();
  }

  #[napi(js_name = "ref", catch_unwind)]
  pub fn ref_(&self, env: &Env) -> Result<()> {
    if self.core.with_loop(|io| io.set_ref(true)).is_some() {
      return Ok(());
    }
    self.core.emitter.set_ref(env, true)
  }

  #[napi(catch_unwind)]
  pub fn unref(&self, env: &Env) -> Result<()> {
    if self.core.with_loop(|io| io.set_ref(false)).is_some() {
      return Ok(());
    }
    self.core.emitter.set_ref(env, false)
  }

  #[napi(catch_unwind)]
  pub fn set_no_delay(&self, on: bool) -> Result<()> {
    let wanted = if on { crate::runtime::io_tasks::NODELAY_ON } else { crate::runtime::io_tasks::NODELAY_OFF };
    self.core.nodelay.store(wanted, std::sync::atomic::Ordering::SeqCst);
    if let Some(r) = self.core.with_loop(|io| io.with_stream(|s| s.set_nodelay(on))).flatten() {
      return r.map_err(|e| Error::from_reason(e.to_string()));
    }
    if let Some(c) = self.core.conn() {
      c.set_nodelay(on).map_err(|e| Error::from_reason(e.to_string()))?;
    }
    Ok(())
  }

  #[napi(catch_unwind)]
  pub fn set_keep_alive(&self, on: bool, delay_secs: u32) -> Result<()> {
    if let Some(r) = self.core.with_loop(|io| io.with_stream(|s| s.set_keepalive(on, delay_secs))).flatten() {
      return r.map_err(|e| Error::from_reason(e.to_string()));
    }
    if let Some(c) = self.core.conn() {
      c.set_keepalive(on, delay_secs).map_err(|e| Error::from_reason(e.to_string()))?;
    }
    Ok(())
  }

  /// Arms an abortive close for `resetAndDestroy()`: SO_LINGER with a zero timeout, so the
  /// `close` that follows sends RST instead of FIN (libuv's `uv_tcp_close_reset`). Returns the
  /// error when the system refused, `None` when done; JavaScript only calls it on a connected
  /// TCP socket (Node refuses the others with ERR_SOCKET_CLOSED), and anything else is EBADF.
  #[napi(catch_unwind)]
  pub fn set_linger_zero(&self) -> Option<crate::errors::ErrInfo> {
    let zero = Some(std::time::Duration::ZERO);
    let r = if let Some(r) = self.core.with_loop(|io| {
      io.with_stream(|s| match s {
        crate::net::plain::PlainStream::Tcp(t) => Some(socket2::SockRef::from(t).set_linger(zero)),
        crate::net::plain::PlainStream::Unix(_) => None,
      })
    }) {
      r.flatten()
    } else {
      self.core.conn().and_then(|c| c.set_linger(zero))
    };
    match r {
      Some(Ok(())) => None,
      Some(Err(e)) => Some(crate::errors::ErrInfo::io(&e, "reset")),
      None => Some(crate::errors::ErrInfo::io(&std::io::Error::from_raw_os_error(libc::EBADF), "reset")),
    }
  }

  /// Endpoints of an open socket (empty when closed or connecting).
  #[napi(catch_unwind)]
  pub fn addresses(&self) -> AddrPair {
    if let Some(a) = self.core.with_loop(|io| io.with_stream(|s| s.addresses())).flatten() {
      return a;
    }
    if let Some(c) = lock(&self.core.pending_plain).as_ref() {
      return c.addresses();
    }
    if let Some(s) = lock(&self.core.pending_std).as_ref() {
      return s.addresses();
    }
    // An accepted TLS connection whose handshake is done, not yet attached to Node's loop:
    // JavaScript reads the endpoints before it attaches the socket.
    if let Some(pending) = lock(&self.core.pending_tls).as_ref() {
      return pending.0.addresses();
    }
    self.core.conn().map(|c| c.addresses()).unwrap_or_default()
  }
}
