//! Node's `tls.checkServerIdentity(hostname, cert)`, ported: an IP host must be one of the
//! IP SANs; a name host is matched against the DNS SANs, or against the subject CN when the
//! certificate has no DNS SAN (how CN-only legacy certificates pass in Node). Wildcards as
//! Node allows them (one `*` in the left-most label, not `*.tld`). Error messages are Node's.

use std::net::IpAddr;

use super::error::VerifyError;
use super::peer_cert::{cert_names, CertNames};

/// `Ok` when `leaf` (DER) is valid for `host`, else Node's `ERR_TLS_CERT_ALTNAME_INVALID`.
pub fn check_server_identity(host: &str, leaf: &[u8]) -> Result<(), VerifyError> {
    let names = cert_names(leaf).unwrap_or_default();
    check_names(host, &names)
}

pub(crate) fn check_names(host: &str, names: &CertNames) -> Result<(), VerifyError> {
    let hostname = unfqdn(host);
    if let Ok(ip) = hostname.parse::<IpAddr>() {
        if names.ips.contains(&ip) {
            return Ok(());
        }
        let list = names
            .ips
            .iter()
            .map(IpAddr::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        return Err(VerifyError::altname(
            format!("IP: {hostname} is not in the cert's list: {list}"),
            host,
        ));
    }
    let host_parts = split_host(hostname);
    if !names.dns.is_empty() {
        if names.dns.iter().any(|p| matches(&host_parts, p)) {
            return Ok(());
        }
        let alt = names.subjectaltname.as_deref().unwrap_or("");
        return Err(VerifyError::altname(
            format!("Host: {hostname}. is not in the cert's altnames: {alt}"),
            host,
        ));
    }
    if !names.cns.is_empty() {
        if names.cns.iter().any(|p| matches(&host_parts, p)) {
            return Ok(());
        }
        let cn = names.cns.join(",");
        return Err(VerifyError::altname(
            format!("Host: {hostname}. is not cert's CN: {cn}"),
            host,
        ));
    }
    Err(VerifyError::altname(
        "Cert does not contain a DNS name".to_string(),
        host,
    ))
}

fn unfqdn(host: &str) -> &str {
    host.strip_suffix('.').unwrap_or(host)
}

fn split_host(host: &str) -> Vec<String> {
    unfqdn(host)
        .to_lowercase()
        .split('.')
        .map(str::to_string)
        .collect()
}

/// Node's `check(hostParts, pattern, wildcards = true)`.
fn matches(host_parts: &[String], pattern: &str) -> bool {
    if pattern.is_empty() {
        return false;
    }
    let pattern_parts = split_host(pattern);
    if host_parts.len() != pattern_parts.len() || pattern_parts.iter().any(String::is_empty) {
        return false;
    }
    if pattern_parts
        .iter()
        .any(|p| p.chars().any(|c| !('\u{21}'..='\u{7f}').contains(&c)))
    {
        return false;
    }
    for i in (1..host_parts.len()).rev() {
        if host_parts[i] != pattern_parts[i] {
            return false;
        }
    }
    let host_sub = &host_parts[0];
    let pattern_sub = &pattern_parts[0];
    let pieces: Vec<&str> = pattern_sub.split('*').collect();
    if pieces.len() == 1 || pattern_sub.contains("xn--") {
        return host_sub == pattern_sub;
    }
    if pieces.len() > 2 || pattern_parts.len() <= 2 {
        return false;
    }
    let (prefix, suffix) = (pieces[0], pieces[1]);
    prefix.len() + suffix.len() <= host_sub.len()
        && host_sub.starts_with(prefix)
        && host_sub.ends_with(suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dns: &[&str], cns: &[&str], ips: &[&str]) -> CertNames {
        let mut alt: Vec<String> = dns.iter().map(|d| format!("DNS:{d}")).collect();
        alt.extend(ips.iter().map(|i| format!("IP Address:{i}")));
        CertNames {
            cns: cns.iter().map(|s| s.to_string()).collect(),
            dns: dns.iter().map(|s| s.to_string()).collect(),
            ips: ips.iter().map(|s| s.parse().expect("ip")).collect(),
            emails: vec![],
            subjectaltname: if alt.is_empty() {
                None
            } else {
                Some(alt.join(", "))
            },
        }
    }

    fn fixture(name: &str) -> Vec<u8> {
        let pem = std::fs::read(format!(
            "{}/__test__/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("fixture");
        use rustls_pki_types::pem::PemObject;
        rustls_pki_types::CertificateDer::from_pem_slice(&pem)
            .expect("pem")
            .to_vec()
    }

    #[test]
    fn host_matches_dns_san_and_ip_matches_ip_san() {
        let leaf = fixture("server.crt");
        assert!(check_server_identity("localhost", &leaf).is_ok());
        assert!(check_server_identity("LOCALHOST.", &leaf).is_ok());
        assert!(check_server_identity("127.0.0.1", &leaf).is_ok());
    }

    #[test]
    fn wrong_host_gets_nodes_exact_message() {
        let e = check_server_identity("example.com", &fixture("server.crt")).expect_err("mismatch");
        assert_eq!(e.code, "ERR_TLS_CERT_ALTNAME_INVALID");
        assert_eq!(e.message, "Hostname/IP does not match certificate's altnames: Host: example.com. is not in the cert's altnames: DNS:localhost, IP Address:127.0.0.1");
    }

    #[test]
    fn cn_only_legacy_cert_is_checked_against_its_cn() {
        let leaf = fixture("legacy-server.crt");
        assert!(check_server_identity("localhost", &leaf).is_ok());
        let e = check_server_identity("example.com", &leaf).expect_err("mismatch");
        assert_eq!(e.message, "Hostname/IP does not match certificate's altnames: Host: example.com. is not cert's CN: localhost");
        let e = check_server_identity("127.0.0.1", &leaf).expect_err("no IP SAN");
        assert_eq!(e.message, "Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: ");
    }

    #[test]
    fn cn_is_ignored_when_dns_sans_exist() {
        assert!(check_names(
            "cn.example.com",
            &names(&["other.example.com"], &["cn.example.com"], &[])
        )
        .is_err());
        // Only an IP SAN: the CN still counts for names, as in Node.
        assert!(check_names(
            "cn.example.com",
            &names(&[], &["cn.example.com"], &["10.0.0.1"])
        )
        .is_ok());
    }

    #[test]
    fn wildcards_follow_node_rules() {
        let n = names(&["*.example.com"], &[], &[]);
        assert!(check_names("a.example.com", &n).is_ok());
        assert!(check_names("a.b.example.com", &n).is_err());
        assert!(check_names("example.com", &n).is_err());
        assert!(check_names("a.com", &names(&["*.com"], &[], &[])).is_err());
        assert!(check_names("web1.example.com", &names(&["web*.example.com"], &[], &[])).is_ok());
        assert!(check_names("x.example.com", &names(&["*x*.example.com"], &[], &[])).is_err());
    }

    #[test]
    fn ipv6_hosts_compare_canonically() {
        let n = names(&[], &[], &["::1"]);
        assert!(check_names("0:0:0:0:0:0:0:1", &n).is_ok());
        assert!(check_names("::2", &n).is_err());
    }

    #[test]
    fn cert_without_any_name_is_refused() {
        let e = check_names("a.example", &CertNames::default()).expect_err("no names");
        assert!(e.message.ends_with("Cert does not contain a DNS name"));
    }
}
