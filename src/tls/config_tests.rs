//! Whole handshakes between the built configs, in memory (rustls connections pumped through
//! byte buffers, no sockets): the requestCert x rejectUnauthorized matrix, legacy v1 mutual
//! TLS over TLS 1.2 and 1.3, allow/deny, ALPN, versions, resumption.

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, Connection, HandshakeKind, ServerConnection};

use super::authz::AuthzPolicy;
use super::config::{build_client_config, build_server_config, protocol_versions, ClientTls, ClientTlsOptions, ServerTls, ServerTlsOptions};
use super::error::handshake_error_code;
use super::material::{MaterialSources, Source};
use super::test_util::fixture_path;
use super::verifier::authorization;

fn src(names: &[&str]) -> Vec<Source> {
    names.iter().map(|n| Source::Path(fixture_path(n))).collect()
}

fn material(key: Option<&str>, cert: Option<&str>, ca: &[&str]) -> MaterialSources {
    MaterialSources { key: src(&key.into_iter().collect::<Vec<_>>()), cert: src(&cert.into_iter().collect::<Vec<_>>()), ca: src(ca) }
}

fn server_opts(key: &str, cert: &str, ca: &[&str], request_cert: bool, reject: bool) -> ServerTlsOptions {
    ServerTlsOptions { material: material(Some(key), Some(cert), ca), request_cert, reject_unauthorized: reject, ..Default::default() }
}

fn client_opts(id: Option<&str>, ca: &[&str]) -> ClientTlsOptions {
    let m = match id {
        Some(n) => material(Some(&format!("{n}.key")), Some(&format!("{n}.crt")), ca),
        None => material(None, None, ca),
    };
    ClientTlsOptions { material: m, ..Default::default() }
}

struct Outcome {
    client: Result<(), (String, String)>,
    server: Result<(), (String, String)>,
    client_conn: ClientConnection,
    server_conn: ServerConnection,
}

fn pump(from: &mut Connection, to: &mut Connection) -> Result<bool, rustls::Error> {
    let mut buf = Vec::new();
    while from.wants_write() {
        if from.write_tls(&mut buf).is_err() {
            break;
        }
    }
    let moved = !buf.is_empty();
    let mut rd = &buf[..];
    while !rd.is_empty() {
        if to.read_tls(&mut rd).is_err() {
            break;
        }
        to.process_new_packets()?;
    }
    Ok(moved)
}

fn handshake(server: &ServerTls, client: &ClientTls, name: &str) -> Outcome {
    let sname = ServerName::try_from(name.to_string()).expect("server name");
    let mut c = Connection::Client(ClientConnection::new(client.config.clone(), sname).expect("client"));
    let mut s = Connection::Server(ServerConnection::new(server.config.clone()).expect("server"));
    let (mut cerr, mut serr) = (None, None);
    for _ in 0..20 {
        let a = pump(&mut c, &mut s).map_err(|e| serr = Some(e)).unwrap_or(true);
        let b = pump(&mut s, &mut c).map_err(|e| cerr = Some(e)).unwrap_or(true);
        if !a && !b {
            break;
        }
    }
    let code = |e: Option<rustls::Error>, conn: &Connection| match e {
        Some(e) => Err(handshake_error_code(&e)),
        None if conn.is_handshaking() => Err(("HANDSHAKE_INCOMPLETE".into(), String::new())),
        None => Ok(()),
    };
    let (client, server) = (code(cerr, &c), code(serr, &s));
    match (c, s) {
        (Connection::Client(cc), Connection::Server(sc)) => Outcome { client, server, client_conn: cc, server_conn: sc },
        _ => unreachable!("built as client and server"),
    }
}

fn code(r: &Result<(), (String, String)>) -> &str {
    match r {
        Ok(()) => "ok",
        Err((c, _)) => c,
    }
}

fn peer_cn(o: &Outcome) -> Option<String> {
    let certs = o.server_conn.peer_certificates()?;
    super::peer_cert::subject_cn(certs.first()?.as_ref())
}

