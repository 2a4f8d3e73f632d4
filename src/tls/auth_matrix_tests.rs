//! The requestCert x rejectUnauthorized matrix and client-side refusals, in whole in-memory
//! handshakes; expectations are what Node 20 did with the same fixtures
//! (__test__/fixtures/node-tls-matrix.txt), except where the doc of authz.rs says otherwise.

use super::authz::AuthzPolicy;
use super::config::{build_client_config, build_server_config};
use super::handshake_util::*;
use super::verifier::authorization;

#[test]
fn request_cert_false_never_asks_for_a_client_certificate() {
    let s = build_server_config(&server_opts(
        "server.key",
        "server.crt",
        &["ca.crt"],
        false,
        true,
    ))
    .expect("server");
    let c = build_client_config(&client_opts(Some("alice"), &["ca.crt"])).expect("client");
    let o = handshake(&s, &c, "localhost");
    assert_eq!((code(&o.client), code(&o.server)), ("ok", "ok"));
    assert!(o.server_conn.peer_certificates().is_none());
}

#[test]
fn request_cert_and_reject_unauthorized_admit_a_valid_client() {
    let s = build_server_config(&server_opts(
        "server.key",
        "server.crt",
        &["ca.crt"],
        true,
        true,
    ))
    .expect("server");
    let o = handshake(
        &s,
        &build_client_config(&client_opts(Some("alice"), &["ca.crt"])).expect("client"),
        "localhost",
    );
    assert_eq!((code(&o.client), code(&o.server)), ("ok", "ok"));
    assert_eq!(peer_cn(&o).as_deref(), Some("alice"));
    assert_eq!(server_authz(&s, &o), (true, None));
}

#[test]
fn request_cert_and_reject_unauthorized_fail_the_handshake_without_a_client_cert() {
    let s = build_server_config(&server_opts(
        "server.key",
        "server.crt",
        &["ca.crt"],
        true,
        true,
    ))
    .expect("server");
    let o = handshake(
        &s,
        &build_client_config(&client_opts(None, &["ca.crt"])).expect("client"),
        "localhost",
    );
    assert_eq!(code(&o.server), "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE");
    assert_eq!(code(&o.client), "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED");
}

