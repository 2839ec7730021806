//! A sans-IO decoder for `aws-chunked` bodies (Amazon S3 API Reference, "Signature
//! Calculations for the Authorization Header: Transferring Payload in Multiple Chunks" and
//! "… Including Trailing Headers"):
//!
//! ```text
//! <hex size>[;chunk-signature=<sig>]\r\n <size bytes> \r\n
//! ...
//! 0[;chunk-signature=<sig>]\r\n
//! [<trailer name>:<value>\r\n ...]
//! [x-amz-trailer-signature:<sig>\r\n]
//! \r\n
//! ```
//!
//! Feed input into a `BytesMut` and call [`ChunkedDecoder::decode`]: it consumes what it can and
//! returns payload bytes as soon as they arrive (a chunk is never buffered whole), `Ok(None)`
//! when it needs more input, or [`Decoded::End`] after the final blank line. Every line is
//! bounded before it is buffered, and signatures are verified at the end of each chunk.

use bytes::{Buf, Bytes, BytesMut};
use sha2::{Digest, Sha256};

use crate::signing::{ChunkVerifier, signatures_equal};

/// Longest chunk-size line (size, extensions) or trailer line.
pub(crate) const MAX_LINE: usize = 4096;
/// Most trailer lines.
pub(crate) const MAX_TRAILERS: usize = 16;
/// Largest single chunk (the largest part is 5 GiB).
pub(crate) const MAX_CHUNK: u64 = 5 * 1024 * 1024 * 1024;

/// What went wrong while decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ChunkError {
    /// The framing is broken.
    #[error("malformed aws-chunked body: {0}")]
    Malformed(&'static str),
    /// A chunk or trailer signature is missing or wrong.
    #[error("chunk signature mismatch")]
    Signature,
    /// The body ended before the final chunk.
    #[error("the aws-chunked body ended early")]
    Truncated,
}

/// One decoding step.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decoded {
    /// Payload bytes.
    Data(Bytes),
    /// The final chunk and trailer section were read.
    End,
}

#[derive(Debug)]
enum State {
    Header,
    Data {
        remaining: u64,
        signature: Option<String>,
    },
    DataEnd {
        signature: Option<String>,
    },
    Trailers,
    Done,
}

/// Decoder state for one body.
pub(crate) struct ChunkedDecoder {
    state: State,
    verifier: Option<ChunkVerifier>,
    previous_signature: String,
    chunk_hash: Sha256,
    /// Trailer lines, for the trailer signature: `name:value\n` each.
    trailer_lines: Vec<u8>,
    trailers: Vec<(String, String)>,
    trailer_signature: Option<String>,
}

impl ChunkedDecoder {
    /// A decoder; with a verifier, every chunk (and the trailer, when present) must carry a
    /// valid signature.
    pub(crate) fn new(verifier: Option<ChunkVerifier>) -> Self {
        let previous_signature = verifier
            .as_ref()
            .map(|v| v.seed_signature.clone())
            .unwrap_or_default();
        ChunkedDecoder {
            state: State::Header,
            verifier,
            previous_signature,
            chunk_hash: Sha256::new(),
            trailer_lines: Vec::new(),
            trailers: Vec::new(),
            trailer_signature: None,
        }
    }

    /// Trailing headers received, names lowercased.
    pub(crate) fn trailers(&self) -> &[(String, String)] {
        &self.trailers
    }

