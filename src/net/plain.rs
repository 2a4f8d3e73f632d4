//! A connected plain (TCP or Unix) stream detached from tokio, for sockets that run on
//! Node's event loop (`uvloop`): non-blocking reads and writes, half-close, options, addresses.

use std::ffi::c_int;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;

use crate::net::{split_addr, AddrPair};

/// A connected plain stream, detached from tokio.
pub enum PlainStream {
  Tcp(std::net::TcpStream),
  Unix(std::os::unix::net::UnixStream),
}

impl PlainStream {
  pub fn fd(&self) -> c_int {
    match self {
      PlainStream::Tcp(s) => s.as_raw_fd(),
      PlainStream::Unix(s) => s.as_raw_fd(),
    }
  }

  pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
    match self {
      PlainStream::Tcp(s) => (&*s).read(buf),
      PlainStream::Unix(s) => (&*s).read(buf),
    }
  }

  /// Bytes the kernel holds ready to read (`FIONREAD`); 0 when it cannot tell.
  pub fn available(&self) -> usize {
    let mut n: c_int = 0;
    // SAFETY: FIONREAD writes one int through the pointer; the descriptor is open.
    let r = unsafe { libc::ioctl(self.fd(), libc::FIONREAD, &mut n) };
    if r == 0 && n > 0 { n as usize } else { 0 }
  }

  pub fn write(&self, buf: &[u8]) -> io::Result<usize> {
    match self {
      PlainStream::Tcp(s) => (&*s).write(buf),
      PlainStream::Unix(s) => (&*s).write(buf),
    }
  }

  pub fn write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
    match self {
      PlainStream::Tcp(s) => (&*s).write_vectored(bufs),
      PlainStream::Unix(s) => (&*s).write_vectored(bufs),
    }
  }

  pub fn shutdown_write(&self) -> io::Result<()> {
    let r = match self {
      PlainStream::Tcp(s) => s.shutdown(std::net::Shutdown::Write),
      PlainStream::Unix(s) => s.shutdown(std::net::Shutdown::Write),
    };
    match r {
      Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => Ok(()),
      r => r,
    }
  }

  pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
    match self {
      PlainStream::Tcp(s) => s.set_nodelay(on),
      PlainStream::Unix(_) => Ok(()),
    }
  }

  pub fn set_keepalive(&self, on: bool, delay_secs: u32) -> io::Result<()> {
    if let PlainStream::Tcp(s) = self {
      let sock = socket2::SockRef::from(s);
      sock.set_keepalive(on)?;
      if on && delay_secs > 0 {
        let ka = socket2::TcpKeepalive::new().with_time(std::time::Duration::from_secs(delay_secs as u64));
        sock.set_tcp_keepalive(&ka)?;
      }
    }
    Ok(())
  }

  pub fn addresses(&self) -> AddrPair {
    match self {
      PlainStream::Tcp(s) => {
        let mut pair = AddrPair::default();
        if let Ok(a) = s.local_addr() {
          let (ip, port, fam) = split_addr(&a);
          (pair.local_address, pair.local_port, pair.local_family) = (Some(ip), Some(port), Some(fam));
        }
        if let Ok(a) = s.peer_addr() {
          let (ip, port, fam) = split_addr(&a);
          (pair.remote_address, pair.remote_port, pair.remote_family) = (Some(ip), Some(port), Some(fam));
        }
        pair
      }
      PlainStream::Unix(s) => AddrPair {
        local_address: s.local_addr().ok().and_then(|a| a.as_pathname().map(|p| p.to_string_lossy().into_owned())),
        ..AddrPair::default()
      },
    }
  }
}

