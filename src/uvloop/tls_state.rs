//! Established TLS connections driven from Node's loop (see `uvloop`): the rustls state a
//! socket (`uvloop::io`) opens and seals records with, made from what the runtime hands over
//! after the handshake (`handover`).
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

use crate::handover::TlsHandover;
use crate::net::plain::PlainStream;

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

/// A connection handed over by the runtime after its handshake (see `handover`).
impl From<TlsHandover> for LoopTls {
  fn from(h: TlsHandover) -> Self {
    LoopTls::new(h.state, h.read_ahead)
  }
}

impl LoopTls {
  pub fn new(mut conn: Connection, leftover: Vec<u8>) -> Self {
    // Backpressure is the JavaScript stream's (a write completes once sent); rustls must not
    // refuse plaintext on its own.
    conn.set_buffer_limit(None);
    LoopTls { conn, leftover, shutdown_after_flush: false }
  }

  /// TLS 1.2 with an AES-GCM suite (how OpenSSL reports a record that does not decrypt).
  pub fn tls12_aes_gcm(&self) -> bool {
    let suite = self.conn.negotiated_cipher_suite().and_then(|s| s.suite().as_str()).unwrap_or("");
    crate::tls::error::is_tls12_aes_gcm(self.conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_2), suite)
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

  /// Gives `data` (ciphertext) to rustls and collects the plaintext it opens in `plain`.
  /// An `Err` is a TLS failure (a bad record, an alert).
  fn feed(&mut self, mut data: &[u8], plain: &mut Plain<'_>, sink: &mut dyn FnMut(Got<'_>)) -> Result<bool, io::Error> {
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

  /// Moves the plaintext rustls holds into `plain`; false once the stream ended (the
  /// plaintext before the end is handed to `sink` first).
  fn drain_plain(&mut self, plain: &mut Plain<'_>, sink: &mut dyn FnMut(Got<'_>)) -> Result<bool, io::Error> {
    loop {
      // Never read into an empty slice: rustls would answer 0, which means end of stream.
      if plain.is_full() {
        plain.hand_over(sink);
      }
      match self.conn.reader().read(plain.space()) {
        Ok(0) => {
          plain.hand_over(sink);
          sink(Got::End);
          return Ok(false);
        }
        Ok(n) => plain.filled += n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
        // A peer that closes without close_notify: Node (OpenSSL 3 with
        // SSL_OP_IGNORE_UNEXPECTED_EOF) reports a plain end, and so does cio.
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
          plain.hand_over(sink);
          sink(Got::End);
          return Ok(false);
        }
        Err(e) => return Err(e),
      }
    }
  }

  /// Reads from the socket until it would block (at most `max_reads` reads), opening records
  /// as they come. Plaintext reaches `sink` in chunks of up to `plain.len()` bytes, however
  /// small the records were, and always before an end or error. Returns false when reading
  /// is over (end of stream or an error, both already given to `sink`).
  pub fn read_some(
    &mut self,
    stream: &PlainStream,
    scratch: &mut [u8],
    plain: &mut [u8],
    max_reads: usize,
    sink: &mut dyn FnMut(Got<'_>),
  ) -> bool {
    let mut plain = Plain { buf: plain, filled: 0 };
    let go_on = self.read_into(stream, scratch, &mut plain, max_reads, sink);
    plain.hand_over(sink);
    go_on
  }

  fn read_into(
    &mut self,
    stream: &PlainStream,
    scratch: &mut [u8],
    plain: &mut Plain<'_>,
    max_reads: usize,
    sink: &mut dyn FnMut(Got<'_>),
  ) -> bool {
    let leftover = std::mem::take(&mut self.leftover);
    let fed = self.feed(&leftover, plain, sink);
    if !settle(fed, plain, sink) {
      return false;
    }
    for _ in 0..max_reads {
      let n = match stream.read(scratch) {
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
        Err(e) => {
          plain.hand_over(sink);
          sink(Got::Error(e));
          return false;
        }
      };
      if n == 0 {
        // End of the TCP stream: rustls tells a clean close from a truncated one.
        let mut empty: &[u8] = &[];
        let _ = self.conn.read_tls(&mut empty);
        let fed = self.feed(&[], plain, sink);
        if settle(fed, plain, sink) {
          plain.hand_over(sink);
          sink(Got::End);
        }
        return false;
      }
      let fed = self.feed(&scratch[..n], plain, sink);
      if !settle(fed, plain, sink) {
        return false;
      }
      if n < scratch.len() {
        return true;
      }
    }
    true
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

/// Plaintext gathered for JavaScript: records are opened into `buf` one after another, and
/// `buf` goes out as one chunk when full or when the read ends, so a burst of small records
/// becomes a few large Buffers rather than one per record.
pub struct Plain<'a> {
  buf: &'a mut [u8],
  filled: usize,
}

impl Plain<'_> {
  fn is_full(&self) -> bool {
    self.filled == self.buf.len()
  }

  fn space(&mut self) -> &mut [u8] {
    &mut self.buf[self.filled..]
  }

  /// Hands what was gathered to `sink` (if anything) and starts over.
  fn hand_over(&mut self, sink: &mut dyn FnMut(Got<'_>)) {
    if self.filled > 0 {
      sink(Got::Plain(&self.buf[..self.filled]));
      self.filled = 0;
    }
  }
}

/// A TLS failure ends reading: the plaintext opened before it goes first, then the error.
fn settle(fed: Result<bool, io::Error>, plain: &mut Plain<'_>, sink: &mut dyn FnMut(Got<'_>)) -> bool {
  match fed {
    Ok(go_on) => go_on,
    Err(e) => {
      plain.hand_over(sink);
      sink(Got::Error(e));
      false
    }
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

#[cfg(test)]
mod tests {
  use std::io::Write;
  use std::os::unix::net::UnixStream;

  use super::*;
  use crate::tls::config::{build_client_config, build_server_config};
  use crate::tls::handshake_util::{client_opts, handshake, server_opts};

  /// A burst of small records (far more than one wake-up's worth of events) is read whole and
  /// in order, gathered into chunks of the plaintext space rather than one per record.
  #[test]
  fn small_record_bursts_arrive_whole_in_large_chunks() {
    let s = build_server_config(&server_opts("server.key", "server.crt", &[], false, true)).expect("server");
    let c = build_client_config(&client_opts(None, &["ca.crt"])).expect("client");
    let o = handshake(&s, &c, "localhost");
    let mut sender = Connection::from(o.client_conn);
    let mut receiver = LoopTls::new(Connection::from(o.server_conn), Vec::new());

    let (records, size) = (20_000usize, 100usize);
    let payload: Vec<u8> = (0..records * size).map(|i| (i * 7 % 251) as u8).collect();
    let mut ciphertext = Vec::new();
    for chunk in payload.chunks(size) {
      sender.writer().write_all(chunk).expect("seal");
      while sender.wants_write() {
        sender.write_tls(&mut ciphertext).expect("records");
      }
    }
    let (mut tx, rx) = UnixStream::pair().expect("pair");
    rx.set_nonblocking(true).expect("nonblocking");
    let writer = std::thread::spawn(move || tx.write_all(&ciphertext));
    let stream = PlainStream::Unix(rx);

    let (mut scratch, mut plain) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    let (mut got, mut chunks, mut wakes) = (Vec::new(), 0usize, 0usize);
    while got.len() < payload.len() && wakes < 100_000 {
      wakes += 1;
      let mut sink = |g: Got<'_>| match g {
        Got::Plain(b) => {
          got.extend_from_slice(b);
          chunks += 1;
        }
        other => panic!("unexpected {}", matches!(other, Got::End)),
      };
      assert!(receiver.read_some(&stream, &mut scratch, &mut plain, 16, &mut sink));
    }
    writer.join().expect("writer").expect("written");
    assert_eq!(got.len(), payload.len());
    assert!(got == payload, "plaintext differs");
    // 20,000 records; one chunk per record would be 20,000 (the old behaviour).
    assert!(chunks <= wakes + payload.len() / (64 * 1024) + 1, "{chunks} chunks in {wakes} wake-ups");
  }
}
