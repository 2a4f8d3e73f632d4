//! A connected stream socket (TCP or Unix domain) shared by reference count.
//!
//! The JavaScript handle, the reader task and the writer task each hold an `Arc<Conn>`, so
//! socket options can be set from the JavaScript thread at any time and a write can be tried
//! there directly (like libuv's `uv_try_write`). The descriptor closes when the last `Arc`
//! drops; `NativeSocket::close` makes sure that happens promptly. `ConnIo` adapts the shared
//! socket to `AsyncRead`/`AsyncWrite` so TLS can run on top of it.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use socket2::SockRef;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

use crate::net::{split_addr, AddrPair};

pub enum Conn {
  Tcp(TcpStream),
  Unix(UnixStream),
}

macro_rules! each {
  ($self:expr, $s:ident => $e:expr) => {
    match $self {
      Conn::Tcp($s) => $e,
      Conn::Unix($s) => $e,
    }
  };
}

impl Conn {
  pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
    each!(self, s => s.try_read(buf))
  }

  pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
    each!(self, s => s.try_write(buf))
  }

  /// Reads into the spare capacity of `buf` (no zero-filling).
  pub fn try_read_vec(&self, buf: &mut Vec<u8>) -> io::Result<usize> {
    each!(self, s => s.try_read_buf(buf))
  }

  pub fn try_write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
    each!(self, s => s.try_write_vectored(bufs))
  }

  pub async fn readable(&self) -> io::Result<()> {
    each!(self, s => s.readable().await)
  }

  pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    each!(self, s => s.poll_read_ready(cx))
  }

  pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    each!(self, s => s.poll_write_ready(cx))
  }

  fn sock(&self) -> SockRef<'_> {
    each!(self, s => SockRef::from(s))
  }

  /// Half-close: send FIN, keep reading.
  pub fn shutdown_write(&self) -> io::Result<()> {
    match self.sock().shutdown(std::net::Shutdown::Write) {
      // Already disconnected: nothing left to half-close.
      Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => Ok(()),
      r => r,
    }
  }

  pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
    match self {
      Conn::Tcp(s) => s.set_nodelay(on),
      Conn::Unix(_) => Ok(()),
    }
  }

  /// Whether Nagle's algorithm is off (`false` for Unix sockets, which have none).
  pub fn nodelay(&self) -> bool {
    match self {
      Conn::Tcp(s) => s.nodelay().unwrap_or(false),
      Conn::Unix(_) => false,
    }
  }

  /// SO_LINGER on a TCP connection (`None` for a Unix socket, which has no reset).
  pub fn set_linger(&self, linger: Option<std::time::Duration>) -> Option<io::Result<()>> {
    match self {
      Conn::Tcp(s) => Some(SockRef::from(s).set_linger(linger)),
      Conn::Unix(_) => None,
    }
  }

  pub fn set_keepalive(&self, on: bool, delay_secs: u32) -> io::Result<()> {
    match self {
      Conn::Tcp(s) => {
        let sock = SockRef::from(s);
        sock.set_keepalive(on)?;
        if on && delay_secs > 0 {
          sock.set_tcp_keepalive(
            &socket2::TcpKeepalive::new().with_time(std::time::Duration::from_secs(delay_secs as u64)),
          )?;
        }
        Ok(())
      }
      Conn::Unix(_) => Ok(()),
    }
  }

  /// Reads and discards what has already arrived (`FIONREAD`), at most `cap` bytes, without
  /// waiting and without touching a pending error or end of stream. Used before a TLS socket
  /// on the runtime closes: its reader task may not have run since the peer's last records
  /// (e.g. TLS 1.3 session tickets) came in, and closing a socket with unread bytes makes the
  /// kernel reset the connection instead of closing it.
  pub fn discard_arrived(&self, cap: usize) {
    use std::os::fd::AsRawFd;
    let fd = each!(self, s => s.as_raw_fd());
    let mut avail: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int; `fd` is open while `self` lives.
    if unsafe { libc::ioctl(fd, libc::FIONREAD, &mut avail) } != 0 || avail <= 0 {
      return;
    }
    let mut left = (avail as usize).min(cap);
    let mut scratch = [0u8; 16 * 1024];
    while left > 0 {
      let want = left.min(scratch.len());
      // SAFETY: `scratch` has `want` writable bytes; non-blocking by MSG_DONTWAIT.
      let n = unsafe { libc::recv(fd, scratch.as_mut_ptr().cast(), want, libc::MSG_DONTWAIT) };
      if n <= 0 {
        return;
      }
      left -= n as usize;
    }
  }

  /// Endpoints as Node reports them (`remoteAddress` etc.); Unix sockets have none but a path.
  pub fn addresses(&self) -> AddrPair {
    match self {
      Conn::Tcp(s) => {
        let mut pair = AddrPair::default();
        if let Ok(a) = s.local_addr() {
          let (ip, port, fam) = split_addr(&a);
          pair.local_address = Some(ip);
          pair.local_port = Some(port);
          pair.local_family = Some(fam);
        }
        if let Ok(a) = s.peer_addr() {
          let (ip, port, fam) = split_addr(&a);
          pair.remote_address = Some(ip);
          pair.remote_port = Some(port);
          pair.remote_family = Some(fam);
        }
        pair
      }
      Conn::Unix(s) => AddrPair {
        local_address: s
          .local_addr()
          .ok()
          .and_then(|a| a.as_pathname().map(|p| p.to_string_lossy().into_owned())),
        ..AddrPair::default()
      },
    }
  }
}

