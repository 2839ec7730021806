//! PutObject, GetObject (ranges, conditionals), HeadObject, DeleteObject(s), CopyObject, listing.

use axum::body::Body;
use http::{Method, StatusCode};

use crate::{Harness, md5_hex, req};

#[tokio::test]
async fn put_get_head_roundtrip() {
    let h = Harness::new();
    h.create_bucket("objs").await;
    let data = b"hello reelay".to_vec();
    let put = req(Method::PUT, "/objs/dir/a%20b.txt")
        .header("content-type", "text/plain")
        .header("x-amz-meta-camera", "front")
        .header("cache-control", "max-age=60")
        .body(Body::from(data.clone()))
        .expect("request");
    let r = h.send(put).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let etag = format!("\"{}\"", md5_hex(&data));
    assert_eq!(r.header("etag"), Some(etag.as_str()));

    let r = h.call(Method::GET, "/objs/dir/a%20b.txt").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, data);
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(r.header("content-length"), Some("12"));
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    assert_eq!(r.header("x-amz-meta-camera"), Some("front"));
    assert_eq!(r.header("cache-control"), Some("max-age=60"));
    assert!(
        r.header("last-modified")
            .is_some_and(|d| d.ends_with(" GMT"))
    );
    assert!(r.header("x-amz-checksum-crc32").is_none());

    let r = h.call(Method::HEAD, "/objs/dir/a%20b.txt").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_empty());
    assert_eq!(r.header("content-length"), Some("12"));
    assert_eq!(r.header("etag"), Some(etag.as_str()));

    // response-* overrides (presigned downloads use them).
    let r = h.call(Method::GET, "/objs/dir/a%20b.txt?response-content-type=application%2Fx-test&response-content-disposition=attachment").await;
    assert_eq!(r.header("content-type"), Some("application/x-test"));
    assert_eq!(r.header("content-disposition"), Some("attachment"));

    // Defaults and errors.
    assert_eq!(h.put("/objs/plain", "x").await.status, StatusCode::OK);
    assert_eq!(
        h.call(Method::GET, "/objs/plain")
            .await
            .header("content-type"),
        Some("binary/octet-stream")
    );
    h.call(Method::GET, "/objs/missing")
        .await
        .assert_error(404, "NoSuchKey");
    let r = h.call(Method::HEAD, "/objs/missing").await;
    assert_eq!((r.status, r.body.is_empty()), (StatusCode::NOT_FOUND, true));
    h.call(Method::GET, "/nobucket/x")
        .await
        .assert_error(404, "NoSuchBucket");
    h.put(&format!("/objs/{}", "k".repeat(1025)), "x")
        .await
        .assert_error(400, "KeyTooLongError");
    h.call(Method::GET, "/objs/plain?versionId=abc")
        .await
        .assert_error(400, "InvalidArgument");
    let r = h.call(Method::GET, "/objs/missing").await;
    assert_eq!(r.xml("Resource").as_deref(), Some("/objs/missing"));
    assert_eq!(r.xml("RequestId").as_deref(), Some("REQ123"));

    // Hostile keys round-trip through the URL encoding.
    for (path, key) in [
        ("/objs/..%2F..%2Fetc", "../../etc"),
        ("/objs//lead", "/lead"),
        ("/objs/a%00b", "a\0b"),
    ] {
        assert_eq!(
            h.put(path, key.to_owned()).await.status,
            StatusCode::OK,
            "{path}"
        );
        assert_eq!(
            h.call(Method::GET, path).await.body,
            key.as_bytes(),
            "{path}"
        );
    }

    // Delete is idempotent.
    assert_eq!(
        h.call(Method::DELETE, "/objs/plain").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        h.call(Method::DELETE, "/objs/plain").await.status,
        StatusCode::NO_CONTENT
    );
    h.call(Method::GET, "/objs/plain")
        .await
        .assert_error(404, "NoSuchKey");
}

