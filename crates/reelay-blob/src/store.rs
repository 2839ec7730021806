//! [`BlobStore`]: buckets and objects over an `object_store` backend.
//!
//! Storage layout below the backend root (every piece is either a validated bucket name, a
//! generated id or the hex encoding of [`crate::keys`], so no user input reaches a path):
//!
//! | path | content |
//! |---|---|
//! | `buckets/<bucket>` | bucket record (JSON) |
//! | `b/<bucket>/<encoded key>` | object record (JSON): metadata plus the id of its data blob |
//! | `d/<bucket>/<id>` | object or part data, immutable once written |
//! | `u/<bucket>/<upload id>/upload` | multipart upload record |
//! | `u/<bucket>/<upload id>/part/<nnnnn>` | part record, names the part's data blob |
//!
//! **Atomic visibility.** Data is streamed to a fresh `d/…/<id>` that nobody reads yet; the
//! object becomes visible when its small record is written, and the backends write that in one
//! step (`LocalFileSystem` writes a staging file `<path>#<n>` and renames it over the target;
//! S3 makes a completed PUT visible at once). A reader resolves the record first and then opens
//! the named blob, so it sees either the old or the new object whole, never a mix. The previous
//! blob is deleted after the swap; a reader that resolved the old record just before retries.
//!
//! **Metadata beside the data.** Content type, user metadata, ETag, size and checksum live in the
//! JSON record rather than in `object_store` attributes, because `LocalFileSystem` refuses
//! writes that carry attributes (`put_opts` answers `NotImplemented`), and one record format for
//! every backend keeps them interchangeable.
//!
//! **Streaming.** Writes go through `put_multipart`/`WriteMultipart` once a body outgrows one
//! [`crate::limits`] write chunk, with at most a few chunks in flight; reads are streams of
//! bounded chunks. No code path holds a whole object in memory, except that a local read of at
//! most `SMALL_READ` (4 MiB) bytes is read whole in one blocking-pool trip.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::pin::pin;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::Stream;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use md5::{Digest, Md5};
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{
    GetOptions, GetRange, GetResult, GetResultPayload, ObjectStore, PutMode, PutPayload,
    WriteMultipart,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use tokio::sync::Mutex;

use crate::bucket_name::validate_bucket_name;
use crate::conditions::{Conditions, WriteConditions};
use crate::error::{Error, Result};
use crate::keys::{decode_key, encode_key, join, prefix_dir, validate_key};
use crate::limits::{
    LOCK_STRIPES, MAX_LIST_KEYS, MAX_PUT_SIZE, MAX_READ_RANGE, MAX_RECORD_SIZE, READ_CHUNK,
    SMALL_READ, WRITE_CHUNK, WRITE_IN_FLIGHT,
};
use crate::range::ByteRange;
use crate::records::v1;
use crate::types::{BucketInfo, Checksum, ListPage, ListQuery, ObjectAttrs, ObjectInfo};

/// A stream of object bytes.
pub type ByteStream = BoxStream<'static, Result<Bytes>>;

/// How many records a listing reads concurrently (hides per-request latency on S3 backends).
const LIST_READ_CONCURRENCY: usize = 16;
/// How often a read retries when the blob it resolved was replaced under it.
const READ_ATTEMPTS: usize = 3;

/// Which family of records a lock stripe protects.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LockKind {
    Object,
    Upload,
}

/// Object storage for buckets, objects and multipart uploads.
pub struct BlobStore {
    pub(crate) store: Arc<dyn ObjectStore>,
    /// The same backend when it is the local filesystem: reads of records and object data use
    /// its path mapping and read the files directly, one blocking-pool trip per record (instead
    /// of object_store's open and read trips), one trip for a whole small ranged read (records,
    /// open and bytes) and large prefetched reads of big ones. Writes, lists and deletes still go
    /// through `store`.
    local: Option<Arc<LocalFileSystem>>,
    locks: Box<[Mutex<()>]>,
    description: String,
}

impl fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobStore")
            .field("backend", &self.description)
            .finish()
    }
}

/// Object data that has been written but is not visible yet; commit it with
/// [`BlobStore::commit_object`] or [`BlobStore::commit_part`], or drop it with
/// [`BlobStore::discard`].
#[derive(Debug)]
#[must_use = "staged data must be committed or discarded"]
pub struct StagedData {
    pub(crate) bucket: String,
    pub(crate) data_id: String,
    pub(crate) size: u64,
    pub(crate) etag: String,
    pub(crate) parts_count: Option<u32>,
}

impl StagedData {
    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Entity tag (hex MD5 of the bytes, without quotes).
    pub fn etag(&self) -> &str {
        &self.etag
    }
}

/// The result of [`BlobStore::get_object`].
pub struct ObjectBody {
    /// The object's metadata.
    pub info: ObjectInfo,
    /// The byte range being returned (all of it when no range was asked for).
    pub range: Range<u64>,
    /// Whether a range was asked for (and so the answer is partial content).
    pub partial: bool,
    /// The bytes of `range`.
    pub stream: ByteStream,
}

