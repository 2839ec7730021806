//! Semantic validation and AWS's defaults, beyond what the model's constraints express.
//!
//! The wire layer has already checked required members, types and enums. Everything here is
//! answered with 422 `UnprocessableEntityException` and a message naming the member.

use reelay_aws::generated::mediapackage_vod::types::{
    AdMarkers, Authorization, CmafPackage, DashPackage, EncryptionContractConfiguration,
    EncryptionMethod, HlsManifest, HlsPackage, ManifestLayout, MssPackage, PresetSpeke20Audio,
    PresetSpeke20Video, Profile, ScteMarkersSource, SegmentTemplateFormat, SpekeKeyProvider,
    StreamOrder, StreamSelection,
};

/// Named limits and defaults.
pub(crate) mod limits {
    /// Resource ids: 1–256 characters of `[0-9a-zA-Z_-]` (CloudFormation `AWS::MediaPackage::*`).
    pub(crate) const MAX_ID_CHARS: usize = 256;
    /// Longest manifest name (reelay's choice; AWS does not document one).
    pub(crate) const MAX_MANIFEST_NAME_CHARS: usize = 256;
    /// Most manifests in one package (reelay's choice; AWS does not document one).
    pub(crate) const MAX_MANIFESTS: usize = 10;
    /// Segment durations, in seconds (reelay's choice, the range MediaPackage's console accepts).
    pub(crate) const SEGMENT_SECONDS: std::ops::RangeInclusive<i32> = 1..=30;
    /// Default segment duration of every package type.
    pub(crate) const DEFAULT_SEGMENT_SECONDS: i32 = 6;
    /// Default DASH `minBufferTimeSeconds` (the value the AWS CLI example shows).
    pub(crate) const DEFAULT_MIN_BUFFER_SECONDS: i32 = 30;
    /// Default manifest name (UG:cfigs-hls-manset, cfigs-dash-manset, cfigs-mss-manset).
    pub(crate) const DEFAULT_MANIFEST_NAME: &str = "index";
    /// Default egress access log group (UG:access-logging).
    pub(crate) const DEFAULT_LOG_GROUP: &str = "/aws/MediaPackage/EgressAccessLogs";
    /// Egress access log groups must live under this prefix (UG:access-logging).
    pub(crate) const LOG_GROUP_PREFIX: &str = "/aws/MediaPackage/";
    /// Longest CloudWatch Logs group name.
    pub(crate) const MAX_LOG_GROUP_CHARS: usize = 512;
    /// Longest ARN or URL accepted in a reference field.
    pub(crate) const MAX_REFERENCE_CHARS: usize = 2048;
}

/// DRM system ids (DASH-IF registry) that have rules attached.
mod system_ids {
    #[cfg(test)]
    pub(crate) const WIDEVINE: &str = "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed";
    pub(crate) const PLAYREADY: &str = "9a04f079-9840-4286-ab92-e65be0885f95";
    pub(crate) const FAIRPLAY: &str = "94ce86fb-07ff-4f43-adb8-93d2fa968ca2";
}

type Check = Result<(), String>;

/// A resource id: 1–256 characters of letters, digits, `_` and `-`.
pub(crate) fn resource_id(what: &str, id: &str) -> Check {
    let n = id.chars().count();
    if n == 0 || n > limits::MAX_ID_CHARS {
        return Err(format!(
            "{what} must be 1 to {} characters long",
            limits::MAX_ID_CHARS
        ));
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "{what} '{id}' may contain only letters, digits, '_' and '-'"
        ));
    }
    Ok(())
}

/// `arn:<partition>:<service>:<region>:<account>:<resource>`, split into its six fields.
fn arn_fields(arn: &str) -> Option<[&str; 6]> {
    if arn.len() > limits::MAX_REFERENCE_CHARS {
        return None;
    }
    let mut it = arn.splitn(6, ':');
    let f = [
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    ];
    (f[0] == "arn" && !f[1].is_empty() && !f[2].is_empty()).then_some(f)
}

/// An IAM role ARN: `arn:aws:iam::<account>:role/<name>`.
pub(crate) fn role_arn(what: &str, arn: &str) -> Check {
    match arn_fields(arn) {
        Some([_, _, "iam", _, _, resource])
            if resource
                .strip_prefix("role/")
                .is_some_and(|r| !r.is_empty()) =>
        {
            Ok(())
        }
        _ => Err(format!(
            "{what} '{arn}' is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
        )),
    }
}

