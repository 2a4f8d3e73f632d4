//! A socket on Node's loop (`LoopIo`): its descriptor watched by a libuv poll handle on the
//! JavaScript thread, reads and writes made right there as non-blocking system calls, TLS
//! records opened and sealed through `tls_state`, and events delivered through
//! `napi_make_callback` (so `process.nextTick` and promise jobs run after each delivery, as
//! after any Node I/O callback). Plain sockets come here once connected or accepted, TLS ones
//! once their handshake (on the runtime) is done.
//!
//! Everything here runs on the JavaScript thread. `LoopIo` lives in a `Box` whose pointer is
//! the poll handle's `data`; it is freed in the handle's close callback, so a JavaScript call
//! that closes the socket from inside a delivery never leaves the callback with a dangling
//! pointer.

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_void};
use std::io;
use std::ptr;

use napi::bindgen_prelude::ToNapiValue;
use napi::sys;

use crate::errors::ErrInfo;
use crate::deliver::Ev;
use crate::uvloop::out::Out;
use crate::uvloop::tls_state::LoopTls;
use crate::net::plain::PlainStream;
use crate::uvloop::libuv::{uv, PollBase, UV_CHECK, UV_IDLE, UV_READABLE, UV_WRITABLE};

mod tls;

/// Reads per readiness callback before yielding to the rest of the event loop (as libuv's own
/// stream reading does).
pub(crate) const READS_PER_WAKE: usize = 16;
const READ_CHUNK: usize = 64 * 1024;

/// Outcome of a write started on the JavaScript thread.
pub enum WriteResult {
  Done,
  Pending,
  Failed(ErrInfo),
}

pub struct LoopIo {
  base: PollBase,
  /// `None` once closed (the descriptor closes with it).
  stream: RefCell<Option<PlainStream>>,
  reading: Cell<bool>,
  /// Bytes of the current write still to send, and how far we got.
  pending: RefCell<Option<(Vec<u8>, usize)>>,
  polling: Cell<c_int>,
  closed: Cell<bool>,
  /// An established TLS connection (records opened and sealed here), or `None` for plain.
  tls: RefCell<Option<Box<LoopTls>>>,
  /// Records queued in `tls` wait for the socket to become writable.
  tls_pending: Cell<bool>,
  /// The last flight of the handshake is queued in `tls` (see `runtime::handshake`): it leaves with
  /// the first write, or on the next wake-up when nothing was written by then.
  tail: Cell<bool>,
  /// Sending the last flight failed (the peer reset): the write took the socket's error, so a
  /// later read sees a clean end instead. Reported as that read's error (Node reads it first).
  tail_err: Cell<Option<i32>>,
  /// A non-blocking connect is in progress: waiting for the socket to become writable.
  connecting: Cell<bool>,
  /// Look at rustls's buffers on the next wake-up even without new bytes (set on attach: the
  /// handshake may have read application data already). Served by one writability poll.
  kick: Cell<bool>,
  /// A libuv check handle (made on first use) that completes a half-close in the loop's next
  /// check phase, and an idle handle that keeps the loop from blocking in its poll phase
  /// meanwhile (Node's own pair for its native immediates); null until first needed.
  check: Cell<*mut c_void>,
  idle: Cell<*mut c_void>,
}

thread_local! {
  static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0u8; READ_CHUNK]);
}

impl LoopIo {
  /// Starts watching `stream` on the loop of `env`; `callback` receives event batches.
  /// On failure the stream is handed back so the caller can run it on tokio instead.
  ///
  /// # Safety
  /// JavaScript thread only; `callback` must be a function value of `env`.
  pub unsafe fn attach(
    env: sys::napi_env,
    stream: PlainStream,
    callback: sys::napi_value,
    reading: bool,
    tls: Option<LoopTls>,
    connecting: bool,
  ) -> Result<*mut LoopIo, PlainStream> {
    let Some(base) = PollBase::new(env, stream.fd(), callback, "cio.socket") else { return Err(stream) };
    let tail = tls.as_ref().is_some_and(|t| t.conn.wants_write());
    let io = Box::into_raw(Box::new(LoopIo {
      base,
      stream: RefCell::new(Some(stream)),
      reading: Cell::new(reading),
      pending: RefCell::new(None),
      polling: Cell::new(0),
      closed: Cell::new(false),
      kick: Cell::new(tls.is_some()),
      connecting: Cell::new(connecting),
      tls: RefCell::new(tls.map(Box::new)),
      tls_pending: Cell::new(false),
      check: Cell::new(ptr::null_mut()),
      idle: Cell::new(ptr::null_mut()),
      tail: Cell::new(tail),
      tail_err: Cell::new(None),
    }));
    (*io).base.set_owner(io);
    (*io).update_poll();
    Ok(io)
  }

