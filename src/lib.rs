//! cio's native core: TCP/TLS sockets on Node's loop, tokio and rustls, exposed to the JavaScript layer
//! (`lib/net.js`, `lib/tls.js`) as `NativeSocket`, `NativeServer` and `TlsContext` handles.
//!
//! The modules, lowest layer first (a module imports only from lower layers; `uvloop` and
//! `runtime` share a layer and meet only through `handover`; `scripts/check-layers.js` checks
//! this, see docs/architecture.md):
//!
//! - `tls`: certificate material, Node-compatible verification, configs, peer certificates,
//!   allow/deny policy (pure; no sockets). `ordering`: the pure listener-ordering function.
//!   `sync`: the lock helper. `errors`: I/O errors to Node-style codes. `devcerts`:
//!   development certificates.
//! - `net`: what both I/O paths share: endpoints (`AddrPair`), `SecureInfo`, `PlainStream`.
//! - `deliver`: how events reach JavaScript (`Ev`, `Emitter`, the per-environment `hub`).
//! - `handover`: a TLS connection moving from the runtime to Node's loop after its handshake.
//! - `uvloop`: sockets driven from Node's own loop on the JavaScript thread (libuv access,
//!   the socket, its rustls state, plain TCP accept).
//! - `runtime`: the tokio runtime: connects with timeouts, TLS handshakes, the read/write tasks
//!   of sockets that stay there (Unix sockets, `CIO_IO=tokio`).
//! - `js`: the handles JavaScript holds (socket, server, TLS context, peer certificates, the
//!   ordering export, panic containment).
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
