//! The store side of a live stream: the `ivs:stream` record that `GetStream`/`ListStreams`
//! read while the channel is live, and the `ivs:stream-session` record with its events (the
//! hand-off contract of `reelay_api_ivs::records`).

use reelay_api_common::Deps;
use reelay_api_ivs::ingest::ResolvedKey;
use reelay_api_ivs::records::{
    IDX_HEALTH, KIND_STREAM, KIND_STREAM_SESSION, SCHEMA_VERSION, StreamSessionV1, StreamV1,
};
use reelay_aws::Timestamp;
use reelay_aws::generated::ivs::types::{IngestConfiguration, StreamEvent, StreamHealth};
use reelay_store::{NewRecord, Scope, StoreError, Update};
use std::collections::BTreeMap;
use std::sync::Arc;

/// `StreamEvents` holds at most 500 events (model), newest first.
const MAX_EVENTS: usize = 500;
/// EventBridge detail-type of the state events (ivs.md §7).
const STATE_CHANGE: &str = "IVS Stream State Change";
/// EventBridge detail-type of the starvation events (ivs.md §7).
const HEALTH_CHANGE: &str = "IVS Stream Health Change";
/// EventBridge detail-type of the recording events (ivs.md §7).
pub(crate) const RECORDING_CHANGE: &str = "IVS Recording State Change";
/// Attempts at a compare-and-set of the stream record before giving up on an update.
const WRITE_ATTEMPTS: usize = 5;

/// A stream id: `st-` and 23 alphanumerics, 26 characters (model pattern).
fn new_stream_id() -> String {
    format!("st-{}", reelay_api_common::random_id(23))
}

/// The store records of one live stream, owned by its ingest connection. Clones share the
/// session (the stream monitor adds starvation events beside the connection's own).
#[derive(Clone)]
pub(crate) struct StreamRecords {
    deps: Deps,
    pub(crate) scope: Scope,
    pub(crate) channel_id: String,
    pub(crate) stream_id: String,
    /// The channel's name, for the event log's `channel_name`.
    channel_name: String,
    session: Arc<tokio::sync::Mutex<StreamSessionV1>>,
}

impl StreamRecords {
    fn now(&self) -> String {
        Timestamp(self.deps.clock.now()).to_rfc3339()
    }

    /// Creates the session (event `Session Created`) and the live stream record. A stream record
    /// left by a previous process (one that stopped without ending it) is replaced: this process
    /// owns every publisher, and the caller has checked that none is live on the channel.
    pub(crate) async fn begin(deps: &Deps, key: &ResolvedKey) -> Result<Self, StoreError> {
        let stream_id = new_stream_id();
        let now = Timestamp(deps.clock.now());
        let session = StreamSessionV1 {
            schema_version: SCHEMA_VERSION,
            channel_arn: key.channel_arn.clone(),
            stream_id: stream_id.clone(),
            start_time: now.to_rfc3339(),
            end_time: None,
            has_error_event: false,
            ingest_configuration: None,
            truncated_events: vec![event("Session Created", None, now)],
        };
        let created = session.truncated_events.clone();
        let store = deps.store.as_ref();
        let arn_prefix = key
            .channel_arn
            .split(":channel/")
            .next()
            .unwrap_or(&key.channel_arn)
            .to_string();
        store
            .insert(
                &key.scope,
                NewRecord {
                    kind: KIND_STREAM_SESSION.into(),
                    id: stream_id.clone(),
                    arn: format!("{arn_prefix}:stream-session/{}/{stream_id}", key.channel_id),
                    parent: Some(key.channel_arn.clone()),
                    index: BTreeMap::new(),
                    body: to_value(&session)?,
                    schema_version: SCHEMA_VERSION,
                    tags: BTreeMap::new(),
                },
            )
            .await?;
        let stream = StreamV1 {
            schema_version: SCHEMA_VERSION,
            channel_arn: key.channel_arn.clone(),
            stream_id: stream_id.clone(),
            start_time: now.to_rfc3339(),
            health: StreamHealth::Healthy,
            // Viewers are not counted yet (docs/ivs.md, "Live").
            viewer_count: 0,
            stop_requested: false,
        };
        let rec = NewRecord {
            kind: KIND_STREAM.into(),
            id: key.channel_id.clone(),
            arn: format!("{arn_prefix}:stream/{}", key.channel_id),
            parent: Some(key.channel_arn.clone()),
            index: [(IDX_HEALTH.to_string(), "HEALTHY".to_string())].into(),
            body: to_value(&stream)?,
            schema_version: SCHEMA_VERSION,
            tags: BTreeMap::new(),
        };
        let inserted = match store.insert(&key.scope, rec.clone()).await {
            Err(StoreError::AlreadyExists) => {
                match store
                    .delete(&key.scope, KIND_STREAM, &key.channel_id, None)
                    .await
                {
                    Ok(_) | Err(StoreError::NotFound) => store.insert(&key.scope, rec).await,
                    Err(e) => Err(e),
                }
            }
            other => other,
        };
        if let Err(e) = inserted {
            // The publisher is refused: a session that never went live is not kept.
            let _ = store
                .delete(&key.scope, KIND_STREAM_SESSION, &stream_id, None)
                .await;
            return Err(e);
        }
        let records = StreamRecords {
            deps: deps.clone(),
            scope: key.scope.clone(),
            channel_id: key.channel_id.clone(),
            stream_id,
            channel_name: key.channel.name.clone(),
            session: Arc::new(tokio::sync::Mutex::new(session)),
        };
        let created: Vec<(StreamEvent, u64)> = created
            .into_iter()
            .rev() // stored newest first; logged oldest first
            .map(|e| (e, crate::events::next_seq()))
            .collect();
        records.log(&created).await;
        Ok(records)
    }

