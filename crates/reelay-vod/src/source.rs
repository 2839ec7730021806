//! Ingest: read an asset's sources from the object store by byte range, validate them and build
//! the [`AssetIndex`].
//!
//! Accepted sources (UG:supported-inputs-vod): a `.smil` listing non-fragmented MP4 renditions,
//! an `.m3u8` multivariant playlist of MPEG-TS renditions (remuxed once, see
//! [`crate::ts_source`]), and, as a reelay extension, a single `.mp4` (or `.m4v` / `.mov`).
//! Every failure is a sentence meant for `DescribeAsset` readers and the `IngestError` event.

use crate::index::{
    AssetIndex, IdxSample, MAX_SOURCES, MAX_TRACKS_PER_SOURCE, TrackCodec, TrackIndex,
};
pub use crate::ts_source::SampleObjects;
use reelay_blob::BlobStore;
use reelay_format_mp4::{Codec, Handler, Next};

/// Largest `.smil` read (real ones are a few hundred bytes).
const MAX_SMIL_BYTES: u64 = 1024 * 1024;
/// Bytes read from the head of an MP4 to find its top-level boxes.
const HEAD_BYTES: u64 = 64 * 1024;
/// Most reads while looking for `moov` (each skips one top-level box).
const MAX_PROBE_STEPS: usize = 1024;

/// Splits an S3 object ARN (`arn:aws:s3:::bucket/key` or `arn:aws:s3::<account>:bucket/key`).
pub fn s3_object(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:aws:s3:")?;
    let (_region, rest) = rest.split_once(':')?;
    let (_account, rest) = rest.split_once(':')?;
    let (bucket, key) = rest.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then_some((bucket, key))
}

/// Reads and indexes the source named by `source_arn`. `.m3u8` sources are remuxed into
/// sample objects under `samples` (see [`crate::ts_source`]); the index then points there.
pub async fn ingest(
    blob: &BlobStore,
    source_arn: &str,
    samples: &SampleObjects,
) -> Result<AssetIndex, String> {
    let (bucket, key) = s3_object(source_arn)
        .ok_or_else(|| format!("sourceArn '{source_arn}' is not an S3 object ARN"))?;
    let lower = key.to_ascii_lowercase();
    let (index_bucket, keys, tracks) = if lower.ends_with(".m3u8") {
        let (keys, tracks) = crate::ts_source::ingest(blob, bucket, key, samples).await?;
        (samples.bucket.as_str(), keys, tracks)
    } else {
        let keys = if lower.ends_with(".smil") {
            smil_sources(blob, bucket, key).await?
        } else if lower.ends_with(".mp4") || lower.ends_with(".m4v") || lower.ends_with(".mov") {
            vec![key.to_string()]
        } else {
            return Err(format!(
                "source '{key}': unsupported source type; expected a .smil, .m3u8 or .mp4 object"
            ));
        };
        if keys.len() > MAX_SOURCES {
            return Err(format!(
                "MaxIngestStreamsError: Parent Manifest [{key}] has [{}] streams, more than [{MAX_SOURCES}] allowed",
                keys.len()
            ));
        }
        let mut tracks = Vec::new();
        for (n, k) in keys.iter().enumerate() {
            // `n` < MAX_SOURCES, checked above.
            let source = u32::try_from(n).unwrap_or(u32::MAX);
            tracks.extend(index_mp4(blob, bucket, k, source).await?);
        }
        (bucket, keys, tracks)
    };
    if !tracks.iter().any(|t| t.codec.is_video()) {
        return Err(format!(
            "source '{key}' has no video track: MediaPackage VOD requires at least one H.264 or H.265 video track{}",
            if lower.ends_with(".m3u8") {
                " (audio-only HLS is not accepted)"
            } else {
                ""
            }
        ));
    }
    let timescales: Vec<u32> = tracks
        .iter()
        .filter(|t| t.codec.is_video())
        .map(|t| t.timescale)
        .collect();
    if timescales.windows(2).any(|w| w[0] != w[1]) {
        return Err(format!(
            "streams must have an equal time base: the video tracks use timescales {timescales:?}"
        ));
    }
    Ok(AssetIndex {
        memo: Default::default(),
        bucket: index_bucket.to_string(),
        sources: keys,
        tracks,
    })
}

