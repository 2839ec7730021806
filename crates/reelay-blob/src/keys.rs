//! Mapping user object keys to storage paths.
//!
//! S3 keys are arbitrary UTF-8 strings of up to 1024 bytes. They may contain `../`, start with
//! `/`, contain `//`, `.` segments, NUL, `#`, `%` and anything else. The storage backends cannot
//! take them as they are:
//!
//! - `object_store::path::Path` drops empty segments and rejects `.` and `..`, so `a//b` and `a/b`
//!   would collide and `../x` would be refused;
//! - `LocalFileSystem` treats a file name of the form `name#123` as an in-progress upload and
//!   hides it from listings;
//! - a file system limits a name to 255 bytes, so a 1024-byte segment does not fit;
//! - S3 allows both `a` and `a/b` as keys, but a file system cannot have a file and a directory
//!   both called `a`.
//!
//! So a key is never used as a path. Instead its UTF-8 bytes are written as lowercase hex and the
//! hex string is cut into directory segments of 128 characters (64 key bytes); the last, shorter
//! piece (possibly empty) gets the terminator `-` and names the file. For example `a/b` (bytes
//! `61 2f 62`) becomes `612f62-`. The encoding is:
//!
//! - **safe**: a path only ever contains `[0-9a-f]`, `/` and a final `-`, so it cannot escape the
//!   data directory, collide with a staging file, or be normalised by `Path`;
//! - **injective**: hex decoding inverts it, so two keys never share a path;
//! - **file/directory clash free**: directory segments are exactly `SEGMENT_HEX` hex digits and the
//!   file name always ends with `-`, so a name is never both;
//! - **bounded**: segments are at most 129 bytes and a 1024-byte key is at most 2064 bytes of path;
//! - **order preserving**: hex digits sort in the same order as the nibbles they encode, each byte
//!   takes exactly two digits, the cuts fall at the same offsets for every key, and `-` sorts
//!   below both the hex digits and `/`. Hence comparing two paths as strings gives the same answer
//!   as comparing the keys as byte strings, which is the order ListObjectsV2 must return
//!   ("UTF-8 binary order"). Backends that list in lexicographic order (S3) therefore list in
//!   key order, and the local backend, which lists in directory order, is sorted after decoding.
//! - **prefix friendly**: every key starting with the prefix `p` lives under the directory formed by
//!   the complete segments of `hex(p)`, so a prefix listing only walks that subtree.

use object_store::path::Path;

use crate::error::{Error, Result};
use crate::limits::MAX_KEY_LEN;

/// Hex digits per directory segment (64 key bytes).
pub(crate) const SEGMENT_HEX: usize = 128;
/// Terminator of the file name; sorts below `/` and every hex digit.
const LEAF_END: char = '-';

/// Checks that a key is usable: non-empty and at most [`MAX_KEY_LEN`] bytes.
pub fn validate_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::InvalidKey {
            reason: "the key is empty",
        });
    }
    if key.len() > MAX_KEY_LEN {
        return Err(Error::KeyTooLong { len: key.len() });
    }
    Ok(())
}

/// The relative path (below the bucket's index directory) that stores `key`.
pub(crate) fn encode_key(key: &str) -> String {
    let hex = hex::encode(key.as_bytes());
    let mut out = String::with_capacity(hex.len() + hex.len() / SEGMENT_HEX + 2);
    let mut rest = hex.as_str();
    while rest.len() >= SEGMENT_HEX {
        // Hex is ASCII, so any byte offset is a char boundary.
        let (seg, tail) = rest.split_at(SEGMENT_HEX);
        out.push_str(seg);
        out.push('/');
        rest = tail;
    }
    out.push_str(rest);
    out.push(LEAF_END);
    out
}

/// The relative directory that holds every key starting with `prefix` (possibly empty).
pub(crate) fn prefix_dir(prefix: &str) -> String {
    let hex = hex::encode(prefix.as_bytes());
    let full = hex.len() / SEGMENT_HEX * SEGMENT_HEX;
    let mut out = String::with_capacity(full + full / SEGMENT_HEX);
    for (i, seg) in hex.as_bytes()[..full].chunks(SEGMENT_HEX).enumerate() {
        if i > 0 {
            out.push('/');
        }
        // Hex is ASCII, so every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(seg).unwrap_or_default());
    }
    out
}

