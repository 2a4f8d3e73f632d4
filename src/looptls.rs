//! Established TLS connections driven from Node's loop (see `uvloop`).
//!
//! Handshakes run on the runtime, where the public-key work uses every core. Once a
//! connection is established its records are cheap to seal and open (AES-GCM or ChaCha20),
//! and every hop between a runtime thread and the JavaScript thread costs a cross-CPU wake-up
//! of tens of µs. So the established `rustls` connection (sans-IO) moves to the JavaScript
//! thread with its descriptor: the loop's readiness callback reads ciphertext, `rustls`
//! opens it, the plaintext goes straight into Buffers; a write seals the data and sends what
//! the socket takes, the rest when it becomes writable. Exactly what Node's own TLS does.

use std::io::{self, Read, Write};

use rustls::Connection;

use crate::plain::PlainStream;

/// A TLS connection on the loop.
pub struct LoopTls {
  pub conn: Connection,
  /// Ciphertext read ahead during the handshake and not yet given to `rustls`.
  pub leftover: Vec<u8>,
  /// `close_notify` was queued: half-close the socket once everything is sent.
  pub shutdown_after_flush: bool,
}

/// What reading produced, in order, for the caller to hand to JavaScript.
pub enum Got<'a> {
  Plain(&'a [u8]),
  End,
  Error(io::Error),
}

impl LoopTls {
  pub fn new(mut conn: Connection, leftover: Vec<u8>) -> Self {
    // Backpressure is the JavaScript stream's (a write completes once sent); rustls must not
    // refuse plaintext on its own.
    conn.set_buffer_limit(None);
    LoopTls { conn, leftover, shutdown_after_flush: false }
  }

  /// Takes the ciphertext that arrived while the connection was on its way to Node's loop
  /// (after the handshake, before JavaScript attached it) out of the kernel into `leftover`,
  /// at most `cap` bytes. Node reads such bytes as they come; left in the kernel they would
  /// turn a `destroy()` right after the handshake into a reset (a TLS 1.3 server's session
  /// tickets arrive just then). Only what `FIONREAD` reports is read, so a pending socket
  /// error or end of stream stays for the loop's first read to report.
  pub fn pull_arrived(&mut self, stream: &PlainStream, cap: usize) {
    let want = stream.available().min(cap);
    if want == 0 {
      return;
    }
    let start = self.leftover.len();
    self.leftover.resize(start + want, 0);
    let mut got = 0;
    while got < want {
      match stream.read(&mut self.leftover[start + got..]) {
        Ok(0) => break,
        Ok(n) => got += n,
        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
        Err(_) => break,
      }
    }
    self.leftover.truncate(start + got);
  }

  /// Gives `data` (ciphertext) to rustls and hands every plaintext chunk it opens to `sink`,
  /// through `plain` (scratch space). An `Err` is a TLS failure (a bad record, an alert).
  fn feed(&mut self, mut data: &[u8], plain: &mut [u8], sink: &mut dyn FnMut(Got<'_>)) -> Result<bool, io::Error> {
    loop {
      if !data.is_empty() {
        // Bounded by rustls's buffers: feed what it takes, open it, drain the plaintext.
        self.conn.read_tls(&mut data)?;
      }
      self.conn.process_new_packets().map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
      if !self.drain_plain(plain, sink)? {
        return Ok(false);
      }
      if data.is_empty() {
        return Ok(true);
      }
    }
  }

  /// Reads the plaintext rustls holds; false once the stream ended.
  fn drain_plain(&mut self, plain: &mut [u8], sink: &mut dyn FnMut(Got<'_>)) -> Result<bool, io::Error> {
    loop {
      match self.conn.reader().read(plain) {
        Ok(0) => {
          sink(Got::End);
          return Ok(false);
        }
        Ok(n) => sink(Got::Plain(&plain[..n])),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
        // A peer that closes without close_notify: Node (OpenSSL 3 with
        // SSL_OP_IGNORE_UNEXPECTED_EOF) reports a plain end, and so does cio.
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
          sink(Got::End);
          return Ok(false);
        }
        Err(e) => return Err(e),
      }
    }
  }

  /// Reads from the socket until it would block (at most `max_reads` reads), opening records
  /// as they come. Returns false when reading is over (end of stream or an error, both
  /// already given to `sink`).
  pub fn read_some(
    &mut self,
    stream: &PlainStream,
    scratch: &mut [u8],
    plain: &mut [u8],
    max_reads: usize,
    sink: &mut dyn FnMut(Got<'_>),
  ) -> bool {
    let leftover = std::mem::take(&mut self.leftover);
    let fed = self.feed(&leftover, plain, sink);
    if !self.settle(fed, sink) {
      return false;
    }
    for _ in 0..max_reads {
      let n = match stream.read(scratch) {
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
        Err(e) => {
          sink(Got::Error(e));
          return false;
        }
      };
      if n == 0 {
        // End of the TCP stream: rustls tells a clean close from a truncated one.
        let mut empty: &[u8] = &[];
        let _ = self.conn.read_tls(&mut empty);
        let fed = self.feed(&[], plain, sink);
        if self.settle(fed, sink) {
          sink(Got::End);
        }
        return false;
      }
      let fed = self.feed(&scratch[..n], plain, sink);
      if !self.settle(fed, sink) {
        return false;
      }
      if n < scratch.len() {
        return true;
      }
    }
    true
  }

  fn settle(&mut self, fed: Result<bool, io::Error>, sink: &mut dyn FnMut(Got<'_>)) -> bool {
    match fed {
      Ok(go_on) => go_on,
      Err(e) => {
        sink(Got::Error(e));
        false
      }
    }
  }

  /// Seals `data` into records (rustls queues them); `flush` sends them.
  pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
    self.conn.writer().write_all(data)
  }

  /// Sends queued records. Ok(true) when everything went out, Ok(false) when the socket is
  /// full (wait for writability and call again).
  pub fn flush(&mut self, stream: &PlainStream) -> io::Result<bool> {
    while self.conn.wants_write() {
      match self.conn.write_tls(&mut SocketWriter(stream)) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
        Err(e) => return Err(e),
      }
    }
    if std::mem::take(&mut self.shutdown_after_flush) {
      stream.shutdown_write()?;
    }
    Ok(true)
  }

  /// Queues close_notify; the socket half-closes once it is sent (see `flush`).
  pub fn shutdown(&mut self) {
    self.conn.send_close_notify();
    self.shutdown_after_flush = true;
  }
}

/// `std::io::Write` (with writev) over a non-blocking socket, for `write_tls`.
struct SocketWriter<'a>(&'a PlainStream);

impl Write for SocketWriter<'_> {
  fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
    self.0.write(buf)
  }

  fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
    self.0.write_vectored(bufs)
  }

  fn flush(&mut self) -> io::Result<()> {
    Ok(())
  }
}