    /// Whether the final blank line was read.
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Decodes from `input`, consuming what it uses.
    pub(crate) fn decode(&mut self, input: &mut BytesMut) -> Result<Option<Decoded>, ChunkError> {
        loop {
            match &mut self.state {
                State::Done => return Ok(Some(Decoded::End)),
                State::Header => {
                    let Some(line) = take_line(input)? else {
                        return Ok(None);
                    };
                    let (size, signature) = parse_chunk_header(&line)?;
                    if self.verifier.is_some() && signature.is_none() {
                        return Err(ChunkError::Signature);
                    }
                    self.chunk_hash = Sha256::new();
                    self.state = if size == 0 {
                        self.verify_chunk(signature.as_deref())?;
                        State::Trailers
                    } else {
                        State::Data {
                            remaining: size,
                            signature,
                        }
                    };
                }
                State::Data {
                    remaining,
                    signature,
                } => {
                    if input.is_empty() {
                        return Ok(None);
                    }
                    // `take` is at most `input.len()`, a usize, so the cast cannot truncate.
                    let take = (*remaining).min(input.len() as u64) as usize;
                    let data = input.split_to(take).freeze();
                    *remaining -= take as u64;
                    if *remaining == 0 {
                        let signature = signature.take();
                        self.state = State::DataEnd { signature };
                    }
                    if self.verifier.is_some() {
                        self.chunk_hash.update(&data);
                    }
                    return Ok(Some(Decoded::Data(data)));
                }
                State::DataEnd { signature } => {
                    if input.len() < 2 {
                        return Ok(None);
                    }
                    if &input[..2] != b"\r\n" {
                        return Err(ChunkError::Malformed("chunk data is not followed by CRLF"));
                    }
                    input.advance(2);
                    let signature = signature.take();
                    self.verify_chunk(signature.as_deref())?;
                    self.state = State::Header;
                }
                State::Trailers => {
                    let Some(line) = take_line(input)? else {
                        return Ok(None);
                    };
                    if line.is_empty() {
                        self.verify_trailer()?;
                        self.state = State::Done;
                        return Ok(Some(Decoded::End));
                    }
                    if self.trailers.len() >= MAX_TRAILERS {
                        return Err(ChunkError::Malformed("too many trailing headers"));
                    }
                    let text = std::str::from_utf8(&line)
                        .map_err(|_| ChunkError::Malformed("trailer is not UTF-8"))?;
                    let (name, value) = text
                        .split_once(':')
                        .ok_or(ChunkError::Malformed("trailer without a colon"))?;
                    let name = name.trim().to_ascii_lowercase();
                    let value = value.trim().to_owned();
                    if name == "x-amz-trailer-signature" {
                        self.trailer_signature = Some(value);
                    } else {
                        self.trailer_lines
                            .extend_from_slice(format!("{name}:{value}\n").as_bytes());
                        self.trailers.push((name, value));
                    }
                }
            }
        }
    }

    fn verify_chunk(&mut self, signature: Option<&str>) -> Result<(), ChunkError> {
        let Some(verifier) = &self.verifier else {
            return Ok(());
        };
        let signature = signature.ok_or(ChunkError::Signature)?;
        let hash: [u8; 32] = std::mem::take(&mut self.chunk_hash).finalize().into();
        let expected = verifier.chunk_signature(&self.previous_signature, &hash);
        if !signatures_equal(&expected, signature) {
            return Err(ChunkError::Signature);
        }
        self.previous_signature = expected;
        Ok(())
    }

    fn verify_trailer(&mut self) -> Result<(), ChunkError> {
        let Some(verifier) = &self.verifier else {
            return Ok(());
        };
        if self.trailers.is_empty() && self.trailer_signature.is_none() {
            return Ok(());
        }
        let signature = self
            .trailer_signature
            .as_deref()
            .ok_or(ChunkError::Signature)?;
        let expected = verifier.trailer_signature(&self.previous_signature, &self.trailer_lines);
        if signatures_equal(&expected, signature) {
            Ok(())
        } else {
            Err(ChunkError::Signature)
        }
    }
}

/// Takes one CRLF-terminated line (without the CRLF), refusing lines over [`MAX_LINE`].
fn take_line(input: &mut BytesMut) -> Result<Option<BytesMut>, ChunkError> {
    let window = &input[..input.len().min(MAX_LINE + 2)];
    match window.windows(2).position(|w| w == b"\r\n") {
        Some(pos) => {
            let line = input.split_to(pos);
            input.advance(2);
            Ok(Some(line))
        }
        None if input.len() >= MAX_LINE + 2 => Err(ChunkError::Malformed("line too long")),
        None => Ok(None),
    }
}

