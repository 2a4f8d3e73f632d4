//! Certificate material loading: `key`, `cert`, `ca` from file paths, Buffers or PEM strings
//! (arrays allowed), parsed with `rustls_pki_types::pem::PemObject`. Owns every "this material
//! is unusable" error, each naming the option and the path (or `<buffer>`). Does not own
//! verification (verify.rs) or building rustls configs (config.rs).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::{self, PemObject, SectionKind};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::error::{TlsError, ERR_KEY_MISMATCH, ERR_MATERIAL, ERR_UNSUPPORTED_OPTION};

/// One item of a `key`/`cert`/`ca` option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file path, resolved against the current directory when relative.
    Path(String),
    /// PEM bytes (a Buffer, or a string holding `-----BEGIN`).
    Pem(Vec<u8>),
}

impl Source {
    /// The JS rule: a string without `-----BEGIN` is a path, otherwise PEM text.
    pub fn from_js_string(s: &str) -> Source {
        if s.contains("-----BEGIN") {
            Source::Pem(s.as_bytes().to_vec())
        } else {
            Source::Path(s.to_string())
        }
    }

    /// The absolute path for a path source, `<buffer>` otherwise.
    pub fn label(&self) -> String {
        match self {
            Source::Path(p) => absolute(p).display().to_string(),
            Source::Pem(_) => "<buffer>".to_string(),
        }
    }
}

fn absolute(p: &str) -> PathBuf {
    let path = Path::new(p);
    if path.is_absolute() {
        return path.to_path_buf();
    }
    match std::env::current_dir() {
        Ok(cwd) => cwd.join(path),
        Err(_) => path.to_path_buf(),
    }
}

/// The three options, already split into sources (aliases `private`/`public`/`root` are
/// folded in by the caller).
#[derive(Debug, Clone, Default)]
pub struct MaterialSources {
    pub key: Vec<Source>,
    pub cert: Vec<Source>,
    pub ca: Vec<Source>,
}

/// Parsed material. `certified` is present when both `key` and `cert` were given (and match).
#[derive(Debug, Clone, Default)]
pub struct Material {
    pub certified: Option<Arc<CertifiedKey>>,
    /// The trusted roots from `ca`.
    pub ca: Vec<CertificateDer<'static>>,
    /// Whether `ca` was given at all (then it replaces the system roots, even when it held no
    /// certificate, as in Node); without it the system roots apply.
    pub ca_given: bool,
}

/// Reads a source's bytes; file errors carry the errno name as `code`.
pub fn read_source(option: &str, source: &Source) -> Result<Vec<u8>, TlsError> {
    let label = source.label();
    let fail = |code: &'static str, why: &str| {
        TlsError::new(
            code,
            format!("Unable to read '{option}' from: {label} ({code}: {why})"),
        )
    };
    let bytes = match source {
        Source::Pem(b) => b.clone(),
        Source::Path(p) => {
            let path = absolute(p);
            match std::fs::metadata(&path) {
                Ok(m) if m.is_dir() => {
                    return Err(fail("EISDIR", "illegal operation on a directory"))
                }
                Ok(_) => {}
                Err(e) => return Err(io_error(e, &fail)),
            }
            std::fs::read(&path).map_err(|e| io_error(e, &fail))?
        }
    };
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(bad(option, &label, "it is empty"));
    }
    Ok(bytes)
}

fn io_error(e: std::io::Error, fail: &dyn Fn(&'static str, &str) -> TlsError) -> TlsError {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => fail("ENOENT", "no such file or directory"),
        K::PermissionDenied => fail("EACCES", "permission denied"),
        _ if e.raw_os_error() == Some(21) => fail("EISDIR", "illegal operation on a directory"),
        _ => fail("EIO", &e.to_string()),
    }
}

fn bad(option: &str, label: &str, why: &str) -> TlsError {
    TlsError::new(
        ERR_MATERIAL,
        format!("Invalid '{option}' from: {label}: {why}"),
    )
}

