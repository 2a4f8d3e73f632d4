//! OpenSSL's verification order, emulated, so cio reports the code Node reports.
//!
//! Node runs OpenSSL with a verify callback that always continues, then reads
//! `SSL_get_verify_result`: the **last** error OpenSSL recorded wins. So this module walks the
//! same steps as OpenSSL 3's `X509_verify_cert` (build_chain, check_extensions,
//! internal_verify) and returns the last error: e.g. an expired leaf from a wrong CA is
//! `CERT_HAS_EXPIRED` in Node, not `UNABLE_TO_VERIFY_LEAF_SIGNATURE`. This is what lets X.509
//! v1 roots, CA:TRUE self-signed leaves and CN-only leaves pass as they do in Node.
//! Signatures are checked with the crypto provider's webpki algorithms.

use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls_pki_types::CertificateDer;

use super::cert_info::{CertInfo, Purpose};
use super::der;
use super::error::X509Code;
use super::trust::TrustStore;

/// Node/OpenSSL's default verify depth is 100; chains here are short, this only stops loops.
const MAX_DEPTH: usize = 32;

struct Node<'a> {
    info: CertInfo<'a>,
    trusted: bool,
}

/// Verifies `chain` (leaf first, then whatever the peer sent) the way OpenSSL does for Node
/// and returns the error Node would report, if any.
pub(crate) fn openssl_verify(
    chain: &[CertificateDer<'_>],
    store: &TrustStore,
    purpose: Purpose,
    now: i64,
    algs: &WebPkiSupportedAlgorithms,
) -> Result<(), X509Code> {
    let leaf = chain
        .first()
        .and_then(|c| CertInfo::parse(c.as_ref()))
        .ok_or(X509Code::CertRejected)?;
    let untrusted: Vec<CertInfo<'_>> = chain
        .iter()
        .skip(1)
        .filter_map(|c| CertInfo::parse(c.as_ref()))
        .collect();
    let mut errors = Vec::new();
    let path = build_path(leaf, &untrusted, store, &mut errors);
    check_extensions(&path, purpose, &mut errors);
    internal_verify(&path, now, algs, &mut errors);
    match errors.pop() {
        Some(code) => Err(code),
        None => Ok(()),
    }
}

/// OpenSSL's build_chain: issuers from the trust store first, then from the peer's chain.
fn build_path<'a>(
    leaf: CertInfo<'a>,
    untrusted: &[CertInfo<'a>],
    store: &'a TrustStore,
    errors: &mut Vec<X509Code>,
) -> Vec<Node<'a>> {
    let mut path = vec![Node {
        info: leaf,
        trusted: false,
    }];
    while let Some(top) = path.last() {
        if top.trusted && top.info.self_signed() {
            return path;
        }
        if path.len() > MAX_DEPTH {
            errors.push(X509Code::CertChainTooLong);
            return path;
        }
        let trusted_issuer = store
            .candidates(&top.info.issuer)
            .into_iter()
            .filter_map(CertInfo::parse)
            .find(|c| top.info.issued_by(c));
        if let Some(issuer) = trusted_issuer {
            let self_signed_top = top.info.self_signed();
            let node = Node {
                info: issuer,
                trusted: true,
            };
            if self_signed_top {
                // An untrusted self-signed cert that the store holds (or a twin of): trusted.
                path.pop();
            }
            path.push(node);
            continue;
        }
        if top.trusted || top.info.self_signed() {
            break;
        }
        let next = untrusted
            .iter()
            .find(|c| top.info.issued_by(c) && !path.iter().any(|n| n.info.der == c.der))
            .cloned();
        match next {
            Some(info) => path.push(Node {
                info,
                trusted: false,
            }),
            None => break,
        }
    }
    if let Some(top) = path.last() {
        let code = if top.info.self_signed() {
            if path.len() == 1 {
                X509Code::DepthZeroSelfSignedCert
            } else {
                X509Code::SelfSignedCertInChain
            }
        } else if top.trusted {
            X509Code::UnableToGetIssuerCert
        } else if path.len() == 1 {
            X509Code::UnableToVerifyLeafSignature
        } else {
            X509Code::UnableToGetIssuerCertLocally
        };
        errors.push(code);
    }
    path
}

/// OpenSSL's check_extensions (non-strict): critical extensions, CA-ness of issuers,
/// purpose, path length (`plen` counts the non-self-issued intermediates below `x`).
fn check_extensions(path: &[Node<'_>], purpose: Purpose, errors: &mut Vec<X509Code>) {
    let mut plen: u32 = 0;
    for (i, node) in path.iter().enumerate() {
        let x = &node.info;
        if x.unknown_critical {
            errors.push(X509Code::UnhandledCriticalExtension);
        }
        if i > 0 {
            let ca = x.check_ca();
            if ca == 0 || (i + 1 < path.len() && ca != 1) {
                errors.push(X509Code::InvalidCa);
            }
        }
        if !x.purpose_ok(purpose, i > 0) {
            errors.push(X509Code::InvalidPurpose);
        }
        if i > 1 {
            if let Some((_, Some(max))) = x.bc {
                if plen > max {
                    errors.push(X509Code::PathLengthExceeded);
                }
            }
        }
        if i > 0 && x.subject != x.issuer {
            plen += 1;
        }
    }
}

/// OpenSSL's internal_verify: from the top down, each signature with its issuer's key
/// (a self-signed top is not checked), then each certificate's validity dates.
fn internal_verify(
    path: &[Node<'_>],
    now: i64,
    algs: &WebPkiSupportedAlgorithms,
    errors: &mut Vec<X509Code>,
) {
    let Some(top) = path.last() else { return };
    let n = path.len();
    let start = if top.info.self_signed() {
        n - 1
    } else if n == 1 {
        errors.push(X509Code::UnableToVerifyLeafSignature);
        check_time(&top.info, now, errors);
        return;
    } else {
        n - 2
    };
    for i in (0..=start).rev() {
        let xs = &path[i].info;
        if i + 1 < n {
            if let Err(code) = check_signature(xs, &path[i + 1].info, algs) {
                errors.push(code);
            }
        }
        check_time(xs, now, errors);
    }
}

fn check_time(x: &CertInfo<'_>, now: i64, errors: &mut Vec<X509Code>) {
    if now < x.not_before {
        errors.push(X509Code::CertNotYetValid);
    }
    if now > x.not_after {
        errors.push(X509Code::CertHasExpired);
    }
}

/// `child`'s signature, verified with `issuer`'s public key by a provider algorithm whose
/// (public key, signature) algorithm identifiers match the certificates'.
pub(crate) fn check_signature(
    child: &CertInfo<'_>,
    issuer: &CertInfo<'_>,
    algs: &WebPkiSupportedAlgorithms,
) -> Result<(), X509Code> {
    let signed = der::signed_parts(child.der).ok_or(X509Code::CertSignatureFailure)?;
    let (key_alg, key) =
        der::spki_parts(&issuer.spki).ok_or(X509Code::UnableToDecodeIssuerPublicKey)?;
    let verified = algs
        .all
        .iter()
        .filter(|a| {
            a.public_key_alg_id().as_ref() == key_alg
                && a.signature_alg_id().as_ref() == signed.sig_alg
        })
        .any(|a| {
            a.verify_signature(key, signed.tbs, signed.signature)
                .is_ok()
        });
    if verified {
        Ok(())
    } else {
        Err(X509Code::CertSignatureFailure)
    }
}
