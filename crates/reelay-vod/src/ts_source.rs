//! `.m3u8` sources: a multivariant playlist whose renditions are media playlists of unencrypted
//! MPEG-TS segments (UG:supported-inputs-vod), all in the bucket of the source object.
//!
//! A TS sample is not a contiguous byte range of its segment (its PES payload is split across
//! 188-byte packets, behind packet and PES headers; AAC frames carry ADTS headers), so the MP4
//! path's "index offsets into the source" cannot apply. Ingest therefore **remuxes once**: each
//! rendition is demuxed segment by segment and its samples are written, in decode order and in
//! MP4 form (length-prefixed NAL units without AUD and parameter sets, raw AAC frames), into one
//! *sample object* per rendition in the engine's ingest bucket, streamed to the object store as
//! they are produced. The [`TrackIndex`] entries point into those objects exactly as they point
//! into an MP4 file, so packaging does not know where an asset came from. Memory stays bounded
//! by one segment read chunk, the demuxer's limits and the sample index itself.
//!
//! The pure parts (playlist checks, decoder configuration records, the sample builder) are
//! unit-tested; the async driver only reads and writes bytes.

use crate::index::{IdxSample, MAX_SOURCES, MAX_TRACKS_PER_SOURCE, TrackCodec, TrackIndex};
use bytes::{Bytes, BytesMut};
use reelay_blob::{BlobStore, ObjectAttrs};
use reelay_format_ts::{AccessUnit, Demuxer, Event, StreamType, annexb};
use reelay_manifest_hls::{self as hls, KeyMethod, Playlist};

/// Largest playlist read (the parser's own limit is the same order).
const MAX_PLAYLIST_BYTES: u64 = 4 * 1024 * 1024;
/// Most segments in one media playlist (a 24-hour rendition of 2 s segments is 43,200).
const MAX_SEGMENTS: usize = 100_000;
/// Most samples of one track (the MP4 path's limit).
const MAX_SAMPLES: usize = 1 << 22;
/// Bytes read from a segment per request and fed to the demuxer at once (below its backlog).
const READ_CHUNK: u64 = 1024 * 1024;
/// Bytes gathered before a chunk of the sample object is handed to the object store.
const WRITE_CHUNK: usize = 256 * 1024;
/// Largest parameter set kept for a decoder configuration record.
const MAX_PARAMETER_SET: usize = 4096;
/// 2^33: the wrap of 90 kHz PES timestamps (ISO/IEC 13818-1 §2.4.3.7).
const WRAP: u64 = 1 << 33;

/// Where the sample objects of one asset go.
#[derive(Debug, Clone)]
pub struct SampleObjects {
    /// Bucket (created on first use, owned by the asset's account).
    pub bucket: String,
    /// Key prefix; rendition `n` is written to `<prefix><n>.samples`.
    pub prefix: String,
    /// Owner and region of the bucket when it has to be created.
    pub owner: String,
    /// See `owner`.
    pub region: String,
}

impl SampleObjects {
    /// `reelay-mediapackage-vod-ingest-<account>`, keys `<region>/<asset egress id>/<n>.samples`
    /// (the egress id is never reused, so a re-created asset never reads stale samples).
    pub fn for_asset(account: &str, region: &str, asset_egress_id: &str) -> Self {
        let (bucket, prefix) = reelay_api_mediapackage_vod::ingest::sample_objects_location(
            account,
            region,
            asset_egress_id,
        );
        Self {
            bucket,
            prefix,
            owner: account.to_string(),
            region: region.to_string(),
        }
    }

    pub(crate) async fn ensure_bucket(&self, blob: &BlobStore) -> Result<(), String> {
        match blob
            .create_bucket(&self.bucket, &self.owner, &self.region)
            .await
        {
            Ok(_) | Err(reelay_blob::Error::BucketAlreadyOwnedByYou { .. }) => Ok(()),
            Err(reelay_blob::Error::BucketAlreadyExists { .. }) => Err(format!(
                "the ingest bucket '{}' belongs to another account",
                self.bucket
            )),
            Err(e) => Err(format!(
                "cannot create the ingest bucket '{}': {e}",
                self.bucket
            )),
        }
    }
}

/// A media playlist of the source: its key and the byte ranges of its segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendition {
    /// Object key of the media playlist.
    pub key: String,
    /// Resolution announced by the multivariant playlist, used when the SPS cannot be read.
    pub resolution: Option<(u32, u32)>,
}

