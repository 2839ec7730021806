//! restJson1 request decoding (with model validation) and response encoding.
//!
//! Handlers exchange *canonical* JSON with this module: objects keyed by model member names,
//! timestamps as epoch seconds, blobs as base64. On the way in, every HTTP binding (path
//! label, query string, header, JSON body under `locationName`s, payload) is read into that
//! form while each modelled constraint (required, type, length, pattern, range, enum) is
//! checked; on the way out, the output structure is split back into status, headers and body.

use crate::error::ApiError;
use crate::model::*;
use crate::values::Timestamp;
use base64::Engine as _;
use bytes::Bytes;
use serde_json::{Map, Number, Value};

/// Most violations reported in one error message (AWS reports a handful too).
const MAX_REPORTED_VIOLATIONS: usize = 10;

/// The parts of an HTTP request the codec reads.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// Query string as received (still percent-encoded), without `?`.
    pub raw_query: &'a str,
    /// Request headers.
    pub headers: &'a http::HeaderMap,
}

struct Checker<'m> {
    model: &'m ServiceModel,
    violations: Vec<String>,
}

fn show(v: &str, sensitive: bool) -> String {
    if sensitive {
        return "***".into();
    }
    let mut s: String = v.chars().take(64).collect();
    if v.chars().count() > 64 {
        s.push_str("...");
    }
    s
}

impl<'m> Checker<'m> {
    fn fail(&mut self, value: Option<&str>, path: &str, constraint: impl AsRef<str>) {
        let msg = match value {
            Some(v) => format!(
                "Value '{v}' at '{path}' failed to satisfy constraint: {}",
                constraint.as_ref()
            ),
            None => format!(
                "Value at '{path}' failed to satisfy constraint: {}",
                constraint.as_ref()
            ),
        };
        self.violations.push(msg);
    }

    fn check_string(&mut self, st: &StringShape, s: &str, path: &str) {
        let shown = show(s, st.sensitive);
        let n = s.chars().count() as u64;
        if let Some(min) = st.min
            && n < min
        {
            self.fail(
                Some(&shown),
                path,
                format!("Member must have length greater than or equal to {min}"),
            );
        }
        if let Some(max) = st.max
            && n > max
        {
            self.fail(
                Some(&shown),
                path,
                format!("Member must have length less than or equal to {max}"),
            );
        }
        if !st.enum_values.is_empty() && !st.enum_values.contains(&s) {
            self.fail(
                Some(&shown),
                path,
                format!(
                    "Member must satisfy enum value set: [{}]",
                    st.enum_values.join(", ")
                ),
            );
        }
        if let Some(p) = st.pattern {
            let re = self.model.pattern(p);
            if !re.is_match(s) {
                self.fail(
                    Some(&shown),
                    path,
                    format!(
                        "Member must satisfy regular expression pattern: {}",
                        re.as_str()
                    ),
                );
            }
        }
    }

    fn check_int(&mut self, r: IntRange, v: i64, path: &str, bits32: bool) -> Option<Value> {
        if bits32 && (v < i64::from(i32::MIN) || v > i64::from(i32::MAX)) {
            self.fail(
                Some(&v.to_string()),
                path,
                "Member must be a 32-bit integer",
            );
            return None;
        }
        if let Some(min) = r.min
            && v < min
        {
            self.fail(
                Some(&v.to_string()),
                path,
                format!("Member must have value greater than or equal to {min}"),
            );
        }
        if let Some(max) = r.max
            && v > max
        {
            self.fail(
                Some(&v.to_string()),
                path,
                format!("Member must have value less than or equal to {max}"),
            );
        }
        Some(Value::Number(v.into()))
    }

