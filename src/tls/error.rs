//! Errors of the TLS building blocks. Owns: `TlsError` (configuration/material problems, raised
//! before any socket exists) and `VerifyError` (a peer certificate Node would refuse, carrying
//! Node's code). Also maps rustls handshake errors to the codes Node puts on its errors.
//! Does not own: turning these into JS errors (the core's errors.rs does that with `code`).

use std::fmt;

use rustls::{AlertDescription, CertificateError, Error as RustlsError, OtherError};
use std::sync::Arc;

/// A configuration or certificate-material error: Node-style `code` + a message naming the
/// option and the path (or `<buffer>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsError {
    /// `ERR_CIO_TLS_MATERIAL`, `ERR_CIO_KEY_MISMATCH`, `ERR_CIO_UNSUPPORTED_OPTION`,
    /// `ERR_TLS_INVALID_PROTOCOL_VERSION`, `ERR_CIO_TLS_CONFIG`, or an errno name (`ENOENT`,
    /// `EISDIR`, `EACCES`, `EIO`) for file reads.
    pub code: &'static str,
    pub message: String,
}

pub const ERR_MATERIAL: &str = "ERR_CIO_TLS_MATERIAL";
pub const ERR_KEY_MISMATCH: &str = "ERR_CIO_KEY_MISMATCH";
pub const ERR_UNSUPPORTED_OPTION: &str = "ERR_CIO_UNSUPPORTED_OPTION";
pub const ERR_INVALID_PROTOCOL_VERSION: &str = "ERR_TLS_INVALID_PROTOCOL_VERSION";
pub const ERR_CONFIG: &str = "ERR_CIO_TLS_CONFIG";
/// Code of a client refused by `allowClients`/`denyClients` (same as the JS-level rejection).
pub const ERR_CLIENT_REJECTED: &str = "ERR_CIO_CLIENT_REJECTED";
/// Node's code for a host name / IP that the certificate does not cover.
pub const ERR_ALTNAME_INVALID: &str = "ERR_TLS_CERT_ALTNAME_INVALID";

impl TlsError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        TlsError {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for TlsError {}

/// OpenSSL verification results, as Node names them (`err.code`, `authorizationError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum X509Code {
    UnableToGetIssuerCert,
    UnableToGetIssuerCertLocally,
    UnableToVerifyLeafSignature,
    DepthZeroSelfSignedCert,
    SelfSignedCertInChain,
    CertHasExpired,
    CertNotYetValid,
    CertSignatureFailure,
    UnableToDecodeIssuerPublicKey,
    InvalidCa,
    InvalidPurpose,
    PathLengthExceeded,
    UnhandledCriticalExtension,
    CertChainTooLong,
    PermittedViolation,
    CertRejected,
}

impl X509Code {
    pub fn code(self) -> &'static str {
        use X509Code::*;
        match self {
            UnableToGetIssuerCert => "UNABLE_TO_GET_ISSUER_CERT",
            UnableToGetIssuerCertLocally => "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
            UnableToVerifyLeafSignature => "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
            DepthZeroSelfSignedCert => "DEPTH_ZERO_SELF_SIGNED_CERT",
            SelfSignedCertInChain => "SELF_SIGNED_CERT_IN_CHAIN",
            CertHasExpired => "CERT_HAS_EXPIRED",
            CertNotYetValid => "CERT_NOT_YET_VALID",
            CertSignatureFailure => "CERT_SIGNATURE_FAILURE",
            UnableToDecodeIssuerPublicKey => "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
            InvalidCa => "INVALID_CA",
            InvalidPurpose => "INVALID_PURPOSE",
            PathLengthExceeded => "PATH_LENGTH_EXCEEDED",
            // Node 20 has no name for these two OpenSSL results and reports "UNSPECIFIED".
            UnhandledCriticalExtension => "UNSPECIFIED",
            CertChainTooLong => "CERT_CHAIN_TOO_LONG",
            PermittedViolation => "UNSPECIFIED",
            CertRejected => "CERT_REJECTED",
        }
    }

    /// OpenSSL 3's `X509_verify_cert_error_string`, which Node uses as `err.message`.
    pub fn message(self) -> &'static str {
        use X509Code::*;
        match self {
            UnableToGetIssuerCert => "unable to get issuer certificate",
            UnableToGetIssuerCertLocally => "unable to get local issuer certificate",
            UnableToVerifyLeafSignature => "unable to verify the first certificate",
            DepthZeroSelfSignedCert => "self-signed certificate",
            SelfSignedCertInChain => "self-signed certificate in certificate chain",
            CertHasExpired => "certificate has expired",
            CertNotYetValid => "certificate is not yet valid",
            CertSignatureFailure => "certificate signature failure",
            UnableToDecodeIssuerPublicKey => "unable to decode issuer public key",
            InvalidCa => "invalid CA certificate",
            InvalidPurpose => "unsuitable certificate purpose",
            PathLengthExceeded => "path length constraint exceeded",
            UnhandledCriticalExtension => "unhandled critical extension",
            CertChainTooLong => "certificate chain too long",
            PermittedViolation => "permitted subtree violation",
            CertRejected => "certificate rejected",
        }
    }
}

