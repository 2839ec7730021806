//! Why a request failed authentication, and how each reason goes on the wire.

use std::fmt;

/// Why a request could not be authenticated.
///
/// Variants are granular for logs and tests; [`AuthError::aws_code`] and
/// [`AuthError::http_status`] collapse them into what restJson1 services (ivs, ivs-realtime,
/// kinesisvideo, mediapackage-vod) put on the wire, and [`AuthError::s3_code`] /
/// [`AuthError::s3_status`] into what S3 answers.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// Neither an `Authorization` header nor presigned query parameters.
    Missing,
    /// Authentication is present but does not follow SigV4 (the reason is for logs and messages).
    Malformed(String),
    /// The access key id is not known to the server.
    UnknownAccessKey,
    /// The signature differs from the one the server computed.
    SignatureMismatch,
    /// A presigned URL used after `X-Amz-Date + X-Amz-Expires`.
    Expired,
    /// A presigned URL used before its `X-Amz-Date`.
    NotYetValid,
    /// A header-signed request whose `x-amz-date` is more than 15 minutes from the server clock.
    ClockSkew,
}

impl AuthError {
    /// The error name a restJson1 service sends in `x-amzn-ErrorType`.
    ///
    /// The names are those AWS's JSON front end answers with (botocore surfaces them as the
    /// `Code`): `MissingAuthenticationTokenException` ("Missing Authentication Token"),
    /// `IncompleteSignatureException`, `UnrecognizedClientException` ("The security token
    /// included in the request is invalid") and `InvalidSignatureException` for a wrong
    /// signature as well as for "Signature expired" / "Signature not yet current", as the IAM
    /// SigV4 troubleshooting guide words those messages.
    pub fn aws_code(&self) -> &'static str {
        match self {
            Self::Missing => "MissingAuthenticationTokenException",
            Self::Malformed(_) => "IncompleteSignatureException",
            Self::UnknownAccessKey => "UnrecognizedClientException",
            Self::SignatureMismatch | Self::Expired | Self::NotYetValid | Self::ClockSkew => {
                "InvalidSignatureException"
            }
        }
    }

    /// The HTTP status for [`AuthError::aws_code`].
    ///
    /// The "Common Errors" pages of the services' API references (Kinesis Video Streams among
    /// them) give `IncompleteSignature` 400 and `MissingAuthenticationToken` /
    /// `InvalidClientTokenId` 403; signature failures are 403 (IAM troubleshooting guide:
    /// "HTTP 403 SignatureDoesNotMatch").
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Malformed(_) => 400,
            Self::Missing
            | Self::UnknownAccessKey
            | Self::SignatureMismatch
            | Self::Expired
            | Self::NotYetValid
            | Self::ClockSkew => 403,
        }
    }

    /// The S3 error code (S3 API reference, "Error responses").
    ///
    /// For a malformed presigned URL S3 says `AuthorizationQueryParametersError`; the S3 layer
    /// knows the [`crate::AuthLocation`] and may pick that name instead of
    /// `AuthorizationHeaderMalformed`.
    pub fn s3_code(&self) -> &'static str {
        match self {
            Self::Missing | Self::Expired | Self::NotYetValid => "AccessDenied",
            Self::Malformed(_) => "AuthorizationHeaderMalformed",
            Self::UnknownAccessKey => "InvalidAccessKeyId",
            Self::SignatureMismatch => "SignatureDoesNotMatch",
            Self::ClockSkew => "RequestTimeTooSkewed",
        }
    }

    /// The HTTP status for [`AuthError::s3_code`].
    pub fn s3_status(&self) -> u16 {
        match self {
            Self::Malformed(_) => 400,
            _ => 403,
        }
    }

    /// A client-facing message in the words AWS uses for the same failure.
    pub fn message(&self) -> String {
        match self {
            Self::Missing => "Missing Authentication Token".to_owned(),
            Self::Malformed(why) => why.clone(),
            Self::UnknownAccessKey => {
                "The security token included in the request is invalid.".to_owned()
            }
            Self::SignatureMismatch => "The request signature we calculated does not match the \
                 signature you provided. Check your AWS Secret Access Key and signing method."
                .to_owned(),
            Self::Expired => "Signature expired: the presigned URL is past its X-Amz-Expires \
                 lifetime."
                .to_owned(),
            Self::NotYetValid => {
                "Signature not yet current: X-Amz-Date is later than the server time.".to_owned()
            }
            Self::ClockSkew => "Signature expired: the request time differs from the server time \
                 by more than 15 minutes."
                .to_owned(),
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for AuthError {}

/// Shorthand for [`AuthError::Malformed`].
pub(crate) fn malformed(why: impl Into<String>) -> AuthError {
    AuthError::Malformed(why.into())
}
