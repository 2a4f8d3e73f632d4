//! `TlsStream`: TLS over a JavaScript stream (Node's `tls.connect({ socket })`,
//! `new TLSSocket(stream)`, a TLS server fed `server.emit('connection', stream)`). A rustls
//! connection with no descriptor: JavaScript feeds it the ciphertext it read from the
//! underlying stream and writes back the ciphertext it returns (`lib/tls-stream.js`).
//!
//! Everything runs on the JavaScript thread, the handshake's public-key work included (as
//! Node's OpenSSL does for these sockets). Measured over an in-memory Duplex pair with the
//! RSA-2048 test certificates, both sides on one thread: a full handshake takes ~1.1 ms of
//! JavaScript-thread time in all (client and server; Node's own: ~3.3 ms), a resumed one
//! ~0.5 ms, so no step blocks the loop for long and a thread hop per flight is not worth it. Verification and what a finished
//! handshake reports are the socket paths' own (`runtime::secure::{client,server}_outcome`,
//! the configs' verifiers).

use std::io::{Read, Write};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConnection, Connection, ServerConnection};

use super::peer_cert::peer_certificate_object;
use super::tls_context::TlsContext;
use crate::errors::ErrInfo;
use crate::net::SecureInfo;
use crate::runtime::secure::{client_outcome, server_outcome};
use crate::tls::{handshake_error_code, ClientTls, ServerTls};

/// Plaintext read per step: one TLS record's worth.
const READ_CHUNK: usize = 16 * 1024;

enum Role {
  Client(ClientTls, String),
  Server(ServerTls),
}

/// What one `feed`/`start` produced, in the order JavaScript must act on it: write `out` to
/// the underlying stream; then `secure` (the handshake completed), the `plain` text read, the
/// peer's `close_notify` (`ended`), or the connection's failure (`error`, after which the
/// handle is dead; `out` then carries the alert telling the peer why).
#[napi(object)]
#[derive(Default)]
pub struct TlsStreamOutput {
  pub out: Option<Buffer>,
  pub secure: Option<SecureInfo>,
  pub plain: Option<Buffer>,
  pub ended: bool,
  pub error: Option<ErrInfo>,
}

/// One TLS connection over a JavaScript stream.
#[napi]
pub struct TlsStream {
  conn: Option<Connection>,
  role: Role,
  peer: Vec<CertificateDer<'static>>,
  reported_secure: bool,
}

fn tls_error(e: &rustls::Error) -> ErrInfo {
  let (code, message) = handshake_error_code(e);
  ErrInfo::coded(&code, message)
}

fn dead() -> ErrInfo {
  ErrInfo::coded("ERR_CIO_TLS_STREAM_CLOSED", "the TLS connection over this stream has already failed or been closed")
}

/// Everything rustls queued to send, as one Buffer.
fn drain(conn: &mut Connection) -> Option<Buffer> {
  let mut out = Vec::new();
  while conn.wants_write() {
    match conn.write_tls(&mut out) {
      Ok(0) | Err(_) => break,
      Ok(_) => {}
    }
  }
  (!out.is_empty()).then(|| out.into())
}

#[napi]
impl TlsStream {
  /// A client (`servername` set) or server connection from a built context; a context of the
  /// other side or an unusable servername comes back as `ErrInfo`.
  #[napi(catch_unwind)]
  pub fn create(ctx: &TlsContext, servername: Option<String>) -> Either<TlsStream, ErrInfo> {
    let made = match (ctx.client(), ctx.server_side().and_then(|s| s.server_tls().cloned())) {
      (Some(client), _) => {
        let name = servername.unwrap_or_else(|| "localhost".to_string());
        match ServerName::try_from(name.clone()) {
          Err(_) => Err(ErrInfo::coded("ERR_INVALID_ARG_VALUE", format!("invalid servername: {name:?}"))),
          Ok(sn) => ClientConnection::new(client.config.clone(), sn)
            .map(|c| (Connection::Client(c), Role::Client(client, name)))
            .map_err(|e| tls_error(&e)),
        }
      }
      (None, Some(server)) => ServerConnection::new(server.config.clone())
        .map(|c| (Connection::Server(c), Role::Server(server)))
        .map_err(|e| tls_error(&e)),
      (None, None) => Err(ErrInfo::coded("ERR_CIO_INTERNAL", "the TLS context is neither a client nor a server context")),
    };
    match made {
      Ok((conn, role)) => Either::A(TlsStream { conn: Some(conn), role, peer: Vec::new(), reported_secure: false }),
      Err(e) => Either::B(e),
    }
  }

