//! A socket's outgoing connections: normalised connect options, where the connect runs (on
//! Node's loop when no connect timeout is set, else on the runtime: `runtime::connect`), and
//! what follows it — a plain socket, or the TLS handshake (`runtime::secure`) and its outcome.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::{LoopPtr, NativeSocket, SocketCore};
use crate::deliver::{Ev, EventCallback};
use crate::errors::ErrInfo;
use crate::net::plain::PlainStream;
use crate::net::AddrPair;
use crate::runtime::conn::Conn;
use crate::runtime::connect::tcp_connect;
use crate::runtime::handle;
use crate::js::tls_context::TlsContext;
use crate::runtime::secure::{client_handshake, lost, Secured};
use crate::sync::lock;
use crate::uvloop::io::LoopIo;
use crate::uvloop::tls_state::LoopTls;

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

fn parse_ip(s: &str) -> Result<IpAddr> {
  s.parse().map_err(|_| Error::new(Status::InvalidArg, format!("invalid IP address: {s}")))
}

/// Starts a non-blocking TCP connect on the calling thread, for a socket that will run on
/// Node's loop (`uvloop`). `None` when that is not possible or anything fails at once (a bad
/// local address, a failed bind, an unreachable network): the caller then connects on tokio,
/// which reports the same failure as an `ERROR` event, asynchronously as Node does.
fn start_connect_nonblocking(opts: &TcpConnectOptions) -> Option<std::net::TcpStream> {
  if !crate::uvloop::libuv::available() {
    return None;
  }
  let target = SocketAddr::new(parse_ip(&opts.address).ok()?, opts.port as u16);
  let domain = if target.is_ipv4() { socket2::Domain::IPV4 } else { socket2::Domain::IPV6 };
  let sock = socket2::Socket::new(domain, socket2::Type::STREAM.nonblocking(), Some(socket2::Protocol::TCP)).ok()?;
  if opts.local_address.is_some() || opts.local_port.is_some() {
    let ip: IpAddr = match &opts.local_address {
      Some(a) => a.parse().ok()?,
      None if target.is_ipv4() => IpAddr::from([0u8; 4]),
      None => IpAddr::from([0u16; 8]),
    };
    sock.bind(&SocketAddr::new(ip, opts.local_port.unwrap_or(0) as u16).into()).ok()?;
  }
  if opts.no_delay == Some(true) {
    sock.set_tcp_nodelay(true).ok()?;
  }
  match sock.connect(&target.into()) {
    Ok(()) => {}
    Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
    Err(_) => return None,
  }
  Some(sock.into())
}

/// The client handshake after a TCP connect; the socket gets `SECURE` (or `ERROR`) and goes on
/// on Node's loop (or on the runtime without it).
async fn secure_client(core: Arc<SocketCore>, conn: Arc<Conn>, tls: crate::tls::ClientTls, servername: String, limit: Option<Duration>) {
  match client_handshake(conn, &tls, servername, limit, crate::uvloop::libuv::available()).await {
    Ok(done) => {
      core.set_tls(done.info.clone(), done.peer);
      let first = Some(Ev::Secure(done.info));
      match done.secured {
        Secured::Loop(conn, tls) => core.defer_tls(conn, LoopTls::from(tls), first),
        Secured::Runtime(conn, stream) => core.open_stream(conn, stream, first),
        Secured::Lost => core.emitter.emit(Ev::Error(lost())),
      }
    }
    Err(e) => core.emitter.emit(Ev::Error(e)),
  }
}

#[napi]
impl NativeSocket {
  /// Connects over TCP, delivering events to `cb`; emits `CONNECT` or `ERROR` (syscall
  /// `connect`/`bind`). Without a connect timeout the connect runs on Node's own loop (the
  /// socket never touches tokio); otherwise, or when that is not possible, on tokio.
  #[napi(catch_unwind)]
  pub fn connect_tcp(&self, env: &Env, opts: TcpConnectOptions, cb: EventCallback<'_>) -> Result<()> {
    if opts.timeout_ms.unwrap_or(0) == 0 {
      if let Some(stream) = start_connect_nonblocking(&opts) {
        if let Some(old) = lock(&self.core.lp).take() {
          old.io().close(); // an earlier attempt that failed (the next address is tried)
        }
        // SAFETY: JavaScript thread (a napi method); `cb` is a function of this env.
        if let Ok(io) = unsafe { LoopIo::attach(env.raw(), PlainStream::Tcp(stream), cb.raw(), false, None, true) } {
          *lock(&self.core.lp) = Some(LoopPtr(io));
          return Ok(());
        }
      }
    }
    self.core.emitter.start(cb)?;
    self.connect(opts, None)
  }