#[tokio::test]
async fn byte_ranges() {
    let h = Harness::new();
    h.create_bucket("ranges").await;
    let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    h.put("/ranges/obj", data.clone()).await;
    let get = |range: &'static str| {
        let h = &h;
        async move {
            h.send(
                req(Method::GET, "/ranges/obj")
                    .header("range", range)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
        }
    };
    for (range, start, end) in [
        ("bytes=0-9", 0usize, 10usize),
        ("bytes=990-", 990, 1000),
        ("bytes=-5", 995, 1000),
        ("bytes=500-5000", 500, 1000),
    ] {
        let r = get(range).await;
        assert_eq!(r.status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(r.body, data[start..end], "{range}");
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes {}-{}/1000", start, end - 1).as_str())
        );
        assert_eq!(
            r.header("content-length"),
            Some((end - start).to_string().as_str())
        );
    }
    let r = get("bytes=1000-").await;
    r.assert_error(416, "InvalidRange");
    assert_eq!(r.header("content-range"), Some("bytes */1000"));
    get("bytes=-0").await.assert_error(416, "InvalidRange");
    // Syntactically invalid ranges are ignored.
    let r = get("bytes=abc").await;
    assert_eq!((r.status, r.body.len()), (StatusCode::OK, 1000));
    // HEAD honours Range.
    let r = h
        .send(
            req(Method::HEAD, "/ranges/obj")
                .header("range", "bytes=10-19")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.header("content-length"), Some("10"));
}

#[tokio::test]
async fn conditional_requests() {
    let h = Harness::new();
    h.create_bucket("cond").await;
    let etag = h
        .put("/cond/k", "v1")
        .await
        .header("etag")
        .expect("etag")
        .to_owned();
    let with = |name: &'static str, value: String, method: Method| {
        let h = &h;
        async move {
            h.send(
                req(method, "/cond/k")
                    .header(name, value)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
        }
    };
    let future = "Fri, 01 Jan 2100 00:00:00 GMT".to_string();
    let past = "Thu, 01 Jan 1970 00:00:00 GMT".to_string();
    assert_eq!(
        with("if-match", etag.clone(), Method::GET).await.status,
        StatusCode::OK
    );
    with("if-match", "\"nope\"".into(), Method::GET)
        .await
        .assert_error(412, "PreconditionFailed");
    let r = with("if-none-match", etag.clone(), Method::GET).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    assert!(r.body.is_empty());
    assert_eq!(
        with("if-none-match", etag.clone(), Method::HEAD)
            .await
            .status,
        StatusCode::NOT_MODIFIED
    );
    assert_eq!(
        with("if-modified-since", future.clone(), Method::GET)
            .await
            .status,
        StatusCode::NOT_MODIFIED
    );
    assert_eq!(
        with("if-modified-since", past.clone(), Method::GET)
            .await
            .status,
        StatusCode::OK
    );
    with("if-unmodified-since", past.clone(), Method::GET)
        .await
        .assert_error(412, "PreconditionFailed");
    assert_eq!(
        with("if-unmodified-since", future, Method::GET)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        with("if-match", etag.clone(), Method::HEAD).await.status,
        StatusCode::OK
    );
    assert_eq!(
        with("if-match", "\"x\"".into(), Method::HEAD).await.status,
        StatusCode::PRECONDITION_FAILED
    );

    // Conditional writes.
    let put = |name: &'static str, value: &str| {
        let h = &h;
        let r = req(Method::PUT, "/cond/k")
            .header(name, value)
            .body(Body::from("v2"))
            .expect("request");
        async move { h.send(r).await }
    };
    put("if-none-match", "*")
        .await
        .assert_error(412, "PreconditionFailed");
    put("if-match", "\"other\"")
        .await
        .assert_error(412, "PreconditionFailed");
    assert_eq!(put("if-match", &etag).await.status, StatusCode::OK);
    assert_eq!(h.call(Method::GET, "/cond/k").await.body, b"v2");
}

#[tokio::test]
async fn delete_objects_xml() {
    let h = Harness::new();
    h.create_bucket("del").await;
    for k in ["a", "b", "c & d"] {
        h.put(
            &format!("/del/{}", k.replace(' ', "%20").replace('&', "%26")),
            "x",
        )
        .await;
    }
    let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
        <Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
          <Object><Key>a</Key></Object>
          <Object><Key>c &amp; d</Key></Object>
          <Object><Key>never-existed</Key></Object>
          <Object><Key>b</Key><VersionId>123</VersionId></Object>
        </Delete>"#;
    let r = h
        .send(
            req(Method::POST, "/del?delete")
                .body(Body::from(doc))
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.xml_all("Key"), ["a", "c & d", "never-existed", "b"]);
    assert_eq!(r.xml_all("Code"), ["NoSuchVersion"]);
    let r = h.call(Method::GET, "/del?list-type=2").await;
    assert_eq!(r.xml_all("Key"), ["b"]);

    let quiet = "<Delete><Quiet>true</Quiet><Object><Key>b</Key></Object></Delete>";
    let r = h
        .send(
            req(Method::POST, "/del?delete")
                .body(Body::from(quiet))
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.xml_all("Key").is_empty(),
        "quiet mode lists only errors: {}",
        r.text()
    );
    assert_eq!(
        h.call(Method::GET, "/del?list-type=2")
            .await
            .xml("KeyCount")
            .as_deref(),
        Some("0")
    );

    for bad in [
        "<Delete>",
        "<Delete></Delete>",
        "<Other><Object><Key>a</Key></Object></Other>",
        "<Delete><Object></Object></Delete>",
    ] {
        h.send(
            req(Method::POST, "/del?delete")
                .body(Body::from(bad))
                .expect("request"),
        )
        .await
        .assert_error(400, "MalformedXML");
    }
    let many = format!(
        "<Delete>{}</Delete>",
        "<Object><Key>k</Key></Object>".repeat(1001)
    );
    h.send(
        req(Method::POST, "/del?delete")
            .body(Body::from(many))
            .expect("request"),
    )
    .await
    .assert_error(400, "MalformedXML");
}