  /// What to send first: a client's ClientHello (nothing for a server).
  #[napi(catch_unwind)]
  pub fn start(&mut self) -> TlsStreamOutput {
    TlsStreamOutput { out: self.conn.as_mut().and_then(drain), ..Default::default() }
  }

  /// Takes ciphertext read from the underlying stream.
  #[napi(catch_unwind)]
  pub fn feed(&mut self, data: Buffer) -> TlsStreamOutput {
    let mut result = TlsStreamOutput::default();
    let Some(conn) = self.conn.as_mut() else {
      result.error = Some(dead());
      return result;
    };
    let mut plain = Vec::new();
    let mut rd: &[u8] = &data;
    let mut failure = None;
    while !rd.is_empty() && failure.is_none() {
      match conn.read_tls(&mut rd) {
        Ok(0) => break,
        Ok(_) => {}
        Err(e) => {
          failure = Some(ErrInfo::coded("ERR_SSL_HANDSHAKE_FAILURE", e.to_string()));
          break;
        }
      }
      match conn.process_new_packets() {
        Ok(state) => {
          if state.plaintext_bytes_to_read() > 0 {
            let mut buf = vec![0u8; READ_CHUNK];
            loop {
              match conn.reader().read(&mut buf) {
                Ok(0) => break,
                Ok(n) => plain.extend_from_slice(&buf[..n]),
                Err(_) => break,
              }
            }
          }
          if state.peer_has_closed() {
            result.ended = true;
          }
        }
        Err(e) => failure = Some(tls_error(&e)),
      }
    }
    if failure.is_none() && !self.reported_secure && !conn.is_handshaking() {
      self.reported_secure = true;
      let (info, peer) = match (&self.role, &*conn) {
        (Role::Client(tls, name), Connection::Client(c)) => client_outcome(c, tls, name.clone()),
        (Role::Server(tls), Connection::Server(s)) => server_outcome(s, tls),
        _ => unreachable!("the role matches the connection it was built with"),
      };
      self.peer = peer;
      result.secure = Some(info);
    }
    result.out = drain(conn);
    if !plain.is_empty() {
      result.plain = Some(plain.into());
    }
    if failure.is_some() {
      result.error = failure;
      self.conn = None;
    }
    result
  }

  /// Encrypts `data`: the ciphertext to write to the underlying stream.
  #[napi(catch_unwind)]
  pub fn write(&mut self, data: Buffer) -> Either<Buffer, ErrInfo> {
    let Some(conn) = self.conn.as_mut() else { return Either::B(dead()) };
    let mut out = Vec::with_capacity(data.len() + 64);
    let mut rest: &[u8] = &data;
    while !rest.is_empty() {
      let n = match conn.writer().write(rest) {
        Ok(n) => n,
        Err(e) => return Either::B(ErrInfo::coded("ERR_CIO_INTERNAL", e.to_string())),
      };
      rest = &rest[n..];
      let mut moved = false;
      while conn.wants_write() {
        match conn.write_tls(&mut out) {
          Ok(0) | Err(_) => break,
          Ok(_) => moved = true,
        }
      }
      if n == 0 && !moved {
        return Either::B(ErrInfo::coded("ERR_CIO_INTERNAL", "the TLS connection took no data"));
      }
    }
    Either::A(out.into())
  }

  /// Sends `close_notify`: the ciphertext to write before ending the underlying stream.
  #[napi(catch_unwind)]
  pub fn shutdown(&mut self) -> Option<Buffer> {
    let conn = self.conn.as_mut()?;
    conn.send_close_notify();
    drain(conn)
  }

  /// The peer's certificate chain in Node's `getPeerCertificate()` shape, leaf first.
  #[napi(catch_unwind)]
  pub fn peer_certificates<'env>(&self, env: &'env Env) -> Result<Vec<Object<'env>>> {
    self.peer.iter().filter_map(|der| crate::tls::peer_cert::peer_certificate(der.as_ref())).map(|c| peer_certificate_object(env, c)).collect()
  }
}