/// Turns a URI of a playlist into an object key of the same bucket, or refuses it.
pub fn object_key(playlist_key: &str, uri: &str) -> Result<String, String> {
    // Anything with a scheme or an authority leaves the bucket; an absolute path would name
    // the bucket root, which the source's own directory is not.
    let has_scheme = uri
        .split_once(':')
        .is_some_and(|(s, _)| !s.is_empty() && !s.contains('/'));
    if has_scheme || uri.starts_with('/') || uri.contains('?') || uri.contains('#') {
        return Err(format!(
            "playlist '{playlist_key}' names '{uri}': segments and renditions must be relative paths in the source's bucket"
        ));
    }
    let key = hls::resolve_uri(playlist_key, uri);
    if key.is_empty() || key.starts_with('/') || key.ends_with('/') {
        return Err(format!(
            "playlist '{playlist_key}' names '{uri}', which is not an object key"
        ));
    }
    Ok(key)
}

/// The renditions a multivariant playlist names: every variant, then every audio rendition
/// with a URI (`EXT-X-MEDIA:TYPE=AUDIO`), without duplicates. A media playlist given as the
/// source is its own single rendition.
pub fn renditions(text: &[u8], key: &str) -> Result<Vec<Rendition>, String> {
    let playlist =
        hls::parse(text, None).map_err(|e| format!("playlist '{key}' is invalid: {e}"))?;
    let mv = match playlist {
        Playlist::Multivariant(mv) => mv,
        Playlist::Media(_) => {
            return Ok(vec![Rendition {
                key: key.to_string(),
                resolution: None,
            }]);
        }
        _ => {
            return Err(format!(
                "playlist '{key}' is neither a multivariant nor a media playlist"
            ));
        }
    };
    let mut out: Vec<Rendition> = Vec::new();
    let mut add = |uri: &str, resolution: Option<(u32, u32)>| -> Result<(), String> {
        let k = object_key(key, uri)?;
        if !out.iter().any(|r| r.key == k) {
            out.push(Rendition { key: k, resolution });
        }
        if out.len() > MAX_SOURCES {
            return Err(format!(
                "MaxIngestStreamsError: Parent Manifest [{key}] has more than [{MAX_SOURCES}] streams"
            ));
        }
        Ok(())
    };
    for v in &mv.variants {
        let res = v
            .resolution
            .and_then(|r| Some((u32::try_from(r.width).ok()?, u32::try_from(r.height).ok()?)));
        add(&v.uri, res)?;
    }
    for r in &mv.renditions {
        if r.kind == hls::MediaType::Audio
            && let Some(uri) = &r.uri
        {
            add(uri, None)?;
        }
    }
    if out.is_empty() {
        return Err(format!("playlist '{key}' lists no rendition"));
    }
    Ok(out)
}

/// One segment to read: key and byte range (`None` for the whole object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRef {
    /// Object key.
    pub key: String,
    /// `EXT-X-BYTERANGE`, as start..end.
    pub range: Option<std::ops::Range<u64>>,
}

/// The segments of a media playlist, refusing what reelay cannot ingest.
pub fn segments(text: &[u8], key: &str) -> Result<Vec<SegmentRef>, String> {
    let pl = hls::parse_media(text, None)
        .map_err(|e| format!("media playlist '{key}' is invalid: {e}"))?;
    if pl.segments.len() > MAX_SEGMENTS {
        return Err(format!(
            "media playlist '{key}' has {} segments, more than the {MAX_SEGMENTS} reelay ingests",
            pl.segments.len()
        ));
    }
    if pl.segments.is_empty() {
        return Err(format!("media playlist '{key}' has no segment"));
    }
    if !pl.end_list && pl.playlist_type != Some(hls::PlaylistType::Vod) {
        return Err(format!(
            "media playlist '{key}' is not complete (no EXT-X-ENDLIST): a VOD source must be"
        ));
    }
    let mut out = Vec::with_capacity(pl.segments.len());
    let mut next_offset = 0u64;
    for (n, s) in pl.segments.iter().enumerate() {
        if let Some(k) = s.keys.iter().find(|k| k.method != KeyMethod::None) {
            return Err(format!(
                "media playlist '{key}' is encrypted (EXT-X-KEY METHOD={}): MediaPackage VOD accepts only unencrypted sources",
                match k.method {
                    KeyMethod::Aes128 => "AES-128",
                    KeyMethod::SampleAes => "SAMPLE-AES",
                    _ => "other",
                }
            ));
        }
        if s.map.is_some() {
            return Err(format!(
                "media playlist '{key}' has fMP4 segments (EXT-X-MAP): HLS sources must have MPEG-TS segments"
            ));
        }
        if s.discontinuity && n > 0 {
            return Err(format!(
                "media playlist '{key}' has a discontinuity (EXT-X-DISCONTINUITY) at segment {}: reelay ingests one continuous timeline",
                n + 1
            ));
        }
        let seg_key = object_key(key, &s.uri)?;
        let range = s.byte_range.map(|b| {
            let start = b.offset.unwrap_or(next_offset);
            next_offset = start.saturating_add(b.length);
            start..next_offset
        });
        out.push(SegmentRef {
            key: seg_key,
            range,
        });
    }
    Ok(out)
}

