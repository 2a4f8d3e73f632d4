//! The one place where I/O errors become Node-style error descriptions.
//!
//! napi's blanket `From<io::Error>` keeps only the message, so cio maps errors itself: an
//! `ErrInfo` carries the errno name as `code` (what Node puts in `err.code`), the negative
//! errno (Node's `err.errno`) and the syscall. The JavaScript layer turns an `ErrInfo` into an
//! `Error` the way Node's `exceptionWithHostPort` does, adding `address`/`port`.

use std::io;

/// A Node-shaped error description crossing from Rust to JavaScript.
#[napi_derive::napi(object)]
#[derive(Debug, Clone, PartialEq)]
pub struct ErrInfo {
  /// Node's `err.code`: an errno name (`ECONNRESET`) or an `ERR_*` code.
  pub code: String,
  /// Node's `err.errno`: the negated OS error number, or 0 when there is none.
  pub errno: i32,
  /// The system call that failed (`connect`, `read`, `write`, `listen`, ...); may be empty.
  pub syscall: String,
  /// Human-readable detail; JavaScript builds the final message from `syscall` and `code`
  /// when this is empty, exactly like Node does for system errors.
  pub message: String,
}

impl ErrInfo {
  /// An error that is not a system call failure (`ERR_*` codes, TLS verification codes).
  pub fn coded(code: &str, message: impl Into<String>) -> Self {
    ErrInfo { code: code.to_string(), errno: 0, syscall: String::new(), message: message.into() }
  }

  /// A system-call failure, mapped from an `io::Error`.
  pub fn io(err: &io::Error, syscall: &str) -> Self {
    // TLS failures travel inside io::Error; they keep their Node/OpenSSL-style codes.
    if let Some(tls) = err.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
      let (code, message) = crate::tls::handshake_error_code(tls);
      return ErrInfo { code, errno: 0, syscall: String::new(), message };
    }
    let (code, errno) = match err.raw_os_error() {
      Some(n) => (errno_name(n).map(str::to_string).unwrap_or_else(|| format!("E{n}")), -n),
      None => (kind_code(err.kind()).to_string(), 0),
    };
    // OS errors get Node's "<syscall> <CODE>" message in JavaScript; other errors keep theirs.
    let message = if err.raw_os_error().is_some() { String::new() } else { err.to_string() };
    ErrInfo { code, errno, syscall: syscall.to_string(), message }
  }

  /// A failure on an established TLS connection (`tls::error::record_error_code`): like `io`,
  /// with the connection's TLS 1.2 AES-GCM-ness deciding how a record that does not decrypt
  /// is reported.
  pub fn tls_record(err: &io::Error, syscall: &str, tls12_aes_gcm: bool) -> Self {
    if let Some(tls) = err.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
      let (code, message) = crate::tls::error::record_error_code(tls, tls12_aes_gcm);
      return ErrInfo { code, errno: 0, syscall: String::new(), message };
    }
    Self::io(err, syscall)
  }

  /// A timeout of a named phase (`connect`, `handshake`, ...): Node's `ETIMEDOUT`.
  pub fn timed_out(phase: &str) -> Self {
    ErrInfo {
      code: "ETIMEDOUT".into(),
      errno: -libc::ETIMEDOUT,
      syscall: phase.to_string(),
      message: format!("{phase} ETIMEDOUT"),
    }
  }
}

