//! Driving sockets from Node's own event loop (the JavaScript thread): libuv access
//! (`libuv`), an established socket (`io`, plain or TLS), the rustls state it opens and seals
//! records with (`tls_state`), the events of one wake-up (`out`), and plain TCP accept
//! (`accept`).

pub mod accept;
pub mod io;
pub mod libuv;
pub mod out;
pub mod tls_state;
