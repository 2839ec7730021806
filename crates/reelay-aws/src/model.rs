//! Static descriptions of the botocore service models.
//!
//! The generator in `crates/reelay-codegen` turns each pinned model under `data/models/` into a
//! `ServiceModel` built from these types (see `src/generated/`). Everything the wire layer
//! knows about bindings, constraints and errors comes from these tables; nothing is hand-written
//! per operation.

use std::sync::OnceLock;

/// Index of a shape in its service's `shapes` table.
pub type ShapeId = u16;

/// The eight botocore services reelay speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ServiceId {
    /// `mediapackage-vod`
    MediaPackageVod,
    /// `ivs`
    Ivs,
    /// `ivs-realtime`
    IvsRealtime,
    /// `kinesisvideo`
    KinesisVideo,
    /// `kinesis-video-media`
    KinesisVideoMedia,
    /// `kinesis-video-archived-media`
    KinesisVideoArchivedMedia,
    /// `kinesis-video-signaling`
    KinesisVideoSignaling,
    /// `kinesis-video-webrtc-storage`
    KinesisVideoWebrtcStorage,
}

/// One service model.
#[derive(Debug)]
pub struct ServiceModel {
    /// Which service this is.
    pub id: ServiceId,
    /// The botocore service name (`boto3.client(<name>)`).
    pub botocore_name: &'static str,
    /// `metadata.apiVersion`.
    pub api_version: &'static str,
    /// The SigV4 signing name (`signingName`, else `endpointPrefix`).
    pub signing_name: &'static str,
    /// `metadata.endpointPrefix`.
    pub endpoint_prefix: &'static str,
    /// Every operation, in model order (sorted by name).
    pub operations: &'static [Operation],
    /// Every shape, sorted by name; `ShapeId` indexes this table.
    pub shapes: &'static [Shape],
    /// Regular expressions referenced by string shapes (`StringShape::pattern`).
    pub patterns: &'static [&'static str],
    /// Compiled forms of `patterns`, built on first use.
    pub compiled_patterns: OnceLock<Vec<regex::Regex>>,
}

impl ServiceModel {
    /// The shape with this id.
    pub fn shape(&self, id: ShapeId) -> &'static Shape {
        &self.shapes[usize::from(id)]
    }

    /// The operation with this name.
    pub fn operation(&self, name: &str) -> Option<&'static Operation> {
        self.operations.iter().find(|op| op.name == name)
    }

    /// The compiled pattern with this index.
    pub fn pattern(&self, idx: u16) -> &regex::Regex {
        let compiled = self.compiled_patterns.get_or_init(|| {
            self.patterns
                .iter()
                .map(|p| {
                    // The generator translates every model pattern to Rust regex syntax and a
                    // test in reelay-codegen compiles each one, so this cannot fail at run time.
                    #[allow(clippy::expect_used)]
                    regex::Regex::new(p).expect("model patterns are checked by codegen tests")
                })
                .collect()
        });
        &compiled[usize::from(idx)]
    }

    /// The error shape that carries this error code, if the model has one.
    pub fn error_shape(&self, code: &str) -> Option<(&'static Shape, &'static ErrorTrait)> {
        self.shapes.iter().find_map(|s| match &s.kind {
            ShapeKind::Structure(st) => {
                st.error.as_ref().filter(|e| e.code == code).map(|e| (s, e))
            }
            _ => None,
        })
    }
}

/// One operation of a model.
#[derive(Debug)]
pub struct Operation {
    /// The operation name, e.g. `CreateChannel`.
    pub name: &'static str,
    /// HTTP method.
    pub method: &'static str,
    /// `http.requestUri`, with `{label}` / `{label+}` placeholders and possibly a literal query.
    pub uri: &'static str,
    /// `http.responseCode`, 200 when the model has none.
    pub success_code: u16,
    /// Input structure.
    pub input: Option<ShapeId>,
    /// Output structure.
    pub output: Option<ShapeId>,
    /// Modelled error shapes.
    pub errors: &'static [ShapeId],
    /// Paginator, when `paginators-1.json` has one.
    pub paginator: Option<Paginator>,
}

/// A botocore paginator.
#[derive(Debug)]
pub struct Paginator {
    /// Input token member names.
    pub input_token: &'static [&'static str],
    /// Output token member paths.
    pub output_token: &'static [&'static str],
    /// The page-size member.
    pub limit_key: Option<&'static str>,
    /// Result member paths.
    pub result_key: &'static [&'static str],
}

/// A shape.
#[derive(Debug)]
pub struct Shape {
    /// The shape name.
    pub name: &'static str,
    /// What it is.
    pub kind: ShapeKind,
}

