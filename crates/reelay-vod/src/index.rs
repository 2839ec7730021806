//! The compact per-asset sample index, and its binary encoding for the store.
//!
//! Ingest parses each source's `moov` once and keeps, per track, the codec configuration and one
//! fixed-size entry per sample (file offset, size, decode time, composition offset, duration,
//! sync flag). Packaging is then a pure function of this index, the configuration and byte
//! ranges of the sources. The encoding is versioned (`RVIX` + version byte) and every count is
//! checked against the bytes that remain before anything is allocated.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

/// Most sources in one asset (MediaPackage's "20 ingest streams per asset", UG:vod-quotas).
pub const MAX_SOURCES: usize = 20;
/// Most tracks kept per source ("10 tracks per stream", UG:vod-quotas).
pub const MAX_TRACKS_PER_SOURCE: usize = 10;
/// Bytes of one encoded sample.
const SAMPLE_BYTES: usize = 8 + 4 + 8 + 4 + 4 + 1;
const MAGIC: &[u8; 4] = b"RVIX";
const ENCODING_VERSION: u8 = 1;

/// The codec of an indexed track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackCodec {
    /// H.264 (`avc1` / `avc3`, config = `avcC` payload).
    Avc,
    /// H.265 (`hvc1` / `hev1`, config = `hvcC` payload).
    Hevc,
    /// AAC (`mp4a`, config = AudioSpecificConfig).
    Aac,
}

impl TrackCodec {
    fn to_byte(self) -> u8 {
        match self {
            TrackCodec::Avc => 1,
            TrackCodec::Hevc => 2,
            TrackCodec::Aac => 3,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(TrackCodec::Avc),
            2 => Some(TrackCodec::Hevc),
            3 => Some(TrackCodec::Aac),
            _ => None,
        }
    }

    /// Whether this is a video codec.
    pub fn is_video(self) -> bool {
        matches!(self, TrackCodec::Avc | TrackCodec::Hevc)
    }
}

/// One sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdxSample {
    /// File offset of the sample data.
    pub offset: u64,
    /// Size in bytes.
    pub size: u32,
    /// Decode time in the track timescale.
    pub dts: u64,
    /// Composition offset (pts = dts + cts).
    pub cts: i32,
    /// Duration in the track timescale.
    pub duration: u32,
    /// Random access point.
    pub sync: bool,
}

impl IdxSample {
    /// Presentation time in the track timescale, before the edit list.
    pub fn pts(&self) -> i64 {
        i64::try_from(self.dts)
            .unwrap_or(i64::MAX)
            .saturating_add(i64::from(self.cts))
    }
}

/// One track of one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackIndex {
    /// Index into [`AssetIndex::sources`].
    pub source: u32,
    /// `track_ID` in the source.
    pub track_id: u32,
    /// Codec.
    pub codec: TrackCodec,
    /// Sample entry type (`avc1`, `hvc1`, `mp4a`, ...).
    pub fourcc: [u8; 4],
    /// Decoder configuration (see [`TrackCodec`]).
    pub config: Vec<u8>,
    /// Video width in pixels (0 for audio).
    pub width: u32,
    /// Video height in pixels (0 for audio).
    pub height: u32,
    /// Media timescale.
    pub timescale: u32,
    /// Audio sample rate (0 for video).
    pub sample_rate: u32,
    /// Audio channels (0 for video).
    pub channels: u16,
    /// ISO 639-2 language, if the source names one.
    pub language: Option<[u8; 3]>,
    /// Media time where presentation starts (the edit list's), in the track timescale.
    pub media_time: i64,
    /// Samples in decode order.
    pub samples: Vec<IdxSample>,
}

impl TrackIndex {
    /// Total duration of the samples, in seconds.
    pub fn duration_secs(&self) -> f64 {
        let total: u64 = self.samples.iter().map(|s| u64::from(s.duration)).sum();
        total as f64 / f64::from(self.timescale.max(1))
    }

