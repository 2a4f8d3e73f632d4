//! `NativeServer`: bind, listen and the accept loop behind a JavaScript `Server`.
//!
//! `listen` binds synchronously on the JavaScript thread (as libuv does), so a busy address is
//! known at once and JavaScript emits it on the next tick like Node. The accept loop runs on
//! the runtime and `select!`s accept against the stop signal; a failed accept is reported and
//! never ends the loop. Closing is two-phase: `close` stops accepting and drops the listening
//! descriptor, then the loop waits for the TLS handshakes still in flight (each reports its
//! connection or its client error first) and emits `CLOSED`, and JavaScript calls `release`
//! once it no longer needs events (which lets Node's event loop exit).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use crate::sync::lock;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use socket2::{Domain, Socket, Type};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::Notify;
use tokio::task::AbortHandle;

use crate::net::split_addr;
use crate::runtime::conn::Conn;
use crate::errors::ErrInfo;
use crate::deliver::{Emitter, Ev, EventCallback};
use crate::runtime::handle;
use crate::js::tls_context::{ServerSide, TlsContext};
use crate::runtime::secure::{lost, server_handshake, Secured};
use crate::uvloop::tls_state::LoopTls;
use crate::uvloop::accept::LoopListener;
use crate::js::socket::NativeSocket;

/// What JavaScript passes to `listen` after normalising Node's call forms.
#[napi(object)]
pub struct ListenOptions {
  /// An IP address (host names are resolved in JavaScript); none means `::` or `0.0.0.0`.
  pub address: Option<String>,
  pub port: Option<u32>,
  /// A Unix domain socket path instead of a TCP address.
  pub path: Option<String>,
  pub backlog: Option<i32>,
  pub ipv6_only: Option<bool>,
}

#[napi(object)]
pub struct BoundAddress {
  pub address: String,
  pub family: String,
  pub port: u32,
}

#[napi(object)]
pub struct ListenResult {
  pub bound: Option<BoundAddress>,
  pub error: Option<ErrInfo>,
}

enum Listener {
  Tcp(TcpListener),
  Unix(UnixListener, String),
}

#[napi]
pub struct NativeServer {
  emitter: Arc<Emitter>,
  /// Set for TLS servers: every accepted connection is handshaken before it is announced.
  tls: Mutex<Option<ServerSide>>,
  stop: Arc<Notify>,
  /// Set by `close`; the accept loop then ends instead of reporting accept errors.
  closing: Arc<std::sync::atomic::AtomicBool>,
  /// The listening descriptor, shut down synchronously by `close` so that connections made
  /// after `close()` returns are refused at once, as with Node. Owned by the accept loop.
  listen_fd: Mutex<Option<i32>>,
  task: Mutex<Option<AbortHandle>>,
  /// A plain TCP server accepting on Node's loop (`uvloop::accept`); JavaScript thread only.
  on_loop: Mutex<Option<ListenerPtr>>,
  /// TLS handshakes in flight, by the number their `TLS_ACCEPT` gave JavaScript.
  pending: Pending,
  /// Set while JavaScript listens for a TLS server's `'connection'`: each accept is then
  /// announced (`TLS_ACCEPT`) and its handshake waits for `start_handshake` (the listeners ran
  /// first, as in Node). Unset, nothing is announced.
  announce: Arc<std::sync::atomic::AtomicBool>,
}

/// The TLS handshakes in flight of a server: each one's task and endpoints, until it ends or
/// JavaScript aborts it (`abort_handshake`). Whoever removes an entry decides its outcome.
type Pending = Arc<Mutex<std::collections::HashMap<u32, PendingHandshake>>>;

struct PendingHandshake {
  task: AbortHandle,
  addrs: crate::net::AddrPair,
  /// While JavaScript runs the server's `'connection'` listeners: the handshake starts when
  /// this is sent (`start_handshake`), as Node reads nothing before those listeners ran.
  go: Option<tokio::sync::oneshot::Sender<()>>,
}

/// The `LoopListener` of a server on Node's loop; only used on the JavaScript thread, and
/// dropped from here when `close` hands it to libuv's close callback.
struct ListenerPtr(*mut LoopListener);
// SAFETY: see above; moved between threads only inside the Mutex, never used elsewhere.
unsafe impl Send for ListenerPtr {}