/// The bucket and key of an S3 object ARN: `arn:aws:s3:::bucket/key` (the region and account
/// fields are accepted too, as the AWS CLI example `arn:aws:s3::111122223333:bucket/key` has one).
pub(crate) fn s3_object_arn(arn: &str) -> Result<(&str, &str), String> {
    let bad = || format!("sourceArn '{arn}' is not an S3 object ARN (arn:aws:s3:::<bucket>/<key>)");
    let Some([_, _, service, _, _, resource]) = arn_fields(arn) else {
        return Err(bad());
    };
    if service != "s3" {
        return Err(bad());
    }
    match resource.split_once('/') {
        Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => Ok((bucket, key)),
        _ => Err(bad()),
    }
}

/// CDN authorization (UG:cdn-auth): a Secrets Manager secret ARN and an IAM role ARN.
pub(crate) fn authorization(a: &Authorization) -> Check {
    match arn_fields(&a.cdn_identifier_secret) {
        Some([_, _, "secretsmanager", _, _, resource]) if resource.starts_with("secret:") => {}
        _ => {
            return Err(format!(
                "authorization.cdnIdentifierSecret '{}' is not a Secrets Manager secret ARN",
                a.cdn_identifier_secret
            ));
        }
    }
    role_arn("authorization.secretsRoleArn", &a.secrets_role_arn)
}

/// The log group of `egressAccessLogs`, defaulted; it must sit under `/aws/MediaPackage/`.
pub(crate) fn log_group_name(name: Option<&str>) -> Result<String, String> {
    let name = name.unwrap_or(limits::DEFAULT_LOG_GROUP);
    if !name.starts_with(limits::LOG_GROUP_PREFIX) || name.len() <= limits::LOG_GROUP_PREFIX.len() {
        return Err(format!(
            "egressAccessLogs.logGroupName '{name}' must start with {}",
            limits::LOG_GROUP_PREFIX
        ));
    }
    if name.chars().count() > limits::MAX_LOG_GROUP_CHARS
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-/.#".contains(c))
    {
        return Err(format!(
            "egressAccessLogs.logGroupName '{name}' must be at most {} characters of letters, digits, '_', '-', '/', '.' and '#'",
            limits::MAX_LOG_GROUP_CHARS
        ));
    }
    Ok(name.to_string())
}

/// One packaging configuration's package, exactly one of the four types.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Package {
    Hls(HlsPackage),
    Dash(DashPackage),
    Cmaf(CmafPackage),
    Mss(MssPackage),
}

impl Package {
    /// Pick the one package of a create request.
    pub(crate) fn from_request(
        hls: Option<HlsPackage>,
        dash: Option<DashPackage>,
        cmaf: Option<CmafPackage>,
        mss: Option<MssPackage>,
    ) -> Result<Package, String> {
        let mut all: Vec<Package> = Vec::with_capacity(4);
        all.extend(hls.map(Package::Hls));
        all.extend(dash.map(Package::Dash));
        all.extend(cmaf.map(Package::Cmaf));
        all.extend(mss.map(Package::Mss));
        let n = all.len();
        match all.pop() {
            Some(p) if n == 1 => Ok(p),
            None => Err(
                "exactly one of hlsPackage, dashPackage, cmafPackage or mssPackage is required"
                    .into(),
            ),
            Some(_) => Err(format!(
                "a packaging configuration takes exactly one of hlsPackage, dashPackage, cmafPackage or mssPackage, not {n}"
            )),
        }
    }

    /// The model member name of this package type.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Package::Hls(_) => "HlsPackage",
            Package::Dash(_) => "DashPackage",
            Package::Cmaf(_) => "CmafPackage",
            Package::Mss(_) => "MssPackage",
        }
    }

    /// The canonical JSON of the package.
    pub(crate) fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            Package::Hls(p) => serde_json::to_value(p),
            Package::Dash(p) => serde_json::to_value(p),
            Package::Cmaf(p) => serde_json::to_value(p),
            Package::Mss(p) => serde_json::to_value(p),
        }
    }

    /// Check the semantic rules and fill AWS's defaults.
    pub(crate) fn validate_and_default(&mut self) -> Check {
        match self {
            Package::Hls(p) => hls(p),
            Package::Dash(p) => dash(p),
            Package::Cmaf(p) => cmaf(p),
            Package::Mss(p) => mss(p),
        }
    }
}

