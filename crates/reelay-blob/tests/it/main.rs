//! Conformance suite for `BlobStore`: every case runs against the local file system backend and
//! the in-memory backend.

use std::io;
use std::path::Path;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use md5::{Digest, Md5};
use object_store::ObjectStore;
use reelay_blob::{
    BlobStore, ByteRange, CompletedPart, Conditions, Error, ListQuery, ObjectAttrs,
    WriteConditions, limits,
};

const OWNER: &str = "000000000000";
const REGION: &str = "us-east-1";

/// A body made of `chunks` chunks of `chunk_len` deterministic bytes.
fn body(
    seed: u8,
    chunks: usize,
    chunk_len: usize,
) -> (Vec<u8>, impl Stream<Item = io::Result<Bytes>> + Send) {
    let mut all = Vec::with_capacity(chunks * chunk_len);
    let mut parts = Vec::with_capacity(chunks);
    for c in 0..chunks {
        let chunk: Vec<u8> = (0..chunk_len)
            .map(|i| {
                (i as u8)
                    .wrapping_mul(31)
                    .wrapping_add(seed)
                    .wrapping_add(c as u8)
            })
            .collect();
        all.extend_from_slice(&chunk);
        parts.push(Ok(Bytes::from(chunk)));
    }
    (all, futures::stream::iter(parts))
}

fn bytes_body(data: &[u8]) -> impl Stream<Item = io::Result<Bytes>> + Send + use<> {
    futures::stream::iter(vec![Ok(Bytes::copy_from_slice(data))])
}

async fn read_all(store: &BlobStore, bucket: &str, key: &str, range: Option<ByteRange>) -> Vec<u8> {
    let body = store
        .get_object(bucket, key, range, &Conditions::default())
        .await
        .expect("object exists");
    let mut out = Vec::new();
    let mut stream = body.stream;
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.expect("read succeeds"));
    }
    out
}

fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

async fn bucket_lifecycle(store: &BlobStore, raw: &dyn ObjectStore) {
    let _ = raw;
    let b = store
        .create_bucket("media", OWNER, REGION)
        .await
        .expect("create");
    assert_eq!(
        (b.name.as_str(), b.owner.as_str(), b.region.as_str()),
        ("media", OWNER, REGION)
    );
    assert!(matches!(
        store.create_bucket("media", OWNER, REGION).await,
        Err(Error::BucketAlreadyOwnedByYou { .. })
    ));
    assert!(matches!(
        store.create_bucket("media", "111111111111", REGION).await,
        Err(Error::BucketAlreadyExists { .. })
    ));
    assert!(matches!(
        store.create_bucket("../evil", OWNER, REGION).await,
        Err(Error::InvalidBucketName { .. })
    ));
    store
        .create_bucket("another", "111111111111", "eu-west-1")
        .await
        .expect("create");
    let names: Vec<_> = store
        .list_buckets()
        .await
        .expect("list")
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, ["another", "media"]);
    assert_eq!(
        store.head_bucket("another").await.expect("head").region,
        "eu-west-1"
    );
    assert!(matches!(
        store.head_bucket("nope-bucket").await,
        Err(Error::NoSuchBucket { .. })
    ));
    assert!(matches!(
        store.head_bucket("../x").await,
        Err(Error::NoSuchBucket { .. })
    ));

    store
        .put_object("media", "a", bytes_body(b"x"), ObjectAttrs::default())
        .await
        .expect("put");
    assert!(matches!(
        store.delete_bucket("media").await,
        Err(Error::BucketNotEmpty { .. })
    ));
    store.delete_object("media", "a").await.expect("delete");
    let upload = store
        .create_multipart("media", "k", OWNER, ObjectAttrs::default(), None, None)
        .await
        .expect("create upload");
    store
        .delete_bucket("media")
        .await
        .expect("delete empty bucket");
    assert!(matches!(
        store.head_bucket("media").await,
        Err(Error::NoSuchBucket { .. })
    ));
    // Re-creating the bucket does not resurrect the aborted upload.
    store
        .create_bucket("media", OWNER, REGION)
        .await
        .expect("re-create");
    assert!(matches!(
        store.get_upload("media", &upload.upload_id).await,
        Err(Error::NoSuchUpload)
    ));
    assert!(
        store
            .list_uploads("media")
            .await
            .expect("list uploads")
            .is_empty()
    );
}

