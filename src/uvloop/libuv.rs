//! Node's own event loop (libuv), reached from native code: the libuv functions cio needs,
//! looked up at run time (`dlsym`) from the Node binary, and `PollBase`, a poll handle with
//! what calling back into JavaScript needs. Sockets (`uvloop::io`) and plain TCP
//! servers (`uvloop::accept`) run on it; when the symbols are missing (or `CIO_IO=tokio`), everything
//! runs on the runtime's threads instead.
//!
//! Why: a tokio worker wakes, reads and hands data over through a threadsafe function, and
//! every such hop costs a cross-CPU wake-up (tens of µs on this kind of VM) where Node answers
//! on one thread. Established connections have little to offload (system calls, and for TLS
//! cheap record crypto), so they are driven right here, as Node drives its own.

use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::OnceLock;

use napi::sys;


pub(crate) const UV_READABLE: c_int = 1;
pub(crate) const UV_WRITABLE: c_int = 2;
const UV_POLL: c_int = 8;
pub(crate) const UV_CHECK: c_int = 2;
pub(crate) const UV_IDLE: c_int = 6;

pub(crate) type PollCb = unsafe extern "C" fn(*mut c_void, c_int, c_int);
pub(crate) type CloseCb = unsafe extern "C" fn(*mut c_void);
pub(crate) type CheckCb = unsafe extern "C" fn(*mut c_void);

pub(crate) struct Uv {
  pub(crate) handle_size: unsafe extern "C" fn(c_int) -> usize,
  pub(crate) poll_init: unsafe extern "C" fn(*mut c_void, *mut c_void, c_int) -> c_int,
  pub(crate) poll_start: unsafe extern "C" fn(*mut c_void, c_int, PollCb) -> c_int,
  pub(crate) poll_stop: unsafe extern "C" fn(*mut c_void) -> c_int,
  pub(crate) close: unsafe extern "C" fn(*mut c_void, Option<CloseCb>),
  pub(crate) ref_: unsafe extern "C" fn(*mut c_void),
  pub(crate) unref: unsafe extern "C" fn(*mut c_void),
  pub(crate) check_init: unsafe extern "C" fn(*mut c_void, *mut c_void) -> c_int,
  pub(crate) check_start: unsafe extern "C" fn(*mut c_void, CheckCb) -> c_int,
  pub(crate) check_stop: unsafe extern "C" fn(*mut c_void) -> c_int,
  pub(crate) idle_init: unsafe extern "C" fn(*mut c_void, *mut c_void) -> c_int,
  pub(crate) idle_start: unsafe extern "C" fn(*mut c_void, CheckCb) -> c_int,
  pub(crate) idle_stop: unsafe extern "C" fn(*mut c_void) -> c_int,
}

pub(crate) fn uv() -> Option<&'static Uv> {
  static UV: OnceLock<Option<Uv>> = OnceLock::new();
  UV.get_or_init(|| {
    if std::env::var("CIO_IO").as_deref() == Ok("tokio") {
      return None;
    }
    unsafe fn sym(name: &std::ffi::CStr) -> Option<*mut c_void> {
      let p = libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr());
      (!p.is_null()).then_some(p)
    }
    // SAFETY: the symbols are libuv's public functions with exactly these C signatures.
    unsafe {
      Some(Uv {
        handle_size: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(c_int) -> usize>(sym(c"uv_handle_size")?),
        poll_init: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void, *mut c_void, c_int) -> c_int>(sym(c"uv_poll_init")?),
        poll_start: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void, c_int, PollCb) -> c_int>(sym(c"uv_poll_start")?),
        poll_stop: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void) -> c_int>(sym(c"uv_poll_stop")?),
        close: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void, Option<CloseCb>)>(sym(c"uv_close")?),
        ref_: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void)>(sym(c"uv_ref")?),
        unref: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void)>(sym(c"uv_unref")?),
        check_init: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void, *mut c_void) -> c_int>(sym(c"uv_check_init")?),
        check_start: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void, CheckCb) -> c_int>(sym(c"uv_check_start")?),
        check_stop: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void) -> c_int>(sym(c"uv_check_stop")?),
        idle_init: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void, *mut c_void) -> c_int>(sym(c"uv_idle_init")?),
        idle_start: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void, CheckCb) -> c_int>(sym(c"uv_idle_start")?),
        idle_stop: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void) -> c_int>(sym(c"uv_idle_stop")?),
      })
    }
  })
  .as_ref()
}

/// Whether plain sockets can run on Node's loop here (`CIO_IO=tokio` forces tokio).
pub fn available() -> bool {
  uv().is_some()
}

/// A libuv poll handle on one descriptor and what calling back into JavaScript needs: the
/// callback (referenced) and an async context, so callbacks run as Node's own I/O callbacks
/// do (`napi_make_callback`: next-tick and promise jobs after each). Shared by sockets
/// (`LoopIo`) and servers (`LoopListener`).
pub(crate) struct PollBase {
  pub env: sys::napi_env,
  /// The uv_poll_t (libuv-sized raw memory); its `data` field points at the owner.
  pub handle: *mut c_void,
  handle_len: usize,
  callback: sys::napi_ref,
  async_ctx: sys::napi_async_context,
}