    /// Presentation time of sample `s` in seconds, after the edit list.
    pub fn pts_secs(&self, s: &IdxSample) -> f64 {
        (s.pts() - self.media_time) as f64 / f64::from(self.timescale.max(1))
    }

    /// Average bitrate of the track's samples, in bits per second.
    pub fn average_bitrate(&self) -> u64 {
        let bytes: u64 = self.samples.iter().map(|s| u64::from(s.size)).sum();
        let secs = self.duration_secs();
        if secs <= 0.0 {
            return 0;
        }
        (bytes as f64 * 8.0 / secs) as u64
    }
}

/// Everything packaging needs to know about an asset's sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetIndex {
    /// Bucket of the sources.
    pub bucket: String,
    /// Object keys of the MP4 sources.
    pub sources: Vec<String>,
    /// Kept tracks, video and audio, in source then file order.
    pub tracks: Vec<TrackIndex>,
    /// Values derived from the tracks, computed on first use (not part of the encoding).
    pub memo: Memo,
}

/// Segment boundaries of one segment duration: the reference track's cut and, per track, the
/// samples falling in each segment.
#[derive(Debug)]
pub struct PlanMemo {
    /// Segments of the reference (first video) track.
    pub reference: Vec<crate::segment::Segment>,
    spans: Vec<OnceLock<Vec<Range<usize>>>>,
    bounds: Vec<OnceLock<Vec<(u64, u64)>>>,
}

impl PlanMemo {
    /// Samples of track `t` in each segment ([`crate::segment::follow`]), computed once.
    pub fn spans(&self, index: &AssetIndex, t: usize) -> Vec<Range<usize>> {
        match self.spans.get(t) {
            Some(cell) => cell
                .get_or_init(|| crate::segment::follow(&index.tracks[t], &self.reference))
                .clone(),
            None => Vec::new(),
        }
    }

    /// Per segment of track `t`, up to the first without samples (a short audio track): the
    /// earliest presentation time and the latest presentation end, in the track's timescale.
    pub fn bounds(&self, index: &AssetIndex, t: usize) -> Vec<(u64, u64)> {
        let Some(cell) = self.bounds.get(t) else {
            return Vec::new();
        };
        cell.get_or_init(|| {
            let tr = &index.tracks[t];
            let pts = |i: usize| u64::try_from(tr.samples[i].pts()).unwrap_or(0);
            let mut out = Vec::new();
            for span in self.spans(index, t) {
                if span.is_empty() {
                    break;
                }
                let start = span.clone().map(pts).min().unwrap_or(0);
                let end = span
                    .map(|i| pts(i) + u64::from(tr.samples[i].duration))
                    .max()
                    .unwrap_or(start);
                out.push((start, end));
            }
            out
        })
        .clone()
    }
}

/// What packaging derives from an index on every request (the audio track list, segment
/// cuts, per-track spans) is a pure function of the index, so it is kept beside the decoded
/// index and shared by every request for the asset: without it, a manifest or segment request
/// walks every sample of the asset.
#[derive(Debug, Default)]
pub struct Memo {
    audio: OnceLock<Vec<usize>>,
    plans: Mutex<HashMap<u32, Arc<PlanMemo>>>,
}

impl Clone for Memo {
    fn clone(&self) -> Self {
        Memo::default()
    }
}

impl PartialEq for Memo {
    fn eq(&self, _: &Self) -> bool {
        // Derived data: two indexes are equal when their tracks are.
        true
    }
}

impl Eq for Memo {}

/// Why an encoded index does not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub &'static str);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "corrupt asset index: {}", self.0)
    }
}

