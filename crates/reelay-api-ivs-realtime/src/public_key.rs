//! Public keys: ECDSA P-384 keys customers import to self-sign participant tokens.

use crate::limits;
use crate::records::{self, v1};
use crate::util::{self, Call, validation};
use reelay_api_common::keys::P384PublicKey;
use reelay_aws::ApiError;
use reelay_aws::generated::ivs_realtime::types as t;
use reelay_store::{Filter, ListQuery};
use std::collections::BTreeMap;

async fn view(call: &Call<'_>, arn: &str, body: v1::PublicKey) -> Result<t::PublicKey, ApiError> {
    Ok(t::PublicKey {
        arn: Some(arn.to_string()),
        fingerprint: Some(body.fingerprint),
        name: Some(body.name),
        public_key_material: Some(body.public_key_material),
        tags: Some(call.tags(arn).await?),
    })
}

pub(crate) async fn import(
    call: &Call<'_>,
    req: t::ImportPublicKeyRequest,
) -> Result<t::ImportPublicKeyResponse, ApiError> {
    let key = P384PublicKey::from_pem(&req.public_key_material).map_err(validation)?;
    let fingerprint = key.fingerprint();
    // The same key twice would make `kid` ambiguous for nobody, but AWS refuses duplicates of
    // playback keys with a conflict, and so does reelay.
    let dup = call
        .deps
        .store
        .list(
            &call.scope,
            &ListQuery {
                kind: records::KIND_PUBLIC_KEY.into(),
                parent: None,
                filters: vec![Filter::Eq {
                    key: "fingerprint".into(),
                    value: fingerprint.clone(),
                }],
                limit: 1,
                page_token: None,
            },
        )
        .await
        .map_err(|e| util::store_err(e, "public key"))?;
    if let Some(existing) = dup.items.first() {
        return Err(util::conflict(format!(
            "this public key is already imported as {}",
            existing.arn
        )));
    }
    let id = reelay_api_common::random_id(limits::ID_LEN);
    let arn = call.arn("public-key", &id);
    let body = v1::PublicKey {
        schema_version: v1::SCHEMA_VERSION,
        name: req.name.unwrap_or_default(),
        public_key_material: req.public_key_material,
        fingerprint: fingerprint.clone(),
    };
    let index = BTreeMap::from([("fingerprint".to_string(), fingerprint)]);
    let rec = util::new_record(
        records::KIND_PUBLIC_KEY,
        &id,
        arn.clone(),
        None,
        index,
        &body,
        req.tags.unwrap_or_default(),
    )?;
    call.deps
        .store
        .insert(&call.scope, rec)
        .await
        .map_err(|e| util::store_err(e, "public key"))?;
    Ok(t::ImportPublicKeyResponse {
        public_key: Some(view(call, &arn, body).await?),
    })
}

pub(crate) async fn get(
    call: &Call<'_>,
    req: t::GetPublicKeyRequest,
) -> Result<t::GetPublicKeyResponse, ApiError> {
    let (_, body) = call
        .fetch(records::KIND_PUBLIC_KEY, &req.arn, "public key")
        .await?;
    Ok(t::GetPublicKeyResponse {
        public_key: Some(view(call, &req.arn, body).await?),
    })
}

pub(crate) async fn list(
    call: &Call<'_>,
    req: t::ListPublicKeysRequest,
) -> Result<t::ListPublicKeysResponse, ApiError> {
    let page = call
        .deps
        .store
        .list(
            &call.scope,
            &ListQuery {
                kind: records::KIND_PUBLIC_KEY.into(),
                parent: None,
                filters: vec![],
                limit: util::page_size(req.max_results, 50, 100),
                page_token: util::page_token(req.next_token),
            },
        )
        .await
        .map_err(|e| util::store_err(e, "public key"))?;
    let mut out = Vec::with_capacity(page.items.len());
    for r in page.items {
        let body: v1::PublicKey = util::decode(&r)?;
        out.push(t::PublicKeySummary {
            name: Some(body.name),
            tags: Some(call.tags(&r.arn).await?),
            arn: Some(r.arn),
        });
    }
    Ok(t::ListPublicKeysResponse {
        public_keys: out,
        next_token: page.next_token,
    })
}

pub(crate) async fn delete(
    call: &Call<'_>,
    req: t::DeletePublicKeyRequest,
) -> Result<t::DeletePublicKeyResponse, ApiError> {
    let (rec, _) = call
        .fetch::<v1::PublicKey>(records::KIND_PUBLIC_KEY, &req.arn, "public key")
        .await?;
    // "This invalidates future participant tokens generated using the key pair's private key":
    // the verifier no longer finds the key.
    call.deps
        .store
        .delete(
            &call.scope,
            records::KIND_PUBLIC_KEY,
            &rec.id,
            Some(rec.version),
        )
        .await
        .map_err(|e| util::store_err(e, "public key"))?;
    Ok(t::DeletePublicKeyResponse {})
}