/// The server's Node-style (authorized, authorizationError) after a finished handshake.
fn server_authz(server: &ServerTls, o: &Outcome) -> (bool, Option<&'static str>) {
    let certs = o.server_conn.peer_certificates().map(<[_]>::to_vec).unwrap_or_default();
    match authorization(&certs, &server.policy, None) {
        Ok(()) => (true, None),
        Err(e) => (false, Some(e.code)),
    }
}

#[test]
fn aws_lc_rs_is_the_provider_and_negotiates_tls13_with_x25519() {
    let s = build_server_config(&server_opts("server.key", "server.crt", &[], false, true)).expect("server");
    let c = build_client_config(&client_opts(None, &["ca.crt"])).expect("client");
    let o = handshake(&s, &c, "localhost");
    assert_eq!((code(&o.client), code(&o.server)), ("ok", "ok"));
    assert_eq!(o.client_conn.protocol_version(), Some(rustls::ProtocolVersion::TLSv1_3));
    assert_eq!(o.client_conn.negotiated_key_exchange_group().map(|g| g.name()), Some(rustls::NamedGroup::X25519));
    assert!(format!("{:?}", super::config::provider().cipher_suites).contains("TLS13_AES_256_GCM_SHA384"));
}

#[test]
fn request_cert_false_never_asks_for_a_client_certificate() {
    let s = build_server_config(&server_opts("server.key", "server.crt", &["ca.crt"], false, true)).expect("server");
    let c = build_client_config(&client_opts(Some("alice"), &["ca.crt"])).expect("client");
    let o = handshake(&s, &c, "localhost");
    assert_eq!((code(&o.client), code(&o.server)), ("ok", "ok"));
    assert!(o.server_conn.peer_certificates().is_none());
}

#[test]
fn request_cert_and_reject_unauthorized_admit_a_valid_client() {
    let s = build_server_config(&server_opts("server.key", "server.crt", &["ca.crt"], true, true)).expect("server");
    let o = handshake(&s, &build_client_config(&client_opts(Some("alice"), &["ca.crt"])).expect("client"), "localhost");
    assert_eq!((code(&o.client), code(&o.server)), ("ok", "ok"));
    assert_eq!(peer_cn(&o).as_deref(), Some("alice"));
    assert_eq!(server_authz(&s, &o), (true, None));
}

#[test]
fn request_cert_and_reject_unauthorized_fail_the_handshake_without_a_client_cert() {
    let s = build_server_config(&server_opts("server.key", "server.crt", &["ca.crt"], true, true)).expect("server");
    let o = handshake(&s, &build_client_config(&client_opts(None, &["ca.crt"])).expect("client"), "localhost");
    assert_eq!(code(&o.server), "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE");
    assert_eq!(code(&o.client), "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED");
}

#[test]
fn request_cert_and_reject_unauthorized_fail_the_handshake_for_untrusted_clients() {
    let s = build_server_config(&server_opts("server.key", "server.crt", &["ca.crt"], true, true)).expect("server");
    for (id, want) in [("mallory", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"), ("legacy-client", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"), ("self-signed", "DEPTH_ZERO_SELF_SIGNED_CERT")] {
        let o = handshake(&s, &build_client_config(&client_opts(Some(id), &["ca.crt"])).expect("client"), "localhost");
        assert_eq!(code(&o.server), want, "{id}");
        assert_eq!(code(&o.client), "ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN", "{id}");
    }
}

#[test]
fn request_cert_without_reject_proceeds_and_reports_nodes_authorization_error() {
    let s = build_server_config(&server_opts("server.key", "server.crt", &["ca.crt"], true, false)).expect("server");
    for (id, want) in [
        (None, (false, Some("UNABLE_TO_GET_ISSUER_CERT"))),
        (Some("alice"), (true, None)),
        (Some("mallory"), (false, Some("UNABLE_TO_VERIFY_LEAF_SIGNATURE"))),
        (Some("legacy-client"), (false, Some("UNABLE_TO_VERIFY_LEAF_SIGNATURE"))),
        (Some("self-signed"), (false, Some("DEPTH_ZERO_SELF_SIGNED_CERT"))),
    ] {
        let o = handshake(&s, &build_client_config(&client_opts(id, &["ca.crt"])).expect("client"), "localhost");
        assert_eq!((code(&o.client), code(&o.server)), ("ok", "ok"), "{id:?}");
        assert_eq!(server_authz(&s, &o), want, "{id:?}");
    }
}