fn bind_tcp(opts: &ListenOptions) -> std::io::Result<std::net::TcpListener> {
  let (ip, dual) = match &opts.address {
    Some(a) => (a.parse::<IpAddr>().map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?, false),
    None => (IpAddr::from([0u16; 8]), true),
  };
  let addr = SocketAddr::new(ip, opts.port.unwrap_or(0) as u16);
  let sock = match Socket::new(Domain::for_address(addr), Type::STREAM, None) {
    Ok(s) => s,
    // No IPv6 on this machine: Node falls back to 0.0.0.0 for an unspecified host.
    Err(_) if dual => return bind_tcp(&ListenOptions { address: Some("0.0.0.0".into()), ..clone_opts(opts) }),
    Err(e) => return Err(e),
  };
  sock.set_reuse_address(true)?;
  if addr.is_ipv6() {
    sock.set_only_v6(opts.ipv6_only.unwrap_or(false))?;
  }
  sock.set_nonblocking(true)?;
  sock.bind(&addr.into())?;
  let backlog = opts.backlog.filter(|b| *b >= 0).unwrap_or(511);
  sock.listen(backlog)?;
  Ok(sock.into())
}

fn clone_opts(o: &ListenOptions) -> ListenOptions {
  ListenOptions { address: o.address.clone(), port: o.port, path: o.path.clone(), backlog: o.backlog, ipv6_only: o.ipv6_only }
}

/// The handshake of one accepted TLS connection (a task of its own): delivers the new socket,
/// or the failure as Node's `'tlsClientError'`.
/// `announced`: JavaScript was told of the accept (`id` in `pending`, the handshake waiting
/// for `go`); else nobody listens for `'connection'` and nothing can abort it.
async fn accept_tls(conn: Conn, side: ServerSide, emitter: Arc<Emitter>, announced: Option<(Pending, u32, tokio::sync::oneshot::Receiver<()>)>) {
  let Some(tls) = side.server_tls() else { return };
  let mut registered = None;
  if let Some((pending, id, go)) = announced {
    if go.await.is_err() {
      return; // aborted before it started (abort_handshake reported it)
    }
    registered = Some((pending, id));
  }
  let (addrs, outcome) = server_handshake(conn, tls, side.handshake_timeout(), crate::uvloop::libuv::available()).await;
  // Aborted by JavaScript meanwhile (which reported it): the connection just closes.
  if let Some((pending, id)) = registered {
    if lock(&pending).remove(&id).is_none() {
      return;
    }
  }
  match outcome {
    Ok(done) => {
      let socket = match done.secured {
        Secured::Loop(conn, tls) => NativeSocket::from_tls(conn, LoopTls::from(tls)),
        Secured::Runtime(conn, stream) => NativeSocket::from_stream(conn, stream),
        Secured::Lost => return emitter.emit(Ev::TlsClientError(lost(), addrs)),
      };
      socket.core.set_tls(done.info, done.peer);
      emitter.emit(Ev::Connection(Box::new(socket)));
    }
    Err(e) => emitter.emit(Ev::TlsClientError(e, addrs)),
  }
}

async fn accept_loop(
  listener: Listener,
  emitter: Arc<Emitter>,
  stop: Arc<Notify>,
  closing: Arc<std::sync::atomic::AtomicBool>,
  tls: Option<ServerSide>,
  pending: Pending,
  announce: Arc<std::sync::atomic::AtomicBool>,
) {
  let mut next_id: u32 = 0;
  // Handshakes in flight: each delivers its `CONNECTION` or `TLS_CLIENT_ERROR` before
  // `CLOSED` is emitted, so closing never loses a connection that was already accepted (Node
  // lets accepted connections finish; 'close' waits for them).
  let mut handshakes = tokio::task::JoinSet::new();
  loop {
    let accepted = tokio::select! {
      _ = stop.notified() => break,
      // Reap finished handshakes as they end (a panicked one is just gone).
      Some(_) = handshakes.join_next(), if !handshakes.is_empty() => continue,
      r = accept(&listener) => r,
    };
    match accepted {
      Ok(conn) => match &tls {
        None => emitter.emit(Ev::Connection(Box::new(NativeSocket::from_conn(conn)))),
        // Handshakes run concurrently, each on its own task, never in the accept loop.
        Some(side) => {
          if !announce.load(std::sync::atomic::Ordering::SeqCst) {
            handshakes.spawn(accept_tls(conn, side.clone(), emitter.clone(), None));
            continue;
          }
          next_id = next_id.wrapping_add(1);
          let addrs = conn.addresses();
          let (go, wait) = tokio::sync::oneshot::channel();
          // Held while spawning and announcing, so neither the task nor JavaScript
          // (`start_handshake`, `abort_handshake`) can look for the entry before it is there,
          // and the announcement comes before anything the handshake reports.
          let mut map = lock(&pending);
          let task = handshakes.spawn(accept_tls(conn, side.clone(), emitter.clone(), Some((pending.clone(), next_id, wait))));
          map.insert(next_id, PendingHandshake { task, addrs: addrs.clone(), go: Some(go) });
          emitter.emit(Ev::TlsAccept(next_id, addrs));
          drop(map);
        }
      },
      Err(_) if closing.load(std::sync::atomic::Ordering::SeqCst) => break,
      Err(e) => {
        let out_of_fds = matches!(e.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE));
        emitter.emit(Ev::Error(ErrInfo::io(&e, "accept")));
        if out_of_fds {
          // Back off instead of spinning while the process has no descriptors left.
          tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
      }
    }
  }
  if let Listener::Unix(_, path) = &listener {
    // libuv unlinks a pipe server's path when it closes; so does cio.
    let _ = std::fs::remove_file(path);
  }
  drop(listener);
  // Each handshake ends (done, failed, or its `handshake` timeout) and has reported itself.
  while handshakes.join_next().await.is_some() {}
  emitter.emit(Ev::Closed);
}

