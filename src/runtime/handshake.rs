//! The I/O of a TLS handshake over a connected socket (`ConnIo`).
//!
//! When the established connection will run on Node's loop (the normal case), rustls is
//! driven here directly: each flight rustls queues leaves in one `writev`, and the flight that
//! completes the handshake on this side (the client's last flight, the server's Finished in
//! TLS 1.2 or its session tickets in TLS 1.3) is *not* sent here. It stays queued in the
//! connection and the socket on Node's loop sends it together with whatever JavaScript writes
//! in its `'secureConnect'`/`'secureConnection'` listener, or on the next loop turn when
//! nothing is written (`LoopIo`'s `tail`).
//!
//! Why: sent on its own, that flight is a small segment the peer has no reason to acknowledge
//! at once (it has nothing to answer), and Nagle's algorithm then holds the application's
//! first small write until the peer's delayed ACK, ~40 ms later, on every connection where
//! the side that finished the handshake also speaks first. Node's TLS puts that flight and
//! the first write into one write the same way (OpenSSL's output is flushed after the
//! handshake callbacks ran), and sets no `TCP_NODELAY` of its own.
//!
//! Without Node's loop (`CIO_IO=tokio`) the connection stays on tokio and tokio-rustls runs
//! the handshake as before (it sends the last flight at once).

use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, ConnectionCommon, ServerConfig, ServerConnection, SideData};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::runtime::conn::ConnIo;

/// A finished handshake.
pub enum Established<C, S> {
  /// Driven here, for Node's loop: the last flight may still be queued in `conn`.
  Held { io: ConnIo, conn: C },
  /// Driven by tokio-rustls, for a connection that stays on tokio: everything was sent.
  Stream(S),
}

pub type ServerEstablished = Established<ServerConnection, tokio_rustls::server::TlsStream<ConnIo>>;
pub type ClientEstablished = Established<ClientConnection, tokio_rustls::client::TlsStream<ConnIo>>;

impl ServerEstablished {
  pub fn conn(&self) -> &ServerConnection {
    match self {
      Established::Held { conn, .. } => conn,
      Established::Stream(s) => s.get_ref().1,
    }
  }
}

impl ClientEstablished {
  pub fn conn(&self) -> &ClientConnection {
    match self {
      Established::Held { conn, .. } => conn,
      Established::Stream(s) => s.get_ref().1,
    }
  }
}

/// The server side of a handshake over an accepted connection; held for Node's loop when
/// `to_loop`, else run by tokio-rustls.
pub async fn accept(config: &Arc<ServerConfig>, io: ConnIo, to_loop: bool) -> io::Result<ServerEstablished> {
  if !to_loop {
    return TlsAcceptor::from(config.clone()).accept(io.with_tls12_alerts()).await.map(Established::Stream);
  }
  // tokio-rustls reports a connection that cannot be created the same way.
  let conn = ServerConnection::new(config.clone()).map_err(io::Error::other)?;
  drive(io, conn).await
}

/// The client side of a handshake over a connected socket; held for Node's loop when
/// `to_loop`, else run by tokio-rustls.
pub async fn connect(config: &Arc<ClientConfig>, name: ServerName<'static>, io: ConnIo, to_loop: bool) -> io::Result<ClientEstablished> {
  if !to_loop {
    return TlsConnector::from(config.clone()).connect(name, io).await.map(Established::Stream);
  }
  let conn = ClientConnection::new(config.clone(), name).map_err(io::Error::other)?;
  drive(io, conn).await
}

async fn drive<C, D, S>(mut io: ConnIo, mut conn: C) -> io::Result<Established<C, S>>
where
  C: std::ops::DerefMut<Target = ConnectionCommon<D>>,
  D: SideData,
{
  std::future::poll_fn(|cx| poll_handshake(&mut io, &mut conn, cx)).await?;
  Ok(Established::Held { io, conn })
}

/// Runs the handshake until this side is done with it; the last flight stays queued.
fn poll_handshake<D: SideData>(io: &mut ConnIo, conn: &mut ConnectionCommon<D>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
  loop {
    if !conn.is_handshaking() {
      return Poll::Ready(Ok(()));
    }
    // A whole flight is queued by now (rustls queues each one as it processes the peer's):
    // it leaves in one writev.
    while conn.wants_write() {
      match conn.write_tls(&mut SyncIo { io, cx }) {
        Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
        Err(e) => return Poll::Ready(Err(e)),
      }
    }
    match conn.read_tls(&mut SyncIo { io, cx }) {
      Ok(0) => return Poll::Ready(Err(io::Error::new(io::ErrorKind::UnexpectedEof, "tls handshake eof"))),
      Ok(_) => {}
      Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
      Err(e) => return Poll::Ready(Err(e)),
    }
    if let Err(e) = conn.process_new_packets() {
      // TLS 1.2 has no certificate_required alert (rustls sends TLS 1.3's for a missing client
      // certificate): the alert OpenSSL sends there instead, in plaintext as rustls's would be.
      if conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_2) {
        if let Some(alert) = crate::tls::error::tls12_alert_instead(&e) {
          let _ = SyncIo { io, cx }.write(&alert);
          return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, e)));
        }
      }
      // The alert rustls queued tells the peer why; best effort, as tokio-rustls does.
      while conn.wants_write() {
        if !matches!(conn.write_tls(&mut SyncIo { io, cx }), Ok(n) if n > 0) {
          break;
        }
      }
      return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, e)));
    }
  }
}

