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

/// Node's `(code, message)` for an OpenSSL error: the code is `ERR_SSL_` and the reason in
/// capitals (as Node derives it), the message OpenSSL's `library:function:reason` part.
fn openssl(func: &str, reason: &str) -> (String, String) {
    let code = format!(
        "ERR_SSL_{}",
        reason.to_ascii_uppercase().replace([' ', '-'], "_")
    );
    (code, format!("SSL routines:{func}:{reason}"))
}

/// Node-like `(code, message)` for a failed handshake or a TLS failure after it, for the
/// socket's `'error'` and the server's `'tlsClientError'`. A cio verifier's own refusal keeps
/// its Node verify code; everything with an OpenSSL counterpart gets OpenSSL's reason, as Node
/// reports it (`ERR_SSL_<REASON>`, message `SSL routines:<function>:<reason>`); the rest
/// keeps rustls's message under `ERR_SSL_HANDSHAKE_FAILURE`.
pub fn handshake_error_code(e: &RustlsError) -> (String, String) {
    use rustls::InvalidMessage as M;
    if let Some(v) = VerifyError::from_rustls(e) {
        return (v.code.to_string(), v.message.clone());
    }
    match e {
        RustlsError::NoCertificatesPresented => {
            openssl("tls_process_client_certificate", "peer did not return a certificate")
        }
        RustlsError::AlertReceived(a) => match alert_reason(*a) {
            Some(reason) => {
                let (code, message) = openssl("ssl3_read_bytes", reason);
                (code, format!("{message}:SSL alert number {}", u8::from(*a)))
            }
            None => (
                "ERR_SSL_TLSV1_ALERT_UNKNOWN".into(),
                format!("{e} (SSL alert number {})", u8::from(*a)),
            ),
        },
        RustlsError::NoApplicationProtocol => openssl("tls_handle_alpn", "no application protocol"),
        RustlsError::PeerIncompatible(_) => ("ERR_SSL_UNSUPPORTED_PROTOCOL".into(), e.to_string()),
        RustlsError::InvalidCertificate(_) => {
            openssl("tls_post_process_server_certificate", "certificate verify failed")
        }
        // A record whose authentication tag does not verify (a corrupted or forged record).
        RustlsError::DecryptError => openssl("ssl3_get_record", "decryption failed or bad record mac"),
        // Bytes that are not a TLS record: OpenSSL reads the record header's version first.
        RustlsError::InvalidMessage(M::InvalidContentType | M::UnknownProtocolVersion) => {
            openssl("ssl3_get_record", "wrong version number")
        }
        RustlsError::InvalidMessage(M::MessageTooLarge) => {
            openssl("ssl3_get_record", "packet length too long")
        }
        _ => ("ERR_SSL_HANDSHAKE_FAILURE".into(), e.to_string()),
    }
}

/// Whether a connection runs TLS 1.2 with an AES-GCM suite (`suite` as rustls names it): there
/// OpenSSL reports a record that does not decrypt from its GCM provider, not as a bad MAC.
pub fn is_tls12_aes_gcm(tls12: bool, suite: &str) -> bool {
    tls12 && suite.contains("_AES_") && suite.contains("_GCM_")
}

/// Like [`handshake_error_code`], for a failure on an established connection: in TLS 1.2 with
/// AES-GCM (`tls12_aes_gcm`) a record that does not decrypt is OpenSSL's "cipher operation
/// failed" (Node 20: `ERR_SSL_CIPHER_OPERATION_FAILED`), in TLS 1.3 and with ChaCha20 its
/// "decryption failed or bad record mac".
pub fn record_error_code(e: &RustlsError, tls12_aes_gcm: bool) -> (String, String) {
    if tls12_aes_gcm && matches!(e, RustlsError::DecryptError) {
        return (
            "ERR_SSL_CIPHER_OPERATION_FAILED".into(),
            "Provider routines:ossl_gcm_stream_update:cipher operation failed".into(),
        );
    }
    handshake_error_code(e)
}

