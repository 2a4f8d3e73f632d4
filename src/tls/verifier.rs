//! rustls adapters over the pure verification: a `ServerCertVerifier` for clients, a
//! `ClientCertVerifier` for servers, handshake-signature checks that also work for X.509 v1
//! certificates, and `authorization()`, which recomputes Node's `authorized` /
//! `authorizationError` after the handshake (with `rejectUnauthorized: false` the verifiers
//! accept everything during the handshake, as Node does, and the socket reports afterwards).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls13_signature_with_raw_key, WebPkiSupportedAlgorithms};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, Error, PeerMisbehaved,
    SignatureScheme,
};
use rustls_pki_types::{CertificateDer, ServerName, SubjectPublicKeyInfoDer, UnixTime};

use super::authz::{AuthzError, AuthzPolicy};
use super::der;
use super::error::VerifyError;
use super::identity::check_server_identity;
use super::peer_cert::{cert_names, CertNames};
use super::verify::{verify_chain, Purpose, TrustStore};

/// Everything a verifier decides with; built once per config and shared.
#[derive(Debug)]
pub struct VerifyPolicy {
    pub store: Arc<TrustStore>,
    /// `ServerAuth` in a client's policy, `ClientAuth` in a server's.
    pub purpose: Purpose,
    pub reject_unauthorized: bool,
    /// Server: `requestCert`.
    pub request_cert: bool,
    /// Client: check the host name in the handshake (false when JS supplies its own
    /// `checkServerIdentity`, which then runs after the handshake).
    pub check_identity: bool,
    /// Server: `allowClients` / `denyClients`.
    pub authz: AuthzPolicy,
    pub algs: WebPkiSupportedAlgorithms,
}