impl AssetIndex {
    /// Binary encoding (see the module documentation).
    pub fn encode(&self) -> Vec<u8> {
        let samples: usize = self.tracks.iter().map(|t| t.samples.len()).sum();
        let mut out = Vec::with_capacity(64 + samples * SAMPLE_BYTES);
        out.extend_from_slice(MAGIC);
        out.push(ENCODING_VERSION);
        put_bytes(&mut out, self.bucket.as_bytes());
        put_u32(&mut out, len_u32(self.sources.len()));
        for s in &self.sources {
            put_bytes(&mut out, s.as_bytes());
        }
        put_u32(&mut out, len_u32(self.tracks.len()));
        for t in &self.tracks {
            put_u32(&mut out, t.source);
            put_u32(&mut out, t.track_id);
            out.push(t.codec.to_byte());
            out.extend_from_slice(&t.fourcc);
            put_bytes(&mut out, &t.config);
            put_u32(&mut out, t.width);
            put_u32(&mut out, t.height);
            put_u32(&mut out, t.timescale);
            put_u32(&mut out, t.sample_rate);
            out.extend_from_slice(&t.channels.to_be_bytes());
            match t.language {
                Some(l) => {
                    out.push(1);
                    out.extend_from_slice(&l);
                }
                None => out.push(0),
            }
            out.extend_from_slice(&t.media_time.to_be_bytes());
            put_u32(&mut out, len_u32(t.samples.len()));
            for s in &t.samples {
                out.extend_from_slice(&s.offset.to_be_bytes());
                out.extend_from_slice(&s.size.to_be_bytes());
                out.extend_from_slice(&s.dts.to_be_bytes());
                out.extend_from_slice(&s.cts.to_be_bytes());
                out.extend_from_slice(&s.duration.to_be_bytes());
                out.push(u8::from(s.sync));
            }
        }
        out
    }

    /// Decodes [`AssetIndex::encode`]'s output; never panics, allocates only what the input
    /// can actually hold.
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Rd { buf };
        if r.take(4)? != MAGIC {
            return Err(DecodeError("bad magic"));
        }
        if r.u8()? != ENCODING_VERSION {
            return Err(DecodeError("unknown encoding version"));
        }
        let bucket = r.string()?;
        let n_sources = r.count(4)?;
        if n_sources > MAX_SOURCES {
            return Err(DecodeError("too many sources"));
        }
        let mut sources = Vec::with_capacity(n_sources);
        for _ in 0..n_sources {
            sources.push(r.string()?);
        }
        let n_tracks = r.count(40)?;
        if n_tracks > MAX_SOURCES * MAX_TRACKS_PER_SOURCE {
            return Err(DecodeError("too many tracks"));
        }
        let mut tracks = Vec::with_capacity(n_tracks);
        for _ in 0..n_tracks {
            let source = r.u32()?;
            if source as usize >= sources.len() {
                return Err(DecodeError("track source out of range"));
            }
            let track_id = r.u32()?;
            let codec = TrackCodec::from_byte(r.u8()?).ok_or(DecodeError("unknown codec"))?;
            let mut fourcc = [0u8; 4];
            fourcc.copy_from_slice(r.take(4)?);
            let config = r.bytes()?.to_vec();
            let width = r.u32()?;
            let height = r.u32()?;
            let timescale = r.u32()?;
            if timescale == 0 {
                return Err(DecodeError("zero timescale"));
            }
            let sample_rate = r.u32()?;
            let channels = u16::from_be_bytes([r.u8()?, r.u8()?]);
            let language = match r.u8()? {
                0 => None,
                _ => {
                    let mut l = [0u8; 3];
                    l.copy_from_slice(r.take(3)?);
                    Some(l)
                }
            };
            let mut mt = [0u8; 8];
            mt.copy_from_slice(r.take(8)?);
            let media_time = i64::from_be_bytes(mt);
            let n = r.count(SAMPLE_BYTES)?;
            let mut samples = Vec::with_capacity(n);
            for _ in 0..n {
                let offset = r.u64()?;
                let size = r.u32()?;
                let dts = r.u64()?;
                let cts = i32::from_be_bytes(r.array4()?);
                let duration = r.u32()?;
                let sync = r.u8()? != 0;
                samples.push(IdxSample {
                    offset,
                    size,
                    dts,
                    cts,
                    duration,
                    sync,
                });
            }
            tracks.push(TrackIndex {
                source,
                track_id,
                codec,
                fourcc,
                config,
                width,
                height,
                timescale,
                sample_rate,
                channels,
                language,
                media_time,
                samples,
            });
        }
        if !r.buf.is_empty() {
            return Err(DecodeError("trailing bytes"));
        }
        Ok(AssetIndex {
            memo: Memo::default(),
            bucket,
            sources,
            tracks,
        })
    }

    /// Indexes (into `tracks`) of the video tracks.
    pub fn video_tracks(&self) -> Vec<usize> {
        (0..self.tracks.len())
            .filter(|&i| self.tracks[i].codec.is_video())
            .collect()
    }

    /// Indexes of the audio tracks, without duplicates (the same audio muxed into several
    /// renditions of a `.smil` is one audio rendition).
    pub fn audio_tracks(&self) -> Vec<usize> {
        self.memo
            .audio
            .get_or_init(|| self.distinct_audio_tracks())
            .clone()
    }

    /// The cut of the first video track into segments of about `target_secs`, computed once
    /// per index and duration; `None` without a video track.
    pub fn plan_memo(&self, first_video: usize, target_secs: u32) -> Arc<PlanMemo> {
        let mut plans = self.memo.plans.lock().unwrap_or_else(|p| p.into_inner());
        plans
            .entry(target_secs)
            .or_insert_with(|| {
                Arc::new(PlanMemo {
                    reference: crate::segment::cut(&self.tracks[first_video], target_secs),
                    spans: (0..self.tracks.len()).map(|_| OnceLock::new()).collect(),
                    bounds: (0..self.tracks.len()).map(|_| OnceLock::new()).collect(),
                })
            })
            .clone()
    }

    fn distinct_audio_tracks(&self) -> Vec<usize> {
        let mut seen: Vec<(Vec<u8>, usize, u64)> = Vec::new();
        let mut out = Vec::new();
        for (i, t) in self.tracks.iter().enumerate() {
            if t.codec.is_video() {
                continue;
            }
            let key = (
                t.config.clone(),
                t.samples.len(),
                t.samples.iter().map(|s| u64::from(s.size)).sum::<u64>(),
            );
            if !seen.contains(&key) {
                seen.push(key);
                out.push(i);
            }
        }
        out
    }
}

