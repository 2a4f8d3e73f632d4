//! Building the rustls configs, once per `server()`/`client()` options and shared as `Arc`
//! (no PEM parsing on the accept/connect path). The only place that calls
//! `ServerConfig::builder*` / `ClientConfig::builder*`. Crypto provider: aws-lc-rs.

use std::sync::{Arc, OnceLock};

use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::server::NoServerSessionStorage;
use rustls::sign::SingleCertAndKey;
use rustls::{ClientConfig, ServerConfig, SupportedProtocolVersion};

use super::authz::AuthzPolicy;
use super::error::{
    TlsError, ERR_CONFIG, ERR_INVALID_PROTOCOL_VERSION, ERR_UNSUPPORTED_OPTION,
};
use super::material::{load_material, Material, MaterialSources};
use super::verifier::{NodeClientVerifier, NodeServerVerifier, VerifyPolicy};
use super::verify::{Purpose, TrustStore};

/// The process-wide crypto provider (aws-lc-rs).
pub fn provider() -> Arc<CryptoProvider> {
    static P: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    P.get_or_init(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .clone()
}

/// `tls.createServer`-style options (cio's option names in comments).
#[derive(Debug, Clone)]
pub struct ServerTlsOptions {
    /// `key`/`private`, `cert`/`public`, `ca`/`root`.
    pub material: MaterialSources,
    /// `requestCert` (default false).
    pub request_cert: bool,
    /// `rejectUnauthorized` (default true).
    pub reject_unauthorized: bool,
    /// `ALPNProtocols`, in preference order.
    pub alpn_protocols: Vec<Vec<u8>>,
    /// `minVersion` / `maxVersion`: `"TLSv1.2"` or `"TLSv1.3"`.
    pub min_version: Option<String>,
    pub max_version: Option<String>,
    /// Session tickets + a session cache (default true, like Node's servers).
    pub session_resumption: bool,
    /// `allowClients` / `denyClients`.
    pub authz: AuthzPolicy,
}

impl Default for ServerTlsOptions {
    fn default() -> Self {
        ServerTlsOptions {
            material: MaterialSources::default(),
            request_cert: false,
            reject_unauthorized: true,
            alpn_protocols: Vec::new(),
            min_version: None,
            max_version: None,
            session_resumption: true,
            authz: AuthzPolicy::default(),
        }
    }
}

/// `tls.connect`-style options. `servername`/`host` are given per connection (the
/// `ServerName` passed to the connector, `servername || host`, is also the host checked).
#[derive(Debug, Clone)]
pub struct ClientTlsOptions {
    pub material: MaterialSources,
    /// `rejectUnauthorized` (default true).
    pub reject_unauthorized: bool,
    /// false when the user gave a `checkServerIdentity` function (JS runs it after the
    /// handshake); default true.
    pub check_server_identity: bool,
    pub alpn_protocols: Vec<Vec<u8>>,
    pub min_version: Option<String>,
    pub max_version: Option<String>,
    /// Resume sessions with servers this config already talked to (default true).
    pub session_resumption: bool,
}

impl Default for ClientTlsOptions {
    fn default() -> Self {
        ClientTlsOptions {
            material: MaterialSources::default(),
            reject_unauthorized: true,
            check_server_identity: true,
            alpn_protocols: Vec::new(),
            min_version: None,
            max_version: None,
            session_resumption: true,
        }
    }
}

/// A built server config and the policy `authorization()` needs after each handshake.
#[derive(Debug, Clone)]
pub struct ServerTls {
    pub config: Arc<ServerConfig>,
    pub policy: Arc<VerifyPolicy>,
    /// False for a server made without `key`/`cert` (Node makes one; every handshake fails).
    pub has_cert: bool,
    /// Whether TLS 1.3 is among the server's versions (which OpenSSL error a certless
    /// server reports depends on the version it would have negotiated).
    pub tls13: bool,
}

/// The certificate resolver of a server without `key`/`cert`: it never has one, so rustls
/// refuses any handshake that reaches it (cio refuses the ClientHello before, see
/// `runtime::secure`).
#[derive(Debug)]
struct NoCertificate;

impl rustls::server::ResolvesServerCert for NoCertificate {
    fn resolve(&self, _hello: rustls::server::ClientHello<'_>) -> Option<Arc<rustls::sign::CertifiedKey>> {
        None
    }
}

#[derive(Debug, Clone)]
pub struct ClientTls {
    pub config: Arc<ClientConfig>,
    pub policy: Arc<VerifyPolicy>,
}

/// Node's `minVersion`/`maxVersion` → rustls versions. Node's other valid names (TLSv1,
/// TLSv1.1) are refused as unsupported; anything else is Node's invalid-version error.
pub fn protocol_versions(
    min: Option<&str>,
    max: Option<&str>,
) -> Result<Vec<&'static SupportedProtocolVersion>, TlsError> {
    fn rank(option: &str, v: &str) -> Result<u8, TlsError> {
        match v {
            "TLSv1.2" => Ok(2),
            "TLSv1.3" => Ok(3),
            "TLSv1" | "TLSv1.1" => Err(TlsError::new(
                ERR_UNSUPPORTED_OPTION,
                format!("{option} '{v}' is not supported (cio supports TLSv1.2 and TLSv1.3)"),
            )),
            _ => Err(TlsError::new(
                ERR_INVALID_PROTOCOL_VERSION,
                format!(
                    "\"{v}\" is not a valid {} TLS protocol version",
                    if option == "minVersion" {
                        "minimum"
                    } else {
                        "maximum"
                    }
                ),
            )),
        }
    }
    let lo = min.map(|v| rank("minVersion", v)).transpose()?.unwrap_or(2);
    let hi = max.map(|v| rank("maxVersion", v)).transpose()?.unwrap_or(3);
    if lo > hi {
        return Err(TlsError::new(
            ERR_UNSUPPORTED_OPTION,
            format!(
                "minVersion {} is above maxVersion {}",
                min.unwrap_or("TLSv1.2"),
                max.unwrap_or("TLSv1.3")
            ),
        ));
    }
    let mut out = Vec::new();
    if hi >= 3 {
        out.push(&rustls::version::TLS13);
    }
    if lo <= 2 {
        out.push(&rustls::version::TLS12);
    }
    Ok(out)
}