async fn accept(l: &Listener) -> std::io::Result<Conn> {
  match l {
    Listener::Tcp(l) => l.accept().await.map(|(s, _)| Conn::Tcp(s)),
    Listener::Unix(l, _) => l.accept().await.map(|(s, _)| Conn::Unix(s)),
  }
}

#[napi]
impl NativeServer {
  #[napi(constructor)]
  pub fn new() -> Self {
    NativeServer {
      emitter: Arc::default(),
      tls: Mutex::new(None),
      closing: Arc::default(),
      listen_fd: Mutex::new(None),
      stop: Arc::new(Notify::new()), task: Mutex::new(None), on_loop: Mutex::new(None),
      pending: Arc::default(), announce: Arc::default() }
  }

  #[napi(catch_unwind)]
  pub fn start(&self, cb: EventCallback<'_>) -> Result<()> {
    self.emitter.start(cb)
  }

  /// Makes this a TLS server (before `listen`).
  #[napi(catch_unwind)]
  pub fn set_tls(&self, ctx: &TlsContext) -> Result<()> {
    let side = ctx.server_side().ok_or_else(|| Error::new(Status::InvalidArg, "a client TLS context cannot serve"))?;
    *lock(&self.tls) = Some(side);
    Ok(())
  }

  /// Binds and starts accepting; the error (if any) comes back as data for JavaScript to
  /// emit asynchronously, as Node does.
  #[napi(catch_unwind)]
  pub fn listen(&self, env: &Env, opts: ListenOptions) -> ListenResult {
    let bound = match &opts.path {
      Some(path) => {
        let _rt = handle().enter();
        UnixListener::bind(path).map(|l| {
          (Some(Listener::Unix(l, path.clone())), BoundAddress { address: path.clone(), family: "unix".into(), port: 0 })
        })
      }
      None => bind_tcp(&opts).and_then(|l| {
        let (address, port, family) = split_addr(&l.local_addr()?);
        let bound = BoundAddress { address, family, port };
        let l = match self.accept_on_loop(env, l) {
          Ok(()) => return Ok((None, bound)),
          Err(l) => l,
        };
        let _rt = handle().enter();
        Ok((Some(Listener::Tcp(TcpListener::from_std(l)?)), bound))
      }),
    };
    let bound = match bound {
      Ok((Some(listener), addr)) => Ok((listener, addr)),
      Ok((None, addr)) => return ListenResult { bound: Some(addr), error: None },
      Err(e) => Err(e),
    };
    match bound {
      Ok((listener, addr)) => {
        use std::os::fd::AsRawFd;
        // Unix listeners are not shut down early: after shutdown(2) on an AF_UNIX listener
        // the accept loop was seen never to wake again (not even for `stop`).
        *lock(&self.listen_fd) = match &listener {
          Listener::Tcp(l) => Some(l.as_raw_fd()),
          Listener::Unix(..) => None,
        };
        let (emitter, stop, closing) = (self.emitter.clone(), self.stop.clone(), self.closing.clone());
        let task = handle().spawn(accept_loop(listener, emitter, stop, closing, lock(&self.tls).clone(), self.pending.clone(), self.announce.clone()));
        *lock(&self.task) = Some(task.abort_handle());
        ListenResult { bound: Some(addr), error: None }
      }
      Err(e) => ListenResult { bound: None, error: Some(ErrInfo::io(&e, "listen")) },
    }
  }