/// Reads a whole small object (a playlist).
async fn read_small(blob: &BlobStore, bucket: &str, key: &str) -> Result<Bytes, String> {
    let info = blob
        .head_object(bucket, key)
        .await
        .map_err(|e| crate::source::blob_error(key, e))?;
    if info.size > MAX_PLAYLIST_BYTES {
        return Err(format!(
            "playlist '{key}' is {} bytes, more than the {MAX_PLAYLIST_BYTES} reelay reads",
            info.size
        ));
    }
    blob.read_range(bucket, key, 0..info.size)
        .await
        .map_err(|e| crate::source::blob_error(key, e))
}

/// Ingests the `.m3u8` at `bucket/key`: returns the sample objects' bucket, their keys (one per
/// rendition, the index's sources) and the tracks.
pub async fn ingest(
    blob: &BlobStore,
    bucket: &str,
    key: &str,
    out: &SampleObjects,
) -> Result<(Vec<String>, Vec<TrackIndex>), String> {
    let text = read_small(blob, bucket, key).await?;
    let list = renditions(&text, key)?;
    out.ensure_bucket(blob).await?;
    let mut keys = Vec::new();
    let mut tracks = Vec::new();
    for (n, r) in list.iter().enumerate() {
        let text = if r.key == key {
            text.clone()
        } else {
            read_small(blob, bucket, &r.key).await?
        };
        let segs = segments(&text, &r.key)?;
        let sample_key = format!("{}{n}.samples", out.prefix);
        // `n` < MAX_SOURCES, checked by `renditions`.
        let source = u32::try_from(n).unwrap_or(u32::MAX);
        let found = remux(
            blob,
            bucket,
            &r.key,
            &segs,
            &out.bucket,
            &sample_key,
            source,
            r,
        )
        .await?;
        tracks.extend(found);
        keys.push(sample_key);
    }
    // One timeline for every rendition: presentation starts at the first video sample.
    let start = tracks
        .iter()
        .filter(|t| t.codec.is_video())
        .filter_map(|t| t.samples.first().map(|s| (s.pts(), t.timescale)))
        .map(|(pts, ts)| i128::from(pts) * 90_000 / i128::from(ts.max(1)))
        .min()
        .unwrap_or(0);
    for t in &mut tracks {
        let v = start * i128::from(t.timescale) / 90_000;
        t.media_time = i64::try_from(v).unwrap_or(0);
    }
    Ok((keys, tracks))
}

type Chunk = std::io::Result<Bytes>;

/// Demuxes one rendition's segments into a sample object; returns its tracks.
#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename them
async fn remux(
    blob: &BlobStore,
    bucket: &str,
    playlist: &str,
    segs: &[SegmentRef],
    out_bucket: &str,
    out_key: &str,
    source: u32,
    rendition: &Rendition,
) -> Result<Vec<TrackIndex>, String> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Chunk>(4);
    let body =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    // The writer consumes what the demuxer produces, in the same task (no copy of the whole
    // rendition is ever held: the channel holds at most 4 chunks).
    let writer = blob.put_object(out_bucket, out_key, Box::pin(body), ObjectAttrs::default());
    let producer = async move {
        let result = demux_all(blob, bucket, playlist, segs, source, rendition, &tx).await;
        if let Err(e) = &result {
            // Makes the upload fail, so no partial sample object is left behind.
            let _ = tx.send(Err(std::io::Error::other(e.clone()))).await;
        }
        result
    };
    let (written, result) = tokio::join!(writer, producer);
    let tracks = result?;
    written.map_err(|e| format!("cannot write the samples of '{playlist}': {e}"))?;
    Ok(tracks)
}

async fn demux_all(
    blob: &BlobStore,
    bucket: &str,
    playlist: &str,
    segs: &[SegmentRef],
    source: u32,
    rendition: &Rendition,
    tx: &tokio::sync::mpsc::Sender<Chunk>,
) -> Result<Vec<TrackIndex>, String> {
    let mut builder = RenditionBuilder::new(playlist, source, rendition.resolution);
    let closed = || format!("writing the samples of '{playlist}' stopped");
    for seg in segs {
        let size = blob
            .head_object(bucket, &seg.key)
            .await
            .map_err(|e| crate::source::blob_error(&seg.key, e))?
            .size;
        let range = match &seg.range {
            Some(r) if r.end > size => {
                return Err(format!(
                    "segment '{}' is truncated: its byte range ends at {} but the object has {size} bytes",
                    seg.key, r.end
                ));
            }
            Some(r) => r.clone(),
            None => 0..size,
        };
        builder.start_segment(&seg.key);
        let mut demux = Demuxer::new();
        let mut at = range.start;
        while at < range.end {
            let end = at.saturating_add(READ_CHUNK).min(range.end);
            let buf = blob
                .read_range(bucket, &seg.key, at..end)
                .await
                .map_err(|e| crate::source::blob_error(&seg.key, e))?;
            at = end;
            demux
                .push(&buf)
                .map_err(|e| format!("segment '{}': {e}", seg.key))?;
            while let Some(ev) = demux.poll() {
                builder.event(ev)?;
            }
            if builder.pending() >= WRITE_CHUNK && tx.send(Ok(builder.take())).await.is_err() {
                return Err(closed());
            }
        }
        demux.finish();
        while let Some(ev) = demux.poll() {
            builder.event(ev)?;
        }
        builder.end_segment()?;
        if builder.pending() > 0 && tx.send(Ok(builder.take())).await.is_err() {
            return Err(closed());
        }
    }
    builder.finish()
}

