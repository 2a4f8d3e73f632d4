//! Event delivery from tokio threads to the JavaScript thread, one `Emitter` per handle.
//!
//! Each socket or server owns one threadsafe function (tsfn). Tokio tasks `emit` events into a
//! queue; at most one tsfn call is in flight per handle, and that call drains everything queued
//! by the time it runs on the JavaScript thread, so a burst of events costs one cross-thread
//! wake-up and consecutive data chunks arrive as one Buffer. Reading is bounded: the reader
//! waits (`wait_readable`) while the bytes queued for JavaScript exceed `READ_HIGH_WATER` or
//! JavaScript has stopped reading (`readStop`, when `push()` returned false).
//!
//! The tsfn is referenced while the handle is open (keeping Node's event loop alive, as an
//! open `net` handle does) and released by `close`, after which the loop may exit.

use std::collections::VecDeque;
use std::ptr;
use std::sync::Mutex;

use crate::sync::lock;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue};
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

pub type Tsfn = ThreadsafeFunction<(), UnknownReturnValue, Batch, Status, false>;

/// The JavaScript callback every handle is started with: `(batch) => void`, where `batch` is a
/// flat array `[code, payload, code, payload, ...]`.
pub type EventCallback<'a> = Function<'a, Unknown<'static>, UnknownReturnValue>;

#[derive(Default)]
struct State {
  queue: VecDeque<Ev>,
  /// A tsfn call is queued and has not drained yet.
  scheduled: bool,
  /// Data bytes in `queue`.
  buffered: usize,
  /// JavaScript asked to stop reading.
  paused: bool,
  /// `close` ran: nothing is queued or delivered any more.
  closed: bool,
  /// Dropped by `close` (releasing Node's event loop); `None` before `start` too.
  tsfn: Option<Tsfn>,
}

#[derive(Default)]
pub struct Emitter {
  state: Mutex<State>,
  readable: Notify,
}


impl Emitter {
  /// Attaches the JavaScript callback; events emitted before this wait in the queue.
  pub fn start(self: &std::sync::Arc<Self>, cb: EventCallback<'_>) -> Result<()> {
    let me = std::sync::Arc::downgrade(self);
    let tsfn: Tsfn = cb
      .build_threadsafe_function::<()>()
      .callee_handled::<false>()
      .build_callback(move |_ctx| {
        Ok(Batch(me.upgrade().map(|e| e.drain()).unwrap_or_default()))
      })?;
    let mut st = lock(&self.state);
    if st.closed {
      return Ok(());
    }
    if !st.queue.is_empty() {
      st.scheduled = true;
      tsfn.call((), ThreadsafeFunctionCallMode::NonBlocking);
    }
    st.tsfn = Some(tsfn);
    Ok(())
  }

  pub fn emit(&self, ev: Ev) {
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
    if let Some(tsfn) = &st.tsfn {
      tsfn.call((), ThreadsafeFunctionCallMode::NonBlocking);
      st.scheduled = true;
    }
  }

  fn drain(&self) -> Vec<Ev> {
    let mut st = lock(&self.state);
    st.scheduled = false;
    let had_data = st.buffered > 0;
    st.buffered = 0;
    let evs: Vec<Ev> = st.queue.drain(..).collect();
    drop(st);
    if had_data {
      self.readable.notify_one();
    }
    evs
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

  /// Stops all delivery and releases the tsfn (and with it Node's event loop).
  pub fn close(&self) {
    let tsfn = {
      let mut st = lock(&self.state);
      st.closed = true;
      st.queue.clear();
      st.tsfn.take()
    };
    drop(tsfn);
    self.readable.notify_one();
  }

  /// `ref()`/`unref()`: whether this handle keeps Node's event loop alive. JS thread only.
  pub fn set_ref(&self, env: &Env, keep_alive: bool) -> Result<()> {
    let st = lock(&self.state);
    if let Some(tsfn) = &st.tsfn {
      let status = unsafe {
        if keep_alive {
          sys::napi_ref_threadsafe_function(env.raw(), tsfn.raw())
        } else {
          sys::napi_unref_threadsafe_function(env.raw(), tsfn.raw())
        }
      };
      if status != sys::Status::napi_ok {
        return Err(Error::new(Status::GenericFailure, "cannot change the handle's ref state"));
      }
    }
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
          // Coalesce consecutive chunks into one Buffer: one JS call, one allocation, one copy.
          let mut chunks = vec![first];
          while let Some(Ev::Data(_)) = evs.peek() {
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