  /// Stops accepting; `CLOSED` follows once the listening descriptor is gone.
  #[napi(catch_unwind)]
  pub fn close(&self) {
    if let Some(p) = lock(&self.on_loop).take() {
      // SAFETY: valid until this close hands it to libuv's close callback.
      unsafe { (*p.0).close() };
      return;
    }
    self.closing.store(true, std::sync::atomic::Ordering::SeqCst);
    if let Some(fd) = lock(&self.listen_fd).take() {
      // SAFETY: the accept loop keeps this descriptor open until it sees `stop`, notified
      // only below; shutdown(2) on a listening socket refuses new connections at once.
      unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
    }
    self.stop.notify_one();
  }

  /// Aborts the TLS handshake `id` (JavaScript destroyed the accepted connection's socket
  /// before it): the connection closes and the server reports Node's `'tlsClientError'`
  /// ECONNRESET. False when that handshake already ended (it reported itself).
  #[napi(catch_unwind)]
  pub fn abort_handshake(&self, id: u32, report: Option<bool>) -> bool {
    let Some(p) = lock(&self.pending).remove(&id) else { return false };
    p.task.abort();
    // Not reported when the server itself refused the connection (over `maxConnections`: Node
    // closes the raw socket and emits only 'drop').
    if report != Some(false) {
      let reset = std::io::Error::from_raw_os_error(libc::ECONNRESET);
      self.emitter.emit(Ev::TlsClientError(ErrInfo::io(&reset, "read"), p.addrs));
    }
    true
  }

  /// Lets the handshake `id` start (its `'connection'` listeners ran).
  #[napi(catch_unwind)]
  pub fn start_handshake(&self, id: u32) {
    if let Some(go) = lock(&self.pending).get_mut(&id).and_then(|p| p.go.take()) {
      let _ = go.send(());
    }
  }

  /// Whether accepted TLS connections wait for `start_handshake` (JavaScript listens for
  /// `'connection'`).
  #[napi(catch_unwind)]
  pub fn announce_accepts(&self, on: bool) {
    self.announce.store(on, std::sync::atomic::Ordering::SeqCst);
  }

  /// Drops the event callback for good (after `CLOSED`, or when the server never listened).
  #[napi(catch_unwind)]
  pub fn release(&self) {
    if let Some(t) = lock(&self.task).take() {
      t.abort();
    }
    self.emitter.close();
  }

  #[napi(js_name = "ref", catch_unwind)]
  pub fn ref_(&self, env: &Env) -> Result<()> {
    self.set_ref(env, true)
  }

  #[napi(catch_unwind)]
  pub fn unref(&self, env: &Env) -> Result<()> {
    self.set_ref(env, false)
  }
}

impl NativeServer {
  fn set_ref(&self, env: &Env, on: bool) -> Result<()> {
    if let Some(p) = lock(&self.on_loop).as_ref() {
      // SAFETY: valid while held here (see `close`); JavaScript thread.
      unsafe { (*p.0).set_ref(on) };
      return Ok(());
    }
    self.emitter.set_ref(env, on)
  }

  /// A plain TCP server accepts on Node's loop when it can (not TLS: handshakes run on the
  /// runtime). The listener comes back when it cannot.
  fn accept_on_loop(&self, env: &Env, listener: std::net::TcpListener) -> std::result::Result<(), std::net::TcpListener> {
    if lock(&self.tls).is_some() || !crate::uvloop::libuv::available() {
      return Err(listener);
    }
    // SAFETY: a napi method, so the JavaScript thread of `env`.
    let Some(cb) = (unsafe { self.emitter.callback_value(env.raw()) }) else { return Err(listener) };
    crate::uvloop::accept::reserve_spare();
    // SAFETY: JavaScript thread (a napi method); `cb` is a function of this env.
    let me = unsafe { LoopListener::start(env.raw(), listener, cb, |s| Box::new(NativeSocket::from_plain(s))) }?;
    *lock(&self.on_loop) = Some(ListenerPtr(me));
    // The poll handle keeps the loop alive now (and follows ref/unref), not the emitter.
    let _ = self.emitter.set_ref(env, false);
    Ok(())
  }
}

impl Default for NativeServer {
  fn default() -> Self {
    Self::new()
  }
}