    fn check_float(&mut self, r: FloatRange, v: f64, path: &str) -> Option<Value> {
        if let Some(min) = r.min
            && v < min
        {
            self.fail(
                Some(&v.to_string()),
                path,
                format!("Member must have value greater than or equal to {min}"),
            );
        }
        if let Some(max) = r.max
            && v > max
        {
            self.fail(
                Some(&v.to_string()),
                path,
                format!("Member must have value less than or equal to {max}"),
            );
        }
        Number::from_f64(v).map(Value::Number)
    }

    fn type_error(&mut self, path: &str, expected: &str) -> Option<Value> {
        self.fail(None, path, format!("Member must be {expected}"));
        None
    }

    /// Decode a JSON wire value of shape `id` into canonical form, recording violations.
    fn json(&mut self, id: ShapeId, wire: &Value, path: &str) -> Option<Value> {
        let shape = self.model.shape(id);
        match &shape.kind {
            ShapeKind::Structure(st) => {
                let Value::Object(obj) = wire else {
                    return self.type_error(path, "an object");
                };
                let mut out = Map::new();
                for m in st.members {
                    let mpath = join(path, m.wire_name());
                    match obj.get(m.wire_name()) {
                        Some(Value::Null) | None => {}
                        Some(v) => {
                            if let Some(c) = self.json(m.shape, v, &mpath) {
                                out.insert(m.name.to_string(), c);
                            }
                        }
                    }
                }
                self.required(st, &out, path);
                Some(Value::Object(out))
            }
            ShapeKind::List { member, min, max } => {
                let Value::Array(items) = wire else {
                    return self.type_error(path, "a list");
                };
                self.count(items.len(), *min, *max, path);
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    if let Some(c) = self.json(*member, item, &format!("{path}.{}.member", i + 1)) {
                        out.push(c);
                    }
                }
                Some(Value::Array(out))
            }
            ShapeKind::Map {
                key,
                value,
                min,
                max,
            } => {
                let Value::Object(obj) = wire else {
                    return self.type_error(path, "a map");
                };
                self.count(obj.len(), *min, *max, path);
                let mut out = Map::new();
                for (k, v) in obj {
                    if let ShapeKind::String(ks) = &self.model.shape(*key).kind {
                        self.check_string(ks, k, &format!("{path}.key"));
                    }
                    if let Some(c) = self.json(*value, v, &format!("{path}.{k}")) {
                        out.insert(k.clone(), c);
                    }
                }
                Some(Value::Object(out))
            }
            ShapeKind::String(st) => {
                let Value::String(s) = wire else {
                    return self.type_error(path, "a string");
                };
                self.check_string(st, s, path);
                Some(wire.clone())
            }
            ShapeKind::Integer(r) | ShapeKind::Long(r) => {
                let bits32 = matches!(shape.kind, ShapeKind::Integer(_));
                match wire.as_i64() {
                    Some(v) => self.check_int(*r, v, path, bits32),
                    None => self.type_error(path, "an integer"),
                }
            }
            ShapeKind::Float(r) | ShapeKind::Double(r) => match wire.as_f64() {
                Some(v) => self.check_float(*r, v, path),
                None => self.type_error(path, "a number"),
            },
            ShapeKind::Boolean => match wire {
                Value::Bool(_) => Some(wire.clone()),
                _ => self.type_error(path, "a boolean"),
            },
            ShapeKind::Timestamp(_) => {
                let ts = match wire {
                    Value::Number(n) => n.as_f64().and_then(Timestamp::from_epoch_seconds),
                    Value::String(s) => parse_timestamp_text(s),
                    _ => None,
                };
                match ts {
                    Some(t) => Number::from_f64(t.epoch_seconds()).map(Value::Number),
                    None => self.type_error(path, "a timestamp"),
                }
            }
            ShapeKind::Blob { .. } => match wire {
                Value::String(s) if base64::engine::general_purpose::STANDARD.decode(s).is_ok() => {
                    Some(wire.clone())
                }
                _ => self.type_error(path, "base64-encoded data"),
            },
        }
    }

    /// Decode a text value (label, query parameter, header) of scalar shape `id`.
    fn text(&mut self, id: ShapeId, s: &str, path: &str) -> Option<Value> {
        let shape = self.model.shape(id);
        match &shape.kind {
            ShapeKind::String(st) => {
                self.check_string(st, s, path);
                Some(Value::String(s.to_string()))
            }
            ShapeKind::Integer(r) | ShapeKind::Long(r) => {
                let bits32 = matches!(shape.kind, ShapeKind::Integer(_));
                match s.trim().parse::<i64>() {
                    Ok(v) => self.check_int(*r, v, path, bits32),
                    Err(_) => {
                        self.fail(Some(&show(s, false)), path, "Member must be an integer");
                        None
                    }
                }
            }
            ShapeKind::Float(r) | ShapeKind::Double(r) => match s.trim().parse::<f64>() {
                Ok(v) if v.is_finite() => self.check_float(*r, v, path),
                _ => {
                    self.fail(Some(&show(s, false)), path, "Member must be a number");
                    None
                }
            },
            ShapeKind::Boolean => match s {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => {
                    self.fail(Some(&show(s, false)), path, "Member must be a boolean");
                    None
                }
            },
            ShapeKind::Timestamp(_) => match parse_timestamp_text(s) {
                Some(t) => Number::from_f64(t.epoch_seconds()).map(Value::Number),
                None => {
                    self.fail(Some(&show(s, false)), path, "Member must be a timestamp");
                    None
                }
            },
            ShapeKind::Blob { .. } => Some(Value::String(
                base64::engine::general_purpose::STANDARD.encode(s),
            )),
            _ => self.type_error(path, "a scalar"),
        }
    }

    fn count(&mut self, n: usize, min: Option<u64>, max: Option<u64>, path: &str) {
        let n = n as u64;
        if let Some(min) = min
            && n < min
        {
            self.fail(
                None,
                path,
                format!("Member must have length greater than or equal to {min}"),
            );
        }
        if let Some(max) = max
            && n > max
        {
            self.fail(
                None,
                path,
                format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    fn required(&mut self, st: &StructureShape, out: &Map<String, Value>, path: &str) {
        for r in st.required {
            if !out.contains_key(*r) {
                let wire = st.member(r).map_or(*r, |m| m.wire_name());
                // A member present but invalid already has its own violation.
                if !self
                    .violations
                    .iter()
                    .any(|v| v.contains(&format!("at '{}'", join(path, wire))))
                {
                    self.fail(None, &join(path, wire), "Member must not be null");
                }
            }
        }
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn parse_timestamp_text(s: &str) -> Option<Timestamp> {
    if let Ok(secs) = s.trim().parse::<f64>() {
        return Timestamp::from_epoch_seconds(secs);
    }
    Timestamp::parse_rfc3339(s.trim()).or_else(|| {
        time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc2822)
            .ok()
            .map(Timestamp)
    })
}

/// Percent-decode one path label strictly: malformed escapes or non-UTF-8 are errors.
pub fn decode_label(raw: &str) -> Result<String, String> {
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let ok = bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
            if !ok {
                return Err(format!(
                    "malformed percent-encoding in '{}'",
                    show(raw, false)
                ));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| "percent-encoded value is not UTF-8".to_string())
}

/// Split a raw query string into decoded pairs (`+` is kept literally, as AWS SDKs encode
/// spaces as `%20`).
pub fn query_pairs(raw_query: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for part in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        out.push((decode_label(k)?, decode_label(v)?));
    }
    Ok(out)
}

/// Decode and validate the input of `op` into canonical JSON.
pub fn decode_input(
    model: &ServiceModel,
    op: &Operation,
    labels: &[(&str, &str)],
    req: RequestParts<'_>,
    body: &[u8],
) -> Result<Value, ApiError> {
    let Some(input) = op.input else {
        return Ok(Value::Object(Map::new()));
    };
    let ShapeKind::Structure(st) = &model.shape(input).kind else {
        return Err(ApiError::internal(model.id, "input is not a structure"));
    };
    let mut c = Checker {
        model,
        violations: Vec::new(),
    };
    let mut out = Map::new();

    let body_json =
        if st.payload.is_none() && st.members.iter().any(|m| m.location == Location::Body) {
            if body.iter().all(u8::is_ascii_whitespace) {
                Map::new()
            } else {
                match serde_json::from_slice::<Value>(body) {
                    Ok(Value::Object(o)) => o,
                    Ok(_) => {
                        return Err(ApiError::serialization(
                            "the request body must be a JSON object",
                        ));
                    }
                    Err(e) => {
                        return Err(ApiError::serialization(format!(
                            "the request body is not valid JSON: {e}"
                        )));
                    }
                }
            }
        } else {
            Map::new()
        };
    let query = query_pairs(req.raw_query).map_err(|e| ApiError::validation(model.id, e))?;

    for m in st.members {
        let name = m.wire_name();
        let value = match m.location {
            Location::Body if st.payload == Some(m.name) => match &model.shape(m.shape).kind {
                ShapeKind::Structure(_) if !body.is_empty() => {
                    match serde_json::from_slice::<Value>(body) {
                        Ok(v) => c.json(m.shape, &v, name),
                        Err(e) => {
                            return Err(ApiError::serialization(format!(
                                "the request body is not valid JSON: {e}"
                            )));
                        }
                    }
                }
                ShapeKind::Blob { .. } if !body.is_empty() => Some(Value::String(
                    base64::engine::general_purpose::STANDARD.encode(body),
                )),
                ShapeKind::String(_) if !body.is_empty() => match std::str::from_utf8(body) {
                    Ok(s) => c.text(m.shape, s, name),
                    Err(_) => return Err(ApiError::serialization("the request body is not UTF-8")),
                },
                _ => None,
            },
            Location::Body => match body_json.get(name) {
                None | Some(Value::Null) => None,
                Some(v) => c.json(m.shape, v, name),
            },
            Location::Uri => match labels.iter().find(|(l, _)| *l == name) {
                Some((_, raw)) => match decode_label(raw) {
                    Ok(s) => c.text(m.shape, &s, name),
                    Err(e) => return Err(ApiError::validation(model.id, e)),
                },
                None => None,
            },
            Location::Querystring => {
                let values: Vec<&str> = query
                    .iter()
                    .filter(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
                    .collect();
                match &model.shape(m.shape).kind {
                    ShapeKind::List { member, min, max } if !values.is_empty() => {
                        c.count(values.len(), *min, *max, name);
                        let items = values
                            .iter()
                            .filter_map(|v| c.text(*member, v, name))
                            .collect();
                        Some(Value::Array(items))
                    }
                    ShapeKind::Map { .. } => None,
                    _ => values.first().and_then(|v| c.text(m.shape, v, name)),
                }
            }
            Location::Header => match req.headers.get(name) {
                Some(h) => match h.to_str() {
                    Ok(s) => match &model.shape(m.shape).kind {
                        ShapeKind::List { member, .. } => {
                            let items = s
                                .split(',')
                                .map(str::trim)
                                .filter_map(|v| c.text(*member, v, name))
                                .collect();
                            Some(Value::Array(items))
                        }
                        _ => c.text(m.shape, s, name),
                    },
                    Err(_) => {
                        c.fail(None, name, "Member must be a visible ASCII header value");
                        None
                    }
                },
                None => None,
            },
            Location::Headers | Location::StatusCode => None,
        };
        if let Some(v) = value {
            out.insert(m.name.to_string(), v);
        }
    }
    c.required(st, &out, "");
    if !c.violations.is_empty() {
        let n = c.violations.len();
        let shown: Vec<String> = c
            .violations
            .into_iter()
            .take(MAX_REPORTED_VIOLATIONS)
            .collect();
        let msg = format!(
            "{n} validation error{} detected: {}",
            if n == 1 { "" } else { "s" },
            shown.join("; ")
        );
        return Err(ApiError::validation(model.id, msg));
    }
    Ok(Value::Object(out))
}

/// An encoded response.
#[derive(Debug)]
pub struct Encoded {
    /// HTTP status.
    pub status: u16,
    /// Headers bound from output members.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Bytes,
    /// Content type of the body.
    pub content_type: Option<String>,
}

/// Encode canonical output of `op` onto the wire.
pub fn encode_output(model: &ServiceModel, op: &Operation, canonical: &Value) -> Encoded {
    let mut enc = Encoded {
        status: op.success_code,
        headers: Vec::new(),
        body: Bytes::new(),
        content_type: None,
    };
    let Some(out_id) = op.output else {
        if enc.status != 204 {
            enc.body = Bytes::from_static(b"{}");
            enc.content_type = Some("application/json".into());
        }
        return enc;
    };
    let ShapeKind::Structure(st) = &model.shape(out_id).kind else {
        return enc;
    };
    let empty = Map::new();
    let obj = canonical.as_object().unwrap_or(&empty);
    // Written straight to the response bytes, without a wire-form copy of the output first.
    let mut body: Vec<(&str, Wire<'_>)> = Vec::new();
    let mut payload: Option<Bytes> = None;
    for m in st.members {
        let Some(v) = obj.get(m.name) else { continue };
        if v.is_null() {
            continue;
        }
        match m.location {
            Location::Header => {
                if let Some(text) = to_text(model, m.shape, v) {
                    enc.headers.push((m.wire_name().to_string(), text));
                }
            }
            Location::StatusCode => {
                if let Some(s) = v.as_u64().and_then(|s| u16::try_from(s).ok()) {
                    enc.status = s;
                }
            }
            Location::Body if st.payload == Some(m.name) => {
                payload = Some(match &model.shape(m.shape).kind {
                    ShapeKind::Blob { .. } => {
                        let s = v.as_str().unwrap_or("");
                        Bytes::from(
                            base64::engine::general_purpose::STANDARD
                                .decode(s)
                                .unwrap_or_default(),
                        )
                    }
                    ShapeKind::String(_) => Bytes::from(v.as_str().unwrap_or("").to_string()),
                    _ => Bytes::from(
                        serde_json::to_vec(&Wire::new(model, m.shape, v)).unwrap_or_default(),
                    ),
                });
            }
            Location::Body => body.push((m.wire_name(), Wire::new(model, m.shape, v))),
            _ => {}
        }
    }
    if enc.status == 204 {
        return enc;
    }
    match payload {
        Some(p) => enc.body = p,
        None => {
            enc.body = Bytes::from(serde_json::to_vec(&WireMembers(&body)).unwrap_or_default());
            enc.content_type = Some("application/json".into());
        }
    }
    enc
}

fn to_text(model: &ServiceModel, id: ShapeId, v: &Value) -> Option<String> {
    match (&model.shape(id).kind, v) {
        (_, Value::String(s)) => Some(s.clone()),
        (ShapeKind::Timestamp(_), Value::Number(n)) => n
            .as_f64()
            .and_then(Timestamp::from_epoch_seconds)
            .map(|t| t.to_rfc3339()),
        (_, Value::Number(n)) => Some(n.to_string()),
        (_, Value::Bool(b)) => Some(b.to_string()),
        (ShapeKind::List { .. }, Value::Array(a)) => Some(
            a.iter()
                .filter_map(|x| to_text(model, id, x))
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    }
}

/// Canonical to wire JSON for a body value `v` of shape `id`, as a serializer: wire member names,
/// null and unknown members dropped, timestamps in the shape's format. The wire form is written
/// out as it is walked, so encoding a response allocates no second tree.
#[derive(Clone, Copy)]
struct Wire<'a> {
    model: &'a ServiceModel,
    id: ShapeId,
    v: &'a Value,
}

impl<'a> Wire<'a> {
    fn new(model: &'a ServiceModel, id: ShapeId, v: &'a Value) -> Self {
        Wire { model, id, v }
    }
}

impl serde::Serialize for Wire<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap as _, SerializeSeq as _};
        let model = self.model;
        match (&model.shape(self.id).kind, self.v) {
            (ShapeKind::Structure(st), Value::Object(obj)) => {
                let mut map = s.serialize_map(None)?;
                for m in st.members {
                    if let Some(x) = obj.get(m.name).filter(|x| !x.is_null()) {
                        map.serialize_entry(m.wire_name(), &Wire::new(model, m.shape, x))?;
                    }
                }
                map.end()
            }
            (ShapeKind::List { member, .. }, Value::Array(a)) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for x in a {
                    seq.serialize_element(&Wire::new(model, *member, x))?;
                }
                seq.end()
            }
            (ShapeKind::Map { value, .. }, Value::Object(obj)) => {
                let mut map = s.serialize_map(Some(obj.len()))?;
                for (k, x) in obj {
                    map.serialize_entry(k, &Wire::new(model, *value, x))?;
                }
                map.end()
            }
            (ShapeKind::Timestamp(fmt), Value::Number(n)) => {
                match n.as_f64().and_then(Timestamp::from_epoch_seconds) {
                    Some(t) if *fmt == Some(TimestampFormat::Iso8601) => {
                        s.serialize_str(&t.to_rfc3339())
                    }
                    // restJson1 bodies default to epoch seconds.
                    Some(t) => s.serialize_f64(t.epoch_seconds()),
                    None => self.v.serialize(s),
                }
            }
            _ => self.v.serialize(s),
        }
    }
}

