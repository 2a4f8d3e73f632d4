//! cio's native core: TCP/TLS sockets on tokio and rustls, exposed to the JavaScript layer
//! (`lib/net.js`) as `NativeSocket` and `NativeServer` handles.
//!
//! - `runtime`: the one tokio runtime and the phase-timeout helper.
//! - `errors`: the single mapping from I/O errors to Node-style codes.
//! - `events`: event delivery to JavaScript with bounded buffering.
//! - `conn`: a shared TCP/Unix stream.
//! - `socket`, `server`: the handles.
//! - `guard`: panic containment checks.
#![deny(clippy::all)]

pub mod conn;
pub mod errors;
pub mod events;
pub mod guard;
pub mod runtime;
pub mod server;
pub mod socket;
