//! Reading the one thing cio needs from a raw ClientHello that rustls does not expose: whether
//! the client offers TLS 1.3 (its `supported_versions` extension). Pure: bytes in, answer out.

/// The handshake bytes carried by the leading handshake records of `records` (a ClientHello
/// may span several records).
fn handshake_bytes(mut records: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while records.len() >= 5 && records[0] == 22 {
        let len = u16::from_be_bytes([records[3], records[4]]) as usize;
        let end = (5 + len).min(records.len());
        out.extend_from_slice(&records[5..end]);
        records = &records[end..];
    }
    out
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<usize> {
        self.take(1).map(|b| b[0] as usize)
    }
    fn u16(&mut self) -> Option<usize> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
    }
}

/// The `supported_versions` of a ClientHello, `None` when it is malformed or has none.
fn supported_versions(records: &[u8]) -> Option<Vec<u16>> {
    let hs = handshake_bytes(records);
    let mut r = Reader(&hs);
    if r.u8()? != 1 {
        return None; // not a ClientHello
    }
    let len = r.take(3)?;
    let len = ((len[0] as usize) << 16) | ((len[1] as usize) << 8) | len[2] as usize;
    let mut r = Reader(r.take(len)?);
    r.take(2 + 32)?; // legacy_version, random
    let n = r.u8()?;
    r.take(n)?; // session id
    let n = r.u16()?;
    r.take(n)?; // cipher suites
    let n = r.u8()?;
    r.take(n)?; // compression methods
    let n = r.u16()?;
    let mut ext = Reader(r.take(n)?);
    while !ext.0.is_empty() {
        let kind = ext.u16()?;
        let n = ext.u16()?;
        let data = ext.take(n)?;
        if kind == 0x002b {
            let mut v = Reader(data);
            let n = v.u8()?;
            let list = v.take(n)?;
            return Some(list.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect());
        }
    }
    None
}

/// Whether the ClientHello at the start of `records` offers TLS 1.3.
pub fn offers_tls13(records: &[u8]) -> bool {
    supported_versions(records).is_some_and(|v| v.contains(&0x0304))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn hello(versions: &[&'static rustls::SupportedProtocolVersion]) -> Vec<u8> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        let mut conn = rustls::ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap()).unwrap();
        let mut out = Vec::new();
        conn.write_tls(&mut out).unwrap();
        out
    }

    #[test]
    fn tells_a_tls13_client_hello_from_a_tls12_only_one() {
        assert!(offers_tls13(&hello(&[&rustls::version::TLS13, &rustls::version::TLS12])));
        assert!(!offers_tls13(&hello(&[&rustls::version::TLS12])));
    }

    #[test]
    fn truncated_or_foreign_bytes_do_not_offer_tls13() {
        let h = hello(&[&rustls::version::TLS13]);
        assert!(!offers_tls13(&h[..h.len() / 2]));
        assert!(!offers_tls13(b"GET / HTTP/1.1\r\n\r\n"));
        assert!(!offers_tls13(&[]));
    }
}
