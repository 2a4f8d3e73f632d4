//! How events reach JavaScript: `Ev` (one event), `Emitter` (one handle's queue, delivered
//! from tokio threads through the environment's `hub`), `Batch` (a drained queue as the
//! `[code, payload, ...]` array JavaScript gets). Sockets on Node's loop build their batches
//! on the JavaScript thread from the same `Ev`s (`uvloop::out`). Nothing here knows the
//! handles or either I/O path: a new connection's handle arrives as a `Box<dyn IntoJs>`.
//!
//! Event delivery from tokio threads to the JavaScript thread, one `Emitter` per handle.
//!
//! Tokio tasks `emit` events into their handle's queue. All handles of a JavaScript
//! environment share one threadsafe function (the `Hub`): at most one hub call is in flight,
//! and it drains every handle with queued events, so a burst of events on many sockets costs
//! one cross-thread wake-up and consecutive data chunks arrive as one Buffer. Reading is
//! bounded: the reader waits (`wait_readable`) while the bytes queued for JavaScript exceed
//! `READ_HIGH_WATER` or JavaScript has stopped reading (`readStop`, when `push()` returned
//! false).
//!
//! A started, open, referenced handle keeps Node's event loop alive (as an open `net` handle
//! does): the hub's threadsafe function is referenced while at least one such handle exists.

pub mod hub;

use std::collections::VecDeque;
use std::ptr;
use std::sync::Mutex;

use crate::sync::lock;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::UnknownReturnValue;
use std::sync::Arc;
use tokio::sync::Notify;

use crate::errors::ErrInfo;
use crate::net::{AddrPair, SecureInfo};
use crate::deliver::hub::{CallbackRef, Deliver, Hub};

/// Bytes read from the network but not yet handed to JavaScript before the reader pauses.
pub const READ_HIGH_WATER: usize = 256 * 1024;

/// Event codes shared with `lib/net.js` (keep the two lists in step).
pub mod code {
  pub const CONNECT: u32 = 1;
  pub const DATA: u32 = 2;
  pub const END: u32 = 3;
  pub const ERROR: u32 = 4;
  pub const WRITE_DONE: u32 = 5;
  pub const SHUTDOWN_DONE: u32 = 6;
  pub const SECURE: u32 = 7;
  pub const CONNECTION: u32 = 10;
  pub const TLS_CLIENT_ERROR: u32 = 11;
  pub const CLOSED: u32 = 12;
  pub const TLS_ACCEPT: u32 = 13;
}

/// A value that becomes a JavaScript value when it is delivered: a new connection's socket
/// handle. The handle layer implements it, so delivery does not depend on the handles.
pub trait IntoJs: Send {
  /// # Safety
  /// JavaScript thread, inside an open handle scope of `env`.
  unsafe fn into_js(self: Box<Self>, env: sys::napi_env) -> Result<sys::napi_value>;
}

pub enum Ev {
  Connect(AddrPair),
  Data(Vec<u8>),
  End,
  Error(ErrInfo),
  WriteDone(Option<ErrInfo>),
  ShutdownDone(Option<ErrInfo>),
  Secure(SecureInfo),
  Connection(Box<dyn IntoJs>),
  TlsClientError(ErrInfo, AddrPair),
  /// A TLS server accepted a TCP connection (its handshake starts): Node's `'connection'`.
  /// The number names the handshake (`NativeServer::abort_handshake`).
  TlsAccept(u32, AddrPair),
  Closed,
}

/// The JavaScript callback every handle is started with: `(batch) => void`, where `batch` is a
/// flat array `[code, payload, code, payload, ...]`.
pub type EventCallback<'a> = Function<'a, Unknown<'static>, UnknownReturnValue>;


#[derive(Default)]
struct State {
  queue: VecDeque<Ev>,
  /// This emitter is on its hub's ready list and has not drained yet.
  scheduled: bool,
  /// Data bytes in `queue`.
  buffered: usize,
  /// JavaScript asked to stop reading.
  paused: bool,
  /// `close` ran: nothing is queued or delivered any more.
  closed: bool,
  /// Set by `start` (JavaScript thread); `None` before it and after `close`.
  callback: Option<CallbackRef>,
  hub: Option<&'static Hub>,
  /// Counted in the hub's keep-alive total (started, referenced, not closed).
  keeps_alive: bool,
  referenced: bool,
}

/// The event queue of one handle (socket or server).
pub struct Emitter {
  state: Mutex<State>,
  readable: Notify,
}

impl Default for Emitter {
  fn default() -> Self {
    Emitter { state: Mutex::new(State { referenced: true, ..State::default() }), readable: Notify::new() }
  }
}


