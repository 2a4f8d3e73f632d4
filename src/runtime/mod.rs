//! The addon's one tokio runtime, started lazily on first use, plus the phase-timeout helper.
//!
//! The runtime is multi-threaded with one worker per core: TLS handshakes and encryption are
//! the work that scales, and they run on these threads. The `Runtime` is leaked on purpose: it
//! lives as long as the process, and its threads never keep Node's event loop alive (only
//! referenced threadsafe functions do).

pub mod conn;
pub mod connect;
pub mod handshake;
pub mod io_tasks;
pub mod secure;

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::runtime::Handle;

use crate::errors::ErrInfo;

static RUNTIME: OnceLock<Handle> = OnceLock::new();

/// The shared runtime handle; the first call starts the runtime.
pub fn handle() -> &'static Handle {
  RUNTIME.get_or_init(|| {
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let rt = tokio::runtime::Builder::new_multi_thread()
      .worker_threads(workers)
      .thread_name("cio-io")
      .enable_all()
      .build();
    match rt {
      Ok(rt) => {
        let handle = rt.handle().clone();
        std::mem::forget(rt);
        handle
      }
      // Without threads there is no way to do I/O; this only happens when the OS refuses to
      // spawn threads, and aborting with a clear message beats limping on.
      Err(e) => {
        eprintln!("cio: cannot start the I/O runtime: {e}");
        std::process::abort()
      }
    }
  })
}

/// Runs `fut` with a deadline; an elapsed deadline becomes `ETIMEDOUT` naming the phase.
/// Every bounded phase (connect, handshake) goes through here so timeouts look alike.
pub async fn with_timeout<T, F>(fut: F, phase: &str, limit: Option<Duration>) -> Result<T, ErrInfo>
where
  F: Future<Output = Result<T, ErrInfo>>,
{
  match limit {
    None => fut.await,
    Some(limit) => match tokio::time::timeout(limit, fut).await {
      Ok(r) => r,
      Err(_) => Err(ErrInfo::timed_out(phase)),
    },
  }
}
