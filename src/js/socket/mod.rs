//! `NativeSocket`: the native half of a JavaScript `Socket` (see `lib/net.js`).
//!
//! A socket is either connecting (a connect task runs), open (a reader and a writer task run,
//! over plain `Conn` or TLS), or closed. JavaScript talks to it through a handful of methods
//! (`start`, `readStart`/`readStop`, `write`, `shutdown`, `close`, options) and hears back only
//! through its `Emitter`. `close` is idempotent, aborts every task and drops every reference
//! to the descriptor, so nothing outlives the JavaScript `'close'` event for long.

use std::sync::{Arc, Mutex};

use crate::sync::lock;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use crate::runtime::conn::{Conn, ConnIo};
use crate::deliver::{Emitter, Ev, EventCallback, IntoJs};
use crate::net::SecureInfo;
use crate::js::peer_cert::peer_certificate_object;
use crate::runtime::io_tasks::{read_loop, read_loop_plain, write_loop, FirstWriteNoDelay, WriteCmd, WriteGate};
use crate::uvloop::tls_state::LoopTls;
use crate::uvloop::io::LoopIo;
use crate::net::plain::PlainStream;
use rustls::pki_types::CertificateDer;
use crate::runtime::handle;

mod connect;
mod io;
mod options;

/// Most ciphertext an established TLS connection takes out of the kernel when it is attached
/// to Node's loop (see `LoopTls::pull_arrived`): session tickets and a first request fit.
const PULL_ON_ATTACH: usize = 64 * 1024;


/// Shared between the JavaScript handle and its tasks.
#[derive(Default)]
pub struct SocketCore {
  pub emitter: Arc<Emitter>,
  /// The descriptor; `None` while connecting and after close.
  conn: Mutex<Option<Arc<Conn>>>,
  /// Queue of the writer task; `None` until open and after close.
  writer: Mutex<Option<mpsc::UnboundedSender<WriteCmd>>>,
  /// True when writes must go through the writer task (TLS): no direct write on the JS thread.
  via_task: Mutex<bool>,
  tasks: Mutex<Vec<AbortHandle>>,
  gate: Arc<WriteGate>,
  /// A plain connection waiting for JavaScript to `attach` it to Node's loop.
  pending_plain: Mutex<Option<Conn>>,
  /// A connection accepted on Node's loop (`uvloop::accept`), waiting to be attached.
  pending_std: Mutex<Option<PlainStream>>,
  /// An established TLS connection waiting for the same (see `uvloop::tls_state`).
  pending_tls: Mutex<Option<Box<(Conn, LoopTls)>>>,
  /// The plain connection once it runs on Node's loop (JavaScript thread only).
  lp: Mutex<Option<LoopPtr>>,
  /// What the TLS handshake established (`None` for plain sockets).
  tls: Mutex<Option<(SecureInfo, Vec<CertificateDer<'static>>)>>,
  /// `setNoDelay()` as JavaScript last asked for it (`io_tasks::NODELAY_*`).
  pub nodelay: Arc<std::sync::atomic::AtomicU8>,
}

/// The `LoopIo` of a socket on Node's loop. Only ever dereferenced on the JavaScript thread
/// (napi methods and libuv callbacks); `LoopIo::close` hands its memory to libuv's close
/// callback, after which the pointer is dropped from here.
pub struct LoopPtr(*mut LoopIo);
// SAFETY: see above; the pointer is moved between threads only inside the `Mutex`, never used
// off the JavaScript thread.
unsafe impl Send for LoopPtr {}

impl LoopPtr {
  fn io(&self) -> &LoopIo {
    // SAFETY: valid until `LoopIo::close` ran, and we drop the `LoopPtr` right then.
    unsafe { &*self.0 }
  }
}


impl SocketCore {
  pub(crate) fn track(&self, task: AbortHandle) {
    if self.emitter.is_closed() {
      task.abort();
    } else {
      // A finished task's handle would keep its whole allocation (the future's state
      // machine, kilobytes for a connect) alive for as long as the socket lives.
      let mut tasks = lock(&self.tasks);
      tasks.retain(|t| !t.is_finished());
      tasks.push(task);
    }
  }

  fn conn(&self) -> Option<Arc<Conn>> {
    lock(&self.conn).clone()
  }

  /// A plain connection is open: remember it and start its reader and writer.
  /// `first` is emitted after the socket can take writes and before any data event.
  pub fn open_plain(self: &Arc<Self>, conn: Arc<Conn>, first: Option<Ev>) {
    *lock(&self.conn) = Some(conn.clone());
    let reader = read_loop_plain(self.emitter.clone(), conn.clone());
    self.spawn_io(reader, ConnIo::plain(conn), false, first);
  }

