//! TLS handshakes on the runtime: the server-side handshake run for every accepted connection,
//! the client-side handshake after connect, and what a finished handshake reports to
//! JavaScript (`SecureInfo`: protocol, cipher, ALPN, SNI, `authorized`/`authorizationError`).
//! Handshakes are bounded by the `handshake` phase timeout. They return their outcome
//! (`Handshaken`); the handle layer (`js`) makes sockets of it.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CommonState, HandshakeKind, ProtocolVersion};

use crate::runtime::conn::{Conn, ConnIo};
use crate::runtime::handshake::{self, Established};
use crate::errors::ErrInfo;
use crate::handover::TlsHandover;
use crate::net::{AddrPair, SecureInfo};
use crate::runtime::with_timeout;
use crate::tls::verifier::{authorization, VerifyPolicy};
use crate::tls::{ClientTls, ServerTls};

/// Node's `authorized`/`authorizationError` for a finished handshake.
fn authorize(peer: &[CertificateDer<'static>], policy: &VerifyPolicy, server_name: Option<&str>) -> (bool, Option<ErrInfo>) {
  if policy.reject_unauthorized && !peer.is_empty() {
    // The verifier already refused anything unauthorised during the handshake.
    return (true, None);
  }
  match authorization(peer, policy, server_name) {
    Ok(()) => (true, None),
    Err(v) => (false, Some(ErrInfo::coded(v.code, v.message))),
  }
}

fn secure_info(state: &CommonState, authorized: bool, authorization_error: Option<ErrInfo>) -> SecureInfo {
  SecureInfo {
    protocol: state.protocol_version().map(|v| {
      match v {
        ProtocolVersion::TLSv1_3 => "TLSv1.3",
        ProtocolVersion::TLSv1_2 => "TLSv1.2",
        _ => "unknown",
      }
      .to_string()
    }),
    cipher: state.negotiated_cipher_suite().and_then(|s| s.suite().as_str()).map(str::to_string),
    alpn_protocol: state.alpn_protocol().map(|p| String::from_utf8_lossy(p).into_owned()),
    servername: None,
    authorized,
    authorization_error,
    session_reused: state.handshake_kind() == Some(HandshakeKind::Resumed),
  }
}

fn owned(certs: Option<&[CertificateDer<'_>]>) -> Vec<CertificateDer<'static>> {
  certs.map(|c| c.iter().map(|c| c.clone().into_owned()).collect()).unwrap_or_default()
}

/// The chain `getPeerCertificate(true)` shows: what the peer sent, plus the trusted `ca`
/// certificate that issued its last one (Node completes the chain from its store the same way).
fn shown_chain(mut peer: Vec<CertificateDer<'static>>, policy: &VerifyPolicy) -> Vec<CertificateDer<'static>> {
  if let Some(anchor) = peer.last().and_then(|last| policy.store.issuer_of(last.as_ref())) {
    peer.push(anchor);
  }
  peer
}

/// What a finished server-side handshake reports (`SecureInfo`) and the peer chain
/// `getPeerCertificate()` shows. Shared by every path that completes a handshake (the socket
/// paths here, TLS over a JavaScript stream in `js::tls_stream`), so verification and
/// `authorized` are decided the same way everywhere.
pub fn server_outcome(state: &rustls::ServerConnection, tls: &ServerTls) -> (SecureInfo, Vec<CertificateDer<'static>>) {
  let peer = owned(state.peer_certificates());
  let (authorized, error) = if tls.policy.request_cert || !tls.policy.authz.is_empty() {
    authorize(&peer, &tls.policy, None)
  } else {
    (false, None)
  };
  let mut info = secure_info(state, authorized, error);
  info.servername = state.server_name().map(str::to_string);
  (info, shown_chain(peer, &tls.policy))
}

/// The client-side counterpart of `server_outcome`, for a connection to `servername`.
pub fn client_outcome(state: &rustls::ClientConnection, tls: &ClientTls, servername: String) -> (SecureInfo, Vec<CertificateDer<'static>>) {
  let peer = owned(state.peer_certificates());
  let (authorized, error) = authorize(&peer, &tls.policy, Some(&servername));
  let mut info = secure_info(state, authorized, error);
  info.servername = Some(servername);
  (info, shown_chain(peer, &tls.policy))
}

/// Where an established TLS connection goes next: it leaves tokio for Node's loop (through
/// `handover`), with the last flight of its handshake still queued (see `handshake`), or stays
/// on tokio when the loop is not used.
// Moved once, by value, as the tuple it replaces was (no box: no extra allocation).
#[allow(clippy::large_enum_variant)]
pub enum Secured<S> {
  /// To Node's loop: the descriptor and the rustls state (see `handover`).
  Loop(Conn, TlsHandover),
  /// Stays on the runtime (`CIO_IO=tokio`): tokio-rustls' stream over the shared `Conn`.
  Runtime(Arc<Conn>, S),
  /// The descriptor could not leave the runtime (another reference to it was alive; never
  /// expected): the connection is lost.
  Lost,
}

/// A finished handshake: where the connection goes, what JavaScript is told about it, and the
/// peer's chain as `getPeerCertificate()` shows it.
pub struct Handshaken<S> {
  pub secured: Secured<S>,
  pub info: SecureInfo,
  pub peer: Vec<CertificateDer<'static>>,
}

pub type ServerStream = tokio_rustls::server::TlsStream<ConnIo>;
pub type ClientStream = tokio_rustls::client::TlsStream<ConnIo>;

fn hand_over<C, S>(conn: Arc<Conn>, established: Established<C, S>, wrap: fn(C) -> rustls::Connection) -> Secured<S> {
  match established {
    Established::Stream(stream) => Secured::Runtime(conn, stream),
    Established::Held { io, conn: state } => {
      let (inner, leftover) = io.into_parts();
      drop(inner);
      // Our reference is the last one now (the handshake held the other); if it ever were
      // not, the descriptor cannot leave and the connection is lost.
      match Arc::try_unwrap(conn) {
        Ok(conn) => Secured::Loop(conn, TlsHandover { state: wrap(state), read_ahead: leftover }),
        Err(_) => Secured::Lost,
      }
    }
  }
}

pub fn lost() -> ErrInfo {
  ErrInfo::coded("ERR_CIO_INTERNAL", "the connection could not be handed to the event loop")
}

/// The server side of the handshake over an accepted connection, bounded by `limit`; held for
/// Node's loop when `to_loop`. The connection's endpoints come with the outcome (Node's
/// `'tlsClientError'` reports them).
pub async fn server_handshake(
  conn: Conn,
  tls: &ServerTls,
  limit: Option<Duration>,
  to_loop: bool,
) -> (AddrPair, std::result::Result<Handshaken<ServerStream>, ErrInfo>) {
  let conn = Arc::new(conn);
  let addrs = conn.addresses();
  let io = ConnIo::new(conn.clone());
  if !tls.has_cert {
    let refused = async { Err(refuse_without_cert(io, tls.tls13).await) };
    return (addrs, with_timeout(refused, "handshake", limit).await);
  }
  let handshake = async { handshake::accept(&tls.config, io, to_loop).await.map_err(|e| ErrInfo::io(&e, "handshake")) };
  match with_timeout(handshake, "handshake", limit).await {
    Ok(stream) => {
      let (info, peer) = server_outcome(stream.conn(), tls);
      let secured = hand_over(conn, stream, rustls::Connection::Server);
      (addrs, Ok(Handshaken { secured, info, peer }))
    }
    Err(e) => (addrs, Err(e)),
  }
}

/// A server made without `key`/`cert` (Node makes one): it reads the ClientHello, then
/// refuses it with a fatal `handshake_failure` alert and OpenSSL's error for the version it
/// would have negotiated, as a Node server without a certificate does. Bytes that are not a
/// ClientHello fail as they would anywhere (rustls's alert, OpenSSL's reason).
async fn refuse_without_cert(mut io: ConnIo, server_tls13: bool) -> ErrInfo {
  use tokio::io::{AsyncReadExt, AsyncWriteExt};
  let mut acceptor = rustls::server::Acceptor::default();
  let mut seen = Vec::new();
  let mut buf = [0u8; 4096];
  loop {
    let n = match io.read(&mut buf).await {
      Ok(0) => return ErrInfo::io(&std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "tls handshake eof"), "handshake"),
      Ok(n) => n,
      Err(e) => return ErrInfo::io(&e, "handshake"),
    };
    seen.extend_from_slice(&buf[..n]);
    let mut rest = &buf[..n];
    while !rest.is_empty() {
      if acceptor.read_tls(&mut rest).is_err() {
        break;
      }
    }
    match acceptor.accept() {
      Ok(None) => continue,
      Ok(Some(_hello)) => break,
      Err((e, mut alert)) => {
        let mut out = Vec::new();
        let _ = alert.write_all(&mut out);
        let _ = io.write_all(&out).await;
        let _ = io.flush().await;
        return ErrInfo::io(&std::io::Error::new(std::io::ErrorKind::InvalidData, e), "handshake");
      }
    }
  }
  let _ = io.write_all(&crate::tls::error::HANDSHAKE_FAILURE_ALERT).await;
  let _ = io.flush().await;
  let tls13 = server_tls13 && crate::tls::client_hello::offers_tls13(&seen);
  let (code, message) = crate::tls::error::no_certificate_error(tls13);
  ErrInfo::coded(&code, message)
}

/// The client side of the handshake over a connected socket, bounded by `limit`; held for
/// Node's loop when `to_loop`.
pub async fn client_handshake(
  conn: Arc<Conn>,
  tls: &ClientTls,
  servername: String,
  limit: Option<Duration>,
  to_loop: bool,
) -> std::result::Result<Handshaken<ClientStream>, ErrInfo> {
  let name = match ServerName::try_from(servername.clone()) {
    Ok(n) => n,
    Err(_) => return Err(ErrInfo::coded("ERR_INVALID_ARG_VALUE", format!("invalid servername: {servername:?}"))),
  };
  let io = ConnIo::new(conn.clone());
  let handshake = async { handshake::connect(&tls.config, name, io, to_loop).await.map_err(|e| ErrInfo::io(&e, "handshake")) };
  let stream = with_timeout(handshake, "handshake", limit).await?;
  let (info, peer) = client_outcome(stream.conn(), tls, servername);
  Ok(Handshaken { secured: hand_over(conn, stream, rustls::Connection::Client), info, peer })
}
