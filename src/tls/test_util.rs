//! Test helpers: fixture certificates from `__test__/fixtures` (made by make-certs.sh).

use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use super::verify::TrustStore;

pub fn fixture_path(name: &str) -> String {
    format!("{}/__test__/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

pub fn certs(name: &str) -> Vec<CertificateDer<'static>> {
    let pem = std::fs::read(fixture_path(name)).expect("fixture exists");
    CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .expect("fixture parses")
}

pub fn store(names: &[&str]) -> TrustStore {
    TrustStore::from_certs(names.iter().flat_map(|n| certs(n)).collect()).expect("store")
}

pub fn algs() -> WebPkiSupportedAlgorithms {
    rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms
}

/// The certificate with one bit of its signature flipped.
pub fn tampered(name: &str) -> CertificateDer<'static> {
    let mut der = certs(name).remove(0).to_vec();
    let i = der.len() - 5;
    der[i] ^= 0x01;
    CertificateDer::from(der)
}