  /// Connects over TCP and runs the TLS handshake with `servername` (SNI and the identity
  /// checked); emits `CONNECT`, then `SECURE` or `ERROR`.
  #[napi(catch_unwind)]
  pub fn connect_tls(&self, opts: TcpConnectOptions, ctx: &TlsContext, servername: String, handshake_timeout_ms: Option<u32>) -> Result<()> {
    let tls = ctx.client().ok_or_else(|| Error::new(Status::InvalidArg, "a server TLS context cannot connect"))?;
    let limit = handshake_timeout_ms.filter(|ms| *ms > 0).map(|ms| Duration::from_millis(ms as u64));
    self.connect(opts, Some((tls, servername, limit)))
  }

  /// Connects to a Unix domain socket at `path`.
  #[napi(catch_unwind)]
  pub fn connect_unix(&self, path: String) -> Result<()> {
    let core = self.core.clone();
    let task = handle().spawn(async move {
      match tokio::net::UnixStream::connect(&path).await {
        Ok(stream) => {
          core.open_plain_or_defer(Conn::Unix(stream), Some(Ev::Connect(AddrPair::default())));
        }
        Err(e) => core.emitter.emit(Ev::Error(ErrInfo::io(&e, "connect"))),
      }
    });
    self.core.track(task.abort_handle());
    Ok(())
  }

  /// Connects to a Unix domain socket at `path` and runs the TLS client handshake over it,
  /// as `connect_tls` does over TCP: `CONNECT`, then `SECURE` (the connection moves to Node's
  /// loop like a TCP one) or `ERROR`.
  #[napi(catch_unwind)]
  pub fn connect_unix_tls(&self, path: String, ctx: &TlsContext, servername: String, handshake_timeout_ms: Option<u32>) -> Result<()> {
    let tls = ctx.client().ok_or_else(|| Error::new(Status::InvalidArg, "a server TLS context cannot connect"))?;
    let limit = handshake_timeout_ms.filter(|ms| *ms > 0).map(|ms| Duration::from_millis(ms as u64));
    let core = self.core.clone();
    let task = handle().spawn(async move {
      match tokio::net::UnixStream::connect(&path).await {
        Ok(stream) => {
          core.emitter.emit(Ev::Connect(AddrPair::default()));
          Box::pin(secure_client(core, Arc::new(Conn::Unix(stream)), tls, servername, limit)).await;
        }
        Err(e) => core.emitter.emit(Ev::Error(ErrInfo::io(&e, "connect"))),
      }
    });
    self.core.track(task.abort_handle());
    Ok(())
  }
}

impl NativeSocket {
  fn connect(&self, opts: TcpConnectOptions, tls: Option<(crate::tls::ClientTls, String, Option<Duration>)>) -> Result<()> {
    let target = SocketAddr::new(parse_ip(&opts.address)?, opts.port as u16);
    let core = self.core.clone();
    let limit = opts.timeout_ms.filter(|ms| *ms > 0).map(|ms| Duration::from_millis(ms as u64));
    let task = handle().spawn(async move {
      match tcp_connect(target, opts.local_address.as_deref(), opts.local_port, limit).await {
        Ok(stream) => {
          if opts.no_delay == Some(true) {
            let _ = stream.set_nodelay(true);
          }
          let conn = Arc::new(Conn::Tcp(stream));
          let addrs = conn.addresses();
          match tls {
            None => match Arc::try_unwrap(conn) {
              Ok(conn) => core.open_plain_or_defer(conn, Some(Ev::Connect(addrs))),
              Err(conn) => core.open_plain(conn, Some(Ev::Connect(addrs))),
            },
            Some((tls, servername, hs_limit)) => {
              core.emitter.emit(Ev::Connect(addrs));
              // Boxed: the handshake's state machine is large, and a plain connect should
              // not carry (and keep allocated) room for it.
              Box::pin(secure_client(core, conn, tls, servername, hs_limit)).await;
            }
          }
        }
        Err(e) if e.code == "ECONNRESET" && e.syscall == "connect" && tls.is_none() => {
          for ev in Ev::reset_after_connect(Default::default()) {
            core.emitter.emit(ev);
          }
        }
        Err(e) => core.emitter.emit(Ev::Error(e)),
      }
    });
    self.core.track(task.abort_handle());
    Ok(())
  }
}