#[tokio::test]
async fn list_objects_v2_and_v1() {
    let h = Harness::new();
    h.create_bucket("lst").await;
    let keys = [
        "a.txt",
        "photos/2024/jan.jpg",
        "photos/2024/feb.jpg",
        "photos/2025/mar.jpg",
        "videos/x.mp4",
        "z+y",
        "sp ace",
    ];
    for k in keys {
        let path = format!("/lst/{}", k.replace(' ', "%20").replace('+', "%2B"));
        assert_eq!(h.put(&path, k.to_owned()).await.status, StatusCode::OK);
    }
    let r = h.call(Method::GET, "/lst?list-type=2").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.xml_all("Key"),
        [
            "a.txt",
            "photos/2024/feb.jpg",
            "photos/2024/jan.jpg",
            "photos/2025/mar.jpg",
            "sp ace",
            "videos/x.mp4",
            "z+y"
        ]
    );
    assert_eq!(r.xml("KeyCount").as_deref(), Some("7"));
    assert_eq!(r.xml("IsTruncated").as_deref(), Some("false"));
    assert_eq!(r.xml("Size").as_deref(), Some("5"));
    assert_eq!(r.xml("ETag"), Some(format!("\"{}\"", md5_hex(b"a.txt"))));
    assert!(
        r.xml("LastModified")
            .is_some_and(|d| d.ends_with('Z') && d.contains('.'))
    );
    assert!(r.xml("Owner").is_none());

    let r = h.call(Method::GET, "/lst?list-type=2&delimiter=%2F").await;
    assert_eq!(r.xml_all("Key"), ["a.txt", "sp ace", "z+y"]);
    assert_eq!(r.xml_all("Prefix")[1..], ["photos/", "videos/"]);
    assert_eq!(r.xml("KeyCount").as_deref(), Some("5"));

    let r = h
        .call(
            Method::GET,
            "/lst?list-type=2&prefix=photos%2F&delimiter=%2F",
        )
        .await;
    assert_eq!(
        r.xml_all("Prefix"),
        ["photos/", "photos/2024/", "photos/2025/"]
    );

    // encoding-type=url encodes keys and prefixes.
    let r = h
        .call(Method::GET, "/lst?list-type=2&encoding-type=url&prefix=s")
        .await;
    assert_eq!(r.xml_all("Key"), ["sp%20ace"]);
    assert_eq!(r.xml("EncodingType").as_deref(), Some("url"));
    let r = h
        .call(Method::GET, "/lst?list-type=2&encoding-type=url&prefix=z")
        .await;
    assert_eq!(r.xml_all("Key"), ["z%2By"]);
    h.call(Method::GET, "/lst?list-type=2&encoding-type=base64")
        .await
        .assert_error(400, "InvalidArgument");

    // Pagination with continuation tokens.
    let mut token: Option<String> = None;
    let mut seen = Vec::new();
    for _ in 0..10 {
        let uri = match &token {
            Some(t) => format!("/lst?list-type=2&max-keys=2&continuation-token={t}"),
            None => "/lst?list-type=2&max-keys=2".to_owned(),
        };
        let r = h.call(Method::GET, &uri).await;
        assert_eq!(r.xml("MaxKeys").as_deref(), Some("2"));
        seen.extend(r.xml_all("Key"));
        if r.xml("IsTruncated").as_deref() == Some("false") {
            assert!(r.xml("NextContinuationToken").is_none());
            token = None;
            break;
        }
        token = r.xml("NextContinuationToken");
    }
    assert!(token.is_none());
    assert_eq!(seen.len(), 7);
    h.call(Method::GET, "/lst?list-type=2&continuation-token=%25%25")
        .await
        .assert_error(400, "InvalidArgument");
    h.call(Method::GET, "/lst?list-type=2&max-keys=-1")
        .await
        .assert_error(400, "InvalidArgument");

    let r = h
        .call(
            Method::GET,
            "/lst?list-type=2&start-after=photos%2F2025%2Fmar.jpg",
        )
        .await;
    assert_eq!(r.xml_all("Key"), ["sp ace", "videos/x.mp4", "z+y"]);
    assert_eq!(r.xml("StartAfter").as_deref(), Some("photos/2025/mar.jpg"));

    // v1 with marker and delimiter.
    let r = h.call(Method::GET, "/lst?delimiter=%2F&max-keys=2").await;
    assert_eq!(r.xml_all("Key"), ["a.txt"]);
    assert_eq!(r.xml("NextMarker").as_deref(), Some("photos/"));
    assert!(r.xml("Owner").is_some());
    let r = h
        .call(Method::GET, "/lst?delimiter=%2F&marker=photos%2F")
        .await;
    assert_eq!(r.xml_all("Key"), ["sp ace", "z+y"]);
    assert_eq!(r.xml("Marker").as_deref(), Some("photos/"));
}