/// The body members of an output, in member order.
struct WireMembers<'a, 'b>(&'b [(&'a str, Wire<'a>)]);

impl serde::Serialize for WireMembers<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::{ivs, kinesisvideo, mediapackage_vod};

    fn decode(
        model: &ServiceModel,
        op: &str,
        labels: &[(&str, &str)],
        query: &str,
        body: &str,
    ) -> Result<Value, ApiError> {
        let headers = http::HeaderMap::new();
        let op = model.operation(op).unwrap();
        decode_input(
            model,
            op,
            labels,
            RequestParts {
                raw_query: query,
                headers: &headers,
            },
            body.as_bytes(),
        )
    }

    #[track_caller]
    fn check_err(r: Result<Value, ApiError>, code: &str, needle: &str) {
        let e = r.unwrap_err();
        assert_eq!(e.code, code, "{e}");
        assert!(
            e.message.contains(needle),
            "{} does not contain {needle}",
            e.message
        );
    }

    #[test]
    fn mediapackage_vod_location_names_become_member_names() {
        let v = decode(
            &mediapackage_vod::MODEL,
            "CreatePackagingGroup",
            &[],
            "",
            r#"{"id":"pg1","tags":{"a":"b"}}"#,
        )
        .unwrap();
        assert_eq!(v, serde_json::json!({"Id": "pg1", "Tags": {"a": "b"}}));
        let v = decode(
            &mediapackage_vod::MODEL,
            "ListAssets",
            &[],
            "maxResults=5&packagingGroupId=pg%201",
            "",
        )
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"MaxResults": 5, "PackagingGroupId": "pg 1"})
        );
    }

    #[test]
    fn required_length_range_enum_and_types_are_checked() {
        let m = &ivs::MODEL;
        check_err(
            decode(m, "GetChannel", &[], "", "{}"),
            "ValidationException",
            "'arn' failed to satisfy constraint: Member must not be null",
        );
        check_err(
            decode(m, "GetChannel", &[], "", r#"{"arn":""}"#),
            "ValidationException",
            "length greater than or equal to 1",
        );
        check_err(
            decode(m, "GetChannel", &[], "", r#"{"arn":"nope"}"#),
            "ValidationException",
            "pattern",
        );
        check_err(
            decode(m, "ListChannels", &[], "", r#"{"maxResults":1000}"#),
            "ValidationException",
            "less than or equal to 100",
        );
        check_err(
            decode(m, "CreateChannel", &[], "", r#"{"latencyMode":"FAST"}"#),
            "ValidationException",
            "enum value set",
        );
        check_err(
            decode(m, "CreateChannel", &[], "", r#"{"authorized":"yes"}"#),
            "ValidationException",
            "must be a boolean",
        );
        check_err(
            decode(m, "CreateChannel", &[], "", "{"),
            "SerializationException",
            "not valid JSON",
        );
        check_err(
            decode(m, "CreateChannel", &[], "", "[]"),
            "SerializationException",
            "JSON object",
        );
        check_err(
            decode(
                &kinesisvideo::MODEL,
                "DescribeStream",
                &[],
                "",
                r#"{"StreamName":"a b"}"#,
            ),
            "InvalidArgumentException",
            "pattern",
        );
        check_err(
            decode(&mediapackage_vod::MODEL, "CreateAsset", &[], "", "{}"),
            "UnprocessableEntityException",
            "4 validation errors",
        );
    }

    #[test]
    fn labels_are_decoded_strictly() {
        let arn = "arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Achannel%2Fabcd";
        let v = decode(
            &ivs::MODEL,
            "ListTagsForResource",
            &[("resourceArn", arn)],
            "",
            "",
        )
        .unwrap();
        assert_eq!(
            v["resourceArn"],
            "arn:aws:ivs:us-west-2:123456789012:channel/abcd"
        );
        check_err(
            decode(
                &ivs::MODEL,
                "ListTagsForResource",
                &[("resourceArn", "arn%zz")],
                "",
                "",
            ),
            "ValidationException",
            "percent",
        );
        let v = decode(
            &ivs::MODEL,
            "UntagResource",
            &[("resourceArn", arn)],
            "tagKeys=a&tagKeys=b",
            "",
        )
        .unwrap();
        assert_eq!(v["tagKeys"], serde_json::json!(["a", "b"]));
    }

    /// The wire form of outputs with structures, lists, maps, timestamps, unknown members, nulls
    /// and values of the wrong type, byte for byte (member order is the model's, map order the
    /// canonical value's).
    #[test]
    fn wire_form_of_outputs() {
        let channel = serde_json::json!({
            "arn": "arn:aws:ivs:us-east-1:123:channel/a", "name": "n \" é", "authorized": true,
            "latencyMode": "LOW", "preset": "", "tags": {"b": "2", "a": "1"}, "unknown": [1, 2],
            "recordingConfigurationArn": null, "insecureIngest": "not a bool"
        });
        let cases = [
            (
                &ivs::MODEL,
                "ListChannels",
                serde_json::json!({
                    "channels": [channel.clone(), channel.clone(), {}], "nextToken": "t"
                }),
            ),
            (
                &ivs::MODEL,
                "ListChannels",
                serde_json::json!({"channels": "not a list"}),
            ),
            (
                &ivs::MODEL,
                "GetChannel",
                serde_json::json!({"channel": channel}),
            ),
            (
                &ivs::MODEL,
                "GetStream",
                serde_json::json!({
                    "stream": {"startTime": 1700000000.5, "viewerCount": 3, "health": "HEALTHY"}
                }),
            ),
            (
                &mediapackage_vod::MODEL,
                "DescribePackagingGroup",
                serde_json::json!({
                    "Id": "pg", "Arn": "x", "Tags": {"k": "v"}, "Authorization": {"CdnIdentifierSecret": "s"}
                }),
            ),
            (
                &kinesisvideo::MODEL,
                "DescribeStream",
                serde_json::json!({
                    "StreamInfo": {"StreamName": "s", "CreationTime": 1700000000, "Version": "v"}
                }),
            ),
        ];
        let ch = r#"{"arn":"arn:aws:ivs:us-east-1:123:channel/a","authorized":true,"insecureIngest":"not a bool","latencyMode":"LOW","name":"n \" é","preset":"","tags":{"b":"2","a":"1"}}"#;
        let want = [
            format!(r#"{{"channels":[{ch},{ch},{{}}],"nextToken":"t"}}"#),
            r#"{"channels":"not a list"}"#.to_string(),
            format!(r#"{{"channel":{ch}}}"#),
            r#"{"stream":{"health":"HEALTHY","startTime":"2023-11-14T22:13:20.500Z","viewerCount":3}}"#.to_string(),
            r#"{"arn":"x","authorization":{"cdnIdentifierSecret":"s"},"id":"pg","tags":{"k":"v"}}"#.to_string(),
            r#"{"StreamInfo":{"CreationTime":1700000000.0,"StreamName":"s","Version":"v"}}"#.to_string(),
        ];
        for ((m, name, v), want) in cases.into_iter().zip(want) {
            let op = m.operation(name).unwrap();
            assert_eq!(
                String::from_utf8(encode_output(m, op, &v).body.to_vec()).unwrap(),
                want,
                "{name}"
            );
        }
    }

    #[test]
    fn output_encoding_applies_wire_names_and_timestamp_formats() {
        let m = &mediapackage_vod::MODEL;
        let op = m.operation("DescribePackagingGroup").unwrap();
        let e = encode_output(m, op, &serde_json::json!({"Id": "pg", "Arn": "x"}));
        assert_eq!(e.status, 200);
        assert_eq!(
            serde_json::from_slice::<Value>(&e.body).unwrap(),
            serde_json::json!({"id": "pg", "arn": "x"})
        );
        let op = m.operation("DeleteAsset").unwrap();
        assert_eq!(encode_output(m, op, &serde_json::json!({})).status, 202);
        let m = &ivs::MODEL;
        let op = m.operation("GetStream").unwrap();
        let e = encode_output(
            m,
            op,
            &serde_json::json!({"stream": {"startTime": 1700000000.5}}),
        );
        assert_eq!(
            serde_json::from_slice::<Value>(&e.body).unwrap(),
            serde_json::json!({"stream": {"startTime": "2023-11-14T22:13:20.500Z"}})
        );
    }

    #[test]
    fn hostile_input_never_panics() {
        // A deterministic xorshift stream of bytes, JSON fragments and paths through every
        // operation's decoder and the router (the fuzz target explores further).
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let fragments: [&[u8]; 12] = [
            b"{",
            b"}",
            b"[",
            b"]",
            b"\"",
            b":",
            b",",
            b"1e999",
            b"null",
            b"\xff",
            b"%2F",
            b"{\"arn\":",
        ];
        let router = crate::router::Router::new(crate::generated::ALL);
        let headers = http::HeaderMap::new();
        for _ in 0..3000 {
            let mut body = Vec::new();
            for _ in 0..(next() % 12) {
                body.extend_from_slice(fragments[(next() % 12) as usize]);
            }
            let model = crate::generated::ALL[(next() % 8) as usize];
            let op = &model.operations[(next() as usize) % model.operations.len()];
            let query = String::from_utf8_lossy(&body).replace(['{', '}'], "&");
            let _ = decode_input(
                model,
                op,
                &[("resourceArn", "%zz%"), ("id", "%C3%28")],
                RequestParts {
                    raw_query: &query,
                    headers: &headers,
                },
                &body,
            );
            let path = format!("/{}", String::from_utf8_lossy(&body));
            let _ = router.route(None, "POST", &path);
        }
    }
}
