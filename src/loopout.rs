//! The events of one readiness callback on Node's loop, already JavaScript values.

use std::ptr;

use napi::bindgen_prelude::ToNapiValue;
use napi::sys;

use crate::events::Ev;
use crate::loopio::READS_PER_WAKE;

/// Events of one readiness callback, already JavaScript values (created inside the callback's
/// handle scope). A fixed array: a wake-up allocates nothing but the Buffers it hands over.
pub(crate) struct Out {
  env: sys::napi_env,
  pub items: [(u32, sys::napi_value); OUT_CAP],
  pub len: usize,
  /// A value could not be created (out of memory): deliver nothing rather than half.
  pub failed: bool,
}

/// Room for a write completion, the chunks of `READS_PER_WAKE` reads (up to five each for
/// TLS: rustls opens records of at most 16 KiB), an end or error, and a spare.
pub(crate) const OUT_CAP: usize = 5 * READS_PER_WAKE + 3;

impl Out {
  pub fn new(env: sys::napi_env) -> Self {
    Out { env, items: [(0, ptr::null_mut()); OUT_CAP], len: 0, failed: false }
  }

  fn push(&mut self, code: u32, value: napi::Result<sys::napi_value>) {
    match value {
      Ok(v) if self.len < OUT_CAP => {
        self.items[self.len] = (code, v);
        self.len += 1;
      }
      _ => self.failed = true,
    }
  }

  pub fn push_bytes(&mut self, bytes: &[u8]) {
    let mut value = ptr::null_mut();
    let mut data = ptr::null_mut();
    // SAFETY: JavaScript thread, inside an open handle scope.
    let status = unsafe {
      sys::napi_create_buffer_copy(self.env, bytes.len(), bytes.as_ptr().cast(), &mut data, &mut value)
    };
    let v = if status == sys::Status::napi_ok { Ok(value) } else { Err(napi::Error::from_reason("cannot create a Buffer")) };
    self.push(crate::events::code::DATA, v);
  }

  pub fn push_ev(&mut self, ev: Ev) {
    // SAFETY: as above.
    let (code, v) = unsafe { ev.into_js(self.env) };
    self.push(code, v);
  }

  pub fn to_array(&self, env: sys::napi_env) -> napi::Result<sys::napi_value> {
    let mut arr = ptr::null_mut();
    // SAFETY: JavaScript thread, inside an open handle scope.
    unsafe {
      napi::check_status!(sys::napi_create_array_with_length(env, self.len * 2, &mut arr))?;
      for (i, (code, v)) in self.items[..self.len].iter().enumerate() {
        napi::check_status!(sys::napi_set_element(env, arr, (2 * i) as u32, u32::to_napi_value(env, *code)?))?;
        napi::check_status!(sys::napi_set_element(env, arr, (2 * i + 1) as u32, *v))?;
      }
    }
    Ok(arr)
  }
}


