//! The tokio tasks behind a socket that runs on the runtime (TLS, or plain sockets when
//! Node's loop is not available): the reader, which waits while JavaScript is not reading, and
//! the writer, which drains a queue whose size is bounded by `WriteGate`.

use std::sync::Arc;

use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::runtime::conn::Conn;
use crate::errors::ErrInfo;
use crate::deliver::{Emitter, Ev};

/// Bytes a socket may have queued for its writer task before `write()` waits (the stream's
/// callback is held back until the writer drains below this).
pub const WRITE_HIGH_WATER: usize = 512 * 1024;

/// Credit for writes that go through the writer task (TLS, and plain writes that blocked).
#[derive(Default)]
pub struct WriteGate {
  queued: std::sync::atomic::AtomicUsize,
  /// JavaScript holds a write callback until the queue drains below the high-water mark.
  waiting: std::sync::atomic::AtomicBool,
}

impl WriteGate {
  /// Called after queueing `n` bytes; true when the write may complete at once.
  pub fn admit(&self, n: usize) -> bool {
    use std::sync::atomic::Ordering::SeqCst;
    if self.queued.fetch_add(n, SeqCst).saturating_add(n) <= WRITE_HIGH_WATER {
      return true;
    }
    self.waiting.store(true, SeqCst);
    // The writer may have drained in between without seeing `waiting`: check again.
    self.queued.load(SeqCst) <= WRITE_HIGH_WATER && self.waiting.swap(false, SeqCst)
  }

  /// Nothing is queued for the writer (everything admitted was sent): a direct write cannot
  /// overtake earlier bytes.
  pub fn is_idle(&self) -> bool {
    self.queued.load(std::sync::atomic::Ordering::SeqCst) == 0
  }

  /// Called by the writer after sending `n` bytes; true when a held callback must complete.
  pub fn release(&self, n: usize) -> bool {
    use std::sync::atomic::Ordering::SeqCst;
    let left = self.queued.fetch_sub(n, SeqCst).saturating_sub(n);
    // Hysteresis: a held callback completes once the queue is down to half the mark.
    left <= WRITE_HIGH_WATER / 2 && self.waiting.swap(false, SeqCst)
  }
}

/// Size of one read from the network.
pub const READ_CHUNK: usize = 64 * 1024;

pub enum WriteCmd {
  Data(Vec<u8>),
  Shutdown,
}

thread_local! {
  /// Scratch space for plain reads: an idle socket holds no read buffer of its own.
  static SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; READ_CHUNK]);
}

/// Plain sockets: wait for readability, then read into the worker thread's scratch buffer
/// and hand JavaScript an exact-size copy.
pub async fn read_loop_plain(emitter: Arc<Emitter>, conn: Arc<Conn>) {
  while emitter.wait_readable().await {
    if let Err(e) = conn.readable().await {
      emitter.emit(Ev::Error(ErrInfo::io(&e, "read")));
      return;
    }
    let r = SCRATCH.with(|b| {
      let mut buf = b.borrow_mut();
      conn.try_read(&mut buf).map(|n| buf[..n].to_vec())
    });
    match r {
      Ok(d) if d.is_empty() => {
        emitter.emit(Ev::End);
        return;
      }
      Ok(d) => emitter.emit(Ev::Data(d)),
      Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
      Err(e) => {
        emitter.emit(Ev::Error(ErrInfo::io(&e, "read")));
        return;
      }
    }
  }
}

/// Encrypted sockets: each read goes straight into the Vec that is handed over (no scratch
/// copy); rustls returns what plaintext it has, up to `READ_CHUNK`.
/// `tls12_aes_gcm`: how a record that does not decrypt is reported (`ErrInfo::tls_record`).
pub async fn read_loop<R: AsyncRead + Unpin>(emitter: Arc<Emitter>, mut reader: R, tls12_aes_gcm: bool) {
  while emitter.wait_readable().await {
    let mut buf = Vec::with_capacity(READ_CHUNK);
    match reader.read_buf(&mut buf).await {
      Ok(0) => {
        emitter.emit(Ev::End);
        return;
      }
      Ok(_) => emitter.emit(Ev::Data(buf)),
      // A peer that closes without TLS close_notify: Node (OpenSSL 3 with
      // SSL_OP_IGNORE_UNEXPECTED_EOF) reports a plain end, and so does cio.
      Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
        emitter.emit(Ev::End);
        return;
      }
      Err(e) => {
        emitter.emit(Ev::Error(ErrInfo::tls_record(&e, "read", tls12_aes_gcm)));
        return;
      }
    }
  }
}

