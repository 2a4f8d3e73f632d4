//! The events of one readiness callback on Node's loop, already JavaScript values.

use std::cell::RefCell;
use std::ptr;

use napi::bindgen_prelude::ToNapiValue;
use napi::sys;

use crate::deliver::Ev;

thread_local! {
  /// The item list of the last wake-up, kept for the next one: a wake-up allocates nothing
  /// but the Buffers it hands over.
  static SPARE: RefCell<Vec<(u32, sys::napi_value)>> = const { RefCell::new(Vec::new()) };
}

/// Events of one readiness callback, already JavaScript values (created inside the callback's
/// handle scope). The list grows as needed: every byte taken from the kernel reaches
/// JavaScript, however many records or events one wake-up produces.
pub(crate) struct Out {
  env: sys::napi_env,
  pub items: Vec<(u32, sys::napi_value)>,
  /// A value could not be created (out of memory): the socket cannot go on (see `on_poll`).
  pub failed: bool,
}

impl Out {
  pub fn new(env: sys::napi_env) -> Self {
    let items = SPARE.with(|s| std::mem::take(&mut *s.borrow_mut()));
    Out { env, items, failed: false }
  }

  pub fn len(&self) -> usize {
    self.items.len()
  }

  fn push(&mut self, code: u32, value: napi::Result<sys::napi_value>) {
    match value {
      // Nothing after a failure: what is delivered stays in order, the error ends it.
      Ok(v) if !self.failed => self.items.push((code, v)),
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
    self.push(crate::deliver::code::DATA, v);
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
      napi::check_status!(sys::napi_create_array_with_length(env, self.items.len() * 2, &mut arr))?;
      for (i, (code, v)) in self.items.iter().enumerate() {
        napi::check_status!(sys::napi_set_element(env, arr, (2 * i) as u32, u32::to_napi_value(env, *code)?))?;
        napi::check_status!(sys::napi_set_element(env, arr, (2 * i + 1) as u32, *v))?;
      }
    }
    Ok(arr)
  }
}

impl Drop for Out {
  fn drop(&mut self) {
    let mut items = std::mem::take(&mut self.items);
    items.clear();
    // Keep a modest list for the next wake-up; a huge one (a burst) is given back.
    if items.capacity() <= 256 {
      SPARE.with(|s| *s.borrow_mut() = items);
    }
  }
}
