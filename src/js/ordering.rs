//! napi export of [`crate::ordering::order`]: converts JS objects in, indices out, and a
//! cycle into a JS `Error` with `code === 'ERR_CIO_ORDER_CYCLE'`. No logic lives here.

// napi registers these at load time; a test build has no loader, so they look unused there.
#![cfg_attr(test, allow(dead_code))]

use napi_derive::napi;

use crate::ordering::{order, Item};

/// One listener's ordering constraints, as `lib/chain.js` collects them from `fn.options`.
#[napi(object)]
pub struct OrderItem {
  pub id: String,
  pub before: Vec<String>,
  pub after: Vec<String>,
}

/// Returns the indices of `items` in run order.
///
/// # Errors
/// `ERR_CIO_ORDER_CYCLE` (as `err.code`) with a message such as
/// `ordering cycle: a -> b -> a` when the constraints contradict each other.
#[napi]
pub fn order_listeners(items: Vec<OrderItem>) -> napi::Result<Vec<u32>, String> {
  let items: Vec<Item> = items
    .into_iter()
    .map(|OrderItem { id, before, after }| Item { id, before, after })
    .collect();
  let indices = order(&items)
    .map_err(|err| napi::Error::new("ERR_CIO_ORDER_CYCLE".to_string(), err.to_string()))?;
  indices
    .into_iter()
    .map(|i| {
      u32::try_from(i)
        .map_err(|_| napi::Error::new("ERR_CIO_ORDER_RANGE".to_string(), "too many listeners"))
    })
    .collect()
}