/// Every PEM section in `bytes`, with PEM syntax errors reported against option and label.
fn sections(
    option: &str,
    label: &str,
    bytes: &[u8],
) -> Result<Vec<(SectionKind, Vec<u8>)>, TlsError> {
    if !contains(bytes, b"-----BEGIN ") {
        return Err(bad(
            option,
            label,
            "no PEM block found (expected PEM text such as -----BEGIN CERTIFICATE-----)",
        ));
    }
    let mut out = Vec::new();
    for item in <(SectionKind, Vec<u8>)>::pem_slice_iter(bytes) {
        match item {
            Ok(section) => out.push(section),
            Err(pem::Error::Base64Decode(_)) => {
                return Err(bad(
                    option,
                    label,
                    "garbage inside a PEM block (invalid base64)",
                ))
            }
            Err(pem::Error::MissingSectionEnd { .. }) => {
                return Err(bad(option, label, "a PEM block has no -----END line"))
            }
            Err(e) => return Err(bad(option, label, &format!("malformed PEM ({e})"))),
        }
    }
    Ok(out)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn is_key(kind: SectionKind) -> bool {
    matches!(
        kind,
        SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey
    )
}

/// All certificates of an option (`cert` or `ca`); every source must hold at least one, and
/// each must parse as X.509.
pub fn load_certs(
    option: &str,
    sources: &[Source],
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let mut certs = Vec::new();
    for source in sources {
        let label = source.label();
        let bytes = read_source(option, source)?;
        let mut found = 0;
        let mut saw_key = false;
        for (kind, der) in sections(option, &label, &bytes)? {
            match kind {
                SectionKind::Certificate => {
                    if x509_parser::parse_x509_certificate(&der).is_err() {
                        return Err(bad(
                            option,
                            &label,
                            "a CERTIFICATE block is not a valid X.509 certificate",
                        ));
                    }
                    found += 1;
                    certs.push(CertificateDer::from(der));
                }
                k if is_key(k) => saw_key = true,
                _ => {}
            }
        }
        if option == "ca" {
            // OpenSSL's TRUSTED CERTIFICATE (a certificate followed by its trust settings),
            // which Node's `ca` takes as the certificate it holds.
            for der in trusted_certificates(&bytes) {
                if x509_parser::parse_x509_certificate(&der).is_err() {
                    return Err(bad(option, &label, "a TRUSTED CERTIFICATE block is not a valid X.509 certificate"));
                }
                found += 1;
                certs.push(CertificateDer::from(der));
            }
            // A `ca` holding no certificate at all (a private key, say) adds nothing, as in
            // Node (OpenSSL reads the certificates it finds and ignores the rest).
            if found == 0 {
                continue;
            }
        }
        if found == 0 {
            let why = if saw_key {
                "expected a certificate but found a private key"
            } else {
                "no CERTIFICATE block found"
            };
            return Err(bad(option, &label, why));
        }
    }
    Ok(certs)
}

/// The certificates of the `TRUSTED CERTIFICATE` blocks in `bytes` (each without the trust
/// settings that follow it); a block whose content does not start with a certificate is
/// returned whole, for the caller to refuse.
fn trusted_certificates(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for pem in x509_parser::pem::Pem::iter_from_buffer(bytes).flatten() {
        if pem.label != "TRUSTED CERTIFICATE" {
            continue;
        }
        match x509_parser::parse_x509_certificate(&pem.contents) {
            Ok((rest, _)) => out.push(pem.contents[..pem.contents.len() - rest.len()].to_vec()),
            Err(_) => out.push(pem.contents),
        }
    }
    out
}

/// The single private key of `option` (PKCS#8, PKCS#1 or SEC1), `None` when no source is given.
pub fn load_key(
    option: &str,
    sources: &[Source],
) -> Result<Option<PrivateKeyDer<'static>>, TlsError> {
    let mut key: Option<PrivateKeyDer<'static>> = None;
    for source in sources {
        let label = source.label();
        let bytes = read_source(option, source)?;
        if contains(&bytes, b"ENCRYPTED PRIVATE KEY") || contains(&bytes, b"Proc-Type: 4,ENCRYPTED")
        {
            return Err(bad(option, &label, "encrypted private keys are not supported (decrypt it first, e.g. `openssl pkey -in KEY -out KEY.plain`)"));
        }
        let mut saw_cert = false;
        for (kind, der) in sections(option, &label, &bytes)? {
            let parsed = match kind {
                SectionKind::PrivateKey => PrivateKeyDer::Pkcs8(der.into()),
                SectionKind::RsaPrivateKey => PrivateKeyDer::Pkcs1(der.into()),
                SectionKind::EcPrivateKey => PrivateKeyDer::Sec1(der.into()),
                SectionKind::Certificate => {
                    saw_cert = true;
                    continue;
                }
                _ => continue,
            };
            if key.is_some() {
                return Err(TlsError::new(ERR_UNSUPPORTED_OPTION, format!("Invalid '{option}' from: {label}: more than one private key is not supported")));
            }
            key = Some(parsed);
        }
        if key.is_none() {
            let why = if saw_cert {
                "expected a private key but found a certificate"
            } else {
                "no PRIVATE KEY block found"
            };
            return Err(bad(option, &label, why));
        }
    }
    Ok(key)
}

