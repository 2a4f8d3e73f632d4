//! `allowClients` / `denyClients`: the pure allow/deny policy on a client certificate's names.
//! No I/O, no tokio, no napi. Chain validation is a separate step (verify.rs); this only
//! decides whether an identified client may talk to this server.
//!
//! Names checked: every subject CN, every DNS SAN, every email SAN. A pattern is an exact
//! name or a glob where `*` matches any run of characters (dots included). CNs compare
//! case-sensitively; DNS names and emails case-insensitively (as DNS does).
//! Rules: deny wins over allow; with an allow list, some name must match it; with neither
//! list, everyone passes. A client without a certificate fails a non-empty allow list and
//! passes a deny-only list (nothing to deny).
//!
//! Auth modes (server side; `reject` = rejectUnauthorized, Node default true):
//!
//! | requestCert | reject | client cert          | handshake | authorized / authorizationError       | allow/deny applied |
//! |-------------|--------|----------------------|-----------|---------------------------------------|--------------------|
//! | false       | any    | never asked          | ok        | false / null                          | only if a list is set (then a cert is asked for, optional) |
//! | true        | true   | none                 | fails: server `ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE`, client `ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED` | - | no |
//! | true        | true   | not chaining to `ca` | fails (verify code, e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`) | - | no |
//! | true        | true   | valid                | ok        | true / null                           | yes: refusal fails the handshake (`ERR_CIO_CLIENT_REJECTED`) |
//! | true        | false  | none                 | ok        | false / `UNABLE_TO_GET_ISSUER_CERT`   | yes (no cert fails an allow list) |
//! | true        | false  | not chaining to `ca` | ok        | false / verify code                   | yes |
//! | true        | false  | valid                | ok        | true / null                           | yes |
//!
//! After that, the JS-level `cio/authenticate-client` (isClientAllowed/rejectClient) runs.