fn segment_duration(what: &str, d: &mut Option<i32>) -> Check {
    match *d {
        None => {
            *d = Some(limits::DEFAULT_SEGMENT_SECONDS);
            Ok(())
        }
        Some(s) if limits::SEGMENT_SECONDS.contains(&s) => Ok(()),
        Some(s) => Err(format!(
            "{what}.segmentDurationSeconds must be between {} and {} seconds, not {s}",
            limits::SEGMENT_SECONDS.start(),
            limits::SEGMENT_SECONDS.end()
        )),
    }
}

/// Manifest names are appended to the egress URL (UG:cfigs-hls-manset), so they must be URL-safe
/// and unique within the package.
fn manifest_names<'a>(what: &str, names: impl Iterator<Item = &'a mut Option<String>>) -> Check {
    let mut seen: Vec<String> = Vec::new();
    for name in names {
        let n = name.get_or_insert_with(|| limits::DEFAULT_MANIFEST_NAME.to_string());
        let len = n.chars().count();
        if len == 0 || len > limits::MAX_MANIFEST_NAME_CHARS {
            return Err(format!(
                "{what} manifestName must be 1 to {} characters long",
                limits::MAX_MANIFEST_NAME_CHARS
            ));
        }
        if !n
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!(
                "{what} manifestName '{n}' may contain only letters, digits, '_' and '-'"
            ));
        }
        if seen.contains(n) {
            return Err(format!(
                "{what} manifestName '{n}' is used by more than one manifest"
            ));
        }
        seen.push(n.clone());
    }
    Ok(())
}

fn manifest_count(what: &str, n: usize) -> Check {
    if n == 0 {
        return Err(format!("{what} needs at least one manifest"));
    }
    if n > limits::MAX_MANIFESTS {
        return Err(format!(
            "{what} takes at most {} manifests, not {n}",
            limits::MAX_MANIFESTS
        ));
    }
    Ok(())
}

fn stream_selection(what: &str, s: &mut Option<StreamSelection>) -> Check {
    let Some(s) = s else { return Ok(()) };
    if let Some(min) = s.min_video_bits_per_second
        && min < 0
    {
        return Err(format!(
            "{what}.streamSelection.minVideoBitsPerSecond must not be negative"
        ));
    }
    if let Some(max) = s.max_video_bits_per_second
        && max < 1
    {
        return Err(format!(
            "{what}.streamSelection.maxVideoBitsPerSecond must be positive"
        ));
    }
    if let (Some(min), Some(max)) = (s.min_video_bits_per_second, s.max_video_bits_per_second)
        && min > max
    {
        return Err(format!(
            "{what}.streamSelection.minVideoBitsPerSecond ({min}) is greater than maxVideoBitsPerSecond ({max})"
        ));
    }
    s.stream_order.get_or_insert(StreamOrder::Original);
    Ok(())
}