/// One elementary stream being indexed.
#[derive(Debug)]
struct Stream {
    pid: u16,
    codec: TrackCodec,
    /// avcC / hvcC / AudioSpecificConfig, from the first keyframe / frame.
    config: Option<Vec<u8>>,
    /// Parameter sets of the configuration, to notice a change.
    params: Vec<Vec<u8>>,
    width: u32,
    height: u32,
    sample_rate: u32,
    channels: u16,
    /// Decode and presentation times (unwrapped, in the track timescale), offset, size, sync.
    samples: Vec<(u64, u64, u64, u32, bool)>,
    last_raw_dts: Option<u64>,
    wraps: u64,
}

/// The pure core of one rendition's remux: demuxer events in, sample bytes and index out.
#[derive(Debug)]
pub struct RenditionBuilder {
    playlist: String,
    source: u32,
    resolution: Option<(u32, u32)>,
    streams: Vec<Stream>,
    /// Sample bytes not yet handed out.
    buf: BytesMut,
    /// Bytes written so far (handed out or pending).
    written: u64,
    segment: String,
    /// Access units seen in the current segment.
    segment_units: usize,
}

impl RenditionBuilder {
    /// A builder for rendition `source` of the media playlist `playlist`.
    pub fn new(playlist: &str, source: u32, resolution: Option<(u32, u32)>) -> Self {
        Self {
            playlist: playlist.to_string(),
            source,
            resolution,
            streams: Vec::new(),
            buf: BytesMut::new(),
            written: 0,
            segment: String::new(),
            segment_units: 0,
        }
    }

    /// Bytes waiting to be written.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// The bytes waiting to be written, in order.
    pub fn take(&mut self) -> Bytes {
        self.buf.split().freeze()
    }

    fn start_segment(&mut self, key: &str) {
        self.segment = key.to_string();
        self.segment_units = 0;
    }

    fn end_segment(&mut self) -> Result<(), String> {
        if self.segment_units == 0 {
            return Err(format!(
                "segment '{}' holds no H.264, H.265 or AAC sample: it is not an MPEG-TS segment, or it is truncated",
                self.segment
            ));
        }
        Ok(())
    }

    fn encrypted(&self) -> String {
        format!(
            "segment '{}' of '{}' is encrypted (scrambled or SAMPLE-AES streams): MediaPackage VOD accepts only unencrypted sources",
            self.segment, self.playlist
        )
    }

    /// Handles one demuxer event.
    pub fn event(&mut self, ev: Event) -> Result<(), String> {
        match ev {
            Event::Program(p) => {
                for s in &p.streams {
                    if s.encrypted || s.stream_type.is_sample_aes() {
                        return Err(self.encrypted());
                    }
                    let codec = match s.stream_type {
                        StreamType::H264 => TrackCodec::Avc,
                        StreamType::H265 => TrackCodec::Hevc,
                        StreamType::AacAdts => TrackCodec::Aac,
                        // Timed metadata and private data are not media.
                        StreamType::Id3 | StreamType::Other(0x05 | 0x06 | 0x86) => continue,
                        other => {
                            return Err(format!(
                                "segment '{}' carries stream type 0x{:02x}: reelay ingests H.264, H.265 and AAC",
                                self.segment,
                                other.to_u8()
                            ));
                        }
                    };
                    if !self.streams.iter().any(|x| x.pid == s.pid) {
                        if self.streams.len() >= MAX_TRACKS_PER_SOURCE {
                            return Err(format!(
                                "rendition '{}' has more than {MAX_TRACKS_PER_SOURCE} tracks",
                                self.playlist
                            ));
                        }
                        self.streams.push(Stream {
                            pid: s.pid,
                            codec,
                            config: None,
                            params: Vec::new(),
                            width: 0,
                            height: 0,
                            sample_rate: 0,
                            channels: 0,
                            samples: Vec::new(),
                            last_raw_dts: None,
                            wraps: 0,
                        });
                    }
                }
                Ok(())
            }
            Event::Scrambled { .. } => Err(self.encrypted()),
            Event::AccessUnit(au) => self.access_unit(au),
            // Damage inside a segment: the samples that survive are still valid; a segment
            // with none left fails in `end_segment`.
            _ => Ok(()),
        }
    }