impl Emitter {
  /// Attaches the JavaScript callback; events emitted before this wait in the queue.
  /// A second call (e.g. a second connect attempt) keeps the first callback.
  pub fn start(self: &Arc<Self>, cb: EventCallback<'_>) -> Result<()> {
    let env = cb.value().env;
    let hub = Hub::get(env)?;
    let mut st = lock(&self.state);
    if st.closed || st.callback.is_some() {
      return Ok(());
    }
    let mut r = ptr::null_mut();
    // SAFETY: JavaScript thread; `cb` is a function value of `env`.
    check_status!(unsafe { sys::napi_create_reference(env, cb.raw(), 1, &mut r) })?;
    st.callback = Some(CallbackRef(r));
    st.hub = Some(hub);
    if st.referenced {
      st.keeps_alive = true;
      hub.keep_alive(true);
    }
    if !st.queue.is_empty() && !st.scheduled {
      st.scheduled = true;
      drop(st);
      hub.schedule(self.clone());
    }
    Ok(())
  }

  pub fn emit(self: &Arc<Self>, ev: Ev) {
    let mut st = lock(&self.state);
    if st.closed {
      return;
    }
    if let Ev::Data(d) = &ev {
      st.buffered += d.len();
    }
    st.queue.push_back(ev);
    if st.scheduled {
      return;
    }
    if let Some(hub) = st.hub {
      st.scheduled = true;
      drop(st);
      hub.schedule(self.clone());
    }
  }

  /// The JavaScript callback given to `start`, as a value of `env`.
  ///
  /// # Safety
  /// JavaScript thread of `env`.
  pub unsafe fn callback_value(&self, env: sys::napi_env) -> Option<sys::napi_value> {
    let st = lock(&self.state);
    let cb = st.callback.as_ref()?;
    let mut v = ptr::null_mut();
    // The reference is alive while `callback` is set.
    let ok = sys::napi_get_reference_value(env, cb.0, &mut v) == sys::Status::napi_ok;
    (ok && !v.is_null()).then_some(v)
  }

  /// Waits until JavaScript wants more data; false once the handle is closed.
  pub async fn wait_readable(&self) -> bool {
    loop {
      {
        let st = lock(&self.state);
        if st.closed {
          return false;
        }
        if !st.paused && st.buffered < READ_HIGH_WATER {
          return true;
        }
      }
      self.readable.notified().await;
    }
  }

  pub fn set_paused(&self, paused: bool) {
    lock(&self.state).paused = paused;
    if !paused {
      self.readable.notify_one();
    }
  }

  pub fn is_paused(&self) -> bool {
    lock(&self.state).paused
  }

  pub fn is_closed(&self) -> bool {
    lock(&self.state).closed
  }

  /// Stops all delivery and lets go of Node's event loop.
  pub fn close(&self) {
    let (callback, hub, kept) = {
      let mut st = lock(&self.state);
      st.closed = true;
      st.queue.clear();
      let kept = std::mem::replace(&mut st.keeps_alive, false);
      (st.callback.take(), st.hub, kept)
    };
    if let Some(hub) = hub {
      if kept {
        hub.keep_alive(false);
      }
      if let Some(cb) = callback {
        hub.drop_callback(cb);
      }
    }
    self.readable.notify_one();
  }

  /// `ref()`/`unref()`: whether this handle keeps Node's event loop alive. JS thread only.
  pub fn set_ref(&self, _env: &Env, keep_alive: bool) -> Result<()> {
    let mut st = lock(&self.state);
    st.referenced = keep_alive;
    let Some(hub) = st.hub else { return Ok(()) };
    if st.closed || st.keeps_alive == keep_alive {
      return Ok(());
    }
    st.keeps_alive = keep_alive;
    drop(st);
    hub.keep_alive(keep_alive);
    Ok(())
  }
}

impl Deliver for Emitter {
  /// Hands everything queued to the JavaScript callback. JavaScript thread only.
  unsafe fn deliver(&self, env: sys::napi_env) {
    let (evs, callback) = {
      let mut st = lock(&self.state);
      st.scheduled = false;
      let Some(cb) = &st.callback else { return };
      let cb = cb.0;
      let had_data = st.buffered > 0;
      st.buffered = 0;
      let evs: Vec<Ev> = st.queue.drain(..).collect();
      if had_data {
        self.readable.notify_one();
      }
      (evs, cb)
    };
    if evs.is_empty() {
      return;
    }
    let mut scope = ptr::null_mut();
    if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
      return;
    }
    let mut func = ptr::null_mut();
    let mut recv = ptr::null_mut();
    let mut result = ptr::null_mut();
    // A batch that cannot be built (out of memory) must not vanish quietly: what it held is
    // lost, so the handle gets an error instead (JavaScript destroys the socket).
    let built = Batch::to_napi_value(env, Batch(evs)).or_else(|_| {
      let lost = ErrInfo::io(&std::io::Error::from_raw_os_error(libc::ENOMEM), "read");
      Batch::to_napi_value(env, Batch(vec![Ev::Error(lost)]))
    });
    if let Ok(arg) = built {
      sys::napi_get_reference_value(env, callback, &mut func);
      sys::napi_get_undefined(env, &mut recv);
      if sys::napi_call_function(env, recv, func, 1, &arg, &mut result) == sys::Status::napi_pending_exception {
        // An exception thrown by an event handler is an uncaught exception, as in Node.
        let mut exc = ptr::null_mut();
        sys::napi_get_and_clear_last_exception(env, &mut exc);
        sys::napi_fatal_exception(env, exc);
      }
    }
    sys::napi_close_handle_scope(env, scope);
  }
}

