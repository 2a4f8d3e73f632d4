//! Outgoing TCP connects on the runtime: the connect with Node's `localAddress`/`localPort`,
//! bounded by the `connect` phase timeout. Used when a connect timeout is set or Node's loop
//! is not available (`js::socket::connect` decides).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::errors::ErrInfo;
use crate::runtime::with_timeout;

/// Connects to `target` from `local_address`/`local_port` when given, within `limit`.
pub async fn tcp_connect(
  target: SocketAddr,
  local_address: Option<&str>,
  local_port: Option<u32>,
  limit: Option<Duration>,
) -> Result<tokio::net::TcpStream, ErrInfo> {
  with_timeout(connect(target, local_address, local_port), "connect", limit).await
}

async fn connect(target: SocketAddr, local_address: Option<&str>, local_port: Option<u32>) -> Result<tokio::net::TcpStream, ErrInfo> {
  let io = |e: std::io::Error, call: &str| ErrInfo::io(&e, call);
  let sock = if target.is_ipv4() { tokio::net::TcpSocket::new_v4() } else { tokio::net::TcpSocket::new_v6() }
    .map_err(|e| io(e, "socket"))?;
  if local_address.is_some() || local_port.is_some() {
    let ip = match local_address {
      Some(a) => a.parse().map_err(|_| ErrInfo::coded("ERR_INVALID_IP_ADDRESS", format!("Invalid IP address: {a}")))?,
      None if target.is_ipv4() => IpAddr::from([0u8; 4]),
      None => IpAddr::from([0u16; 8]),
    };
    sock.bind(SocketAddr::new(ip, local_port.unwrap_or(0) as u16)).map_err(|e| io(e, "bind"))?;
  }
  sock.connect(target).await.map_err(|e| io(e, "connect"))
}
