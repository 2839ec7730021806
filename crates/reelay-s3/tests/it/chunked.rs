//! Body encodings and integrity checks: aws-chunked (unsigned with trailer, signed), checksum
//! headers, Content-MD5 and x-amz-content-sha256.

use axum::body::Body;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use http::{Method, StatusCode};
use md5::{Digest, Md5};
use reelay_s3::{ChunkVerifier, SigningKey};
use sha2::Sha256;

use crate::{ACCOUNT, Harness, crc32_b64, crc64nvme_b64, ctx, req};

/// Frames `data` as aws-chunked with unsigned chunks of `chunk` bytes and optional trailers.
fn encode_unsigned(data: &[u8], chunk: usize, trailers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in data.chunks(chunk) {
        out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n");
    for (n, v) in trailers {
        out.extend_from_slice(format!("{n}:{v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Frames `data` as signed aws-chunked, the way SigV4 streaming clients do.
fn encode_signed(v: &ChunkVerifier, data: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut previous = v.seed_signature.clone();
    let pieces: Vec<&[u8]> = data
        .chunks(chunk)
        .chain(std::iter::once(&b""[..]))
        .collect();
    for c in pieces {
        let sig = v.chunk_signature(&previous, &Sha256::digest(c).into());
        out.extend_from_slice(format!("{:x};chunk-signature={sig}\r\n", c.len()).as_bytes());
        if !c.is_empty() {
            out.extend_from_slice(c);
            out.extend_from_slice(b"\r\n");
        }
        previous = sig;
    }
    out.extend_from_slice(b"\r\n");
    out
}

fn verifier() -> ChunkVerifier {
    ChunkVerifier {
        signing_key: SigningKey::derive("test-secret", "20250101", "us-east-1", "s3"),
        seed_signature: "1".repeat(64),
        scope: "20250101/us-east-1/s3/aws4_request".into(),
        amz_date: "20250101T000000Z".into(),
    }
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 256) as u8).collect()
}

#[tokio::test]
async fn unsigned_trailer_checksums() {
    let h = Harness::new();
    h.create_bucket("chk").await;
    let payload = data(70_000);
    for (alg, header, value) in [
        ("CRC32", "x-amz-checksum-crc32", crc32_b64(&payload)),
        (
            "CRC64NVME",
            "x-amz-checksum-crc64nvme",
            crc64nvme_b64(&payload),
        ),
    ] {
        let body = encode_unsigned(&payload, 8192, &[(header, &value)]);
        let r = h
            .send(
                req(Method::PUT, "/chk/obj")
                    .header("content-encoding", "aws-chunked")
                    .header("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
                    .header("x-amz-decoded-content-length", payload.len().to_string())
                    .header("x-amz-trailer", header)
                    .header("x-amz-sdk-checksum-algorithm", alg)
                    .body(Body::from(body))
                    .expect("request"),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{alg}: {}", r.text());
        assert_eq!(r.header(header), Some(value.as_str()));
        assert_eq!(
            r.header("etag"),
            Some(format!("\"{}\"", hex::encode(Md5::digest(&payload))).as_str())
        );

        let got = h
            .send(
                req(Method::GET, "/chk/obj")
                    .header("x-amz-checksum-mode", "ENABLED")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert!(got.body == payload, "{alg}");
        assert_eq!(got.header(header), Some(value.as_str()));
        assert_eq!(got.header("x-amz-checksum-type"), Some("FULL_OBJECT"));
        assert!(
            got.header("content-encoding").is_none(),
            "aws-chunked is not stored"
        );
        // Without the checksum mode, or for a range, no checksum is returned.
        assert!(
            h.call(Method::GET, "/chk/obj")
                .await
                .header(header)
                .is_none()
        );
        let ranged = h
            .send(
                req(Method::GET, "/chk/obj")
                    .header("x-amz-checksum-mode", "ENABLED")
                    .header("range", "bytes=0-9")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert!(ranged.header(header).is_none());
    }

    // A wrong trailer value: BadDigest, and the previous object is untouched.
    let body = encode_unsigned(b"tampered", 3, &[("x-amz-checksum-crc32", "AAAAAA==")]);
    let r = h
        .send(
            req(Method::PUT, "/chk/obj")
                .header("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
                .header("content-encoding", "aws-chunked")
                .header("x-amz-trailer", "x-amz-checksum-crc32")
                .body(Body::from(body))
                .expect("request"),
        )
        .await;
    r.assert_error(400, "BadDigest");
    assert!(h.call(Method::GET, "/chk/obj").await.body == payload);

    // Announced trailer missing; truncated framing; wrong decoded length.
    type Case = (
        Vec<u8>,
        Option<&'static str>,
        &'static str,
        u16,
        &'static str,
    );
    let cases: [Case; 3] = [
        (
            encode_unsigned(b"abc", 3, &[]),
            Some("x-amz-checksum-crc32"),
            "3",
            400,
            "InvalidRequest",
        ),
        (b"3\r\nabc\r\n".to_vec(), None, "3", 400, "IncompleteBody"),
        (
            encode_unsigned(b"abc", 3, &[]),
            None,
            "4",
            400,
            "IncompleteBody",
        ),
    ];
    for (body, trailer, decoded_len, status, code) in cases {
        let mut b = req(Method::PUT, "/chk/new")
            .header("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
            .header("content-encoding", "aws-chunked")
            .header("x-amz-decoded-content-length", decoded_len);
        if let Some(t) = trailer {
            b = b.header("x-amz-trailer", t);
        }
        h.send(b.body(Body::from(body)).expect("request"))
            .await
            .assert_error(status, code);
        h.call(Method::GET, "/chk/new")
            .await
            .assert_error(404, "NoSuchKey");
    }
}

#[tokio::test]
async fn signed_chunks_in_strict_and_lenient_mode() {
    let h = Harness::new();
    h.create_bucket("sig").await;
    let v = verifier();
    let payload = data(20_000);
    let put = |body: Vec<u8>| {
        req(Method::PUT, "/sig/obj")
            .header("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
            .header("content-encoding", "aws-chunked")
            .header("x-amz-decoded-content-length", payload.len().to_string())
            .body(Body::from(body))
            .expect("request")
    };
    let mut strict = ctx(ACCOUNT);
    strict.chunk_verifier = Some(v.clone());

    let good = encode_signed(&v, &payload, 4096);
    let r = h.send_as(strict.clone(), put(good.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(h.call(Method::GET, "/sig/obj").await.body == payload);

    // One flipped payload byte breaks its chunk signature; nothing is stored.
    h.call(Method::DELETE, "/sig/obj").await;
    let mut bad = good.clone();
    let pos = bad.len() / 2;
    bad[pos] ^= 0x01;
    h.send_as(strict.clone(), put(bad))
        .await
        .assert_error(403, "SignatureDoesNotMatch");
    h.call(Method::GET, "/sig/obj")
        .await
        .assert_error(404, "NoSuchKey");
    // Signed by another key.
    let mut other = verifier();
    other.signing_key = SigningKey::derive("other-secret", "20250101", "us-east-1", "s3");
    h.send_as(strict.clone(), put(encode_signed(&other, &payload, 4096)))
        .await
        .assert_error(403, "SignatureDoesNotMatch");

    // Without a verifier (lenient auth) the framing is still decoded.
    let r = h.send(put(good)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(h.call(Method::GET, "/sig/obj").await.body == payload);
}

#[tokio::test]
async fn header_checksums_md5_and_sha256() {
    let h = Harness::new();
    h.create_bucket("hdr").await;
    let payload = b"checked body".to_vec();
    let put = |name: &'static str, value: String| {
        req(Method::PUT, "/hdr/obj")
            .header(name, value)
            .body(Body::from(payload.clone()))
            .expect("request")
    };
    // What botocore sends over plain HTTP: a checksum header on an unframed body.
    let crc = crc32_b64(&payload);
    let r = h
        .send(
            req(Method::PUT, "/hdr/obj")
                .header("x-amz-checksum-crc32", crc.as_str())
                .header("x-amz-sdk-checksum-algorithm", "CRC32")
                .body(Body::from(payload.clone()))
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-amz-checksum-crc32"), Some(crc.as_str()));
    let head = h
        .send(
            req(Method::HEAD, "/hdr/obj")
                .header("x-amz-checksum-mode", "ENABLED")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(head.header("x-amz-checksum-crc32"), Some(crc.as_str()));

    h.send(put("x-amz-checksum-crc32", "AAAAAA==".into()))
        .await
        .assert_error(400, "BadDigest");
    h.send(put("x-amz-checksum-crc32", "not-base64".into()))
        .await
        .assert_error(400, "InvalidRequest");
    h.send(put("x-amz-sdk-checksum-algorithm", "CRC32".into()))
        .await
        .assert_error(400, "InvalidRequest");
    let md5 = B64.encode(Md5::digest(&payload));
    assert_eq!(h.send(put("content-md5", md5)).await.status, StatusCode::OK);
    h.send(put("content-md5", B64.encode(Md5::digest(b"other"))))
        .await
        .assert_error(400, "BadDigest");
    h.send(put("content-md5", "short".into()))
        .await
        .assert_error(400, "InvalidDigest");
    let sha = hex::encode(Sha256::digest(&payload));
    assert_eq!(
        h.send(put("x-amz-content-sha256", sha)).await.status,
        StatusCode::OK
    );
    let wrong = hex::encode(Sha256::digest(b"other"));
    h.send(put("x-amz-content-sha256", wrong.clone()))
        .await
        .assert_error(400, "XAmzContentSHA256Mismatch");
    h.send(put("x-amz-content-sha256", "garbage".into()))
        .await
        .assert_error(400, "InvalidArgument");

    // Strict mode: the signed hash is checked even when the header says otherwise.
    let mut strict = ctx(ACCOUNT);
    strict.expected_sha256 = Some(wrong);
    let r = req(Method::PUT, "/hdr/strict")
        .body(Body::from(payload.clone()))
        .expect("request");
    h.send_as(strict, r)
        .await
        .assert_error(400, "XAmzContentSHA256Mismatch");
    h.call(Method::GET, "/hdr/strict")
        .await
        .assert_error(404, "NoSuchKey");

    // Declared sizes over the limit are refused before reading.
    let r = req(Method::PUT, "/hdr/huge")
        .header("content-length", (6u64 * 1024 * 1024 * 1024).to_string())
        .body(Body::empty())
        .expect("request");
    h.send(r).await.assert_error(400, "EntityTooLarge");
}