impl Ev {
  /// A connect whose completion was seen only after the peer's reset (reset, not refused: the
  /// peer accepted, then aborted). The connection was made, so it is reported, and the reset as
  /// a read error: what libuv reports when the completion is seen first.
  pub fn reset_after_connect(addrs: AddrPair) -> [Ev; 2] {
    let reset = std::io::Error::from_raw_os_error(libc::ECONNRESET);
    [Ev::Connect(addrs), Ev::Error(ErrInfo::io(&reset, "read"))]
  }

  /// The event's code and its payload as a JavaScript value (a `Data` event's bytes copied
  /// into a Buffer).
  ///
  /// # Safety
  /// JavaScript thread, inside an open handle scope of `env`.
  pub unsafe fn into_js(self, env: sys::napi_env) -> (u32, Result<sys::napi_value>) {
    match self {
      Ev::Data(d) => (code::DATA, buffer_copy(env, &d)),
      Ev::Connect(a) => (code::CONNECT, AddrPair::to_napi_value(env, a)),
      Ev::End => (code::END, Null::to_napi_value(env, Null)),
      Ev::Error(e) => (code::ERROR, ErrInfo::to_napi_value(env, e)),
      Ev::WriteDone(e) => (code::WRITE_DONE, Option::<ErrInfo>::to_napi_value(env, e)),
      Ev::ShutdownDone(e) => (code::SHUTDOWN_DONE, Option::<ErrInfo>::to_napi_value(env, e)),
      Ev::Secure(s) => (code::SECURE, SecureInfo::to_napi_value(env, s)),
      Ev::Connection(s) => (code::CONNECTION, s.into_js(env)),
      Ev::TlsClientError(e, a) => (code::TLS_CLIENT_ERROR, <(ErrInfo, AddrPair)>::to_napi_value(env, (e, a))),
      Ev::TlsAccept(id, a) => (code::TLS_ACCEPT, <(u32, AddrPair)>::to_napi_value(env, (id, a))),
      Ev::Closed => (code::CLOSED, Null::to_napi_value(env, Null)),
    }
  }
}

/// Largest Buffer made by joining consecutive data chunks.
const COALESCE_MAX: usize = 64 * 1024;

/// A drained queue on its way to JavaScript as `[code, payload, ...]`.
pub struct Batch(pub Vec<Ev>);

unsafe fn buffer_copy(env: sys::napi_env, bytes: &[u8]) -> Result<sys::napi_value> {
  let mut value = ptr::null_mut();
  let mut data = ptr::null_mut();
  check_status!(
    sys::napi_create_buffer_copy(env, bytes.len(), bytes.as_ptr().cast(), &mut data, &mut value),
    "cannot create a Buffer"
  )?;
  Ok(value)
}

unsafe fn buffer_concat(env: sys::napi_env, chunks: &[Vec<u8>]) -> Result<sys::napi_value> {
  if let [one] = chunks {
    return buffer_copy(env, one);
  }
  let total = chunks.iter().map(Vec::len).sum();
  let mut value = ptr::null_mut();
  let mut data: *mut std::ffi::c_void = ptr::null_mut();
  check_status!(sys::napi_create_buffer(env, total, &mut data, &mut value), "cannot create a Buffer")?;
  let mut offset = 0;
  for c in chunks {
    // SAFETY: `data` points to `total` writable bytes owned by the new Buffer.
    ptr::copy_nonoverlapping(c.as_ptr(), data.cast::<u8>().add(offset), c.len());
    offset += c.len();
  }
  Ok(value)
}

impl ToNapiValue for Batch {
  unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
    let mut arr = ptr::null_mut();
    check_status!(sys::napi_create_array(env, &mut arr), "cannot create an array")?;
    let mut index = 0u32;
    let mut push = |code: u32, payload: sys::napi_value| -> Result<()> {
      check_status!(sys::napi_set_element(env, arr, index, u32::to_napi_value(env, code)?))?;
      check_status!(sys::napi_set_element(env, arr, index + 1, payload))?;
      index += 2;
      Ok(())
    };
    let mut evs = val.0.into_iter().peekable();
    while let Some(ev) = evs.next() {
      match ev {
        Ev::Data(first) => {
          // Coalesce consecutive chunks into one Buffer (one JS call, one allocation, one copy),
          // up to COALESCE_MAX: a larger Buffer would be a fresh mapping the kernel has to
          // fault in page by page, which costs more than the extra 'data' events.
          let mut total = first.len();
          let mut chunks = vec![first];
          while let Some(Ev::Data(next)) = evs.peek() {
            if total + next.len() > COALESCE_MAX {
              break;
            }
            total += next.len();
            if let Some(Ev::Data(more)) = evs.next() {
              chunks.push(more);
            }
          }
          push(code::DATA, buffer_concat(env, &chunks)?)?;
        }
        other => {
          let (code, value) = other.into_js(env);
          push(code, value?)?
        }
      }
    }
    Ok(arr)
  }
}
