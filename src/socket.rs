//! `NativeSocket`: the native half of a JavaScript `Socket` (see `lib/net.js`).
//!
//! A socket is either connecting (a connect task runs), open (a reader and a writer task run,
//! over plain `Conn` or TLS), or closed. JavaScript talks to it through a handful of methods
//! (`start`, `readStart`/`readStop`, `write`, `shutdown`, `close`, options) and hears back only
//! through its `Emitter`. `close` is idempotent, aborts every task and drops every reference
//! to the descriptor, so nothing outlives the JavaScript `'close'` event for long.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use crate::conn::{Conn, ConnIo};
use crate::errors::ErrInfo;
use crate::events::{AddrPair, Emitter, Ev, EventCallback};
use crate::runtime::{handle, with_timeout};

/// Size of one read from the network.
const READ_CHUNK: usize = 64 * 1024;

pub enum WriteCmd {
  Data(Vec<u8>),
  Shutdown,
}

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
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
  m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SocketCore {
  fn track(&self, task: AbortHandle) {
    if self.emitter.is_closed() {
      task.abort();
    } else {
      lock(&self.tasks).push(task);
    }
  }

  fn conn(&self) -> Option<Arc<Conn>> {
    lock(&self.conn).clone()
  }

  /// A plain connection is open: remember it and start its reader and writer.
  /// `first` is emitted after the socket can take writes and before any data event.
  pub fn open_plain(self: &Arc<Self>, conn: Arc<Conn>, first: Option<Ev>) {
    *lock(&self.conn) = Some(conn.clone());
    self.spawn_io(ConnIo(conn.clone()), ConnIo(conn), false, first);
  }

  /// An encrypted connection is open over `conn`.
  pub fn open_stream<S>(self: &Arc<Self>, conn: Arc<Conn>, stream: S, first: Option<Ev>)
  where
    S: AsyncRead + AsyncWrite + Send + 'static,
  {
    *lock(&self.conn) = Some(conn);
    let (r, w) = tokio::io::split(stream);
    self.spawn_io(r, w, true, first);
  }

  fn spawn_io<R, W>(self: &Arc<Self>, reader: R, writer: W, via_task: bool, first: Option<Ev>)
  where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
  {
    let (tx, rx) = mpsc::unbounded_channel();
    *lock(&self.writer) = Some(tx);
    *lock(&self.via_task) = via_task;
    if let Some(ev) = first {
      self.emitter.emit(ev);
    }
    let rt = handle();
    self.track(rt.spawn(read_loop(self.emitter.clone(), reader)).abort_handle());
    self.track(rt.spawn(write_loop(self.emitter.clone(), writer, rx)).abort_handle());
  }

  pub fn close(&self) {
    self.emitter.close();
    for t in lock(&self.tasks).drain(..) {
      t.abort();
    }
    lock(&self.writer).take();
    lock(&self.conn).take();
  }
}

async fn read_loop<R: AsyncRead + Unpin>(emitter: Arc<Emitter>, mut reader: R) {
  let mut buf = vec![0u8; READ_CHUNK];
  while emitter.wait_readable().await {
    match reader.read(&mut buf).await {
      Ok(0) => {
        emitter.emit(Ev::End);
        return;
      }
      Ok(n) => emitter.emit(Ev::Data(buf[..n].to_vec())),
      Err(e) => {
        emitter.emit(Ev::Error(ErrInfo::io(&e, "read")));
        return;
      }
    }
  }
}

async fn write_loop<W: AsyncWrite + Unpin>(
  emitter: Arc<Emitter>,
  mut writer: W,
  mut rx: mpsc::UnboundedReceiver<WriteCmd>,
) {
  while let Some(cmd) = rx.recv().await {
    match cmd {
      WriteCmd::Data(buf) => {
        let r = async {
          writer.write_all(&buf).await?;
          writer.flush().await
        }
        .await;
        emitter.emit(Ev::WriteDone(r.err().map(|e| ErrInfo::io(&e, "write"))));
      }
      WriteCmd::Shutdown => {
        let r = writer.shutdown().await;
        emitter.emit(Ev::ShutdownDone(r.err().map(|e| ErrInfo::io(&e, "shutdown"))));
      }
    }
  }
}

