//! The built configs in whole in-memory handshakes: provider, ALPN, versions, resumption,
//! build-time material errors.

use rustls::HandshakeKind;

use super::config::{
    build_client_config, build_server_config, protocol_versions, ServerTlsOptions,
};
use super::handshake_util::*;

#[test]
fn aws_lc_rs_is_the_provider_and_negotiates_tls13_with_x25519() {
    let s = build_server_config(&server_opts("server.key", "server.crt", &[], false, true))
        .expect("server");
    let c = build_client_config(&client_opts(None, &["ca.crt"])).expect("client");
    let o = handshake(&s, &c, "localhost");
    assert_eq!((code(&o.client), code(&o.server)), ("ok", "ok"));
    assert_eq!(
        o.client_conn.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    assert_eq!(
        o.client_conn
            .negotiated_key_exchange_group()
            .map(|g| g.name()),
        Some(rustls::NamedGroup::X25519)
    );
    assert!(format!("{:?}", super::config::provider().cipher_suites)
        .contains("TLS13_AES_256_GCM_SHA384"));
}

#[test]
fn alpn_picks_the_common_protocol() {
    let mut so = server_opts("server.key", "server.crt", &[], false, true);
    so.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let mut co = client_opts(None, &["ca.crt"]);
    co.alpn_protocols = vec![b"http/1.1".to_vec()];
    let o = handshake(
        &build_server_config(&so).expect("server"),
        &build_client_config(&co).expect("client"),
        "localhost",
    );
    assert_eq!(o.client_conn.alpn_protocol(), Some(&b"http/1.1"[..]));
}

#[test]
fn versions_are_validated_and_enforced() {
    assert_eq!(
        protocol_versions(Some("TLSv1"), None)
            .map(|_| ())
            .map_err(|e| e.code),
        Err("ERR_CIO_UNSUPPORTED_OPTION")
    );
    assert_eq!(
        protocol_versions(Some("SSLv3x"), None)
            .map(|_| ())
            .map_err(|e| e.code),
        Err("ERR_TLS_INVALID_PROTOCOL_VERSION")
    );
    assert_eq!(
        protocol_versions(Some("TLSv1.3"), Some("TLSv1.2"))
            .map(|_| ())
            .map_err(|e| e.code),
        Err("ERR_CIO_UNSUPPORTED_OPTION")
    );
    assert_eq!(protocol_versions(None, None).map(|v| v.len()), Ok(2));
    let mut so = server_opts("server.key", "server.crt", &[], false, true);
    so.min_version = Some("TLSv1.3".into());
    let mut co = client_opts(None, &["ca.crt"]);
    co.max_version = Some("TLSv1.2".into());
    let o = handshake(
        &build_server_config(&so).expect("server"),
        &build_client_config(&co).expect("client"),
        "localhost",
    );
    assert_ne!(code(&o.server), "ok");
    co.max_version = None;
    co.min_version = Some("TLSv1.2".into());
    so.min_version = None;
    so.max_version = Some("TLSv1.2".into());
    let o = handshake(
        &build_server_config(&so).expect("server"),
        &build_client_config(&co).expect("client"),
        "localhost",
    );
    assert_eq!(
        o.client_conn.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
}

#[test]
fn bad_material_fails_at_build_time_not_at_first_connection() {
    let e = build_server_config(&server_opts("alice.key", "server.crt", &[], false, true))
        .expect_err("mismatch");
    assert_eq!(e.code, "ERR_CIO_KEY_MISMATCH");
    // Without key and cert a server is made (as Node's): it has no certificate to serve.
    let certless = build_server_config(&ServerTlsOptions::default()).expect("no key, no cert");
    assert!(!certless.has_cert);
    assert!(build_server_config(&server_opts("server.key", "server.crt", &[], false, true))
        .expect("server")
        .has_cert);
    let e = build_client_config(&client_opts(None, &["no-such-ca.pem"])).expect_err("missing ca");
    assert_eq!(e.code, "ENOENT");
}

#[test]
fn client_resumes_sessions_when_enabled_and_not_when_disabled() {
    let s = build_server_config(&server_opts("server.key", "server.crt", &[], false, true))
        .expect("server");
    for (resume, want) in [(true, HandshakeKind::Resumed), (false, HandshakeKind::Full)] {
        let mut co = client_opts(None, &["ca.crt"]);
        co.session_resumption = resume;
        let c = build_client_config(&co).expect("client");
        let first = handshake(&s, &c, "localhost");
        assert_eq!(code(&first.client), "ok");
        let second = handshake(&s, &c, "localhost");
        assert_eq!(
            second.client_conn.handshake_kind(),
            Some(want),
            "resumption {resume}"
        );
    }
}
