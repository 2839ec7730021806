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

/// `StreamEvents` holds at most 500 events (model), newest first.
const MAX_EVENTS: usize = 500;
/// EventBridge detail-type of the state events (ivs.md §7).
const STATE_CHANGE: &str = "IVS Stream State Change";

/// A stream id: `st-` and 23 alphanumerics, 26 characters (model pattern).
fn new_stream_id() -> String {
    format!("st-{}", reelay_api_common::random_id(23))
}

/// The store records of one live stream, owned by its ingest connection.
pub(crate) struct StreamRecords {
    deps: Deps,
    pub(crate) scope: Scope,
    pub(crate) channel_id: String,
    pub(crate) stream_id: String,
    session: StreamSessionV1,
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
        Ok(StreamRecords {
            deps: deps.clone(),
            scope: key.scope.clone(),
            channel_id: key.channel_id.clone(),
            stream_id,
            session,
        })
    }

    /// Adds an event (newest first) and saves the session.
    pub(crate) async fn event(&mut self, name: &str, code: Option<&str>) {
        let now = Timestamp(self.deps.clock.now());
        self.session
            .truncated_events
            .insert(0, event(name, code, now));
        self.session.truncated_events.truncate(MAX_EVENTS);
        self.save().await;
    }

    /// Records the encoder's input configuration.
    pub(crate) async fn set_ingest_configuration(&mut self, ic: IngestConfiguration) {
        self.session.ingest_configuration = Some(ic);
        self.save().await;
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
    pub(crate) async fn end(mut self, error_code: Option<&str>) {
        let now = Timestamp(self.deps.clock.now());
        self.session.end_time = Some(self.now());
        if error_code.is_some() {
            self.session.has_error_event = true;
        }
        let events = &mut self.session.truncated_events;
        events.insert(0, event("Stream End", None, now));
        events.insert(0, event("Session Ended", error_code, now));
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
        self.save().await;
    }

    async fn save(&self) {
        let Ok(body) = to_value(&self.session) else {
            return;
        };
        let update = Update {
            body,
            index: BTreeMap::new(),
            parent: Some(self.session.channel_arn.clone()),
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
        r#type: Some(STATE_CHANGE.to_string()),
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(v).map_err(|e| StoreError::InvalidInput(e.to_string()))
}