    /// Appends events to the IVS event log (`crate::events`).
    async fn log(&self, events: &[(StreamEvent, u64)]) {
        let channel_arn = self.session.lock().await.channel_arn.clone();
        for (e, seq) in events {
            crate::events::record(
                &self.deps,
                &self.scope,
                &crate::events::StreamEventLog {
                    channel_arn: &channel_arn,
                    channel_name: &self.channel_name,
                    stream_id: &self.stream_id,
                    event: e,
                    detail: None,
                },
                *seq,
            )
            .await;
        }
    }

    /// Adds an event (newest first) and saves the session.
    pub(crate) async fn event(&mut self, name: &str, code: Option<&str>) {
        let (e, seq) = {
            let mut session = self.session.lock().await;
            // An ended session takes no more events (the monitor may race the end).
            if session.end_time.is_some() {
                return;
            }
            // Time and log order are taken under the lock, so the session's order, the event
            // times and the event log's order agree when the ingest and the monitor race.
            let e = event(name, code, Timestamp(self.deps.clock.now()));
            let seq = crate::events::next_seq();
            session.truncated_events.insert(0, e.clone());
            session.truncated_events.truncate(MAX_EVENTS);
            self.save(&session).await;
            (e, seq)
        };
        self.log(&[(e, seq)]).await;
    }

    /// Adds a recording event (`Recording Start`, `Recording End`, their `… Failure`) to the
    /// session and to the event log with its `recording_*` detail fields. Unlike [`Self::event`]
    /// it is taken after the session ended: a recording ends only once its reconnect window has
    /// passed. The session record is saved from this shared copy, which every writer of the
    /// session goes through, so no event is lost to a concurrent save.
    pub(crate) async fn recording_event(
        &self,
        name: &str,
        detail: &serde_json::Map<String, serde_json::Value>,
    ) {
        let (e, seq, channel_arn) = {
            let mut session = self.session.lock().await;
            let e = event(name, None, Timestamp(self.deps.clock.now()));
            let seq = crate::events::next_seq();
            session.truncated_events.insert(0, e.clone());
            session.truncated_events.truncate(MAX_EVENTS);
            if name.ends_with("Failure") {
                session.has_error_event = true;
            }
            self.save(&session).await;
            (e, seq, session.channel_arn.clone())
        };
        crate::events::record(
            &self.deps,
            &self.scope,
            &crate::events::StreamEventLog {
                channel_arn: &channel_arn,
                channel_name: &self.channel_name,
                stream_id: &self.stream_id,
                event: &e,
                detail: Some(detail),
            },
            seq,
        )
        .await;
    }

    /// Records the encoder's input configuration.
    pub(crate) async fn set_ingest_configuration(&mut self, ic: IngestConfiguration) {
        let mut session = self.session.lock().await;
        session.ingest_configuration = Some(ic);
        self.save(&session).await;
    }