/// Node's `authorized`/`authorizationError` for a finished handshake: `Ok` = authorized.
/// `server_name` is the host a client checks (`servername || host`); `None` on a server.
/// A server that did not `requestCert` reports `authorized: false, authorizationError: null`
/// without calling this.
pub fn authorization(
    peer_certs: &[CertificateDer<'_>],
    policy: &VerifyPolicy,
    server_name: Option<&str>,
) -> Result<(), VerifyError> {
    verify_chain(
        peer_certs,
        &policy.store,
        policy.purpose,
        UnixTime::now(),
        &policy.algs,
    )?;
    if let (Purpose::ServerAuth, true, Some(host), Some(leaf)) = (
        policy.purpose,
        policy.check_identity,
        server_name,
        peer_certs.first(),
    ) {
        check_server_identity(host, leaf.as_ref())?;
    }
    Ok(())
}

impl VerifyPolicy {
    /// The allow/deny decision for a client chain. A client that fails chain verification
    /// never satisfies an allow list (its names are unproven); deny lists always apply.
    pub fn authz_check(
        &self,
        chain: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<Option<String>, VerifyError> {
        let names: Option<CertNames> = chain.first().and_then(|c| cert_names(c.as_ref()));
        let decided = self
            .authz
            .check(names.as_ref())
            .map_err(|e| VerifyError::client_rejected(e.message()))?;
        if !self.authz.allow.is_empty() {
            if let Err(e) = verify_chain(chain, &self.store, Purpose::ClientAuth, now, &self.algs) {
                let name = decided.clone().unwrap_or_default();
                let why = AuthzError::NotAllowed { name }.message();
                return Err(VerifyError::client_rejected(format!(
                    "{why}: certificate not verified ({})",
                    e.code
                )));
            }
        }
        Ok(decided)
    }
}

fn chain_of<'a>(
    end_entity: &CertificateDer<'a>,
    intermediates: &[CertificateDer<'a>],
) -> Vec<CertificateDer<'a>> {
    let mut chain = Vec::with_capacity(1 + intermediates.len());
    chain.push(end_entity.clone());
    chain.extend(intermediates.iter().cloned());
    chain
}

/// A client's verifier of the server certificate.
#[derive(Debug)]
pub struct NodeServerVerifier {
    pub policy: Arc<VerifyPolicy>,
}

impl ServerCertVerifier for NodeServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        if !self.policy.reject_unauthorized {
            return Ok(ServerCertVerified::assertion());
        }
        let p = &self.policy;
        verify_chain(
            &chain_of(end_entity, intermediates),
            &p.store,
            Purpose::ServerAuth,
            now,
            &p.algs,
        )
        .map_err(VerifyError::into_rustls)?;
        if p.check_identity {
            check_server_identity(&server_name.to_str(), end_entity.as_ref())
                .map_err(VerifyError::into_rustls)?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12(message, cert, dss, &self.policy.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13(message, cert, dss, &self.policy.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.policy.algs.supported_schemes()
    }
}

/// A server's verifier of client certificates (`requestCert`, allow/deny lists).
#[derive(Debug)]
pub struct NodeClientVerifier {
    pub policy: Arc<VerifyPolicy>,
    hints: Vec<DistinguishedName>,
}

impl NodeClientVerifier {
    pub fn new(policy: Arc<VerifyPolicy>) -> Self {
        let hints = policy.store.subjects();
        NodeClientVerifier { policy, hints }
    }
}

impl ClientCertVerifier for NodeClientVerifier {
    fn offer_client_auth(&self) -> bool {
        self.policy.request_cert || !self.policy.authz.is_empty()
    }

    fn client_auth_mandatory(&self) -> bool {
        let p = &self.policy;
        (p.request_cert && p.reject_unauthorized) || !p.authz.allow.is_empty()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let p = &self.policy;
        let chain = chain_of(end_entity, intermediates);
        if p.request_cert && p.reject_unauthorized {
            verify_chain(&chain, &p.store, Purpose::ClientAuth, now, &p.algs)
                .map_err(VerifyError::into_rustls)?;
        }
        if !p.authz.is_empty() {
            p.authz_check(&chain, now)
                .map_err(VerifyError::into_rustls)?;
        }
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12(message, cert, dss, &self.policy.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13(message, cert, dss, &self.policy.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.policy.algs.supported_schemes()
    }
}

/// The certificate's SubjectPublicKeyInfo via x509-parser (rustls's own helpers go through
/// webpki, which refuses X.509 v1 certificates).
fn spki_of(cert: &CertificateDer<'_>) -> Result<Vec<u8>, Error> {
    x509_parser::parse_x509_certificate(cert.as_ref())
        .map(|(_, x)| x.tbs_certificate.subject_pki.raw.to_vec())
        .map_err(|_| Error::InvalidCertificate(CertificateError::BadEncoding))
}

/// TLS 1.2 handshake signature: every provider algorithm mapped to the scheme whose public
/// key type matches the certificate's key.
pub fn verify_tls12(
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
    algs: &WebPkiSupportedAlgorithms,
) -> Result<HandshakeSignatureValid, Error> {
    let candidates = algs
        .mapping
        .iter()
        .find(|(scheme, _)| *scheme == dss.scheme)
        .map(|(_, a)| *a)
        .ok_or(Error::PeerMisbehaved(
            PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme,
        ))?;
    let spki = spki_of(cert)?;
    let (key_alg, key) =
        der::spki_parts(&spki).ok_or(Error::InvalidCertificate(CertificateError::BadEncoding))?;
    for alg in candidates
        .iter()
        .filter(|a| a.public_key_alg_id().as_ref() == key_alg)
    {
        if alg.verify_signature(key, message, dss.signature()).is_ok() {
            return Ok(HandshakeSignatureValid::assertion());
        }
    }
    Err(Error::InvalidCertificate(CertificateError::BadSignature))
}

/// TLS 1.3 handshake signature, with the key taken from the certificate by x509-parser.
pub fn verify_tls13(
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
    algs: &WebPkiSupportedAlgorithms,
) -> Result<HandshakeSignatureValid, Error> {
    let spki = spki_of(cert)?;
    verify_tls13_signature_with_raw_key(
        message,
        &SubjectPublicKeyInfoDer::from(spki.as_slice()),
        dss,
        algs,
    )
}