#[tokio::test]
async fn copy_object() {
    let h = Harness::new();
    h.create_bucket("src").await;
    h.create_bucket("dst").await;
    let put = req(Method::PUT, "/src/dir/orig%20file")
        .header("content-type", "text/plain")
        .header("x-amz-meta-a", "1")
        .body(Body::from("copy me"))
        .expect("request");
    let etag = h.send(put).await.header("etag").expect("etag").to_owned();
    let copy = |dst: &str, headers: &[(&str, &str)]| {
        let mut b = req(Method::PUT, dst);
        for (n, v) in headers {
            b = b.header(*n, *v);
        }
        let r = b.body(Body::empty()).expect("request");
        let h = &h;
        async move { h.send(r).await }
    };
    let r = copy(
        "/dst/copy1",
        &[("x-amz-copy-source", "/src/dir/orig%20file")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.xml("ETag").as_deref(), Some(etag.as_str()));
    assert!(r.xml("LastModified").is_some());
    let got = h.call(Method::GET, "/dst/copy1").await;
    assert_eq!(got.body, b"copy me");
    assert_eq!(got.header("content-type"), Some("text/plain"));
    assert_eq!(got.header("x-amz-meta-a"), Some("1"));

    let r = copy(
        "/dst/copy2",
        &[
            ("x-amz-copy-source", "src/dir/orig%20file"),
            ("x-amz-metadata-directive", "REPLACE"),
            ("content-type", "image/png"),
            ("x-amz-meta-b", "2"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let got = h.call(Method::GET, "/dst/copy2").await;
    assert_eq!(got.header("content-type"), Some("image/png"));
    assert_eq!(
        (got.header("x-amz-meta-a"), got.header("x-amz-meta-b")),
        (None, Some("2"))
    );

    copy(
        "/src/dir/orig%20file",
        &[("x-amz-copy-source", "/src/dir/orig%20file")],
    )
    .await
    .assert_error(400, "InvalidRequest");
    assert_eq!(
        copy(
            "/src/dir/orig%20file",
            &[
                ("x-amz-copy-source", "/src/dir/orig%20file"),
                ("x-amz-metadata-directive", "REPLACE")
            ]
        )
        .await
        .status,
        StatusCode::OK
    );
    copy("/dst/x", &[("x-amz-copy-source", "/src/missing")])
        .await
        .assert_error(404, "NoSuchKey");
    copy("/dst/x", &[("x-amz-copy-source", "/nobucket/k")])
        .await
        .assert_error(404, "NoSuchBucket");
    copy("/dst/x", &[("x-amz-copy-source", "nokey")])
        .await
        .assert_error(400, "InvalidArgument");
    copy(
        "/dst/x",
        &[
            ("x-amz-copy-source", "/src/dir/orig%20file"),
            ("x-amz-copy-source-if-match", "\"zzz\""),
        ],
    )
    .await
    .assert_error(412, "PreconditionFailed");
    copy(
        "/dst/x",
        &[
            ("x-amz-copy-source", "/src/dir/orig%20file"),
            ("x-amz-metadata-directive", "MOVE"),
        ],
    )
    .await
    .assert_error(400, "InvalidArgument");
}