/// `AsyncRead + AsyncWrite` over a shared `Conn` (the TLS layer's transport).
///
/// rustls asks for at most 4 KiB per read and writes one record per call; Node's TLS reads
/// 64 KiB per syscall. So reads go through a read-ahead buffer of `READ_AHEAD` bytes (held
/// only while the socket keeps it full: a partial fill, i.e. a drained socket, lets it go
/// once consumed, so an idle connection holds none), and writes are vectored (every queued
/// record in one `writev`).
pub struct ConnIo {
  conn: Arc<Conn>,
  /// TLS transports (the default): the last reference takes what already arrived before the
  /// descriptor closes (see `Conn::discard_arrived`). Plain sockets close as Node's do.
  discard_on_drop: bool,
  ahead: Vec<u8>,
  pos: usize,
  /// The last fill did not fill the buffer: release it once consumed.
  drained: bool,
  /// A server handshake run by tokio-rustls: a TLS 1.3 alert rustls would send on a TLS 1.2
  /// connection goes out as OpenSSL's (`tls::error::tls12_alert_record_instead`).
  tls12_alerts: bool,
}

const READ_AHEAD: usize = 64 * 1024;

impl ConnIo {
  pub fn new(conn: Arc<Conn>) -> Self {
    ConnIo { conn, discard_on_drop: true, ahead: Vec::new(), pos: 0, drained: false, tls12_alerts: false }
  }

  /// The transport of a plain socket on the runtime: unread bytes at close reset the
  /// connection, exactly as with Node.
  pub fn plain(conn: Arc<Conn>) -> Self {
    ConnIo { conn, discard_on_drop: false, ahead: Vec::new(), pos: 0, drained: false, tls12_alerts: false }
  }

  /// See `tls12_alerts` (only for handshakes that tokio-rustls drives; cio's own driver in
  /// `runtime::handshake` picks the alert itself).
  pub fn with_tls12_alerts(mut self) -> Self {
    self.tls12_alerts = true;
    self
  }

  /// The connection and the bytes read ahead but not yet consumed.
  pub fn into_parts(mut self) -> (Arc<Conn>, Vec<u8>) {
    self.discard_on_drop = false;
    let rest = self.ahead[self.pos..].to_vec();
    (self.conn.clone(), rest)
  }

  fn take_ahead(&mut self, buf: &mut ReadBuf<'_>) {
    let n = buf.remaining().min(self.ahead.len() - self.pos);
    buf.put_slice(&self.ahead[self.pos..self.pos + n]);
    self.pos += n;
    if self.pos == self.ahead.len() {
      self.pos = 0;
      self.ahead.clear();
      if self.drained {
        self.ahead = Vec::new();
      }
    }
  }
}

impl Drop for ConnIo {
  fn drop(&mut self) {
    // The descriptor closes with this last reference: a TLS peer's records that came in since
    // the reader last ran (TLS 1.3 session tickets right after the handshake) must not turn
    // the close into a reset.
    if self.discard_on_drop && Arc::strong_count(&self.conn) == 1 {
      self.conn.discard_arrived(DISCARD_AT_CLOSE);
    }
  }
}

/// Most bytes a closing TLS transport reads and drops (see `Conn::discard_arrived`).
pub const DISCARD_AT_CLOSE: usize = 64 * 1024;

impl AsyncRead for ConnIo {
  fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
    let me = &mut *self;
    if me.pos < me.ahead.len() {
      me.take_ahead(buf);
      return Poll::Ready(Ok(()));
    }
    loop {
      ready!(me.conn.poll_read_ready(cx))?;
      if buf.remaining() >= READ_AHEAD {
        match me.conn.try_read(buf.initialize_unfilled()) {
          Ok(n) => {
            buf.advance(n);
            return Poll::Ready(Ok(()));
          }
          Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
          Err(e) => return Poll::Ready(Err(e)),
        }
      }
      me.ahead.clear();
      me.ahead.reserve_exact(READ_AHEAD);
      match me.conn.try_read_vec(&mut me.ahead) {
        Ok(n) => {
          me.drained = n < READ_AHEAD;
          me.take_ahead(buf);
          return Poll::Ready(Ok(()));
        }
        Err(e) => {
          me.ahead.clear();
          if e.kind() == io::ErrorKind::WouldBlock {
            continue;
          }
          return Poll::Ready(Err(e));
        }
      }
    }
  }
}

impl AsyncWrite for ConnIo {
  fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
    let instead = if self.tls12_alerts { crate::tls::error::tls12_alert_record_instead(buf) } else { None };
    let buf = match &instead {
      Some(record) => &record[..],
      None => buf,
    };
    loop {
      ready!(self.conn.poll_write_ready(cx))?;
      match self.conn.try_write(buf) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
        r => return Poll::Ready(r),
      }
    }
  }

  fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
    if self.tls12_alerts && bufs.iter().map(|b| b.len()).sum::<usize>() == crate::tls::error::HANDSHAKE_FAILURE_ALERT.len() {
      let record: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
      return self.poll_write(cx, &record);
    }
    loop {
      ready!(self.conn.poll_write_ready(cx))?;
      match self.conn.try_write_vectored(bufs) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
        r => return Poll::Ready(r),
      }
    }
  }

  fn is_write_vectored(&self) -> bool {
    true
  }

  fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    Poll::Ready(Ok(()))
  }

  fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    Poll::Ready(self.conn.shutdown_write())
  }
}
