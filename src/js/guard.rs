//! Panic containment. Every `#[napi]` entry point is declared `catch_unwind`, which turns a
//! Rust panic into a JavaScript exception instead of aborting Node. This module holds the
//! entry point that proves it: a deliberate panic must surface as a catchable error.

use napi_derive::napi;

/// Panics on purpose; the tests call it to show that a panic never takes the process down.
#[napi(catch_unwind)]
pub fn _panic_for_test(message: String) -> napi::Result<()> {
  panic!("{message}");
}
