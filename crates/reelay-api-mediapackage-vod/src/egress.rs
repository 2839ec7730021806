//! The egress URL scheme, shared with the packaging engine that serves these URLs.
//!
//! AWS gives each packaging group a host, `https://<32 hex>.egress.mediapackage-vod.<region>.amazonaws.com`,
//! and each (asset, packaging configuration) pair a path `/out/v1/<h1>/<h2>/<h3>/<manifest>.<ext>`
//! (mediapackage-vod reference §4). reelay serves every API on one listener, so the group "host"
//! is a path prefix under the public URL that carries what a server needs to find the group
//! without any global index (region and account are the store scope):
//!
//! ```text
//! domainName = <public_url>/mediapackage-vod/egress/<region>/<account>/<group egress id>
//! url        = <domainName>/out/v1/<asset egress id>/<config egress id 1>/<config egress id 2>/<manifest>
//! ```
//!
//! Every egress id is 32 lowercase hex digits drawn at creation and stored in the record (and in
//! the record's `egress` index attribute, so the engine can find it with a list filter). The URL
//! therefore never changes while the asset and the configuration exist, as AWS promises
//! (UG:gs-provide-url). `<manifest>` is `<manifestName>.m3u8` (HLS, CMAF), `<manifestName>.mpd`
//! (DASH) or `<manifestName>.ism/Manifest` (MSS), from the configuration's first manifest.

/// Index attribute holding a record's egress id(s).
pub const INDEX_EGRESS: &str = "egress";

/// Number of random bytes in an egress id (32 hex digits, as AWS's).
pub(crate) const EGRESS_ID_BYTES: usize = 16;

/// The `domainName` of a packaging group.
pub fn domain_name(public_url: &str, region: &str, account: &str, group_egress_id: &str) -> String {
    format!(
        "{}/mediapackage-vod/egress/{region}/{account}/{group_egress_id}",
        public_url.trim_end_matches('/')
    )
}

/// The manifest file of a package type: `index.m3u8`, `index.mpd`, `index.ism/Manifest`.
pub fn manifest_file(package_type: &str, manifest_name: &str) -> String {
    match package_type {
        "DashPackage" => format!("{manifest_name}.mpd"),
        "MssPackage" => format!("{manifest_name}.ism/Manifest"),
        _ => format!("{manifest_name}.m3u8"),
    }
}

/// The egress URL of an asset for one packaging configuration.
pub fn endpoint_url(
    domain_name: &str,
    asset_egress_id: &str,
    config_egress_ids: &[String; 2],
    manifest_file: &str,
) -> String {
    format!(
        "{domain_name}/out/v1/{asset_egress_id}/{}/{}/{manifest_file}",
        config_egress_ids[0], config_egress_ids[1]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_shapes() {
        let d = domain_name("http://127.0.0.1:4599/", "eu-west-1", "123456789012", "ab");
        assert_eq!(
            d,
            "http://127.0.0.1:4599/mediapackage-vod/egress/eu-west-1/123456789012/ab"
        );
        let u = endpoint_url(
            &d,
            "h1",
            &["h2".into(), "h3".into()],
            &manifest_file("HlsPackage", "index"),
        );
        assert_eq!(u, format!("{d}/out/v1/h1/h2/h3/index.m3u8"));
        assert_eq!(manifest_file("DashPackage", "x"), "x.mpd");
        assert_eq!(manifest_file("CmafPackage", "x"), "x.m3u8");
        assert_eq!(manifest_file("MssPackage", "x"), "x.ism/Manifest");
    }
}