/// Errno names for the errors a socket library meets; anything else falls back to `E<n>`.
pub fn errno_name(n: i32) -> Option<&'static str> {
  Some(match n {
    libc::EPERM => "EPERM",
    libc::ENOENT => "ENOENT",
    libc::EINTR => "EINTR",
    libc::EBADF => "EBADF",
    libc::EAGAIN => "EAGAIN",
    libc::ENOMEM => "ENOMEM",
    libc::EACCES => "EACCES",
    libc::EEXIST => "EEXIST",
    libc::ENOTDIR => "ENOTDIR",
    libc::EISDIR => "EISDIR",
    libc::EINVAL => "EINVAL",
    libc::ENFILE => "ENFILE",
    libc::EMFILE => "EMFILE",
    libc::ENOSPC => "ENOSPC",
    libc::EPIPE => "EPIPE",
    libc::ENAMETOOLONG => "ENAMETOOLONG",
    libc::ENOTSOCK => "ENOTSOCK",
    libc::EPROTOTYPE => "EPROTOTYPE",
    libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
    libc::EOPNOTSUPP => "ENOTSUP",
    libc::EAFNOSUPPORT => "EAFNOSUPPORT",
    libc::EADDRINUSE => "EADDRINUSE",
    libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
    libc::ENETDOWN => "ENETDOWN",
    libc::ENETUNREACH => "ENETUNREACH",
    libc::ECONNABORTED => "ECONNABORTED",
    libc::ECONNRESET => "ECONNRESET",
    libc::ENOBUFS => "ENOBUFS",
    libc::EISCONN => "EISCONN",
    libc::ENOTCONN => "ENOTCONN",
    libc::ETIMEDOUT => "ETIMEDOUT",
    libc::ECONNREFUSED => "ECONNREFUSED",
    libc::EHOSTUNREACH => "EHOSTUNREACH",
    libc::EHOSTDOWN => "EHOSTDOWN",
    libc::EALREADY => "EALREADY",
    libc::EINPROGRESS => "EINPROGRESS",
    _ => return None,
  })
}

/// Codes for errors that carry no OS error number.
fn kind_code(kind: io::ErrorKind) -> &'static str {
  use io::ErrorKind::*;
  match kind {
    NotFound => "ENOENT",
    PermissionDenied => "EACCES",
    ConnectionRefused => "ECONNREFUSED",
    ConnectionReset => "ECONNRESET",
    ConnectionAborted => "ECONNABORTED",
    NotConnected => "ENOTCONN",
    AddrInUse => "EADDRINUSE",
    AddrNotAvailable => "EADDRNOTAVAIL",
    BrokenPipe => "EPIPE",
    TimedOut => "ETIMEDOUT",
    InvalidInput => "EINVAL",
    // A peer that vanished in the middle of a TLS record or handshake looks like a reset to
    // Node users ("Client network socket disconnected before secure TLS connection...").
    UnexpectedEof => "ECONNRESET",
    _ => "EIO",
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn os_errors_map_to_errno_names_and_negative_errno() {
    let e = ErrInfo::io(&io::Error::from_raw_os_error(libc::ECONNREFUSED), "connect");
    assert_eq!(e.code, "ECONNREFUSED");
    assert_eq!(e.errno, -libc::ECONNREFUSED);
    assert_eq!(e.syscall, "connect");
    assert!(e.message.is_empty());
  }

  #[test]
  fn every_code_the_socket_api_promises_is_named() {
    for (n, name) in [
      (libc::EADDRINUSE, "EADDRINUSE"),
      (libc::ECONNRESET, "ECONNRESET"),
      (libc::EPIPE, "EPIPE"),
      (libc::ETIMEDOUT, "ETIMEDOUT"),
      (libc::ENOENT, "ENOENT"),
      (libc::EACCES, "EACCES"),
    ] {
      assert_eq!(ErrInfo::io(&io::Error::from_raw_os_error(n), "x").code, name);
    }
  }

  #[test]
  fn unknown_errno_falls_back_to_a_numbered_code() {
    assert_eq!(ErrInfo::io(&io::Error::from_raw_os_error(4242), "read").code, "E4242");
  }

  #[test]
  fn errors_without_errno_use_their_kind_and_keep_the_message() {
    let e = ErrInfo::io(&io::Error::new(io::ErrorKind::UnexpectedEof, "peer left"), "read");
    assert_eq!(e.code, "ECONNRESET");
    assert_eq!(e.errno, 0);
    assert_eq!(e.message, "peer left");
  }

  #[test]
  fn timeouts_name_their_phase() {
    let e = ErrInfo::timed_out("handshake");
    assert_eq!(e.code, "ETIMEDOUT");
    assert_eq!(e.syscall, "handshake");
    assert!(e.message.contains("handshake"));
  }
}