pub async fn write_loop<W: AsyncWrite + Unpin>(
  emitter: Arc<Emitter>,
  gate: Arc<WriteGate>,
  mut writer: W,
  mut rx: mpsc::UnboundedReceiver<WriteCmd>,
) {
  while let Some(mut cmd) = rx.recv().await {
    // Write everything queued so far, then flush once (one syscall burst for many records).
    // Credit comes back chunk by chunk, so JavaScript refills the queue while the rest is
    // still being encrypted and sent (no stop-and-go at the high-water mark).
    let mut wrote = false;
    let mut result = Ok(());
    while let WriteCmd::Data(buf) = &cmd {
      if let Err(e) = writer.write_all(buf).await {
        result = Err((e, buf.len()));
        break;
      }
      wrote = true;
      if gate.release(buf.len()) {
        emitter.emit(Ev::WriteDone(None));
      }
      match rx.try_recv() {
        Ok(next) => cmd = next,
        Err(_) => break,
      }
    }
    let result = match result {
      Ok(()) if wrote => writer.flush().await.map_err(|e| (e, 0)),
      other => other,
    };
    if let Err((e, unsent)) = result {
      let err = ErrInfo::io(&e, "write");
      if gate.release(unsent) {
        emitter.emit(Ev::WriteDone(Some(err)));
      } else {
        emitter.emit(Ev::Error(err));
      }
      return;
    }
    if let WriteCmd::Shutdown = cmd {
      let r = writer.shutdown().await;
      emitter.emit(Ev::ShutdownDone(r.err().map(|e| ErrInfo::io(&e, "shutdown"))));
    }
  }
}

/// `setNoDelay()` as JavaScript last asked for it: 0 when never asked, else off or on.
pub const NODELAY_OFF: u8 = 1;
pub const NODELAY_ON: u8 = 2;

/// The writer of a TLS connection that stays on the runtime (`CIO_IO=tokio`). tokio-rustls
/// sends the handshake's last flight (the client's Finished, a TLS 1.3 server's tickets) on its
/// own; the application's first small write would then wait behind Nagle's algorithm for the
/// peer's delayed ACK (~40 ms). So the first write goes out with Nagle off, which is then back
/// to what JavaScript asked for (Node's default: on). The loop path sends that flight together
/// with the first write instead (see `handshake`).
pub struct FirstWriteNoDelay<W> {
  inner: W,
  /// Weak: the descriptor closes with the stream's own last reference (which first reads
  /// what arrived, see `ConnIo`'s drop), never later because of this writer.
  conn: std::sync::Weak<Conn>,
  user: Arc<AtomicU8>,
  /// No write went out yet.
  first: bool,
  /// Nagle was turned off here and must be restored after the first flush.
  armed: bool,
}

impl<W> FirstWriteNoDelay<W> {
  pub fn new(inner: W, conn: &Arc<Conn>, user: Arc<AtomicU8>) -> Self {
    FirstWriteNoDelay { inner, conn: Arc::downgrade(conn), user, first: true, armed: false }
  }

  fn arm(&mut self) {
    if !std::mem::take(&mut self.first) {
      return;
    }
    let Some(conn) = self.conn.upgrade() else { return };
    self.armed = !conn.nodelay() && self.user.load(Ordering::SeqCst) != NODELAY_ON && conn.set_nodelay(true).is_ok();
  }

  fn restore(&mut self) {
    if !std::mem::take(&mut self.armed) {
      return;
    }
    let Some(conn) = self.conn.upgrade() else { return };
    if self.user.load(Ordering::SeqCst) != NODELAY_ON {
      let _ = conn.set_nodelay(false);
      // JavaScript asked for "on" meanwhile: its call may have run before ours.
      if self.user.load(Ordering::SeqCst) == NODELAY_ON {
        let _ = conn.set_nodelay(true);
      }
    }
  }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for FirstWriteNoDelay<W> {
  fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
    self.arm();
    Pin::new(&mut self.inner).poll_write(cx, buf)
  }

  fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[std::io::IoSlice<'_>]) -> Poll<std::io::Result<usize>> {
    self.arm();
    Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
  }

  fn is_write_vectored(&self) -> bool {
    self.inner.is_write_vectored()
  }

  fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
    let r = Pin::new(&mut self.inner).poll_flush(cx);
    if r.is_ready() {
      self.restore();
    }
    r
  }

  fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
    self.restore();
    Pin::new(&mut self.inner).poll_shutdown(cx)
  }
}
