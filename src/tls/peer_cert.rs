//! `getPeerCertificate()` in Node's shape, parsed with x509-parser, plus the names other
//! modules match against (CN, DNS/email/IP SANs). Returns plain Rust data; the socket core
//! turns it into a JS object (`Dn` entries with one value become a string, several an array).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use aws_lc_rs::digest;

use super::der;
use rustls_pki_types::CertificateDer;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{X509Certificate, X509Name};
use x509_parser::public_key::PublicKey;

/// A distinguished name as Node shows it: keys in first-seen order, repeated keys collect
/// their values (Node then uses an array).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dn {
    pub entries: Vec<(String, Vec<String>)>,
}

impl Dn {
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }
}

/// Node's legacy certificate object (`tls.TLSSocket#getPeerCertificate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCert {
    pub subject: Dn,
    pub issuer: Dn,
    /// `"DNS:a, IP Address:127.0.0.1, email:x"`; absent without a SAN extension.
    pub subjectaltname: Option<String>,
    pub ca: bool,
    /// RSA only: uppercase hex modulus, bit count, `"0x10001"`-style exponent.
    pub modulus: Option<String>,
    pub bits: Option<u32>,
    pub exponent: Option<String>,
    /// RSA: the SubjectPublicKeyInfo DER; EC: the public point (as Node does).
    pub pubkey: Option<Vec<u8>>,
    /// EC only: `"prime256v1"` / `"P-256"` and the like.
    pub asn1_curve: Option<String>,
    pub nist_curve: Option<String>,
    /// `"Jan  1 00:00:00 2025 GMT"`.
    pub valid_from: String,
    pub valid_to: String,
    /// Colon-separated uppercase hex of SHA-1 / SHA-256 / SHA-512 over the DER.
    pub fingerprint: String,
    pub fingerprint256: String,
    pub fingerprint512: String,
    /// Extended key usage OIDs, when the extension is present.
    pub ext_key_usage: Option<Vec<String>>,
    /// Uppercase hex, as OpenSSL's `BN_bn2hex`.
    pub serial_number: String,
    pub raw: Vec<u8>,
}

/// The names allow/deny lists and host checks look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertNames {
    pub cns: Vec<String>,
    pub dns: Vec<String>,
    pub emails: Vec<String>,
    pub ips: Vec<IpAddr>,
    /// Node's `subjectaltname` string (used in its error messages).
    pub subjectaltname: Option<String>,
}

/// Parses one DER certificate; `None` when it is not X.509.
pub fn peer_certificate(der: &[u8]) -> Option<PeerCert> {
    let (_, x) = x509_parser::parse_x509_certificate(der).ok()?;
    let (modulus, bits, exponent, pubkey, asn1_curve, nist_curve) = key_fields(&x);
    let eku = x
        .extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::ExtendedKeyUsage(_) => Some(eku_oids(e.value)),
            _ => None,
        });
    Some(PeerCert {
        subject: dn(x.subject()),
        issuer: dn(x.issuer()),
        subjectaltname: names_of(&x).subjectaltname,
        ca: matches!(x.basic_constraints(), Ok(Some(b)) if b.value.ca),
        modulus,
        bits,
        exponent,
        pubkey,
        asn1_curve,
        nist_curve,
        valid_from: node_date(x.validity().not_before.timestamp()),
        valid_to: node_date(x.validity().not_after.timestamp()),
        fingerprint: fingerprint(&digest::SHA1_FOR_LEGACY_USE_ONLY, der),
        fingerprint256: fingerprint(&digest::SHA256, der),
        fingerprint512: fingerprint(&digest::SHA512, der),
        ext_key_usage: eku,
        serial_number: serial_hex(x.raw_serial()),
        raw: der.to_vec(),
    })
}

/// Every parsable certificate of the peer's chain, leaf first (for `getPeerCertificate(true)`,
/// whose `issuerCertificate` links the JS layer builds).
pub fn peer_certificate_chain(certs: &[CertificateDer<'_>]) -> Vec<PeerCert> {
    certs
        .iter()
        .filter_map(|c| peer_certificate(c.as_ref()))
        .collect()
}

/// The first subject CN (the client name cio passes to `isClientAllowed`).
pub fn subject_cn(der: &[u8]) -> Option<String> {
    cert_names(der)?.cns.into_iter().next()
}

pub fn cert_names(der: &[u8]) -> Option<CertNames> {
    let (_, x) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(names_of(&x))
}

fn names_of(x: &X509Certificate<'_>) -> CertNames {
    let mut names = CertNames {
        cns: x.subject().iter_common_name().map(attr_string).collect(),
        ..Default::default()
    };
    let Ok(Some(san)) = x.subject_alternative_name() else {
        return names;
    };
    let mut parts = Vec::new();
    for g in &san.value.general_names {
        match g {
            GeneralName::DNSName(s) => {
                names.dns.push(s.to_string());
                parts.push(format!("DNS:{}", alt_value(s)));
            }
            GeneralName::RFC822Name(s) => {
                names.emails.push(s.to_string());
                parts.push(format!("email:{}", alt_value(s)));
            }
            GeneralName::URI(s) => parts.push(format!("URI:{}", alt_value(s))),
            GeneralName::IPAddress(b) => {
                names.ips.extend(ip_from(b));
                parts.push(format!("IP Address:{}", node_ip(b)));
            }
            GeneralName::RegisteredID(oid) => parts.push(format!("Registered ID:{oid}")),
            GeneralName::DirectoryName(n) => parts.push(format!("DirName:{n}")),
            _ => parts.push("othername:<unsupported>".to_string()),
        }
    }
    names.subjectaltname = Some(parts.join(", "));
    names
}

fn ip_from(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
        16 => {
            let mut o = [0u8; 16];
            o.copy_from_slice(b);
            Some(IpAddr::V6(Ipv6Addr::from(o)))
        }
        _ => None,
    }
}

