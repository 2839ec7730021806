//! Reading SigV4 authentication out of a request: the `Authorization` header form and the
//! presigned query form (General Reference, "Elements of an AWS API request signature").

use percent_encoding::percent_decode_str;

use crate::canonical::{ALGORITHM, parse_amz_date, truncate};
use crate::error::{AuthError, malformed};
use crate::limits;
use crate::{AuthLocation, CredentialScope, ParsedAuth, RequestParts};

/// The query parameters of the presigned form.
const Q_ALGORITHM: &str = "X-Amz-Algorithm";
const Q_CREDENTIAL: &str = "X-Amz-Credential";
const Q_DATE: &str = "X-Amz-Date";
const Q_EXPIRES: &str = "X-Amz-Expires";
const Q_SIGNED_HEADERS: &str = "X-Amz-SignedHeaders";
const Q_SIGNATURE: &str = "X-Amz-Signature";
const Q_SECURITY_TOKEN: &str = "X-Amz-Security-Token";

/// Reads the SigV4 authentication of a request, without checking the signature.
///
/// Header form: `Authorization: AWS4-HMAC-SHA256 Credential=AKID/yyyymmdd/region/service/aws4_request,
/// SignedHeaders=a;b, Signature=hex` with the time in `x-amz-date`. Query form (presigned URL):
/// `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders`,
/// `X-Amz-Signature` and optionally `X-Amz-Security-Token`.
///
/// Errors: [`AuthError::Missing`] when neither form is present, [`AuthError::Malformed`] for
/// everything that is present but not well-formed, including both forms at once, an algorithm
/// other than `AWS4-HMAC-SHA256`, signed headers that are not lowercase, sorted and unique or
/// that lack `host`, and a credential date that is not the date of `x-amz-date`.
pub fn parse(parts: &RequestParts<'_>) -> Result<ParsedAuth, AuthError> {
    let mut auth_headers = parts
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("authorization"));
    let header = auth_headers.next();
    if auth_headers.next().is_some() {
        return Err(malformed("Only one Authorization header is allowed."));
    }
    let query_form = has_presigned_params(parts.raw_query);
    let parsed = match (header, query_form) {
        (Some(_), true) => {
            return Err(malformed(
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query \
                 parameter or the Authorization header should be specified.",
            ));
        }
        (Some((_, value)), false) => parse_header_form(value, parts.headers)?,
        (None, true) => parse_query_form(parts.raw_query, parts.headers)?,
        (None, false) => return Err(AuthError::Missing),
    };
    // General Reference, "Troubleshoot": "Date in Credential scope does not match YYYYMMDD from
    // ISO-8601 version of date from HTTP".
    if !parsed.amz_date.starts_with(&parsed.scope.date) {
        return Err(malformed(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
             HTTP: '{}' != '{}'",
            truncate(&parsed.scope.date),
            truncate(&parsed.amz_date)
        )));
    }
    Ok(parsed)
}

/// Whether the raw query carries any of the presigned-form parameters.
fn has_presigned_params(raw_query: &str) -> bool {
    raw_query.split('&').any(|param| {
        let name = param.split_once('=').map_or(param, |(n, _)| n);
        matches!(name, Q_ALGORITHM | Q_CREDENTIAL | Q_SIGNATURE)
    })
}

/// The single value of header `name`; `Ok(None)` when absent, malformed when repeated.
fn single_header<'h>(
    headers: &'h [(String, String)],
    name: &str,
) -> Result<Option<&'h str>, AuthError> {
    let mut it = headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name));
    let first = it.next().map(|(_, v)| v.trim());
    if it.next().is_some() {
        return Err(malformed(format!(
            "The {name} header must not be repeated."
        )));
    }
    Ok(first)
}

fn parse_header_form(value: &str, headers: &[(String, String)]) -> Result<ParsedAuth, AuthError> {
    if value.len() > limits::MAX_AUTHORIZATION_LEN {
        return Err(malformed("The Authorization header is too long."));
    }
    let value = value.trim();
    let (algorithm, rest) = value.split_once([' ', '\t']).unwrap_or((value, ""));
    if algorithm != ALGORITHM {
        return Err(malformed(format!(
            "Unsupported AWS 'algorithm': '{}' (only {ALGORITHM} is supported)",
            truncate(algorithm)
        )));
    }
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for component in rest.split(',') {
        let component = component.trim();
        if component.is_empty() {
            continue;
        }
        let Some((key, val)) = component.split_once('=') else {
            return Err(malformed(format!(
                "Authorization header component '{}' is not a key=value pair.",
                truncate(component)
            )));
        };
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            other => {
                return Err(malformed(format!(
                    "Unknown Authorization header component '{}'.",
                    truncate(other)
                )));
            }
        };
        if slot.replace(val.trim()).is_some() {
            return Err(malformed(format!(
                "Authorization header component '{}' is repeated.",
                key.trim()
            )));
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(malformed(
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.",
        ));
    };
    let (access_key_id, scope) = parse_credential(credential)?;
    let signed_headers = parse_signed_headers(signed_headers)?;
    let signature = parse_signature(signature)?;
    let Some(amz_date) = single_header(headers, "x-amz-date")? else {
        return Err(malformed(
            "Authorization header requires existence of a 'X-Amz-Date' header.",
        ));
    };
    parse_amz_date(amz_date)?;
    Ok(ParsedAuth {
        access_key_id,
        scope,
        signed_headers,
        signature,
        amz_date: amz_date.to_owned(),
        location: AuthLocation::Header,
        expires: None,
        security_token: single_header(headers, "x-amz-security-token")?.map(str::to_owned),
        content_sha256: single_header(headers, "x-amz-content-sha256")?.map(str::to_owned),
    })
}

