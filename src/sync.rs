//! Lock helper shared by the handles: a poisoned mutex (a panic while it was held, already
//! turned into a JavaScript error by `catch_unwind`) keeps its data usable instead of
//! panicking again on every later call.

use std::sync::{Mutex, MutexGuard};

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
  m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