  fn update_poll(&self) {
    let Some(uv) = uv() else { return };
    if self.closed.get() {
      return;
    }
    let mut want = 0;
    if self.reading.get() {
      want |= UV_READABLE;
    }
    if self.pending.borrow().is_some()
      || self.tls_pending.get()
      || self.tail.get()
      || self.connecting.get()
      || (self.kick.get() && self.reading.get())
    {
      want |= UV_WRITABLE;
    }
    if want == self.polling.get() {
      return;
    }
    // SAFETY: `handle` is an initialised, open poll handle (not closed: checked above).
    unsafe {
      if want == 0 {
        (uv.poll_stop)(self.base.handle);
      } else {
        (uv.poll_start)(self.base.handle, want, on_poll);
      }
    }
    self.polling.set(want);
  }

  pub fn set_reading(&self, on: bool) {
    self.reading.set(on);
    self.update_poll();
  }

  pub fn with_stream<T>(&self, f: impl FnOnce(&PlainStream) -> T) -> Option<T> {
    self.stream.borrow().as_ref().map(f)
  }

  /// Writes what the socket takes now; the rest is sent when it becomes writable, and then a
  /// `WRITE_DONE` event follows.
  pub fn write(&self, data: &[u8]) -> WriteResult {
    if self.tls.borrow().is_some() {
      return self.write_tls(data);
    }
    let stream = self.stream.borrow();
    let Some(s) = stream.as_ref() else {
      return WriteResult::Failed(ErrInfo::io(&io::Error::from_raw_os_error(libc::EPIPE), "write"));
    };
    let mut off = 0;
    while off < data.len() {
      match s.write(&data[off..]) {
        Ok(n) => off += n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
        Err(e) => return WriteResult::Failed(ErrInfo::io(&e, "write")),
      }
    }
    drop(stream);
    if off == data.len() {
      return WriteResult::Done;
    }
    *self.pending.borrow_mut() = Some((data[off..].to_vec(), 0));
    self.update_poll();
    WriteResult::Pending
  }

  /// Half-closes (for TLS: close_notify first). True when that completes later (a
  /// `SHUTDOWN_DONE` event follows).
  ///
  /// Even when the half-close is done at once, its completion is reported later, as Node's
  /// is (libuv completes a shutdown request in the loop's next check phase, before the
  /// JavaScript `setImmediate` callbacks): a socket ending right after the peer's end stays
  /// usable (`getPeerCertificate()`, `destroyed === false`) for the promise jobs and ticks
  /// that follow its `'end'`, exactly as long as Node's.
  pub fn shutdown(&self) -> bool {
    let later = if self.tls.borrow().is_some() {
      self.shutdown_tls()
    } else {
      let _ = self.with_stream(|s| s.shutdown_write());
      false
    };
    later || self.complete_shutdown_in_check_phase()
  }

  /// Arms the check handle that emits `SHUTDOWN_DONE` (and the idle handle that gets the
  /// loop there without waiting for I/O); false when it cannot (the caller then completes at
  /// once).
  fn complete_shutdown_in_check_phase(&self) -> bool {
    let Some(uv) = uv() else { return false };
    if self.closed.get() {
      return false;
    }
    if self.check.get().is_null() {
      // SAFETY: JavaScript thread; both handles are closed in `close` before `self` is freed.
      let (check, idle) = unsafe {
        (self.base.new_watcher(UV_CHECK, self as *const LoopIo), self.base.new_watcher(UV_IDLE, self as *const LoopIo))
      };
      self.check.set(check);
      self.idle.set(idle);
      if check.is_null() || idle.is_null() {
        self.close_watchers();
        return false;
      }
    }
    // SAFETY: open check and idle handles of ours.
    unsafe { (uv.check_start)(self.check.get(), on_check) == 0 && (uv.idle_start)(self.idle.get(), on_idle) == 0 }
  }

  fn close_watchers(&self) {
    for (cell, kind) in [(&self.check, UV_CHECK), (&self.idle, UV_IDLE)] {
      let handle = cell.replace(ptr::null_mut());
      if !handle.is_null() {
        // SAFETY: our open handle; once closed its callback never runs again.
        unsafe { crate::uvloop::libuv::close_watcher(handle, kind) };
      }
    }
  }

