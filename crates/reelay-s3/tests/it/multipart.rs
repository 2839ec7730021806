//! Multipart uploads over the wire.

use axum::body::Body;
use http::{Method, StatusCode};
use md5::{Digest, Md5};

use crate::{Harness, crc32_b64, req};

const MIB: usize = 1024 * 1024;

fn complete_doc(parts: &[(u32, &str)]) -> String {
    let mut doc =
        String::from("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for (n, etag) in parts {
        doc.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><ETag>{}</ETag></Part>",
            etag.replace('"', "&quot;")
        ));
    }
    doc.push_str("</CompleteMultipartUpload>");
    doc
}

async fn create(h: &Harness, path: &str) -> String {
    let r = h
        .send(
            req(Method::POST, &format!("{path}?uploads"))
                .header("content-type", "video/mp4")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.xml("UploadId").expect("upload id")
}

async fn upload(h: &Harness, path: &str, id: &str, n: u32, data: Vec<u8>) -> String {
    let r = h
        .put(&format!("{path}?partNumber={n}&uploadId={id}"), data)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.header("etag").expect("etag").to_owned()
}

async fn complete(h: &Harness, path: &str, id: &str, parts: &[(u32, &str)]) -> crate::Resp {
    h.send(
        req(Method::POST, &format!("{path}?uploadId={id}"))
            .body(Body::from(complete_doc(parts)))
            .expect("request"),
    )
    .await
}

#[tokio::test]
async fn multipart_upload_flow() {
    let h = Harness::new();
    h.create_bucket("mpu").await;
    let id = create(&h, "/mpu/movie.mp4").await;
    let r = h.call(Method::GET, "/mpu?uploads").await;
    assert_eq!(r.xml_all("UploadId"), std::slice::from_ref(&id));
    assert_eq!(r.xml_all("Key"), ["movie.mp4"]);

    let p1: Vec<u8> = (0..5 * MIB).map(|i| (i % 251) as u8).collect();
    let p2 = b"the tail".to_vec();
    let e2 = upload(&h, "/mpu/movie.mp4", &id, 2, p2.clone()).await;
    let e1 = upload(&h, "/mpu/movie.mp4", &id, 1, p1.clone()).await;

    let r = h
        .call(Method::GET, &format!("/mpu/movie.mp4?uploadId={id}"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.xml_all("PartNumber"), ["1", "2"]);
    assert_eq!(r.xml_all("Size"), [(5 * MIB).to_string(), "8".to_string()]);
    let r = h
        .call(
            Method::GET,
            &format!("/mpu/movie.mp4?uploadId={id}&max-parts=1"),
        )
        .await;
    assert_eq!(
        (
            r.xml("IsTruncated").as_deref(),
            r.xml("NextPartNumberMarker").as_deref()
        ),
        (Some("true"), Some("1"))
    );
    let r = h
        .call(
            Method::GET,
            &format!("/mpu/movie.mp4?uploadId={id}&part-number-marker=1"),
        )
        .await;
    assert_eq!(r.xml_all("PartNumber"), ["2"]);

    // Validation of the part list.
    complete(&h, "/mpu/movie.mp4", &id, &[(2, &e2), (1, &e1)])
        .await
        .assert_error(400, "InvalidPartOrder");
    complete(
        &h,
        "/mpu/movie.mp4",
        &id,
        &[(1, &e1), (2, "\"00000000000000000000000000000000\"")],
    )
    .await
    .assert_error(400, "InvalidPart");
    complete(&h, "/mpu/movie.mp4", &id, &[(1, &e1), (3, &e2)])
        .await
        .assert_error(400, "InvalidPart");
    complete(&h, "/mpu/other-key", &id, &[(1, &e1)])
        .await
        .assert_error(404, "NoSuchUpload");
    let r = h
        .send(
            req(Method::POST, &format!("/mpu/movie.mp4?uploadId={id}"))
                .body(Body::from("<CompleteMultipartUpload/>"))
                .expect("request"),
        )
        .await;
    r.assert_error(400, "MalformedXML");

    let r = complete(&h, "/mpu/movie.mp4", &id, &[(1, &e1), (2, &e2)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let mut md5s = Vec::new();
    md5s.extend(Md5::digest(&p1));
    md5s.extend(Md5::digest(&p2));
    let expect_etag = format!("\"{}-2\"", hex::encode(Md5::digest(&md5s)));
    assert_eq!(r.xml("ETag"), Some(expect_etag.clone()));
    assert_eq!(r.xml("Key").as_deref(), Some("movie.mp4"));
    assert_eq!(
        r.xml("Location").as_deref(),
        Some("http://localhost:4599/mpu/movie.mp4")
    );

    let got = h.call(Method::GET, "/mpu/movie.mp4").await;
    assert_eq!(got.header("etag"), Some(expect_etag.as_str()));
    assert_eq!(got.header("content-type"), Some("video/mp4"));
    assert_eq!(got.body.len(), p1.len() + p2.len());
    assert!(got.body[..p1.len()] == p1[..] && got.body[p1.len()..] == p2[..]);
    // The upload is gone.
    h.call(Method::GET, &format!("/mpu/movie.mp4?uploadId={id}"))
        .await
        .assert_error(404, "NoSuchUpload");
    complete(&h, "/mpu/movie.mp4", &id, &[(1, &e1)])
        .await
        .assert_error(404, "NoSuchUpload");
    assert!(
        h.call(Method::GET, "/mpu?uploads")
            .await
            .xml_all("UploadId")
            .is_empty()
    );
}

#[tokio::test]
async fn multipart_errors_abort_and_copy() {
    let h = Harness::new();
    h.create_bucket("mpe").await;
    let id = create(&h, "/mpe/k").await;
    let e1 = upload(&h, "/mpe/k", &id, 1, b"small".to_vec()).await;
    let e2 = upload(&h, "/mpe/k", &id, 2, b"small".to_vec()).await;
    let r = complete(&h, "/mpe/k", &id, &[(1, &e1), (2, &e2)]).await;
    r.assert_error(400, "EntityTooSmall");
    assert_eq!(r.xml("PartNumber").as_deref(), Some("1"));
    h.put(&format!("/mpe/k?partNumber=0&uploadId={id}"), "x")
        .await
        .assert_error(400, "InvalidArgument");
    h.put(&format!("/mpe/k?partNumber=10001&uploadId={id}"), "x")
        .await
        .assert_error(400, "InvalidArgument");
    h.put("/mpe/k?partNumber=1&uploadId=nope", "x")
        .await
        .assert_error(404, "NoSuchUpload");
    h.put("/mpe/k?partNumber=1&uploadId=..%2F..%2Fx", "x")
        .await
        .assert_error(404, "NoSuchUpload");

    // UploadPartCopy with a source range.
    h.put("/mpe/source", "0123456789").await;
    let r = h
        .send(
            req(Method::PUT, &format!("/mpe/k?partNumber=3&uploadId={id}"))
                .header("x-amz-copy-source", "/mpe/source")
                .header("x-amz-copy-source-range", "bytes=2-5")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let e3 = r.xml("ETag").expect("etag");
    assert_eq!(e3, format!("\"{}\"", hex::encode(Md5::digest(b"2345"))));

    // A single (small) last part completes.
    let r = complete(&h, "/mpe/k", &id, &[(3, &e3)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(h.call(Method::GET, "/mpe/k").await.body, b"2345");

    // Abort.
    let id = create(&h, "/mpe/gone").await;
    upload(&h, "/mpe/gone", &id, 1, b"x".to_vec()).await;
    assert_eq!(
        h.call(Method::DELETE, &format!("/mpe/gone?uploadId={id}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    h.call(Method::DELETE, &format!("/mpe/gone?uploadId={id}"))
        .await
        .assert_error(404, "NoSuchUpload");
    h.call(Method::GET, "/mpe/gone")
        .await
        .assert_error(404, "NoSuchKey");
}

#[tokio::test]
async fn multipart_part_checksums_make_a_composite() {
    let h = Harness::new();
    h.create_bucket("mpc").await;
    let r = h
        .send(
            req(Method::POST, "/mpc/k?uploads")
                .header("x-amz-checksum-algorithm", "CRC32")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(r.header("x-amz-checksum-algorithm"), Some("CRC32"));
    let id = r.xml("UploadId").expect("id");
    let data = b"only part".to_vec();
    let crc = crc32_b64(&data);
    let r = h
        .send(
            req(Method::PUT, &format!("/mpc/k?partNumber=1&uploadId={id}"))
                .header("x-amz-checksum-crc32", crc.as_str())
                .header("x-amz-sdk-checksum-algorithm", "CRC32")
                .body(Body::from(data.clone()))
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.header("x-amz-checksum-crc32"), Some(crc.as_str()));
    let etag = r.header("etag").expect("etag").to_owned();
    // A part checksum of another algorithm than the upload's is refused.
    let r = h
        .send(
            req(Method::PUT, &format!("/mpc/k?partNumber=2&uploadId={id}"))
                .header("x-amz-checksum-sha1", "2jmj7l5rSw0yVb/vlWAYkK/YBwk=")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    r.assert_error(400, "InvalidRequest");
    let r = h.call(Method::GET, &format!("/mpc/k?uploadId={id}")).await;
    assert_eq!(r.xml("ChecksumCRC32"), Some(crc.clone()));

    // A wrong part checksum in the completion document is an InvalidPart.
    let bad = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part></CompleteMultipartUpload>"
    );
    h.send(
        req(Method::POST, &format!("/mpc/k?uploadId={id}"))
            .body(Body::from(bad))
            .expect("request"),
    )
    .await
    .assert_error(400, "InvalidPart");
    let good = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag><ChecksumCRC32>{crc}</ChecksumCRC32></Part></CompleteMultipartUpload>"
    );
    let r = h
        .send(
            req(Method::POST, &format!("/mpc/k?uploadId={id}"))
                .body(Body::from(good))
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let raw =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &crc).expect("b64");
    let composite = format!("{}-1", crc32_b64(&raw));
    assert_eq!(r.xml("ChecksumCRC32"), Some(composite.clone()));
    let got = h
        .send(
            req(Method::GET, "/mpc/k")
                .header("x-amz-checksum-mode", "ENABLED")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(got.header("x-amz-checksum-crc32"), Some(composite.as_str()));
    assert_eq!(got.header("x-amz-checksum-type"), Some("COMPOSITE"));
}
