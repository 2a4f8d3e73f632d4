//! A minimal DER reader: just enough to split a certificate into (tbs, signature algorithm,
//! signature) and a SubjectPublicKeyInfo into (algorithm, key bits), the byte slices webpki's
//! `SignatureVerificationAlgorithm`s take. x509-parser does the real parsing elsewhere.

/// One TLV: (tag, contents, rest after it, the whole TLV).
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub contents: &'a [u8],
    pub whole: &'a [u8],
    pub rest: &'a [u8],
}

pub(crate) fn tlv(input: &[u8]) -> Option<Tlv<'_>> {
    let tag = *input.first()?;
    let first = *input.get(1)?;
    let (len, hdr) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *input.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = hdr.checked_add(len)?;
    if end > input.len() {
        return None;
    }
    Some(Tlv {
        tag,
        contents: &input[hdr..end],
        whole: &input[..end],
        rest: &input[end..],
    })
}

const SEQUENCE: u8 = 0x30;
const BIT_STRING: u8 = 0x03;

/// A certificate's signed parts: the whole TBSCertificate TLV, the contents of the signature
/// AlgorithmIdentifier, and the signature bits.
pub(crate) struct SignedParts<'a> {
    pub tbs: &'a [u8],
    pub sig_alg: &'a [u8],
    pub signature: &'a [u8],
}

pub(crate) fn signed_parts(cert_der: &[u8]) -> Option<SignedParts<'_>> {
    let outer = tlv(cert_der).filter(|t| t.tag == SEQUENCE)?;
    let tbs = tlv(outer.contents).filter(|t| t.tag == SEQUENCE)?;
    let alg = tlv(tbs.rest).filter(|t| t.tag == SEQUENCE)?;
    let sig = tlv(alg.rest).filter(|t| t.tag == BIT_STRING)?;
    Some(SignedParts {
        tbs: tbs.whole,
        sig_alg: alg.contents,
        signature: bit_string_bytes(sig.contents)?,
    })
}

/// A SubjectPublicKeyInfo's AlgorithmIdentifier contents and the key bits.
pub(crate) fn spki_parts(spki_der: &[u8]) -> Option<(&[u8], &[u8])> {
    let outer = tlv(spki_der).filter(|t| t.tag == SEQUENCE)?;
    let alg = tlv(outer.contents).filter(|t| t.tag == SEQUENCE)?;
    let key = tlv(alg.rest).filter(|t| t.tag == BIT_STRING)?;
    Some((alg.contents, bit_string_bytes(key.contents)?))
}

/// Dotted form of an OBJECT IDENTIFIER's contents.
pub(crate) fn oid_string(contents: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for b in contents {
        acc = (acc << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (acc / 40).min(2);
                arcs.push(first);
                arcs.push(acc - first * 40);
            } else {
                arcs.push(acc);
            }
            acc = 0;
        }
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

fn bit_string_bytes(contents: &[u8]) -> Option<&[u8]> {
    match contents.split_first() {
        Some((0, bytes)) => Some(bytes),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths_and_refuses_truncation() {
        let short = [0x04, 0x02, 0xAA, 0xBB, 0xFF];
        let t = tlv(&short).expect("short form");
        assert_eq!(
            (t.tag, t.contents, t.rest),
            (4, &[0xAA, 0xBB][..], &[0xFF][..])
        );
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend(std::iter::repeat_n(7, 0x80));
        assert_eq!(tlv(&long).expect("long form").contents.len(), 0x80);
        assert!(tlv(&[0x04, 0x05, 1, 2]).is_none());
        assert!(tlv(&[0x04, 0x85, 1, 1, 1, 1, 1]).is_none());
    }

    #[test]
    fn decodes_oids_to_dotted_form() {
        assert_eq!(
            oid_string(&[0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01]),
            "1.3.6.1.5.5.7.3.1"
        );
        assert_eq!(
            oid_string(&[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x01]),
            "1.2.840.113549.1.9.1"
        );
    }
}
