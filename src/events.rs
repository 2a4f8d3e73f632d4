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

use std::collections::VecDeque;
use std::ptr;
use std::sync::Mutex;

use crate::sync::lock;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::UnknownReturnValue;
use std::sync::Arc;
use tokio::sync::Notify;

use crate::errors::ErrInfo;
use crate::socket::NativeSocket;

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
}

/// Local and remote endpoint of a connection, as Node reports them.
#[napi_derive::napi(object)]
#[derive(Debug, Clone, Default)]
pub struct AddrPair {
  pub local_address: Option<String>,
  pub local_port: Option<u32>,
  pub local_family: Option<String>,
  pub remote_address: Option<String>,
  pub remote_port: Option<u32>,
  pub remote_family: Option<String>,
}

/// What a finished TLS handshake tells the JavaScript socket.
#[napi_derive::napi(object)]
#[derive(Debug, Clone, Default)]
pub struct SecureInfo {
  pub protocol: Option<String>,
  pub cipher: Option<String>,
  pub alpn_protocol: Option<String>,
  pub servername: Option<String>,
  pub authorized: bool,
  pub authorization_error: Option<ErrInfo>,
  pub session_reused: bool,
}

pub enum Ev {
  Connect(AddrPair),
  Data(Vec<u8>),
  End,
  Error(ErrInfo),
  WriteDone(Option<ErrInfo>),
  ShutdownDone(Option<ErrInfo>),
  Secure(SecureInfo),
  Connection(NativeSocket),
  TlsClientError(ErrInfo, AddrPair),
  Closed,
}

/// The JavaScript callback every handle is started with: `(batch) => void`, where `batch` is a
/// flat array `[code, payload, code, payload, ...]`.
pub type EventCallback<'a> = Function<'a, Unknown<'static>, UnknownReturnValue>;

/// A `napi_ref` to a handle's JavaScript callback. Created, used and deleted on the
/// JavaScript thread only (deletion from elsewhere is deferred to the hub's next delivery).
struct CallbackRef(sys::napi_ref);
// SAFETY: see above; only moved between threads inside a Mutex, never used off the JS thread.
unsafe impl Send for CallbackRef {}

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

/// One per JavaScript environment (thread): a single threadsafe function through which every
/// handle of that environment delivers. Creating and releasing a threadsafe function per
/// socket cost a libuv async handle, locks and a close round trip each; a hub wake-up drains
/// every handle that has events. The hub keeps Node's loop alive exactly while some started,
/// referenced, open handle exists (as each handle's own threadsafe function did).
pub struct Hub {
  inner: Mutex<HubInner>,
  env: sys::napi_env,
}

struct HubInner {
  tsfn: sys::napi_threadsafe_function,
  /// The threadsafe function was finalized (environment teardown): never call it again.
  finalized: bool,
  /// A hub call is queued and has not run yet.
  scheduled: bool,
  ready: Vec<Arc<Emitter>>,
  /// Callback references dropped off the JavaScript thread, deleted at the next delivery.
  garbage: Vec<CallbackRef>,
  /// Handles keeping the loop alive (JavaScript-thread changes only).
  keep_alive: usize,
}

// SAFETY: the raw napi handles are used only as napi allows: `napi_call_threadsafe_function`
// from any thread (under the lock, and never after finalization), everything else on the
// environment's own thread.
unsafe impl Send for Hub {}
unsafe impl Sync for Hub {}

thread_local! {
  static HUB: std::cell::Cell<Option<&'static Hub>> = const { std::cell::Cell::new(None) };
}

