//! Material loading: every key format, every bad input of SPEC section 7.
use super::error::{TlsError, ERR_KEY_MISMATCH, ERR_MATERIAL};
use super::material::*;
use rustls::crypto::CryptoProvider;
use rustls_pki_types::PrivateKeyDer;

pub(crate) fn fixture(name: &str) -> String {
    format!("{}/__test__/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}
fn path(name: &str) -> Vec<Source> {
    vec![Source::Path(fixture(name))]
}
fn provider() -> CryptoProvider {
    rustls::crypto::aws_lc_rs::default_provider()
}
fn sources(key: &str, cert: &str) -> MaterialSources {
    MaterialSources {
        key: path(key),
        cert: path(cert),
        ca: vec![],
    }
}

#[test]
fn js_string_with_begin_is_pem_otherwise_a_path() {
    assert!(matches!(
        Source::from_js_string("-----BEGIN CERTIFICATE-----\n"),
        Source::Pem(_)
    ));
    assert_eq!(
        Source::from_js_string("certs/a.pem"),
        Source::Path("certs/a.pem".into())
    );
    assert!(Source::Path("rel.pem".into()).label().starts_with('/'));
    assert_eq!(Source::Pem(vec![]).label(), "<buffer>");
}

#[test]
fn loads_pkcs8_pkcs1_and_sec1_keys_matching_their_certs() {
    for (key, cert) in [
        ("server.key", "server.crt"),
        ("alice.key", "alice.crt"),
        ("server-ec.key", "server-ec.crt"),
        ("bob.key", "bob.crt"),
    ] {
        let m = load_material(&sources(key, cert), &provider())
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        assert!(m.certified.is_some(), "{key}");
    }
    assert!(matches!(
        load_key("key", &path("alice.key")).unwrap(),
        Some(PrivateKeyDer::Pkcs1(_))
    ));
    assert!(matches!(
        load_key("key", &path("server-ec.key")).unwrap(),
        Some(PrivateKeyDer::Sec1(_))
    ));
    assert!(matches!(
        load_key("key", &path("server.key")).unwrap(),
        Some(PrivateKeyDer::Pkcs8(_))
    ));
}

#[test]
fn loads_a_legacy_v1_certificate_with_its_key() {
    let m = load_material(
        &sources("legacy-server.key", "legacy-server.crt"),
        &provider(),
    )
    .expect("v1 loads");
    assert!(m.certified.is_some());
}

#[test]
fn pem_strings_and_buffers_work_like_files_and_ca_arrays_concatenate() {
    let key = std::fs::read(fixture("server.key")).unwrap();
    let cert = String::from_utf8(std::fs::read(fixture("server.crt")).unwrap()).unwrap();
    let src = MaterialSources {
        key: vec![Source::Pem(key)],
        cert: vec![Source::from_js_string(&cert)],
        ca: vec![
            Source::Path(fixture("ca.crt")),
            Source::Path(fixture("legacy-ca.crt")),
        ],
    };
    let m = load_material(&src, &provider()).expect("loads");
    assert_eq!(m.ca.len(), 2);
    assert_eq!(
        load_certs("cert", &path("inter-server-fullchain.crt"))
            .unwrap()
            .len(),
        3
    );
}

fn err_of(r: Result<impl std::fmt::Debug, TlsError>) -> TlsError {
    r.expect_err("should fail")
}

#[test]
fn missing_file_is_enoent_naming_option_and_absolute_path() {
    let e = err_of(load_certs("ca", &[Source::Path("no/such.pem".into())]));
    assert_eq!(e.code, "ENOENT");
    assert!(
        e.message.starts_with("Unable to read 'ca' from: /"),
        "{}",
        e.message
    );
    assert!(e.message.contains("no/such.pem"));
}

#[test]
fn directory_is_eisdir() {
    let e = err_of(load_key("key", &[Source::Path(fixture(""))]));
    assert_eq!(e.code, "EISDIR");
    assert!(e.message.contains("'key'"));
}

#[test]
fn empty_file_no_pem_and_garbage_are_material_errors_naming_the_path() {
    for (name, why) in [
        ("empty.pem", "empty"),
        ("no-pem.txt", "no PEM block"),
        ("garbage.pem", "garbage inside a PEM block"),
    ] {
        let e = err_of(load_certs("cert", &path(name)));
        assert_eq!(e.code, ERR_MATERIAL, "{name}");
        assert!(
            e.message.contains(why) && e.message.contains(name) && e.message.contains("'cert'"),
            "{}",
            e.message
        );
    }
    let e = err_of(load_certs("ca", &[Source::Pem(b"  \n".to_vec())]));
    assert!(
        e.message.contains("<buffer>") && e.message.contains("empty"),
        "{}",
        e.message
    );
}

#[test]
fn certificate_where_a_key_is_expected_and_vice_versa() {
    let e = err_of(load_key("key", &path("server.crt")));
    assert!(
        e.message
            .contains("expected a private key but found a certificate"),
        "{}",
        e.message
    );
    let e = err_of(load_certs("cert", &path("server.key")));
    assert!(
        e.message
            .contains("expected a certificate but found a private key"),
        "{}",
        e.message
    );
}

#[test]
fn encrypted_keys_are_refused_clearly() {
    for name in ["encrypted.key", "encrypted-legacy.key"] {
        let e = err_of(load_key("key", &path(name)));
        assert_eq!(e.code, ERR_MATERIAL);
        assert!(
            e.message
                .contains("encrypted private keys are not supported")
                && e.message.contains(name),
            "{}",
            e.message
        );
    }
}

#[test]
fn key_that_does_not_match_its_certificate_is_key_mismatch() {
    let e = err_of(load_material(
        &sources("alice.key", "server.crt"),
        &provider(),
    ));
    assert_eq!(e.code, ERR_KEY_MISMATCH);
    assert!(
        e.message.contains("alice.key") && e.message.contains("server.crt"),
        "{}",
        e.message
    );
    let e = err_of(load_material(
        &sources("server.key", "legacy-server.crt"),
        &provider(),
    ));
    assert_eq!(e.code, ERR_KEY_MISMATCH);
}

#[test]
fn key_without_cert_is_an_error() {
    let src = MaterialSources {
        key: path("server.key"),
        ..Default::default()
    };
    assert_eq!(err_of(load_material(&src, &provider())).code, ERR_MATERIAL);
}

fn base64(data: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn a_ca_holding_no_certificate_adds_nothing_as_in_node() {
    let certs = load_certs("ca", &path("server.key")).expect("ignored, not refused");
    assert!(certs.is_empty());
    // ...while a cert option holding only a key is still refused
    assert!(load_certs("cert", &path("server.key")).is_err());
    // and next to a real CA it does not hide that one
    let certs = load_certs("ca", &[path("server.key"), path("ca.crt")].concat()).expect("ca");
    assert_eq!(certs.len(), 1);
}

#[test]
fn a_trusted_certificate_block_is_taken_as_its_certificate() {
    let ca = load_certs("ca", &path("ca.crt")).expect("ca");
    let der = ca[0].as_ref().to_vec();
    // the certificate, then OpenSSL's trust settings (an X509_CERT_AUX trusting serverAuth)
    let mut trusted = der.clone();
    trusted.extend_from_slice(&[0x30, 0x0c, 0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01]);
    let pem = format!("-----BEGIN TRUSTED CERTIFICATE-----\n{}\n-----END TRUSTED CERTIFICATE-----\n", base64(&trusted));
    let certs = load_certs("ca", &[Source::Pem(pem.into_bytes())]).expect("trusted certificate");
    assert_eq!(certs.len(), 1);
    assert_eq!(certs[0].as_ref(), &der[..]);
    let broken = format!("-----BEGIN TRUSTED CERTIFICATE-----\n{}\n-----END TRUSTED CERTIFICATE-----\n", base64(b"not a certificate"));
    assert!(load_certs("ca", &[Source::Pem(broken.into_bytes())]).is_err());
}
