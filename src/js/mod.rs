//! The handles JavaScript holds: sockets, servers, the TLS context, peer certificates as
//! JavaScript objects, the listener-ordering and dev-certificate exports and panic-containment
//! checks.

mod devcerts;
pub mod guard;
mod ordering;
mod peer_cert;
pub mod server;
pub mod socket;
pub mod tls_context;
pub mod tls_stream;