/// The plaintext fatal `handshake_failure` alert record (what OpenSSL sends when it cannot
/// serve a ClientHello).
pub const HANDSHAKE_FAILURE_ALERT: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];

/// The alert record to send instead of rustls's on a TLS 1.2 connection, where rustls would
/// send a TLS 1.3 alert: `certificate_required` for a missing client certificate becomes
/// OpenSSL's `handshake_failure` (the peer's error then reads as Node's does).
pub fn tls12_alert_instead(e: &RustlsError) -> Option<[u8; 7]> {
    match e {
        RustlsError::NoCertificatesPresented => Some(HANDSHAKE_FAILURE_ALERT),
        _ => None,
    }
}

/// The same as [`tls12_alert_instead`] for an outgoing record written by a driver cio does not
/// run (tokio-rustls): a plaintext `certificate_required` alert record (plaintext alerts with
/// it exist only in TLS 1.2; TLS 1.3 encrypts its alerts) becomes `handshake_failure`.
pub fn tls12_alert_record_instead(record: &[u8]) -> Option<[u8; 7]> {
    let required = u8::from(AlertDescription::CertificateRequired);
    (record == [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, required]).then_some(HANDSHAKE_FAILURE_ALERT)
}

/// The server's error for a handshake it cannot serve because it has no certificate, as
/// OpenSSL reports it: no signature algorithm to sign with in TLS 1.3, no cipher suite usable
/// without a certificate in TLS 1.2.
pub fn no_certificate_error(tls13: bool) -> (String, String) {
    if tls13 {
        openssl("tls_choose_sigalg", "no suitable signature algorithm")
    } else {
        openssl("tls_post_process_client_hello", "no shared cipher")
    }
}

