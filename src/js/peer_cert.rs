//! `PeerCert` (parsed by `tls::peer_cert`) → the JavaScript object Node's
//! `getPeerCertificate()` returns, with Node's property names and order. Distinguished names
//! become objects whose repeated attributes are arrays; `raw` and `pubkey` are Buffers.

use napi::bindgen_prelude::*;

use crate::tls::peer_cert::{Dn, PeerCert};

fn dn_object<'env>(env: &'env Env, dn: &Dn) -> Result<Object<'env>> {
  let mut obj = Object::new(env)?;
  for (key, values) in &dn.entries {
    match values.as_slice() {
      [one] => obj.set(key, one.as_str())?,
      many => obj.set(key, many.to_vec())?,
    }
  }
  Ok(obj)
}

pub fn peer_certificate_object(env: &Env, c: PeerCert) -> Result<Object<'_>> {
  let mut obj = Object::new(env)?;
  obj.set("subject", dn_object(env, &c.subject)?)?;
  obj.set("issuer", dn_object(env, &c.issuer)?)?;
  if let Some(san) = c.subjectaltname {
    obj.set("subjectaltname", san)?;
  }
  obj.set("ca", c.ca)?;
  if let Some(m) = c.modulus {
    obj.set("modulus", m)?;
  }
  if let Some(b) = c.bits {
    obj.set("bits", b)?;
  }
  if let Some(e) = c.exponent {
    obj.set("exponent", e)?;
  }
  if let Some(p) = c.pubkey {
    obj.set("pubkey", Buffer::from(p))?;
  }
  if let Some(a) = c.asn1_curve {
    obj.set("asn1Curve", a)?;
  }
  if let Some(n) = c.nist_curve {
    obj.set("nistCurve", n)?;
  }
  obj.set("valid_from", c.valid_from)?;
  obj.set("valid_to", c.valid_to)?;
  obj.set("fingerprint", c.fingerprint)?;
  obj.set("fingerprint256", c.fingerprint256)?;
  obj.set("fingerprint512", c.fingerprint512)?;
  if let Some(eku) = c.ext_key_usage {
    obj.set("ext_key_usage", eku)?;
  }
  obj.set("serialNumber", c.serial_number)?;
  obj.set("raw", Buffer::from(c.raw))?;
  Ok(obj)
}
