//! Plain TCP servers accepting on Node's own loop (see `uvloop`).
//!
//! Accepting on a runtime thread cost a worker's CPU, a registration with the runtime's
//! reactor (undone again when the socket moved to Node's loop) and a cross-thread wake-up per
//! burst. A plain TCP server needs none of that: its listening descriptor is watched by a
//! libuv poll handle, `accept4` runs on the JavaScript thread, and each new connection goes
//! straight to JavaScript as a socket for Node's loop, as libuv's own servers do. TLS servers
//! keep accepting on the runtime, where their handshakes run.

use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::io;
use std::os::fd::FromRawFd;
use std::ptr;

use napi::bindgen_prelude::ToNapiValue;
use napi::sys;

use crate::errors::ErrInfo;
use crate::deliver::{code, Ev, IntoJs};
use crate::net::plain::PlainStream;
use crate::uvloop::libuv::{uv, PollBase, UV_READABLE};

/// Connections accepted per readiness callback before the loop gets a turn (libuv's own
/// servers accept until the queue is empty; a bound keeps one busy server from starving
/// everything else).
const ACCEPTS_PER_WAKE: usize = 128;

pub struct LoopListener {
  base: PollBase,
  /// The listening socket (closed by `close`).
  listener: Cell<Option<std::net::TcpListener>>,
  /// Makes the socket handle JavaScript gets for an accepted connection (given by the handle
  /// layer, which this layer does not import).
  socket: fn(PlainStream) -> Box<dyn IntoJs>,
}

impl LoopListener {
  /// Starts accepting on `listener`, delivering `[CONNECTION, socket, ...]` batches (and
  /// `ERROR`, then `CLOSED` after `close`) to `callback`, each connection made a handle by
  /// `socket`. On failure the listener comes back.
  ///
  /// # Safety
  /// JavaScript thread of `env`; `callback` is a function value of `env`.
  pub unsafe fn start(
    env: sys::napi_env,
    listener: std::net::TcpListener,
    callback: sys::napi_value,
    socket: fn(PlainStream) -> Box<dyn IntoJs>,
  ) -> Result<*mut LoopListener, std::net::TcpListener> {
    use std::os::fd::AsRawFd;
    let Some(uv) = uv() else { return Err(listener) };
    let Some(base) = PollBase::new(env, listener.as_raw_fd(), callback, "cio.server") else { return Err(listener) };
    let me = Box::into_raw(Box::new(LoopListener { base, listener: Cell::new(Some(listener)), socket }));
    (*me).base.set_owner(me);
    (uv.poll_start)((*me).base.handle, UV_READABLE, on_readable);
    Ok(me)
  }

  pub fn set_ref(&self, on: bool) {
    if let Some(uv) = uv() {
      // SAFETY: open poll handle (`close` drops the pointer to this listener).
      unsafe { if on { (uv.ref_)(self.base.handle) } else { (uv.unref)(self.base.handle) } }
    }
  }

  /// Stops accepting and closes the listening socket now (connections made from here on are
  /// refused, as with Node); `CLOSED` follows from libuv's close callback.
  pub fn close(&self) {
    let Some(listener) = self.listener.take() else { return };
    if let Some(uv) = uv() {
      // SAFETY: open poll handle; uv_close stops watching before the descriptor closes below.
      unsafe { (uv.close)(self.base.handle, Some(on_close)) };
    }
    drop(listener);
  }

