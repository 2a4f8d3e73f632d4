//! Outgoing connections: normalised connect options, the TCP connect (bounded by the
//! `connect` phase timeout) and what follows it — a plain socket, or the TLS handshake.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::runtime::conn::Conn;
use crate::errors::ErrInfo;
use crate::deliver::Ev;
use crate::runtime::{handle, with_timeout};
use crate::runtime::secure::{client_handshake, lost, Secured};
use crate::js::socket::SocketCore;
use crate::uvloop::tls_state::LoopTls;
use crate::js::socket::NativeSocket;

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

/// Starts a non-blocking TCP connect on the calling thread, for a socket that will run on
/// Node's loop (`uvloop`). `None` when that is not possible or anything fails at once (a bad
/// local address, a failed bind, an unreachable network): the caller then connects on tokio,
/// which reports the same failure as an `ERROR` event, asynchronously as Node does.
pub(super) fn start_connect_nonblocking(opts: &TcpConnectOptions) -> Option<std::net::TcpStream> {
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

impl NativeSocket {
  pub(crate) fn connect(&self, opts: TcpConnectOptions, tls: Option<(crate::tls::ClientTls, String, Option<Duration>)>) -> Result<()> {
    let target = SocketAddr::new(parse_ip(&opts.address)?, opts.port as u16);
    let core = self.core.clone();
    let limit = opts.timeout_ms.filter(|ms| *ms > 0).map(|ms| Duration::from_millis(ms as u64));
    let task = handle().spawn(async move {
      match with_timeout(tcp_connect(&opts, target), "connect", limit).await {
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