fn len_u32(n: usize) -> u32 {
    // Counts are bounded by the ingest limits (tracks, MAX_SAMPLES_PER_TRACK, config size).
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_u32(out, len_u32(b.len()));
    out.extend_from_slice(b);
}

struct Rd<'a> {
    buf: &'a [u8],
}

impl<'a> Rd<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError("truncated"));
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn array4(&mut self) -> Result<[u8; 4], DecodeError> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array4()?))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(a))
    }
    /// A count of items of at least `item_bytes` each, checked against what remains.
    fn count(&mut self, item_bytes: usize) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        if n.saturating_mul(item_bytes) > self.buf.len() {
            return Err(DecodeError("count exceeds the remaining bytes"));
        }
        Ok(n)
    }
    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.count(1)?;
        self.take(n)
    }
    fn string(&mut self) -> Result<String, DecodeError> {
        String::from_utf8(self.bytes()?.to_vec()).map_err(|_| DecodeError("string is not UTF-8"))
    }
}

/// Index fixtures shared by the packagers' unit tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    /// Two sources: a 640-wide and a 1280-wide H.264 rendition (10 s at 25 fps, a sync sample
    /// every 2 s, `hi_size` bytes per frame for the second) and 10 s of stereo AAC.
    pub(crate) fn two_renditions(hi_size: u32, audio_language: Option<[u8; 3]>) -> AssetIndex {
        let video = |source: u32, size: u32, width: u32| TrackIndex {
            source,
            track_id: 1,
            codec: TrackCodec::Avc,
            fourcc: *b"avc1",
            // avcC: profile 100, level 31, 4-byte lengths, one SPS, one PPS.
            config: vec![
                1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 2, 0x68, 0xee,
            ],
            width,
            height: width * 9 / 16,
            timescale: 12800,
            sample_rate: 0,
            channels: 0,
            language: None,
            media_time: 1024,
            samples: (0..250u32)
                .map(|i| IdxSample {
                    offset: u64::from(i) * 10,
                    size,
                    dts: u64::from(i) * 512,
                    cts: 1024,
                    duration: 512,
                    sync: i % 50 == 0,
                })
                .collect(),
        };
        let audio = TrackIndex {
            codec: TrackCodec::Aac,
            fourcc: *b"mp4a",
            config: vec![0x11, 0x90],
            width: 0,
            height: 0,
            timescale: 48000,
            sample_rate: 48000,
            channels: 2,
            language: audio_language,
            samples: (0..469u32)
                .map(|i| IdxSample {
                    offset: 9000 + u64::from(i) * 5,
                    size: 5,
                    dts: u64::from(i) * 1024,
                    cts: 0,
                    duration: 1024,
                    sync: true,
                })
                .collect(),
            ..video(0, 10, 0)
        };
        AssetIndex {
            memo: Default::default(),
            bucket: "b".into(),
            sources: vec!["lo.mp4".into(), "hi.mp4".into()],
            tracks: vec![video(0, 100, 640), audio, video(1, hi_size, 1280)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample_index() -> AssetIndex {
        let samples = (0..10u32)
            .map(|i| IdxSample {
                offset: 1000 + u64::from(i) * 100,
                size: 100,
                dts: u64::from(i) * 512,
                cts: 1024,
                duration: 512,
                sync: i % 5 == 0,
            })
            .collect();
        AssetIndex {
            memo: Memo::default(),
            bucket: "b".into(),
            sources: vec!["a/x.mp4".into()],
            tracks: vec![
                TrackIndex {
                    source: 0,
                    track_id: 1,
                    codec: TrackCodec::Avc,
                    fourcc: *b"avc1",
                    config: vec![1, 0x64, 0, 0x1f],
                    width: 320,
                    height: 240,
                    timescale: 12800,
                    sample_rate: 0,
                    channels: 0,
                    language: Some(*b"und"),
                    media_time: 1024,
                    samples,
                },
                TrackIndex {
                    source: 0,
                    track_id: 2,
                    codec: TrackCodec::Aac,
                    fourcc: *b"mp4a",
                    config: vec![0x11, 0x90],
                    width: 0,
                    height: 0,
                    timescale: 48000,
                    sample_rate: 48000,
                    channels: 2,
                    language: None,
                    media_time: -1,
                    samples: Vec::new(),
                },
            ],
        }
    }

    #[test]
    fn round_trip() {
        let idx = sample_index();
        let enc = idx.encode();
        assert_eq!(AssetIndex::decode(&enc).unwrap(), idx);
        assert_eq!(idx.video_tracks(), vec![0]);
        assert_eq!(idx.audio_tracks(), vec![1]);
        assert_eq!(idx.tracks[0].average_bitrate(), 100 * 10 * 8 * 12800 / 5120);
    }

    #[test]
    fn every_truncation_and_corruption_is_an_error() {
        let enc = sample_index().encode();
        for n in 0..enc.len() {
            assert!(AssetIndex::decode(&enc[..n]).is_err(), "prefix {n}");
        }
        let mut bad = enc.clone();
        bad.push(0);
        assert_eq!(AssetIndex::decode(&bad), Err(DecodeError("trailing bytes")));
        // A huge length (here the bucket name's) must be refused before allocating.
        let mut huge = enc.clone();
        huge[5..9].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(AssetIndex::decode(&huge).is_err());
        let mut magic = enc;
        magic[0] = b'X';
        assert_eq!(AssetIndex::decode(&magic), Err(DecodeError("bad magic")));
    }
}
