//! Request bodies: framing (plain or `aws-chunked`), limits and integrity checks, as a stream.
//!
//! The stream yields payload bytes as they arrive. Every check that needs the whole body
//! (decoded length, `x-amz-content-sha256`, `Content-MD5`, `x-amz-checksum-*` from a header or a
//! trailer) runs when the input ends, *before* the stream reports its own end; a failure is
//! yielded as the last item instead. The blob layer only commits data whose stream ended
//! cleanly, so a body that fails a check is never stored.
//!
//! Errors are [`S3Error`]s wrapped in `io::Error` so they cross the blob layer intact.

use std::io;
use std::sync::{Arc, Mutex};

use axum::body::{Body, BodyDataStream};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use http::{HeaderMap, StatusCode};
use md5::Md5;
use sha2::{Digest, Sha256};

use crate::checksum::{Algorithm, Hasher};
use crate::chunked::{ChunkError, ChunkedDecoder, Decoded};
use crate::error::{S3Error, S3Result};
use crate::headers::header_str;
use crate::{ChunkVerifier, S3Context};

/// Where the client's additional checksum comes from.
#[derive(Debug, Clone)]
enum ChecksumSource {
    /// `x-amz-checksum-<alg>` request header.
    Header(String),
    /// Announced by `x-amz-trailer`, sent in the aws-chunked trailer.
    Trailer,
}

/// Everything the request headers say about the body.
#[derive(Debug, Clone)]
pub(crate) struct BodySpec {
    chunked: bool,
    verifier: Option<ChunkVerifier>,
    decoded_length: Option<u64>,
    expected_sha256: Option<[u8; 32]>,
    content_md5: Option<[u8; 16]>,
    checksum: Option<(Algorithm, ChecksumSource)>,
    max_len: u64,
}

/// The additional checksum a body was verified against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VerifiedChecksum {
    pub algorithm: Algorithm,
    pub value: String,
}

/// Shared slot the stream fills once the body has been read and verified.
pub(crate) type Outcome = Arc<Mutex<Option<VerifiedChecksum>>>;

fn content_sha256_mismatch() -> S3Error {
    S3Error::new(
        "XAmzContentSHA256Mismatch",
        StatusCode::BAD_REQUEST,
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    )
}

impl BodySpec {
    /// Reads the body-related headers. `max_len` bounds the decoded payload.
    pub(crate) fn from_headers(
        headers: &HeaderMap,
        ctx: &S3Context,
        max_len: u64,
    ) -> S3Result<BodySpec> {
        let content_sha = header_str(headers, "x-amz-content-sha256")?;
        let content_encoding = header_str(headers, "content-encoding")?.unwrap_or_default();
        let aws_chunked = content_encoding
            .split(',')
            .any(|e| e.trim().eq_ignore_ascii_case("aws-chunked"));
        let mut spec = BodySpec {
            chunked: aws_chunked,
            verifier: None,
            decoded_length: None,
            expected_sha256: None,
            content_md5: None,
            checksum: None,
            max_len,
        };
        let mut signed_stream = false;
        match content_sha {
            None | Some("UNSIGNED-PAYLOAD") => {}
            Some("STREAMING-UNSIGNED-PAYLOAD-TRAILER") => spec.chunked = true,
            Some(
                "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" | "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
            ) => {
                spec.chunked = true;
                signed_stream = true;
            }
            Some(
                "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"
                | "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
            ) => {
                if ctx.chunk_verifier.is_some() {
                    return Err(S3Error::not_implemented(
                        "SigV4a streaming payload signatures",
                    ));
                }
                spec.chunked = true;
            }
            Some(hex_value) => {
                let mut raw = [0u8; 32];
                hex::decode_to_slice(hex_value, &mut raw).map_err(|_| {
                    S3Error::invalid_argument(
                        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-… or a valid sha256 value.",
                    )
                })?;
                spec.expected_sha256 = Some(raw);
            }
        }
        // In strict mode the signed value is authoritative.
        if let Some(signed) = &ctx.expected_sha256
            && !spec.chunked
            && signed != "UNSIGNED-PAYLOAD"
        {
            let mut raw = [0u8; 32];
            hex::decode_to_slice(signed, &mut raw).map_err(|_| content_sha256_mismatch())?;
            spec.expected_sha256 = Some(raw);
        }
        if signed_stream {
            spec.verifier = ctx.chunk_verifier.clone();
        }
        if spec.chunked {
            spec.decoded_length = match header_str(headers, "x-amz-decoded-content-length")? {
                Some(v) => Some(v.trim().parse().map_err(|_| {
                    S3Error::invalid_argument("invalid x-amz-decoded-content-length")
                })?),
                None => None,
            };
        }
        if let Some(md5) = header_str(headers, "content-md5")? {
            let raw = B64
                .decode(md5.trim())
                .ok()
                .and_then(|r| <[u8; 16]>::try_from(r).ok());
            spec.content_md5 = Some(raw.ok_or_else(|| {
                S3Error::new(
                    "InvalidDigest",
                    StatusCode::BAD_REQUEST,
                    "The Content-MD5 you specified was invalid.",
                )
            })?);
        }
        let mut found = Vec::new();
        for alg in Algorithm::ALL {
            if let Some(v) = header_str(headers, alg.header())? {
                if !alg.is_valid_value(v) {
                    return Err(S3Error::invalid_request(format!(
                        "Value for {} header is invalid.",
                        alg.header()
                    )));
                }
                found.push((alg, ChecksumSource::Header(v.trim().to_owned())));
            }
        }
        if let Some(trailer) = header_str(headers, "x-amz-trailer")? {
            for name in trailer
                .split(',')
                .map(|n| n.trim().to_ascii_lowercase())
                .filter(|n| !n.is_empty())
            {
                let alg = Algorithm::ALL
                    .into_iter()
                    .find(|a| a.header() == name)
                    .ok_or_else(|| S3Error::invalid_request(format!("The value specified in the x-amz-trailer header is not supported: {name}")))?;
                if !spec.chunked {
                    return Err(S3Error::invalid_request(
                        "x-amz-trailer requires an aws-chunked body",
                    ));
                }
                found.push((alg, ChecksumSource::Trailer));
            }
        }
        if found.len() > 1 {
            return Err(S3Error::invalid_request(
                "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
            ));
        }
        spec.checksum = found.pop();
        if spec.checksum.is_none()
            && let Some(alg) = header_str(headers, "x-amz-sdk-checksum-algorithm")?
        {
            let alg = Algorithm::from_name(alg).ok_or_else(|| {
                S3Error::invalid_request(format!("Checksum algorithm {alg} is not supported"))
            })?;
            return Err(S3Error::invalid_request(format!(
                "x-amz-sdk-checksum-algorithm specified, but no corresponding {} or x-amz-trailer headers were found.",
                alg.header()
            )));
        }
        let declared = if spec.chunked {
            spec.decoded_length
        } else {
            content_length(headers)?
        };
        if let Some(len) = declared
            && len > max_len
        {
            return Err(reelay_blob::Error::EntityTooLarge { max: max_len }.into());
        }
        Ok(spec)
    }