/// `Read`/`Write` over `ConnIo` for rustls; "not ready" is `WouldBlock` (the waker is set).
struct SyncIo<'a, 'b> {
  io: &'a mut ConnIo,
  cx: &'a mut Context<'b>,
}

fn ready<T>(p: Poll<io::Result<T>>) -> io::Result<T> {
  match p {
    Poll::Ready(r) => r,
    Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
  }
}

impl Read for SyncIo<'_, '_> {
  fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
    let mut rb = ReadBuf::new(buf);
    ready(Pin::new(&mut *self.io).poll_read(self.cx, &mut rb))?;
    Ok(rb.filled().len())
  }
}

impl Write for SyncIo<'_, '_> {
  fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
    ready(Pin::new(&mut *self.io).poll_write(self.cx, buf))
  }

  fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
    ready(Pin::new(&mut *self.io).poll_write_vectored(self.cx, bufs))
  }

  fn flush(&mut self) -> io::Result<()> {
    Ok(())
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::runtime::conn::Conn;
  use crate::tls::{build_client_config, build_server_config, ClientTlsOptions, MaterialSources, ServerTlsOptions, Source};

  fn fixture(name: &str) -> Vec<Source> {
    vec![Source::Path(format!("{}/__test__/fixtures/{name}", env!("CARGO_MANIFEST_DIR")))]
  }

  /// Flushes what `conn` holds, as the socket on Node's loop does with its first write.
  async fn send_tail<D: SideData>(io: &mut ConnIo, conn: &mut ConnectionCommon<D>) {
    std::future::poll_fn(|cx| {
      while conn.wants_write() {
        match conn.write_tls(&mut SyncIo { io, cx }) {
          Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
          r => assert!(r.expect("write") > 0),
        }
      }
      Poll::Ready(())
    })
    .await
  }

  type Done<C> = io::Result<Established<C, ()>>;

  /// Over a real loopback connection, mutual TLS: the side that completes the handshake first
  /// (the TLS 1.3 client, the TLS 1.2 server) ends holding its last flight, which the peer needs
  /// to complete; once that flight is sent the peer completes too, and what it holds (TLS 1.3
  /// session tickets) is queued, not sent.
  #[test]
  fn the_side_that_completes_first_holds_its_last_flight_until_it_is_sent() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    for version in ["TLSv1.2", "TLSv1.3"] {
      let v = Some(version.to_string());
      let server = build_server_config(&ServerTlsOptions {
        material: MaterialSources { key: fixture("server.key"), cert: fixture("server.crt"), ca: fixture("ca.crt") },
        request_cert: true,
        min_version: v.clone(),
        max_version: v.clone(),
        ..Default::default()
      })
      .expect("server config");
      let client = build_client_config(&ClientTlsOptions {
        material: MaterialSources { key: fixture("alice.key"), cert: fixture("alice.crt"), ca: fixture("ca.crt") },
        min_version: v.clone(),
        max_version: v,
        ..Default::default()
      })
      .expect("client config");
      rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (accepted, connected) = tokio::join!(listener.accept(), tokio::net::TcpStream::connect(addr));
        let s_io = ConnIo::new(Arc::new(Conn::Tcp(accepted.expect("accept").0)));
        let c_io = ConnIo::new(Arc::new(Conn::Tcp(connected.expect("connect"))));
        let s_conn = ServerConnection::new(server.config.clone()).expect("server conn");
        let c_conn = ClientConnection::new(client.config.clone(), ServerName::try_from("localhost").expect("name")).expect("client conn");
        let mut s_task = tokio::spawn(async move {
          let r: Done<ServerConnection> = drive(s_io, s_conn).await;
          r
        });
        let mut c_task = tokio::spawn(async move {
          let r: Done<ClientConnection> = drive(c_io, c_conn).await;
          r
        });
        if version == "TLSv1.3" {
          let Established::Held { io: mut c_io, conn: mut c_conn } = (&mut c_task).await.expect("join").expect("client handshake") else { unreachable!() };
          assert!(c_conn.wants_write(), "{version}: the client's Finished is held");
          assert!(!s_task.is_finished());
          send_tail(&mut c_io, &mut c_conn).await;
          let Established::Held { conn: s_conn, .. } = s_task.await.expect("join").expect("server handshake") else { unreachable!() };
          assert!(s_conn.wants_write(), "{version}: the server's session tickets are held");
          assert!(s_conn.peer_certificates().is_some_and(|c| !c.is_empty()), "{version}: the client's certificate arrived");
        } else {
          let Established::Held { io: mut s_io, conn: mut s_conn } = (&mut s_task).await.expect("join").expect("server handshake") else { unreachable!() };
          assert!(s_conn.wants_write(), "{version}: the server's Finished is held");
          assert!(!c_task.is_finished());
          send_tail(&mut s_io, &mut s_conn).await;
          let Established::Held { conn: c_conn, .. } = c_task.await.expect("join").expect("client handshake") else { unreachable!() };
          assert!(!c_conn.is_handshaking(), "{version}: the client completed");
        }
      });
    }
  }
}