async fn streaming_put_get_and_ranges(store: &BlobStore, raw: &dyn ObjectStore) {
    let _ = raw;
    store
        .create_bucket("bkt", OWNER, REGION)
        .await
        .expect("create");
    // 12 MiB in 256 KiB chunks: larger than one write chunk, so it takes the multipart path.
    let (data, stream) = body(7, 48, 256 * 1024);
    let attrs = ObjectAttrs {
        content_type: Some("video/mp4".into()),
        user_metadata: [("origin".to_string(), "camera-1".to_string())].into(),
        ..Default::default()
    };
    let info = store
        .put_object("bkt", "big.mp4", stream, attrs.clone())
        .await
        .expect("put");
    assert_eq!(info.size, data.len() as u64);
    assert_eq!(info.etag, md5_hex(&data));
    let head = store.head_object("bkt", "big.mp4").await.expect("head");
    assert_eq!(head.attrs, attrs);
    assert_eq!(head.etag, info.etag);
    assert!(read_all(store, "bkt", "big.mp4", None).await == data);

    let size = data.len() as u64;
    let cases = [
        (ByteRange::FromTo(0, 0), 0..1),
        (ByteRange::FromTo(100, 300_000), 100..300_001),
        (ByteRange::FromTo(size - 10, size + 100), size - 10..size),
        (ByteRange::From(size - 5), size - 5..size),
        (ByteRange::Suffix(1000), size - 1000..size),
    ];
    for (range, expect) in cases {
        let got = store
            .get_object("bkt", "big.mp4", Some(range), &Conditions::default())
            .await
            .expect("get");
        assert!(got.partial);
        assert_eq!(got.range, expect);
        drop(got);
        let bytes = read_all(store, "bkt", "big.mp4", Some(range)).await;
        assert!(
            bytes == data[expect.start as usize..expect.end as usize],
            "{range:?}"
        );
    }
    assert!(matches!(
        store
            .get_object(
                "bkt",
                "big.mp4",
                Some(ByteRange::From(size)),
                &Conditions::default()
            )
            .await,
        Err(Error::InvalidRange { .. })
    ));
    let small = store
        .read_range("bkt", "big.mp4", 8..16)
        .await
        .expect("read_range");
    assert_eq!(&small[..], &data[8..16]);
    let clamped = store
        .read_range("bkt", "big.mp4", size - 4..size + 10)
        .await
        .expect("read_range");
    assert_eq!(&clamped[..], &data[data.len() - 4..]);
    assert!(matches!(
        store
            .read_range("bkt", "big.mp4", 0..limits::MAX_READ_RANGE + 1)
            .await,
        Err(Error::InvalidArgument(_))
    ));

    // Empty object.
    let empty = store
        .put_object(
            "bkt",
            "empty",
            futures::stream::empty(),
            ObjectAttrs::default(),
        )
        .await
        .expect("put");
    assert_eq!(
        (empty.size, empty.etag.as_str()),
        (0, "d41d8cd98f00b204e9800998ecf8427e")
    );
    assert!(read_all(store, "bkt", "empty", None).await.is_empty());
    assert!(matches!(
        store
            .get_object(
                "bkt",
                "empty",
                Some(ByteRange::FromTo(0, 0)),
                &Conditions::default()
            )
            .await,
        Err(Error::InvalidRange { size: 0 })
    ));
    assert!(matches!(
        store
            .get_object("bkt", "missing", None, &Conditions::default())
            .await,
        Err(Error::NoSuchKey)
    ));
    assert!(matches!(
        store.head_object("nobucket", "k").await,
        Err(Error::NoSuchBucket { .. })
    ));
}

async fn failed_body_stores_nothing(store: &BlobStore, raw: &dyn ObjectStore) {
    let _ = raw;
    store
        .create_bucket("bkt", OWNER, REGION)
        .await
        .expect("create");
    store
        .put_object("bkt", "k", bytes_body(b"old"), ObjectAttrs::default())
        .await
        .expect("put");
    for chunks in [1usize, 30] {
        // Fails after `chunks` chunks of 256 KiB: once before and once after switching to the
        // multipart writer.
        let (_, ok) = body(1, chunks, 256 * 1024);
        let failing = ok.chain(futures::stream::iter(vec![Err(io::Error::other(
            "client went away",
        ))]));
        let err = store
            .put_object("bkt", "k", failing, ObjectAttrs::default())
            .await
            .expect_err("fails");
        assert!(matches!(err, Error::Body(_)), "{err:?}");
        assert_eq!(read_all(store, "bkt", "k", None).await, b"old");
    }
    let (_, too_big) = body(1, 3, 10);
    let staged = store.stage("bkt", too_big, 20).await;
    assert!(matches!(staged, Err(Error::EntityTooLarge { max: 20 })));
    // Nothing staged is left behind either: only the one committed object's blob remains.
    assert_eq!(count_blobs(raw, "bkt").await, 1);
}