/// Inverse of [`encode_key`]; `None` for anything that is not an encoded key (for example a file
/// someone dropped into the data directory by hand).
pub(crate) fn decode_key(rel: &str) -> Option<String> {
    let body = rel.strip_suffix(LEAF_END)?;
    let mut hex = String::with_capacity(body.len());
    let mut segments = body.split('/').peekable();
    while let Some(seg) = segments.next() {
        let is_last = segments.peek().is_none();
        if !is_last && seg.len() != SEGMENT_HEX {
            return None;
        }
        if is_last && seg.len() >= SEGMENT_HEX {
            return None;
        }
        hex.push_str(seg);
    }
    if hex.bytes().any(|b| !matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let bytes = hex::decode(hex).ok()?;
    let key = String::from_utf8(bytes).ok()?;
    (!key.is_empty()).then_some(key)
}

/// Joins already-safe path pieces into a backend path.
pub(crate) fn join(parts: &[&str]) -> Result<Path> {
    let joined = parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("/");
    Path::parse(&joined).map_err(|e| Error::Corrupt {
        path: joined.clone(),
        reason: format!("generated an invalid storage path: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn roundtrip(key: &str) {
        let enc = encode_key(key);
        assert!(
            enc.split('/')
                .all(|s| !s.is_empty() && s.len() <= SEGMENT_HEX + 1)
        );
        assert_eq!(decode_key(&enc).as_deref(), Some(key), "{enc}");
        assert!(join(&["b", "bucket", &enc]).is_ok());
    }

    #[test]
    fn hostile_keys_roundtrip() {
        for key in [
            "a",
            "../../etc/passwd",
            "/leading",
            "a//b",
            ".",
            "..",
            "./.",
            "nul\0byte",
            "x#1",
            "%2e%2e",
            "trailing/",
            "日本語/キー",
            "emoji 🎬",
            "\u{7f}\u{1}",
        ] {
            roundtrip(key);
        }
        roundtrip(&"é".repeat(512));
        roundtrip(&"a".repeat(64));
        roundtrip(&"a".repeat(128));
        roundtrip(&"z".repeat(1024));
    }

    #[test]
    fn path_order_matches_key_byte_order() {
        let mut keys = vec![
            "a", "a/b", "a-c", "a/", "ab", "b", "A", "a\0", "é", "z", "~", "a0", "a.b",
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
        keys.push("k".repeat(64));
        keys.push(format!("{}x", "k".repeat(64)));
        keys.push("k".repeat(63));
        keys.push(format!("{}\u{1}", "k".repeat(64)));
        keys.push("k".repeat(130));
        let mut by_key = keys.clone();
        by_key.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        let mut by_path = keys;
        by_path.sort_by_key(|k| encode_key(k));
        assert_eq!(by_key, by_path);
    }

    #[test]
    fn prefix_dir_contains_all_matching_keys() {
        let prefix = "p".repeat(70);
        let dir = prefix_dir(&prefix);
        assert_eq!(dir.len(), SEGMENT_HEX);
        for key in [
            prefix.clone(),
            format!("{prefix}/x"),
            format!("{prefix}{}", "q".repeat(200)),
        ] {
            assert!(encode_key(&key).starts_with(&format!("{dir}/")));
        }
        assert_eq!(prefix_dir(""), "");
        assert_eq!(prefix_dir("short"), "");
    }

    #[test]
    fn foreign_names_do_not_decode() {
        for rel in ["", "-x", "zz-", "6-", "61", "61/62-", "ff-", "61#1"] {
            assert_eq!(decode_key(rel), None, "{rel}");
        }
    }

    #[test]
    fn key_validation() {
        assert!(matches!(validate_key(""), Err(Error::InvalidKey { .. })));
        assert!(validate_key(&"a".repeat(1024)).is_ok());
        assert!(matches!(
            validate_key(&"a".repeat(1025)),
            Err(Error::KeyTooLong { len: 1025 })
        ));
    }
}