fn hls_manifests(what: &str, manifests: &mut [HlsManifest]) -> Check {
    manifest_count(what, manifests.len())?;
    manifest_names(what, manifests.iter_mut().map(|m| &mut m.manifest_name))?;
    for m in manifests.iter_mut() {
        if let Some(i) = m.program_date_time_interval_seconds
            && i < 0
        {
            return Err(format!(
                "{what} programDateTimeIntervalSeconds must not be negative"
            ));
        }
        m.ad_markers.get_or_insert(AdMarkers::None);
        m.include_iframe_only_stream.get_or_insert(false);
        m.program_date_time_interval_seconds.get_or_insert(0);
        m.repeat_ext_x_key.get_or_insert(false);
        stream_selection(what, &mut m.stream_selection)?;
    }
    Ok(())
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// How many system ids a package type takes; the user guide says "up to three IDs for CMAF, two
/// IDs for DASH, and exactly one for the other streaming protocols" (UG:cfigs-*-encryption).
fn system_id_range(package: &str) -> std::ops::RangeInclusive<usize> {
    match package {
        "cmafPackage" => 1..=3,
        "dashPackage" => 1..=2,
        _ => 1..=1,
    }
}

fn speke(package: &str, k: &SpekeKeyProvider) -> Check {
    let what = format!("{package}.encryption.spekeKeyProvider");
    let url_ok = k.url.len() <= limits::MAX_REFERENCE_CHARS
        && (k.url.starts_with("https://") || k.url.starts_with("http://"))
        && k.url
            .split_once("://")
            .is_some_and(|(_, rest)| !rest.is_empty());
    if !url_ok {
        return Err(format!("{what}.url '{}' is not an http(s) URL", k.url));
    }
    role_arn(&format!("{what}.roleArn"), &k.role_arn)?;
    let range = system_id_range(package);
    if !range.contains(&k.system_ids.len()) {
        return Err(if range.start() == range.end() {
            format!(
                "{what}.systemIds must hold exactly {} system id, not {}",
                range.start(),
                k.system_ids.len()
            )
        } else {
            format!(
                "{what}.systemIds must hold {} to {} system ids, not {}",
                range.start(),
                range.end(),
                k.system_ids.len()
            )
        });
    }
    let mut ids: Vec<String> = Vec::with_capacity(k.system_ids.len());
    for id in &k.system_ids {
        if !is_uuid(id) {
            return Err(format!("{what}.systemIds: '{id}' is not a UUID"));
        }
        let id = id.to_ascii_lowercase();
        if ids.contains(&id) {
            return Err(format!("{what}.systemIds: '{id}' is listed twice"));
        }
        ids.push(id);
    }
    let has = |sid: &str| ids.iter().any(|i| i == sid);
    let v2 = k.encryption_contract_configuration.as_ref();
    match package {
        // SPEKE v2 exists for DASH and CMAF only: "No v2 for HLS-TS or MSS"
        // (UG:encryption-choosing-speke-version).
        "hlsPackage" | "mssPackage" if v2.is_some() => {
            return Err(format!(
                "{what}.encryptionContractConfiguration (SPEKE v2) is supported only for DASH and CMAF packages"
            ));
        }
        // MSS carries PlayReady only.
        "mssPackage" if !has(system_ids::PLAYREADY) => {
            return Err(format!(
                "{what}.systemIds: MSS encryption supports only PlayReady ({})",
                system_ids::PLAYREADY
            ));
        }
        // DASH is encrypted with cenc, which FairPlay cannot decrypt.
        "dashPackage" if has(system_ids::FAIRPLAY) => {
            return Err(format!(
                "{what}.systemIds: FairPlay is not supported for DASH packages (cenc)"
            ));
        }
        // CMAF is cbcs only; with SPEKE v1 it carries Widevine and FairPlay, PlayReady needs SPEKE v2.
        "cmafPackage" if v2.is_none() && has(system_ids::PLAYREADY) => {
            return Err(format!(
                "{what}.systemIds: PlayReady with CMAF (cbcs) requires SPEKE v2 (encryptionContractConfiguration)"
            ));
        }
        _ => {}
    }
    if let Some(c) = v2 {
        presets(&what, c)?;
    }
    Ok(())
}

/// SPEKE v2 presets (UG:drm-content-speke-v2-presets): `SHARED` on both sides or on neither;
/// `UNENCRYPTED` not on both.
fn presets(what: &str, c: &EncryptionContractConfiguration) -> Check {
    let audio_shared = c.preset_speke20_audio == PresetSpeke20Audio::Shared;
    let video_shared = c.preset_speke20_video == PresetSpeke20Video::Shared;
    if audio_shared != video_shared {
        return Err(format!(
            "{what}.encryptionContractConfiguration: SHARED must be set for both presetSpeke20Audio and presetSpeke20Video, or for neither"
        ));
    }
    if c.preset_speke20_audio == PresetSpeke20Audio::Unencrypted
        && c.preset_speke20_video == PresetSpeke20Video::Unencrypted
    {
        return Err(format!(
            "{what}.encryptionContractConfiguration: presetSpeke20Audio and presetSpeke20Video cannot both be UNENCRYPTED"
        ));
    }
    Ok(())
}

/// "An optional 128-bit, 16-byte hex value represented by a 32-character string" (BC).
fn constant_iv(package: &str, iv: Option<&str>) -> Check {
    match iv {
        Some(iv) if iv.len() != 32 || !iv.bytes().all(|b| b.is_ascii_hexdigit()) => Err(format!(
            "{package}.encryption.constantInitializationVector must be 32 hexadecimal characters (16 bytes)"
        )),
        _ => Ok(()),
    }
}

fn hls(p: &mut HlsPackage) -> Check {
    segment_duration("hlsPackage", &mut p.segment_duration_seconds)?;
    hls_manifests("hlsPackage.hlsManifests", &mut p.hls_manifests)?;
    if let Some(e) = &mut p.encryption {
        constant_iv("hlsPackage", e.constant_initialization_vector.as_deref())?;
        speke("hlsPackage", &e.speke_key_provider)?;
        e.encryption_method.get_or_insert(EncryptionMethod::Aes128);
    }
    p.include_dvb_subtitles.get_or_insert(false);
    p.use_audio_rendition_group.get_or_insert(false);
    Ok(())
}

fn cmaf(p: &mut CmafPackage) -> Check {
    segment_duration("cmafPackage", &mut p.segment_duration_seconds)?;
    hls_manifests("cmafPackage.hlsManifests", &mut p.hls_manifests)?;
    if let Some(e) = &p.encryption {
        constant_iv("cmafPackage", e.constant_initialization_vector.as_deref())?;
        speke("cmafPackage", &e.speke_key_provider)?;
    }
    p.include_encoder_configuration_in_segments
        .get_or_insert(false);
    Ok(())
}

fn dash(p: &mut DashPackage) -> Check {
    segment_duration("dashPackage", &mut p.segment_duration_seconds)?;
    let what = "dashPackage.dashManifests";
    manifest_count(what, p.dash_manifests.len())?;
    manifest_names(
        what,
        p.dash_manifests.iter_mut().map(|m| &mut m.manifest_name),
    )?;
    for m in &mut p.dash_manifests {
        if let Some(b) = m.min_buffer_time_seconds
            && b < 0
        {
            return Err(format!("{what} minBufferTimeSeconds must not be negative"));
        }
        m.manifest_layout.get_or_insert(ManifestLayout::Full);
        m.min_buffer_time_seconds
            .get_or_insert(limits::DEFAULT_MIN_BUFFER_SECONDS);
        m.profile.get_or_insert(Profile::None);
        m.scte_markers_source
            .get_or_insert(ScteMarkersSource::Segments);
        stream_selection(what, &mut m.stream_selection)?;
    }
    if let Some(e) = &p.encryption {
        speke("dashPackage", &e.speke_key_provider)?;
    }
    let format = *p
        .segment_template_format
        .get_or_insert(SegmentTemplateFormat::NumberWithTimeline);
    // NUMBER_WITH_DURATION has no timeline, so it cannot describe several periods (UG:cfigs-dash-manset).
    if format == SegmentTemplateFormat::NumberWithDuration
        && p.period_triggers.as_ref().is_some_and(|t| !t.is_empty())
    {
        return Err("dashPackage.periodTriggers cannot be used with segmentTemplateFormat NUMBER_WITH_DURATION".into());
    }
    p.include_encoder_configuration_in_segments
        .get_or_insert(false);
    p.include_iframe_only_stream.get_or_insert(false);
    Ok(())
}

fn mss(p: &mut MssPackage) -> Check {
    segment_duration("mssPackage", &mut p.segment_duration_seconds)?;
    let what = "mssPackage.mssManifests";
    manifest_count(what, p.mss_manifests.len())?;
    manifest_names(
        what,
        p.mss_manifests.iter_mut().map(|m| &mut m.manifest_name),
    )?;
    for m in &mut p.mss_manifests {
        stream_selection(what, &mut m.stream_selection)?;
    }
    if let Some(e) = &p.encryption {
        speke("mssPackage", &e.speke_key_provider)?;
    }
    Ok(())
}

/// The first manifest name of a package (the one the egress URL names).
pub(crate) fn first_manifest_name(package: &serde_json::Value, package_type: &str) -> String {
    let list = match package_type {
        "DashPackage" => "DashManifests",
        "MssPackage" => "MssManifests",
        _ => "HlsManifests",
    };
    package
        .get(list)
        .and_then(|l| l.get(0))
        .and_then(|m| m.get("ManifestName"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or(limits::DEFAULT_MANIFEST_NAME)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reelay_aws::generated::mediapackage_vod::types::{
        CmafEncryption, DashEncryption, DashManifest, HlsEncryption, MssEncryption, MssManifest,
        PeriodTriggersElement,
    };

    fn key(ids: &[&str]) -> SpekeKeyProvider {
        SpekeKeyProvider {
            encryption_contract_configuration: None,
            role_arn: "arn:aws:iam::111122223333:role/Speke".into(),
            system_ids: ids.iter().map(|s| s.to_string()).collect(),
            url: "https://speke.example.com/v1".into(),
        }
    }

    fn hls_pkg() -> HlsPackage {
        HlsPackage {
            hls_manifests: vec![HlsManifest::default()],
            ..Default::default()
        }
    }

    #[track_caller]
    fn check_err(mut p: Package, needle: &str) {
        let e = p.validate_and_default().expect_err("should be refused");
        assert!(e.contains(needle), "{e:?} does not contain {needle:?}");
    }

    #[test]
    fn ids() {
        assert!(resource_id("id", "abc_DEF-123").is_ok());
        assert!(resource_id("id", "").is_err());
        assert!(resource_id("id", "a b").is_err());
        assert!(resource_id("id", &"a".repeat(257)).is_err());
        assert!(resource_id("id", &"a".repeat(256)).is_ok());
    }

    #[test]
    fn arns() {
        assert_eq!(
            s3_object_arn("arn:aws:s3:::b/k/x.smil"),
            Ok(("b", "k/x.smil"))
        );
        assert_eq!(
            s3_object_arn("arn:aws:s3::111122223333:b/k"),
            Ok(("b", "k"))
        );
        assert!(s3_object_arn("arn:aws:s3:::b").is_err());
        assert!(s3_object_arn("arn:aws:s3:::b/").is_err());
        assert!(s3_object_arn("arn:aws:iam::1:role/x").is_err());
        assert!(s3_object_arn("s3://b/k").is_err());
        assert!(role_arn("r", "arn:aws:iam::111122223333:role/x").is_ok());
        assert!(role_arn("r", "arn:aws:iam::111122223333:role/").is_err());
        assert!(role_arn("r", "arn:aws:iam::111122223333:user/x").is_err());
        let ok = Authorization {
            cdn_identifier_secret: "arn:aws:secretsmanager:us-east-1:111122223333:secret:cdn-AbCd"
                .into(),
            secrets_role_arn: "arn:aws:iam::111122223333:role/cdn".into(),
        };
        assert!(authorization(&ok).is_ok());
        assert!(
            authorization(&Authorization {
                cdn_identifier_secret: "x".into(),
                ..ok.clone()
            })
            .is_err()
        );
    }

    #[test]
    fn log_groups() {
        assert_eq!(
            log_group_name(None).unwrap(),
            "/aws/MediaPackage/EgressAccessLogs"
        );
        assert_eq!(
            log_group_name(Some("/aws/MediaPackage/mine")).unwrap(),
            "/aws/MediaPackage/mine"
        );
        assert!(log_group_name(Some("mine")).is_err());
        assert!(log_group_name(Some("/aws/MediaPackage/")).is_err());
        assert!(log_group_name(Some("/aws/MediaPackage/a b")).is_err());
    }

    #[test]
    fn exactly_one_package() {
        assert!(Package::from_request(None, None, None, None).is_err());
        let two = Package::from_request(Some(hls_pkg()), None, None, Some(MssPackage::default()));
        assert!(two.unwrap_err().contains("not 2"));
        assert_eq!(
            Package::from_request(Some(hls_pkg()), None, None, None)
                .unwrap()
                .type_name(),
            "HlsPackage"
        );
    }

    #[test]
    fn hls_defaults() {
        let mut p = Package::Hls(hls_pkg());
        p.validate_and_default().unwrap();
        let v = p.to_value().unwrap();
        assert_eq!(v["SegmentDurationSeconds"], 6);
        assert_eq!(v["UseAudioRenditionGroup"], false);
        assert_eq!(v["IncludeDvbSubtitles"], false);
        let m = &v["HlsManifests"][0];
        assert_eq!(m["ManifestName"], "index");
        assert_eq!(m["AdMarkers"], "NONE");
        assert_eq!(m["IncludeIframeOnlyStream"], false);
        assert_eq!(m["ProgramDateTimeIntervalSeconds"], 0);
        assert_eq!(m["RepeatExtXKey"], false);
        assert!(m.get("StreamSelection").is_none());
        assert_eq!(first_manifest_name(&v, "HlsPackage"), "index");
    }

    #[test]
    fn dash_defaults_and_rules() {
        let mut p = Package::Dash(DashPackage {
            dash_manifests: vec![DashManifest::default()],
            ..Default::default()
        });
        p.validate_and_default().unwrap();
        let v = p.to_value().unwrap();
        assert_eq!(v["SegmentTemplateFormat"], "NUMBER_WITH_TIMELINE");
        assert_eq!(v["DashManifests"][0]["MinBufferTimeSeconds"], 30);
        assert_eq!(v["DashManifests"][0]["ManifestLayout"], "FULL");
        assert_eq!(v["DashManifests"][0]["Profile"], "NONE");
        assert_eq!(v["DashManifests"][0]["ScteMarkersSource"], "SEGMENTS");
        check_err(
            Package::Dash(DashPackage {
                dash_manifests: vec![DashManifest::default()],
                segment_template_format: Some(SegmentTemplateFormat::NumberWithDuration),
                period_triggers: Some(vec![PeriodTriggersElement::Ads]),
                ..Default::default()
            }),
            "periodTriggers",
        );
        check_err(
            Package::Dash(DashPackage::default()),
            "at least one manifest",
        );
    }

    #[test]
    fn manifests_and_ranges() {
        let two_default = HlsPackage {
            hls_manifests: vec![HlsManifest::default(), HlsManifest::default()],
            ..Default::default()
        };
        check_err(Package::Hls(two_default), "more than one manifest");
        let bad_name = HlsManifest {
            manifest_name: Some("a/b".into()),
            ..Default::default()
        };
        check_err(
            Package::Hls(HlsPackage {
                hls_manifests: vec![bad_name],
                ..Default::default()
            }),
            "manifestName",
        );
        check_err(
            Package::Hls(HlsPackage {
                segment_duration_seconds: Some(0),
                ..hls_pkg()
            }),
            "segmentDurationSeconds",
        );
        check_err(
            Package::Hls(HlsPackage {
                segment_duration_seconds: Some(31),
                ..hls_pkg()
            }),
            "segmentDurationSeconds",
        );
        let sel = StreamSelection {
            min_video_bits_per_second: Some(5),
            max_video_bits_per_second: Some(4),
            stream_order: None,
        };
        let m = HlsManifest {
            stream_selection: Some(sel),
            ..Default::default()
        };
        check_err(
            Package::Hls(HlsPackage {
                hls_manifests: vec![m],
                ..Default::default()
            }),
            "greater than",
        );
        let ok = StreamSelection {
            min_video_bits_per_second: Some(1),
            max_video_bits_per_second: Some(4),
            stream_order: None,
        };
        let mut p = Package::Mss(MssPackage {
            mss_manifests: vec![MssManifest {
                manifest_name: None,
                stream_selection: Some(ok),
            }],
            ..Default::default()
        });
        p.validate_and_default().unwrap();
        assert_eq!(
            p.to_value().unwrap()["MssManifests"][0]["StreamSelection"]["StreamOrder"],
            "ORIGINAL"
        );
    }

    #[test]
    fn encryption_rules() {
        let hls_enc = |k: SpekeKeyProvider, iv: Option<&str>| {
            Package::Hls(HlsPackage {
                encryption: Some(HlsEncryption {
                    constant_initialization_vector: iv.map(str::to_string),
                    encryption_method: None,
                    speke_key_provider: k,
                }),
                ..hls_pkg()
            })
        };
        let mut ok = hls_enc(
            key(&["81376844-f976-481e-a84e-cc25d39b0b33"]),
            Some("0123456789abcdef0123456789ABCDEF"),
        );
        ok.validate_and_default().unwrap();
        assert_eq!(
            ok.to_value().unwrap()["Encryption"]["EncryptionMethod"],
            "AES_128"
        );
        check_err(
            hls_enc(key(&["81376844-f976-481e-a84e-cc25d39b0b33"]), Some("abc")),
            "32 hexadecimal",
        );
        check_err(
            hls_enc(key(&[system_ids::WIDEVINE, system_ids::FAIRPLAY]), None),
            "exactly 1",
        );
        check_err(hls_enc(key(&[]), None), "exactly 1");
        check_err(hls_enc(key(&["not-a-uuid"]), None), "not a UUID");
        let mut v2 = key(&[system_ids::FAIRPLAY]);
        v2.encryption_contract_configuration = Some(EncryptionContractConfiguration::default());
        check_err(hls_enc(v2, None), "only for DASH and CMAF");
        let mut bad_url = key(&[system_ids::FAIRPLAY]);
        bad_url.url = "ftp://x".into();
        check_err(hls_enc(bad_url, None), "http(s) URL");

        let dash_enc = |k: SpekeKeyProvider| {
            Package::Dash(DashPackage {
                dash_manifests: vec![DashManifest::default()],
                encryption: Some(DashEncryption {
                    speke_key_provider: k,
                }),
                ..Default::default()
            })
        };
        dash_enc(key(&[system_ids::WIDEVINE, system_ids::PLAYREADY]))
            .validate_and_default()
            .unwrap();
        check_err(
            dash_enc(key(&[
                system_ids::WIDEVINE,
                system_ids::PLAYREADY,
                system_ids::FAIRPLAY,
            ])),
            "1 to 2",
        );
        check_err(dash_enc(key(&[system_ids::FAIRPLAY])), "FairPlay");
        check_err(
            dash_enc(key(&[system_ids::WIDEVINE, system_ids::WIDEVINE])),
            "twice",
        );

        let preset = |a, v| {
            let mut k = key(&[system_ids::WIDEVINE]);
            k.encryption_contract_configuration = Some(EncryptionContractConfiguration {
                preset_speke20_audio: a,
                preset_speke20_video: v,
            });
            dash_enc(k)
        };
        preset(PresetSpeke20Audio::Shared, PresetSpeke20Video::Shared)
            .validate_and_default()
            .unwrap();
        preset(
            PresetSpeke20Audio::PresetAudio1,
            PresetSpeke20Video::Unencrypted,
        )
        .validate_and_default()
        .unwrap();
        check_err(
            preset(PresetSpeke20Audio::Shared, PresetSpeke20Video::PresetVideo1),
            "SHARED",
        );
        check_err(
            preset(PresetSpeke20Audio::PresetAudio2, PresetSpeke20Video::Shared),
            "SHARED",
        );
        check_err(
            preset(
                PresetSpeke20Audio::Unencrypted,
                PresetSpeke20Video::Unencrypted,
            ),
            "both be UNENCRYPTED",
        );

        let cmaf_enc = |k: SpekeKeyProvider| {
            Package::Cmaf(CmafPackage {
                hls_manifests: vec![HlsManifest::default()],
                encryption: Some(CmafEncryption {
                    constant_initialization_vector: None,
                    speke_key_provider: k,
                }),
                ..Default::default()
            })
        };
        cmaf_enc(key(&[system_ids::WIDEVINE, system_ids::FAIRPLAY]))
            .validate_and_default()
            .unwrap();
        check_err(cmaf_enc(key(&[system_ids::PLAYREADY])), "SPEKE v2");
        let mut k = key(&[
            system_ids::WIDEVINE,
            system_ids::FAIRPLAY,
            system_ids::PLAYREADY,
        ]);
        k.encryption_contract_configuration = Some(EncryptionContractConfiguration::default());
        cmaf_enc(k).validate_and_default().unwrap();

        let mss_enc = |k: SpekeKeyProvider| {
            Package::Mss(MssPackage {
                mss_manifests: vec![MssManifest::default()],
                encryption: Some(MssEncryption {
                    speke_key_provider: k,
                }),
                ..Default::default()
            })
        };
        mss_enc(key(&[system_ids::PLAYREADY]))
            .validate_and_default()
            .unwrap();
        check_err(mss_enc(key(&[system_ids::WIDEVINE])), "PlayReady");
    }
}