async fn count_blobs(raw: &dyn ObjectStore, bucket: &str) -> usize {
    // Counts data blobs through the backend directly: leaks are invisible through the API.
    let dir = object_store::path::Path::from(format!("d/{bucket}"));
    raw.list(Some(&dir)).count().await
}

async fn listing(store: &BlobStore, raw: &dyn ObjectStore) {
    let _ = raw;
    store
        .create_bucket("list", OWNER, REGION)
        .await
        .expect("create");
    let keys = [
        "a",
        "a-b",
        "a/b",
        "a/c/d",
        "a/c/e",
        "a0",
        "b",
        "photos/2024/jan.jpg",
        "photos/2024/feb.jpg",
        "photos/2025/x.jpg",
        "é",
        "z/",
        "z//y",
        "Z",
    ];
    for k in keys {
        store
            .put_object("list", k, bytes_body(k.as_bytes()), ObjectAttrs::default())
            .await
            .expect("put");
    }
    let list = |q: ListQuery<'static>| async move {
        let page = store.list_objects("list", &q).await.expect("list");
        let keys: Vec<String> = page.objects.iter().map(|o| o.key.clone()).collect();
        (
            keys,
            page.common_prefixes,
            page.is_truncated,
            page.next_marker,
        )
    };
    let mut sorted: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    sorted.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let (all, cps, truncated, _) = list(ListQuery {
        max_keys: 1000,
        ..Default::default()
    })
    .await;
    assert_eq!(all, sorted);
    assert!(cps.is_empty() && !truncated);

    let (k, cps, _, _) = list(ListQuery {
        delimiter: Some("/"),
        max_keys: 1000,
        ..Default::default()
    })
    .await;
    assert_eq!(k, ["Z", "a", "a-b", "a0", "b", "é"]);
    assert_eq!(cps, ["a/", "photos/", "z/"]);

    let (k, cps, _, _) = list(ListQuery {
        prefix: "photos/",
        delimiter: Some("/"),
        max_keys: 1000,
        ..Default::default()
    })
    .await;
    assert!(k.is_empty());
    assert_eq!(cps, ["photos/2024/", "photos/2025/"]);

    let (k, _, _, _) = list(ListQuery {
        prefix: "photos/2024/",
        max_keys: 1000,
        ..Default::default()
    })
    .await;
    assert_eq!(k, ["photos/2024/feb.jpg", "photos/2024/jan.jpg"]);

    let (k, _, _, _) = list(ListQuery {
        start_after: Some("a0"),
        max_keys: 3,
        ..Default::default()
    })
    .await;
    assert_eq!(k, ["b", "photos/2024/feb.jpg", "photos/2024/jan.jpg"]);

    // Paginate with a delimiter, two entries at a time, through the markers.
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let m = marker.clone();
        let page = store
            .list_objects(
                "list",
                &ListQuery {
                    delimiter: Some("/"),
                    marker: m.as_deref(),
                    max_keys: 2,
                    ..Default::default()
                },
            )
            .await
            .expect("list");
        assert!(page.objects.len() + page.common_prefixes.len() <= 2);
        let mut entries: Vec<String> = page.objects.iter().map(|o| o.key.clone()).collect();
        entries.extend(page.common_prefixes.clone());
        entries.sort();
        seen.extend(entries);
        if !page.is_truncated {
            assert!(page.next_marker.is_none());
            break;
        }
        marker = page.next_marker;
    }
    assert_eq!(
        seen,
        ["Z", "a", "a-b", "a/", "a0", "b", "photos/", "z/", "é"]
    );

    // Listing metadata comes from the records.
    let page = store
        .list_objects(
            "list",
            &ListQuery {
                prefix: "b",
                max_keys: 10,
                ..Default::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(page.objects[0].size, 1);
    assert_eq!(page.objects[0].etag, md5_hex(b"b"));
    let none = store
        .list_objects(
            "list",
            &ListQuery {
                prefix: "nothing",
                max_keys: 10,
                ..Default::default()
            },
        )
        .await
        .expect("list");
    assert!(none.objects.is_empty() && !none.is_truncated);
}

async fn hostile_keys(store: &BlobStore, raw: &dyn ObjectStore) {
    let _ = raw;
    store
        .create_bucket("hostile", OWNER, REGION)
        .await
        .expect("create");
    let long = "ü".repeat(512);
    let keys: Vec<String> = [
        "../../../../etc/passwd",
        "/abs",
        "a//b",
        ".",
        "..",
        "./..",
        "nul\0byte",
        "x#1",
        "%2F",
        "a",
        "a/",
        "a/b",
        "\\..\\windows",
        long.as_str(),
    ]
    .into_iter()
    .map(String::from)
    .collect();
    for (i, k) in keys.iter().enumerate() {
        store
            .put_object("hostile", k, bytes_body(&[i as u8]), ObjectAttrs::default())
            .await
            .expect("put");
    }
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(
            read_all(store, "hostile", k, None).await,
            [i as u8],
            "{k:?}"
        );
    }
    let page = store
        .list_objects(
            "hostile",
            &ListQuery {
                max_keys: 1000,
                ..Default::default()
            },
        )
        .await
        .expect("list");
    let mut expect = keys.clone();
    expect.sort();
    assert_eq!(
        page.objects
            .iter()
            .map(|o| o.key.clone())
            .collect::<Vec<_>>(),
        expect
    );
    assert!(matches!(
        store
            .put_object(
                "hostile",
                &"k".repeat(1025),
                bytes_body(b"x"),
                ObjectAttrs::default()
            )
            .await,
        Err(Error::KeyTooLong { len: 1025 })
    ));
    assert!(matches!(
        store
            .put_object("hostile", "", bytes_body(b"x"), ObjectAttrs::default())
            .await,
        Err(Error::InvalidKey { .. })
    ));
}

