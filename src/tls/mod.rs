//! TLS building blocks for cio (no sockets here; the socket core plugs these into its
//! accept/connect paths through tokio-rustls).
//!
//! - [`material`]: `key`/`cert`/`ca` loading (paths, Buffers, PEM strings) with clear errors.
//! - [`verify`]: Node-compatible chain verification (OpenSSL's order and codes in `chain`,
//!   webpki's strictness for modern certificates) as a pure function; the trust store
//!   (`trust`) and per-certificate facts (`cert_info`) it shares with `chain`.
//! - [`identity`]: Node's `checkServerIdentity` (host vs SAN, CN fallback).
//! - [`verifier`]: rustls `ServerCertVerifier`/`ClientCertVerifier` adapters and the
//!   after-handshake `authorization()` that yields `authorized`/`authorizationError`.
//! - [`config`]: `build_server_config`/`build_client_config` (built once, shared as `Arc`).
//! - [`peer_cert`]: `getPeerCertificate()` in Node's shape.
//! - [`authz`]: `allowClients`/`denyClients` policy (pure).
//! - [`error`]: `TlsError`, `VerifyError`, handshake error codes.

pub mod authz;
mod cert_info;
mod chain;
pub mod config;
mod der;
pub mod client_hello;
pub mod error;
pub mod identity;
pub mod material;
pub mod peer_cert;
mod trust;
pub mod verifier;
pub mod verify;

pub use config::{
    build_client_config, build_server_config, ClientTls, ClientTlsOptions, ServerTls,
    ServerTlsOptions,
};
pub use error::{handshake_error_code, TlsError, VerifyError};
pub use material::{MaterialSources, Source};

#[cfg(test)]
mod auth_matrix_tests;
#[cfg(test)]
mod config_tests;
#[cfg(test)]
pub(crate) mod handshake_util;
#[cfg(test)]
mod material_tests;
#[cfg(test)]
mod peer_cert_tests;
#[cfg(test)]
mod test_util;
#[cfg(test)]
mod verify_tests;