    /// Sets the health and viewer count of the live `ivs:stream` record (compare-and-set, so a
    /// concurrent `StopStream` flag is kept). Does nothing once the record is gone or belongs
    /// to another stream.
    pub(crate) async fn update_stream(&self, health: StreamHealth, viewer_count: i64) {
        let store = self.deps.store.as_ref();
        for _ in 0..WRITE_ATTEMPTS {
            let rec = match store.get(&self.scope, KIND_STREAM, &self.channel_id).await {
                Ok(Some(rec)) => rec,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the stream record");
                    return;
                }
            };
            let Ok(mut body) = serde_json::from_value::<StreamV1>(rec.body) else {
                return;
            };
            if body.stream_id != self.stream_id {
                return;
            }
            if body.health == health && body.viewer_count == viewer_count {
                return;
            }
            body.health = health;
            body.viewer_count = viewer_count;
            let Ok(value) = to_value(&body) else { return };
            let mut index = rec.index.clone();
            index.insert(IDX_HEALTH.to_string(), health.as_str().to_string());
            let update = Update {
                body: value,
                index,
                parent: rec.parent.clone(),
                schema_version: SCHEMA_VERSION,
            };
            match store
                .update(
                    &self.scope,
                    KIND_STREAM,
                    &self.channel_id,
                    Some(rec.version),
                    update,
                )
                .await
            {
                Ok(_) | Err(StoreError::NotFound) => return,
                Err(StoreError::VersionMismatch { .. }) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "could not update the stream record");
                    return;
                }
            }
        }
    }

    /// Whether `StopStream` asked for the publisher to go, or the stream record is gone (a
    /// reset, or another process took over).
    pub(crate) async fn stop_requested(&self) -> bool {
        match self
            .deps
            .store
            .get(&self.scope, KIND_STREAM, &self.channel_id)
            .await
        {
            Ok(Some(rec)) => match serde_json::from_value::<StreamV1>(rec.body) {
                Ok(s) => s.stop_requested || s.stream_id != self.stream_id,
                Err(_) => true,
            },
            Ok(None) => true,
            // A store hiccup is not a reason to cut a broadcast.
            Err(_) => false,
        }
    }

    /// Ends the session (`Stream End`, `Session Ended`, end time) and removes the stream record.
    pub(crate) async fn end(self, error_code: Option<&str>) {
        let mut session = self.session.lock().await;
        if session.end_time.is_some() {
            return;
        }
        let now = Timestamp(self.deps.clock.now());
        session.end_time = Some(self.now());
        if error_code.is_some() {
            session.has_error_event = true;
        }
        let ended = [
            event("Stream End", None, now),
            event("Session Ended", error_code, now),
        ];
        let events = &mut session.truncated_events;
        events.insert(0, ended[0].clone());
        events.insert(0, ended[1].clone());
        events.truncate(MAX_EVENTS);
        let store = self.deps.store.as_ref();
        if let Ok(Some(rec)) = store.get(&self.scope, KIND_STREAM, &self.channel_id).await
            && serde_json::from_value::<StreamV1>(rec.body)
                .is_ok_and(|s| s.stream_id == self.stream_id)
            && let Err(e) = store
                .delete(
                    &self.scope,
                    KIND_STREAM,
                    &self.channel_id,
                    Some(rec.version),
                )
                .await
        {
            tracing::warn!(error = %e, "could not delete the stream record");
        }
        self.save(&session).await;
        drop(session);
        // Both events have the same time: the sequence keeps Stream End before Session Ended
        // in the event log's listing.
        let [stream_end, session_ended] = ended;
        let logged = [
            (stream_end, crate::events::next_seq()),
            (session_ended, crate::events::next_seq()),
        ];
        self.log(&logged).await;
    }

    async fn save(&self, session: &StreamSessionV1) {
        let Ok(body) = to_value(session) else {
            return;
        };
        let update = Update {
            body,
            index: BTreeMap::new(),
            parent: Some(session.channel_arn.clone()),
            schema_version: SCHEMA_VERSION,
        };
        if let Err(e) = self
            .deps
            .store
            .update(
                &self.scope,
                KIND_STREAM_SESSION,
                &self.stream_id,
                None,
                update,
            )
            .await
        {
            tracing::warn!(error = %e, "could not save the stream session");
        }
    }
}

fn event(name: &str, code: Option<&str>, at: Timestamp) -> StreamEvent {
    StreamEvent {
        code: code.map(str::to_string),
        event_time: Some(at),
        name: Some(name.to_string()),
        r#type: Some(event_type(name).to_string()),
    }
}

/// The EventBridge detail-type an event belongs to (ivs.md §7).
pub(crate) fn event_type(name: &str) -> &'static str {
    if name.starts_with("Starvation") {
        HEALTH_CHANGE
    } else if name.starts_with("Recording") {
        RECORDING_CHANGE
    } else {
        STATE_CHANGE
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(v).map_err(|e| StoreError::InvalidInput(e.to_string()))
}
