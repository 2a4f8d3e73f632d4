//! TLS on the socket core: the `TlsContext` handle (configs built once from JavaScript options
//! and shared as `Arc`), the server-side handshake run for every accepted connection, the
//! client-side handshake after connect, and what a finished handshake reports to JavaScript
//! (`SecureInfo`: protocol, cipher, ALPN, SNI, `authorized`/`authorizationError`).
//! Handshakes are bounded by the `handshake` phase timeout.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CommonState, HandshakeKind, ProtocolVersion};

use crate::runtime::conn::{Conn, ConnIo};
use crate::runtime::handshake::{self, Established};
use crate::errors::ErrInfo;
use crate::handover::TlsHandover;
use crate::net::{AddrPair, SecureInfo};
use crate::runtime::with_timeout;
use crate::tls::authz::AuthzPolicy;
use crate::tls::verifier::{authorization, VerifyPolicy};
use crate::tls::{build_client_config, build_server_config, ClientTls, ClientTlsOptions, ServerTls, ServerTlsOptions};
use crate::tls::{MaterialSources, Source};

/// Node's default `handshakeTimeout` for TLS servers.
const DEFAULT_HANDSHAKE_TIMEOUT_MS: u32 = 120_000;

/// TLS options after JavaScript folded the aliases and normalised each material option into
/// an array (a string without `-----BEGIN` is a path).
#[napi(object)]
pub struct TlsOptions {
  pub key: Option<Vec<Either<String, Buffer>>>,
  pub cert: Option<Vec<Either<String, Buffer>>>,
  pub ca: Option<Vec<Either<String, Buffer>>>,
  pub request_cert: Option<bool>,
  pub reject_unauthorized: Option<bool>,
  pub alpn_protocols: Option<Vec<String>>,
  pub min_version: Option<String>,
  pub max_version: Option<String>,
  pub session_resumption: Option<bool>,
  /// False when JavaScript runs the user's own `checkServerIdentity`.
  pub check_server_identity: Option<bool>,
  pub allow_clients: Option<Vec<String>>,
  pub deny_clients: Option<Vec<String>>,
  /// Milliseconds; 0 disables the limit.
  pub handshake_timeout: Option<u32>,
}

fn sources(list: &Option<Vec<Either<String, Buffer>>>) -> Vec<Source> {
  list
    .iter()
    .flatten()
    .map(|item| match item {
      Either::A(s) => Source::from_js_string(s),
      Either::B(b) => Source::Pem(b.to_vec()),
    })
    .collect()
}

fn material(o: &TlsOptions) -> MaterialSources {
  MaterialSources { key: sources(&o.key), cert: sources(&o.cert), ca: sources(&o.ca) }
}

fn alpn(o: &TlsOptions) -> Vec<Vec<u8>> {
  o.alpn_protocols.iter().flatten().map(|p| p.as_bytes().to_vec()).collect()
}

enum Side {
  Server(ServerTls),
  Client(ClientTls),
}

/// A built TLS configuration, shared by every connection of a server or client.
#[napi]
pub struct TlsContext {
  side: Arc<Side>,
  handshake_timeout: Option<Duration>,
}

/// What an accept loop needs to run server handshakes.
#[derive(Clone)]
pub struct ServerSide {
  tls: Arc<Side>,
  handshake_timeout: Option<Duration>,
}

#[napi]
impl TlsContext {
  /// Builds a server or client context; bad material or options come back as `ErrInfo`
  /// (a coded error naming the option and the path) instead of a context.
  #[napi(catch_unwind)]
  pub fn create(server: bool, opts: TlsOptions) -> Either<TlsContext, ErrInfo> {
    let built = if server {
      build_server_config(&ServerTlsOptions {
        material: material(&opts),
        request_cert: opts.request_cert.unwrap_or(false),
        reject_unauthorized: opts.reject_unauthorized.unwrap_or(true),
        alpn_protocols: alpn(&opts),
        min_version: opts.min_version.clone(),
        max_version: opts.max_version.clone(),
        session_resumption: opts.session_resumption.unwrap_or(true),
        authz: AuthzPolicy {
          allow: opts.allow_clients.clone().unwrap_or_default(),
          deny: opts.deny_clients.clone().unwrap_or_default(),
        },
      })
      .map(Side::Server)
    } else {
      build_client_config(&ClientTlsOptions {
        material: material(&opts),
        reject_unauthorized: opts.reject_unauthorized.unwrap_or(true),
        check_server_identity: opts.check_server_identity.unwrap_or(true),
        alpn_protocols: alpn(&opts),
        min_version: opts.min_version.clone(),
        max_version: opts.max_version.clone(),
        session_resumption: opts.session_resumption.unwrap_or(true),
      })
      .map(Side::Client)
    };
    let ms = opts.handshake_timeout.unwrap_or(DEFAULT_HANDSHAKE_TIMEOUT_MS);
    match built {
      Ok(side) => Either::A(TlsContext {
        side: Arc::new(side),
        handshake_timeout: (ms > 0).then(|| Duration::from_millis(ms as u64)),
      }),
      Err(e) => Either::B(ErrInfo::coded(e.code, e.message)),
    }
  }

  #[napi(getter, catch_unwind)]
  pub fn is_server(&self) -> bool {
    matches!(*self.side, Side::Server(_))
  }
}

impl ServerSide {
  pub fn server_tls(&self) -> Option<&ServerTls> {
    match &*self.tls {
      Side::Server(s) => Some(s),
      Side::Client(_) => None,
    }
  }

  pub fn handshake_timeout(&self) -> Option<Duration> {
    self.handshake_timeout
  }
}

impl TlsContext {
  pub fn server_side(&self) -> Option<ServerSide> {
    self.is_server().then(|| ServerSide { tls: self.side.clone(), handshake_timeout: self.handshake_timeout })
  }

  pub fn client(&self) -> Option<ClientTls> {
    match &*self.side {
      Side::Client(c) => Some(c.clone()),
      Side::Server(_) => None,
    }
  }
}

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

/// An established connection leaves tokio for Node's loop (`looptls`), with the last flight
/// of its handshake still queued (see `handshake`), or stays on tokio when the loop is not
/// used.
/// Where an established TLS connection goes next.
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
  let handshake = async { handshake::accept(&tls.config, io, to_loop).await.map_err(|e| ErrInfo::io(&e, "handshake")) };
  match with_timeout(handshake, "handshake", limit).await {
    Ok(stream) => {
      let state = stream.conn();
      let peer = owned(state.peer_certificates());
      let (authorized, error) = if tls.policy.request_cert || !tls.policy.authz.is_empty() {
        authorize(&peer, &tls.policy, None)
      } else {
        (false, None)
      };
      let mut info = secure_info(state, authorized, error);
      info.servername = state.server_name().map(str::to_string);
      let secured = hand_over(conn, stream, rustls::Connection::Server);
      (addrs, Ok(Handshaken { secured, info, peer: shown_chain(peer, &tls.policy) }))
    }
    Err(e) => (addrs, Err(e)),
  }
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
  let state = stream.conn();
  let peer = owned(state.peer_certificates());
  let (authorized, error) = authorize(&peer, &tls.policy, Some(&servername));
  let mut info = secure_info(state, authorized, error);
  info.servername = Some(servername);
  let peer = shown_chain(peer, &tls.policy);
  Ok(Handshaken { secured: hand_over(conn, stream, rustls::Connection::Client), info, peer })
}
