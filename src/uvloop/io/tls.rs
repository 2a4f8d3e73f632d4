//! The TLS half of a socket on Node's loop: records sealed on write, flushed when the socket
//! takes them, opened as they are read (`uvloop::tls_state` holds the rustls state).

use std::cell::RefCell;

use crate::errors::ErrInfo;
use crate::deliver::Ev;
use crate::uvloop::out::Out;
use crate::uvloop::tls_state::Got;

use super::{LoopIo, WriteResult, READS_PER_WAKE, READ_CHUNK, SCRATCH};

thread_local! {
  /// Plaintext opened by rustls on its way into Buffers.
  static PLAIN: RefCell<Vec<u8>> = RefCell::new(vec![0u8; READ_CHUNK]);
}

impl LoopIo {
  pub(super) fn write_tls(&self, data: &[u8]) -> WriteResult {
    let stream = self.stream.borrow();
    let mut tls = self.tls.borrow_mut();
    let (Some(s), Some(t)) = (stream.as_ref(), tls.as_mut()) else {
      return WriteResult::Failed(ErrInfo::io(&std::io::Error::from_raw_os_error(libc::EPIPE), "write"));
    };
    if let Err(e) = t.write(data) {
      return WriteResult::Failed(ErrInfo::io(&e, "write"));
    }
    match t.flush(s) {
      Ok(true) => WriteResult::Done,
      Ok(false) => {
        drop((stream, tls));
        self.wait_writable();
        WriteResult::Pending
      }
      Err(e) => WriteResult::Failed(ErrInfo::io(&e, "write")),
    }
  }

  /// Queues close_notify; the socket half-closes once it is sent. True when that happens
  /// later (a `SHUTDOWN_DONE` event follows).
  pub(super) fn shutdown_tls(&self) -> bool {
    let stream = self.stream.borrow();
    let mut tls = self.tls.borrow_mut();
    let (Some(s), Some(t)) = (stream.as_ref(), tls.as_mut()) else { return false };
    t.shutdown();
    if self.tls_pending.get() {
      return true; // the pending flush ends with the half-close
    }
    match t.flush(s) {
      Ok(false) => {
        drop((stream, tls));
        self.wait_writable();
        true
      }
      _ => false,
    }
  }

  /// Sends the handshake's last flight if nothing sent it yet (a write sends it with its own
  /// records; a write still pending sends it first).
  pub(super) fn send_tail(&self) {
    if !self.tail.get() {
      return;
    }
    if self.tls_pending.get() {
      self.tail.set(false);
      return;
    }
    let stream = self.stream.borrow();
    let mut tls = self.tls.borrow_mut();
    let (Some(s), Some(t)) = (stream.as_ref(), tls.as_mut()) else {
      self.tail.set(false);
      return;
    };
    // Not all taken (a full socket): again when writable. A failed write took the socket's
    // error (a reset): the next read reports it (see `tail_err`).
    match t.flush(s) {
      Ok(false) => {}
      Ok(true) => self.tail.set(false),
      Err(e) => {
        self.tail.set(false);
        // EPIPE here also means the peer reset (its error was already taken): as a read,
        // Node reports ECONNRESET.
        let errno = e.raw_os_error().filter(|n| *n != libc::EPIPE).unwrap_or(libc::ECONNRESET);
        self.tail_err.set(Some(errno));
      }
    }
  }

  /// Records are queued: send the rest once the socket is writable.
  fn wait_writable(&self) {
    self.tls_pending.set(true);
    self.update_poll();
  }

  /// Sends queued TLS records once the socket takes them; `WRITE_DONE` when all went out.
  pub(super) fn flush_tls(&self, out: &mut Out) {
    let stream = self.stream.borrow();
    let mut tls = self.tls.borrow_mut();
    let (Some(s), Some(t)) = (stream.as_ref(), tls.as_mut()) else { return };
    let was_shutting = t.shutdown_after_flush;
    match t.flush(s) {
      Ok(false) => {}
      Ok(true) => {
        self.tls_pending.set(false);
        out.push_ev(Ev::WriteDone(None));
        if was_shutting {
          out.push_ev(Ev::ShutdownDone(None));
        }
      }
      Err(e) => {
        self.tls_pending.set(false);
        out.push_ev(Ev::WriteDone(Some(ErrInfo::io(&e, "write"))));
      }
    }
  }

  pub(super) fn read_tls(&self, out: &mut Out) {
    let stream = self.stream.borrow();
    let mut tls = self.tls.borrow_mut();
    let (Some(s), Some(t)) = (stream.as_ref(), tls.as_mut()) else { return };
    let mut ended = false;
    let gcm12 = t.tls12_aes_gcm();
    SCRATCH.with(|scratch| {
      PLAIN.with(|plain| {
        let (mut scratch, mut plain) = (scratch.borrow_mut(), plain.borrow_mut());
        let mut sink = |got: Got<'_>| match got {
          Got::Plain(bytes) => out.push_bytes(bytes),
          Got::End => {
            ended = true;
            out.push_ev(Ev::End);
          }
          Got::Error(e) => {
            ended = true;
            out.push_ev(Ev::Error(ErrInfo::tls_record(&e, "read", gcm12)));
          }
        };
        t.read_some(s, &mut scratch, &mut plain, READS_PER_WAKE, &mut sink);
      })
    });
    if ended {
      self.reading.set(false);
    }
    // An alert rustls queued (e.g. after a bad record) goes out if it can.
    if t.conn.wants_write() && !self.tls_pending.get() {
      let _ = t.flush(s);
    }
  }
}
