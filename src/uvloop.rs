//! Plain (unencrypted) sockets driven from Node's own event loop: no thread hop per event.
//!
//! A tokio worker wakes, reads and hands data over through a threadsafe function: every hop
//! costs a cross-CPU wake-up (tens of µs on this kind of VM) where Node answers on one thread.
//! For plain TCP and Unix sockets there is nothing to offload, so once connected (or accepted)
//! such a socket leaves tokio: its descriptor is watched by a libuv poll handle on the
//! JavaScript thread, reads and writes are non-blocking syscalls made right there, and events
//! reach JavaScript through `napi_make_callback` (so `process.nextTick` and promise jobs run
//! after each delivery, as after any Node I/O callback). TLS sockets stay on tokio, where the
//! cryptography runs off the JavaScript thread.
//!
//! Everything here runs on the JavaScript thread. The libuv functions are looked up at run
//! time (`dlsym`) from the Node binary; when they are missing the socket stays on tokio.
//! `LoopIo` lives in a `Box` whose pointer is the poll handle's `data`; it is freed in the
//! handle's close callback, so a JavaScript call that closes the socket from inside a
//! delivery never leaves the callback with a dangling pointer.

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_void};
use std::io;
use std::ptr;
use std::sync::OnceLock;

use napi::bindgen_prelude::ToNapiValue;
use napi::sys;

use crate::errors::ErrInfo;
use crate::events::Ev;
use crate::looptls::{Got, LoopTls};
pub use crate::plain::PlainStream;

pub(crate) const UV_READABLE: c_int = 1;
const UV_WRITABLE: c_int = 2;
const UV_POLL: c_int = 8;
/// Reads per readiness callback before yielding to the rest of the event loop (as libuv's own
/// stream reading does).
const READS_PER_WAKE: usize = 16;
const READ_CHUNK: usize = 64 * 1024;

pub(crate) type PollCb = unsafe extern "C" fn(*mut c_void, c_int, c_int);
pub(crate) type CloseCb = unsafe extern "C" fn(*mut c_void);

pub(crate) struct Uv {
  pub(crate) handle_size: unsafe extern "C" fn(c_int) -> usize,
  pub(crate) poll_init: unsafe extern "C" fn(*mut c_void, *mut c_void, c_int) -> c_int,
  pub(crate) poll_start: unsafe extern "C" fn(*mut c_void, c_int, PollCb) -> c_int,
  pub(crate) poll_stop: unsafe extern "C" fn(*mut c_void) -> c_int,
  pub(crate) close: unsafe extern "C" fn(*mut c_void, Option<CloseCb>),
  pub(crate) ref_: unsafe extern "C" fn(*mut c_void),
  pub(crate) unref: unsafe extern "C" fn(*mut c_void),
}

pub(crate) fn uv() -> Option<&'static Uv> {
  static UV: OnceLock<Option<Uv>> = OnceLock::new();
  UV.get_or_init(|| {
    if std::env::var("CIO_IO").as_deref() == Ok("tokio") {
      return None;
    }
    unsafe fn sym(name: &std::ffi::CStr) -> Option<*mut c_void> {
      let p = libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr());
      (!p.is_null()).then_some(p)
    }
    // SAFETY: the symbols are libuv's public functions with exactly these C signatures.
    unsafe {
      Some(Uv {
        handle_size: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(c_int) -> usize>(sym(c"uv_handle_size")?),
        poll_init: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void, *mut c_void, c_int) -> c_int>(sym(c"uv_poll_init")?),
        poll_start: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void, c_int, PollCb) -> c_int>(sym(c"uv_poll_start")?),
        poll_stop: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void) -> c_int>(sym(c"uv_poll_stop")?),
        close: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void, Option<CloseCb>)>(sym(c"uv_close")?),
        ref_: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void)>(sym(c"uv_ref")?),
        unref: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void)>(sym(c"uv_unref")?),
      })
    }
  })
  .as_ref()
}

/// Whether plain sockets can run on Node's loop here (`CIO_IO=tokio` forces tokio).
pub fn available() -> bool {
  uv().is_some()
}

