//! Additional checksums (Amazon S3 User Guide, "Checking object integrity"): CRC32, CRC32C,
//! CRC64NVME, SHA-1 and SHA-256. Values travel base64 encoded, CRCs as big-endian integers.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use crc::{Crc, Table};
use sha1::Digest;

static CRC32C: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&crc::CRC_32_ISCSI);
static CRC64NVME: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&crc::CRC_64_NVME);

/// A checksum algorithm S3 accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Algorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl Algorithm {
    pub(crate) const ALL: [Algorithm; 5] = [
        Algorithm::Crc32,
        Algorithm::Crc32c,
        Algorithm::Crc64Nvme,
        Algorithm::Sha1,
        Algorithm::Sha256,
    ];

    /// Parses an algorithm name in any case (`CRC32`, `crc64nvme`, …).
    pub(crate) fn from_name(name: &str) -> Option<Algorithm> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The S3 spelling: `CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`, `SHA256`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "CRC32",
            Algorithm::Crc32c => "CRC32C",
            Algorithm::Crc64Nvme => "CRC64NVME",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
        }
    }

    /// The header that carries the value: `x-amz-checksum-crc32`, …
    pub(crate) fn header(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "x-amz-checksum-crc32",
            Algorithm::Crc32c => "x-amz-checksum-crc32c",
            Algorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Algorithm::Sha1 => "x-amz-checksum-sha1",
            Algorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The XML element of the value: `ChecksumCRC32`, …
    pub(crate) fn element(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "ChecksumCRC32",
            Algorithm::Crc32c => "ChecksumCRC32C",
            Algorithm::Crc64Nvme => "ChecksumCRC64NVME",
            Algorithm::Sha1 => "ChecksumSHA1",
            Algorithm::Sha256 => "ChecksumSHA256",
        }
    }

    /// Length of the raw digest in bytes.
    pub(crate) fn digest_len(self) -> usize {
        match self {
            Algorithm::Crc32 | Algorithm::Crc32c => 4,
            Algorithm::Crc64Nvme => 8,
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
        }
    }

    pub(crate) fn hasher(self) -> Hasher {
        match self {
            Algorithm::Crc32 => Hasher::Crc32(crc32fast::Hasher::new()),
            Algorithm::Crc32c => Hasher::Crc32c(CRC32C.digest()),
            Algorithm::Crc64Nvme => Hasher::Crc64(CRC64NVME.digest()),
            Algorithm::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
        }
    }

    /// Checksum of `data`, base64 encoded.
    #[cfg(test)]
    pub(crate) fn checksum_of(self, data: &[u8]) -> String {
        let mut h = self.hasher();
        h.update(data);
        h.finish_base64()
    }

    /// Whether `value` is well-formed base64 of the right length for this algorithm.
    pub(crate) fn is_valid_value(self, value: &str) -> bool {
        B64.decode(value.trim())
            .is_ok_and(|raw| raw.len() == self.digest_len())
    }
}

/// A running checksum.
pub(crate) enum Hasher {
    Crc32(crc32fast::Hasher),
    Crc32c(crc::Digest<'static, u32, Table<16>>),
    Crc64(crc::Digest<'static, u64, Table<16>>),
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

impl Hasher {
    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Crc32(h) => h.update(data),
            Hasher::Crc32c(h) => h.update(data),
            Hasher::Crc64(h) => h.update(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
        }
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Crc32(h) => h.finalize().to_be_bytes().to_vec(),
            Hasher::Crc32c(h) => h.finalize().to_be_bytes().to_vec(),
            Hasher::Crc64(h) => h.finalize().to_be_bytes().to_vec(),
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
        }
    }

    pub(crate) fn finish_base64(self) -> String {
        B64.encode(self.finish())
    }
}

/// The composite checksum of a multipart object: the checksum of the concatenated raw part
/// checksums, base64 encoded, then `-<number of parts>` (User Guide, "Using part-level
/// checksums for multipart uploads"). `None` when a part value is not valid base64.
pub(crate) fn composite(algorithm: Algorithm, part_values: &[&str]) -> Option<String> {
    let mut h = algorithm.hasher();
    for v in part_values {
        h.update(&B64.decode(v.trim()).ok()?);
    }
    Some(format!("{}-{}", h.finish_base64(), part_values.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        // The CRC catalogue check value is the checksum of "123456789".
        let check = b"123456789";
        let be = |s: &str| B64.decode(s).expect("base64");
        assert_eq!(
            be(&Algorithm::Crc32.checksum_of(check)),
            0xCBF4_3926u32.to_be_bytes()
        );
        assert_eq!(
            be(&Algorithm::Crc32c.checksum_of(check)),
            0xE306_9283u32.to_be_bytes()
        );
        assert_eq!(
            be(&Algorithm::Crc64Nvme.checksum_of(check)),
            0xAE8B_1486_0A79_9888u64.to_be_bytes()
        );
        assert_eq!(
            Algorithm::Sha256.checksum_of(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
        assert_eq!(
            Algorithm::Sha1.checksum_of(b""),
            "2jmj7l5rSw0yVb/vlWAYkK/YBwk="
        );
        assert_eq!(Algorithm::Crc32.checksum_of(b""), "AAAAAA==");
    }

    #[test]
    fn names_and_validation() {
        assert_eq!(
            Algorithm::from_name("crc64nvme"),
            Some(Algorithm::Crc64Nvme)
        );
        assert_eq!(Algorithm::from_name("CRC32C"), Some(Algorithm::Crc32c));
        assert_eq!(Algorithm::from_name("md5"), None);
        assert!(Algorithm::Crc32.is_valid_value("AAAAAA=="));
        assert!(!Algorithm::Crc32.is_valid_value("AAAAAAAAAAA="));
        assert!(!Algorithm::Crc32.is_valid_value("not base64!"));
    }

    #[test]
    fn composite_of_parts() {
        let a = Algorithm::Crc32.checksum_of(b"part one");
        let b = Algorithm::Crc32.checksum_of(b"part two");
        let mut raw = B64.decode(&a).expect("b64");
        raw.extend(B64.decode(&b).expect("b64"));
        let expect = format!("{}-2", Algorithm::Crc32.checksum_of(&raw));
        assert_eq!(composite(Algorithm::Crc32, &[&a, &b]), Some(expect));
        assert_eq!(composite(Algorithm::Crc32, &["%%%"]), None);
    }
}