    fn access_unit(&mut self, au: AccessUnit) -> Result<(), String> {
        let Some(i) = self.streams.iter().position(|s| s.pid == au.pid) else {
            return Ok(());
        };
        let segment = self.segment.clone();
        let resolution = self.resolution;
        let st = &mut self.streams[i];
        let (Some(pts), Some(dts)) = (au.pts, au.dts) else {
            // Without a timestamp a sample cannot be placed (HLS requires them, RFC 8216 §3.2).
            return Err(format!(
                "segment '{segment}' has a PES packet without a timestamp on PID {}",
                au.pid
            ));
        };
        let payload: Vec<u8> = match st.codec {
            TrackCodec::Avc | TrackCodec::Hevc => {
                let hevc = st.codec == TrackCodec::Hevc;
                let mut params = Vec::new();
                let mut out = Vec::with_capacity(au.data.len() + 16);
                for nal in annexb::nal_units(&au.data) {
                    let kind = nal_kind(nal, hevc);
                    match kind {
                        NalKind::ParameterSet => params.push(nal.to_vec()),
                        NalKind::Delimiter => {}
                        NalKind::Other => {
                            let len = u32::try_from(nal.len()).unwrap_or(u32::MAX);
                            out.extend_from_slice(&len.to_be_bytes());
                            out.extend_from_slice(nal);
                        }
                    }
                }
                if !params.is_empty() {
                    if st.config.is_none() {
                        let (config, w, h) = video_config(&params, hevc, resolution)
                            .map_err(|e| format!("segment '{segment}': {e}"))?;
                        st.config = Some(config);
                        st.params = params;
                        st.width = w;
                        st.height = h;
                    } else if sorted(&params) != sorted(&st.params)
                        && !params.iter().all(|p| st.params.contains(p))
                    {
                        return Err(format!(
                            "segment '{segment}': the video parameter sets change within the rendition; reelay needs one decoder configuration per rendition"
                        ));
                    }
                }
                if st.config.is_none() {
                    // Frames before the first parameter sets cannot be decoded: skip them.
                    return Ok(());
                }
                out
            }
            TrackCodec::Aac => {
                let Some(aac) = au.aac else {
                    return Ok(());
                };
                let asc = aac.audio_specific_config().to_vec();
                match &st.config {
                    None => {
                        st.config = Some(asc);
                        st.sample_rate = aac.sample_rate();
                        st.channels = u16::from(aac.channel_configuration);
                    }
                    Some(c) if *c != asc => {
                        return Err(format!(
                            "segment '{segment}': the AAC configuration changes within the rendition"
                        ));
                    }
                    Some(_) => {}
                }
                au.data.to_vec()
            }
        };
        if payload.is_empty() {
            return Ok(());
        }
        // 33-bit timestamps wrap about every 26.5 hours; unwrap against the previous one.
        if let Some(last) = st.last_raw_dts
            && dts + WRAP / 2 < last
        {
            st.wraps += 1;
        }
        st.last_raw_dts = Some(dts);
        let base = st.wraps * WRAP;
        let (mut dts_u, mut pts_u) = (base + dts, base + pts);
        if pts + WRAP / 2 < dts {
            pts_u += WRAP;
        }
        if st.codec == TrackCodec::Aac {
            // Audio keeps its own sample-rate timescale, so frame durations are exact.
            let rate = u64::from(st.sample_rate.max(1));
            dts_u = (u128::from(dts_u) * u128::from(rate) / 90_000) as u64;
            pts_u = dts_u;
        }
        if let Some(&(prev, ..)) = st.samples.last()
            && dts_u <= prev
        {
            return Err(format!(
                "segment '{segment}': decode timestamps go backwards on PID {} ({prev} then {dts_u})",
                au.pid
            ));
        }
        if st.samples.len() >= MAX_SAMPLES {
            return Err(format!(
                "rendition '{}' has more than {MAX_SAMPLES} samples in one track",
                self.playlist
            ));
        }
        let size = u32::try_from(payload.len()).map_err(|_| "sample too large".to_string())?;
        st.samples
            .push((dts_u, pts_u, self.written, size, au.keyframe));
        self.written += u64::from(size);
        self.buf.extend_from_slice(&payload);
        self.segment_units += 1;
        Ok(())
    }