/// Outcome of a write started on the JavaScript thread.
pub enum WriteResult {
  Done,
  Pending,
  Failed(ErrInfo),
}

/// A libuv poll handle on one descriptor and what calling back into JavaScript needs: the
/// callback (referenced) and an async context, so callbacks run as Node's own I/O callbacks
/// do (`napi_make_callback`: next-tick and promise jobs after each). Shared by sockets
/// (`LoopIo`) and servers (`loopaccept`).
pub(crate) struct PollBase {
  pub env: sys::napi_env,
  /// The uv_poll_t (libuv-sized raw memory); its `data` field points at the owner.
  pub handle: *mut c_void,
  handle_len: usize,
  callback: sys::napi_ref,
  async_ctx: sys::napi_async_context,
}

impl PollBase {
  /// A poll handle for `fd` on the loop of `env`, calling `callback` (label: the async
  /// resource's name). `None` when libuv is not at hand or the handle cannot be made.
  ///
  /// # Safety
  /// JavaScript thread of `env`; `callback` is a function value of `env`. The caller sets
  /// the handle's `data` (`set_owner`) before the loop can run a callback for it.
  pub unsafe fn new(env: sys::napi_env, fd: c_int, callback: sys::napi_value, label: &str) -> Option<PollBase> {
    let uv = uv()?;
    let mut lp: *mut sys::uv_loop_s = ptr::null_mut();
    if sys::napi_get_uv_event_loop(env, &mut lp) != sys::Status::napi_ok || lp.is_null() {
      return None;
    }
    let handle_len = (uv.handle_size)(UV_POLL).max(std::mem::size_of::<*mut c_void>());
    let handle = Box::into_raw(vec![0u8; handle_len].into_boxed_slice()).cast::<c_void>();
    if (uv.poll_init)(lp.cast(), handle, fd) != 0 {
      drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(handle.cast::<u8>(), handle_len)));
      return None;
    }
    let mut callback_ref = ptr::null_mut();
    sys::napi_create_reference(env, callback, 1, &mut callback_ref);
    let mut name = ptr::null_mut();
    sys::napi_create_string_utf8(env, label.as_ptr().cast(), label.len() as isize, &mut name);
    let mut resource = ptr::null_mut();
    sys::napi_create_object(env, &mut resource);
    let mut async_ctx = ptr::null_mut();
    sys::napi_async_init(env, resource, name, &mut async_ctx);
    Some(PollBase { env, handle, handle_len, callback: callback_ref, async_ctx })
  }

  /// Points the handle's `data` (libuv's first field) at its owner.
  ///
  /// # Safety
  /// `owner` outlives the handle (freed only from the close callback).
  pub unsafe fn set_owner<T>(&self, owner: *mut T) {
    *self.handle.cast::<*mut T>() = owner;
  }

  /// Calls the callback with `args`; an exception it throws is uncaught, as from any Node
  /// I/O callback.
  ///
  /// # Safety
  /// JavaScript thread, inside an open handle scope.
  pub unsafe fn call(&self, args: &[sys::napi_value]) {
    let env = self.env;
    let (mut func, mut recv, mut result) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
    sys::napi_get_reference_value(env, self.callback, &mut func);
    // napi_make_callback needs an object receiver; the callback ignores `this`.
    sys::napi_get_global(env, &mut recv);
    let status = sys::napi_make_callback(env, self.async_ctx, recv, func, args.len(), args.as_ptr(), &mut result);
    if status == sys::Status::napi_pending_exception {
      let mut exc = ptr::null_mut();
      sys::napi_get_and_clear_last_exception(env, &mut exc);
      sys::napi_fatal_exception(env, exc);
    }
  }

  /// Frees everything; from the handle's close callback only.
  ///
  /// # Safety
  /// JavaScript thread; libuv is done with the handle.
  pub unsafe fn free(&self) {
    sys::napi_delete_reference(self.env, self.callback);
    sys::napi_async_destroy(self.env, self.async_ctx);
    drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(self.handle.cast::<u8>(), self.handle_len)));
  }
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
  /// A non-blocking connect is in progress: waiting for the socket to become writable.
  connecting: Cell<bool>,
  /// Look at rustls's buffers on the next wake-up even without new bytes (set on attach: the
  /// handshake may have read application data already). Served by one writability poll.
  kick: Cell<bool>,
}