impl Hub {
  /// The hub of the environment running on this (JavaScript) thread, created on first use.
  /// It lives as long as the process (one small allocation per environment).
  fn get(env: sys::napi_env) -> Result<&'static Hub> {
    if let Some(h) = HUB.with(|h| h.get()).filter(|h| h.env == env) {
      return Ok(h);
    }
    let hub: &'static Hub = Box::leak(Box::new(Hub {
      inner: Mutex::new(HubInner {
        tsfn: ptr::null_mut(),
        finalized: false,
        scheduled: false,
        ready: Vec::new(),
        garbage: Vec::new(),
        keep_alive: 0,
      }),
      env,
    }));
    let mut name = ptr::null_mut();
    let label = "cio.events";
    let mut tsfn = ptr::null_mut();
    // SAFETY: JavaScript thread of `env`; `hub` outlives the threadsafe function.
    unsafe {
      check_status!(sys::napi_create_string_utf8(env, label.as_ptr().cast(), label.len() as isize, &mut name))?;
      check_status!(sys::napi_create_threadsafe_function(
        env,
        ptr::null_mut(),
        ptr::null_mut(),
        name,
        0,
        1,
        (hub as *const Hub).cast_mut().cast(),
        Some(hub_finalize),
        (hub as *const Hub).cast_mut().cast(),
        Some(hub_call_js),
        &mut tsfn,
      ))?;
      // Nothing keeps the loop alive until a handle starts.
      sys::napi_unref_threadsafe_function(env, tsfn);
    }
    lock(&hub.inner).tsfn = tsfn;
    HUB.with(|h| h.set(Some(hub)));
    Ok(hub)
  }

  fn schedule(&self, emitter: Arc<Emitter>) {
    let mut inner = lock(&self.inner);
    if inner.finalized {
      return;
    }
    inner.ready.push(emitter);
    if !inner.scheduled {
      inner.scheduled = true;
      // SAFETY: not finalized (checked under the lock that finalization takes).
      unsafe { sys::napi_call_threadsafe_function(inner.tsfn, ptr::null_mut(), sys::ThreadsafeFunctionCallMode::nonblocking) };
    }
  }

  /// A handle starts or stops keeping the loop alive. JavaScript thread only.
  fn keep_alive(&self, on: bool) {
    let mut inner = lock(&self.inner);
    if inner.finalized {
      return;
    }
    let before = inner.keep_alive;
    inner.keep_alive = if on { before + 1 } else { before.saturating_sub(1) };
    // SAFETY: JavaScript thread of `env`, threadsafe function not finalized.
    unsafe {
      if before == 0 && inner.keep_alive == 1 {
        sys::napi_ref_threadsafe_function(self.env, inner.tsfn);
      } else if before == 1 && inner.keep_alive == 0 {
        sys::napi_unref_threadsafe_function(self.env, inner.tsfn);
      }
    }
  }

  fn on_js_thread(&self) -> bool {
    HUB.with(|h| h.get()).is_some_and(|h| std::ptr::eq(h, self))
  }

  fn drop_callback(&self, cb: CallbackRef) {
    if self.on_js_thread() {
      // SAFETY: JavaScript thread of `env`.
      unsafe { sys::napi_delete_reference(self.env, cb.0) };
    } else {
      lock(&self.inner).garbage.push(cb);
    }
  }
}

unsafe extern "C" fn hub_finalize(_env: sys::napi_env, data: *mut std::ffi::c_void, _hint: *mut std::ffi::c_void) {
  let hub = &*(data as *const Hub);
  let mut inner = lock(&hub.inner);
  inner.finalized = true;
  inner.ready.clear();
  inner.garbage.clear();
}

/// Runs on the JavaScript thread for each hub wake-up: every ready handle gets its batch.
unsafe extern "C" fn hub_call_js(env: sys::napi_env, _cb: sys::napi_value, ctx: *mut std::ffi::c_void, _data: *mut std::ffi::c_void) {
  if env.is_null() {
    return; // the environment is going away
  }
  let hub = &*(ctx as *const Hub);
  let (ready, garbage) = {
    let mut inner = lock(&hub.inner);
    inner.scheduled = false;
    (std::mem::take(&mut inner.ready), std::mem::take(&mut inner.garbage))
  };
  for cb in garbage {
    sys::napi_delete_reference(env, cb.0);
  }
  for emitter in ready {
    emitter.deliver(env);
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
    if let Ok(arg) = Batch::to_napi_value(env, Batch(evs)) {
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

impl Ev {
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
      Ev::Connection(s) => (code::CONNECTION, NativeSocket::to_napi_value(env, s)),
      Ev::TlsClientError(e, a) => (code::TLS_CLIENT_ERROR, <(ErrInfo, AddrPair)>::to_napi_value(env, (e, a))),
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