  /// An encrypted connection is open over `conn`.
  pub fn open_stream<S>(self: &Arc<Self>, conn: Arc<Conn>, stream: S, first: Option<Ev>)
  where
    S: AsyncRead + AsyncWrite + Send + 'static,
  {
    *lock(&self.via_task) = true;
    let (r, w) = tokio::io::split(stream);
    let w = FirstWriteNoDelay::new(w, &conn, self.nodelay.clone());
    *lock(&self.conn) = Some(conn);
    let gcm12 = lock(&self.tls).as_ref().is_some_and(|(info, _)| {
      crate::tls::error::is_tls12_aes_gcm(info.protocol.as_deref() == Some("TLSv1.2"), info.cipher.as_deref().unwrap_or(""))
    });
    self.spawn_io(read_loop(self.emitter.clone(), r, gcm12), w, true, first);
  }

  fn spawn_io<R, W>(self: &Arc<Self>, reader: R, writer: W, via_task: bool, first: Option<Ev>)
  where
    R: std::future::Future<Output = ()> + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
  {
    let (tx, rx) = mpsc::unbounded_channel();
    *lock(&self.writer) = Some(tx);
    *lock(&self.via_task) = via_task;
    if let Some(ev) = first {
      self.emitter.emit(ev);
    }
    let rt = handle();
    self.track(rt.spawn(reader).abort_handle());
    self.track(rt.spawn(write_loop(self.emitter.clone(), self.gate.clone(), writer, rx)).abort_handle());
  }

  /// An established TLS connection, to be driven from Node's loop once JavaScript attaches
  /// it (`uvloop::tls_state`); `first` is emitted meanwhile.
  pub fn defer_tls(&self, conn: Conn, tls: LoopTls, first: Option<Ev>) {
    *lock(&self.pending_tls) = Some(Box::new((conn, tls)));
    if let Some(ev) = first {
      self.emitter.emit(ev);
    }
  }

  pub fn set_tls(&self, info: SecureInfo, peer: Vec<CertificateDer<'static>>) {
    *lock(&self.tls) = Some((info, peer));
  }

  /// A freshly connected or accepted plain connection: run it on Node's loop once JavaScript
  /// attaches it, or on tokio right away when the loop is not available.
  pub fn open_plain_or_defer(self: &Arc<Self>, conn: Conn, first: Option<Ev>) {
    if crate::uvloop::libuv::available() {
      *lock(&self.pending_plain) = Some(conn);
      if let Some(ev) = first {
        self.emitter.emit(ev);
      }
    } else {
      self.open_plain(Arc::new(conn), first);
    }
  }

  fn with_loop<T>(&self, f: impl FnOnce(&LoopIo) -> T) -> Option<T> {
    lock(&self.lp).as_ref().map(|p| f(p.io()))
  }

  pub fn close(&self) {
    if *lock(&self.via_task) {
      // TLS on the runtime: what already arrived is taken as Node's loop would have read it
      // (see `Conn::discard_arrived`; sockets on Node's loop read it when attached).
      if let Some(conn) = self.conn() {
        conn.discard_arrived(crate::runtime::conn::DISCARD_AT_CLOSE);
      }
    }
    if let Some(p) = lock(&self.lp).take() {
      p.io().close();
    }
    lock(&self.pending_plain).take();
    lock(&self.pending_std).take();
    lock(&self.pending_tls).take();
    self.emitter.close();
    for t in lock(&self.tasks).drain(..) {
      t.abort();
    }
    lock(&self.writer).take();
    lock(&self.conn).take();
  }
}

#[napi]
pub struct NativeSocket {
  pub(crate) core: Arc<SocketCore>,
}

impl NativeSocket {
  /// A socket over an accepted descriptor. It does not read until JavaScript calls
  /// `readStart` (as a libuv handle), so with `pauseOnConnect` the peer's bytes stay in the
  /// kernel, and destroying such a socket resets the connection exactly as Node's does.
  pub fn from_conn(conn: Conn) -> Self {
    let s = NativeSocket { core: Arc::default() };
    s.core.emitter.set_paused(true);
    s.core.open_plain_or_defer(conn, None);
    s
  }

  /// A connection accepted on Node's loop; like any accepted socket it does not read until
  /// JavaScript calls `readStart`.
  pub fn from_plain(stream: PlainStream) -> Self {
    let s = NativeSocket { core: Arc::default() };
    s.core.emitter.set_paused(true);
    *lock(&s.core.pending_std) = Some(stream);
    s
  }

  /// An accepted TLS connection whose handshake is done, to run on Node's loop. Like an
  /// accepted plain socket it does not read until JavaScript calls `readStart`.
  pub fn from_tls(conn: Conn, tls: LoopTls) -> Self {
    let s = NativeSocket { core: Arc::default() };
    s.core.emitter.set_paused(true);
    s.core.defer_tls(conn, tls, None);
    s
  }

  /// A socket whose stream is already encrypted (a completed TLS handshake).
  pub fn from_stream<S>(conn: Arc<Conn>, stream: S) -> Self
  where
    S: AsyncRead + AsyncWrite + Send + 'static,
  {
    let s = NativeSocket { core: Arc::default() };
    s.core.open_stream(conn, stream, None);
    s
  }
}

#[napi]
impl NativeSocket {
  #[napi(constructor)]
  pub fn new() -> Self {
    NativeSocket { core: Arc::default() }
  }

