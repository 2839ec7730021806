//! The ingest worker: takes jobs from the store, ingests, persists the index, records the
//! state and the events.

use crate::index::AssetIndex;
use crate::source;
use base64::Engine as _;
use reelay_api_common::Deps;
use reelay_api_mediapackage_vod::events::{EventLog, envelope};
use reelay_api_mediapackage_vod::ingest::{
    self, IngestState, Job, KIND_INDEX_CHUNK, KIND_INGEST, KIND_JOB, engine_scope, status,
};
use reelay_api_mediapackage_vod::{egress, view};
use reelay_store::{ListQuery, NewRecord, Scope, StoreError, TxOp, Update};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Raw index bytes per chunk record (base64 inflates by 4/3; the store takes 4 MiB bodies).
const CHUNK_BYTES: usize = 2 * 1024 * 1024;
/// Chunk records written per transaction (the store allows 100 ops).
const CHUNKS_PER_TX: usize = 50;
/// How often the worker rescans the queue without a wake-up (a lost wake-up only delays work).
const RESCAN: Duration = Duration::from_secs(5);
/// How long a job may wait for its asset to appear before it is dropped as an orphan.
const ORPHAN_GRACE: time::Duration = time::Duration::seconds(60);
/// Longest an ingest may take before it is failed (reads are by range, so this is generous).
const INGEST_TIMEOUT: Duration = Duration::from_secs(600);

/// Runs forever: drains the job queue, then waits for a wake-up or the rescan period.
pub async fn run(deps: Deps) {
    let events = EventLog::new(deps.blob.clone());
    loop {
        let wake = ingest::engine_wakeups().notified();
        tokio::pin!(wake);
        // Registered before the scan, so a job queued during it is not missed.
        wake.as_mut().enable();
        if let Err(e) = drain(&deps, &events).await {
            tracing::warn!(error = %e, "mediapackage-vod ingest queue scan failed");
        }
        tokio::select! {
            () = &mut wake => {}
            () = tokio::time::sleep(RESCAN) => {}
        }
    }
}