#[test]
fn request_cert_and_reject_unauthorized_fail_the_handshake_for_untrusted_clients() {
    let s = build_server_config(&server_opts(
        "server.key",
        "server.crt",
        &["ca.crt"],
        true,
        true,
    ))
    .expect("server");
    for (id, want) in [
        ("mallory", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
        ("legacy-client", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
        ("self-signed", "DEPTH_ZERO_SELF_SIGNED_CERT"),
    ] {
        let o = handshake(
            &s,
            &build_client_config(&client_opts(Some(id), &["ca.crt"])).expect("client"),
            "localhost",
        );
        assert_eq!(code(&o.server), want, "{id}");
        assert_eq!(
            code(&o.client),
            "ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN",
            "{id}"
        );
    }
}

#[test]
fn request_cert_without_reject_proceeds_and_reports_nodes_authorization_error() {
    let s = build_server_config(&server_opts(
        "server.key",
        "server.crt",
        &["ca.crt"],
        true,
        false,
    ))
    .expect("server");
    for (id, want) in [
        (None, (false, Some("UNABLE_TO_GET_ISSUER_CERT"))),
        (Some("alice"), (true, None)),
        (
            Some("mallory"),
            (false, Some("UNABLE_TO_VERIFY_LEAF_SIGNATURE")),
        ),
        (
            Some("legacy-client"),
            (false, Some("UNABLE_TO_VERIFY_LEAF_SIGNATURE")),
        ),
        (
            Some("self-signed"),
            (false, Some("DEPTH_ZERO_SELF_SIGNED_CERT")),
        ),
    ] {
        let o = handshake(
            &s,
            &build_client_config(&client_opts(id, &["ca.crt"])).expect("client"),
            "localhost",
        );
        assert_eq!((code(&o.client), code(&o.server)), ("ok", "ok"), "{id:?}");
        assert_eq!(server_authz(&s, &o), want, "{id:?}");
    }
}

#[test]
fn legacy_v1_certificates_work_for_mutual_tls_over_tls12_and_tls13() {
    for max in ["TLSv1.2", "TLSv1.3"] {
        let mut so = server_opts(
            "legacy-server.key",
            "legacy-server.crt",
            &["legacy-ca.crt"],
            true,
            true,
        );
        so.max_version = Some(max.into());
        let s = build_server_config(&so).expect("server");
        let o = handshake(
            &s,
            &build_client_config(&client_opts(Some("legacy-client"), &["legacy-ca.crt"]))
                .expect("client"),
            "localhost",
        );
        assert_eq!((code(&o.client), code(&o.server)), ("ok", "ok"), "{max}");
        assert_eq!(peer_cn(&o).as_deref(), Some("legacy-client"));
    }
}

#[test]
fn self_signed_server_trusted_as_the_clients_ca() {
    let s = build_server_config(&server_opts(
        "self-signed.key",
        "self-signed.crt",
        &[],
        false,
        true,
    ))
    .expect("server");
    let o = handshake(
        &s,
        &build_client_config(&client_opts(None, &["self-signed.crt"])).expect("client"),
        "localhost",
    );
    assert_eq!(code(&o.client), "ok");
}

#[test]
fn client_refuses_wrong_ca_wrong_host_and_expired_with_node_codes() {
    let s = build_server_config(&server_opts("server.key", "server.crt", &[], false, true))
        .expect("server");
    let o = handshake(
        &s,
        &build_client_config(&client_opts(None, &["wrong-ca.crt"])).expect("client"),
        "localhost",
    );
    assert_eq!(code(&o.client), "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    assert_eq!(code(&o.server), "ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN");
    let o = handshake(
        &s,
        &build_client_config(&client_opts(None, &["ca.crt"])).expect("client"),
        "example.com",
    );
    assert_eq!(code(&o.client), "ERR_TLS_CERT_ALTNAME_INVALID");
    let expired = build_server_config(&server_opts("server.key", "expired.crt", &[], false, true))
        .expect("server");
    let o = handshake(
        &expired,
        &build_client_config(&client_opts(None, &["ca.crt"])).expect("client"),
        "localhost",
    );
    assert_eq!(code(&o.client), "CERT_HAS_EXPIRED");
}

#[test]
fn client_with_reject_unauthorized_false_connects_and_reports_the_error_afterwards() {
    let s = build_server_config(&server_opts("server.key", "server.crt", &[], false, true))
        .expect("server");
    let mut co = client_opts(None, &["wrong-ca.crt"]);
    co.reject_unauthorized = false;
    let c = build_client_config(&co).expect("client");
    let o = handshake(&s, &c, "localhost");
    assert_eq!(code(&o.client), "ok");
    let certs = o
        .client_conn
        .peer_certificates()
        .expect("server certs")
        .to_vec();
    assert_eq!(
        authorization(&certs, &c.policy, Some("localhost")).map_err(|e| e.code),
        Err("UNABLE_TO_VERIFY_LEAF_SIGNATURE")
    );
    let ok = build_client_config(&client_opts(None, &["ca.crt"])).expect("client");
    assert_eq!(
        authorization(&certs, &ok.policy, Some("example.com")).map_err(|e| e.code),
        Err("ERR_TLS_CERT_ALTNAME_INVALID")
    );
    assert_eq!(authorization(&certs, &ok.policy, Some("localhost")), Ok(()));
}

#[test]
fn deny_and_allow_lists_are_enforced_in_the_handshake() {
    let mut so = server_opts("server.key", "server.crt", &["ca.crt"], true, true);
    so.authz = AuthzPolicy {
        allow: vec!["*".into()],
        deny: vec!["bo*".into()],
    };
    let s = build_server_config(&so).expect("server");
    let o = handshake(
        &s,
        &build_client_config(&client_opts(Some("bob"), &["ca.crt"])).expect("client"),
        "localhost",
    );
    assert_eq!(code(&o.server), "ERR_CIO_CLIENT_REJECTED");
    let o = handshake(
        &s,
        &build_client_config(&client_opts(Some("alice"), &["ca.crt"])).expect("client"),
        "localhost",
    );
    assert_eq!(code(&o.server), "ok");
}

#[test]
fn allow_list_is_not_satisfied_by_an_unverified_certificate() {
    let mut so = server_opts("server.key", "server.crt", &["ca.crt"], true, false);
    so.authz = AuthzPolicy {
        allow: vec!["mallory".into()],
        deny: vec![],
    };
    let s = build_server_config(&so).expect("server");
    let o = handshake(
        &s,
        &build_client_config(&client_opts(Some("mallory"), &["ca.crt"])).expect("client"),
        "localhost",
    );
    assert_eq!(code(&o.server), "ERR_CIO_CLIENT_REJECTED");
    let o = handshake(
        &s,
        &build_client_config(&client_opts(None, &["ca.crt"])).expect("client"),
        "localhost",
    );
    assert_eq!(code(&o.server), "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE");
}