impl fmt::Debug for ObjectBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectBody")
            .field("info", &self.info)
            .field("range", &self.range)
            .field("partial", &self.partial)
            .finish_non_exhaustive()
    }
}

pub(crate) fn now() -> OffsetDateTime {
    to_time(to_ms(OffsetDateTime::now_utc()))
}

pub(crate) fn to_ms(t: OffsetDateTime) -> i64 {
    // Milliseconds since the epoch fit an i64 for the next 292 million years.
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub(crate) fn to_time(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl v1::ObjectRecord {
    pub(crate) fn info(&self) -> ObjectInfo {
        ObjectInfo {
            key: self.key.clone(),
            size: self.size,
            etag: self.etag.clone(),
            last_modified: to_time(self.last_modified_ms),
            attrs: self.attrs.clone(),
            checksum: self.checksum.clone(),
            parts_count: self.parts_count,
        }
    }
}

impl v1::BucketRecord {
    fn info(&self) -> BucketInfo {
        BucketInfo {
            name: self.name.clone(),
            owner: self.owner.clone(),
            region: self.region.clone(),
            created: to_time(self.created_ms),
        }
    }
}

/// Path helpers. Callers validate bucket names and keys before building paths.
pub(crate) mod paths {
    use super::*;

    pub(crate) fn bucket(name: &str) -> Result<Path> {
        join(&["buckets", name])
    }
    pub(crate) fn index_root(bucket: &str) -> Result<Path> {
        join(&["b", bucket])
    }
    pub(crate) fn index(bucket: &str, key: &str) -> Result<Path> {
        join(&["b", bucket, &encode_key(key)])
    }
    pub(crate) fn data(bucket: &str, id: &str) -> Result<Path> {
        join(&["d", bucket, id])
    }
}

impl BlobStore {
    /// Opens the store: `LocalFileSystem` under `<data_dir>/objects` when `url` is `None`;
    /// `s3://bucket[/prefix]` for an S3-compatible backend configured from the standard `AWS_*`
    /// environment variables (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_REGION`…; plain HTTP is allowed when the endpoint is `http://`); `memory://` for a
    /// process-local in-memory store.
    pub fn open(data_dir: &std::path::Path, url: Option<&str>) -> Result<BlobStore> {
        let Some(url) = url else {
            let root = data_dir.join("objects");
            std::fs::create_dir_all(&root)
                .map_err(|e| Error::Config(format!("cannot create {}: {e}", root.display())))?;
            let local =
                Arc::new(LocalFileSystem::new_with_prefix(&root)?.with_automatic_cleanup(true));
            let mut store = Self::with_backend(local.clone(), format!("local:{}", root.display()));
            store.local = Some(local);
            return Ok(store);
        };
        if url == "memory://" {
            return Ok(Self::in_memory());
        }
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| Error::Config(format!("unsupported blob store url {url:?}")))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(Error::Config("s3 url without a bucket".into()));
        }
        let mut builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
        let endpoint = std::env::var("AWS_ENDPOINT_URL")
            .or_else(|_| std::env::var("AWS_ENDPOINT"))
            .ok();
        if let Some(endpoint) = endpoint {
            if endpoint.starts_with("http://") {
                builder = builder.with_allow_http(true);
            }
            builder = builder.with_endpoint(endpoint);
        }
        let s3: Arc<dyn ObjectStore> = Arc::new(builder.build()?);
        let prefix = prefix.trim_matches('/');
        let backend: Arc<dyn ObjectStore> = if prefix.is_empty() {
            s3
        } else {
            let prefix = Path::parse(prefix)
                .map_err(|e| Error::Config(format!("invalid s3 prefix {prefix:?}: {e}")))?;
            Arc::new(PrefixStore::new(s3, prefix))
        };
        Ok(Self::with_backend(
            backend,
            format!("s3://{bucket}/{prefix}"),
        ))
    }

    /// A store that keeps everything in process memory (tests, ephemeral servers).
    pub fn in_memory() -> BlobStore {
        Self::with_backend(Arc::new(InMemory::new()), "memory://".into())
    }

    /// Wraps any `object_store` backend.
    pub fn with_backend(store: Arc<dyn ObjectStore>, description: String) -> BlobStore {
        let locks = (0..2 * LOCK_STRIPES).map(|_| Mutex::new(())).collect();
        BlobStore {
            store,
            local: None,
            locks,
            description,
        }
    }

    /// A short description of the backend, for logs.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The lock stripe for a record. Stripes serialise read-modify-write of records (so the
    /// blob a replaced record named is deleted exactly once); they never cover data streaming
    /// of a request body.
    ///
    /// Object and upload locks come from disjoint halves of the stripe array, and an upload lock
    /// may be held while taking an object lock (completion) but never the other way round, so
    /// two stripes can never deadlock.
    pub(crate) fn lock_for(&self, kind: LockKind, bucket: &str, name: &str) -> &Mutex<()> {
        let mut h = DefaultHasher::new();
        (bucket, name).hash(&mut h);
        // The modulo keeps the index below LOCK_STRIPES, and `locks` has 2 * LOCK_STRIPES.
        let idx = (h.finish() % LOCK_STRIPES as u64) as usize;
        let base = match kind {
            LockKind::Object => 0,
            LockKind::Upload => LOCK_STRIPES,
        };
        &self.locks[base + idx]
    }

    pub(crate) async fn read_record<T: DeserializeOwned + Send + 'static>(
        &self,
        path: &Path,
    ) -> Result<Option<T>> {
        if let Some(local) = &self.local {
            let local = local.clone();
            let path = path.clone();
            return blocking(move || read_local_json(&local, &path)).await;
        }
        let res = match self.store.get(path).await {
            Ok(res) => res,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if res.meta.size > MAX_RECORD_SIZE {
            return Err(Error::Corrupt {
                path: path.to_string(),
                reason: format!("record of {} bytes is over the limit", res.meta.size),
            });
        }
        let bytes = match res.bytes().await {
            Ok(b) => b,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        parse_record(path, &bytes).map(Some)
    }

    pub(crate) async fn write_record<T: Serialize>(&self, path: &Path, record: &T) -> Result<()> {
        let json = serde_json::to_vec(record).map_err(|e| Error::Corrupt {
            path: path.to_string(),
            reason: e.to_string(),
        })?;
        self.store.put(path, PutPayload::from(json)).await?;
        Ok(())
    }

    /// Deletes a path, treating "already gone" as success.
    pub(crate) async fn delete_quiet(&self, path: &Path) -> Result<()> {
        match self.store.delete(path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a blob whose record is already gone; failures only leak space, so they are logged.
    pub(crate) async fn delete_blob(&self, bucket: &str, id: &str) {
        let res = match paths::data(bucket, id) {
            Ok(path) => self.delete_quiet(&path).await,
            Err(e) => Err(e),
        };
        if let Err(e) = res {
            tracing::warn!(bucket, id, error = %e, "could not delete an unreferenced blob");
        }
    }

    /// Deletes everything under a directory.
    pub(crate) async fn delete_tree(&self, dir: Option<&Path>) -> Result<()> {
        let locations = self.store.list(dir).map_ok(|m| m.location).boxed();
        let mut deleted = self.store.delete_stream(locations);
        while let Some(res) = deleted.next().await {
            match res {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    // ---- buckets ----

    /// Creates a bucket owned by `owner`.
    pub async fn create_bucket(&self, name: &str, owner: &str, region: &str) -> Result<BucketInfo> {
        validate_bucket_name(name)?;
        let record = v1::BucketRecord {
            v: v1::VERSION,
            name: name.to_owned(),
            owner: owner.to_owned(),
            region: region.to_owned(),
            created_ms: to_ms(now()),
        };
        let json = serde_json::to_vec(&record).map_err(|e| Error::Corrupt {
            path: name.to_owned(),
            reason: e.to_string(),
        })?;
        let path = paths::bucket(name)?;
        // Create-if-absent makes two concurrent creators race safely: exactly one wins.
        match self
            .store
            .put_opts(&path, PutPayload::from(json), PutMode::Create.into())
            .await
        {
            Ok(_) => Ok(record.info()),
            Err(object_store::Error::AlreadyExists { .. }) => {
                let existing = self.head_bucket(name).await?;
                if existing.owner == owner {
                    Err(Error::BucketAlreadyOwnedByYou {
                        bucket: name.to_owned(),
                    })
                } else {
                    Err(Error::BucketAlreadyExists {
                        bucket: name.to_owned(),
                    })
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Returns a bucket's record.
    pub async fn head_bucket(&self, name: &str) -> Result<BucketInfo> {
        let no_such = || Error::NoSuchBucket {
            bucket: name.to_owned(),
        };
        // An invalid name cannot exist, and must not be turned into a path.
        validate_bucket_name(name).map_err(|_| no_such())?;
        let record: Option<v1::BucketRecord> = self.read_record(&paths::bucket(name)?).await?;
        record.map(|r| r.info()).ok_or_else(no_such)
    }

    /// Lists all buckets, sorted by name.
    pub async fn list_buckets(&self) -> Result<Vec<BucketInfo>> {
        let root = Path::from("buckets");
        let metas: Vec<_> = self.store.list(Some(&root)).try_collect().await?;
        let mut out = Vec::with_capacity(metas.len());
        for meta in metas {
            if let Some(r) = self.read_record::<v1::BucketRecord>(&meta.location).await? {
                out.push(r.info());
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Deletes an empty bucket, aborting its in-progress multipart uploads.
    pub async fn delete_bucket(&self, name: &str) -> Result<()> {
        self.head_bucket(name).await?;
        let index_root = paths::index_root(name)?;
        if let Some(first) = self.store.list(Some(&index_root)).next().await {
            first?;
            return Err(Error::BucketNotEmpty {
                bucket: name.to_owned(),
            });
        }
        self.delete_quiet(&paths::bucket(name)?).await?;
        // Remove what a bucket leaves behind: upload records, part and orphaned blobs.
        self.delete_tree(Some(&join(&["u", name])?)).await?;
        self.delete_tree(Some(&join(&["d", name])?)).await?;
        self.delete_tree(Some(&index_root)).await?;
        Ok(())
    }

    /// Deletes every bucket, object and upload.
    pub async fn reset(&self) -> Result<()> {
        self.delete_tree(None).await
    }

    // ---- objects ----

    /// Streams `body` into a new, not yet visible blob of `bucket`, computing its size and MD5.
    ///
    /// Fails with [`Error::EntityTooLarge`] past `max_size` and with [`Error::Body`] when the body
    /// stream fails; in both cases nothing is left behind.
    pub async fn stage<S>(&self, bucket: &str, body: S, max_size: u64) -> Result<StagedData>
    where
        S: Stream<Item = io::Result<Bytes>> + Send,
    {
        self.head_bucket(bucket).await?;
        let data_id = new_id();
        let path = paths::data(bucket, &data_id)?;
        let mut body = pin!(body);
        let mut md5 = Md5::new();
        let mut size: u64 = 0;
        // Bodies smaller than one write chunk are collected and sent with one `put`; larger ones
        // switch to a multipart writer, so memory stays bounded for any size.
        let mut small: Vec<Bytes> = Vec::new();
        let mut small_len = 0usize;
        let mut writer: Option<WriteMultipart> = None;
        let res: Result<()> = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(Error::Body)?;
                if chunk.is_empty() {
                    continue;
                }
                size = size
                    .checked_add(chunk.len() as u64)
                    .filter(|s| *s <= max_size)
                    .ok_or(Error::EntityTooLarge { max: max_size })?;
                md5.update(&chunk);
                match writer.as_mut() {
                    Some(w) => {
                        w.wait_for_capacity(WRITE_IN_FLIGHT).await?;
                        w.put(chunk);
                    }
                    None => {
                        small_len += chunk.len();
                        small.push(chunk);
                        if small_len >= WRITE_CHUNK {
                            let upload = self.store.put_multipart(&path).await?;
                            let mut w = WriteMultipart::new_with_chunk_size(upload, WRITE_CHUNK);
                            for c in small.drain(..) {
                                w.put(c);
                            }
                            writer = Some(w);
                        }
                    }
                }
            }
            Ok(())
        }
        .await;
        match (res, writer) {
            (Ok(()), Some(w)) => {
                w.finish().await?;
            }
            (Ok(()), None) => {
                self.store
                    .put(&path, small.into_iter().collect::<PutPayload>())
                    .await?;
            }
            (Err(e), Some(w)) => {
                if let Err(abort) = w.abort().await {
                    tracing::warn!(error = %abort, "could not abort a failed upload");
                }
                return Err(e);
            }
            (Err(e), None) => return Err(e),
        }
        Ok(StagedData {
            bucket: bucket.to_owned(),
            data_id,
            size,
            etag: hex::encode(md5.finalize()),
            parts_count: None,
        })
    }

    /// Drops staged data without making it visible.
    pub async fn discard(&self, staged: StagedData) {
        self.delete_blob(&staged.bucket, &staged.data_id).await;
    }

    /// Makes staged data visible as `bucket/key`, replacing any previous object atomically.
    pub async fn commit_object(
        &self,
        key: &str,
        staged: StagedData,
        attrs: ObjectAttrs,
        checksum: Option<Checksum>,
        conditions: &WriteConditions,
    ) -> Result<ObjectInfo> {
        let bucket = staged.bucket.clone();
        let data_id = staged.data_id.clone();
        let res = self
            .commit_inner(key, &staged, attrs, checksum, conditions)
            .await;
        if res.is_err() {
            self.delete_blob(&bucket, &data_id).await;
        }
        res
    }

    async fn commit_inner(
        &self,
        key: &str,
        staged: &StagedData,
        attrs: ObjectAttrs,
        checksum: Option<Checksum>,
        conditions: &WriteConditions,
    ) -> Result<ObjectInfo> {
        validate_key(key)?;
        let bucket = staged.bucket.as_str();
        self.head_bucket(bucket).await?;
        let path = paths::index(bucket, key)?;
        let record = v1::ObjectRecord {
            v: v1::VERSION,
            key: key.to_owned(),
            data: staged.data_id.clone(),
            size: staged.size,
            etag: staged.etag.clone(),
            last_modified_ms: to_ms(now()),
            attrs,
            checksum,
            parts_count: staged.parts_count,
        };
        let previous = {
            let _guard = self.lock_for(LockKind::Object, bucket, key).lock().await;
            let previous: Option<v1::ObjectRecord> = self.read_record(&path).await?;
            conditions.evaluate(previous.as_ref().map(|p| p.info()).as_ref())?;
            self.write_record(&path, &record).await?;
            previous
        };
        if let Some(previous) = previous
            && previous.data != record.data
        {
            self.delete_blob(bucket, &previous.data).await;
        }
        Ok(record.info())
    }

    /// Streams `body` into `bucket/key` (stage + commit without conditions or checksum).
    pub async fn put_object<S>(
        &self,
        bucket: &str,
        key: &str,
        body: S,
        attrs: ObjectAttrs,
    ) -> Result<ObjectInfo>
    where
        S: Stream<Item = io::Result<Bytes>> + Send,
    {
        validate_key(key)?;
        let staged = self.stage(bucket, body, MAX_PUT_SIZE).await?;
        self.commit_object(key, staged, attrs, None, &WriteConditions::default())
            .await
    }

    async fn object_record(&self, bucket: &str, key: &str) -> Result<v1::ObjectRecord> {
        validate_key(key)?;
        self.head_bucket(bucket).await?;
        self.read_record(&paths::index(bucket, key)?)
            .await?
            .ok_or(Error::NoSuchKey)
    }

    /// Returns an object's metadata.
    pub async fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectInfo> {
        Ok(self.object_record(bucket, key).await?.info())
    }

    /// Opens an object for reading, optionally a byte range of it, after checking `conditions`.
    pub async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        range: Option<ByteRange>,
        conditions: &Conditions,
    ) -> Result<ObjectBody> {
        if let Some(local) = &self.local {
            return get_local_object(local.clone(), bucket, key, range, conditions).await;
        }
        for _ in 0..READ_ATTEMPTS {
            let record = self.object_record(bucket, key).await?;
            let info = record.info();
            conditions.evaluate(&info)?;
            let (resolved, partial) = resolve_range(range, info.size)?;
            match self.open_blob(bucket, &record.data, resolved.clone()).await {
                Ok(stream) => {
                    return Ok(ObjectBody {
                        info,
                        range: resolved,
                        partial,
                        stream,
                    });
                }
                // The object was replaced between reading its record and opening its blob.
                Err(e) if e.is_backend_not_found() => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::NoSuchKey)
    }

    /// Reads a small byte range (at most [`crate::limits::MAX_READ_RANGE`] bytes) into memory;
    /// meant for headers such as an MP4 `moov`. The end is clamped to the object size.
    pub async fn read_range(&self, bucket: &str, key: &str, range: Range<u64>) -> Result<Bytes> {
        if range.start > range.end {
            return Err(Error::InvalidArgument(
                "range start is after its end".into(),
            ));
        }
        let len = range.end - range.start;
        if len > MAX_READ_RANGE {
            return Err(Error::InvalidArgument(format!(
                "read_range of {len} bytes exceeds the {MAX_READ_RANGE}-byte limit"
            )));
        }
        if len == 0 {
            self.head_object(bucket, key).await?;
            return Ok(Bytes::new());
        }
        let body = self
            .get_object(
                bucket,
                key,
                Some(ByteRange::FromTo(range.start, range.end - 1)),
                &Conditions::default(),
            )
            .await?;
        // `len` is at most MAX_READ_RANGE, so the preallocation is bounded.
        let mut out = BytesMut::with_capacity((body.range.end - body.range.start) as usize);
        let mut stream = body.stream;
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out.freeze())
    }

    pub(crate) async fn open_blob(
        &self,
        bucket: &str,
        id: &str,
        range: Range<u64>,
    ) -> Result<ByteStream> {
        let path = paths::data(bucket, id)?;
        if range.is_empty() {
            // Backends refuse empty ranges; an empty object still has to exist.
            self.store.head(&path).await?;
            return Ok(futures::stream::empty().boxed());
        }
        if let Some(local) = &self.local {
            let file = local.path_to_filesystem(&path)?;
            return local_file_stream(file, range).await;
        }
        let opts = GetOptions {
            range: Some(GetRange::Bounded(range)),
            ..Default::default()
        };
        let res = self.store.get_opts(&path, opts).await?;
        Ok(result_stream(res))
    }

    /// Deletes an object. Deleting a missing key succeeds, as in S3.
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<()> {
        validate_key(key)?;
        self.head_bucket(bucket).await?;
        let path = paths::index(bucket, key)?;
        let previous = {
            let _guard = self.lock_for(LockKind::Object, bucket, key).lock().await;
            let previous: Option<v1::ObjectRecord> = self.read_record(&path).await?;
            if previous.is_some() {
                self.delete_quiet(&path).await?;
            }
            previous
        };
        if let Some(previous) = previous {
            self.delete_blob(bucket, &previous.data).await;
        }
        Ok(())
    }

    /// Copies an object. The copy keeps the source's ETag and checksum; `attrs` replaces the
    /// source's attributes when given (S3 `x-amz-metadata-directive: REPLACE`).
    pub async fn copy_object(
        &self,
        src_bucket: &str,
        src_key: &str,
        dst_bucket: &str,
        dst_key: &str,
        source_conditions: &Conditions,
        attrs: Option<ObjectAttrs>,
    ) -> Result<ObjectInfo> {
        validate_key(dst_key)?;
        self.head_bucket(dst_bucket).await?;
        for _ in 0..READ_ATTEMPTS {
            let source = self.object_record(src_bucket, src_key).await?;
            source_conditions.evaluate_copy_source(&source.info())?;
            let data_id = new_id();
            let from = paths::data(src_bucket, &source.data)?;
            let to = paths::data(dst_bucket, &data_id)?;
            // Blobs are immutable, so a backend copy (a hard link on local disks) is safe.
            match self.store.copy(&from, &to).await {
                Ok(()) => {}
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
            let staged = StagedData {
                bucket: dst_bucket.to_owned(),
                data_id,
                size: source.size,
                etag: source.etag.clone(),
                parts_count: source.parts_count,
            };
            let attrs = attrs.unwrap_or(source.attrs);
            return self
                .commit_object(
                    dst_key,
                    staged,
                    attrs,
                    source.checksum,
                    &WriteConditions::default(),
                )
                .await;
        }
        Err(Error::NoSuchKey)
    }

    /// Lists a page of keys in UTF-8 binary order, rolling keys up into common prefixes when a
    /// delimiter is given (S3 ListObjectsV2 semantics).
    ///
    /// The walk covers only the directory implied by the prefix (see [`crate::keys`]) and keeps
    /// at most `max_keys + 1` entries in memory, whatever the bucket size.
    pub async fn list_objects(&self, bucket: &str, query: &ListQuery<'_>) -> Result<ListPage> {
        self.head_bucket(bucket).await?;
        let max = query.max_keys.min(MAX_LIST_KEYS);
        let base = format!("b/{bucket}/");
        let root = join(&["b", bucket, &prefix_dir(query.prefix)])?;
        let delimiter = query.delimiter.filter(|d| !d.is_empty());
        let prefix = query.prefix;
        // entry -> is a common prefix
        let mut entries: BTreeMap<String, bool> = BTreeMap::new();
        let mut listing = self.store.list(Some(&root));
        while let Some(meta) = listing.next().await {
            let meta = match meta {
                Ok(m) => m,
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(e.into()),
            };
            let Some(key) = meta
                .location
                .as_ref()
                .strip_prefix(&base)
                .and_then(decode_key)
            else {
                tracing::debug!(location = %meta.location, "ignoring a foreign file in the index");
                continue;
            };
            if !key.starts_with(prefix) {
                continue;
            }
            if query.start_after.is_some_and(|s| key.as_str() <= s) {
                continue;
            }
            let rolled = delimiter.and_then(|d| {
                key[prefix.len()..]
                    .find(d)
                    .map(|i| prefix.len() + i + d.len())
            });
            let (entry, is_prefix) = match rolled {
                Some(end) => (key[..end].to_owned(), true),
                None => (key, false),
            };
            if query.marker.is_some_and(|m| entry.as_str() <= m) {
                continue;
            }
            entries.insert(entry, is_prefix);
            if entries.len() > max + 1 {
                entries.pop_last();
            }
        }
        let is_truncated = max > 0 && entries.len() > max;
        let page: Vec<(String, bool)> = entries.into_iter().take(max).collect();
        let next_marker = if is_truncated {
            page.last().map(|(e, _)| e.clone())
        } else {
            None
        };
        let mut common_prefixes = Vec::new();
        let mut keys = Vec::new();
        for (entry, is_prefix) in page {
            if is_prefix {
                common_prefixes.push(entry);
            } else {
                keys.push(entry);
            }
        }
        let records: Vec<Option<v1::ObjectRecord>> = futures::stream::iter(keys)
            .map(|key| async move {
                let path = paths::index(bucket, &key)?;
                self.read_record::<v1::ObjectRecord>(&path).await
            })
            .buffered(LIST_READ_CONCURRENCY)
            .try_collect()
            .await?;
        // A record deleted since the walk is simply left out.
        let objects = records.into_iter().flatten().map(|r| r.info()).collect();
        Ok(ListPage {
            objects,
            common_prefixes,
            is_truncated,
            next_marker,
        })
    }
}

/// Turns a backend read into a stream of bounded chunks.
fn result_stream(res: GetResult) -> ByteStream {
    let range = res.range.clone();
    match res.payload {
        GetResultPayload::File(file, _path) => file_stream(file, range),
        GetResultPayload::Stream(s) => s.map_err(Error::from).boxed(),
    }
}

/// Runs blocking file work on the blocking pool.
async fn blocking<T, F>(f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Io(io::Error::other(e)))?
}

/// What [`open_local_object`] found: the object and either its bytes or its open data file.
struct LocalObject {
    info: ObjectInfo,
    range: Range<u64>,
    partial: bool,
    data: LocalData,
}

enum LocalData {
    /// The whole range, read in the same trip (at most [`SMALL_READ`] bytes).
    Read(Bytes),
    /// The data file is shorter than its record says (damaged storage).
    Short,
    /// A range above [`SMALL_READ`]: the open file, to stream in chunks.
    Open(std::fs::File),
}

/// [`BlobStore::get_object`] on the local backend. A small range costs a single blocking-pool
/// trip (the bucket record, the object record, the data file and its bytes), instead of one trip
/// per record, one to open the data and one per chunk: the trips and their thread wake-ups, not
/// the disk, dominated the CPU of serving media segments.
async fn get_local_object(
    local: Arc<LocalFileSystem>,
    bucket: &str,
    key: &str,
    range: Option<ByteRange>,
    conditions: &Conditions,
) -> Result<ObjectBody> {
    // The same checks, in the same order, as `object_record` and `head_bucket`.
    validate_key(key)?;
    if validate_bucket_name(bucket).is_err() {
        return Err(Error::NoSuchBucket {
            bucket: bucket.to_owned(),
        });
    }
    let bucket = bucket.to_owned();
    let index = paths::index(&bucket, key)?;
    let conditions = conditions.clone();
    let found =
        blocking(move || open_local_object(&local, &bucket, &index, range, &conditions)).await?;
    let stream = match found.data {
        LocalData::Read(bytes) if bytes.is_empty() => futures::stream::empty().boxed(),
        LocalData::Read(bytes) => futures::stream::once(async move { Ok(bytes) }).boxed(),
        LocalData::Short => futures::stream::once(async { Err(short_data()) }).boxed(),
        LocalData::Open(file) => file_stream(file, found.range.clone()),
    };
    Ok(ObjectBody {
        info: found.info,
        range: found.range,
        partial: found.partial,
        stream,
    })
}

/// The bytes a GET reads of an object of `size` bytes, and whether that is a part of it
/// (a `Range` request) rather than the whole.
fn resolve_range(range: Option<ByteRange>, size: u64) -> Result<(Range<u64>, bool)> {
    match range {
        None => Ok((0..size, false)),
        Some(r) => Ok((r.resolve(size).ok_or(Error::InvalidRange { size })?, true)),
    }
}

/// The blocking part of [`get_local_object`]; it keeps every semantic of the generic path.
///
/// Atomicity: the data file is named by the record just read and blobs are immutable, so once it
/// is open the bytes read through the handle are that version's, even if the object is replaced
/// and the file unlinked meanwhile. A blob deleted between reading the record and opening it
/// means the object was replaced: re-read the record, as the generic path does.
fn open_local_object(
    local: &LocalFileSystem,
    bucket: &str,
    index: &Path,
    range: Option<ByteRange>,
    conditions: &Conditions,
) -> Result<LocalObject> {
    if read_local_json::<v1::BucketRecord>(local, &paths::bucket(bucket)?)?.is_none() {
        return Err(Error::NoSuchBucket {
            bucket: bucket.to_owned(),
        });
    }
    for _ in 0..READ_ATTEMPTS {
        let record: v1::ObjectRecord = read_local_json(local, index)?.ok_or(Error::NoSuchKey)?;
        let info = record.info();
        conditions.evaluate(&info)?;
        let (resolved, partial) = resolve_range(range, info.size)?;
        let file = local.path_to_filesystem(&paths::data(bucket, &record.data)?)?;
        let (f, len) = match open_local_file(&file) {
            Ok(opened) => opened,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::Io(e)),
        };
        let data = if resolved.end - resolved.start > SMALL_READ {
            LocalData::Open(f)
        } else if len < resolved.end {
            LocalData::Short
        } else {
            // The range is at most SMALL_READ bytes (checked just above), so the buffer is
            // bounded; it is zeroed by the allocator, and `read_exact_at` is one positioned read
            // on the handle, so no shared file offset is involved.
            let mut buf = vec![0u8; (resolved.end - resolved.start) as usize];
            match f.read_exact_at(&mut buf, resolved.start) {
                Ok(()) => LocalData::Read(Bytes::from(buf)),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => LocalData::Short,
                Err(e) => return Err(Error::Io(e)),
            }
        };
        return Ok(LocalObject {
            info,
            range: resolved,
            partial,
            data,
        });
    }
    Err(Error::NoSuchKey)
}

/// Opens a file of the local backend (a record or data) and returns its length; a directory
/// counts as absent (`NotFound`), as in `LocalFileSystem`.
fn open_local_file(file: &std::path::Path) -> io::Result<(std::fs::File, u64)> {
    let f = std::fs::File::open(file)?;
    let meta = f.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::new(io::ErrorKind::NotFound, "is a directory"));
    }
    Ok((f, meta.len()))
}

fn short_data() -> Error {
    Error::Io(io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "object data is shorter than its record says",
    ))
}

/// Reads and parses a record of the local backend; `None` when it does not exist.
fn read_local_json<T: DeserializeOwned>(local: &LocalFileSystem, path: &Path) -> Result<Option<T>> {
    let file = local.path_to_filesystem(path)?;
    match read_local_record(&file).map_err(Error::Io)? {
        None => Ok(None),
        Some(Err(size)) => Err(Error::Corrupt {
            path: path.to_string(),
            reason: format!("record of {size} bytes is over the limit"),
        }),
        Some(Ok(bytes)) => parse_record(path, &bytes).map(Some),
    }
}

fn parse_record<T: DeserializeOwned>(path: &Path, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::Corrupt {
        path: path.to_string(),
        reason: e.to_string(),
    })
}

/// Reads a whole record file of the local backend: `None` when it does not exist (a directory
/// counts as absent, as in `LocalFileSystem`), `Some(Err(size))` when it is larger than
/// [`MAX_RECORD_SIZE`].
#[allow(clippy::type_complexity)] // reason: the three outcomes read more plainly than a new enum
fn read_local_record(
    file: &std::path::Path,
) -> io::Result<Option<std::result::Result<Vec<u8>, u64>>> {
    let (f, len) = match open_local_file(file) {
        Ok(opened) => opened,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if len > MAX_RECORD_SIZE {
        return Ok(Some(Err(len)));
    }
    // The size was checked against MAX_RECORD_SIZE just above, and `take` bounds the read even
    // if the file grows in between.
    let mut buf = Vec::with_capacity(len as usize);
    f.take(MAX_RECORD_SIZE + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > MAX_RECORD_SIZE {
        return Ok(Some(Err(buf.len() as u64)));
    }
    Ok(Some(Ok(buf)))
}

/// Opens `range` of a data file of the local backend. A missing file is the backend's
/// `NotFound`, so that a reader racing a replacement retries (see [`BlobStore::get_object`]).
async fn local_file_stream(file: std::path::PathBuf, range: Range<u64>) -> Result<ByteStream> {
    let shown = file.display().to_string();
    let opened = tokio::task::spawn_blocking(move || open_local_file(&file).map(|(f, _)| f))
        .await
        .map_err(|e| Error::Io(io::Error::other(e)))?;
    match opened {
        Ok(f) => Ok(file_stream(f, range)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            Err(Error::Storage(object_store::Error::NotFound {
                path: shown,
                source: Box::new(e),
            }))
        }
        Err(e) => Err(Error::Io(e)),
    }
}

/// A read of one chunk running on the blocking pool; it hands the file back with the bytes.
type ChunkRead = tokio::task::JoinHandle<io::Result<(std::fs::File, Vec<u8>)>>;

/// Starts reading at most [`READ_CHUNK`] bytes at `pos` (never past `end`) on the blocking pool.
fn read_chunk(mut file: std::fs::File, pos: u64, end: u64) -> ChunkRead {
    tokio::task::spawn_blocking(move || {
        let want = (end - pos).min(READ_CHUNK);
        file.seek(SeekFrom::Start(pos))?;
        // `want` is at most READ_CHUNK, so the preallocation is bounded.
        let mut buf = Vec::with_capacity(want as usize);
        (&mut file).take(want).read_to_end(&mut buf)?;
        Ok((file, buf))
    })
}

/// Reads `range` of a local file in [`READ_CHUNK`] pieces on the blocking pool, one chunk ahead:
/// the next chunk is read while the previous one is being written to the socket, so disk reads
/// and network writes overlap on two cores. At most two chunks per stream are in memory, and no
/// blocking thread is held while the consumer is slow.
fn file_stream(file: std::fs::File, range: Range<u64>) -> ByteStream {
    let first = (range.start < range.end).then(|| read_chunk(file, range.start, range.end));
    futures::stream::try_unfold(
        (first, range.start, range.end),
        |(pending, pos, end)| async move {
            let Some(pending) = pending else {
                return Ok(None);
            };
            let (file, buf) = pending
                .await
                .map_err(|e| Error::Io(io::Error::other(e)))?
                .map_err(Error::Io)?;
            if buf.is_empty() {
                return Err(short_data());
            }
            let next = pos + buf.len() as u64;
            let prefetch = (next < end).then(|| read_chunk(file, next, end));
            Ok(Some((Bytes::from(buf), (prefetch, next, end))))
        },
    )
    .boxed()
}