pub(crate) fn blob_error(key: &str, e: reelay_blob::Error) -> String {
    match e {
        reelay_blob::Error::NoSuchKey => format!("source file '{key}' does not exist"),
        reelay_blob::Error::NoSuchBucket { bucket } => {
            format!("source bucket '{bucket}' does not exist")
        }
        e => format!("cannot read source file '{key}': {e}"),
    }
}

/// The MP4 keys a `.smil` lists (`src` or `name` of `video` and `audio` elements, relative to
/// the `.smil`; UG:supported-inputs-vod-smil).
async fn smil_sources(blob: &BlobStore, bucket: &str, key: &str) -> Result<Vec<String>, String> {
    let info = blob
        .head_object(bucket, key)
        .await
        .map_err(|e| blob_error(key, e))?;
    if info.size > MAX_SMIL_BYTES {
        return Err(format!(
            "SMIL '{key}' is {} bytes, more than the {MAX_SMIL_BYTES} reelay reads",
            info.size
        ));
    }
    let body = blob
        .read_range(bucket, key, 0..info.size)
        .await
        .map_err(|e| blob_error(key, e))?;
    let text = std::str::from_utf8(&body).map_err(|_| format!("SMIL '{key}' is not UTF-8"))?;
    let names = parse_smil(text).map_err(|e| format!("SMIL '{key}' is invalid: {e}"))?;
    if names.is_empty() {
        return Err(format!("SMIL '{key}' lists no video or audio source"));
    }
    let dir = key.rsplit_once('/').map_or("", |(d, _)| d);
    names
        .iter()
        .map(|n| {
            if n.starts_with('/')
                || n.contains("://")
                || n.split('/').any(|p| p == ".." || p.is_empty())
            {
                return Err(format!(
                    "SMIL '{key}' names '{n}': sources must be paths relative to the SMIL file"
                ));
            }
            Ok(if dir.is_empty() {
                n.clone()
            } else {
                format!("{dir}/{n}")
            })
        })
        .collect()
}

/// `src` (or `name`) of each `video` / `audio` element, in document order.
pub fn parse_smil(text: &str) -> Result<Vec<String>, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut out = Vec::new();
    let mut saw_smil = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let name = e.local_name();
                let name = name.as_ref();
                if name == b"smil" {
                    saw_smil = true;
                }
                if name == b"video" || name == b"audio" {
                    let mut src = None;
                    for a in e.attributes() {
                        let a = a.map_err(|e| e.to_string())?;
                        let k = a.key.local_name();
                        if k.as_ref() == b"src" || (k.as_ref() == b"name" && src.is_none()) {
                            let v = a.unescape_value().map_err(|e| e.to_string())?;
                            src = Some(v.into_owned());
                        }
                    }
                    match src {
                        Some(s) if !s.is_empty() => out.push(s),
                        _ => return Err("a video or audio element has no src".into()),
                    }
                    if out.len() > MAX_SOURCES {
                        return Err(format!(
                            "MaxIngestStreamsError: more than [{MAX_SOURCES}] streams"
                        ));
                    }
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    if !saw_smil {
        return Err("no <smil> root element".into());
    }
    Ok(out)
}

async fn read(
    blob: &BlobStore,
    bucket: &str,
    key: &str,
    start: u64,
    end: u64,
) -> Result<bytes::Bytes, String> {
    blob.read_range(bucket, key, start..end)
        .await
        .map_err(|e| blob_error(key, e))
}