  pub fn set_ref(&self, on: bool) {
    if let (Some(uv), false) = (uv(), self.closed.get()) {
      // SAFETY: open poll handle.
      unsafe { if on { (uv.ref_)(self.base.handle) } else { (uv.unref)(self.base.handle) } }
    }
  }

  /// Stops watching and closes the descriptor now; the memory goes in the close callback.
  pub fn close(&self) {
    if self.closed.replace(true) {
      return;
    }
    // The handshake's last flight goes out even so (the peer's handshake completes), as it
    // did when the runtime sent it.
    self.send_tail();
    if let Some(uv) = uv() {
      // SAFETY: open poll handle; uv_close removes the descriptor from the loop's watch list
      // before we close it below.
      unsafe { (uv.close)(self.base.handle, Some(on_close)) };
    }
    self.close_watchers();
    self.stream.borrow_mut().take();
    self.pending.borrow_mut().take();
  }

  /// The connect started by `connect::start_connect_nonblocking` finished (the socket became
  /// writable, or libuv reported an error): `CONNECT` with the endpoints, or `ERROR` (syscall
  /// `connect`). A connected socket starts reading, as Node's does after connecting.
  fn finish_connect(&self, status: c_int, out: &mut Out) {
    self.connecting.set(false);
    let outcome = self.with_stream(|s| match s {
      PlainStream::Tcp(t) => t.take_error(),
      PlainStream::Unix(u) => u.take_error(),
    });
    let err = match outcome {
      Some(Ok(None)) if status >= 0 => None,
      Some(Ok(Some(e))) | Some(Err(e)) => Some(e),
      _ => Some(io::Error::from_raw_os_error(if status < 0 { -status } else { libc::EBADF })),
    };
    match err {
      None => {
        let addrs = self.with_stream(|s| s.addresses()).unwrap_or_default();
        self.reading.set(true);
        out.push_ev(Ev::Connect(addrs));
      }
      Some(e) if e.kind() == io::ErrorKind::ConnectionReset => {
        let addrs = self.with_stream(|s| s.addresses()).unwrap_or_default();
        for ev in Ev::reset_after_connect(addrs) {
          out.push_ev(ev);
        }
      }
      Some(e) => out.push_ev(Ev::Error(ErrInfo::io(&e, "connect"))),
    }
  }

  fn flush_pending(&self, out: &mut Out) {
    let stream = self.stream.borrow();
    let mut pending = self.pending.borrow_mut();
    let (Some(s), Some((buf, off))) = (stream.as_ref(), pending.as_mut()) else { return };
    while *off < buf.len() {
      match s.write(&buf[*off..]) {
        Ok(n) => *off += n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
        Err(e) => {
          *pending = None;
          out.push_ev(Ev::WriteDone(Some(ErrInfo::io(&e, "write"))));
          return;
        }
      }
    }
    *pending = None;
    out.push_ev(Ev::WriteDone(None));
  }

  /// Reads what the socket has (up to `READS_PER_WAKE` chunks), each chunk becoming one
  /// Buffer copied straight from the thread's scratch space: one allocation per read, of the
  /// read's own size (small enough to come from the allocator's heap, never a fresh mapping).
  fn read_some(&self, out: &mut Out) {
    if self.tls.borrow().is_some() {
      return self.read_tls(out);
    }
    let stream = self.stream.borrow();
    let Some(s) = stream.as_ref() else { return };
    SCRATCH.with(|scratch| {
      let mut buf = scratch.borrow_mut();
      for _ in 0..READS_PER_WAKE {
        match s.read(&mut buf) {
          Ok(0) => {
            out.push_ev(Ev::End);
            self.reading.set(false);
            return;
          }
          Ok(n) => {
            out.push_bytes(&buf[..n]);
            if n < buf.len() {
              return;
            }
          }
          Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
          Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
          Err(e) => {
            out.push_ev(Ev::Error(ErrInfo::io(&e, "read")));
            self.reading.set(false);
            return;
          }
        }
      }
    });
  }

