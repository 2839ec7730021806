//! Input checks shared by both backends, run before a transaction starts.

use std::collections::BTreeMap;

use crate::error::StoreError;
use crate::limits::{
    MAX_FILTERS, MAX_INDEX_ENTRIES, MAX_INDEX_VALUE_BYTES, MAX_NAME_BYTES, TAG_KEY_MAX_CHARS,
    TAG_VALUE_MAX_CHARS,
};
use crate::model::{Filter, ListQuery, NewRecord, Scope, Update};

/// Checks a string that the database stores: bounded, and free of NUL (PostgreSQL text cannot hold it,
/// and rejecting it on both backends keeps them alike).
pub(crate) fn text(field: &str, value: &str, max_bytes: usize) -> Result<(), StoreError> {
    if value.len() > max_bytes {
        return Err(StoreError::InvalidInput(format!(
            "{field} longer than {max_bytes} bytes"
        )));
    }
    if value.contains('\0') {
        return Err(StoreError::InvalidInput(format!(
            "{field} contains a NUL character"
        )));
    }
    Ok(())
}

/// Like [`text`], and also non-empty.
pub(crate) fn name(field: &str, value: &str) -> Result<(), StoreError> {
    if value.is_empty() {
        return Err(StoreError::InvalidInput(format!("{field} is empty")));
    }
    text(field, value, MAX_NAME_BYTES)
}

pub(crate) fn scope(scope: &Scope) -> Result<(), StoreError> {
    text("account", &scope.account, MAX_NAME_BYTES)?;
    text("region", &scope.region, MAX_NAME_BYTES)
}

pub(crate) fn index(index: &BTreeMap<String, String>) -> Result<(), StoreError> {
    if index.len() > MAX_INDEX_ENTRIES {
        return Err(StoreError::InvalidInput(format!(
            "more than {MAX_INDEX_ENTRIES} index attributes"
        )));
    }
    for (key, value) in index {
        name("index key", key)?;
        text("index value", value, MAX_INDEX_VALUE_BYTES)?;
    }
    Ok(())
}

pub(crate) fn parent(parent: Option<&str>) -> Result<(), StoreError> {
    match parent {
        Some(p) => name("parent", p),
        None => Ok(()),
    }
}

/// Tag rules shared by every service: keys 1..=128 characters, values 0..=256 characters.
pub(crate) fn tag_key(key: &str) -> Result<(), StoreError> {
    let n_chars = key.chars().count();
    if n_chars == 0 || n_chars > TAG_KEY_MAX_CHARS {
        return Err(StoreError::InvalidTag(format!(
            "tag key must be 1 to {TAG_KEY_MAX_CHARS} characters"
        )));
    }
    if key.contains('\0') {
        return Err(StoreError::InvalidTag(
            "tag key contains a NUL character".into(),
        ));
    }
    Ok(())
}

pub(crate) fn tags(tags: &BTreeMap<String, String>, max_tags: usize) -> Result<(), StoreError> {
    if tags.len() > max_tags {
        return Err(StoreError::TooManyTags { limit: max_tags });
    }
    for (key, value) in tags {
        tag_key(key)?;
        if value.chars().count() > TAG_VALUE_MAX_CHARS {
            return Err(StoreError::InvalidTag(format!(
                "tag value must be at most {TAG_VALUE_MAX_CHARS} characters"
            )));
        }
        if value.contains('\0') {
            return Err(StoreError::InvalidTag(
                "tag value contains a NUL character".into(),
            ));
        }
    }
    Ok(())
}

pub(crate) fn new_record(rec: &NewRecord, max_tags: usize) -> Result<(), StoreError> {
    name("kind", &rec.kind)?;
    name("id", &rec.id)?;
    name("arn", &rec.arn)?;
    parent(rec.parent.as_deref())?;
    index(&rec.index)?;
    tags(&rec.tags, max_tags)
}

pub(crate) fn update(update: &Update) -> Result<(), StoreError> {
    parent(update.parent.as_deref())?;
    index(&update.index)
}

pub(crate) fn list_query(query: &ListQuery) -> Result<(), StoreError> {
    name("kind", &query.kind)?;
    parent(query.parent.as_deref())?;
    if query.filters.len() > MAX_FILTERS {
        return Err(StoreError::InvalidInput(format!(
            "more than {MAX_FILTERS} filters"
        )));
    }
    for filter in &query.filters {
        let (key, value) = match filter {
            Filter::Eq { key, value } => (key, value),
            Filter::Prefix { key, prefix } => (key, prefix),
        };
        name("filter key", key)?;
        text("filter value", value, MAX_INDEX_VALUE_BYTES)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_lengths_are_counted_in_chars() {
        let key = "é".repeat(TAG_KEY_MAX_CHARS);
        let value = "é".repeat(TAG_VALUE_MAX_CHARS);
        assert!(tags(&BTreeMap::from([(key.clone(), value.clone())]), 50).is_ok());
        let long_key = format!("{key}é");
        assert!(matches!(
            tags(&BTreeMap::from([(long_key, String::new())]), 50),
            Err(StoreError::InvalidTag(_))
        ));
        let long_value = format!("{value}x");
        assert!(matches!(
            tags(&BTreeMap::from([(key, long_value)]), 50),
            Err(StoreError::InvalidTag(_))
        ));
        assert!(matches!(
            tags(&BTreeMap::from([(String::new(), String::new())]), 50),
            Err(StoreError::InvalidTag(_))
        ));
    }

    #[test]
    fn names_reject_nul_empty_and_oversize() {
        assert!(name("id", "a").is_ok());
        assert!(matches!(name("id", ""), Err(StoreError::InvalidInput(_))));
        assert!(matches!(
            name("id", "a\0b"),
            Err(StoreError::InvalidInput(_))
        ));
        assert!(matches!(
            name("id", &"x".repeat(MAX_NAME_BYTES + 1)),
            Err(StoreError::InvalidInput(_))
        ));
    }
}
