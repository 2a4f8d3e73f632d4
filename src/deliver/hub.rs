//! The event hub: one threadsafe function per JavaScript environment, through which every
//! handle's `Emitter` (see `deliver`) delivers from runtime threads. A hub wake-up drains every
//! handle that has events queued, so a burst on many sockets costs one cross-thread wake-up.

use std::ptr;
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;

use crate::sync::lock;

/// What a hub wake-up drains: one handle's queued events (the `Emitter` of `deliver`
/// implements it; the hub knows nothing else about handles).
pub(crate) trait Deliver: Send + Sync {
  /// Hands everything queued to the handle's JavaScript callback.
  ///
  /// # Safety
  /// JavaScript thread of `env`.
  unsafe fn deliver(&self, env: sys::napi_env);
}

/// A `napi_ref` to a handle's JavaScript callback. Created, used and deleted on the
/// JavaScript thread only (deletion from elsewhere is deferred to the hub's next delivery).
pub(crate) struct CallbackRef(pub(crate) sys::napi_ref);
// SAFETY: see above; only moved between threads inside a Mutex, never used off the JS thread.
unsafe impl Send for CallbackRef {}

/// One per JavaScript environment (thread): a single threadsafe function through which every
/// handle of that environment delivers. Creating and releasing a threadsafe function per
/// socket cost a libuv async handle, locks and a close round trip each; a hub wake-up drains
/// every handle that has events. The hub keeps Node's loop alive exactly while some started,
/// referenced, open handle exists (as each handle's own threadsafe function did).
pub struct Hub {
  inner: Mutex<HubInner>,
  env: sys::napi_env,
}

struct HubInner {
  tsfn: sys::napi_threadsafe_function,
  /// The threadsafe function was finalized (environment teardown): never call it again.
  finalized: bool,
  /// A hub call is queued and has not run yet.
  scheduled: bool,
  ready: Vec<Arc<dyn Deliver>>,
  /// Callback references dropped off the JavaScript thread, deleted at the next delivery.
  garbage: Vec<CallbackRef>,
  /// Handles keeping the loop alive (JavaScript-thread changes only).
  keep_alive: usize,
}

// SAFETY: the raw napi handles are used only as napi allows: `napi_call_threadsafe_function`
// from any thread (under the lock, and never after finalization), everything else on the
// environment's own thread.
unsafe impl Send for Hub {}
unsafe impl Sync for Hub {}

thread_local! {
  static HUB: std::cell::Cell<Option<&'static Hub>> = const { std::cell::Cell::new(None) };
}

impl Hub {
  /// The hub of the environment running on this (JavaScript) thread, created on first use.
  /// It lives as long as the process (one small allocation per environment).
  pub(crate) fn get(env: sys::napi_env) -> Result<&'static Hub> {
    if let Some(h) = HUB.with(|h| h.get()).filter(|h| h.env == env) {
      return Ok(h);
    }
    let hub: &'static Hub = Box::leak(Box::new(Hub {
      inner: Mutex::new(HubInner {
        tsfn: ptr::null_mut(),
        finalized: false,
        scheduled: false,
        ready: Vec::new(),
        garbage: Vec::new(),
        keep_alive: 0,
      }),
      env,
    }));
    let mut name = ptr::null_mut();
    let label = "cio.events";
    let mut tsfn = ptr::null_mut();
    // SAFETY: JavaScript thread of `env`; `hub` outlives the threadsafe function.
    unsafe {
      check_status!(sys::napi_create_string_utf8(env, label.as_ptr().cast(), label.len() as isize, &mut name))?;
      check_status!(sys::napi_create_threadsafe_function(
        env,
        ptr::null_mut(),
        ptr::null_mut(),
        name,
        0,
        1,
        (hub as *const Hub).cast_mut().cast(),
        Some(hub_finalize),
        (hub as *const Hub).cast_mut().cast(),
        Some(hub_call_js),
        &mut tsfn,
      ))?;
      // Nothing keeps the loop alive until a handle starts.
      sys::napi_unref_threadsafe_function(env, tsfn);
    }
    lock(&hub.inner).tsfn = tsfn;
    HUB.with(|h| h.set(Some(hub)));
    Ok(hub)
  }

  pub(crate) fn schedule(&self, emitter: Arc<dyn Deliver>) {
    let mut inner = lock(&self.inner);
    if inner.finalized {
      return;
    }
    inner.ready.push(emitter);
    if !inner.scheduled {
      inner.scheduled = true;
      // SAFETY: not finalized (checked under the lock that finalization takes).
      unsafe { sys::napi_call_threadsafe_function(inner.tsfn, ptr::null_mut(), sys::ThreadsafeFunctionCallMode::nonblocking) };
    }
  }

  /// A handle starts or stops keeping the loop alive. JavaScript thread only.
  pub(crate) fn keep_alive(&self, on: bool) {
    let mut inner = lock(&self.inner);
    if inner.finalized {
      return;
    }
    let before = inner.keep_alive;
    inner.keep_alive = if on { before + 1 } else { before.saturating_sub(1) };
    // SAFETY: JavaScript thread of `env`, threadsafe function not finalized.
    unsafe {
      if before == 0 && inner.keep_alive == 1 {
        sys::napi_ref_threadsafe_function(self.env, inner.tsfn);
      } else if before == 1 && inner.keep_alive == 0 {
        sys::napi_unref_threadsafe_function(self.env, inner.tsfn);
      }
    }
  }

  fn on_js_thread(&self) -> bool {
    HUB.with(|h| h.get()).is_some_and(|h| std::ptr::eq(h, self))
  }

  pub(crate) fn drop_callback(&self, cb: CallbackRef) {
    if self.on_js_thread() {
      // SAFETY: JavaScript thread of `env`.
      unsafe { sys::napi_delete_reference(self.env, cb.0) };
    } else {
      lock(&self.inner).garbage.push(cb);
    }
  }
}

unsafe extern "C" fn hub_finalize(_env: sys::napi_env, data: *mut std::ffi::c_void, _hint: *mut std::ffi::c_void) {
  let hub = &*(data as *const Hub);
  let mut inner = lock(&hub.inner);
  inner.finalized = true;
  inner.ready.clear();
  inner.garbage.clear();
}

/// Runs on the JavaScript thread for each hub wake-up: every ready handle gets its batch.
unsafe extern "C" fn hub_call_js(env: sys::napi_env, _cb: sys::napi_value, ctx: *mut std::ffi::c_void, _data: *mut std::ffi::c_void) {
  if env.is_null() {
    return; // the environment is going away
  }
  let hub = &*(ctx as *const Hub);
  let (ready, garbage) = {
    let mut inner = lock(&hub.inner);
    inner.scheduled = false;
    (std::mem::take(&mut inner.ready), std::mem::take(&mut inner.garbage))
  };
  for cb in garbage {
    sys::napi_delete_reference(env, cb.0);
  }
  for emitter in ready {
    emitter.deliver(env);
  }
}