fn store_for(material: &Material) -> Result<Arc<TrustStore>, TlsError> {
    // A `ca` given replaces the system roots even when it held no certificate (Node's too).
    if !material.ca_given {
        Ok(TrustStore::system())
    } else {
        Ok(Arc::new(TrustStore::from_certs(material.ca.clone())?))
    }
}

fn config_error(e: rustls::Error) -> TlsError {
    TlsError::new(ERR_CONFIG, format!("TLS configuration rejected: {e}"))
}

pub fn build_server_config(opts: &ServerTlsOptions) -> Result<ServerTls, TlsError> {
    let provider = provider();
    let versions = protocol_versions(opts.min_version.as_deref(), opts.max_version.as_deref())?;
    let material = load_material(&opts.material, &provider)?;
    // Without key and cert the server is still made, as Node's is: each handshake fails
    // (`ServerTls::has_cert`; `runtime::secure` refuses the ClientHello as OpenSSL does).
    let certified = material.certified.clone();
    let has_cert = certified.is_some();
    let policy = Arc::new(VerifyPolicy {
        store: store_for(&material)?,
        purpose: Purpose::ClientAuth,
        reject_unauthorized: opts.reject_unauthorized,
        request_cert: opts.request_cert,
        check_identity: false,
        authz: opts.authz.clone(),
        algs: provider.signature_verification_algorithms,
    });
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(config_error)?;
    let builder = if opts.request_cert || !opts.authz.is_empty() {
        builder.with_client_cert_verifier(Arc::new(NodeClientVerifier::new(policy.clone())))
    } else {
        builder.with_no_client_auth()
    };
    let mut config = match certified {
        Some(ck) => builder.with_cert_resolver(Arc::new(SingleCertAndKey::from(ck))),
        None => builder.with_cert_resolver(Arc::new(NoCertificate)),
    };
    config.alpn_protocols = opts.alpn_protocols.clone();
    if opts.session_resumption {
        config.ticketer = rustls::crypto::aws_lc_rs::Ticketer::new().map_err(config_error)?;
    } else {
        config.session_storage = Arc::new(NoServerSessionStorage {});
        config.send_tls13_tickets = 0;
    }
    Ok(ServerTls {
        config: Arc::new(config),
        policy,
        has_cert,
        tls13: versions.iter().any(|v| v.version == rustls::ProtocolVersion::TLSv1_3),
    })
}

pub fn build_client_config(opts: &ClientTlsOptions) -> Result<ClientTls, TlsError> {
    let provider = provider();
    let versions = protocol_versions(opts.min_version.as_deref(), opts.max_version.as_deref())?;
    let material = load_material(&opts.material, &provider)?;
    let policy = Arc::new(VerifyPolicy {
        store: store_for(&material)?,
        purpose: Purpose::ServerAuth,
        reject_unauthorized: opts.reject_unauthorized,
        request_cert: false,
        check_identity: opts.check_server_identity,
        authz: AuthzPolicy::default(),
        algs: provider.signature_verification_algorithms,
    });
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(config_error)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(NodeServerVerifier {
            policy: policy.clone(),
        }));
    let mut config = match material.certified {
        Some(ck) => builder.with_client_cert_resolver(Arc::new(SingleCertAndKey::from(ck))),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = opts.alpn_protocols.clone();
    if !opts.session_resumption {
        config.resumption = Resumption::disabled();
    }
    Ok(ClientTls {
        config: Arc::new(config),
        policy,
    })
}