/// A peer certificate refused the way Node refuses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError {
    /// Node's `err.code` / `authorizationError`: an OpenSSL name (`CERT_HAS_EXPIRED`, ...),
    /// `ERR_TLS_CERT_ALTNAME_INVALID`, or `ERR_CIO_CLIENT_REJECTED`.
    pub code: &'static str,
    /// Node's `err.message`.
    pub message: String,
    /// For `ERR_TLS_CERT_ALTNAME_INVALID`: Node's `err.reason` and `err.host`.
    pub reason: Option<String>,
    pub host: Option<String>,
}

impl From<X509Code> for VerifyError {
    fn from(c: X509Code) -> Self {
        VerifyError {
            code: c.code(),
            message: c.message().to_string(),
            reason: None,
            host: None,
        }
    }
}

impl VerifyError {
    pub fn altname(reason: String, host: &str) -> Self {
        VerifyError {
            code: ERR_ALTNAME_INVALID,
            message: format!("Hostname/IP does not match certificate's altnames: {reason}"),
            reason: Some(reason),
            host: Some(host.to_string()),
        }
    }

    pub fn client_rejected(message: String) -> Self {
        VerifyError {
            code: ERR_CLIENT_REJECTED,
            message,
            reason: None,
            host: None,
        }
    }

    /// Wraps this error so it can travel through rustls and come back out with
    /// [`VerifyError::from_rustls`].
    pub fn into_rustls(self) -> RustlsError {
        RustlsError::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(self))))
    }

    /// The `VerifyError` a cio verifier put into a rustls error, if any.
    pub fn from_rustls(e: &RustlsError) -> Option<&VerifyError> {
        match e {
            RustlsError::InvalidCertificate(CertificateError::Other(OtherError(inner))) => {
                inner.downcast_ref::<VerifyError>()
            }
            _ => None,
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for VerifyError {}

/// Node-like `(code, message)` for a failed handshake, for the socket's `'error'` and the
/// server's `'tlsClientError'`. A cio verifier's own refusal keeps its Node verify code; an
/// alert from the peer gets OpenSSL's `ERR_SSL_*` name as Node reports it.
pub fn handshake_error_code(e: &RustlsError) -> (String, String) {
    if let Some(v) = VerifyError::from_rustls(e) {
        return (v.code.to_string(), v.message.clone());
    }
    let code = match e {
        RustlsError::NoCertificatesPresented => "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE".into(),
        RustlsError::AlertReceived(a) => alert_code(*a),
        RustlsError::NoApplicationProtocol => "ERR_SSL_NO_APPLICATION_PROTOCOL".into(),
        RustlsError::PeerIncompatible(_) => "ERR_SSL_UNSUPPORTED_PROTOCOL".into(),
        RustlsError::InvalidCertificate(_) => "ERR_SSL_CERTIFICATE_VERIFY_FAILED".into(),
        _ => "ERR_SSL_HANDSHAKE_FAILURE".into(),
    };
    (code, e.to_string())
}

fn alert_code(a: AlertDescription) -> String {
    use AlertDescription as A;
    let name = match a {
        A::HandshakeFailure => "SSLV3_ALERT_HANDSHAKE_FAILURE",
        A::BadCertificate => "SSLV3_ALERT_BAD_CERTIFICATE",
        A::UnsupportedCertificate => "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
        A::CertificateRevoked => "SSLV3_ALERT_CERTIFICATE_REVOKED",
        A::CertificateExpired => "SSLV3_ALERT_CERTIFICATE_EXPIRED",
        A::CertificateUnknown => "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
        A::UnknownCA => "TLSV1_ALERT_UNKNOWN_CA",
        A::AccessDenied => "TLSV1_ALERT_ACCESS_DENIED",
        A::DecryptError => "TLSV1_ALERT_DECRYPT_ERROR",
        A::ProtocolVersion => "TLSV1_ALERT_PROTOCOL_VERSION",
        A::InternalError => "TLSV1_ALERT_INTERNAL_ERROR",
        A::UnrecognisedName => "TLSV1_UNRECOGNIZED_NAME",
        A::NoApplicationProtocol => "TLSV1_ALERT_NO_APPLICATION_PROTOCOL",
        A::CertificateRequired => "TLSV13_ALERT_CERTIFICATE_REQUIRED",
        _ => "TLSV1_ALERT_UNKNOWN",
    };
    format!("ERR_SSL_{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_error_survives_a_trip_through_rustls() {
        let e = VerifyError::from(X509Code::CertHasExpired).into_rustls();
        let back = VerifyError::from_rustls(&e).expect("ours");
        assert_eq!(back.code, "CERT_HAS_EXPIRED");
        assert_eq!(handshake_error_code(&e).0, "CERT_HAS_EXPIRED");
    }

    #[test]
    fn missing_client_certificate_maps_to_nodes_codes_on_both_sides() {
        let server = handshake_error_code(&RustlsError::NoCertificatesPresented);
        assert_eq!(server.0, "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE");
        let client = handshake_error_code(&RustlsError::AlertReceived(
            AlertDescription::CertificateRequired,
        ));
        assert_eq!(client.0, "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED");
    }

    #[test]
    fn altname_error_has_nodes_message_prefix() {
        let e = VerifyError::altname("Host: a. is not cert's CN: b".into(), "a");
        assert_eq!(
            e.message,
            "Hostname/IP does not match certificate's altnames: Host: a. is not cert's CN: b"
        );
        assert_eq!(e.host.as_deref(), Some("a"));
    }
}