  /// Calls the JavaScript callback with what `out` collected, as Node calls back after I/O:
  /// `(code, payload)` for a single event, `([code, payload, ...])` for several.
  /// Runs `fill` inside a handle scope of a libuv callback and delivers what it collected (if
  /// anything) before the scope closes.
  ///
  /// # Safety
  /// JavaScript thread, from a libuv callback of this socket.
  unsafe fn in_scope(&self, fill: impl FnOnce(&mut Out)) {
    let mut scope = ptr::null_mut();
    if sys::napi_open_handle_scope(self.base.env, &mut scope) != sys::Status::napi_ok {
      return;
    }
    let mut out = Out::new(self.base.env);
    fill(&mut out);
    if out.len() > 0 {
      self.deliver(&out);
    }
    sys::napi_close_handle_scope(self.base.env, scope);
  }

  unsafe fn deliver(&self, out: &Out) {
    let env = self.base.env;
    if out.len() == 1 {
      let (code, payload) = out.items[0];
      if let Ok(c) = u32::to_napi_value(env, code) {
        self.base.call(&[c, payload]);
      }
    } else if let Ok(arr) = out.to_array(env) {
      self.base.call(&[arr]);
    }
  }
}

unsafe extern "C" fn on_poll(handle: *mut c_void, status: c_int, events: c_int) {
  let io = &**handle.cast::<*mut LoopIo>();
  if io.closed.get() {
    return;
  }
  io.in_scope(|out| {
    if io.connecting.get() {
      if status < 0 {
        io.polling.set(0);
      }
      io.finish_connect(status, out);
    } else if status < 0 {
      // libuv reports POLLERR (e.g. a reset) as UV_EBADF and stops the handle; the real error
      // is pending on the socket, and a read or write returns it.
      io.polling.set(0);
      io.send_tail();
      if io.pending.borrow().is_some() {
        io.flush_pending(out);
      }
      if io.tls_pending.get() {
        io.flush_tls(out);
      }
      if io.reading.get() {
        io.read_some(out);
      }
      if out.len() == 0 {
        let pending = io.with_stream(|s| match s {
          PlainStream::Tcp(t) => t.take_error(),
          PlainStream::Unix(u) => u.take_error(),
        });
        let err = match pending {
          Some(Ok(Some(e))) => e,
          _ => io::Error::from_raw_os_error(-status),
        };
        out.push_ev(Ev::Error(ErrInfo::io(&err, "read")));
        io.reading.set(false);
        io.pending.borrow_mut().take();
        io.tls_pending.set(false);
      }
    } else {
      if events & UV_WRITABLE != 0 {
        io.send_tail();
        io.flush_pending(out);
        if io.tls_pending.get() {
          io.flush_tls(out);
        }
      }
      let kicked = io.kick.replace(false);
      if (events & UV_READABLE != 0 || kicked) && io.reading.get() {
        io.read_some(out);
      } else if kicked {
        io.kick.set(true); // not reading yet: look again once reading starts (update_poll)
      }
    }
    if let Some(errno) = io.tail_err.get() {
      // The peer's end after a failed last flight is the reset that failed it.
      if out.items.last().is_some_and(|(code, _)| *code == crate::deliver::code::END) {
        io.tail_err.set(None);
        out.items.pop();
        out.push_ev(Ev::Error(ErrInfo::io(&io::Error::from_raw_os_error(errno), "read")));
      }
    }
    if out.failed {
      // A Buffer could not be created (out of memory): what was read cannot reach JavaScript,
      // so the socket must not go on as if nothing was lost. Deliver what came before, in
      // order, then an error; reading stops.
      out.failed = false;
      io.reading.set(false);
      out.push_ev(Ev::Error(ErrInfo::io(&io::Error::from_raw_os_error(libc::ENOMEM), "read")));
    }
    io.update_poll();
  });
}

/// The check phase after a half-close: report its completion (once).
unsafe extern "C" fn on_check(handle: *mut c_void) {
  let io = &**handle.cast::<*const LoopIo>();
  if let Some(uv) = uv() {
    (uv.check_stop)(handle);
    if !io.idle.get().is_null() {
      (uv.idle_stop)(io.idle.get());
    }
  }
  if io.closed.get() {
    return;
  }
  io.in_scope(|out| out.push_ev(Ev::ShutdownDone(None)));
}

/// Nothing to do: an active idle handle only makes the loop poll without blocking.
unsafe extern "C" fn on_idle(_handle: *mut c_void) {}

unsafe extern "C" fn on_close(handle: *mut c_void) {
  let io = Box::from_raw(*handle.cast::<*mut LoopIo>());
  io.base.free();
}
