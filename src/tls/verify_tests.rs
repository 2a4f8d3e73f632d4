//! verify_chain against the fixtures; each expectation is what Node 20 reported for the same
//! certificates on this machine (__test__/fixtures/node-tls-matrix.txt).

use rustls_pki_types::{CertificateDer, UnixTime};

use super::test_util::{algs, certs, store, tampered};
use super::verify::{verify_chain, Purpose, TrustStore};

fn server(chain: &[CertificateDer<'_>], roots: &TrustStore) -> Result<(), &'static str> {
    verify_chain(chain, roots, Purpose::ServerAuth, UnixTime::now(), &algs()).map_err(|e| e.code)
}

fn client(chain: &[CertificateDer<'_>], roots: &TrustStore) -> Result<(), &'static str> {
    verify_chain(chain, roots, Purpose::ClientAuth, UnixTime::now(), &algs()).map_err(|e| e.code)
}

#[test]
fn modern_rsa_and_ec_leaves_from_the_ca_are_trusted() {
    assert_eq!(server(&certs("server.crt"), &store(&["ca.crt"])), Ok(()));
    assert_eq!(server(&certs("server-ec.crt"), &store(&["ca.crt"])), Ok(()));
}

#[test]
fn leaf_plus_intermediate_chains_to_the_ca() {
    assert_eq!(
        server(&certs("inter-server-chain.crt"), &store(&["ca.crt"])),
        Ok(())
    );
    assert_eq!(
        server(&certs("inter-server-fullchain.crt"), &store(&["ca.crt"])),
        Ok(())
    );
}

#[test]
fn legacy_v1_leaf_from_a_v1_root_is_trusted_like_node() {
    assert_eq!(
        server(&certs("legacy-server.crt"), &store(&["legacy-ca.crt"])),
        Ok(())
    );
    assert_eq!(
        client(
            &certs("legacy-client.crt"),
            &store(&["ca.crt", "legacy-ca.crt"])
        ),
        Ok(())
    );
}

#[test]
fn self_signed_ca_true_cert_listed_as_its_own_ca_is_trusted_like_node() {
    assert_eq!(
        server(&certs("self-signed.crt"), &store(&["self-signed.crt"])),
        Ok(())
    );
}

#[test]
fn self_signed_cert_not_in_ca_is_depth_zero_self_signed() {
    assert_eq!(
        server(&certs("self-signed.crt"), &store(&["ca.crt"])),
        Err("DEPTH_ZERO_SELF_SIGNED_CERT")
    );
    assert_eq!(
        server(&certs("self-signed.crt"), &TrustStore::system()),
        Err("DEPTH_ZERO_SELF_SIGNED_CERT")
    );
}

#[test]
fn leaf_from_an_unknown_ca_is_unable_to_verify_leaf_signature() {
    assert_eq!(
        server(&certs("server.crt"), &store(&["wrong-ca.crt"])),
        Err("UNABLE_TO_VERIFY_LEAF_SIGNATURE")
    );
    assert_eq!(
        server(&certs("server.crt"), &TrustStore::system()),
        Err("UNABLE_TO_VERIFY_LEAF_SIGNATURE")
    );
    assert_eq!(
        server(&certs("wrong-ca-server.crt"), &store(&["ca.crt"])),
        Err("UNABLE_TO_VERIFY_LEAF_SIGNATURE")
    );
    assert_eq!(
        server(&certs("legacy-server.crt"), &store(&["ca.crt"])),
        Err("UNABLE_TO_VERIFY_LEAF_SIGNATURE")
    );
}

#[test]
fn listing_a_non_self_signed_leaf_as_ca_does_not_trust_it() {
    assert_eq!(
        server(&certs("server.crt"), &store(&["server.crt"])),
        Err("UNABLE_TO_VERIFY_LEAF_SIGNATURE")
    );
}

#[test]
fn expired_and_not_yet_valid_leaves_are_refused() {
    assert_eq!(
        server(&certs("expired.crt"), &store(&["ca.crt"])),
        Err("CERT_HAS_EXPIRED")
    );
    assert_eq!(
        server(&certs("not-yet-valid.crt"), &store(&["ca.crt"])),
        Err("CERT_NOT_YET_VALID")
    );
}

#[test]
fn expired_leaf_from_a_wrong_ca_reports_expiry_like_node_last_error_wins() {
    assert_eq!(
        server(&certs("expired.crt"), &store(&["wrong-ca.crt"])),
        Err("CERT_HAS_EXPIRED")
    );
}

#[test]
fn tampered_signature_is_cert_signature_failure() {
    assert_eq!(
        server(&[tampered("server.crt")], &store(&["ca.crt"])),
        Err("CERT_SIGNATURE_FAILURE")
    );
}

#[test]
fn intermediate_cases_give_nodes_issuer_codes() {
    assert_eq!(
        server(&certs("inter-server.crt"), &store(&["ca.crt"])),
        Err("UNABLE_TO_VERIFY_LEAF_SIGNATURE")
    );
    assert_eq!(
        server(&certs("inter-server.crt"), &store(&["intermediate.crt"])),
        Err("UNABLE_TO_GET_ISSUER_CERT")
    );
    assert_eq!(
        server(&certs("inter-server-chain.crt"), &store(&["wrong-ca.crt"])),
        Err("UNABLE_TO_GET_ISSUER_CERT_LOCALLY")
    );
    assert_eq!(
        server(
            &certs("inter-server-fullchain.crt"),
            &store(&["wrong-ca.crt"])
        ),
        Err("SELF_SIGNED_CERT_IN_CHAIN")
    );
}

#[test]
fn client_certificates_are_checked_for_client_purpose() {
    assert_eq!(client(&certs("alice.crt"), &store(&["ca.crt"])), Ok(()));
    assert_eq!(client(&certs("bob.crt"), &store(&["ca.crt"])), Ok(()));
    assert_eq!(
        client(&certs("mallory.crt"), &store(&["ca.crt"])),
        Err("UNABLE_TO_VERIFY_LEAF_SIGNATURE")
    );
    assert_eq!(
        client(&certs("legacy-client.crt"), &store(&["ca.crt"])),
        Err("UNABLE_TO_VERIFY_LEAF_SIGNATURE")
    );
    assert_eq!(
        client(&certs("self-signed.crt"), &store(&["ca.crt"])),
        Err("DEPTH_ZERO_SELF_SIGNED_CERT")
    );
}

#[test]
fn client_only_certificate_used_as_server_is_invalid_purpose() {
    assert_eq!(
        server(&certs("alice.crt"), &store(&["ca.crt"])),
        Err("INVALID_PURPOSE")
    );
}

#[test]
fn no_certificate_is_unable_to_get_issuer_cert_like_node() {
    assert_eq!(
        client(&[], &store(&["ca.crt"])),
        Err("UNABLE_TO_GET_ISSUER_CERT")
    );
}

#[test]
fn garbage_leaf_is_rejected() {
    assert_eq!(
        server(
            &[CertificateDer::from(vec![0x30, 0x03, 1, 2, 3])],
            &store(&["ca.crt"])
        ),
        Err("CERT_REJECTED")
    );
}

#[test]
fn system_store_loads_roots_on_this_machine() {
    assert!(!TrustStore::system().is_empty());
}

#[test]
fn error_messages_are_nodes() {
    let msg = |chain: &[CertificateDer<'_>], roots: &TrustStore| {
        verify_chain(chain, roots, Purpose::ServerAuth, UnixTime::now(), &algs())
            .expect_err("refused")
            .message
    };
    assert_eq!(
        msg(&certs("server.crt"), &store(&["wrong-ca.crt"])),
        "unable to verify the first certificate"
    );
    assert_eq!(
        msg(&certs("self-signed.crt"), &store(&["ca.crt"])),
        "self-signed certificate"
    );
    assert_eq!(
        msg(
            &certs("inter-server-fullchain.crt"),
            &store(&["wrong-ca.crt"])
        ),
        "self-signed certificate in certificate chain"
    );
    assert_eq!(
        msg(&certs("expired.crt"), &store(&["ca.crt"])),
        "certificate has expired"
    );
    assert_eq!(
        msg(&certs("not-yet-valid.crt"), &store(&["ca.crt"])),
        "certificate is not yet valid"
    );
    assert_eq!(
        msg(&[tampered("server.crt")], &store(&["ca.crt"])),
        "certificate signature failure"
    );
    assert_eq!(
        msg(&certs("alice.crt"), &store(&["ca.crt"])),
        "unsuitable certificate purpose"
    );
}

#[test]
fn name_constraint_violation_is_refused_by_the_webpki_gate_like_node() {
    // The OpenSSL emulation does not evaluate name constraints; webpki does.
    let e = verify_chain(
        &certs("constrained-server-chain.crt"),
        &store(&["ca.crt"]),
        Purpose::ServerAuth,
        UnixTime::now(),
        &algs(),
    )
    .expect_err("refused");
    assert_eq!(
        (e.code, e.message.as_str()),
        ("UNSPECIFIED", "permitted subtree violation")
    );
}
