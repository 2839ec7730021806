//! Read-only views of the API's records for the packaging engine (`reelay-vod`), so that the
//! engine never depends on the frozen record schemas of [`crate::records`].

use crate::records::{self, v1};
use crate::{KIND_ASSET, KIND_CONFIG, KIND_GROUP, egress};
use reelay_store::{Filter, ListQuery, MetaStore, Record, Scope};
use serde_json::Value;

/// An asset.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetView {
    /// Asset id.
    pub id: String,
    /// Asset ARN.
    pub arn: String,
    /// Its packaging group.
    pub packaging_group_id: String,
    /// 32 hex digits, the first egress path segment.
    pub egress_id: String,
    /// `arn:aws:s3:::bucket/key`.
    pub source_arn: String,
    /// ISO 8601 creation time.
    pub created_at: String,
}

/// A packaging configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigView {
    /// Configuration id.
    pub id: String,
    /// Configuration ARN.
    pub arn: String,
    /// Its packaging group.
    pub packaging_group_id: String,
    /// The two egress path segments after the asset's.
    pub egress_ids: [String; 2],
    /// `HlsPackage`, `DashPackage`, `CmafPackage` or `MssPackage`.
    pub package_type: String,
    /// The package in model member names (`HlsManifests`, ...), defaults filled in.
    pub package: Value,
}

/// A packaging group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupView {
    /// Group id.
    pub id: String,
    /// 32 hex digits of the group's egress prefix.
    pub egress_id: String,
    /// Whether CDN authorization is configured.
    pub has_authorization: bool,
    /// The Secrets Manager ARN holding the CDN identifier, when authorization is configured.
    pub cdn_identifier_secret: Option<String>,
    /// The egress access log group, when logging is on.
    pub egress_log_group_name: Option<String>,
}

fn decode<T: serde::de::DeserializeOwned>(rec: &Record) -> Result<T, String> {
    records::decode(rec).map_err(|e| e.message)
}

fn asset_view(rec: &Record) -> Result<AssetView, String> {
    let a: v1::Asset = decode(rec)?;
    Ok(AssetView {
        id: a.id,
        arn: rec.arn.clone(),
        packaging_group_id: a.packaging_group_id,
        egress_id: a.egress_id,
        source_arn: a.source_arn,
        created_at: a.created_at,
    })
}

fn config_view(rec: &Record) -> Result<ConfigView, String> {
    let c: v1::Config = decode(rec)?;
    Ok(ConfigView {
        id: c.id,
        arn: rec.arn.clone(),
        packaging_group_id: c.packaging_group_id,
        egress_ids: c.egress_ids,
        package_type: c.package_type,
        package: c.package,
    })
}

fn group_view(rec: &Record) -> Result<GroupView, String> {
    let g: v1::Group = decode(rec)?;
    Ok(GroupView {
        id: g.id,
        egress_id: g.egress_id,
        has_authorization: g.authorization.is_some(),
        cdn_identifier_secret: g.authorization.map(|a| a.cdn_identifier_secret),
        egress_log_group_name: g.egress_log_group_name,
    })
}

async fn first_by_egress(
    store: &dyn MetaStore,
    scope: &Scope,
    kind: &str,
    egress_value: &str,
) -> Result<Option<Record>, String> {
    let query = ListQuery {
        kind: kind.into(),
        parent: None,
        filters: vec![Filter::Eq {
            key: egress::INDEX_EGRESS.into(),
            value: egress_value.into(),
        }],
        limit: 1,
        page_token: None,
    };
    let page = store.list(scope, &query).await.map_err(|e| e.to_string())?;
    Ok(page.items.into_iter().next())
}

/// The asset with this id.
pub async fn asset(
    store: &dyn MetaStore,
    scope: &Scope,
    id: &str,
) -> Result<Option<AssetView>, String> {
    match store.get(scope, KIND_ASSET, id).await {
        Ok(Some(rec)) => asset_view(&rec).map(Some),
        Ok(None) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// The asset whose egress id is `egress_id`.
pub async fn asset_by_egress(
    store: &dyn MetaStore,
    scope: &Scope,
    egress_id: &str,
) -> Result<Option<AssetView>, String> {
    match first_by_egress(store, scope, KIND_ASSET, egress_id).await? {
        Some(rec) => asset_view(&rec).map(Some),
        None => Ok(None),
    }
}

/// The configuration whose egress ids are `ids`.
pub async fn config_by_egress(
    store: &dyn MetaStore,
    scope: &Scope,
    ids: [&str; 2],
) -> Result<Option<ConfigView>, String> {
    let value = format!("{}/{}", ids[0], ids[1]);
    match first_by_egress(store, scope, KIND_CONFIG, &value).await? {
        Some(rec) => config_view(&rec).map(Some),
        None => Ok(None),
    }
}

/// The group with this id.
pub async fn group(
    store: &dyn MetaStore,
    scope: &Scope,
    id: &str,
) -> Result<Option<GroupView>, String> {
    match store.get(scope, KIND_GROUP, id).await {
        Ok(Some(rec)) => group_view(&rec).map(Some),
        Ok(None) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// Every configuration of a group, in id order.
pub async fn configs_of_group(
    store: &dyn MetaStore,
    scope: &Scope,
    group_id: &str,
) -> Result<Vec<ConfigView>, String> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let query = ListQuery {
            kind: KIND_CONFIG.into(),
            parent: Some(group_id.to_string()),
            filters: Vec::new(),
            limit: 100,
            page_token: token,
        };
        let page = store.list(scope, &query).await.map_err(|e| e.to_string())?;
        for rec in &page.items {
            out.push(config_view(rec)?);
        }
        match page.next_token {
            Some(t) => token = Some(t),
            None => return Ok(out),
        }
    }
}
