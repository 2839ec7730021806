//! The client-visible S3 error: a code, a status and a message, rendered as the S3 XML error
//! document (Amazon S3 API Reference, "Error responses").
//!
//! Internal failures (blob errors, body decoding, XML parsing) are mapped here just before the
//! response is written, so the wire contract lives in one table.

use std::fmt;

use http::{HeaderValue, StatusCode};
use reelay_blob::Error as BlobError;

use crate::xml::XmlWriter;

/// An S3 error as the client sees it.
#[derive(Debug, Clone)]
pub struct S3Error {
    /// The S3 error code (`NoSuchKey`, …).
    pub code: &'static str,
    /// The HTTP status.
    pub status: StatusCode,
    /// Human-readable message.
    pub message: String,
    /// Extra elements of the error document, such as `Key` or `BucketName`.
    pub details: Vec<(&'static str, String)>,
    /// Extra response headers, such as `Content-Range` on a 416.
    pub headers: Vec<(&'static str, String)>,
}

impl fmt::Display for S3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code,
            self.status.as_u16(),
            self.message
        )
    }
}

impl std::error::Error for S3Error {}

pub(crate) type S3Result<T> = Result<T, S3Error>;

impl S3Error {
    /// An error with a code, a status and a message.
    pub fn new(code: &'static str, status: StatusCode, message: impl Into<String>) -> Self {
        S3Error {
            code,
            status,
            message: message.into(),
            details: Vec::new(),
            headers: Vec::new(),
        }
    }

    pub(crate) fn with_detail(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.details.push((name, value.into()));
        self
    }

