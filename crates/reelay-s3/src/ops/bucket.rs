//! Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation,
//! GetBucketVersioning.

use axum::body::Body;
use http::{Response, StatusCode};
use reelay_blob::BlobStore;

use super::{empty, finish, owned_bucket, owner, xml_ok};
use crate::Req;
use crate::body::{BodySpec, read_small};
use crate::error::{S3Error, S3Result};
use crate::headers::iso8601;
use crate::xml::{self, XmlWriter};

/// Largest CreateBucketConfiguration body.
const MAX_CONFIGURATION_BODY: u64 = 64 * 1024;

pub(crate) async fn list_buckets(blob: &BlobStore, req: &Req<'_>) -> S3Result<Response<Body>> {
    let prefix = req.query.get("prefix").unwrap_or_default();
    let buckets = blob.list_buckets().await?;
    let mut w = XmlWriter::new();
    w.open_root("ListAllMyBucketsResult");
    owner(&mut w, "Owner", &req.ctx.account);
    w.open("Buckets");
    for b in buckets
        .iter()
        .filter(|b| b.owner == req.ctx.account && b.name.starts_with(prefix))
    {
        w.open("Bucket");
        w.elem("Name", &b.name);
        w.elem("CreationDate", &iso8601(b.created));
        w.elem("BucketRegion", &b.region);
        w.close("Bucket");
    }
    w.close("Buckets");
    if !prefix.is_empty() {
        w.elem("Prefix", prefix);
    }
    w.close("ListAllMyBucketsResult");
    xml_ok(w)
}

pub(crate) async fn create_bucket(
    blob: &BlobStore,
    req: &Req<'_>,
    body: Body,
) -> S3Result<Response<Body>> {
    let name = req.bucket()?;
    reelay_blob::validate_bucket_name(name)?;
    let spec = BodySpec::from_headers(req.headers, req.ctx, MAX_CONFIGURATION_BODY)?;
    let bytes = read_small(body, spec).await?;
    let mut region = req.ctx.region.clone();
    if !bytes.iter().all(u8::is_ascii_whitespace) {
        let root = xml::parse(&bytes)?;
        if root.name != "CreateBucketConfiguration" {
            return Err(S3Error::malformed_xml());
        }
        if let Some(constraint) = root
            .child_text("LocationConstraint")
            .filter(|c| !c.is_empty())
        {
            region = constraint.to_owned();
        }
    }
    blob.create_bucket(name, &req.ctx.account, &region).await?;
    finish(
        Response::builder()
            .status(StatusCode::OK)
            .header(http::header::LOCATION, format!("/{name}")),
        Body::empty(),
    )
}

pub(crate) async fn head_bucket(blob: &BlobStore, req: &Req<'_>) -> S3Result<Response<Body>> {
    let info = owned_bucket(blob, req, req.bucket()?).await?;
    finish(
        Response::builder()
            .status(StatusCode::OK)
            .header("x-amz-bucket-region", info.region)
            .header("x-amz-access-point-alias", "false"),
        Body::empty(),
    )
}

pub(crate) async fn delete_bucket(blob: &BlobStore, req: &Req<'_>) -> S3Result<Response<Body>> {
    let name = req.bucket()?;
    owned_bucket(blob, req, name).await?;
    blob.delete_bucket(name).await?;
    empty(StatusCode::NO_CONTENT)
}

pub(crate) async fn get_bucket_location(
    blob: &BlobStore,
    req: &Req<'_>,
) -> S3Result<Response<Body>> {
    let info = owned_bucket(blob, req, req.bucket()?).await?;
    let mut w = XmlWriter::new();
    w.open_root("LocationConstraint");
    // API Reference, GetBucketLocation: buckets in us-east-1 have a null location constraint.
    if info.region != "us-east-1" {
        w.elem_text(&info.region);
    }
    w.close("LocationConstraint");
    xml_ok(w)
}

pub(crate) async fn get_bucket_versioning(
    blob: &BlobStore,
    req: &Req<'_>,
) -> S3Result<Response<Body>> {
    owned_bucket(blob, req, req.bucket()?).await?;
    // Versioning is never enabled here; an empty configuration is what S3 returns for a bucket
    // that has never had versioning turned on.
    let mut w = XmlWriter::new();
    w.open_root("VersioningConfiguration");
    w.close("VersioningConfiguration");
    xml_ok(w)
}
