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
use crate::uvloop::tls_state::LoopTls;
use crate::errors::ErrInfo;
use crate::deliver::{Emitter, Ev};
use crate::net::SecureInfo;
use crate::runtime::with_timeout;
use crate::js::socket::{NativeSocket, SocketCore};
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
#[allow(clippy::type_complexity)]
fn on_loop<C, S>(
  conn: Arc<Conn>,
  established: Established<C, S>,
  wrap: fn(C) -> rustls::Connection,
) -> std::result::Result<Option<(Conn, LoopTls)>, (Arc<Conn>, S)> {
  match established {
    Established::Stream(stream) => Err((conn, stream)),
    Established::Held { io, conn: state } => {
      let (inner, leftover) = io.into_parts();
      drop(inner);
      // Our reference is the last one now (the handshake held the other); if it ever were
      // not, the descriptor cannot leave and the connection is lost.
      Ok(Arc::try_unwrap(conn).ok().map(|conn| (conn, LoopTls::new(wrap(state), leftover))))
    }
  }
}

fn lost() -> ErrInfo {
  ErrInfo::coded("ERR_CIO_INTERNAL", "the connection could not be handed to the event loop")
}

/// Runs the server handshake for one accepted connection; the result is a `CONNECTION`
/// event carrying an encrypted socket, or `TLS_CLIENT_ERROR`.
pub async fn server_handshake(conn: Conn, side: ServerSide, emitter: Arc<Emitter>) {
  let Side::Server(tls) = &*side.tls else { return };
  let conn = Arc::new(conn);
  let addrs = conn.addresses();
  let io = ConnIo::new(conn.clone());
  let handshake = async { handshake::accept(&tls.config, io).await.map_err(|e| ErrInfo::io(&e, "handshake")) };
  match with_timeout(handshake, "handshake", side.handshake_timeout).await {
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
      let socket = match on_loop(conn, stream, rustls::Connection::Server) {
        Ok(Some((conn, looptls))) => NativeSocket::from_tls(conn, looptls),
        Ok(None) => return emitter.emit(Ev::TlsClientError(lost(), addrs)),
        Err((conn, stream)) => NativeSocket::from_stream(conn, stream),
      };
      socket.core.set_tls(info, shown_chain(peer, &tls.policy));
      emitter.emit(Ev::Connection(Box::new(socket)));
    }
    Err(e) => emitter.emit(Ev::TlsClientError(e, addrs)),
  }
}

/// The client handshake over a connected `conn`; on success the socket opens with a
/// `SECURE` event first.
pub async fn client_handshake(core: Arc<SocketCore>, conn: Arc<Conn>, tls: ClientTls, servername: String, limit: Option<Duration>) {
  let name = match ServerName::try_from(servername.clone()) {
    Ok(n) => n,
    Err(_) => {
      core.emitter.emit(Ev::Error(ErrInfo::coded("ERR_INVALID_ARG_VALUE", format!("invalid servername: {servername:?}"))));
      return;
    }
  };
  let io = ConnIo::new(conn.clone());
  let handshake = async { handshake::connect(&tls.config, name, io).await.map_err(|e| ErrInfo::io(&e, "handshake")) };
  match with_timeout(handshake, "handshake", limit).await {
    Ok(stream) => {
      let state = stream.conn();
      let peer = owned(state.peer_certificates());
      let (authorized, error) = authorize(&peer, &tls.policy, Some(&servername));
      let mut info = secure_info(state, authorized, error);
      info.servername = Some(servername);
      core.set_tls(info.clone(), shown_chain(peer, &tls.policy));
      match on_loop(conn, stream, rustls::Connection::Client) {
        Ok(Some((conn, looptls))) => core.defer_tls(conn, looptls, Some(Ev::Secure(info))),
        Ok(None) => core.emitter.emit(Ev::Error(lost())),
        Err((conn, stream)) => core.open_stream(conn, stream, Some(Ev::Secure(info))),
      }
    }
    Err(e) => core.emitter.emit(Ev::Error(e)),
  }
}
