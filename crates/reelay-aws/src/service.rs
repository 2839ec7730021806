//! The contract between the wire layer and hand-written handlers.

use crate::error::ApiError;
use crate::model::ServiceModel;
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A streaming response body (GetMedia, GetClip...).
pub type BoxBody = http_body_util::combinators::UnsyncBoxBody<Bytes, std::io::Error>;

/// Who is calling, where, and when.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The account: the access key id when it is 12 digits, else `000000000000`.
    pub account: String,
    /// The region from the SigV4 credential scope (`us-east-1` when unsigned).
    pub region: String,
    /// This request's id (`x-amzn-RequestId`).
    pub request_id: String,
    /// Base URL that returned URLs point at (no trailing slash).
    pub public_url: String,
    /// The time the request arrived.
    pub now: time::OffsetDateTime,
}

/// A handler's successful answer.
pub enum Output {
    /// The output structure in canonical form (member names as keys); the codec applies the
    /// HTTP bindings (headers, status) and wire names.
    Json(Value),
    /// A streaming payload with its content type.
    Stream {
        /// `Content-Type`.
        content_type: String,
        /// Extra headers (already in wire form).
        headers: Vec<(String, String)>,
        /// The body.
        body: BoxBody,
    },
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Output::Json(v) => f.debug_tuple("Json").field(v).finish(),
            Output::Stream { content_type, .. } => f
                .debug_struct("Stream")
                .field("content_type", content_type)
                .finish(),
        }
    }
}

impl Output {
    /// Serialize a generated output structure.
    pub fn json<T: Serialize>(value: &T) -> Result<Output, ApiError> {
        serde_json::to_value(value).map(Output::Json).map_err(|e| {
            ApiError::custom(
                "InternalServerException",
                500,
                format!("cannot encode output: {e}"),
            )
        })
    }

    /// An operation without output members.
    pub fn empty() -> Output {
        Output::Json(Value::Object(Default::default()))
    }
}

/// Deserialize validated canonical input into a generated request structure.
///
/// The codec has already checked types and constraints, so a failure here means the generated
/// types and tables disagree; it is reported as a validation error rather than a panic.
pub fn from_input<T: DeserializeOwned>(model: &ServiceModel, input: Value) -> Result<T, ApiError> {
    serde_json::from_value(input)
        .map_err(|e| ApiError::validation(model.id, format!("invalid request: {e}")))
}

/// The handlers of one service.
#[async_trait::async_trait]
pub trait Service: Send + Sync + 'static {
    /// The model this service implements.
    fn model(&self) -> &'static ServiceModel;

    /// Whether `op` (an index into `model().operations`) has a handler; used by the README
    /// coverage table and the `/_reelay/health` report.
    fn implements(&self, op: usize) -> bool;

    /// Handle one operation. `input` is validated canonical JSON of the input structure.
    async fn call(&self, ctx: &RequestContext, op: usize, input: Value)
    -> Result<Output, ApiError>;

    /// Wipe this service's in-memory state (persistent state is wiped by the store).
    async fn reset(&self) {}
}

/// A service none of whose operations are implemented yet: every call answers 501.
pub struct NotImplementedService(pub &'static ServiceModel);

#[async_trait::async_trait]
impl Service for NotImplementedService {
    fn model(&self) -> &'static ServiceModel {
        self.0
    }

    fn implements(&self, _op: usize) -> bool {
        false
    }

    async fn call(
        &self,
        _ctx: &RequestContext,
        op: usize,
        _input: Value,
    ) -> Result<Output, ApiError> {
        let name = self.0.operations.get(op).map_or("?", |o| o.name);
        Err(ApiError::not_implemented(self.0.botocore_name, name))
    }
}
