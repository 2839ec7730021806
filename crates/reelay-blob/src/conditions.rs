//! Conditional requests (RFC 9110 §13) with the evaluation order S3 documents for GetObject,
//! HeadObject and CopyObject sources.

use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::types::ObjectInfo;

/// Read preconditions. Dates are compared at one-second resolution, as HTTP dates have no more.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    /// `If-Match`: entity tags (quoted or not) or `*`.
    pub if_match: Option<Vec<String>>,
    /// `If-None-Match`: entity tags or `*`.
    pub if_none_match: Option<Vec<String>>,
    /// `If-Modified-Since`.
    pub if_modified_since: Option<OffsetDateTime>,
    /// `If-Unmodified-Since`.
    pub if_unmodified_since: Option<OffsetDateTime>,
}

/// Write preconditions for conditional PUTs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteConditions {
    /// `If-Match`: the current object must have this entity tag (or exist, for `*`).
    pub if_match: Option<String>,
    /// `If-None-Match: *`: the key must not exist yet.
    pub if_none_match_any: bool,
}

/// Strips quotes and a weak prefix so that `"abc"`, `W/"abc"` and `abc` compare equal.
pub fn normalize_etag(tag: &str) -> &str {
    let tag = tag.trim();
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    tag.trim_matches('"')
}

fn matches_any(list: &[String], etag: &str) -> bool {
    list.iter()
        .any(|t| t.trim() == "*" || normalize_etag(t) == etag)
}

