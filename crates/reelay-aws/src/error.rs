//! Client-visible errors, rendered in each service's own format.
//!
//! Inside reelay, subsystems have their own granular error enums; at the edge every failure
//! becomes one [`ApiError`] that knows its AWS code (sent as `x-amzn-ErrorType`), its HTTP status
//! and the body member that carries the message (`exceptionMessage` for ivs/ivs-realtime,
//! `message` for mediapackage-vod, `Message` for most of KVS), all taken from the model.

use crate::model::{ErrorCode, ServiceId};
use bytes::Bytes;
use serde_json::{Map, Value};

/// An error answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The code (`x-amzn-ErrorType`).
    pub code: String,
    /// HTTP status.
    pub status: u16,
    /// Human-readable message.
    pub message: String,
    /// The body key of the message; `None` means the service's default.
    pub message_key: Option<&'static str>,
    /// Further body members (e.g. a modelled `reason`).
    pub extra: Map<String, Value>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// A modelled error.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code: code.code.to_string(),
            status: code.status,
            message: message.into(),
            message_key: Some(code.message_key),
            extra: Map::new(),
        }
    }

    /// An error that is not in the model (reelay's own codes).
    pub fn custom(code: &str, status: u16, message: impl Into<String>) -> Self {
        ApiError {
            code: code.to_string(),
            status,
            message: message.into(),
            message_key: None,
            extra: Map::new(),
        }
    }

    /// Add a body member.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    /// The service's validation error (ValidationException, InvalidArgumentException, or
    /// UnprocessableEntityException for mediapackage-vod, as modelled).
    pub fn validation(service: ServiceId, message: impl Into<String>) -> Self {
        let (code, status) = validation_code(service);
        ApiError {
            message_key: None,
            ..ApiError::custom(code, status, message)
        }
    }

    /// The operation is routed but reelay does not implement it yet.
    pub fn not_implemented(service: &str, operation: &str) -> Self {
        ApiError::custom(
            "NotImplementedException",
            501,
            format!("{service} {operation} is not implemented in reelay yet"),
        )
    }

    /// No operation of any model matches the request.
    pub fn unknown_operation(message: impl Into<String>) -> Self {
        ApiError::custom("UnknownOperationException", 404, message)
    }

    /// Internal failure (a handler bug or panic).
    pub fn internal(service: ServiceId, message: impl Into<String>) -> Self {
        let code = match service {
            ServiceId::MediaPackageVod => "InternalServerErrorException",
            _ => "InternalServerException",
        };
        ApiError::custom(code, 500, message)
    }

    /// A request body that is not valid JSON or not UTF-8.
    pub fn serialization(message: impl Into<String>) -> Self {
        ApiError::custom("SerializationException", 400, message)
    }

    /// A request body over the configured limit.
    pub fn too_large(limit: u64) -> Self {
        ApiError::custom(
            "RequestEntityTooLargeException",
            413,
            format!("request body exceeds the limit of {limit} bytes"),
        )
    }

    /// Render as an HTTP response for `service`.
    pub fn to_response(
        &self,
        service: Option<ServiceId>,
        request_id: &str,
    ) -> http::Response<Bytes> {
        let key = self
            .message_key
            .unwrap_or_else(|| default_message_key(service, &self.code));
        let mut body = Map::new();
        body.insert(key.to_string(), Value::String(self.message.clone()));
        for (k, v) in &self.extra {
            body.insert(k.clone(), v.clone());
        }
        let bytes = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
        let mut builder = http::Response::builder()
            .status(self.status)
            .header("content-type", "application/json")
            .header("x-amzn-errortype", self.code.as_str())
            .header("x-amzn-requestid", request_id);
        if matches!(
            service,
            Some(
                ServiceId::KinesisVideo
                    | ServiceId::KinesisVideoMedia
                    | ServiceId::KinesisVideoArchivedMedia
                    | ServiceId::KinesisVideoSignaling
                    | ServiceId::KinesisVideoWebrtcStorage
            )
        ) {
            // The KVS data-plane documentation shows these spellings too.
            builder = builder
                .header("x-amz-errortype", self.code.as_str())
                .header("x-amz-requestid", request_id);
        }
        builder.body(Bytes::from(bytes)).unwrap_or_else(|_| {
            let mut r = http::Response::new(Bytes::new());
            *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            r
        })
    }
}

/// The validation error code and status of a service.
pub fn validation_code(service: ServiceId) -> (&'static str, u16) {
    match service {
        ServiceId::Ivs | ServiceId::IvsRealtime => ("ValidationException", 400),
        ServiceId::MediaPackageVod => ("UnprocessableEntityException", 422),
        _ => ("InvalidArgumentException", 400),
    }
}

/// The body key of an error's message when the model doesn't say (errors reelay adds).
pub fn default_message_key(service: Option<ServiceId>, code: &str) -> &'static str {
    match service {
        Some(ServiceId::Ivs | ServiceId::IvsRealtime) => "exceptionMessage",
        Some(ServiceId::MediaPackageVod | ServiceId::KinesisVideoWebrtcStorage) => "message",
        Some(ServiceId::KinesisVideoSignaling)
            if code == "InvalidClientException" || code == "SessionExpiredException" =>
        {
            "message"
        }
        Some(_) => "Message",
        None => "message",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::ivs;

    #[test]
    fn ivs_errors_use_exception_message_and_modelled_status() {
        let e = ApiError::new(ivs::errors::SERVICE_QUOTA_EXCEEDED_EXCEPTION, "too many");
        let r = e.to_response(Some(ServiceId::Ivs), "rid");
        assert_eq!(r.status(), 402);
        assert_eq!(
            r.headers()["x-amzn-errortype"],
            "ServiceQuotaExceededException"
        );
        let body: Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(body["exceptionMessage"], "too many");
    }

    #[test]
    fn validation_codes_per_service() {
        assert_eq!(
            ApiError::validation(ServiceId::MediaPackageVod, "x").status,
            422
        );
        assert_eq!(
            ApiError::validation(ServiceId::KinesisVideo, "x").code,
            "InvalidArgumentException"
        );
        let r = ApiError::validation(ServiceId::KinesisVideo, "bad")
            .to_response(Some(ServiceId::KinesisVideo), "r");
        let body: Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(body["Message"], "bad");
    }
}
