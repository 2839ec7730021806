//! Persisted record bodies. Shipped schemas are frozen: a change adds a `v2` module and a
//! migration, it never edits `v1`.

pub(crate) mod v1 {
    use serde::{Deserialize, Serialize};
    use serde_json::Value;

    /// Schema version of every body in this module.
    pub(crate) const VERSION: u32 = 1;

    /// CDN authorization of a packaging group.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub(crate) struct Authorization {
        pub(crate) cdn_identifier_secret: String,
        pub(crate) secrets_role_arn: String,
    }

    /// A packaging group.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub(crate) struct Group {
        pub(crate) schema_version: u32,
        pub(crate) id: String,
        /// ISO 8601, from reelay's clock at creation.
        pub(crate) created_at: String,
        /// 32 lowercase hex digits naming the group's egress (see `egress.rs`).
        pub(crate) egress_id: String,
        pub(crate) authorization: Option<Authorization>,
        /// `Some` when egress access logging is on.
        pub(crate) egress_log_group_name: Option<String>,
    }

    /// A packaging configuration.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub(crate) struct Config {
        pub(crate) schema_version: u32,
        pub(crate) id: String,
        pub(crate) packaging_group_id: String,
        pub(crate) created_at: String,
        /// The two 32-hex path segments after the asset's in egress URLs.
        pub(crate) egress_ids: [String; 2],
        /// `HlsPackage`, `DashPackage`, `CmafPackage` or `MssPackage`.
        pub(crate) package_type: String,
        /// The package in canonical form (model member names), defaults filled in.
        pub(crate) package: Value,
    }

    /// An asset.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub(crate) struct Asset {
        pub(crate) schema_version: u32,
        pub(crate) id: String,
        pub(crate) packaging_group_id: String,
        pub(crate) created_at: String,
        /// The 32-hex path segment right after `/out/v1/` in the asset's egress URLs.
        pub(crate) egress_id: String,
        pub(crate) resource_id: String,
        pub(crate) source_arn: String,
        pub(crate) source_role_arn: String,
    }
}

use reelay_aws::ApiError;
use reelay_store::Record;
use serde::de::DeserializeOwned;

/// Decode a stored body; a body that does not decode is a server-side fault, not user error.
pub(crate) fn decode<T: DeserializeOwned>(rec: &Record) -> Result<T, ApiError> {
    if rec.schema_version != v1::VERSION {
        return Err(ApiError::internal(
            reelay_aws::ServiceId::MediaPackageVod,
            format!(
                "record {} has unknown schema version {}",
                rec.arn, rec.schema_version
            ),
        ));
    }
    serde_json::from_value(rec.body.clone()).map_err(|e| {
        ApiError::internal(
            reelay_aws::ServiceId::MediaPackageVod,
            format!("record {} is corrupt: {e}", rec.arn),
        )
    })
}

/// Encode a body for the store.
pub(crate) fn encode<T: serde::Serialize>(body: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(body).map_err(|e| {
        ApiError::internal(
            reelay_aws::ServiceId::MediaPackageVod,
            format!("cannot encode record: {e}"),
        )
    })
}