  /// Attaches the event callback `(batch) => void`; queued events flow from now on.
  #[napi(catch_unwind)]
  pub fn start(&self, cb: EventCallback<'_>) -> Result<()> {
    self.core.emitter.start(cb)
  }

  /// The handshake's outcome, for sockets accepted by a TLS server.
  #[napi(catch_unwind)]
  pub fn secure_info(&self) -> Option<SecureInfo> {
    lock(&self.core.tls).as_ref().map(|(info, _)| info.clone())
  }

  /// The peer's certificate chain in Node's `getPeerCertificate()` shape, leaf first.
  #[napi(catch_unwind)]
  pub fn peer_certificates<'env>(&self, env: &'env Env) -> Result<Vec<Object<'env>>> {
    let guard = lock(&self.core.tls);
    let chain = guard.as_ref().map(|(_, p)| p.as_slice()).unwrap_or(&[]);
    chain.iter().filter_map(|der| crate::tls::peer_cert::peer_certificate(der.as_ref())).map(|c| peer_certificate_object(env, c)).collect()
  }

  /// Attaches a plain connection to Node's event loop (see `uvloop`), delivering its events
  /// to `cb` directly. False when the socket stays on tokio (TLS, or no libuv symbols).
  #[napi(catch_unwind)]
  pub fn attach(&self, env: &Env, cb: EventCallback<'_>) -> Result<bool> {
    let pending_std = lock(&self.core.pending_std).take();
    let (stream, tls) = if let Some(stream) = pending_std {
      (stream, None)
    } else {
      let (conn, tls) = match lock(&self.core.pending_plain).take() {
        Some(c) => (c, None),
        None => match lock(&self.core.pending_tls).take() {
          Some(pending) => {
            let (c, t) = *pending;
            (c, Some(t))
          }
          None => return Ok(false),
        },
      };
      let stream = match conn {
        Conn::Tcp(t) => t.into_std().map(PlainStream::Tcp),
        Conn::Unix(u) => u.into_std().map(PlainStream::Unix),
      }
      .map_err(|e| Error::from_reason(format!("cannot detach the socket from tokio: {e}")))?;
      (stream, tls)
    };
    let mut tls = tls;
    if let Some(t) = tls.as_mut() {
      t.pull_arrived(&stream, PULL_ON_ATTACH);
    }
    let paused = self.core.emitter.is_paused();
    // SAFETY: JavaScript thread (a napi method); `cb` is a function of this env.
    let is_tls = tls.is_some();
    match unsafe { LoopIo::attach(env.raw(), stream, cb.raw(), !paused, tls, false) } {
      Ok(io) => {
        *lock(&self.core.lp) = Some(LoopPtr(io));
        // The connect task has done its work: let its memory go now, not at close.
        lock(&self.core.tasks).retain(|t| !t.is_finished());
        // Events now flow through the loop; the threadsafe function is no longer needed.
        self.core.emitter.close();
        Ok(true)
      }
      Err(_) if is_tls => Err(Error::from_reason("cannot run the TLS socket on Node's loop")),
      Err(stream) => {
        let _rt = handle().enter();
        let conn = match stream {
          PlainStream::Tcp(s) => tokio::net::TcpStream::from_std(s).map(Conn::Tcp),
          PlainStream::Unix(s) => tokio::net::UnixStream::from_std(s).map(Conn::Unix),
        }
        .map_err(|e| Error::from_reason(format!("cannot run the socket: {e}")))?;
        self.core.open_plain(Arc::new(conn), None);
        Ok(false)
      }
    }
  }
}



/// A new connection's handle travels through event delivery as a `Box<dyn IntoJs>`.
impl IntoJs for NativeSocket {
  unsafe fn into_js(self: Box<Self>, env: napi::sys::napi_env) -> Result<napi::sys::napi_value> {
    NativeSocket::to_napi_value(env, *self)
  }
}

impl Default for NativeSocket {
  fn default() -> Self {
    Self::new()
  }
}

/// A native socket that never reached JavaScript (or was collected) must not keep its tasks
/// and descriptor alive.
impl Drop for NativeSocket {
  fn drop(&mut self) {
    self.core.close();
  }
}

#[cfg(test)]
mod tests {
  /// Every socket holds a `SocketCore`; what only TLS sockets need is boxed so that an idle
  /// plain socket stays small.
  #[test]
  fn the_per_socket_state_stays_small() {
    assert!(std::mem::size_of::<super::SocketCore>() <= 512, "{}", std::mem::size_of::<super::SocketCore>());
    assert!(std::mem::size_of::<crate::uvloop::io::LoopIo>() <= 256, "{}", std::mem::size_of::<crate::uvloop::io::LoopIo>());
  }
}
