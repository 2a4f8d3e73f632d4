//! Reading and writing: on Node's loop when the socket runs there, else through the
//! runtime's reader and writer tasks (a direct write first when nothing is queued, like
//! libuv's `uv_try_write`).

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::ErrInfo;
use crate::runtime::io_tasks::WriteCmd;
use crate::sync::lock;
use crate::uvloop::io::WriteResult;

use super::NativeSocket;

#[napi]
impl NativeSocket {
  #[napi(catch_unwind)]
  pub fn read_start(&self) {
    if self.core.with_loop(|io| io.set_reading(true)).is_some() {
      return;
    }
    self.core.emitter.set_paused(false);
  }

  #[napi(catch_unwind)]
  pub fn read_stop(&self) {
    if self.core.with_loop(|io| io.set_reading(false)).is_some() {
      return;
    }
    self.core.emitter.set_paused(true);
  }

  /// Writes `data`. Returns 0 when it was written at once (the caller completes the write
  /// now), 1 when the rest goes out later (a `WRITE_DONE` event follows), or the error when
  /// the direct write failed: like libuv's synchronous write errors, JavaScript destroys the
  /// socket inside `write()` (so `write()` returns false, as Node's does after EPIPE).
  #[napi(catch_unwind)]
  pub fn write(&self, data: &[u8]) -> Result<Either<u32, ErrInfo>> {
    if let Some(r) = self.core.with_loop(|io| io.write(data)) {
      return Ok(match r {
        WriteResult::Done => Either::A(0),
        WriteResult::Pending => Either::A(1),
        WriteResult::Failed(e) => Either::B(e),
      });
    }
    self.write_via_runtime(data)
  }
}

impl NativeSocket {
  fn write_via_runtime(&self, data: &[u8]) -> Result<Either<u32, ErrInfo>> {
    let mut offset = 0;
    // A direct write only while the writer task holds nothing: the rest of an earlier write
    // that blocked must go first (bytes leave in the order they were written).
    if !*lock(&self.core.via_task) && self.core.gate.is_idle() {
      if let Some(conn) = self.core.conn() {
        while offset < data.len() {
          match conn.try_write(&data[offset..]) {
            Ok(n) => offset += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => return Ok(Either::B(ErrInfo::io(&e, "write"))),
          }
        }
        if offset == data.len() {
          return Ok(Either::A(0));
        }
      }
    }
    let rest = &data[offset..];
    // Count the bytes before the writer can see (and release) them.
    let done_now = self.core.gate.admit(rest.len());
    let sent = lock(&self.core.writer)
      .as_ref()
      .map(|tx| tx.send(WriteCmd::Data(rest.to_vec())).is_ok())
      .unwrap_or(false);
    if !sent {
      self.core.gate.release(rest.len());
      // A handle closed by `close()` has no descriptor any more: EBADF, as libuv says for a
      // write on a closed handle; otherwise the connection is gone (EPIPE).
      let errno = if self.core.emitter.is_closed() { libc::EBADF } else { libc::EPIPE };
      return Ok(Either::B(ErrInfo::io(&std::io::Error::from_raw_os_error(errno), "write")));
    }
    Ok(Either::A(if done_now { 0 } else { 1 }))
  }

}