fn whole_seconds(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

impl Conditions {
    /// Whether no condition is set.
    pub fn is_empty(&self) -> bool {
        self == &Conditions::default()
    }

    /// Evaluates the conditions against `info`.
    ///
    /// Order (RFC 9110 §13.2.2, which S3's "Conditional requests" page follows): `If-Match`, else
    /// `If-Unmodified-Since` → 412; then `If-None-Match`, else `If-Modified-Since` → 304. A true
    /// `If-Match` makes a false `If-Unmodified-Since` irrelevant, and a present `If-None-Match`
    /// makes `If-Modified-Since` irrelevant.
    pub fn evaluate(&self, info: &ObjectInfo) -> Result<()> {
        let modified = whole_seconds(info.last_modified);
        if let Some(list) = &self.if_match {
            if !matches_any(list, &info.etag) {
                return Err(Error::PreconditionFailed);
            }
        } else if let Some(since) = self.if_unmodified_since
            && modified > whole_seconds(since)
        {
            return Err(Error::PreconditionFailed);
        }
        if let Some(list) = &self.if_none_match {
            if matches_any(list, &info.etag) {
                return Err(Error::NotModified {
                    info: Box::new(info.clone()),
                });
            }
        } else if let Some(since) = self.if_modified_since
            && modified <= whole_seconds(since)
        {
            return Err(Error::NotModified {
                info: Box::new(info.clone()),
            });
        }
        Ok(())
    }

    /// Like [`Conditions::evaluate`] but for a copy source, where S3 answers 412 for every
    /// failed condition (there is no 304 for a copy).
    pub fn evaluate_copy_source(&self, info: &ObjectInfo) -> Result<()> {
        match self.evaluate(info) {
            Err(Error::NotModified { .. }) => Err(Error::PreconditionFailed),
            other => other,
        }
    }
}

impl WriteConditions {
    /// Evaluates against the current object, `None` when the key does not exist.
    pub fn evaluate(&self, current: Option<&ObjectInfo>) -> Result<()> {
        if self.if_none_match_any && current.is_some() {
            return Err(Error::PreconditionFailed);
        }
        if let Some(tag) = &self.if_match {
            match current {
                None => return Err(Error::NoSuchKey),
                Some(info) if tag.trim() != "*" && normalize_etag(tag) != info.etag => {
                    return Err(Error::PreconditionFailed);
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ObjectAttrs;

    fn info(secs: i64) -> ObjectInfo {
        ObjectInfo {
            key: "k".into(),
            size: 1,
            etag: "abc".into(),
            last_modified: OffsetDateTime::from_unix_timestamp(secs).expect("valid timestamp"),
            attrs: ObjectAttrs::default(),
            checksum: None,
            parts_count: None,
        }
    }

    fn at(secs: i64) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp(secs).ok()
    }

    fn tags(t: &[&str]) -> Option<Vec<String>> {
        Some(t.iter().map(|s| s.to_string()).collect())
    }

    #[track_caller]
    fn check(c: Conditions, expect: &str) {
        let got = match c.evaluate(&info(1000)) {
            Ok(()) => "ok",
            Err(Error::PreconditionFailed) => "412",
            Err(Error::NotModified { .. }) => "304",
            Err(_) => "other",
        };
        assert_eq!(got, expect, "{c:?}");
    }

    #[test]
    fn evaluation_order() {
        check(Conditions::default(), "ok");
        check(
            Conditions {
                if_match: tags(&["\"abc\""]),
                ..Default::default()
            },
            "ok",
        );
        check(
            Conditions {
                if_match: tags(&["W/\"abc\""]),
                ..Default::default()
            },
            "ok",
        );
        check(
            Conditions {
                if_match: tags(&["\"x\"", "*"]),
                ..Default::default()
            },
            "ok",
        );
        check(
            Conditions {
                if_match: tags(&["\"x\""]),
                ..Default::default()
            },
            "412",
        );
        check(
            Conditions {
                if_unmodified_since: at(999),
                ..Default::default()
            },
            "412",
        );
        check(
            Conditions {
                if_unmodified_since: at(1000),
                ..Default::default()
            },
            "ok",
        );
        // A true If-Match overrides a false If-Unmodified-Since.
        check(
            Conditions {
                if_match: tags(&["abc"]),
                if_unmodified_since: at(1),
                ..Default::default()
            },
            "ok",
        );
        check(
            Conditions {
                if_none_match: tags(&["\"abc\""]),
                ..Default::default()
            },
            "304",
        );
        check(
            Conditions {
                if_none_match: tags(&["\"x\""]),
                ..Default::default()
            },
            "ok",
        );
        check(
            Conditions {
                if_modified_since: at(1000),
                ..Default::default()
            },
            "304",
        );
        check(
            Conditions {
                if_modified_since: at(999),
                ..Default::default()
            },
            "ok",
        );
        // A present If-None-Match that does not match makes If-Modified-Since irrelevant.
        check(
            Conditions {
                if_none_match: tags(&["\"x\""]),
                if_modified_since: at(5000),
                ..Default::default()
            },
            "ok",
        );
        // 412 wins over 304.
        check(
            Conditions {
                if_match: tags(&["x"]),
                if_none_match: tags(&["abc"]),
                ..Default::default()
            },
            "412",
        );
        assert!(matches!(
            Conditions {
                if_none_match: tags(&["abc"]),
                ..Default::default()
            }
            .evaluate_copy_source(&info(1000)),
            Err(Error::PreconditionFailed)
        ));
    }

    #[test]
    fn write_conditions() {
        let cur = info(1);
        let none_match = WriteConditions {
            if_none_match_any: true,
            ..Default::default()
        };
        assert!(none_match.evaluate(None).is_ok());
        assert!(matches!(
            none_match.evaluate(Some(&cur)),
            Err(Error::PreconditionFailed)
        ));
        let if_match = WriteConditions {
            if_match: Some("\"abc\"".into()),
            ..Default::default()
        };
        assert!(if_match.evaluate(Some(&cur)).is_ok());
        assert!(matches!(if_match.evaluate(None), Err(Error::NoSuchKey)));
        let wrong = WriteConditions {
            if_match: Some("\"zz\"".into()),
            ..Default::default()
        };
        assert!(matches!(
            wrong.evaluate(Some(&cur)),
            Err(Error::PreconditionFailed)
        ));
    }
}