async fn copy_delete_and_conditions(store: &BlobStore, raw: &dyn ObjectStore) {
    let _ = raw;
    store
        .create_bucket("src", OWNER, REGION)
        .await
        .expect("create");
    store
        .create_bucket("dst", OWNER, REGION)
        .await
        .expect("create");
    let attrs = ObjectAttrs {
        content_type: Some("text/plain".into()),
        ..Default::default()
    };
    let orig = store
        .put_object("src", "k", bytes_body(b"hello"), attrs.clone())
        .await
        .expect("put");
    let copy = store
        .copy_object("src", "k", "dst", "k2", &Conditions::default(), None)
        .await
        .expect("copy");
    assert_eq!(
        (copy.etag.as_str(), copy.attrs.clone()),
        (orig.etag.as_str(), attrs)
    );
    let replaced = ObjectAttrs {
        content_type: Some("application/x".into()),
        ..Default::default()
    };
    let copy2 = store
        .copy_object(
            "src",
            "k",
            "dst",
            "k3",
            &Conditions::default(),
            Some(replaced.clone()),
        )
        .await
        .expect("copy");
    assert_eq!(copy2.attrs, replaced);
    // The copy is independent of its source.
    store.delete_object("src", "k").await.expect("delete");
    assert_eq!(read_all(store, "dst", "k2", None).await, b"hello");
    assert!(matches!(
        store
            .copy_object("src", "k", "dst", "x", &Conditions::default(), None)
            .await,
        Err(Error::NoSuchKey)
    ));
    // Deleting twice is fine.
    store
        .delete_object("src", "k")
        .await
        .expect("idempotent delete");

    // Copy-source conditions: a failing If-None-Match is 412, not 304.
    let cond = Conditions {
        if_none_match: Some(vec![format!("\"{}\"", copy.etag)]),
        ..Default::default()
    };
    assert!(matches!(
        store
            .copy_object("dst", "k2", "dst", "k4", &cond, None)
            .await,
        Err(Error::PreconditionFailed)
    ));
    // Read conditions.
    let cond = Conditions {
        if_none_match: Some(vec![copy.etag.clone()]),
        ..Default::default()
    };
    assert!(matches!(
        store.get_object("dst", "k2", None, &cond).await,
        Err(Error::NotModified { .. })
    ));

    // Conditional writes.
    let create_only = WriteConditions {
        if_none_match_any: true,
        ..Default::default()
    };
    let staged = store
        .stage("dst", bytes_body(b"new"), 100)
        .await
        .expect("stage");
    assert!(matches!(
        store
            .commit_object("k2", staged, ObjectAttrs::default(), None, &create_only)
            .await,
        Err(Error::PreconditionFailed)
    ));
    let staged = store
        .stage("dst", bytes_body(b"new"), 100)
        .await
        .expect("stage");
    store
        .commit_object("fresh", staged, ObjectAttrs::default(), None, &create_only)
        .await
        .expect("create-only");
    let if_match = WriteConditions {
        if_match: Some(format!("\"{}\"", copy.etag)),
        ..Default::default()
    };
    let staged = store
        .stage("dst", bytes_body(b"v2"), 100)
        .await
        .expect("stage");
    store
        .commit_object("k2", staged, ObjectAttrs::default(), None, &if_match)
        .await
        .expect("if-match write");
    assert_eq!(read_all(store, "dst", "k2", None).await, b"v2");
    // Failed commits discard their staged blob: k2, k3, fresh remain.
    assert_eq!(count_blobs(raw, "dst").await, 3);
}

