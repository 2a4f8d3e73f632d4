//! Development certificates for mutual TLS (`cio certs`, `npm run demo`): one CA, one server
//! certificate and any number of client certificates, all ECDSA P-256, generated with rcgen.
//! Owns name validation and certificate profiles; writing files is the CLI's job (bin/cio.js).
//! Not for production: the CA key is handed back to the caller as plain PEM. The napi export
//! is `js/devcerts.rs`.

use rcgen::{
  BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
  Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use time::{Duration, OffsetDateTime};

/// `generateDevCerts()` options.
#[napi_derive::napi(object)]
#[derive(Debug, Clone, Default)]
pub struct DevCertsOptions {
  /// Host names / IP addresses of the server certificate (default `["localhost"]`). The first
  /// is its subject CN; `localhost` also adds `IP:127.0.0.1` and `IP:::1`.
  pub server_names: Option<Vec<String>>,
  /// One client certificate per name; the name is its subject CN (default none).
  pub client_names: Option<Vec<String>>,
  /// Validity in days from now (default 825, at most 36500).
  pub days: Option<u32>,
  /// Subject CN of the CA (default `cio development CA <8 hex digits of its key>`).
  pub ca_name: Option<String>,
}

/// A certificate and its private key, both PEM (the key is PKCS#8).
#[napi_derive::napi(object)]
#[derive(Debug, Clone)]
pub struct DevCert {
  /// Subject CN.
  pub name: String,
  pub cert: String,
  pub key: String,
}

/// What `generateDevCerts()` returns.
#[napi_derive::napi(object)]
#[derive(Debug, Clone)]
pub struct DevCerts {
  pub ca: DevCert,
  pub server: DevCert,
  /// In the order of `clientNames`.
  pub clients: Vec<DevCert>,
}

/// The pure generator; errors are messages for the user.
pub fn generate(opts: &DevCertsOptions) -> std::result::Result<DevCerts, String> {
  let days = opts.days.unwrap_or(825);
  if days == 0 || days > 36_500 {
    return Err(format!("days must be between 1 and 36500 (got {days})"));
  }
  let server_names = match &opts.server_names {
    Some(v) if !v.is_empty() => v.clone(),
    _ => vec!["localhost".to_string()],
  };
  for n in &server_names {
    check_name("server name", n)?;
  }
  let client_names = opts.client_names.clone().unwrap_or_default();
  for (i, n) in client_names.iter().enumerate() {
    check_name("client name", n)?;
    if client_names[..i].contains(n) {
      return Err(format!("client name '{n}' is given twice"));
    }
  }

  // Backdated an hour so a slightly slow clock on the peer does not reject a fresh cert.
  let not_before = OffsetDateTime::now_utc() - Duration::hours(1);
  let not_after = not_before + Duration::days(i64::from(days));
  let fail = |what: &str, e: rcgen::Error| format!("cannot generate the {what}: {e}");

  let ca_key = KeyPair::generate().map_err(|e| fail("CA key", e))?;
  // Each generated CA gets its own name, so two sets never look alike to a verifier.
  let ca_name = match &opts.ca_name {
    Some(n) => n.clone(),
    None => format!("cio development CA {:08x}", fnv1a(ca_key.public_key_raw())),
  };
  check_name("CA name", &ca_name)?;
  let mut ca_params = base_params(&ca_name, not_before, not_after);
  ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
  ca_params.key_usages = vec![
    KeyUsagePurpose::KeyCertSign,
    KeyUsagePurpose::CrlSign,
    KeyUsagePurpose::DigitalSignature,
  ];
  let ca_cert = ca_params.self_signed(&ca_key).map_err(|e| fail("CA certificate", e))?;
  let issuer = Issuer::from_params(&ca_params, &ca_key);

  let leaf = |name: &str, sans: Vec<SanType>, eku: ExtendedKeyUsagePurpose| {
    let key = KeyPair::generate().map_err(|e| fail("key", e))?;
    let mut params = base_params(name, not_before, not_after);
    params.subject_alt_names = sans;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.extended_key_usages = vec![eku];
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(&key, &issuer).map_err(|e| fail(name, e))?;
    Ok::<_, String>(DevCert { name: name.to_string(), cert: cert.pem(), key: key.serialize_pem() })
  };

  let server = leaf(&server_names[0], server_sans(&server_names)?, ExtendedKeyUsagePurpose::ServerAuth)?;
  let clients = client_names
    .iter()
    .map(|n| leaf(n, Vec::new(), ExtendedKeyUsagePurpose::ClientAuth))
    .collect::<std::result::Result<Vec<_>, _>>()?;
  Ok(DevCerts {
    ca: DevCert { name: ca_name, cert: ca_cert.pem(), key: ca_key.serialize_pem() },
    server,
    clients,
  })
}

fn base_params(cn: &str, not_before: OffsetDateTime, not_after: OffsetDateTime) -> CertificateParams {
  let mut params = CertificateParams::default();
  let mut dn = DistinguishedName::new();
  dn.push(DnType::CommonName, cn);
  params.distinguished_name = dn;
  params.not_before = not_before;
  params.not_after = not_after;
  params
}

/// DNS names and IP addresses; `localhost` brings its loopback addresses along.
fn server_sans(names: &[String]) -> std::result::Result<Vec<SanType>, String> {
  let mut sans = Vec::new();
  let mut push = |san: SanType| {
    if !sans.contains(&san) {
      sans.push(san);
    }
  };
  for n in names {
    if let Ok(ip) = n.parse::<std::net::IpAddr>() {
      push(SanType::IpAddress(ip));
      continue;
    }
    let dns = n.clone().try_into().map_err(|_| format!("'{n}' is not a valid DNS name"))?;
    push(SanType::DnsName(dns));
    if n.eq_ignore_ascii_case("localhost") {
      push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
      push(SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()));
    }
  }
  Ok(sans)
}