thread_local! {
  static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0u8; READ_CHUNK]);
  /// Plaintext opened by rustls on its way into Buffers (TLS sockets).
  static PLAIN: RefCell<Vec<u8>> = RefCell::new(vec![0u8; READ_CHUNK]);
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
    if self.pending.borrow().is_some() || self.tls_pending.get() || self.connecting.get() || (self.kick.get() && self.reading.get()) {
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

  fn write_tls(&self, data: &[u8]) -> WriteResult {
    let stream = self.stream.borrow();
    let mut tls = self.tls.borrow_mut();
    let (Some(s), Some(t)) = (stream.as_ref(), tls.as_mut()) else {
      return WriteResult::Failed(ErrInfo::io(&io::Error::from_raw_os_error(libc::EPIPE), "write"));
    };
    if let Err(e) = t.write(data) {
      return WriteResult::Failed(ErrInfo::io(&e, "write"));
    }
    match t.flush(s) {
      Ok(true) => WriteResult::Done,
      Ok(false) => {
        drop((stream, tls));
        self.tls_pending.set(true);
        self.update_poll();
        WriteResult::Pending
      }
      Err(e) => WriteResult::Failed(ErrInfo::io(&e, "write")),
    }
  }

  /// Half-closes: for TLS, close_notify first. True when that completes later (a
  /// `SHUTDOWN_DONE` event follows).
  pub fn shutdown(&self) -> bool {
    let stream = self.stream.borrow();
    let Some(s) = stream.as_ref() else { return false };
    let mut tls = self.tls.borrow_mut();
    let Some(t) = tls.as_mut() else {
      let _ = s.shutdown_write();
      return false;
    };
    t.shutdown();
    if self.tls_pending.get() {
      return true; // the pending flush ends with the half-close
    }
    match t.flush(s) {
      Ok(false) => {
        drop((stream, tls));
        self.tls_pending.set(true);
        self.update_poll();
        true
      }
      _ => false,
    }
  }

  /// Sends queued TLS records once the socket takes them; `WRITE_DONE` when all went out.
  fn flush_tls(&self, out: &mut Out) {
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

  fn read_tls(&self, out: &mut Out) {
    let stream = self.stream.borrow();
    let mut tls = self.tls.borrow_mut();
    let (Some(s), Some(t)) = (stream.as_ref(), tls.as_mut()) else { return };
    let mut ended = false;
    // Stop early rather than overflow `out`; what is left waits in rustls or the kernel.
    let reads = ((OUT_CAP - out.len).saturating_sub(3) / 5).max(1);
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
            out.push_ev(Ev::Error(ErrInfo::io(&e, "read")));
          }
        };
        t.read_some(s, &mut scratch, &mut plain, reads, &mut sink);
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
    if let Some(uv) = uv() {
      // SAFETY: open poll handle; uv_close removes the descriptor from the loop's watch list
      // before we close it below.
      unsafe { (uv.close)(self.base.handle, Some(on_close)) };
    }
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
      // Reset, not refused: the peer accepted and aborted before this callback ran, so the
      // connection was made and the reset is a read error, as libuv reports it when the
      // callbacks run in the other order.
      Some(e) if e.kind() == io::ErrorKind::ConnectionReset => {
        let addrs = self.with_stream(|s| s.addresses()).unwrap_or_default();
        out.push_ev(Ev::Connect(addrs));
        out.push_ev(Ev::Error(ErrInfo::io(&e, "read")));
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
  unsafe fn deliver(&self, out: &Out) {
    let env = self.base.env;
    if out.len == 1 {
      let (code, payload) = out.items[0];
      if let Ok(c) = u32::to_napi_value(env, code) {
        self.base.call(&[c, payload]);
      }
    } else if let Ok(arr) = out.to_array(env) {
      self.base.call(&[arr]);
    }
  }
}

/// Events of one readiness callback, already JavaScript values (created inside the callback's
/// handle scope). A fixed array: a wake-up allocates nothing but the Buffers it hands over.
struct Out {
  env: sys::napi_env,
  items: [(u32, sys::napi_value); OUT_CAP],
  len: usize,
  /// A value could not be created (out of memory): deliver nothing rather than half.
  failed: bool,
}

/// Room for a write completion, the chunks of `READS_PER_WAKE` reads (up to five each for
/// TLS: rustls opens records of at most 16 KiB), an end or error, and a spare.
const OUT_CAP: usize = 5 * READS_PER_WAKE + 3;

impl Out {
  fn new(env: sys::napi_env) -> Self {
    Out { env, items: [(0, ptr::null_mut()); OUT_CAP], len: 0, failed: false }
  }

  fn push(&mut self, code: u32, value: napi::Result<sys::napi_value>) {
    match value {
      Ok(v) if self.len < OUT_CAP => {
        self.items[self.len] = (code, v);
        self.len += 1;
      }
      _ => self.failed = true,
    }
  }

  fn push_bytes(&mut self, bytes: &[u8]) {
    let mut value = ptr::null_mut();
    let mut data = ptr::null_mut();
    // SAFETY: JavaScript thread, inside an open handle scope.
    let status = unsafe {
      sys::napi_create_buffer_copy(self.env, bytes.len(), bytes.as_ptr().cast(), &mut data, &mut value)
    };
    let v = if status == sys::Status::napi_ok { Ok(value) } else { Err(napi::Error::from_reason("cannot create a Buffer")) };
    self.push(crate::events::code::DATA, v);
  }

  fn push_ev(&mut self, ev: Ev) {
    // SAFETY: as above.
    let (code, v) = unsafe { ev.into_js(self.env) };
    self.push(code, v);
  }

  fn to_array(&self, env: sys::napi_env) -> napi::Result<sys::napi_value> {
    let mut arr = ptr::null_mut();
    // SAFETY: JavaScript thread, inside an open handle scope.
    unsafe {
      napi::check_status!(sys::napi_create_array_with_length(env, self.len * 2, &mut arr))?;
      for (i, (code, v)) in self.items[..self.len].iter().enumerate() {
        napi::check_status!(sys::napi_set_element(env, arr, (2 * i) as u32, u32::to_napi_value(env, *code)?))?;
        napi::check_status!(sys::napi_set_element(env, arr, (2 * i + 1) as u32, *v))?;
      }
    }
    Ok(arr)
  }
}


unsafe extern "C" fn on_poll(handle: *mut c_void, status: c_int, events: c_int) {
  let io = &**handle.cast::<*mut LoopIo>();
  if io.closed.get() {
    return;
  }
  let mut scope = ptr::null_mut();
  if sys::napi_open_handle_scope(io.base.env, &mut scope) != sys::Status::napi_ok {
    return;
  }
  let mut out = Out::new(io.base.env);
  if io.connecting.get() {
    if status < 0 {
      io.polling.set(0);
    }
    io.finish_connect(status, &mut out);
  } else if status < 0 {
    // libuv reports POLLERR (e.g. a reset) as UV_EBADF and stops the handle; the real error
    // is pending on the socket, and a read or write returns it.
    io.polling.set(0);
    if io.pending.borrow().is_some() {
      io.flush_pending(&mut out);
    }
    if io.tls_pending.get() {
      io.flush_tls(&mut out);
    }
    if io.reading.get() {
      io.read_some(&mut out);
    }
    if out.len == 0 {
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
      io.flush_pending(&mut out);
      if io.tls_pending.get() {
        io.flush_tls(&mut out);
      }
    }
    let kicked = io.kick.replace(false);
    if (events & UV_READABLE != 0 || kicked) && io.reading.get() {
      io.read_some(&mut out);
    } else if kicked {
      io.kick.set(true); // not reading yet: look again once reading starts (update_poll)
    }
  }
  io.update_poll();
  if out.len > 0 && !out.failed {
    io.deliver(&out);
  }
  sys::napi_close_handle_scope(io.base.env, scope);
}

unsafe extern "C" fn on_close(handle: *mut c_void) {
  let io = Box::from_raw(*handle.cast::<*mut LoopIo>());
  io.base.free();
}