#[test]
fn legacy_v1_certificates_work_for_mutual_tls_over_tls12_and_tls13() {
    for max in ["TLSv1.2", "TLSv1.3"] {
        let mut so = server_opts("legacy-server.key", "legacy-server.crt", &["legacy-ca.crt"], true, true);
        so.max_version = Some(max.into());
        let s = build_server_config(&so).expect("server");
        let o = handshake(&s, &build_client_config(&client_opts(Some("legacy-client"), &["legacy-ca.crt"])).expect("client"), "localhost");
        assert_eq!((code(&o.client), code(&o.server)), ("ok", "ok"), "{max}");
        assert_eq!(peer_cn(&o).as_deref(), Some("legacy-client"));
    }
}

#[test]
fn self_signed_server_trusted_as_the_clients_ca() {
    let s = build_server_config(&server_opts("self-signed.key", "self-signed.crt", &[], false, true)).expect("server");
    let o = handshake(&s, &build_client_config(&client_opts(None, &["self-signed.crt"])).expect("client"), "localhost");
    assert_eq!(code(&o.client), "ok");
}

#[test]
fn client_refuses_wrong_ca_wrong_host_and_expired_with_node_codes() {
    let s = build_server_config(&server_opts("server.key", "server.crt", &[], false, true)).expect("server");
    let o = handshake(&s, &build_client_config(&client_opts(None, &["wrong-ca.crt"])).expect("client"), "localhost");
    assert_eq!(code(&o.client), "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    assert_eq!(code(&o.server), "ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN");
    let o = handshake(&s, &build_client_config(&client_opts(None, &["ca.crt"])).expect("client"), "example.com");
    assert_eq!(code(&o.client), "ERR_TLS_CERT_ALTNAME_INVALID");
    let expired = build_server_config(&server_opts("server.key", "expired.crt", &[], false, true)).expect("server");
    let o = handshake(&expired, &build_client_config(&client_opts(None, &["ca.crt"])).expect("client"), "localhost");
    assert_eq!(code(&o.client), "CERT_HAS_EXPIRED");
}

#[test]
fn client_with_reject_unauthorized_false_connects_and_reports_the_error_afterwards() {
    let s = build_server_config(&server_opts("server.key", "server.crt", &[], false, true)).expect("server");
    let mut co = client_opts(None, &["wrong-ca.crt"]);
    co.reject_unauthorized = false;
    let c = build_client_config(&co).expect("client");
    let o = handshake(&s, &c, "localhost");
    assert_eq!(code(&o.client), "ok");
    let certs = o.client_conn.peer_certificates().expect("server certs").to_vec();
    assert_eq!(authorization(&certs, &c.policy, Some("localhost")).map_err(|e| e.code), Err("UNABLE_TO_VERIFY_LEAF_SIGNATURE"));
    let ok = build_client_config(&client_opts(None, &["ca.crt"])).expect("client");
    assert_eq!(authorization(&certs, &ok.policy, Some("example.com")).map_err(|e| e.code), Err("ERR_TLS_CERT_ALTNAME_INVALID"));
    assert_eq!(authorization(&certs, &ok.policy, Some("localhost")), Ok(()));
}

#[test]
fn deny_and_allow_lists_are_enforced_in_the_handshake() {
    let mut so = server_opts("server.key", "server.crt", &["ca.crt"], true, true);
    so.authz = AuthzPolicy { allow: vec!["*".into()], deny: vec!["bo*".into()] };
    let s = build_server_config(&so).expect("server");
    let o = handshake(&s, &build_client_config(&client_opts(Some("bob"), &["ca.crt"])).expect("client"), "localhost");
    assert_eq!(code(&o.server), "ERR_CIO_CLIENT_REJECTED");
    let o = handshake(&s, &build_client_config(&client_opts(Some("alice"), &["ca.crt"])).expect("client"), "localhost");
    assert_eq!(code(&o.server), "ok");
}

#[test]
fn allow_list_is_not_satisfied_by_an_unverified_certificate() {
    let mut so = server_opts("server.key", "server.crt", &["ca.crt"], true, false);
    so.authz = AuthzPolicy { allow: vec!["mallory".into()], deny: vec![] };
    let s = build_server_config(&so).expect("server");
    let o = handshake(&s, &build_client_config(&client_opts(Some("mallory"), &["ca.crt"])).expect("client"), "localhost");
    assert_eq!(code(&o.server), "ERR_CIO_CLIENT_REJECTED");
    let o = handshake(&s, &build_client_config(&client_opts(None, &["ca.crt"])).expect("client"), "localhost");
    assert_eq!(code(&o.server), "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE");
}

#[test]
fn alpn_picks_the_common_protocol() {
    let mut so = server_opts("server.key", "server.crt", &[], false, true);
    so.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let mut co = client_opts(None, &["ca.crt"]);
    co.alpn_protocols = vec![b"http/1.1".to_vec()];
    let o = handshake(&build_server_config(&so).expect("server"), &build_client_config(&co).expect("client"), "localhost");
    assert_eq!(o.client_conn.alpn_protocol(), Some(&b"http/1.1"[..]));
}

#[test]
fn versions_are_validated_and_enforced() {
    assert_eq!(protocol_versions(Some("TLSv1"), None).map(|_| ()).map_err(|e| e.code), Err("ERR_CIO_UNSUPPORTED_OPTION"));
    assert_eq!(protocol_versions(Some("SSLv3x"), None).map(|_| ()).map_err(|e| e.code), Err("ERR_TLS_INVALID_PROTOCOL_VERSION"));
    assert_eq!(protocol_versions(Some("TLSv1.3"), Some("TLSv1.2")).map(|_| ()).map_err(|e| e.code), Err("ERR_CIO_UNSUPPORTED_OPTION"));
    assert_eq!(protocol_versions(None, None).map(|v| v.len()), Ok(2));
    let mut so = server_opts("server.key", "server.crt", &[], false, true);
    so.min_version = Some("TLSv1.3".into());
    let mut co = client_opts(None, &["ca.crt"]);
    co.max_version = Some("TLSv1.2".into());
    let o = handshake(&build_server_config(&so).expect("server"), &build_client_config(&co).expect("client"), "localhost");
    assert_ne!(code(&o.server), "ok");
    co.max_version = None;
    co.min_version = Some("TLSv1.2".into());
    so.min_version = None;
    so.max_version = Some("TLSv1.2".into());
    let o = handshake(&build_server_config(&so).expect("server"), &build_client_config(&co).expect("client"), "localhost");
    assert_eq!(o.client_conn.protocol_version(), Some(rustls::ProtocolVersion::TLSv1_2));
}

#[test]
fn bad_material_fails_at_build_time_not_at_first_connection() {
    let e = build_server_config(&server_opts("alice.key", "server.crt", &[], false, true)).expect_err("mismatch");
    assert_eq!(e.code, "ERR_CIO_KEY_MISMATCH");
    let e = build_server_config(&ServerTlsOptions::default()).expect_err("no key");
    assert_eq!(e.code, "ERR_CIO_TLS_MATERIAL");
    let e = build_client_config(&client_opts(None, &["no-such-ca.pem"])).expect_err("missing ca");
    assert_eq!(e.code, "ENOENT");
}

#[test]
fn client_resumes_sessions_when_enabled_and_not_when_disabled() {
    let s = build_server_config(&server_opts("server.key", "server.crt", &[], false, true)).expect("server");
    for (resume, want) in [(true, HandshakeKind::Resumed), (false, HandshakeKind::Full)] {
        let mut co = client_opts(None, &["ca.crt"]);
        co.session_resumption = resume;
        let c = build_client_config(&co).expect("client");
        let first = handshake(&s, &c, "localhost");
        assert_eq!(code(&first.client), "ok");
        let second = handshake(&s, &c, "localhost");
        assert_eq!(second.client_conn.handshake_kind(), Some(want), "resumption {resume}");
    }
}