/// Options of `connectTcp`, already normalised by JavaScript (host resolved to an IP).
#[napi(object)]
pub struct TcpConnectOptions {
  pub address: String,
  pub port: u32,
  pub local_address: Option<String>,
  pub local_port: Option<u32>,
  /// cio's `connectTimeout` in milliseconds: `ETIMEDOUT` when the connection is not up by then.
  pub timeout_ms: Option<u32>,
  pub no_delay: Option<bool>,
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
    s.core.open_plain(Arc::new(conn), None);
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

fn parse_ip(s: &str) -> Result<IpAddr> {
  s.parse().map_err(|_| Error::new(Status::InvalidArg, format!("invalid IP address: {s}")))
}

async fn tcp_connect(opts: &TcpConnectOptions, target: SocketAddr) -> std::result::Result<tokio::net::TcpStream, ErrInfo> {
  let io = |e: std::io::Error, call: &str| ErrInfo::io(&e, call);
  let sock = if target.is_ipv4() { tokio::net::TcpSocket::new_v4() } else { tokio::net::TcpSocket::new_v6() }
    .map_err(|e| io(e, "socket"))?;
  if opts.local_address.is_some() || opts.local_port.is_some() {
    let ip = match &opts.local_address {
      Some(a) => a.parse().map_err(|_| ErrInfo::coded("ERR_INVALID_IP_ADDRESS", format!("Invalid IP address: {a}")))?,
      None if target.is_ipv4() => IpAddr::from([0u8; 4]),
      None => IpAddr::from([0u16; 8]),
    };
    sock.bind(SocketAddr::new(ip, opts.local_port.unwrap_or(0) as u16)).map_err(|e| io(e, "bind"))?;
  }
  sock.connect(target).await.map_err(|e| io(e, "connect"))
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

  /// Connects over TCP; emits `CONNECT` or `ERROR` (syscall `connect`/`bind`).
  #[napi(catch_unwind)]
  pub fn connect_tcp(&self, opts: TcpConnectOptions) -> Result<()> {
    let target = SocketAddr::new(parse_ip(&opts.address)?, opts.port as u16);
    let core = self.core.clone();
    let limit = opts.timeout_ms.filter(|ms| *ms > 0).map(|ms| Duration::from_millis(ms as u64));
    let task = handle().spawn(async move {
      match with_timeout(tcp_connect(&opts, target), "connect", limit).await {
        Ok(stream) => {
          if opts.no_delay == Some(true) {
            let _ = stream.set_nodelay(true);
          }
          let conn = Conn::Tcp(stream);
          let addrs = conn.addresses();
          core.open_plain(Arc::new(conn), Some(Ev::Connect(addrs)));
        }
        Err(e) => core.emitter.emit(Ev::Error(e)),
      }
    });
    self.core.track(task.abort_handle());
    Ok(())
  }

  /// Connects to a Unix domain socket at `path`.
  #[napi(catch_unwind)]
  pub fn connect_unix(&self, path: String) -> Result<()> {
    let core = self.core.clone();
    let task = handle().spawn(async move {
      match tokio::net::UnixStream::connect(&path).await {
        Ok(stream) => {
          core.open_plain(Arc::new(Conn::Unix(stream)), Some(Ev::Connect(AddrPair::default())));
        }
        Err(e) => core.emitter.emit(Ev::Error(ErrInfo::io(&e, "connect"))),
      }
    });
    self.core.track(task.abort_handle());
    Ok(())
  }

  #[napi(catch_unwind)]
  pub fn read_start(&self) {
    self.core.emitter.set_paused(false);
  }

  #[napi(catch_unwind)]
  pub fn read_stop(&self) {
    self.core.emitter.set_paused(true);
  }

  /// Writes `data`. Returns 0 when it was written at once (the caller completes the write
  /// now), 1 when it went to the writer task (a `WRITE_DONE` event follows), or the error when
  /// the direct write failed: like libuv's synchronous write errors, JavaScript destroys the
  /// socket inside `write()` (so `write()` returns false, as Node's does after EPIPE).
  #[napi(catch_unwind)]
  pub fn write(&self, data: &[u8]) -> Result<Either<u32, ErrInfo>> {
    let mut offset = 0;
    if !*lock(&self.core.via_task) {
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
    let sent = lock(&self.core.writer)
      .as_ref()
      .map(|tx| tx.send(WriteCmd::Data(data[offset..].to_vec())).is_ok())
      .unwrap_or(false);
    if !sent {
      let e = std::io::Error::from_raw_os_error(libc::EPIPE);
      self.core.emitter.emit(Ev::WriteDone(Some(ErrInfo::io(&e, "write"))));
    }
    Ok(Either::A(1))
  }

  /// Half-closes after queued writes; a `SHUTDOWN_DONE` event follows.
  #[napi(catch_unwind)]
  pub fn shutdown(&self) {
    let sent = lock(&self.core.writer).as_ref().map(|tx| tx.send(WriteCmd::Shutdown).is_ok()).unwrap_or(false);
    if !sent {
      self.core.emitter.emit(Ev::ShutdownDone(None));
    }
  }

  /// Destroys the socket: no more events, every task aborted, the descriptor released.
  #[napi(catch_unwind)]
  pub fn close(&self) {
    self.core.close();
  }

  #[napi(js_name = "ref", catch_unwind)]
  pub fn ref_(&self, env: &Env) -> Result<()> {
    self.core.emitter.set_ref(env, true)
  }

  #[napi(catch_unwind)]
  pub fn unref(&self, env: &Env) -> Result<()> {
    self.core.emitter.set_ref(env, false)
  }

  #[napi(catch_unwind)]
  pub fn set_no_delay(&self, on: bool) -> Result<()> {
    if let Some(c) = self.core.conn() {
      c.set_nodelay(on).map_err(|e| Error::from_reason(e.to_string()))?;
    }
    Ok(())
  }

  #[napi(catch_unwind)]
  pub fn set_keep_alive(&self, on: bool, delay_secs: u32) -> Result<()> {
    if let Some(c) = self.core.conn() {
      c.set_keepalive(on, delay_secs).map_err(|e| Error::from_reason(e.to_string()))?;
    }
    Ok(())
  }

  /// Endpoints of an open socket (empty when closed or connecting).
  #[napi(catch_unwind)]
  pub fn addresses(&self) -> AddrPair {
    self.core.conn().map(|c| c.addresses()).unwrap_or_default()
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