    /// The algorithm of the client's checksum, if it sent one.
    pub(crate) fn checksum_algorithm(&self) -> Option<Algorithm> {
        self.checksum.as_ref().map(|(a, _)| *a)
    }
}

fn content_length(headers: &HeaderMap) -> S3Result<Option<u64>> {
    match header_str(headers, "content-length")? {
        Some(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| S3Error::invalid_argument("invalid Content-Length")),
        None => Ok(None),
    }
}

struct State {
    input: BodyDataStream,
    buffer: BytesMut,
    decoder: Option<ChunkedDecoder>,
    spec: BodySpec,
    decoded: u64,
    sha256: Option<Sha256>,
    md5: Option<Md5>,
    checksum: Option<Hasher>,
    outcome: Outcome,
    done: bool,
}

fn chunk_error(e: ChunkError) -> S3Error {
    match e {
        ChunkError::Signature => S3Error::new(
            "SignatureDoesNotMatch",
            StatusCode::FORBIDDEN,
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        ),
        ChunkError::Truncated => {
            S3Error::incomplete_body("The aws-chunked body ended before its final chunk.")
        }
        ChunkError::Malformed(what) => {
            S3Error::invalid_request(format!("Invalid aws-chunked body: {what}"))
        }
    }
}

fn wrap(e: S3Error) -> io::Error {
    io::Error::other(e)
}

impl State {
    fn account(&mut self, data: &Bytes) -> S3Result<()> {
        self.decoded = self.decoded.saturating_add(data.len() as u64);
        if self.decoded > self.spec.max_len {
            return Err(reelay_blob::Error::EntityTooLarge {
                max: self.spec.max_len,
            }
            .into());
        }
        if let Some(declared) = self.spec.decoded_length
            && self.decoded > declared
        {
            return Err(S3Error::invalid_request(
                "The body is longer than x-amz-decoded-content-length.",
            ));
        }
        if let Some(h) = &mut self.sha256 {
            h.update(data);
        }
        if let Some(h) = &mut self.md5 {
            h.update(data);
        }
        if let Some(h) = &mut self.checksum {
            h.update(data);
        }
        Ok(())
    }

