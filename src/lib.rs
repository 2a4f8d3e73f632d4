//! cio's native core: TCP/TLS sockets on Node's loop, tokio and rustls, exposed to the JavaScript layer
//! (`lib/net.js`, `lib/tls.js`) as `NativeSocket` and `NativeServer` handles.
//!
//! - `runtime`: the one tokio runtime and the phase-timeout helper.
//! - `errors`: the single mapping from I/O errors to Node-style codes.
//! - `events`: event delivery to JavaScript with bounded buffering (through one `hub` per
//!   JavaScript environment).
//! - `conn`: a shared TCP/Unix stream; `handshake`: the I/O of TLS handshakes over it.
//! - `socket`, `server`: the handles.
//! - `uvloop`: Node's own event loop from native code; `loopio` drives established
//!   connections there (`plain` streams, `looptls` for rustls records, `loopout` for the
//!   events of one wake-up), `loopaccept` accepts plain TCP there. Handshakes, Unix sockets
//!   and connect timeouts run on the runtime.
//! - `tls`: certificate material, Node-compatible verification, configs, peer certificates,
//!   allow/deny policy (pure; no sockets).
//! - `ordering`: the pure listener-ordering function (`ordering_napi` exports it).
//! - `guard`: panic containment checks.
#![deny(clippy::all)]

pub mod deliver;
pub mod devcerts;
pub mod errors;
pub mod handover;
pub mod js;
pub mod net;
pub mod ordering;
pub mod runtime;
mod sync;
pub mod tls;
pub mod uvloop;