/// A shape's type and constraints.
#[derive(Debug)]
pub enum ShapeKind {
    /// A structure.
    Structure(StructureShape),
    /// A list.
    List {
        /// Element shape.
        member: ShapeId,
        /// Minimum element count.
        min: Option<u64>,
        /// Maximum element count.
        max: Option<u64>,
    },
    /// A map with string keys.
    Map {
        /// Key shape.
        key: ShapeId,
        /// Value shape.
        value: ShapeId,
        /// Minimum entry count.
        min: Option<u64>,
        /// Maximum entry count.
        max: Option<u64>,
    },
    /// A string (possibly an enum).
    String(StringShape),
    /// A 32-bit integer.
    Integer(IntRange),
    /// A 64-bit integer.
    Long(IntRange),
    /// A 32-bit float.
    Float(FloatRange),
    /// A 64-bit float.
    Double(FloatRange),
    /// A boolean.
    Boolean,
    /// A timestamp.
    Timestamp(Option<TimestampFormat>),
    /// A blob.
    Blob {
        /// A streaming payload.
        streaming: bool,
    },
}

/// Integer range constraint.
#[derive(Debug, Clone, Copy)]
pub struct IntRange {
    /// Minimum, inclusive.
    pub min: Option<i64>,
    /// Maximum, inclusive.
    pub max: Option<i64>,
}

/// Float range constraint.
#[derive(Debug, Clone, Copy)]
pub struct FloatRange {
    /// Minimum, inclusive.
    pub min: Option<f64>,
    /// Maximum, inclusive.
    pub max: Option<f64>,
}

/// Timestamp wire formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampFormat {
    /// ISO 8601 / RFC 3339.
    Iso8601,
    /// Seconds since the epoch, as a number.
    UnixTimestamp,
    /// RFC 7231 HTTP date.
    Rfc822,
}

/// String constraints.
#[derive(Debug)]
pub struct StringShape {
    /// Minimum length in characters.
    pub min: Option<u64>,
    /// Maximum length in characters.
    pub max: Option<u64>,
    /// Index into `ServiceModel::patterns`.
    pub pattern: Option<u16>,
    /// Allowed values, empty when not an enum.
    pub enum_values: &'static [&'static str],
    /// The value is sensitive (never logged).
    pub sensitive: bool,
}

/// A structure.
#[derive(Debug)]
pub struct StructureShape {
    /// Members, in model order.
    pub members: &'static [Member],
    /// Names of required members.
    pub required: &'static [&'static str],
    /// The member bound to the HTTP payload.
    pub payload: Option<&'static str>,
    /// Present when this structure is an error.
    pub error: Option<ErrorTrait>,
}

impl StructureShape {
    /// Whether the member is required.
    pub fn is_required(&self, member: &str) -> bool {
        self.required.contains(&member)
    }

    /// The member with this name.
    pub fn member(&self, name: &str) -> Option<&'static Member> {
        self.members.iter().find(|m| m.name == name)
    }
}

/// The error trait of an error structure.
#[derive(Debug)]
pub struct ErrorTrait {
    /// The error code clients read (`x-amzn-ErrorType`).
    pub code: &'static str,
    /// HTTP status.
    pub status: u16,
    /// Client (true) or server fault.
    pub sender_fault: bool,
    /// Wire key of the message member in the body (`message`, `Message`, `exceptionMessage`).
    pub message_key: &'static str,
}

/// A structure member.
#[derive(Debug)]
pub struct Member {
    /// Member name (the canonical key handlers see).
    pub name: &'static str,
    /// Target shape.
    pub shape: ShapeId,
    /// HTTP binding.
    pub location: Location,
    /// `locationName`: wire key in the body, label, query key or header name.
    pub location_name: Option<&'static str>,
    /// `idempotencyToken` trait.
    pub idempotency_token: bool,
}

impl Member {
    /// The name of this member on the wire.
    pub fn wire_name(&self) -> &'static str {
        self.location_name.unwrap_or(self.name)
    }
}

/// HTTP binding of a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// JSON body.
    Body,
    /// URI path label.
    Uri,
    /// Query string parameter.
    Querystring,
    /// A single header.
    Header,
    /// Headers with a prefix (a map).
    Headers,
    /// The HTTP status code.
    StatusCode,
}

/// A modelled error code and its HTTP status, as generated per service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode {
    /// The code (`x-amzn-ErrorType`).
    pub code: &'static str,
    /// HTTP status.
    pub status: u16,
    /// Wire key of the message member.
    pub message_key: &'static str,
}
