//! Data both I/O paths share: the endpoints of a connection as Node reports them
//! (`AddrPair`), what a finished TLS handshake reports (`SecureInfo`), and a connected plain
//! stream (`plain`).

use std::net::SocketAddr;

use crate::errors::ErrInfo;

pub mod plain;

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

/// An address as Node reports it: `(address, port, family)`.
pub fn split_addr(a: &SocketAddr) -> (String, u32, String) {
  let fam = if a.is_ipv4() { "IPv4" } else { "IPv6" };
  (a.ip().to_string(), a.port() as u32, fam.to_string())
}