    pub(crate) fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new("InvalidArgument", StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Self::new("InvalidRequest", StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn malformed_xml() -> Self {
        Self::new(
            "MalformedXML",
            StatusCode::BAD_REQUEST,
            "The XML you provided was not well-formed or did not validate against our published schema.",
        )
    }

    pub(crate) fn not_implemented(what: &str) -> Self {
        Self::new(
            "NotImplemented",
            StatusCode::NOT_IMPLEMENTED,
            format!(
                "A header or query you provided implies functionality that is not implemented: {what}"
            ),
        )
    }

    pub(crate) fn method_not_allowed() -> Self {
        Self::new(
            "MethodNotAllowed",
            StatusCode::METHOD_NOT_ALLOWED,
            "The specified method is not allowed against this resource.",
        )
    }

    pub(crate) fn access_denied() -> Self {
        Self::new("AccessDenied", StatusCode::FORBIDDEN, "Access Denied")
    }

    pub(crate) fn incomplete_body(message: impl Into<String>) -> Self {
        Self::new("IncompleteBody", StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn bad_digest(message: impl Into<String>) -> Self {
        Self::new("BadDigest", StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn internal() -> Self {
        Self::new(
            "InternalError",
            StatusCode::INTERNAL_SERVER_ERROR,
            "We encountered an internal error. Please try again.",
        )
    }

    /// Renders the XML error document.
    pub(crate) fn to_xml(&self, resource: &str, request_id: &str) -> String {
        let mut w = XmlWriter::new();
        w.open_plain("Error");
        w.elem("Code", self.code);
        w.elem("Message", &self.message);
        for (name, value) in &self.details {
            w.elem(name, value);
        }
        w.elem("Resource", resource);
        w.elem("RequestId", request_id);
        w.close("Error");
        w.finish()
    }

    /// Extra headers as valid header values (invalid ones are dropped: they only ever hold
    /// numbers and names we generated).
    pub(crate) fn header_values(&self) -> impl Iterator<Item = (&'static str, HeaderValue)> + '_ {
        self.headers
            .iter()
            .filter_map(|(n, v)| HeaderValue::from_str(v).ok().map(|v| (*n, v)))
    }
}

impl From<BlobError> for S3Error {
    fn from(e: BlobError) -> Self {
        use StatusCode as S;
        match e {
            BlobError::NoSuchBucket { bucket } => {
                S3Error::new("NoSuchBucket", S::NOT_FOUND, "The specified bucket does not exist")
                    .with_detail("BucketName", bucket)
            }
            BlobError::BucketAlreadyExists { bucket } => S3Error::new(
                "BucketAlreadyExists",
                S::CONFLICT,
                "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
            )
            .with_detail("BucketName", bucket),
            BlobError::BucketAlreadyOwnedByYou { bucket } => S3Error::new(
                "BucketAlreadyOwnedByYou",
                S::CONFLICT,
                "Your previous request to create the named bucket succeeded and you already own it.",
            )
            .with_detail("BucketName", bucket),
            BlobError::BucketNotEmpty { bucket } => S3Error::new(
                "BucketNotEmpty",
                S::CONFLICT,
                "The bucket you tried to delete is not empty",
            )
            .with_detail("BucketName", bucket),
            BlobError::InvalidBucketName { reason } => {
                S3Error::new("InvalidBucketName", S::BAD_REQUEST, format!("The specified bucket is not valid: {reason}"))
            }
            BlobError::NoSuchKey => S3Error::new("NoSuchKey", S::NOT_FOUND, "The specified key does not exist."),
            BlobError::KeyTooLong { .. } => S3Error::new("KeyTooLongError", S::BAD_REQUEST, "Your key is too long"),
            BlobError::InvalidKey { reason } => S3Error::invalid_argument(reason),
            BlobError::NoSuchUpload => S3Error::new(
                "NoSuchUpload",
                S::NOT_FOUND,
                "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
            ),
            BlobError::InvalidPart { part_number, reason } => S3Error::new(
                "InvalidPart",
                S::BAD_REQUEST,
                format!("One or more of the specified parts could not be found or did not match: part {part_number}: {reason}"),
            ),
            BlobError::InvalidPartOrder => S3Error::new(
                "InvalidPartOrder",
                S::BAD_REQUEST,
                "The list of parts was not in ascending order. Parts must be ordered by part number.",
            ),
            BlobError::EntityTooSmall { part_number, size } => S3Error::new(
                "EntityTooSmall",
                S::BAD_REQUEST,
                "Your proposed upload is smaller than the minimum allowed object size.",
            )
            .with_detail("ProposedSize", size.to_string())
            .with_detail("MinSizeAllowed", reelay_blob::limits::MIN_PART_SIZE.to_string())
            .with_detail("PartNumber", part_number.to_string()),
            BlobError::EntityTooLarge { max } => S3Error::new(
                "EntityTooLarge",
                S::BAD_REQUEST,
                "Your proposed upload exceeds the maximum allowed object size.",
            )
            .with_detail("MaxSizeAllowed", max.to_string()),
            BlobError::InvalidRange { size } => S3Error::new(
                "InvalidRange",
                S::RANGE_NOT_SATISFIABLE,
                "The requested range is not satisfiable",
            )
            .with_detail("ActualObjectSize", size.to_string())
            .with_header("content-range", format!("bytes */{size}")),
            BlobError::PreconditionFailed => S3Error::new(
                "PreconditionFailed",
                S::PRECONDITION_FAILED,
                "At least one of the pre-conditions you specified did not hold",
            ),
            BlobError::NotModified { .. } => S3Error::new("NotModified", S::NOT_MODIFIED, "Not Modified"),
            BlobError::InvalidArgument(msg) => S3Error::invalid_argument(msg),
            BlobError::Body(io) => {
                // Our own body decoder reports S3 errors through the io::Error it yields.
                if let Some(inner) = io.get_ref().and_then(|e| e.downcast_ref::<S3Error>()) {
                    return inner.clone();
                }
                S3Error::incomplete_body(format!("The request body could not be read: {io}"))
            }
            other => {
                tracing::error!(error = %other, "blob store failure");
                S3Error::internal()
            }
        }
    }
}