fn parse_query_form(
    raw_query: &str,
    headers: &[(String, String)],
) -> Result<ParsedAuth, AuthError> {
    if raw_query.len() > limits::MAX_QUERY_LEN {
        return Err(malformed("The query string is too long."));
    }
    let mut values: [Option<String>; 7] = Default::default();
    let names = [
        Q_ALGORITHM,
        Q_CREDENTIAL,
        Q_DATE,
        Q_EXPIRES,
        Q_SIGNED_HEADERS,
        Q_SIGNATURE,
        Q_SECURITY_TOKEN,
    ];
    for param in raw_query.split('&') {
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        let Some(idx) = names.iter().position(|n| *n == name) else {
            continue;
        };
        let decoded = percent_decode_str(value)
            .decode_utf8()
            .map_err(|_| malformed(format!("Query parameter {name} is not valid UTF-8.")))?;
        if values[idx].replace(decoded.into_owned()).is_some() {
            return Err(malformed(format!("Query parameter {name} is repeated.")));
        }
    }
    let [
        algorithm,
        credential,
        amz_date,
        expires,
        signed_headers,
        signature,
        security_token,
    ] = values;
    let (
        Some(algorithm),
        Some(credential),
        Some(amz_date),
        Some(expires),
        Some(signed_headers),
        Some(signature),
    ) = (
        algorithm,
        credential,
        amz_date,
        expires,
        signed_headers,
        signature,
    )
    else {
        return Err(malformed(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, \
             X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
        ));
    };
    if algorithm != ALGORITHM {
        return Err(malformed(format!(
            "X-Amz-Algorithm only supports \"{ALGORITHM}\", not '{}'.",
            truncate(&algorithm)
        )));
    }
    let (access_key_id, scope) = parse_credential(&credential)?;
    parse_amz_date(&amz_date)?;
    let expires = parse_expires(&expires)?;
    Ok(ParsedAuth {
        access_key_id,
        scope,
        signed_headers: parse_signed_headers(&signed_headers)?,
        signature: parse_signature(&signature)?,
        amz_date,
        location: AuthLocation::Query,
        expires: Some(expires),
        security_token,
        content_sha256: single_header(headers, "x-amz-content-sha256")?.map(str::to_owned),
    })
}

/// `AKID/yyyymmdd/region/service/aws4_request`.
fn parse_credential(credential: &str) -> Result<(String, CredentialScope), AuthError> {
    let bad = |why: &str| {
        malformed(format!(
            "Credential '{}' is malformed: {why}; expected \
             '<access key id>/<yyyymmdd>/<region>/<service>/aws4_request'.",
            truncate(credential)
        ))
    };
    let mut it = credential.split('/');
    let (Some(akid), Some(date), Some(region), Some(service), Some(terminator), None) = (
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
    ) else {
        return Err(bad("it must have five '/'-separated parts"));
    };
    if akid.is_empty() || region.is_empty() || service.is_empty() {
        return Err(bad("empty access key id, region or service"));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("the date must be yyyymmdd"));
    }
    if terminator != "aws4_request" {
        return Err(bad("the terminator must be 'aws4_request'"));
    }
    Ok((
        akid.to_owned(),
        CredentialScope {
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
        },
    ))
}

/// `a;b;c`: lowercase, strictly ascending (so unique) and including `host`, as every SigV4
/// signer produces them; anything else could not reproduce the client's canonical request.
fn parse_signed_headers(list: &str) -> Result<Vec<String>, AuthError> {
    let n_names = list.split(';').count();
    if n_names > limits::MAX_SIGNED_HEADERS {
        return Err(malformed("SignedHeaders lists too many headers."));
    }
    let mut names: Vec<String> = Vec::with_capacity(n_names);
    for name in list.split(';') {
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase() && b != b':');
        if !valid {
            return Err(malformed(format!(
                "SignedHeaders contains an invalid name '{}'.",
                truncate(name)
            )));
        }
        if names.last().is_some_and(|prev| prev.as_str() >= name) {
            return Err(malformed(
                "SignedHeaders must be sorted and must not repeat a name.",
            ));
        }
        names.push(name.to_owned());
    }
    if !names.iter().any(|n| n == "host") {
        return Err(malformed(
            "'Host' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    Ok(names)
}

/// 64 lowercase hex digits (a SHA-256 HMAC).
fn parse_signature(signature: &str) -> Result<String, AuthError> {
    if signature.len() != 64
        || !signature
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(malformed(
            "Signature must be 64 lowercase hexadecimal digits.",
        ));
    }
    Ok(signature.to_owned())
}

/// Seconds, 0 to 7 days (S3: "X-Amz-Expires must be less than a week (in seconds) that is
/// 604800").
fn parse_expires(expires: &str) -> Result<u64, AuthError> {
    let value = if !expires.is_empty()
        && expires.len() <= 10
        && expires.bytes().all(|b| b.is_ascii_digit())
    {
        expires.parse::<u64>().ok()
    } else {
        None
    };
    match value {
        Some(v) if v <= limits::MAX_PRESIGNED_EXPIRES_SECS => Ok(v),
        Some(_) => Err(malformed(
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        )),
        None => Err(malformed("X-Amz-Expires should be a number")),
    }
}
