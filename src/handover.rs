//! The hand-over between the two I/O paths: a TLS connection whose handshake finished on the
//! tokio runtime (`runtime::secure`), on its way to Node's loop (`uvloop::tls_state`).
//!
//! This is the one place the two paths meet; neither imports the other. The descriptor
//! itself travels beside it as the runtime's `Conn` and is taken out of tokio when JavaScript
//! attaches the socket (`js::socket`).

/// The rustls side of an established connection: its state (the handshake's last flight may
/// still be queued in it, see `runtime::handshake`) and the ciphertext read ahead past the
/// handshake, not yet given to rustls.
pub struct TlsHandover {
  pub state: rustls::Connection,
  pub read_ahead: Vec<u8>,
}