/// One pass over the queue, in id order. Jobs queued meanwhile are seen by the next pass (their
/// wake-up was registered before this one started).
async fn drain(deps: &Deps, events: &EventLog) -> Result<(), StoreError> {
    let scope = engine_scope();
    let mut token = None;
    loop {
        let page = deps
            .store
            .list(
                &scope,
                &ListQuery {
                    kind: KIND_JOB.into(),
                    parent: None,
                    filters: Vec::new(),
                    limit: 50,
                    page_token: token,
                },
            )
            .await?;
        for rec in page.items {
            let done = match serde_json::from_value::<Job>(rec.body.clone()) {
                Ok(job) => {
                    // The job is written before the asset's transaction commits: a job younger
                    // than the grace period whose asset is not there yet is left for later.
                    let young = time::OffsetDateTime::now_utc() - rec.created_at < ORPHAN_GRACE;
                    isolated(deps, events, job, young).await
                }
                Err(e) => {
                    tracing::warn!(error = %e, id = %rec.id, "dropping an undecodable ingest job");
                    true
                }
            };
            if done {
                // A crash before this line re-runs the job, which then finds the final state.
                match deps.store.delete(&scope, KIND_JOB, &rec.id, None).await {
                    Ok(_) | Err(StoreError::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        match page.next_token {
            Some(t) => token = Some(t),
            None => return Ok(()),
        }
    }
}

/// Runs [`process`] in its own task, so that a bug triggered by one source (a panic) fails
/// that asset instead of stopping the worker.
/// Returns whether the job is finished (false: keep it for a later pass).
async fn isolated(deps: &Deps, events: &EventLog, job: Job, young: bool) -> bool {
    let task = {
        let (deps, events, job) = (deps.clone(), events.clone(), job.clone());
        tokio::spawn(async move { process(&deps, &events, &job, young).await })
    };
    match task.await {
        Ok(done) => done,
        Err(e) => {
            tracing::error!(error = %e, asset = %job.asset_id, "ingest task failed");
            let scope = Scope::new(job.account.clone(), job.region.clone());
            if let Ok(Some(rec)) = deps.store.get(&scope, KIND_INGEST, &job.asset_id).await
                && let Ok(mut state) = serde_json::from_value::<IngestState>(rec.body.clone())
                && state.asset_egress_id == job.asset_egress_id
            {
                state.status = status::FAILED.into();
                state.reason = Some("internal error while ingesting the source".into());
                let _ = deps
                    .store
                    .update(
                        &scope,
                        KIND_INGEST,
                        &job.asset_id,
                        Some(rec.version),
                        state_update(&state),
                    )
                    .await;
            }
            true
        }
    }
}

fn state_update(state: &IngestState) -> Update {
    Update {
        body: serde_json::to_value(state).unwrap_or(Value::Null),
        index: BTreeMap::new(),
        parent: None,
        schema_version: ingest::VERSION,
    }
}

/// Ingests one asset; returns whether the job is finished. Every ingest failure ends in a
/// recorded state; store failures leave the job for a later pass.
async fn process(deps: &Deps, events: &EventLog, job: &Job, young: bool) -> bool {
    let scope = Scope::new(job.account.clone(), job.region.clone());
    let asset = match view::asset(deps.store.as_ref(), &scope, &job.asset_id).await {
        Ok(Some(a)) if a.egress_id == job.asset_egress_id => a,
        // Not committed yet (young), or gone / re-created: nothing to do.
        Ok(_) => return !young,
        Err(e) => {
            tracing::warn!(error = %e, asset = %job.asset_id, "cannot read an asset to ingest");
            return false;
        }
    };
    let rec = match deps.store.get(&scope, KIND_INGEST, &asset.id).await {
        Ok(Some(r)) => r,
        Ok(None) => return true,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read an ingest state");
            return false;
        }
    };
    let Ok(mut state) = serde_json::from_value::<IngestState>(rec.body.clone()) else {
        tracing::warn!(asset = %asset.id, "undecodable ingest state");
        return true;
    };
    if state.asset_egress_id != asset.egress_id
        || state.status == status::PLAYABLE
        || state.status == status::FAILED
    {
        return true;
    }
    state.status = status::PROCESSING.into();
    state.ingest_count = state.ingest_count.saturating_add(1);
    let Ok(rec) = deps
        .store
        .update(
            &scope,
            KIND_INGEST,
            &asset.id,
            Some(rec.version),
            state_update(&state),
        )
        .await
    else {
        return true; // Deleted or raced by another engine: that one owns it now.
    };
    let emit = |detail: Value, resources: Vec<String>| {
        let t = deps.clock.now();
        let ev = envelope(
            "MediaPackage Input Notification",
            "aws.mediapackage",
            &job.account,
            &job.region,
            t,
            resources,
            detail,
        );
        async move {
            if let Err(e) = events.append(&job.account, &job.region, t, &ev).await {
                tracing::warn!(error = %e, "could not append an ingest event");
            }
        }
    };
    emit(
        json!({"event": "IngestStart", "message": format!("Ingest started for asset '{}'", asset.id)}),
        vec![asset.arn.clone()],
    )
    .await;
    let outcome = match tokio::time::timeout(
        INGEST_TIMEOUT,
        source::ingest(
            &deps.blob,
            &asset.source_arn,
            &source::SampleObjects::for_asset(&job.account, &job.region, &asset.egress_id),
        ),
    )
    .await
    {
        Ok(r) => r,
        Err(_) => Err(format!(
            "ingest did not finish within {} seconds",
            INGEST_TIMEOUT.as_secs()
        )),
    };
    let outcome = match outcome {
        Ok(index) => save_index(deps, &scope, &asset.egress_id, &index)
            .await
            .map(|chunks| (index, chunks)),
        Err(e) => Err(e),
    };
    match &outcome {
        Ok((_, chunks)) => {
            state.status = status::PLAYABLE.into();
            state.index_chunks = *chunks;
            state.reason = None;
        }
        Err(reason) => {
            state.status = status::FAILED.into();
            state.reason = Some(reason.clone());
        }
    }
    // Optimistic: a lost race means another engine owns the asset now, and it reports.
    if deps
        .store
        .update(
            &scope,
            KIND_INGEST,
            &asset.id,
            Some(rec.version),
            state_update(&state),
        )
        .await
        .is_err()
    {
        return true;
    }
    match outcome {
        Ok(_) => {
            emit(
                json!({"event": "IngestComplete", "message": format!("Ingest completed for asset '{}'", asset.id)}),
                vec![asset.arn.clone()],
            )
            .await;
            announce_playable(deps, &scope, job, &asset, &emit).await;
        }
        Err(reason) => {
            emit(
                json!({"event": "IngestError", "message": reason}),
                vec![asset.arn.clone()],
            )
            .await;
        }
    }
    true
}

/// One `VodAssetPlayable` per configuration the engine can package (UG:cloudwatch-events-example).
async fn announce_playable<F, Fut>(
    deps: &Deps,
    scope: &Scope,
    job: &Job,
    asset: &view::AssetView,
    emit: &F,
) where
    F: Fn(Value, Vec<String>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let store = deps.store.as_ref();
    let Ok(Some(group)) = view::group(store, scope, &asset.packaging_group_id).await else {
        return;
    };
    let Ok(configs) = view::configs_of_group(store, scope, &asset.packaging_group_id).await else {
        return;
    };
    let domain = egress::domain_name(
        &deps.endpoints.public_url,
        &job.region,
        &job.account,
        &group.egress_id,
    );
    for c in configs {
        if ingest::unsupported_reason(&c.package_type, &c.package).is_some() {
            continue;
        }
        let manifests_member = match c.package_type.as_str() {
            "DashPackage" => "DashManifests",
            "MssPackage" => "MssManifests",
            _ => "HlsManifests",
        };
        let list = c
            .package
            .get(manifests_member)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let urls: Vec<String> = list
            .iter()
            .map(|m| {
                let name = m
                    .get("ManifestName")
                    .and_then(Value::as_str)
                    .unwrap_or("index");
                egress::endpoint_url(
                    &domain,
                    &asset.egress_id,
                    &c.egress_ids,
                    &egress::manifest_file(&c.package_type, name),
                )
            })
            .collect();
        emit(
            json!({
                "event": "VodAssetPlayable",
                "message": format!("Asset '{}' is now playable for PackagingConfiguration '{}'", asset.id, c.id),
                "packaging_configuration_id": c.id,
                "manifest_urls": urls,
            }),
            vec![asset.arn.clone(), c.arn.clone()],
        )
        .await;
    }
}

fn chunk_id(egress_id: &str, n: usize) -> String {
    format!("{egress_id}-{n:05}")
}

/// Writes the index as chunk records (replacing any left by an interrupted attempt).
async fn save_index(
    deps: &Deps,
    scope: &Scope,
    egress_id: &str,
    index: &AssetIndex,
) -> Result<u32, String> {
    delete_chunks(deps, scope, egress_id).await?;
    // The chunks and the binary copy hold the same bytes. The encoding is self-describing (magic
    // and version), and `AssetIndex::decode` reads both: the compact one is about a sixth of the
    // fixed-width one, which is most of an ingest's store writes.
    let bytes = if index.fits_compact() {
        let bytes = index.encode_compact();
        put_index_object(deps, scope, egress_id, &bytes).await;
        bytes
    } else {
        index.encode()
    };
    let chunks: Vec<&[u8]> = bytes.chunks(CHUNK_BYTES).collect();
    let n = chunks.len();
    for (batch_no, batch) in chunks.chunks(CHUNKS_PER_TX).enumerate() {
        let ops = batch
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let id = chunk_id(egress_id, batch_no * CHUNKS_PER_TX + i);
                TxOp::Insert(NewRecord {
                    kind: KIND_INDEX_CHUNK.into(),
                    arn: format!(
                        "arn:reelay:mediapackage-vod-engine:::index/{}/{}/{id}",
                        scope.account, scope.region
                    ),
                    id,
                    parent: Some(egress_id.to_string()),
                    index: BTreeMap::new(),
                    body: json!({
                        "schema_version": 1,
                        "data": base64::engine::general_purpose::STANDARD.encode(c),
                    }),
                    schema_version: 1,
                    tags: BTreeMap::new(),
                })
            })
            .collect();
        deps.store
            .transact(scope, ops)
            .await
            .map_err(|e| format!("cannot store the asset index: {e}"))?;
    }
    u32::try_from(n).map_err(|_| "the asset index is too large".to_string())
}

async fn delete_chunks(deps: &Deps, scope: &Scope, egress_id: &str) -> Result<(), String> {
    loop {
        let page = deps
            .store
            .list(
                scope,
                &ListQuery {
                    kind: KIND_INDEX_CHUNK.into(),
                    parent: Some(egress_id.to_string()),
                    filters: Vec::new(),
                    limit: 50,
                    page_token: None,
                },
            )
            .await
            .map_err(|e| e.to_string())?;
        if page.items.is_empty() {
            return Ok(());
        }
        for r in page.items {
            match deps
                .store
                .delete(scope, KIND_INDEX_CHUNK, &r.id, None)
                .await
            {
                Ok(_) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    }
}

/// Loads a persisted index: its binary copy when there is a current one, else the chunk
/// records (the authority), after which a current binary copy is written for the next time.
pub async fn load_index(
    deps: &Deps,
    scope: &Scope,
    egress_id: &str,
    chunks: u32,
) -> Result<Arc<AssetIndex>, String> {
    let started = std::time::Instant::now();
    if let Some(index) = get_index_object(deps, scope, egress_id).await {
        tracing::debug!(
            egress_id,
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "asset index read from its binary copy"
        );
        return Ok(Arc::new(index));
    }
    let index = Arc::new(load_index_chunks(deps, scope, egress_id, chunks).await?);
    tracing::debug!(
        egress_id,
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "asset index read from its chunk records"
    );
    if !index.fits_compact() {
        return Ok(index);
    }
    // Missing, damaged or of an older encoding: replace it, off the request's path.
    let (deps, scope, egress_id, copy) = (
        deps.clone(),
        scope.clone(),
        egress_id.to_string(),
        index.clone(),
    );
    tokio::spawn(async move {
        let bytes = copy.encode_compact();
        put_index_object(&deps, &scope, &egress_id, &bytes).await;
        drop_copy_if_deleted(&deps, &scope, &egress_id).await;
    });
    Ok(index)
}

/// Removes the binary copy when the asset's first chunk is gone. A copy rewritten by
/// [`load_index`] can race DeleteAsset, which deletes the chunks (the first one first) and then
/// the objects beside the asset: either it lists the objects after the copy was written, or the
/// first chunk is already gone when this runs, after the write.
async fn drop_copy_if_deleted(deps: &Deps, scope: &Scope, egress_id: &str) {
    let gone = matches!(
        deps.store
            .get(scope, KIND_INDEX_CHUNK, &chunk_id(egress_id, 0))
            .await,
        Ok(None)
    );
    if gone {
        let place = index_object(scope, egress_id);
        let key = format!("{}{INDEX_OBJECT}", place.prefix);
        if let Err(e) = deps.blob.delete_object(&place.bucket, &key).await {
            tracing::warn!(error = %e, "could not remove the index copy of a deleted asset");
        }
    }
}

/// Decodes an index on the blocking pool (it walks every sample), its tracks on up to two
/// threads.
async fn decode_off_runtime(bytes: Vec<u8>) -> Result<AssetIndex, String> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(DECODE_THREADS));
    tokio::task::spawn_blocking(move || AssetIndex::decode_parallel(&bytes, threads))
        .await
        .map_err(|e| format!("index decoder: {e}"))?
        .map_err(|e| e.to_string())
}

/// Threads that decode one index: the tracks' samples are independent, and the first request
/// after a restart waits for all of them.
const DECODE_THREADS: usize = 2;

async fn load_index_chunks(
    deps: &Deps,
    scope: &Scope,
    egress_id: &str,
    chunks: u32,
) -> Result<AssetIndex, String> {
    let mut bytes = Vec::new();
    for n in 0..chunks as usize {
        let rec = deps
            .store
            .get(scope, KIND_INDEX_CHUNK, &chunk_id(egress_id, n))
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("index chunk {n} is missing"))?;
        let data = rec
            .body
            .get("data")
            .and_then(Value::as_str)
            .ok_or("index chunk without data")?;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|e| format!("index chunk {n}: {e}"))?;
        bytes.extend_from_slice(&raw);
    }
    decode_off_runtime(bytes).await
}

