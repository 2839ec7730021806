//! Finding a channel from a presented stream key, for the live data plane.
//!
//! A publisher presents only the key: it names neither account nor region, while every
//! resource lives in the scope of one account and region. So each stream key also gets a
//! lookup record in one reserved store scope ([`lookup_scope`]), keyed by the SHA-256 of the
//! value, that names the scope and id of the key. The lookup is only a pointer: ingest then
//! reads the key itself in its scope and compares the value in constant time, so a stale
//! lookup (a key deleted meanwhile, a write that lost a race) can only fail closed.

use crate::records::{ChannelV1, KIND_CHANNEL, KIND_STREAM_KEY, SCHEMA_VERSION, StreamKeyV1};
use reelay_store::{MetaStore, NewRecord, Scope, StoreError, TxOp};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;

/// Store kind of the stream-key lookups (id: lowercase hex SHA-256 of the key value), kept in
/// [`lookup_scope`].
pub const KIND_STREAM_KEY_LOOKUP: &str = "ivs:stream-key-lookup";

/// The reserved scope of the lookups. No AWS account id is `reelay`, so no request can reach it.
pub fn lookup_scope() -> Scope {
    Scope::new("reelay", "global")
}

/// Lowercase hex SHA-256 of a stream key value (the `valueSha256` index and the lookup id).
pub fn stream_key_digest(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Where the key with a given digest lives.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamKeyLookupV1 {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Account of the key.
    pub account: String,
    /// Region of the key.
    pub region: String,
    /// Store id of the key (kind `ivs:stream-key`).
    pub stream_key_id: String,
}

/// The insert of the lookup of the key `key_id` (whose value hashes to `digest`), for the
/// transaction that inserts the key: a key that exists always has its lookup.
pub(crate) fn register_op(scope: &Scope, key_id: &str, digest: &str) -> Result<TxOp, StoreError> {
    let body = StreamKeyLookupV1 {
        schema_version: SCHEMA_VERSION,
        account: scope.account.clone(),
        region: scope.region.clone(),
        stream_key_id: key_id.to_string(),
    };
    Ok(TxOp::InsertIn {
        scope: lookup_scope(),
        record: NewRecord {
            kind: KIND_STREAM_KEY_LOOKUP.into(),
            id: digest.to_string(),
            arn: format!("arn:aws:ivs:global:reelay:stream-key-lookup/{digest}"),
            parent: None,
            index: BTreeMap::new(),
            body: serde_json::to_value(&body)
                .map_err(|e| StoreError::InvalidInput(e.to_string()))?,
            schema_version: SCHEMA_VERSION,
            tags: BTreeMap::new(),
        },
    })
}

/// Forgets the lookup of a deleted key. Best effort: a leftover lookup fails closed.
pub(crate) async fn unregister(store: &dyn MetaStore, digest: &str) {
    if let Err(e) = store
        .delete(&lookup_scope(), KIND_STREAM_KEY_LOOKUP, digest, None)
        .await
        && !matches!(e, StoreError::NotFound)
    {
        tracing::warn!(error = %e, "could not delete a stream key lookup");
    }
}

/// A stream key that matched, with its channel as stored now.
#[derive(Debug, Clone)]
pub struct ResolvedKey {
    /// Scope (account and region) of the channel.
    pub scope: Scope,
    /// Channel id.
    pub channel_id: String,
    /// Channel ARN.
    pub channel_arn: String,
    /// Channel body.
    pub channel: ChannelV1,
    /// Store id of the stream key.
    pub stream_key_id: String,
}

/// Finds the channel a presented stream key publishes to: `None` when no existing key has this
/// value (unknown, deleted, or its channel deleted).
pub async fn resolve_stream_key(
    store: &dyn MetaStore,
    presented: &str,
) -> Result<Option<ResolvedKey>, StoreError> {
    let digest = stream_key_digest(presented);
    let Some(lookup) = store
        .get(&lookup_scope(), KIND_STREAM_KEY_LOOKUP, &digest)
        .await?
    else {
        return Ok(None);
    };
    let Ok(lookup) = serde_json::from_value::<StreamKeyLookupV1>(lookup.body) else {
        return Ok(None);
    };
    let scope = Scope::new(lookup.account, lookup.region);
    let Some(key) = store
        .get(&scope, KIND_STREAM_KEY, &lookup.stream_key_id)
        .await?
    else {
        return Ok(None);
    };
    let Ok(key) = serde_json::from_value::<StreamKeyV1>(key.body) else {
        return Ok(None);
    };
    // The digest matched; the value comparison guards against a forged or corrupt lookup.
    if !key.value.matches(presented) {
        return Ok(None);
    }
    let Some(channel) = store.get_by_arn(&scope, &key.channel_arn).await? else {
        return Ok(None);
    };
    if channel.kind != KIND_CHANNEL {
        return Ok(None);
    }
    let Ok(body) = serde_json::from_value::<ChannelV1>(channel.body) else {
        return Ok(None);
    };
    Ok(Some(ResolvedKey {
        scope,
        channel_id: channel.id,
        channel_arn: channel.arn,
        channel: body,
        stream_key_id: lookup.stream_key_id,
    }))
}