    /// The tracks (`media_time` 0; the caller aligns renditions).
    pub fn finish(self) -> Result<Vec<TrackIndex>, String> {
        let mut out = Vec::new();
        for st in self.streams {
            let Some(config) = st.config else {
                if st.samples.is_empty() && st.codec.is_video() {
                    return Err(format!(
                        "rendition '{}': the video stream never carries its parameter sets (SPS/PPS)",
                        self.playlist
                    ));
                }
                continue;
            };
            if st.samples.is_empty() {
                continue;
            }
            let timescale = if st.codec == TrackCodec::Aac {
                st.sample_rate.max(1)
            } else {
                90_000
            };
            let n = st.samples.len();
            let mut samples = Vec::with_capacity(n);
            for k in 0..n {
                let (dts, pts, offset, size, sync) = st.samples[k];
                let duration = match st.samples.get(k + 1) {
                    Some(next) => next.0 - dts,
                    None if k > 0 => dts - st.samples[k - 1].0,
                    None if st.codec == TrackCodec::Aac => 1024,
                    None => 3600,
                };
                let cts = i64::try_from(pts).unwrap_or(0) - i64::try_from(dts).unwrap_or(0);
                samples.push(IdxSample {
                    offset,
                    size,
                    dts,
                    cts: i32::try_from(cts).map_err(|_| {
                        format!(
                            "rendition '{}': a composition offset is out of range",
                            self.playlist
                        )
                    })?,
                    duration: u32::try_from(duration).map_err(|_| {
                        format!(
                            "rendition '{}': a gap of {duration} ticks between samples",
                            self.playlist
                        )
                    })?,
                    // Every AAC frame is a random access point.
                    sync: sync || st.codec == TrackCodec::Aac,
                });
            }
            let fourcc = match st.codec {
                TrackCodec::Avc => *b"avc1",
                TrackCodec::Hevc => *b"hvc1",
                TrackCodec::Aac => *b"mp4a",
            };
            out.push(TrackIndex {
                source: self.source,
                track_id: u32::from(st.pid),
                codec: st.codec,
                fourcc,
                config,
                width: st.width,
                height: st.height,
                timescale,
                sample_rate: st.sample_rate,
                channels: st.channels,
                language: None,
                media_time: 0,
                samples,
            });
        }
        Ok(out)
    }
}

fn sorted(v: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut v = v.to_vec();
    v.sort();
    v
}

#[derive(Debug, PartialEq, Eq)]
enum NalKind {
    ParameterSet,
    Delimiter,
    Other,
}

fn nal_kind(nal: &[u8], hevc: bool) -> NalKind {
    let Some(&h) = nal.first() else {
        return NalKind::Other;
    };
    if hevc {
        // H.265 §7.4.2.2: nal_unit_type is bits 1..6 of the first byte; 32-34 VPS/SPS/PPS, 35 AUD.
        match (h >> 1) & 0x3f {
            32..=34 => NalKind::ParameterSet,
            35 => NalKind::Delimiter,
            _ => NalKind::Other,
        }
    } else {
        // H.264 Table 7-1: 7 SPS, 8 PPS, 9 access unit delimiter.
        match h & 0x1f {
            7 | 8 => NalKind::ParameterSet,
            9 => NalKind::Delimiter,
            _ => NalKind::Other,
        }
    }
}

/// The decoder configuration record and picture size from in-band parameter sets.
pub fn video_config(
    params: &[Vec<u8>],
    hevc: bool,
    resolution: Option<(u32, u32)>,
) -> Result<(Vec<u8>, u32, u32), String> {
    if params.iter().any(|p| p.len() > MAX_PARAMETER_SET) || params.len() > 16 {
        return Err("oversized video parameter sets".into());
    }
    let of = |t: &[u8]| -> Vec<&Vec<u8>> {
        params
            .iter()
            .filter(|p| {
                let k = if hevc {
                    (p[0] >> 1) & 0x3f
                } else {
                    p[0] & 0x1f
                };
                t.contains(&k)
            })
            .collect()
    };
    if hevc {
        let (vps, sps, pps) = (of(&[32]), of(&[33]), of(&[34]));
        let (Some(first_sps), false, false) = (sps.first(), vps.is_empty(), pps.is_empty()) else {
            return Err("H.265 stream without VPS, SPS and PPS at its first keyframe".into());
        };
        let rbsp = unescape(first_sps);
        // §7.3.2.2: 2-byte NAL header, then one byte (VPS id, max_sub_layers_minus1, nesting),
        // then profile_tier_level's general part: 12 bytes (§7.3.3).
        let ptl = rbsp
            .get(3..15)
            .ok_or("H.265 SPS too short for its profile_tier_level")?;
        let (w, h) = resolution.ok_or(
            "H.265 rendition without RESOLUTION in the multivariant playlist: reelay reads the picture size from there",
        )?;
        let mut c = Vec::with_capacity(64);
        c.push(1); // configurationVersion (ISO/IEC 14496-15 §8.3.3.1.2)
        c.extend_from_slice(ptl); // profile space/tier/idc, compat flags, constraints, level
        c.extend_from_slice(&[0xF0, 0x00]); // min_spatial_segmentation_idc 0
        c.push(0xFC); // parallelismType 0
        c.push(0xFD); // chroma_format_idc 1 (4:2:0)
        c.push(0xF8); // bit_depth_luma_minus8 0
        c.push(0xF8); // bit_depth_chroma_minus8 0
        c.extend_from_slice(&[0, 0]); // avgFrameRate unknown
        c.push(0x0F); // constantFrameRate 0, numTemporalLayers 1, nested 1, lengthSizeMinusOne 3
        c.push(3);
        for (kind, list) in [(32u8, &vps), (33, &sps), (34, &pps)] {
            c.push(0x80 | kind); // array_completeness 1
            c.extend_from_slice(&(list.len() as u16).to_be_bytes());
            for p in list.iter() {
                c.extend_from_slice(&(p.len() as u16).to_be_bytes());
                c.extend_from_slice(p);
            }
        }
        return Ok((c, w, h));
    }
    let (sps, pps) = (of(&[7]), of(&[8]));
    let (Some(first), false) = (sps.first(), pps.is_empty()) else {
        return Err("H.264 stream without SPS and PPS at its first keyframe".into());
    };
    if first.len() < 4 || sps.len() > 31 {
        return Err("malformed H.264 SPS".into());
    }
    let (w, h) = match h264_size(first) {
        Some(s) => s,
        None => resolution.ok_or("cannot read the picture size from the H.264 SPS")?,
    };
    // ISO/IEC 14496-15 §5.3.3.1.2 AVCDecoderConfigurationRecord.
    let mut c = vec![
        1,
        first[1],
        first[2],
        first[3],
        0xFF,
        0xE0 | sps.len() as u8,
    ];
    for s in &sps {
        c.extend_from_slice(&(s.len() as u16).to_be_bytes());
        c.extend_from_slice(s);
    }
    c.push(u8::try_from(pps.len()).map_err(|_| "too many PPS")?);
    for p in &pps {
        c.extend_from_slice(&(p.len() as u16).to_be_bytes());
        c.extend_from_slice(p);
    }
    Ok((c, w, h))
}