/// A short fingerprint for names (not security relevant).
fn fnv1a(bytes: &[u8]) -> u32 {
  bytes.iter().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(*b)).wrapping_mul(0x0100_0193))
}

/// Names end up in subjects and (for the CLI) in file names: printable, no path separators.
fn check_name(what: &str, name: &str) -> std::result::Result<(), String> {
  let ok = !name.is_empty()
    && name.len() <= 64
    && name.chars().all(|c| c.is_ascii_alphanumeric() || " .-_@*".contains(c))
    && !name.starts_with(['.', ' ']);
  if ok {
    Ok(())
  } else {
    Err(format!(
      "invalid {what} '{name}': use 1-64 characters from A-Z a-z 0-9 space . - _ @ *, not starting with '.' or space"
    ))
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::tls::identity::check_server_identity;
  use crate::tls::verify::{verify_chain, Purpose, TrustStore};
  use rustls_pki_types::pem::PemObject;
  use rustls_pki_types::{CertificateDer, UnixTime};

  fn der(pem: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(pem.as_bytes()).expect("PEM certificate")
  }

  fn opts(servers: &[&str], clients: &[&str]) -> DevCertsOptions {
    DevCertsOptions {
      server_names: Some(servers.iter().map(|s| s.to_string()).collect()),
      client_names: Some(clients.iter().map(|s| s.to_string()).collect()),
      ..Default::default()
    }
  }

  fn check(set: &DevCerts, leaf: &str, purpose: Purpose) -> std::result::Result<(), String> {
    let store = TrustStore::from_certs(vec![der(&set.ca.cert)]).expect("store");
    let algs = crate::tls::config::provider().signature_verification_algorithms;
    verify_chain(&[der(leaf)], &store, purpose, UnixTime::now(), &algs).map_err(|e| format!("{e:?}"))
  }

  #[test]
  fn server_and_client_certs_chain_to_the_ca_for_their_purpose() {
    let set = generate(&opts(&["localhost"], &["alice", "bob"])).expect("generated");
    assert_eq!(check(&set, &set.server.cert, Purpose::ServerAuth), Ok(()));
    for c in &set.clients {
      assert_eq!(check(&set, &c.cert, Purpose::ClientAuth), Ok(()));
    }
    assert_eq!(set.clients.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["alice", "bob"]);
    // A client certificate is not a server certificate.
    assert!(check(&set, &set.clients[0].cert, Purpose::ServerAuth).is_err());
  }

  #[test]
  fn a_cert_from_another_ca_is_refused() {
    let a = generate(&opts(&["localhost"], &["alice"])).expect("a");
    let b = generate(&opts(&["localhost"], &["alice"])).expect("b");
    assert!(check(&a, &b.clients[0].cert, Purpose::ClientAuth).is_err());
    assert!(check(&a, &b.server.cert, Purpose::ServerAuth).is_err());
  }

  #[test]
  fn localhost_covers_the_loopback_addresses() {
    let set = generate(&opts(&["localhost"], &[])).expect("generated");
    let leaf = der(&set.server.cert);
    for host in ["localhost", "127.0.0.1", "::1"] {
      assert!(check_server_identity(host, &leaf).is_ok(), "{host}");
    }
    assert!(check_server_identity("example.com", &leaf).is_err());
  }

  #[test]
  fn several_server_names_and_an_ip() {
    let set = generate(&opts(&["api.test", "10.1.2.3"], &[])).expect("generated");
    let leaf = der(&set.server.cert);
    assert!(check_server_identity("api.test", &leaf).is_ok());
    assert!(check_server_identity("10.1.2.3", &leaf).is_ok());
    assert!(check_server_identity("127.0.0.1", &leaf).is_err());
    let (_, cert) = x509_parser::parse_x509_certificate(&leaf).expect("x509");
    let cn = cert.subject().iter_common_name().next().and_then(|c| c.as_str().ok());
    assert_eq!(cn, Some("api.test"));
  }

  #[test]
  fn keys_match_their_certificates_and_validity_follows_days() {
    let set = generate(&DevCertsOptions { days: Some(10), ..opts(&["localhost"], &["alice"]) })
      .expect("generated");
    let provider = crate::tls::config::provider();
    for c in [&set.ca, &set.server, &set.clients[0]] {
      let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(c.key.as_bytes()).expect("key");
      crate::tls::material::certified_key(vec![der(&c.cert)], key, &provider, "k", "c")
        .expect("key matches cert");
    }
    let leaf = der(&set.clients[0].cert);
    let (_, cert) = x509_parser::parse_x509_certificate(&leaf).expect("x509");
    let span = cert.validity().not_after.timestamp() - cert.validity().not_before.timestamp();
    assert_eq!(span, 10 * 86_400);
  }

  #[test]
  fn bad_arguments_are_refused_with_a_message() {
    assert!(generate(&opts(&["localhost"], &["../evil"])).unwrap_err().contains("invalid client name"));
    assert!(generate(&opts(&["localhost"], &["a", "a"])).unwrap_err().contains("twice"));
    assert!(generate(&opts(&[""], &[])).unwrap_err().contains("invalid server name"));
    let zero = DevCertsOptions { days: Some(0), ..Default::default() };
    assert!(generate(&zero).unwrap_err().contains("days"));
    let defaults = generate(&DevCertsOptions::default()).expect("defaults");
    assert_eq!(defaults.server.name, "localhost");
    assert!(defaults.ca.name.starts_with("cio development CA "));
    assert_ne!(defaults.ca.name, generate(&DevCertsOptions::default()).expect("again").ca.name);
    assert!(defaults.clients.is_empty());
  }
}