    /// Runs every whole-body check; on success publishes the verified checksum.
    fn finish(&mut self) -> S3Result<()> {
        if let Some(declared) = self.spec.decoded_length
            && self.decoded != declared
        {
            return Err(S3Error::incomplete_body(
                "You did not provide the number of bytes specified by the x-amz-decoded-content-length header.",
            ));
        }
        if let (Some(h), Some(expected)) = (self.sha256.take(), self.spec.expected_sha256) {
            let got: [u8; 32] = h.finalize().into();
            if got != expected {
                return Err(content_sha256_mismatch());
            }
        }
        if let (Some(h), Some(expected)) = (self.md5.take(), self.spec.content_md5) {
            let got: [u8; 16] = h.finalize().into();
            if got != expected {
                return Err(S3Error::bad_digest(
                    "The Content-MD5 you specified did not match what we received.",
                ));
            }
        }
        if let (Some(h), Some((alg, source))) = (self.checksum.take(), self.spec.checksum.clone()) {
            let expected = match source {
                ChecksumSource::Header(v) => v,
                ChecksumSource::Trailer => {
                    let trailers = self
                        .decoder
                        .as_ref()
                        .map(|d| d.trailers())
                        .unwrap_or_default();
                    let value = trailers
                        .iter()
                        .find(|(n, _)| n == alg.header())
                        .map(|(_, v)| v.clone())
                        .ok_or_else(|| {
                            S3Error::invalid_request(format!(
                                "The {} trailer was announced but not sent.",
                                alg.header()
                            ))
                        })?;
                    if !alg.is_valid_value(&value) {
                        return Err(S3Error::invalid_request(format!(
                            "Value for {} trailer is invalid.",
                            alg.header()
                        )));
                    }
                    value
                }
            };
            let got = h.finish_base64();
            if got != expected {
                return Err(S3Error::bad_digest(format!(
                    "The {} you specified did not match the calculated checksum.",
                    alg.name()
                )));
            }
            if let Ok(mut slot) = self.outcome.lock() {
                *slot = Some(VerifiedChecksum {
                    algorithm: alg,
                    value: got,
                });
            }
        }
        Ok(())
    }

    /// The next payload piece, `None` at the verified end.
    async fn next_piece(&mut self) -> S3Result<Option<Bytes>> {
        loop {
            if let Some(decoder) = &mut self.decoder {
                match decoder.decode(&mut self.buffer).map_err(chunk_error)? {
                    Some(Decoded::Data(data)) => {
                        self.account(&data)?;
                        return Ok(Some(data));
                    }
                    // Whatever follows the final blank line is ignored, as HTTP framing already
                    // bounded the body.
                    Some(Decoded::End) => {
                        self.finish()?;
                        return Ok(None);
                    }
                    None => {}
                }
            }
            match self.input.next().await {
                Some(Ok(bytes)) => {
                    if self.decoder.is_some() {
                        self.buffer.extend_from_slice(&bytes);
                    } else if !bytes.is_empty() {
                        self.account(&bytes)?;
                        return Ok(Some(bytes));
                    }
                }
                Some(Err(e)) => {
                    return Err(S3Error::incomplete_body(format!(
                        "The request body could not be read: {e}"
                    )));
                }
                None => {
                    if self.decoder.as_ref().is_some_and(|d| !d.is_done()) {
                        return Err(chunk_error(ChunkError::Truncated));
                    }
                    self.finish()?;
                    return Ok(None);
                }
            }
        }
    }
}

/// Turns a request body into a verified payload stream; the verified checksum lands in the
/// returned slot once the stream has ended cleanly.
pub(crate) fn payload_stream(
    body: Body,
    spec: BodySpec,
) -> (impl Stream<Item = io::Result<Bytes>> + Send, Outcome) {
    let outcome: Outcome = Arc::new(Mutex::new(None));
    let state = State {
        input: body.into_data_stream(),
        buffer: BytesMut::new(),
        decoder: spec
            .chunked
            .then(|| ChunkedDecoder::new(spec.verifier.clone())),
        sha256: spec.expected_sha256.map(|_| Sha256::new()),
        md5: spec.content_md5.map(|_| Md5::new()),
        checksum: spec.checksum.as_ref().map(|(a, _)| a.hasher()),
        spec,
        decoded: 0,
        outcome: outcome.clone(),
        done: false,
    };
    let stream = futures::stream::unfold(state, |mut state| async move {
        if state.done {
            return None;
        }
        match state.next_piece().await {
            Ok(Some(bytes)) => Some((Ok(bytes), state)),
            Ok(None) => None,
            Err(e) => {
                state.done = true;
                Some((Err(wrap(e)), state))
            }
        }
    });
    (stream, outcome)
}

/// Reads a small body (XML documents) whole, with the same checks, up to `spec`'s limit.
pub(crate) async fn read_small(body: Body, spec: BodySpec) -> S3Result<Bytes> {
    let (stream, _) = payload_stream(body, spec);
    let mut stream = std::pin::pin!(stream);
    let mut out = BytesMut::new();
    while let Some(piece) = stream.next().await {
        match piece {
            Ok(b) => out.extend_from_slice(&b),
            Err(e) => return Err(reelay_blob::Error::Body(e).into()),
        }
    }
    Ok(out.freeze())
}

/// Takes the verified checksum out of the slot.
pub(crate) fn take_checksum(outcome: &Outcome) -> Option<VerifiedChecksum> {
    outcome.lock().ok().and_then(|mut s| s.take())
}
