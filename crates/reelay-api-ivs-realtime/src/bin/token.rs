//! `reelay-ivs-realtime-token`: verify an IVS Real-Time participant token against a reelay
//! metadata database, exactly as reelay's stage endpoints do.
//!
//! Usage: `reelay-ivs-realtime-token --database-url <URL> < token`
//! (`sqlite://<data-dir>/reelay.db` for a default `reelay serve`, or the PostgreSQL URL).
//! Prints `{"valid": true, "claims": {...}}` and exits 0, or `{"valid": false, "reason":
//! "..."}` and exits 1; usage errors exit 2.

use std::io::Read as _;
use std::sync::Arc;

/// Longest token read from stdin (well above `reelay_api_common::jwt::MAX_TOKEN_BYTES`, which
/// the verifier enforces).
const MAX_INPUT_BYTES: u64 = 64 * 1024;

fn usage(msg: &str) -> std::process::ExitCode {
    eprintln!("{msg}\nusage: reelay-ivs-realtime-token --database-url <URL> < token");
    std::process::ExitCode::from(2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = match args.as_slice() {
        [flag, url] if flag == "--database-url" => url.clone(),
        _ => return usage("expected --database-url <URL>"),
    };
    let mut token = String::new();
    if std::io::stdin()
        .take(MAX_INPUT_BYTES)
        .read_to_string(&mut token)
        .is_err()
    {
        return usage("cannot read the token from stdin");
    }
    let store = match reelay_store::open(&url, reelay_store::StoreConfig::default()).await {
        Ok(s) => s,
        Err(e) => return usage(&format!("cannot open the database: {e}")),
    };
    let deps = reelay_api_common::Deps {
        store: store.clone(),
        blob: Arc::new(reelay_blob::BlobStore::in_memory()),
        clock: Arc::new(reelay_api_common::Clock::default()),
        endpoints: reelay_api_common::Endpoints {
            public_url: String::new(),
            rtmp: String::new(),
            rtmps: None,
            srt: String::new(),
            ice_servers: Vec::new(),
        },
    };
    let result = reelay_api_ivs_realtime::verify_participant_token(&deps, token.trim()).await;
    store.close().await;
    match result {
        Ok(c) => {
            let claims = serde_json::json!({
                "stage_arn": c.stage_arn,
                "stage_id": c.stage_id,
                "participant_id": c.participant_id,
                "user_id": c.user_id,
                "attributes": c.attributes,
                "allow_publish": c.capabilities.allow_publish,
                "allow_subscribe": c.capabilities.allow_subscribe,
                "expires_at": c.expires_at.unix_timestamp(),
                "public_key_arn": c.public_key_arn,
            });
            println!("{}", serde_json::json!({"valid": true, "claims": claims}));
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            println!(
                "{}",
                serde_json::json!({"valid": false, "reason": e.to_string()})
            );
            std::process::ExitCode::from(1)
        }
    }
}