/// Parses `<hex size>[;name=value]*`, returning the size and the `chunk-signature` extension.
fn parse_chunk_header(line: &[u8]) -> Result<(u64, Option<String>), ChunkError> {
    let text = std::str::from_utf8(line)
        .map_err(|_| ChunkError::Malformed("chunk header is not UTF-8"))?;
    let mut parts = text.split(';');
    let size_text = parts.next().unwrap_or_default().trim();
    if size_text.is_empty()
        || size_text.len() > 16
        || !size_text.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(ChunkError::Malformed("invalid chunk size"));
    }
    let size = u64::from_str_radix(size_text, 16)
        .map_err(|_| ChunkError::Malformed("invalid chunk size"))?;
    if size > MAX_CHUNK {
        return Err(ChunkError::Malformed("chunk too large"));
    }
    let mut signature = None;
    for ext in parts {
        if let Some((name, value)) = ext.split_once('=')
            && name.trim() == "chunk-signature"
        {
            signature = Some(value.trim().to_owned());
        }
    }
    Ok((size, signature))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::SigningKey;

    /// Feeds `body` in pieces of `step` bytes and collects the payload.
    fn run(
        mut dec: ChunkedDecoder,
        body: &[u8],
        step: usize,
    ) -> Result<(Vec<u8>, ChunkedDecoder), ChunkError> {
        let mut input = BytesMut::new();
        let mut out = Vec::new();
        let mut fed = 0;
        loop {
            match dec.decode(&mut input)? {
                Some(Decoded::Data(d)) => out.extend_from_slice(&d),
                Some(Decoded::End) => return Ok((out, dec)),
                None if fed >= body.len() => return Err(ChunkError::Truncated),
                None => {
                    let end = (fed + step).min(body.len());
                    input.extend_from_slice(&body[fed..end]);
                    fed = end;
                }
            }
        }
    }

    #[test]
    fn unsigned_with_trailer_any_split() {
        let body = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        for step in [1, 2, 3, 7, 100] {
            let (data, dec) = run(ChunkedDecoder::new(None), body, step).expect("decodes");
            assert_eq!(data, b"hello world");
            assert_eq!(
                dec.trailers(),
                [("x-amz-checksum-crc32".to_string(), "DUoRhQ==".to_string())]
            );
            assert!(dec.is_done());
        }
    }

    #[test]
    fn malformed_inputs() {
        let cases: [(&[u8], ChunkError); 6] = [
            (b"zz\r\n", ChunkError::Malformed("invalid chunk size")),
            (b"\r\n", ChunkError::Malformed("invalid chunk size")),
            (
                b"11111111111111111\r\n",
                ChunkError::Malformed("invalid chunk size"),
            ),
            (
                b"2\r\nabXY",
                ChunkError::Malformed("chunk data is not followed by CRLF"),
            ),
            (
                b"0\r\nno-colon\r\n\r\n",
                ChunkError::Malformed("trailer without a colon"),
            ),
            (b"2\r\nab\r\n", ChunkError::Truncated),
        ];
        for (body, expect) in cases {
            assert_eq!(
                run(ChunkedDecoder::new(None), body, 3).err(),
                Some(expect),
                "{body:?}"
            );
        }
        let long = vec![b'1'; MAX_LINE + 10];
        assert_eq!(
            run(ChunkedDecoder::new(None), &long, 5000).err(),
            Some(ChunkError::Malformed("line too long"))
        );
        let many: Vec<u8> = [&b"0\r\n"[..], &b"a:b\r\n".repeat(MAX_TRAILERS + 1), b"\r\n"].concat();
        assert_eq!(
            run(ChunkedDecoder::new(None), &many, 64).err(),
            Some(ChunkError::Malformed("too many trailing headers"))
        );
    }

    fn verifier() -> ChunkVerifier {
        ChunkVerifier {
            signing_key: SigningKey::derive("secret", "20250101", "us-east-1", "s3"),
            seed_signature: "00".repeat(32),
            scope: "20250101/us-east-1/s3/aws4_request".into(),
            amz_date: "20250101T000000Z".into(),
        }
    }

    /// Encodes a signed body the way SDKs do.
    fn signed_body(v: &ChunkVerifier, chunks: &[&[u8]], trailer: Option<(&str, &str)>) -> Vec<u8> {
        let mut prev = v.seed_signature.clone();
        let mut out = Vec::new();
        for c in chunks.iter().chain(std::iter::once(&&b""[..])) {
            let sig = v.chunk_signature(&prev, &Sha256::digest(c).into());
            out.extend_from_slice(format!("{:x};chunk-signature={sig}\r\n", c.len()).as_bytes());
            if !c.is_empty() {
                out.extend_from_slice(c);
                out.extend_from_slice(b"\r\n");
            }
            prev = sig;
        }
        if let Some((n, val)) = trailer {
            let sig = v.trailer_signature(&prev, format!("{n}:{val}\n").as_bytes());
            out.extend_from_slice(
                format!("{n}:{val}\r\nx-amz-trailer-signature:{sig}\r\n").as_bytes(),
            );
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    #[test]
    fn signed_chunks_verify() {
        let v = verifier();
        let body = signed_body(&v, &[b"abc", b"defgh"], None);
        let (data, _) = run(ChunkedDecoder::new(Some(v.clone())), &body, 4).expect("valid");
        assert_eq!(data, b"abcdefgh");
        let body = signed_body(&v, &[b"abc"], Some(("x-amz-checksum-crc32", "NSRBwg==")));
        let (data, dec) = run(ChunkedDecoder::new(Some(v.clone())), &body, 4).expect("valid");
        assert_eq!(data, b"abc");
        assert_eq!(dec.trailers().len(), 1);
    }

    #[test]
    fn tampered_signed_chunks_fail() {
        let v = verifier();
        let mut body = signed_body(&v, &[b"abc", b"defgh"], None);
        // Flip one payload byte.
        let pos = body.iter().position(|&b| b == b'd').expect("payload byte");
        body[pos] = b'D';
        assert_eq!(
            run(ChunkedDecoder::new(Some(v.clone())), &body, 4).err(),
            Some(ChunkError::Signature)
        );
        // Unsigned framing where signatures are required.
        assert_eq!(
            run(
                ChunkedDecoder::new(Some(v.clone())),
                b"3\r\nabc\r\n0\r\n\r\n",
                4
            )
            .err(),
            Some(ChunkError::Signature)
        );
        // A trailer whose signature does not cover it.
        let mut body = signed_body(&v, &[b"abc"], Some(("x-amz-checksum-crc32", "NSRBwg==")));
        let text = String::from_utf8(body.clone()).expect("ascii");
        body = text.replace("NSRBwg==", "AAAAAA==").into_bytes();
        assert_eq!(
            run(ChunkedDecoder::new(Some(v)), &body, 4).err(),
            Some(ChunkError::Signature)
        );
    }

    /// Random mutations of a valid body, fed in random pieces, never panic and either decode or
    /// fail cleanly (a cheap stand-in until the fuzz target exists).
    #[test]
    fn mutated_bodies_never_panic() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let valid = b"5\r\nhello\r\n6;chunk-signature=ab\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n".to_vec();
        for _ in 0..2000 {
            let mut body = valid.clone();
            for _ in 0..(next() % 4) {
                let pos = (next() as usize) % body.len();
                match next() % 3 {
                    0 => body[pos] = next() as u8,
                    1 => {
                        body.remove(pos);
                    }
                    _ => body.insert(pos, next() as u8),
                }
            }
            let step = 1 + (next() as usize) % 9;
            let _ = run(ChunkedDecoder::new(None), &body, step);
        }
    }
}