async fn readers_see_whole_versions(store: &BlobStore, raw: &dyn ObjectStore) {
    let _ = raw;
    store
        .create_bucket("atomic", OWNER, REGION)
        .await
        .expect("create");
    let (v1, s1) = body(1, 4, 100_000);
    store
        .put_object("atomic", "k", s1, ObjectAttrs::default())
        .await
        .expect("put");
    let reader = store
        .get_object("atomic", "k", None, &Conditions::default())
        .await
        .expect("get");
    let (v2, s2) = body(2, 4, 100_000);
    store
        .put_object("atomic", "k", s2, ObjectAttrs::default())
        .await
        .expect("overwrite");
    // The reader opened before the overwrite still reads the first version in full.
    let mut got = Vec::new();
    let mut stream = reader.stream;
    while let Some(c) = stream.next().await {
        got.extend_from_slice(&c.expect("read"));
    }
    assert!(got == v1);
    assert!(read_all(store, "atomic", "k", None).await == v2);
    // The replaced blob was removed.
    assert_eq!(count_blobs(raw, "atomic").await, 1);
}

async fn multipart(store: &BlobStore, raw: &dyn ObjectStore) {
    let _ = raw;
    store
        .create_bucket("mpu", OWNER, REGION)
        .await
        .expect("create");
    let attrs = ObjectAttrs {
        content_type: Some("video/mp2t".into()),
        ..Default::default()
    };
    let up = store
        .create_multipart(
            "mpu",
            "big.ts",
            OWNER,
            attrs.clone(),
            Some("CRC32".into()),
            None,
        )
        .await
        .expect("create");
    assert_eq!(up.upload_id.len(), 32);
    let min = limits::MIN_PART_SIZE as usize;
    // Part 1 is exactly the minimum, streamed in 64 KiB chunks; part 2 is small.
    let (d1, s1) = body(1, min / 65536, 65536);
    let (d2, s2) = body(2, 3, 1000);
    // Upload part 2 first and part 1 twice: order of upload and re-uploads must not matter.
    let p2 = store
        .put_part("mpu", &up.upload_id, 2, s2)
        .await
        .expect("part 2");
    let (_, junk) = body(9, 1, 10);
    store
        .put_part("mpu", &up.upload_id, 1, junk)
        .await
        .expect("part 1 first try");
    let p1 = store
        .put_part("mpu", &up.upload_id, 1, s1)
        .await
        .expect("part 1");
    assert_eq!(p1.etag, md5_hex(&d1));
    let listed = store
        .list_parts("mpu", &up.upload_id)
        .await
        .expect("list parts");
    assert_eq!(
        listed
            .iter()
            .map(|p| (p.part_number, p.size))
            .collect::<Vec<_>>(),
        [(1, d1.len() as u64), (2, 3000)]
    );
    assert_eq!(store.list_uploads("mpu").await.expect("uploads").len(), 1);

    let part = |n: u32, etag: &str| CompletedPart {
        part_number: n,
        etag: format!("\"{etag}\""),
    };
    let no_checksum = |_: &_, _: &[_]| Ok(None);
    assert!(matches!(
        store
            .complete_multipart(
                "mpu",
                &up.upload_id,
                &[part(2, &p2.etag), part(1, &p1.etag)],
                no_checksum
            )
            .await,
        Err(Error::InvalidPartOrder)
    ));
    assert!(matches!(
        store
            .complete_multipart(
                "mpu",
                &up.upload_id,
                &[part(1, &p1.etag), part(2, "0000")],
                no_checksum
            )
            .await,
        Err(Error::InvalidPart { part_number: 2, .. })
    ));
    assert!(matches!(
        store
            .complete_multipart(
                "mpu",
                &up.upload_id,
                &[part(1, &p1.etag), part(3, &p2.etag)],
                no_checksum
            )
            .await,
        Err(Error::InvalidPart { part_number: 3, .. })
    ));
    assert!(matches!(
        store
            .complete_multipart(
                "mpu",
                &up.upload_id,
                &[part(2, &p2.etag), part(3, &p2.etag)],
                no_checksum
            )
            .await,
        Err(Error::InvalidPart { .. })
    ));
    assert!(matches!(
        store
            .put_part("mpu", &up.upload_id, 10_001, bytes_body(b"x"))
            .await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        store
            .put_part("mpu", "not-an-upload-id/../..", 1, bytes_body(b"x"))
            .await,
        Err(Error::NoSuchUpload)
    ));

    let mut seen_parts = 0;
    let info = store
        .complete_multipart(
            "mpu",
            &up.upload_id,
            &[part(1, &p1.etag), part(2, &p2.etag)],
            |u, parts| {
                assert_eq!(u.checksum_algorithm.as_deref(), Some("CRC32"));
                seen_parts = parts.len();
                Ok(None)
            },
        )
        .await
        .expect("complete");
    assert_eq!(seen_parts, 2);
    let mut concat = Vec::new();
    concat.extend(Md5::digest(&d1));
    concat.extend(Md5::digest(&d2));
    assert_eq!(info.etag, format!("{}-2", md5_hex(&concat)));
    assert_eq!(info.parts_count, Some(2));
    assert_eq!(info.attrs, attrs);
    let mut expect = d1.clone();
    expect.extend_from_slice(&d2);
    assert_eq!(info.size, expect.len() as u64);
    assert!(read_all(store, "mpu", "big.ts", None).await == expect);
    let tail = read_all(
        store,
        "mpu",
        "big.ts",
        Some(ByteRange::FromTo(min as u64 - 2, min as u64 + 1)),
    )
    .await;
    assert_eq!(tail, expect[min - 2..min + 2]);
    assert!(matches!(
        store.list_parts("mpu", &up.upload_id).await,
        Err(Error::NoSuchUpload)
    ));
    assert!(store.list_uploads("mpu").await.expect("uploads").is_empty());
    // Only the assembled object's blob is left.
    assert_eq!(count_blobs(raw, "mpu").await, 1);

    // EntityTooSmall and abort.
    let up = store
        .create_multipart("mpu", "small", OWNER, ObjectAttrs::default(), None, None)
        .await
        .expect("create");
    let a = store
        .put_part("mpu", &up.upload_id, 1, bytes_body(b"aaa"))
        .await
        .expect("part");
    let b = store
        .put_part("mpu", &up.upload_id, 2, bytes_body(b"bbb"))
        .await
        .expect("part");
    assert!(matches!(
        store
            .complete_multipart(
                "mpu",
                &up.upload_id,
                &[part(1, &a.etag), part(2, &b.etag)],
                no_checksum
            )
            .await,
        Err(Error::EntityTooSmall {
            part_number: 1,
            size: 3
        })
    ));
    // A single small part is fine (the last part has no minimum).
    store
        .abort_multipart("mpu", &up.upload_id)
        .await
        .expect("abort");
    assert!(matches!(
        store.abort_multipart("mpu", &up.upload_id).await,
        Err(Error::NoSuchUpload)
    ));
    assert!(matches!(
        store
            .put_part("mpu", &up.upload_id, 3, bytes_body(b"x"))
            .await,
        Err(Error::NoSuchUpload)
    ));
    let up = store
        .create_multipart("mpu", "one", OWNER, ObjectAttrs::default(), None, None)
        .await
        .expect("create");
    let a = store
        .put_part("mpu", &up.upload_id, 1, bytes_body(b"only"))
        .await
        .expect("part");
    let info = store
        .complete_multipart("mpu", &up.upload_id, &[part(1, &a.etag)], no_checksum)
        .await
        .expect("complete");
    assert_eq!(read_all(store, "mpu", "one", None).await, b"only");
    assert!(info.etag.ends_with("-1"));
    assert_eq!(count_blobs(raw, "mpu").await, 2);
}