/// Loads all three options and checks that `key` belongs to the first certificate of `cert`.
pub fn load_material(
    src: &MaterialSources,
    provider: &CryptoProvider,
) -> Result<Material, TlsError> {
    let key = load_key("key", &src.key)?;
    let chain = if src.cert.is_empty() {
        Vec::new()
    } else {
        load_certs("cert", &src.cert)?
    };
    let ca = if src.ca.is_empty() {
        Vec::new()
    } else {
        load_certs("ca", &src.ca)?
    };
    let labels = |s: &[Source]| s.iter().map(Source::label).collect::<Vec<_>>().join(", ");
    let certified = match (key, chain.is_empty()) {
        (None, true) => None,
        (Some(_), true) => {
            return Err(TlsError::new(
                ERR_MATERIAL,
                format!("'key' ({}) was given without a 'cert'", labels(&src.key)),
            ))
        }
        (None, false) => {
            return Err(TlsError::new(
                ERR_MATERIAL,
                format!("'cert' ({}) was given without a 'key'", labels(&src.cert)),
            ))
        }
        (Some(key), false) => Some(certified_key(
            chain,
            key,
            provider,
            &labels(&src.key),
            &labels(&src.cert),
        )?),
    };
    Ok(Material { certified, ca, ca_given: !src.ca.is_empty() })
}

/// Builds the signing key and checks it matches the leaf certificate. rustls's own
/// `keys_match` parses the leaf with webpki, which refuses X.509 v1 certificates, so the
/// SubjectPublicKeyInfo is compared here via x509-parser instead.
pub fn certified_key(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    provider: &CryptoProvider,
    key_label: &str,
    cert_label: &str,
) -> Result<Arc<CertifiedKey>, TlsError> {
    let signing = provider.key_provider.load_private_key(key).map_err(|e| {
        TlsError::new(
            ERR_MATERIAL,
            format!("Invalid 'key' from: {key_label}: not a usable private key ({e})"),
        )
    })?;
    let leaf = chain
        .first()
        .ok_or_else(|| TlsError::new(ERR_MATERIAL, "'cert' holds no certificate"))?;
    let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref()).map_err(|_| {
        TlsError::new(
            ERR_MATERIAL,
            format!("Invalid 'cert' from: {cert_label}: not a valid X.509 certificate"),
        )
    })?;
    if let Some(spki) = signing.public_key() {
        if spki.as_ref() != cert.tbs_certificate.subject_pki.raw {
            return Err(TlsError::new(
                ERR_KEY_MISMATCH,
                format!(
                    "'key' ({key_label}) does not match the certificate in 'cert' ({cert_label})"
                ),
            ));
        }
    }
    Ok(Arc::new(CertifiedKey::new(chain, signing)))
}
