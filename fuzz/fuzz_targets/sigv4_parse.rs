//! SigV4 parsing and verification on arbitrary input must never panic.
//!
//! The input is split on newlines into the `Authorization` header, `x-amz-date`, the raw query
//! and the raw path, so that the fuzzer can reach both the header and the presigned form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reelay_sigv4::{RequestParts, SecretKey, parse, verify};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut fields = text.splitn(4, '\n');
    let authorization = fields.next().unwrap_or_default();
    let amz_date = fields.next().unwrap_or_default();
    let raw_query = fields.next().unwrap_or_default();
    let raw_path = fields.next().unwrap_or_default();
    let headers = vec![
        ("host".to_owned(), "localhost".to_owned()),
        ("x-amz-date".to_owned(), amz_date.to_owned()),
        ("authorization".to_owned(), authorization.to_owned()),
    ];
    for headers in [&headers[..], &headers[..2]] {
        let parts = RequestParts {
            method: "GET",
            raw_path,
            raw_query,
            headers,
        };
        if let Ok(auth) = parse(&parts) {
            let _ = verify(
                &parts,
                &auth,
                &SecretKey::from("secret"),
                reelay_sigv4::EMPTY_SHA256,
                1_704_164_645,
            );
        }
    }
});