use reelay_format_mp4::h264::unescape;

/// Picture width and height from an H.264 SPS NAL unit (header included), after cropping
/// (the shared parser of `reelay_format_mp4::h264`, §7.3.2.1.1).
pub fn h264_size(sps: &[u8]) -> Option<(u32, u32)> {
    reelay_format_mp4::h264::parse_sps(sps)
        .map(|i| (i.width, i.height))
        .filter(|&(w, h)| w > 0 && h > 0 && w <= 16384 && h <= 16384)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reelay_format_ts::{AacConfig, Muxer, MuxerConfig, Sample, VideoCodec, VideoTrack};

    // 320x240 High profile SPS and a PPS, as libx264 writes them.
    const SPS: &[u8] = &[
        0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9, 0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00,
        0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x42, 0x99, 0x60,
    ];
    const PPS: &[u8] = &[0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0];

    #[test]
    fn sps_size_and_avcc() {
        assert_eq!(h264_size(SPS), Some((320, 240)));
        let (c, w, h) = video_config(&[SPS.to_vec(), PPS.to_vec()], false, None).unwrap();
        assert_eq!((w, h), (320, 240));
        assert_eq!(&c[..6], &[1, 0x64, 0x00, 0x0d, 0xff, 0xe1]);
        assert!(reelay_manifest_hls::codecs::avc(b"avc1", &c).is_ok());
        // Hostile SPS bytes never panic.
        for n in 0..SPS.len() {
            let _ = h264_size(&SPS[..n]);
            let mut m = SPS.to_vec();
            m[n] ^= 0xff;
            let _ = h264_size(&m);
        }
        assert!(video_config(&[SPS.to_vec()], false, None).is_err());
        assert!(video_config(&[SPS.to_vec(), PPS.to_vec()], true, None).is_err());
    }

    #[test]
    fn playlist_uris_stay_in_the_bucket() {
        assert_eq!(
            object_key("a/b/index.m3u8", "v0/x.m3u8").unwrap(),
            "a/b/v0/x.m3u8"
        );
        assert_eq!(object_key("a/b/index.m3u8", "../c.ts").unwrap(), "a/c.ts");
        for bad in [
            "http://evil/x.ts",
            "s3://b/x.ts",
            "/etc/x.ts",
            "//host/x.ts",
            "x.ts?a=1",
        ] {
            assert!(object_key("a/index.m3u8", bad).is_err(), "{bad}");
        }
        let mv =
            b"#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"en\",URI=\"audio.m3u8\"\n\
#EXT-X-STREAM-INF:BANDWIDTH=1000,RESOLUTION=320x240,AUDIO=\"a\"\nlo.m3u8\n\
#EXT-X-STREAM-INF:BANDWIDTH=2000,AUDIO=\"a\"\nhi.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2000\nhi.m3u8\n";
        let r = renditions(mv, "s/index.m3u8").unwrap();
        let keys: Vec<_> = r.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["s/lo.m3u8", "s/hi.m3u8", "s/audio.m3u8"]);
        assert_eq!(r[0].resolution, Some((320, 240)));
        let evil = b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhttp://x/y.m3u8\n";
        assert!(
            renditions(evil, "index.m3u8")
                .unwrap_err()
                .contains("relative")
        );
    }

    #[test]
    fn media_playlists_refuse_keys_maps_and_live() {
        let ok = b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n#EXT-X-BYTERANGE:100@0\n#EXTINF:2,\nb.ts\n#EXT-X-BYTERANGE:50\n#EXTINF:2,\nb.ts\n#EXT-X-ENDLIST\n";
        let s = segments(ok, "d/p.m3u8").unwrap();
        assert_eq!(
            s[0],
            SegmentRef {
                key: "d/a.ts".into(),
                range: None
            }
        );
        assert_eq!(s[1].range, Some(0..100));
        assert_eq!(s[2].range, Some(100..150));
        let key = b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\"\n#EXTINF:2,\na.ts\n#EXT-X-ENDLIST\n";
        assert!(segments(key, "p.m3u8").unwrap_err().contains("encrypted"));
        let map = b"#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI=\"i.mp4\"\n#EXTINF:2,\na.m4s\n#EXT-X-ENDLIST\n";
        assert!(segments(map, "p.m3u8").unwrap_err().contains("MPEG-TS"));
        let live = b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n";
        assert!(segments(live, "p.m3u8").unwrap_err().contains("ENDLIST"));
    }

    /// TS written by reelay's muxer comes back as the same samples.
    #[test]
    fn remux_round_trip() {
        let (avcc, _, _) = video_config(&[SPS.to_vec(), PPS.to_vec()], false, None).unwrap();
        let aac = AacConfig::from_audio_specific_config(&[0x11, 0x90]).unwrap();
        let config = MuxerConfig::default()
            .with_video(VideoTrack::LengthPrefixed {
                codec: VideoCodec::H264,
                record: Bytes::from(avcc.clone()),
            })
            .with_audio(aac);
        let mut mux = Muxer::new(config).unwrap();
        let mut ts = mux.write_pat_pmt().to_vec();
        let frame = |i: u8| -> Vec<u8> {
            let body = vec![if i == 0 { 0x65 } else { 0x41 }, i, 1, 2, 3];
            let mut v = (body.len() as u32).to_be_bytes().to_vec();
            v.extend_from_slice(&body);
            v
        };
        for i in 0..10u8 {
            let dts = 126_000 + u64::from(i) * 3600;
            let data = frame(i);
            ts.extend_from_slice(
                &mux.write_sample(&Sample::video(dts + 7200, dts, i == 0, &data))
                    .unwrap(),
            );
            let a = [0x21u8, i, 0x55];
            ts.extend_from_slice(
                &mux.write_sample(&Sample::audio(126_000 + u64::from(i) * 1920, &a))
                    .unwrap(),
            );
        }
        let mut b = RenditionBuilder::new("p.m3u8", 0, None);
        b.start_segment("a.ts");
        let mut d = Demuxer::new();
        d.push(&ts).unwrap();
        d.finish();
        while let Some(ev) = d.poll() {
            b.event(ev).unwrap();
        }
        b.end_segment().unwrap();
        let bytes = b.take();
        let tracks = b.finish().unwrap();
        assert_eq!(tracks.len(), 2);
        let v = tracks.iter().find(|t| t.codec == TrackCodec::Avc).unwrap();
        assert_eq!(v.config, avcc);
        assert_eq!((v.width, v.height, v.timescale), (320, 240, 90_000));
        assert_eq!(v.samples.len(), 10);
        assert!(v.samples[0].sync && !v.samples[1].sync);
        assert_eq!(v.samples[0].cts, 7200);
        assert_eq!(v.samples[3].duration, 3600);
        for (i, s) in v.samples.iter().enumerate() {
            let got = &bytes[s.offset as usize..(s.offset + u64::from(s.size)) as usize];
            assert_eq!(got, frame(i as u8).as_slice(), "video sample {i}");
        }
        let a = tracks.iter().find(|t| t.codec == TrackCodec::Aac).unwrap();
        assert_eq!((a.timescale, a.channels), (48_000, 2));
        assert_eq!(a.config, vec![0x11, 0x90]);
        assert_eq!(a.samples.len(), 10);
        assert_eq!(a.samples[1].duration, 1024);
        let s = a.samples[4];
        assert_eq!(&bytes[s.offset as usize..][..3], &[0x21, 4, 0x55]);
    }

    #[test]
    fn scrambled_and_empty_segments_fail() {
        let mut b = RenditionBuilder::new("p.m3u8", 0, None);
        b.start_segment("a.ts");
        assert!(
            b.event(Event::Scrambled { pid: 256 })
                .unwrap_err()
                .contains("encrypted")
        );
        assert!(b.end_segment().unwrap_err().contains("no H.264"));
    }
}