async fn reset(store: &BlobStore, raw: &dyn ObjectStore) {
    let _ = raw;
    store
        .create_bucket("rst", OWNER, REGION)
        .await
        .expect("create");
    store
        .put_object("rst", "x/y", bytes_body(b"1"), ObjectAttrs::default())
        .await
        .expect("put");
    store
        .create_multipart("rst", "m", OWNER, ObjectAttrs::default(), None, None)
        .await
        .expect("upload");
    store.reset().await.expect("reset");
    assert!(store.list_buckets().await.expect("list").is_empty());
    assert!(matches!(
        store.head_object("rst", "x/y").await,
        Err(Error::NoSuchBucket { .. })
    ));
    store
        .create_bucket("rst", OWNER, REGION)
        .await
        .expect("create after reset");
    let page = store
        .list_objects(
            "rst",
            &ListQuery {
                max_keys: 10,
                ..Default::default()
            },
        )
        .await
        .expect("list");
    assert!(page.objects.is_empty());
}

/// Collects a read, keeping a stream error as the result.
async fn collect(body: reelay_blob::ObjectBody) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut stream = body.stream;
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}

/// Ranged reads at and around the size a local read serves in one blocking trip (4 MiB), on
/// both backends, so the local fast path is held to the generic path's answers.
async fn small_range_reads(store: &BlobStore, raw: &dyn ObjectStore) {
    let _ = raw;
    store
        .create_bucket("rng", OWNER, REGION)
        .await
        .expect("create");
    // 5 MiB: above one-trip size, so both paths are reachable on one object.
    let (data, stream) = body(9, 5, 1024 * 1024);
    store
        .put_object("rng", "seg.mp4", stream, ObjectAttrs::default())
        .await
        .expect("put");
    let size = data.len() as u64;
    let four = 4 * 1024 * 1024;
    let cases = [
        (ByteRange::FromTo(0, 51_199), 0..51_200),
        (
            ByteRange::FromTo(1_000_003, 2_500_000),
            1_000_003..2_500_001,
        ),
        (ByteRange::FromTo(size - 1, size - 1), size - 1..size),
        (ByteRange::From(size - 70_000), size - 70_000..size),
        (ByteRange::Suffix(1_500_000), size - 1_500_000..size),
        (ByteRange::FromTo(17, 17 + four - 1), 17..17 + four),
        (ByteRange::FromTo(17, 17 + four), 17..17 + four + 1),
        (ByteRange::From(0), 0..size),
    ];
    for (range, expect) in cases {
        let got = store
            .get_object("rng", "seg.mp4", Some(range), &Conditions::default())
            .await
            .expect("get");
        assert!(got.partial);
        assert_eq!(got.range, expect, "{range:?}");
        assert_eq!(got.info.size, size);
        assert_eq!(got.info.etag, md5_hex(&data));
        let bytes = collect(got).await.expect("read");
        assert!(
            bytes == data[expect.start as usize..expect.end as usize],
            "{range:?}"
        );
    }
    assert!(read_all(store, "rng", "seg.mp4", None).await == data);
    for range in [ByteRange::From(size), ByteRange::FromTo(size + 5, size + 9)] {
        assert!(matches!(
            store
                .get_object("rng", "seg.mp4", Some(range), &Conditions::default())
                .await,
            Err(Error::InvalidRange { size: s }) if s == size
        ));
    }
    let empty = store
        .read_range("rng", "seg.mp4", 100..100)
        .await
        .expect("empty range");
    assert!(empty.is_empty());
    let tail = store
        .read_range("rng", "seg.mp4", size - 3..size + 3)
        .await
        .expect("clamped");
    assert_eq!(&tail[..], &data[data.len() - 3..]);
    assert!(matches!(
        store
            .get_object(
                "rng",
                "nope",
                Some(ByteRange::FromTo(0, 9)),
                &Conditions::default()
            )
            .await,
        Err(Error::NoSuchKey)
    ));
    assert!(matches!(
        store.read_range("nobkt", "seg.mp4", 0..10).await,
        Err(Error::NoSuchBucket { .. })
    ));
    assert!(matches!(
        store
            .get_object("Bad_Name", "k", None, &Conditions::default())
            .await,
        Err(Error::NoSuchBucket { .. })
    ));
    // An overwrite between two reads: each read is one whole version.
    let first = store
        .read_range("rng", "seg.mp4", 4096..8192)
        .await
        .expect("v1");
    assert_eq!(&first[..], &data[4096..8192]);
    let (v2, s2) = body(77, 1, 10_000);
    store
        .put_object("rng", "seg.mp4", s2, ObjectAttrs::default())
        .await
        .expect("overwrite");
    let second = store
        .read_range("rng", "seg.mp4", 4096..8192)
        .await
        .expect("v2");
    assert_eq!(&second[..], &v2[4096..8192]);
    assert!(matches!(
        store
            .get_object(
                "rng",
                "seg.mp4",
                Some(ByteRange::From(10_000)),
                &Conditions::default()
            )
            .await,
        Err(Error::InvalidRange { size: 10_000 })
    ));
    // Conditions are checked against the version read.
    let etag = md5_hex(&v2);
    let cond = Conditions {
        if_none_match: Some(vec![etag.clone()]),
        ..Default::default()
    };
    assert!(matches!(
        store
            .get_object("rng", "seg.mp4", Some(ByteRange::FromTo(0, 9)), &cond)
            .await,
        Err(Error::NotModified { .. })
    ));
    let cond = Conditions {
        if_match: Some(vec![format!("\"{etag}\"")]),
        ..Default::default()
    };
    let got = store
        .get_object("rng", "seg.mp4", Some(ByteRange::FromTo(0, 9)), &cond)
        .await
        .expect("if-match");
    assert_eq!(collect(got).await.expect("read"), &v2[..10]);
    assert_eq!(count_blobs(raw, "rng").await, 1);
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().expect("tempdir");
                    let data = dir.path().join("data");
                    let store = super::BlobStore::open(&data, None).expect("open");
                    let raw = object_store::local::LocalFileSystem::new_with_prefix(data.join("objects")).expect("raw");
                    super::$name(&store, &raw).await;
                    super::assert_confined(dir.path(), &data);
                }
            )*
        }
        mod memory {
            $(
                #[tokio::test]
                async fn $name() {
                    let raw = std::sync::Arc::new(object_store::memory::InMemory::new());
                    let store = super::BlobStore::with_backend(raw.clone(), "memory".into());
                    super::$name(&store, raw.as_ref()).await;
                }
            )*
        }
    };
}