impl PollBase {
  /// A poll handle for `fd` on the loop of `env`, calling `callback` (label: the async
  /// resource's name). `None` when libuv is not at hand or the handle cannot be made.
  ///
  /// # Safety
  /// JavaScript thread of `env`; `callback` is a function value of `env`. The caller sets
  /// the handle's `data` (`set_owner`) before the loop can run a callback for it.
  pub unsafe fn new(env: sys::napi_env, fd: c_int, callback: sys::napi_value, label: &str) -> Option<PollBase> {
    let uv = uv()?;
    let mut lp: *mut sys::uv_loop_s = ptr::null_mut();
    if sys::napi_get_uv_event_loop(env, &mut lp) != sys::Status::napi_ok || lp.is_null() {
      return None;
    }
    let handle_len = (uv.handle_size)(UV_POLL).max(std::mem::size_of::<*mut c_void>());
    let handle = Box::into_raw(vec![0u8; handle_len].into_boxed_slice()).cast::<c_void>();
    if (uv.poll_init)(lp.cast(), handle, fd) != 0 {
      drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(handle.cast::<u8>(), handle_len)));
      return None;
    }
    let mut callback_ref = ptr::null_mut();
    sys::napi_create_reference(env, callback, 1, &mut callback_ref);
    let mut name = ptr::null_mut();
    sys::napi_create_string_utf8(env, label.as_ptr().cast(), label.len() as isize, &mut name);
    let mut resource = ptr::null_mut();
    sys::napi_create_object(env, &mut resource);
    let mut async_ctx = ptr::null_mut();
    sys::napi_async_init(env, resource, name, &mut async_ctx);
    Some(PollBase { env, handle, handle_len, callback: callback_ref, async_ctx })
  }

  /// A libuv check (`UV_CHECK`) or idle (`UV_IDLE`) handle on the same loop whose `data`
  /// points at `owner`; a check handle is referenced (while active it keeps the loop running,
  /// as Node's pending shutdown request does), an idle one is not. Null when it cannot be
  /// made. Free it with `close_watcher`.
  ///
  /// # Safety
  /// JavaScript thread; `owner` outlives the handle (closed before the owner is freed).
  pub unsafe fn new_watcher<T>(&self, kind: c_int, owner: *const T) -> *mut c_void {
    let Some(uv) = uv() else { return ptr::null_mut() };
    let mut lp: *mut sys::uv_loop_s = ptr::null_mut();
    if sys::napi_get_uv_event_loop(self.env, &mut lp) != sys::Status::napi_ok || lp.is_null() {
      return ptr::null_mut();
    }
    let len = watcher_len(uv, kind);
    let handle = Box::into_raw(vec![0u8; len].into_boxed_slice()).cast::<c_void>();
    let init = if kind == UV_CHECK { uv.check_init } else { uv.idle_init };
    if init(lp.cast(), handle) != 0 {
      drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(handle.cast::<u8>(), len)));
      return ptr::null_mut();
    }
    *handle.cast::<*const T>() = owner;
    if kind != UV_CHECK {
      (uv.unref)(handle);
    }
    handle
  }

  /// Points the handle's `data` (libuv's first field) at its owner.
  ///
  /// # Safety
  /// `owner` outlives the handle (freed only from the close callback).
  pub unsafe fn set_owner<T>(&self, owner: *mut T) {
    *self.handle.cast::<*mut T>() = owner;
  }

  /// Calls the callback with `args`; an exception it throws is uncaught, as from any Node
  /// I/O callback.
  ///
  /// # Safety
  /// JavaScript thread, inside an open handle scope.
  pub unsafe fn call(&self, args: &[sys::napi_value]) {
    let env = self.env;
    let (mut func, mut recv, mut result) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
    sys::napi_get_reference_value(env, self.callback, &mut func);
    // napi_make_callback needs an object receiver; the callback ignores `this`.
    sys::napi_get_global(env, &mut recv);
    let status = sys::napi_make_callback(env, self.async_ctx, recv, func, args.len(), args.as_ptr(), &mut result);
    if status == sys::Status::napi_pending_exception {
      let mut exc = ptr::null_mut();
      sys::napi_get_and_clear_last_exception(env, &mut exc);
      sys::napi_fatal_exception(env, exc);
    }
  }

  /// Frees everything; from the handle's close callback only.
  ///
  /// # Safety
  /// JavaScript thread; libuv is done with the handle.
  pub unsafe fn free(&self) {
    sys::napi_delete_reference(self.env, self.callback);
    sys::napi_async_destroy(self.env, self.async_ctx);
    drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(self.handle.cast::<u8>(), self.handle_len)));
  }
}


fn watcher_len(uv: &Uv, kind: c_int) -> usize {
  // SAFETY: libuv's uv_handle_size takes any handle type.
  unsafe { (uv.handle_size)(kind) }.max(std::mem::size_of::<*mut c_void>())
}

/// Closes a check or idle handle made by `PollBase::new_watcher`; its memory goes in the
/// close callback.
///
/// # Safety
/// JavaScript thread; `handle` is an open handle of that `kind`.
pub(crate) unsafe fn close_watcher(handle: *mut c_void, kind: c_int) {
  unsafe extern "C" fn free_check(handle: *mut c_void) {
    if let Some(uv) = uv() {
      drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(handle.cast::<u8>(), watcher_len(uv, UV_CHECK))));
    }
  }
  unsafe extern "C" fn free_idle(handle: *mut c_void) {
    if let Some(uv) = uv() {
      drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(handle.cast::<u8>(), watcher_len(uv, UV_IDLE))));
    }
  }
  if let Some(uv) = uv() {
    (uv.close)(handle, Some(if kind == UV_CHECK { free_check } else { free_idle }));
  }
}
