//! Resource quotas (UG:vod-quotas): soft limits in AWS, configurable in reelay.

/// Environment variable: most packaging groups per account and region.
pub const ENV_MAX_GROUPS: &str = "REELAY_MPV_MAX_PACKAGING_GROUPS";
/// Environment variable: most packaging configurations per packaging group.
pub const ENV_MAX_CONFIGS: &str = "REELAY_MPV_MAX_CONFIGURATIONS_PER_GROUP";
/// Environment variable: most assets per packaging group.
pub const ENV_MAX_ASSETS: &str = "REELAY_MPV_MAX_ASSETS_PER_GROUP";

/// How many resources may exist; `None` means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Packaging groups per account and region (AWS default 10).
    pub max_packaging_groups: Option<u64>,
    /// Packaging configurations per packaging group (AWS default 10).
    pub max_configurations_per_group: Option<u64>,
    /// Assets per packaging group (AWS default 10,000).
    pub max_assets_per_group: Option<u64>,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            max_packaging_groups: Some(10),
            max_configurations_per_group: Some(10),
            max_assets_per_group: Some(10_000),
        }
    }
}

impl Quotas {
    /// Read the quotas from environment variables through `lookup`.
    ///
    /// Each variable takes a non-negative integer or `unlimited`; an unset variable keeps AWS's
    /// default, and an unparsable one keeps it too, with a warning in the log.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Quotas {
        let d = Quotas::default();
        Quotas {
            max_packaging_groups: one(&lookup, ENV_MAX_GROUPS, d.max_packaging_groups),
            max_configurations_per_group: one(
                &lookup,
                ENV_MAX_CONFIGS,
                d.max_configurations_per_group,
            ),
            max_assets_per_group: one(&lookup, ENV_MAX_ASSETS, d.max_assets_per_group),
        }
    }
}

fn one(lookup: &impl Fn(&str) -> Option<String>, name: &str, default: Option<u64>) -> Option<u64> {
    let Some(raw) = lookup(name) else {
        return default;
    };
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("unlimited") {
        return None;
    }
    match raw.parse::<u64>() {
        Ok(n) => Some(n),
        Err(_) => {
            tracing::warn!(
                variable = name,
                value = raw,
                "not a number or `unlimited`; using the default"
            );
            default
        }
    }
}

/// Whether `current` resources leave room for one more under `limit`.
pub(crate) fn has_room(current: u64, limit: Option<u64>) -> bool {
    limit.is_none_or(|max| current < max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_aws_defaults() {
        let q = Quotas::from_env(|_| None);
        assert_eq!(q, Quotas::default());
        assert_eq!(q.max_packaging_groups, Some(10));
        assert_eq!(q.max_configurations_per_group, Some(10));
        assert_eq!(q.max_assets_per_group, Some(10_000));
    }

    #[test]
    fn env_overrides_unlimited_and_garbage() {
        let q = Quotas::from_env(|name| match name {
            ENV_MAX_GROUPS => Some(" 3 ".into()),
            ENV_MAX_CONFIGS => Some("Unlimited".into()),
            ENV_MAX_ASSETS => Some("lots".into()),
            _ => None,
        });
        assert_eq!(q.max_packaging_groups, Some(3));
        assert_eq!(q.max_configurations_per_group, None);
        assert_eq!(q.max_assets_per_group, Some(10_000));
    }

    #[test]
    fn room() {
        assert!(has_room(9, Some(10)));
        assert!(!has_room(10, Some(10)));
        assert!(!has_room(0, Some(0)));
        assert!(has_room(u64::MAX, None));
    }
}
