//! peer_certificate() against what Node's X509Certificate#toLegacyObject() (the
//! getPeerCertificate shape) reported for the same fixtures: __test__/fixtures/node-peer-cert.txt.

use super::peer_cert::{cert_names, node_date, peer_certificate, subject_cn, Dn, PeerCert};
use super::test_util::{certs, fixture_path};

fn dn_json(dn: &Dn) -> String {
    let fields: Vec<String> = dn
        .entries
        .iter()
        .map(|(k, v)| {
            let vals: Vec<String> = v.iter().map(|s| format!("\"{s}\"")).collect();
            if vals.len() == 1 {
                format!("\"{k}\":{}", vals[0])
            } else {
                format!("\"{k}\":[{}]", vals.join(","))
            }
        })
        .collect();
    format!("{{{}}}", fields.join(","))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn field(p: &PeerCert, name: &str) -> Option<String> {
    Some(match name {
        "subject" => dn_json(&p.subject),
        "issuer" => dn_json(&p.issuer),
        "subjectaltname" => p.subjectaltname.clone()?,
        "ca" => p.ca.to_string(),
        "modulus" => p.modulus.clone()?,
        "bits" => p.bits?.to_string(),
        "exponent" => p.exponent.clone()?,
        "pubkey" => hex(p.pubkey.as_ref()?),
        "asn1Curve" => p.asn1_curve.clone()?,
        "nistCurve" => p.nist_curve.clone()?,
        "valid_from" => p.valid_from.clone(),
        "valid_to" => p.valid_to.clone(),
        "fingerprint" => p.fingerprint.clone(),
        "fingerprint256" => p.fingerprint256.clone(),
        "fingerprint512" => p.fingerprint512.clone(),
        "ext_key_usage" => {
            let v: Vec<String> = p
                .ext_key_usage
                .as_ref()?
                .iter()
                .map(|o| format!("\"{o}\""))
                .collect();
            format!("[{}]", v.join(","))
        }
        "serialNumber" => p.serial_number.clone(),
        "raw" => hex(&p.raw),
        _ => return None,
    })
}

#[test]
fn every_field_node_reports_matches_for_every_fixture() {
    let text = std::fs::read_to_string(fixture_path("node-peer-cert.txt")).expect("reference file");
    let mut checked = 0;
    for line in text.lines() {
        let mut parts = line.splitn(3, '|');
        let (file, name, want) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        let der = certs(file).remove(0);
        let p = peer_certificate(der.as_ref()).expect("parses");
        assert_eq!(field(&p, name).as_deref(), Some(want), "{file} {name}");
        checked += 1;
    }
    assert!(checked > 100, "only {checked} fields checked");
}

#[test]
fn fields_node_omits_are_absent() {
    let legacy = peer_certificate(certs("legacy-server.crt")[0].as_ref()).expect("parses");
    assert_eq!(legacy.subjectaltname, None);
    assert_eq!(legacy.ext_key_usage, None);
    let ec = peer_certificate(certs("server-ec.crt")[0].as_ref()).expect("parses");
    assert_eq!((ec.modulus, ec.exponent), (None, None));
}

#[test]
fn names_for_authz_and_identity() {
    let alice = cert_names(certs("alice.crt")[0].as_ref()).expect("parses");
    assert_eq!(alice.cns, vec!["alice".to_string()]);
    assert_eq!(alice.emails, vec!["alice@example.com".to_string()]);
    assert_eq!(alice.dns, vec!["alice.example".to_string()]);
    let server = cert_names(certs("server.crt")[0].as_ref()).expect("parses");
    assert_eq!(
        server.ips,
        vec!["127.0.0.1".parse::<std::net::IpAddr>().expect("ip")]
    );
    assert_eq!(
        subject_cn(certs("legacy-client.crt")[0].as_ref()).as_deref(),
        Some("legacy-client")
    );
    assert!(peer_certificate(&[1, 2, 3]).is_none());
}

#[test]
fn dates_use_openssl_format_with_space_padded_day() {
    assert_eq!(node_date(946_684_800), "Jan  1 00:00:00 2000 GMT");
    assert_eq!(node_date(4_102_444_800), "Jan  1 00:00:00 2100 GMT");
    assert_eq!(node_date(951_782_400), "Feb 29 00:00:00 2000 GMT");
    assert_eq!(node_date(1_767_225_599), "Dec 31 23:59:59 2025 GMT");
}