/// Node prints IPv6 SANs as eight uppercase hex groups without compression.
fn node_ip(b: &[u8]) -> String {
    match b.len() {
        4 => format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3]),
        16 => b
            .chunks(2)
            .map(|p| format!("{:X}", (u16::from(p[0]) << 8) | u16::from(p[1])))
            .collect::<Vec<_>>()
            .join(":"),
        _ => "<invalid>".to_string(),
    }
}

/// Node JSON-quotes SAN values holding `"`, `\`, `,`, `'` or non-printable ASCII.
fn alt_value(s: &str) -> String {
    let safe = s
        .bytes()
        .all(|c| !matches!(c, b'"' | b'\\' | b',' | b'\'') && (b' '..=b'~').contains(&c));
    if safe {
        return s.to_string();
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn attr_string(a: &x509_parser::x509::AttributeTypeAndValue<'_>) -> String {
    match a.as_str() {
        Ok(s) => s.to_string(),
        Err(_) => String::from_utf8_lossy(a.attr_value().data).into_owned(),
    }
}

fn dn(name: &X509Name<'_>) -> Dn {
    let mut out = Dn::default();
    for attr in name.iter_attributes() {
        let oid = attr.attr_type().to_id_string();
        let key = short_name(&oid).map(str::to_string).unwrap_or(oid);
        let value = attr_string(attr);
        match out.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => values.push(value),
            None => out.entries.push((key, vec![value])),
        }
    }
    out
}

/// OpenSSL's short names (`OBJ_nid2sn`) for the usual DN attributes.
fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.12" => "title",
        "2.5.4.17" => "postalCode",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return None,
    })
}

type KeyFields = (
    Option<String>,
    Option<u32>,
    Option<String>,
    Option<Vec<u8>>,
    Option<String>,
    Option<String>,
);

fn key_fields(x: &X509Certificate<'_>) -> KeyFields {
    let spki = &x.tbs_certificate.subject_pki;
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            let m = strip_zeros(rsa.modulus);
            let bits = m.first().map(|b| (m.len() as u32) * 8 - b.leading_zeros());
            let e = strip_zeros(rsa.exponent)
                .iter()
                .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            (
                Some(hex(m, "")),
                bits,
                Some(format!("0x{e:x}")),
                Some(spki.raw.to_vec()),
                None,
                None,
            )
        }
        Ok(PublicKey::EC(point)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            let (asn1, nist, bits) = match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => ("prime256v1", "P-256", 256),
                Some("1.3.132.0.34") => ("secp384r1", "P-384", 384),
                Some("1.3.132.0.35") => ("secp521r1", "P-521", 521),
                _ => return (None, None, None, Some(point.data().to_vec()), None, None),
            };
            (
                None,
                Some(bits),
                None,
                Some(point.data().to_vec()),
                Some(asn1.into()),
                Some(nist.into()),
            )
        }
        _ => (None, None, None, None, None, None),
    }
}

fn eku_oids(ext_value: &[u8]) -> Vec<String> {
    // SEQUENCE OF OBJECT IDENTIFIER, kept in the certificate's order like Node.
    let mut out = Vec::new();
    let Some(seq) = der::tlv(ext_value) else {
        return out;
    };
    let mut rest = seq.contents;
    while let Some(t) = der::tlv(rest) {
        if t.tag == 0x06 {
            out.push(der::oid_string(t.contents));
        }
        rest = t.rest;
    }
    out
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let first = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    &b[first..]
}

fn hex(b: &[u8], sep: &str) -> String {
    b.iter()
        .map(|x| format!("{x:02X}"))
        .collect::<Vec<_>>()
        .join(sep)
}

fn fingerprint(alg: &'static digest::Algorithm, der: &[u8]) -> String {
    hex(digest::digest(alg, der).as_ref(), ":")
}

fn serial_hex(raw: &[u8]) -> String {
    let s = strip_zeros(raw);
    if s.is_empty() {
        "00".to_string()
    } else {
        hex(s, "")
    }
}

/// OpenSSL's `ASN1_TIME_print` format, which Node uses: `"Nov  2 03:35:35 2126 GMT"`.
pub fn node_date(unix: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let name = MONTHS[usize::try_from(month - 1).unwrap_or(0)];
    format!(
        "{name} {day:>2} {:02}:{:02}:{:02} {year} GMT",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}