use super::peer_cert::CertNames;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthzPolicy {
    pub allow: Vec<String>,
    pub deny: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthzError {
    /// An allow list is set and the client sent no certificate.
    NoCertificate,
    /// `name` matched deny pattern `pattern`.
    Denied { name: String, pattern: String },
    /// An allow list is set and none of the client's names matched it.
    NotAllowed { name: String },
}

impl AuthzError {
    /// Message in the style of the original's `'Client Rejected: ' + name`.
    pub fn message(&self) -> String {
        match self {
            AuthzError::NoCertificate => {
                "Client Rejected: no client certificate (allowClients is set)".to_string()
            }
            AuthzError::Denied { name, pattern } => {
                format!("Client Rejected: {name} (denyClients '{pattern}')")
            }
            AuthzError::NotAllowed { name } => {
                format!("Client Rejected: {name} (not in allowClients)")
            }
        }
    }
}

impl AuthzPolicy {
    pub fn is_empty(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty()
    }

    /// Decides for a client with `names` (`None`: no certificate). `Ok` carries the client's
    /// name (first CN, else first DNS/email SAN) when there is one.
    pub fn check(&self, names: Option<&CertNames>) -> Result<Option<String>, AuthzError> {
        let Some(names) = names else {
            return if self.allow.is_empty() {
                Ok(None)
            } else {
                Err(AuthzError::NoCertificate)
            };
        };
        let display = names
            .cns
            .first()
            .or(names.dns.first())
            .or(names.emails.first())
            .cloned();
        let candidates = candidates(names);
        for pattern in &self.deny {
            if let Some((name, _)) = candidates.iter().find(|(n, ci)| glob(pattern, n, *ci)) {
                return Err(AuthzError::Denied {
                    name: name.to_string(),
                    pattern: pattern.clone(),
                });
            }
        }
        if !self.allow.is_empty()
            && !self
                .allow
                .iter()
                .any(|p| candidates.iter().any(|(n, ci)| glob(p, n, *ci)))
        {
            return Err(AuthzError::NotAllowed {
                name: display.unwrap_or_else(|| "<no name>".to_string()),
            });
        }
        Ok(display)
    }
}

/// (name, compare case-insensitively)
fn candidates(names: &CertNames) -> Vec<(&str, bool)> {
    let cns = names.cns.iter().map(|n| (n.as_str(), false));
    let dns = names
        .dns
        .iter()
        .chain(&names.emails)
        .map(|n| (n.as_str(), true));
    cns.chain(dns).collect()
}

/// `*` matches any run of characters; everything else literally.
pub fn glob(pattern: &str, name: &str, case_insensitive: bool) -> bool {
    let (p, n) = if case_insensitive {
        (pattern.to_lowercase(), name.to_lowercase())
    } else {
        (pattern.to_string(), name.to_string())
    };
    let pieces: Vec<&str> = p.split('*').collect();
    if pieces.len() == 1 {
        return p == n;
    }
    let (first, last) = (pieces[0], pieces[pieces.len() - 1]);
    if !n.starts_with(first) || n.len() < first.len() + last.len() || !n.ends_with(last) {
        return false;
    }
    let mut rest = &n[first.len()..n.len() - last.len()];
    for piece in &pieces[1..pieces.len() - 1] {
        match rest.find(piece) {
            Some(i) => rest = &rest[i + piece.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(cn: &str, dns: &[&str], emails: &[&str]) -> CertNames {
        CertNames {
            cns: vec![cn.to_string()],
            dns: dns.iter().map(|s| s.to_string()).collect(),
            emails: emails.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }
    fn policy(allow: &[&str], deny: &[&str]) -> AuthzPolicy {
        AuthzPolicy {
            allow: allow.iter().map(|s| s.to_string()).collect(),
            deny: deny.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn allow_list_admits_listed_names_only() {
        let p = policy(&["alice"], &[]);
        assert_eq!(
            p.check(Some(&client("alice", &[], &[]))),
            Ok(Some("alice".into()))
        );
        assert_eq!(
            p.check(Some(&client("bob", &[], &[]))),
            Err(AuthzError::NotAllowed { name: "bob".into() })
        );
    }

    #[test]
    fn deny_list_refuses_listed_names() {
        let p = policy(&[], &["bob"]);
        assert!(p.check(Some(&client("alice", &[], &[]))).is_ok());
        assert_eq!(
            p.check(Some(&client("bob", &[], &[]))),
            Err(AuthzError::Denied {
                name: "bob".into(),
                pattern: "bob".into()
            })
        );
    }

    #[test]
    fn deny_wins_over_allow() {
        let p = policy(&["*"], &["mallory"]);
        assert!(p.check(Some(&client("alice", &[], &[]))).is_ok());
        assert!(matches!(
            p.check(Some(&client("mallory", &[], &[]))),
            Err(AuthzError::Denied { .. })
        ));
    }

    #[test]
    fn globs_match_cn_dns_and_email_sans() {
        let p = policy(&["*.example.com"], &[]);
        assert!(p
            .check(Some(&client("alice", &["Alice.Example.com"], &[])))
            .is_ok());
        assert!(p.check(Some(&client("alice", &[], &[]))).is_err());
        let p = policy(&["*@example.com"], &[]);
        assert!(p
            .check(Some(&client("x", &[], &["alice@example.com"])))
            .is_ok());
        let p = policy(&["svc-*-prod"], &["svc-*-test*"]);
        assert!(p.check(Some(&client("svc-api-prod", &[], &[]))).is_ok());
        assert!(p.check(Some(&client("svc-api-staging", &[], &[]))).is_err());
        assert!(matches!(
            p.check(Some(&client("svc-x-test-prod", &[], &[]))),
            Err(AuthzError::Denied { .. })
        ));
    }

    #[test]
    fn cn_comparison_is_case_sensitive() {
        assert!(policy(&["alice"], &[])
            .check(Some(&client("Alice", &[], &[])))
            .is_err());
    }

    #[test]
    fn no_certificate_fails_an_allow_list_but_passes_deny_only_and_empty_policies() {
        assert_eq!(
            policy(&["alice"], &[]).check(None),
            Err(AuthzError::NoCertificate)
        );
        assert_eq!(policy(&[], &["bob"]).check(None), Ok(None));
        assert_eq!(AuthzPolicy::default().check(None), Ok(None));
    }

    #[test]
    fn glob_edge_cases() {
        assert!(glob("*", "", false));
        assert!(glob("a*a", "aa", false));
        assert!(!glob("a*a", "a", false));
        assert!(glob("*b*", "abc", false));
        assert!(!glob("abc", "abcd", false));
    }
}