/// Probes one MP4 by range reads and indexes its video and audio tracks.
async fn index_mp4(
    blob: &BlobStore,
    bucket: &str,
    key: &str,
    source: u32,
) -> Result<Vec<TrackIndex>, String> {
    let size = blob
        .head_object(bucket, key)
        .await
        .map_err(|e| blob_error(key, e))?
        .size;
    let fail = |e: reelay_format_mp4::Error| format!("source file '{key}': {e}");
    let head = read(blob, bucket, key, 0, size.min(HEAD_BYTES)).await?;
    let mut probe = reelay_format_mp4::probe(&head).map_err(fail)?;
    let mut steps = 0usize;
    let moov_range = loop {
        match probe.next() {
            Next::ParseMoov(r) => break r,
            Next::Fetch { offset, min_len } => {
                steps += 1;
                if steps > MAX_PROBE_STEPS {
                    return Err(format!("source file '{key}': too many top-level boxes"));
                }
                let end = offset.saturating_add(min_len.max(HEAD_BYTES)).min(size);
                let buf = if offset >= size {
                    bytes::Bytes::new()
                } else {
                    read(blob, bucket, key, offset, end).await?
                };
                probe.feed(offset, &buf).map_err(fail)?;
            }
        }
    };
    if moov_range.end > size {
        return Err(format!(
            "source file '{key}' is truncated: its moov box runs past the end of the file"
        ));
    }
    let moov = read(blob, bucket, key, moov_range.start, moov_range.end).await?;
    let movie = reelay_format_mp4::parse_moov(&moov).map_err(fail)?;
    let mut out = Vec::new();
    for track in &movie.tracks {
        if !matches!(track.handler, Handler::Video | Handler::Audio) {
            continue;
        }
        if track.is_encrypted() {
            return Err(format!(
                "source file '{key}' track {} is encrypted: MediaPackage VOD accepts only unencrypted sources",
                track.id
            ));
        }
        let (codec, fourcc, config, sample_rate, channels) = match &track.codec {
            Codec::Avc(v) => (TrackCodec::Avc, v.fourcc, v.config.to_vec(), 0, 0),
            Codec::Hevc(v) => (TrackCodec::Hevc, v.fourcc, v.config.to_vec(), 0, 0),
            Codec::Aac(a) => (
                TrackCodec::Aac,
                a.fourcc,
                a.config.to_vec(),
                a.sample_rate,
                a.channels,
            ),
            Codec::Other(f) => {
                return Err(format!(
                    "source file '{key}' track {} uses codec '{f}': reelay packages H.264, H.265 and AAC",
                    track.id
                ));
            }
            _ => {
                return Err(format!(
                    "source file '{key}' track {} uses an unsupported codec",
                    track.id
                ));
            }
        };
        let samples = track.samples().map_err(fail)?;
        if samples.is_empty() {
            continue;
        }
        let mut list = Vec::with_capacity(samples.len());
        for s in samples.iter() {
            if s.offset.saturating_add(u64::from(s.size)) > size {
                return Err(format!(
                    "source file '{key}' is truncated: track {} has sample data past the end of the file ({size} bytes)",
                    track.id
                ));
            }
            list.push(IdxSample {
                offset: s.offset,
                size: s.size,
                dts: s.dts,
                cts: s.cts_offset,
                duration: s.duration,
                sync: s.is_sync,
            });
        }
        let media_time = track.edit_list.map_or(0, |e| e.media_time.max(0));
        let mut f = [0u8; 4];
        f.copy_from_slice(fourcc.as_bytes());
        out.push(TrackIndex {
            source,
            track_id: track.id,
            codec,
            fourcc: f,
            config,
            width: track.width,
            height: track.height,
            timescale: track.timescale.max(1),
            sample_rate,
            channels,
            language: track.language,
            media_time,
            samples: list,
        });
        if out.len() > MAX_TRACKS_PER_SOURCE {
            return Err(format!(
                "source file '{key}' has more than {MAX_TRACKS_PER_SOURCE} tracks"
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_and_smil() {
        assert_eq!(
            s3_object("arn:aws:s3:::b/k/x.smil"),
            Some(("b", "k/x.smil"))
        );
        assert_eq!(s3_object("arn:aws:s3::123:b/x.mp4"), Some(("b", "x.mp4")));
        assert_eq!(s3_object("arn:aws:s3:::b"), None);
        let smil = r#"<?xml version="1.0"?><smil><body><switch>
            <video src="lo.mp4" systemLanguage="eng"/><video name="hi.mp4"></video>
            </switch></body></smil>"#;
        assert_eq!(parse_smil(smil).unwrap(), vec!["lo.mp4", "hi.mp4"]);
        assert!(parse_smil("<html/>").is_err());
        assert!(parse_smil("<smil><video/></smil>").is_err());
        let many: String = (0..25).map(|i| format!("<video src='{i}.mp4'/>")).collect();
        assert!(
            parse_smil(&format!("<smil>{many}</smil>"))
                .unwrap_err()
                .contains("MaxIngestStreams")
        );
    }
}

#[cfg(test)]
mod hostile {
    use super::*;
    use reelay_blob::ObjectAttrs;

    async fn put(blob: &BlobStore, key: &str, data: Vec<u8>) {
        let body = bytes::Bytes::from(data);
        let stream = futures_once(body);
        blob.put_object("src", key, stream, ObjectAttrs::default())
            .await
            .unwrap();
    }

    fn futures_once(
        b: bytes::Bytes,
    ) -> impl futures::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + Unpin + 'static
    {
        futures::stream::iter([Ok(b)])
    }

    fn samples() -> SampleObjects {
        SampleObjects {
            bucket: "src".into(),
            prefix: "out/".into(),
            owner: "owner".into(),
            region: "us-east-1".into(),
        }
    }

    /// xorshift64*, so the test is reproducible.
    fn noise(seed: u64, n: usize) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
            })
            .collect()
    }

    #[tokio::test]
    async fn random_and_mangled_sources_fail_without_panicking() {
        let blob = BlobStore::in_memory();
        blob.create_bucket("src", "owner", "us-east-1")
            .await
            .unwrap();
        for seed in 0..200u64 {
            let mut data = noise(seed, 4096 + (seed as usize % 7) * 997);
            // Half of them look like MP4 boxes at the start, to get past the first header.
            if seed % 2 == 0 {
                let size = ((seed * 37) % 5000) as u32;
                data[..4].copy_from_slice(&size.to_be_bytes());
                data[4..8].copy_from_slice(if seed % 4 == 0 { b"moov" } else { b"ftyp" });
            }
            put(&blob, "x.mp4", data).await;
            let r = ingest(&blob, "arn:aws:s3:::src/x.mp4", &samples()).await;
            assert!(r.is_err(), "seed {seed}");
        }
        put(
            &blob,
            "a.smil",
            b"<smil><video src='../etc/passwd'/></smil>".to_vec(),
        )
        .await;
        let e = ingest(&blob, "arn:aws:s3:::src/a.smil", &samples())
            .await
            .unwrap_err();
        assert!(e.contains("relative"), "{e}");
        put(
            &blob,
            "b.smil",
            b"<smil><video src='none.mp4'/></smil>".to_vec(),
        )
        .await;
        let e = ingest(&blob, "arn:aws:s3:::src/b.smil", &samples())
            .await
            .unwrap_err();
        assert!(e.contains("does not exist"), "{e}");
        let e = ingest(&blob, "arn:aws:s3:::src/c.m3u8", &samples())
            .await
            .unwrap_err();
        assert!(e.contains("does not exist"), "{e}");
        put(
            &blob,
            "enc.m3u8",
            b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\"\n#EXTINF:2,\na.ts\n#EXT-X-ENDLIST\n".to_vec(),
        )
        .await;
        let e = ingest(&blob, "arn:aws:s3:::src/enc.m3u8", &samples())
            .await
            .unwrap_err();
        assert!(e.contains("encrypted"), "{e}");
        // A segment of noise holds no sample, and no sample object is left behind.
        put(&blob, "n.ts", noise(7, 188 * 50)).await;
        put(
            &blob,
            "noise.m3u8",
            b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nn.ts\n#EXT-X-ENDLIST\n".to_vec(),
        )
        .await;
        let e = ingest(&blob, "arn:aws:s3:::src/noise.m3u8", &samples())
            .await
            .unwrap_err();
        assert!(e.contains("no H.264"), "{e}");
        assert!(blob.head_object("src", "out/0.samples").await.is_err());
    }
}
