//! Node-compatible certificate verification, as pure functions (no I/O beyond loading the
//! system roots once). Owns the trust store and `verify_chain`.
//!
//! Two gates, both must pass:
//! 1. [`chain`](super::chain) emulates OpenSSL's `X509_verify_cert` as Node runs it and yields
//!    Node's code (`UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `CERT_HAS_EXPIRED`, ...). This is where
//!    Node's extra acceptance lives: X.509 v1 roots and leaves, a CA:TRUE self-signed
//!    certificate listed as its own `ca`, CN-only leaves (names are checked in identity.rs).
//! 2. webpki (`EndEntityCert::verify_for_usage`) keeps its strictness for modern
//!    certificates; only its refusals that Node does not share are waived:
//!    `UnsupportedCertVersion` (v1), `CaUsedAsEndEntity`, and `UnknownIssuer` (the OpenSSL
//!    path found a trusted issuer webpki could not use, e.g. a v1 or CA-leaf anchor).

use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls_pki_types::{CertificateDer, UnixTime};

use super::chain;
use super::error::{VerifyError, X509Code};

pub use super::cert_info::Purpose;
pub use super::trust::TrustStore;

/// Verifies a presented chain (leaf first) against `store` for `purpose` at `now`, returning
/// the error Node would report. Host names are not checked here (see identity.rs).
pub fn verify_chain(
    chain: &[CertificateDer<'_>],
    store: &TrustStore,
    purpose: Purpose,
    now: UnixTime,
    algs: &WebPkiSupportedAlgorithms,
) -> Result<(), VerifyError> {
    let Some(leaf) = chain.first() else {
        // What Node reports for a peer that sent no certificate.
        return Err(X509Code::UnableToGetIssuerCert.into());
    };
    let secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    chain::openssl_verify(chain, store, purpose, secs, algs).map_err(VerifyError::from)?;
    let usage = match purpose {
        Purpose::ServerAuth => webpki::KeyUsage::server_auth(),
        Purpose::ClientAuth => webpki::KeyUsage::client_auth(),
    };
    let strict = webpki::EndEntityCert::try_from(leaf).and_then(|ee| {
        ee.verify_for_usage(algs.all, &store.webpki, &chain[1..], now, usage, None, None)
            .map(|_| ())
    });
    match strict {
        Ok(()) => Ok(()),
        Err(e) if node_accepts(&e) => Ok(()),
        Err(e) => Err(webpki_code(&e).into()),
    }
}

/// webpki refusals that Node (OpenSSL) does not share, once the OpenSSL path succeeded.
fn node_accepts(e: &webpki::Error) -> bool {
    matches!(
        e,
        webpki::Error::UnsupportedCertVersion
            | webpki::Error::CaUsedAsEndEntity
            | webpki::Error::UnknownIssuer
    )
}

/// The closest Node code for a webpki refusal the OpenSSL path did not see.
fn webpki_code(e: &webpki::Error) -> X509Code {
    use webpki::Error as E;
    match e {
        E::CertExpired { .. } | E::InvalidCertValidity => X509Code::CertHasExpired,
        E::CertNotValidYet { .. } => X509Code::CertNotYetValid,
        E::InvalidSignatureForPublicKey => X509Code::CertSignatureFailure,
        E::RequiredEkuNotFoundContext(_) | E::EmptyEkuExtension => X509Code::InvalidPurpose,
        E::EndEntityUsedAsCa => X509Code::InvalidCa,
        E::PathLenConstraintViolated => X509Code::PathLengthExceeded,
        E::UnsupportedCriticalExtension => X509Code::UnhandledCriticalExtension,
        E::NameConstraintViolation => X509Code::PermittedViolation,
        E::MaximumPathDepthExceeded => X509Code::CertChainTooLong,
        _ => X509Code::CertRejected,
    }
}