/// OpenSSL's reason for a received alert (`SSL_R_SSLV3_ALERT_*`/`SSL_R_TLSV1_ALERT_*`).
fn alert_reason(a: AlertDescription) -> Option<&'static str> {
    use AlertDescription as A;
    Some(match a {
        A::UnexpectedMessage => "sslv3 alert unexpected message",
        A::BadRecordMac => "sslv3 alert bad record mac",
        A::DecryptionFailed => "tlsv1 alert decryption failed",
        A::RecordOverflow => "tlsv1 alert record overflow",
        A::DecompressionFailure => "sslv3 alert decompression failure",
        A::HandshakeFailure => "sslv3 alert handshake failure",
        A::NoCertificate => "sslv3 alert no certificate",
        A::BadCertificate => "sslv3 alert bad certificate",
        A::UnsupportedCertificate => "sslv3 alert unsupported certificate",
        A::CertificateRevoked => "sslv3 alert certificate revoked",
        A::CertificateExpired => "sslv3 alert certificate expired",
        A::CertificateUnknown => "sslv3 alert certificate unknown",
        A::IllegalParameter => "sslv3 alert illegal parameter",
        A::UnknownCA => "tlsv1 alert unknown ca",
        A::AccessDenied => "tlsv1 alert access denied",
        A::DecodeError => "tlsv1 alert decode error",
        A::DecryptError => "tlsv1 alert decrypt error",
        A::ExportRestriction => "tlsv1 alert export restriction",
        A::ProtocolVersion => "tlsv1 alert protocol version",
        A::InsufficientSecurity => "tlsv1 alert insufficient security",
        A::InternalError => "tlsv1 alert internal error",
        A::InappropriateFallback => "tlsv1 alert inappropriate fallback",
        A::UserCanceled => "tlsv1 alert user cancelled",
        A::NoRenegotiation => "tlsv1 alert no renegotiation",
        A::UnsupportedExtension => "tlsv1 unsupported extension",
        A::CertificateUnobtainable => "tlsv1 certificate unobtainable",
        A::UnrecognisedName => "tlsv1 unrecognized name",
        A::BadCertificateStatusResponse => "tlsv1 bad certificate status response",
        A::BadCertificateHashValue => "tlsv1 bad certificate hash value",
        A::UnknownPSKIdentity => "tlsv1 alert unknown psk identity",
        A::CertificateRequired => "tlsv13 alert certificate required",
        A::NoApplicationProtocol => "tlsv1 alert no application protocol",
        _ => return None,
    })
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
    fn failures_after_the_handshake_get_openssls_reasons() {
        let (code, message) = handshake_error_code(&RustlsError::DecryptError);
        assert_eq!(code, "ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC");
        assert_eq!(message, "SSL routines:ssl3_get_record:decryption failed or bad record mac");
        let (code, message) =
            handshake_error_code(&RustlsError::AlertReceived(AlertDescription::BadRecordMac));
        assert_eq!(code, "ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC");
        assert!(message.ends_with(":SSL alert number 20"), "{message}");
        let hs = handshake_error_code(&RustlsError::AlertReceived(AlertDescription::HandshakeFailure));
        assert_eq!(hs.0, "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE");
        assert_eq!(
            handshake_error_code(&RustlsError::AlertReceived(AlertDescription::UnknownCA)).0,
            "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA"
        );
        assert_eq!(
            handshake_error_code(&RustlsError::AlertReceived(AlertDescription::Unknown(200))).0,
            "ERR_SSL_TLSV1_ALERT_UNKNOWN"
        );
    }

    #[test]
    fn a_record_that_does_not_decrypt_in_tls12_gcm_is_a_cipher_operation_failure() {
        let gcm = is_tls12_aes_gcm(true, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
        assert!(gcm);
        assert!(!is_tls12_aes_gcm(true, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"));
        assert!(!is_tls12_aes_gcm(false, "TLS13_AES_256_GCM_SHA384"));
        assert_eq!(record_error_code(&RustlsError::DecryptError, true).0, "ERR_SSL_CIPHER_OPERATION_FAILED");
        assert_eq!(
            record_error_code(&RustlsError::DecryptError, false).0,
            "ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC"
        );
        let alert = RustlsError::AlertReceived(AlertDescription::BadRecordMac);
        assert_eq!(record_error_code(&alert, true), handshake_error_code(&alert));
    }

    #[test]
    fn no_tls13_alert_for_a_missing_client_certificate_in_tls12() {
        assert_eq!(
            tls12_alert_instead(&RustlsError::NoCertificatesPresented),
            Some(HANDSHAKE_FAILURE_ALERT)
        );
        assert_eq!(tls12_alert_instead(&RustlsError::DecryptError), None);
        assert_eq!(
            tls12_alert_record_instead(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 116]),
            Some(HANDSHAKE_FAILURE_ALERT)
        );
        assert_eq!(tls12_alert_record_instead(&[0x17, 0x03, 0x03, 0x00, 0x02, 0x02, 116]), None);
        assert_eq!(tls12_alert_record_instead(&HANDSHAKE_FAILURE_ALERT), None);
    }

    #[test]
    fn bytes_that_are_not_tls_are_a_wrong_version_number() {
        let e = RustlsError::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
        let (code, message) = handshake_error_code(&e);
        assert_eq!(code, "ERR_SSL_WRONG_VERSION_NUMBER");
        assert_eq!(message, "SSL routines:ssl3_get_record:wrong version number");
    }

    #[test]
    fn a_server_without_certificate_fails_as_openssl_does() {
        assert_eq!(no_certificate_error(true).0, "ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM");
        assert_eq!(no_certificate_error(false).0, "ERR_SSL_NO_SHARED_CIPHER");
        assert_eq!(HANDSHAKE_FAILURE_ALERT[0], 0x15); // alert record
        assert_eq!(HANDSHAKE_FAILURE_ALERT[6], u8::from(AlertDescription::HandshakeFailure));
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
