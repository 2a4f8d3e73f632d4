//! `TlsContext`: a TLS configuration built once from JavaScript options (`tls::config`) and
//! shared as `Arc` by every connection of a server (`ServerSide`, for its accept loop) or of
//! the client sockets that connect with it.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::ErrInfo;
use crate::tls::authz::AuthzPolicy;
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

  /// The handshake limit in milliseconds (Node's 120000 unless the options said otherwise);
  /// undefined when there is none. TLS over a JavaScript stream applies it in JavaScript.
  #[napi(getter, catch_unwind)]
  pub fn handshake_timeout_ms(&self) -> Option<u32> {
    self.handshake_timeout.map(|d| d.as_millis().min(u32::MAX as u128) as u32)
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