  /// Accepts what is queued; each connection becomes a socket for Node's loop.
  unsafe fn accept_some(&self, out: &mut Vec<(u32, sys::napi_value)>) {
    use std::os::fd::AsRawFd;
    let Some(listener) = self.listener.take() else { return };
    let fd = listener.as_raw_fd();
    self.listener.set(Some(listener));
    for _ in 0..ACCEPTS_PER_WAKE {
      let s = libc::accept4(fd, ptr::null_mut(), ptr::null_mut(), libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC);
      if s < 0 {
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
          Some(libc::EAGAIN) => return,
          Some(libc::EINTR) | Some(libc::ECONNABORTED) => continue,
          Some(libc::EMFILE) | Some(libc::ENFILE) => {
            // Out of descriptors: refuse the waiting connection (libuv's reserve-descriptor
            // trick) rather than spin on a listener that stays readable.
            refuse_one(fd);
            self.push(out, Ev::Error(ErrInfo::io(&e, "accept")));
            return;
          }
          _ => {
            self.push(out, Ev::Error(ErrInfo::io(&e, "accept")));
            return;
          }
        }
      }
      let stream = PlainStream::Tcp(std::net::TcpStream::from_raw_fd(s));
      self.push(out, Ev::Connection((self.socket)(stream)));
    }
  }

  unsafe fn push(&self, out: &mut Vec<(u32, sys::napi_value)>, ev: Ev) {
    if let (c, Ok(v)) = ev.into_js(self.base.env) {
      out.push((c, v));
    }
  }

  unsafe fn deliver(&self, out: &[(u32, sys::napi_value)]) {
    let env = self.base.env;
    let mut arr = ptr::null_mut();
    if sys::napi_create_array_with_length(env, out.len() * 2, &mut arr) != sys::Status::napi_ok {
      return;
    }
    for (i, (c, v)) in out.iter().enumerate() {
      if let Ok(code) = u32::to_napi_value(env, *c) {
        sys::napi_set_element(env, arr, (2 * i) as u32, code);
        sys::napi_set_element(env, arr, (2 * i + 1) as u32, *v);
      }
    }
    self.base.call(&[arr]);
  }
}

/// Accepts one connection on a spare descriptor and closes it at once.
fn refuse_one(listen_fd: c_int) {
  thread_local! {
    static SPARE: Cell<c_int> = const { Cell::new(-1) };
  }
  SPARE.with(|spare| {
    // SAFETY: plain descriptor juggling; every descriptor opened here is closed here.
    unsafe {
      if spare.get() >= 0 {
        libc::close(spare.get());
        spare.set(-1);
      }
      let s = libc::accept4(listen_fd, ptr::null_mut(), ptr::null_mut(), libc::SOCK_CLOEXEC);
      if s >= 0 {
        libc::close(s);
      }
      spare.set(libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC));
    }
  });
}

/// Opens the spare descriptor `refuse_one` needs (once per thread), while descriptors are
/// still to be had.
pub fn reserve_spare() {
  thread_local! {
    static DONE: Cell<bool> = const { Cell::new(false) };
  }
  if !DONE.with(|d| d.replace(true)) {
    refuse_one(-1);
  }
}

unsafe extern "C" fn on_readable(handle: *mut c_void, status: c_int, _events: c_int) {
  let me = &**handle.cast::<*mut LoopListener>();
  let mut scope = ptr::null_mut();
  if sys::napi_open_handle_scope(me.base.env, &mut scope) != sys::Status::napi_ok {
    return;
  }
  let mut out = Vec::new();
  if status < 0 {
    me.push(&mut out, Ev::Error(ErrInfo::io(&io::Error::from_raw_os_error(-status), "accept")));
  } else {
    me.accept_some(&mut out);
  }
  if !out.is_empty() {
    me.deliver(&out);
  }
  sys::napi_close_handle_scope(me.base.env, scope);
}

unsafe extern "C" fn on_close(handle: *mut c_void) {
  let me = Box::from_raw(*handle.cast::<*mut LoopListener>());
  let mut scope = ptr::null_mut();
  if sys::napi_open_handle_scope(me.base.env, &mut scope) == sys::Status::napi_ok {
    let mut out = Vec::new();
    if let Ok(v) = napi::bindgen_prelude::Null::to_napi_value(me.base.env, napi::bindgen_prelude::Null) {
      out.push((code::CLOSED, v));
    }
    me.deliver(&out);
    sys::napi_close_handle_scope(me.base.env, scope);
  }
  me.base.free();
}