conformance!(
    bucket_lifecycle,
    streaming_put_get_and_ranges,
    failed_body_stores_nothing,
    listing,
    hostile_keys,
    copy_delete_and_conditions,
    readers_see_whole_versions,
    small_range_reads,
    multipart,
    reset,
);

/// Nothing was created outside `data`, and every file under it has a generated name.
fn assert_confined(parent: &Path, data: &Path) {
    let entries: Vec<_> = std::fs::read_dir(parent)
        .expect("read parent")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(
        entries,
        [data.to_path_buf()],
        "files appeared beside the data dir"
    );
    let mut stack = vec![data.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("utf-8 name")
                .to_owned();
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'),
                "unexpected file name {path:?}"
            );
            assert!(!path.is_symlink());
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
}

#[tokio::test]
async fn open_rejects_unknown_urls() {
    for url in ["ftp://x", "s3://", "file:///tmp"] {
        assert!(
            matches!(
                BlobStore::open(Path::new("x"), Some(url)),
                Err(Error::Config(_))
            ),
            "{url}"
        );
    }
}

/// Every data file under `dir`.
fn data_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// The local store's own reads (one blocking trip for small ranges) answer exactly what the
/// generic `object_store` path answers over the same files.
#[tokio::test]
async fn local_reads_match_the_generic_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    let local = BlobStore::open(&data_dir, None).expect("open");
    let raw = std::sync::Arc::new(
        object_store::local::LocalFileSystem::new_with_prefix(data_dir.join("objects"))
            .expect("raw"),
    );
    let generic = BlobStore::with_backend(raw, "generic".into());
    local
        .create_bucket("cmp", OWNER, REGION)
        .await
        .expect("create");
    let (data, stream) = body(3, 3, 700_001);
    local
        .put_object("cmp", "k", stream, ObjectAttrs::default())
        .await
        .expect("put");
    let size = data.len() as u64;
    let mut ranges = vec![None, Some(ByteRange::Suffix(size + 1))];
    // A deterministic spread of starts and lengths over the whole object.
    let mut x: u64 = 0x9e37_79b9;
    for _ in 0..40 {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let start = (x >> 20) % size;
        let len = (x >> 7) % 1_600_000;
        ranges.push(Some(ByteRange::FromTo(start, start + len)));
    }
    for range in ranges {
        let a = local
            .get_object("cmp", "k", range, &Conditions::default())
            .await
            .expect("local");
        let b = generic
            .get_object("cmp", "k", range, &Conditions::default())
            .await
            .expect("generic");
        assert_eq!((a.range.clone(), a.partial), (b.range.clone(), b.partial));
        assert_eq!(a.info, b.info);
        let (a, b) = (collect(a).await.expect("a"), collect(b).await.expect("b"));
        assert!(a == b, "{range:?}");
    }
}

/// A data file shorter than its record (damaged storage) fails the read instead of returning
/// fewer bytes than the answer announced.
#[tokio::test]
async fn local_short_data_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    let store = BlobStore::open(&data_dir, None).expect("open");
    store
        .create_bucket("short", OWNER, REGION)
        .await
        .expect("create");
    let (_, stream) = body(5, 1, 100_000);
    store
        .put_object("short", "k", stream, ObjectAttrs::default())
        .await
        .expect("put");
    let blobs = data_files(&data_dir.join("objects").join("d"));
    assert_eq!(blobs.len(), 1);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&blobs[0])
        .expect("open blob");
    f.set_len(50_000).expect("truncate");
    // Within the file: still served.
    let head = store.read_range("short", "k", 0..10).await.expect("head");
    assert_eq!(head.len(), 10);
    let body = store
        .get_object(
            "short",
            "k",
            Some(ByteRange::FromTo(40_000, 60_000)),
            &Conditions::default(),
        )
        .await
        .expect("record is fine");
    assert!(matches!(
        collect(body).await,
        Err(Error::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof
    ));
    assert!(store.read_range("short", "k", 0..100_000).await.is_err());
}