/// Where the binary copy of an asset's index goes: beside its remuxed samples, so that
/// `DeleteAsset` removes both.
fn index_object(scope: &Scope, egress_id: &str) -> source::SampleObjects {
    source::SampleObjects::for_asset(&scope.account, &scope.region, egress_id)
}

const INDEX_OBJECT: &str = "index.rvix";
const MAX_INDEX_OBJECT_BYTES: u64 = 1 << 30;

/// Writes the encoded index as one object. The chunk records stay the authority (their record
/// schema, base64 of the encoded index, is frozen); this copy only makes the first request after a restart fast, since reading one
/// binary object is far cheaper than decoding base64 out of JSON records. Best effort: without
/// it, [`load_index`] reads the chunks.
async fn put_index_object(deps: &Deps, scope: &Scope, egress_id: &str, bytes: &[u8]) {
    let place = index_object(scope, egress_id);
    if let Err(e) = place.ensure_bucket(&deps.blob).await {
        tracing::warn!(error = %e, "no binary copy of the asset index");
        return;
    }
    let body = bytes::Bytes::copy_from_slice(bytes);
    let stream = futures::stream::iter([Ok::<_, std::io::Error>(body)]);
    if let Err(e) = deps
        .blob
        .put_object(
            &place.bucket,
            &format!("{}{INDEX_OBJECT}", place.prefix),
            stream,
            reelay_blob::ObjectAttrs::default(),
        )
        .await
    {
        tracing::warn!(error = %e, "no binary copy of the asset index");
    }
}

