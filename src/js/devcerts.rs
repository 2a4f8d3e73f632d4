//! napi export of [`crate::devcerts::generate`] (`generateDevCerts()`). No logic lives here.

// napi registers it at load time; a test build has no loader, so it looks unused there.
#![cfg_attr(test, allow(dead_code))]

use napi::{Error, Result, Status};

use crate::devcerts::{generate, DevCerts, DevCertsOptions};

/// Generates a CA, a server certificate (serverAuth, SANs for every server name) and client
/// certificates (clientAuth, CN = name) signed by it. Bad arguments throw with code
/// `InvalidArg` (lib/devcerts.js turns that into `ERR_CIO_DEV_CERTS`).
#[napi_derive::napi]
pub fn generate_dev_certs(options: Option<DevCertsOptions>) -> Result<DevCerts> {
  generate(&options.unwrap_or_default()).map_err(|msg| Error::new(Status::InvalidArg, msg))
}