/// The binary copy of the index, if it exists, has the current (compact) encoding and decodes:
/// the encoding is versioned and checked, so a copy written by an older release or damaged is
/// refused, and the chunks are read instead.
async fn get_index_object(deps: &Deps, scope: &Scope, egress_id: &str) -> Option<AssetIndex> {
    use futures::TryStreamExt;
    let place = index_object(scope, egress_id);
    let key = format!("{}{INDEX_OBJECT}", place.prefix);
    let body = deps
        .blob
        .get_object(
            &place.bucket,
            &key,
            None,
            &reelay_blob::Conditions::default(),
        )
        .await
        .ok()?;
    // A guard against a damaged copy claiming any size; a real index above it (far beyond
    // any source the quotas allow) is read from the chunks instead.
    if body.info.size > MAX_INDEX_OBJECT_BYTES {
        return None;
    }
    let mut bytes = Vec::with_capacity(usize::try_from(body.info.size).ok()?);
    let mut stream = body.stream;
    let older = |bytes: &[u8]| {
        let older = !AssetIndex::is_compact(bytes);
        if older {
            tracing::debug!("the binary copy of an asset index has another encoding");
        }
        older
    };
    let mut checked = false;
    while let Some(chunk) = stream.try_next().await.ok()? {
        bytes.extend_from_slice(&chunk);
        // An older copy is refused on its first bytes rather than read to the end.
        if !checked && bytes.len() > 8 {
            if older(&bytes) {
                return None;
            }
            checked = true;
        }
    }
    if older(&bytes) {
        return None;
    }
    match decode_off_runtime(bytes).await {
        Ok(i) => Some(i),
        Err(e) => {
            tracing::warn!(error = %e, "the binary copy of an asset index does not decode");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::fixtures::odd_index;
    use reelay_api_common::{Clock, Endpoints};

    async fn deps() -> Deps {
        Deps {
            store: reelay_store::open("sqlite::memory:", reelay_store::StoreConfig::default())
                .await
                .expect("in-memory store"),
            blob: Arc::new(reelay_blob::BlobStore::in_memory()),
            clock: Arc::new(Clock::default()),
            endpoints: Endpoints {
                public_url: "http://reelay.test:4599".into(),
                rtmp: "rtmp://reelay.test:1935".into(),
                rtmps: None,
                srt: "srt://reelay.test:9000".into(),
                ice_servers: Vec::new(),
            },
        }
    }

    fn copy_key(scope: &Scope, egress_id: &str) -> (String, String) {
        let place = index_object(scope, egress_id);
        (place.bucket, format!("{}{INDEX_OBJECT}", place.prefix))
    }

    async fn read_copy(deps: &Deps, scope: &Scope, egress_id: &str) -> Option<Vec<u8>> {
        let (bucket, key) = copy_key(scope, egress_id);
        let info = deps.blob.head_object(&bucket, &key).await.ok()?;
        let bytes = deps
            .blob
            .read_range(&bucket, &key, 0..info.size)
            .await
            .ok()?;
        Some(bytes.to_vec())
    }

    /// Waits (bounded) until the binary copy holds `want`.
    async fn copy_becomes(deps: &Deps, scope: &Scope, egress_id: &str, want: &[u8]) -> bool {
        for _ in 0..1000 {
            if read_copy(deps, scope, egress_id).await.as_deref() == Some(want) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        false
    }

    #[tokio::test]
    async fn the_compact_copy_is_read_and_any_other_falls_back_to_the_chunks() {
        let deps = deps().await;
        let scope = Scope::new("111122223333", "eu-west-1");
        let id = "0123456789abcdef";
        let idx = odd_index(5);
        let chunks = save_index(&deps, &scope, id, &idx).await.unwrap();
        assert!(chunks >= 1);
        // Ingest writes the compact encoding, and loading reads it.
        assert_eq!(
            read_copy(&deps, &scope, id).await,
            Some(idx.encode_compact())
        );
        assert_eq!(*load_index(&deps, &scope, id, chunks).await.unwrap(), idx);
        // A current copy is trusted: one of another index is what loads (so the copy, not the
        // chunks, was read).
        let other = odd_index(6);
        put_index_object(&deps, &scope, id, &other.encode_compact()).await;
        assert_eq!(*load_index(&deps, &scope, id, chunks).await.unwrap(), other);
        // A copy from an older release (version 1, here of another index), damaged ones, a
        // foreign file and no copy at all: the chunks are read, then a current copy is
        // written back.
        let compact = idx.encode_compact();
        let mut newer = compact.clone();
        newer[4] = 9;
        let replacements: Vec<Option<Vec<u8>>> = vec![
            Some(other.encode()),
            Some(compact[..compact.len() / 2].to_vec()),
            Some(newer),
            Some(b"{\"not\": \"an index\"}".to_vec()),
            None,
        ];
        for (n, replacement) in replacements.into_iter().enumerate() {
            match replacement {
                Some(bytes) => put_index_object(&deps, &scope, id, &bytes).await,
                None => {
                    let (bucket, key) = copy_key(&scope, id);
                    deps.blob.delete_object(&bucket, &key).await.unwrap();
                }
            }
            let loaded = load_index(&deps, &scope, id, chunks).await.unwrap();
            assert_eq!(*loaded, idx, "case {n}");
            assert!(copy_becomes(&deps, &scope, id, &compact).await, "case {n}");
        }
        // Without the chunks the asset does not load, whatever the copy.
        put_index_object(&deps, &scope, id, &other.encode()).await;
        delete_chunks(&deps, &scope, id).await.unwrap();
        assert!(load_index(&deps, &scope, id, chunks).await.is_err());
    }

    #[tokio::test]
    async fn a_copy_rewritten_after_the_asset_was_deleted_is_removed() {
        let deps = deps().await;
        let scope = Scope::new("111122223333", "eu-west-1");
        let id = "fedcba9876543210";
        let idx = odd_index(4);
        save_index(&deps, &scope, id, &idx).await.unwrap();
        // While the asset exists, the copy stays.
        drop_copy_if_deleted(&deps, &scope, id).await;
        assert!(read_copy(&deps, &scope, id).await.is_some());
        // DeleteAsset removed the chunks (and the objects), then a rewrite landed: removed.
        delete_chunks(&deps, &scope, id).await.unwrap();
        put_index_object(&deps, &scope, id, &idx.encode_compact()).await;
        drop_copy_if_deleted(&deps, &scope, id).await;
        assert!(read_copy(&deps, &scope, id).await.is_none());
    }
}
