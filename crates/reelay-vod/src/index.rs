//! The compact per-asset sample index, and its binary encoding for the store.
//!
//! Ingest parses each source's `moov` once and keeps, per track, the codec configuration and one
//! fixed-size entry per sample (file offset, size, decode time, composition offset, duration,
//! sync flag). Packaging is then a pure function of this index, the configuration and byte
//! ranges of the sources. The encoding is versioned (`RVIX` + version byte) and every count is
//! checked against the bytes that remain before anything is allocated.
//!
//! Two versions share the header and differ in how samples are written:
//!
//! - version 1 ([`AssetIndex::encode`]): a fixed 29-byte record per sample. Chunk records
//!   written before version 2 existed hold this one, and so does an index too large for
//!   version 2; [`AssetIndex::decode`] reads both versions.
//! - version 2 ([`AssetIndex::encode_compact`]): per track a byte-counted block where each
//!   sample is a flags byte, its size as a LEB128 varint, and only the fields that differ from
//!   what the previous sample predicts (offset = previous offset + size, decode time = previous
//!   decode time + duration, same duration, same composition offset); an offset or decode time
//!   that differs is written as its signed (zigzag) difference from the prediction. A 2 s-GOP
//!   H.264 + AAC asset takes about 5 bytes per sample instead of 29, which is what the first
//!   request after a restart reads back (the binary copy in the object store). The blocks are
//!   independent, so tracks decode in parallel ([`AssetIndex::decode_parallel`]).

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

/// Most sources in one asset (MediaPackage's "20 ingest streams per asset", UG:vod-quotas).
pub const MAX_SOURCES: usize = 20;
/// Most tracks kept per source ("10 tracks per stream", UG:vod-quotas).
pub const MAX_TRACKS_PER_SOURCE: usize = 10;
/// Most samples in one track: what ingest accepts from an MP4 (`reelay-format-mp4`'s
/// `MAX_SAMPLES_PER_TRACK`) or a TS rendition (`ts_source`).
pub const MAX_SAMPLES_PER_TRACK: usize = 1 << 22;
/// Most samples, over all tracks, that a version 2 encoding may hold. A compact sample takes as
/// little as 2 bytes and decodes to 32, so this keeps what a hostile copy can make the decoder
/// allocate (about 1 GiB) to what a version 1 encoding of the 1 GiB the engine reads at most
/// could. It is about 40 hours of 3 renditions with their audio; an index above it gets no
/// compact copy and is read from the chunk records.
pub const MAX_COMPACT_SAMPLES: usize = 1 << 25;
/// Bytes of one encoded sample (version 1).
const SAMPLE_BYTES: usize = 8 + 4 + 8 + 4 + 4 + 1;
/// Fewest bytes of one encoded sample (version 2: the flags and a one-byte size).
const MIN_COMPACT_SAMPLE_BYTES: usize = 2;
const MAGIC: &[u8; 4] = b"RVIX";
/// Fixed-size samples (the chunk records' encoding).
const VERSION_FIXED: u8 = 1;
/// Compact samples (the binary copy's encoding).
const VERSION_COMPACT: u8 = 2;
/// Version 2 sample flags: a random access point, then which fields are written explicitly
/// rather than predicted from the previous sample.
const F_SYNC: u8 = 1;
const F_OFFSET: u8 = 1 << 1;
const F_DTS: u8 = 1 << 2;
const F_DURATION: u8 = 1 << 3;
const F_CTS: u8 = 1 << 4;
const F_ALL: u8 = F_SYNC | F_OFFSET | F_DTS | F_DURATION | F_CTS;

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
    /// Version 1 encoding, with fixed-size samples (see the module documentation).
    pub fn encode(&self) -> Vec<u8> {
        self.encode_version(VERSION_FIXED)
    }

    /// Version 2 encoding, with compact samples (see the module documentation).
    pub fn encode_compact(&self) -> Vec<u8> {
        self.encode_version(VERSION_COMPACT)
    }

    fn encode_version(&self, version: u8) -> Vec<u8> {
        let samples: usize = self.tracks.iter().map(|t| t.samples.len()).sum();
        let per_sample = if version == VERSION_FIXED {
            SAMPLE_BYTES
        } else {
            6
        };
        let mut out = Vec::with_capacity(64 + samples * per_sample);
        out.extend_from_slice(MAGIC);
        out.push(version);
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
            if version == VERSION_FIXED {
                for s in &t.samples {
                    out.extend_from_slice(&s.offset.to_be_bytes());
                    out.extend_from_slice(&s.size.to_be_bytes());
                    out.extend_from_slice(&s.dts.to_be_bytes());
                    out.extend_from_slice(&s.cts.to_be_bytes());
                    out.extend_from_slice(&s.duration.to_be_bytes());
                    out.push(u8::from(s.sync));
                }
            } else {
                // The block's length goes before it, once known.
                let at = out.len();
                put_u32(&mut out, 0);
                encode_compact_samples(&t.samples, &mut out);
                let len = len_u32(out.len() - at - 4);
                out[at..at + 4].copy_from_slice(&len.to_be_bytes());
            }
        }
        out
    }

    /// Whether the index may be written in version 2 (see [`MAX_COMPACT_SAMPLES`]).
    pub fn fits_compact(&self) -> bool {
        self.tracks.iter().map(|t| t.samples.len()).sum::<usize>() <= MAX_COMPACT_SAMPLES
    }

    /// Whether `buf` starts like a version 2 encoding (what the binary copy must hold).
    pub fn is_compact(buf: &[u8]) -> bool {
        buf.len() > MAGIC.len() && buf.starts_with(MAGIC) && buf[MAGIC.len()] == VERSION_COMPACT
    }

    /// Decodes either version; never panics, and allocates in proportion to the input (at
    /// most 16 bytes of samples per input byte, [`MAX_SAMPLES_PER_TRACK`] per track and, for
    /// version 2, [`MAX_COMPACT_SAMPLES`] in all).
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_parallel(buf, 1)
    }

    /// [`AssetIndex::decode`], with the tracks' samples decoded on up to `threads` threads
    /// (scoped: they have ended when this returns). The result does not depend on `threads`.
    pub fn decode_parallel(buf: &[u8], threads: usize) -> Result<Self, DecodeError> {
        let mut r = Rd { buf };
        if r.take(4)? != MAGIC {
            return Err(DecodeError("bad magic"));
        }
        let version = r.u8()?;
        if version != VERSION_FIXED && version != VERSION_COMPACT {
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
        // Each track's sample bytes and count, decoded once every header has been read.
        let mut blocks: Vec<(&[u8], usize)> = Vec::with_capacity(n_tracks);
        let mut total = 0usize;
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
            let block = if version == VERSION_FIXED {
                let n = r.count(SAMPLE_BYTES)?;
                if n > MAX_SAMPLES_PER_TRACK {
                    return Err(DecodeError("too many samples in a track"));
                }
                (r.take(n * SAMPLE_BYTES)?, n)
            } else {
                let n = r.u32()? as usize;
                let block = r.bytes()?;
                if n > MAX_SAMPLES_PER_TRACK {
                    return Err(DecodeError("too many samples in a track"));
                }
                if n.saturating_mul(MIN_COMPACT_SAMPLE_BYTES) > block.len() {
                    return Err(DecodeError("sample count exceeds its block"));
                }
                total += n;
                if total > MAX_COMPACT_SAMPLES {
                    return Err(DecodeError("too many samples for a compact index"));
                }
                (block, n)
            };
            blocks.push(block);
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
                samples: Vec::new(),
            });
        }
        if !r.buf.is_empty() {
            return Err(DecodeError("trailing bytes"));
        }
        let decode_block = |(block, n): (&[u8], usize)| {
            if version == VERSION_FIXED {
                Ok(decode_fixed_samples(block, n))
            } else {
                decode_compact_samples(block, n)
            }
        };
        let decoded = run_split(&blocks, threads, decode_block)?;
        for (t, samples) in tracks.iter_mut().zip(decoded) {
            t.samples = samples;
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

/// Applies `f` to every block, on up to `threads` threads, and returns the results in block
/// order (the first error in block order, whatever thread found it). Blocks are dealt out
/// largest first to the least loaded thread.
fn run_split<'a, T, F>(
    blocks: &[(&'a [u8], usize)],
    threads: usize,
    f: F,
) -> Result<Vec<T>, DecodeError>
where
    T: Send,
    F: Fn((&'a [u8], usize)) -> Result<T, DecodeError> + Sync,
{
    let threads = threads.clamp(1, blocks.len().max(1));
    if threads == 1 {
        return blocks.iter().map(|&b| f(b)).collect();
    }
    let mut order: Vec<usize> = (0..blocks.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(blocks[i].0.len()));
    let mut shares: Vec<(usize, Vec<usize>)> = vec![(0, Vec::new()); threads];
    for i in order {
        // `shares` holds `threads` >= 1 entries.
        if let Some(least) = shares.iter_mut().min_by_key(|(load, _)| *load) {
            least.0 += blocks[i].0.len();
            least.1.push(i);
        }
    }
    let f = &f;
    let mut results: Vec<Option<Result<T, DecodeError>>> =
        (0..blocks.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let mut shares = shares.into_iter().map(|(_, share)| share);
        let mut mine = shares.next().unwrap_or_default();
        let mut handles = Vec::new();
        for share in shares {
            let work = share.clone();
            let spawned = std::thread::Builder::new().spawn_scoped(scope, move || {
                work.into_iter()
                    .map(|i| (i, f(blocks[i])))
                    .collect::<Vec<_>>()
            });
            match spawned {
                Ok(h) => handles.push(h),
                // No thread to be had: this one does that share too.
                Err(_) => mine.extend(share),
            }
        }
        for i in mine {
            results[i] = Some(f(blocks[i]));
        }
        for h in handles {
            // A panicking decoder (a bug) leaves its blocks unset: reported as an error below.
            if let Ok(done) = h.join() {
                for (i, r) in done {
                    results[i] = Some(r);
                }
            }
        }
    });
    results
        .into_iter()
        .map(|r| r.unwrap_or(Err(DecodeError("sample decoder failed"))))
        .collect()
}

/// Version 1 samples; `block` holds exactly `n` records (checked by the caller).
fn decode_fixed_samples(block: &[u8], n: usize) -> Vec<IdxSample> {
    let mut out = Vec::with_capacity(n);
    for rec in block.chunks_exact(SAMPLE_BYTES) {
        let u64_at = |i: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&rec[i..i + 8]);
            u64::from_be_bytes(a)
        };
        let u32_at = |i: usize| {
            let mut a = [0u8; 4];
            a.copy_from_slice(&rec[i..i + 4]);
            u32::from_be_bytes(a)
        };
        // The offsets below stay inside one SAMPLE_BYTES record.
        out.push(IdxSample {
            offset: u64_at(0),
            size: u32_at(8),
            dts: u64_at(12),
            cts: u32_at(20) as i32,
            duration: u32_at(24),
            sync: rec[28] != 0,
        });
    }
    out
}

/// Version 2 samples (see the module documentation).
fn encode_compact_samples(samples: &[IdxSample], out: &mut Vec<u8>) {
    let mut prev = IdxSample {
        offset: 0,
        size: 0,
        dts: 0,
        cts: 0,
        duration: 0,
        sync: false,
    };
    for s in samples {
        let mut flags = 0u8;
        if s.sync {
            flags |= F_SYNC;
        }
        let offset_pred = prev.offset.wrapping_add(u64::from(prev.size));
        let dts_pred = prev.dts.wrapping_add(u64::from(prev.duration));
        // The decoder refuses an implicit value that overflows, so such a one is explicit.
        let offset_explicit = prev.offset.checked_add(u64::from(prev.size)) != Some(s.offset);
        let dts_explicit = prev.dts.checked_add(u64::from(prev.duration)) != Some(s.dts);
        if offset_explicit {
            flags |= F_OFFSET;
        }
        if dts_explicit {
            flags |= F_DTS;
        }
        if s.duration != prev.duration {
            flags |= F_DURATION;
        }
        if s.cts != prev.cts {
            flags |= F_CTS;
        }
        out.push(flags);
        put_varint(out, u64::from(s.size));
        if offset_explicit {
            put_varint(out, zigzag64(s.offset.wrapping_sub(offset_pred)));
        }
        if dts_explicit {
            put_varint(out, zigzag64(s.dts.wrapping_sub(dts_pred)));
        }
        if s.duration != prev.duration {
            put_varint(out, u64::from(s.duration));
        }
        if s.cts != prev.cts {
            // Zigzag, so that small negative offsets stay short.
            put_varint(out, u64::from(((s.cts << 1) ^ (s.cts >> 31)) as u32));
        }
        prev = *s;
    }
}

/// Decodes [`encode_compact_samples`]'s output; `block` must hold exactly `n` samples.
fn decode_compact_samples(block: &[u8], n: usize) -> Result<Vec<IdxSample>, DecodeError> {
    // The caller checked n <= MAX_SAMPLES_PER_TRACK and n * MIN_COMPACT_SAMPLE_BYTES <= block.
    let mut out = Vec::with_capacity(n);
    let mut r = Varints { buf: block, pos: 0 };
    let (mut offset, mut size, mut dts, mut duration, mut cts) = (0u64, 0u32, 0u64, 0u32, 0i32);
    for _ in 0..n {
        let flags = r.byte()?;
        if flags & !F_ALL != 0 {
            return Err(DecodeError("unknown sample flags"));
        }
        let next_size = r.u32()?;
        offset = if flags & F_OFFSET != 0 {
            offset
                .wrapping_add(u64::from(size))
                .wrapping_add(unzigzag64(r.u64()?))
        } else {
            offset
                .checked_add(u64::from(size))
                .ok_or(DecodeError("sample offset overflows"))?
        };
        dts = if flags & F_DTS != 0 {
            dts.wrapping_add(u64::from(duration))
                .wrapping_add(unzigzag64(r.u64()?))
        } else {
            dts.checked_add(u64::from(duration))
                .ok_or(DecodeError("decode time overflows"))?
        };
        if flags & F_DURATION != 0 {
            duration = r.u32()?;
        }
        if flags & F_CTS != 0 {
            let z = r.u32()?;
            cts = ((z >> 1) as i32) ^ -((z & 1) as i32);
        }
        size = next_size;
        out.push(IdxSample {
            offset,
            size,
            dts,
            cts,
            duration,
            sync: flags & F_SYNC != 0,
        });
    }
    if r.pos != block.len() {
        return Err(DecodeError("sample block longer than its samples"));
    }
    Ok(out)
}

/// A difference of two u64s (taken modulo 2^64) as a signed number, zigzagged so that small
/// differences of either sign are short varints.
fn zigzag64(diff: u64) -> u64 {
    let d = diff as i64;
    ((d << 1) ^ (d >> 63)) as u64
}

fn unzigzag64(z: u64) -> u64 {
    (z >> 1) ^ (z & 1).wrapping_neg()
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// LEB128 reader over one sample block.
struct Varints<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Varints<'_> {
    #[inline]
    fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or(DecodeError("truncated sample block"))?;
        self.pos += 1;
        Ok(b)
    }

    #[inline]
    fn u64(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        // At most 10 bytes; the tenth may only carry the top bit of a u64.
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            if shift == 63 && b > 1 {
                return Err(DecodeError("varint overflows"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(DecodeError("varint overflows"))
    }

    #[inline]
    fn u32(&mut self) -> Result<u32, DecodeError> {
        u32::try_from(self.u64()?).map_err(|_| DecodeError("varint overflows"))
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

    /// A deterministic xorshift64 generator for the generated fixtures.
    pub(crate) struct Rng(pub(crate) u64);

    impl Rng {
        pub(crate) fn next(&mut self) -> u64 {
            let mut x = self.0.max(1);
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        pub(crate) fn below(&mut self, n: u64) -> u64 {
            self.next() % n.max(1)
        }
    }

    /// A video track with irregular GOPs (1 to `max_gop` frames, so also a short final one),
    /// B-frame composition offsets (some negative), jittered frame durations, samples laid out
    /// with gaps and jumps (interleaved chunks), and, for some seeds, a first sample that is
    /// not a sync sample or an edit-list start past the first frames.
    pub(crate) fn odd_video(seed: u64, frames: u32, max_gop: u32) -> TrackIndex {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let timescale = [90_000u32, 12_800, 30_000, 1000, 15_360][rng.below(5) as usize];
        let frame = (timescale / 30).max(1);
        let mut samples = Vec::with_capacity(frames as usize);
        let (mut dts, mut offset) = (0u64, 48 + rng.below(5000));
        let mut left_in_gop = 0u64;
        for i in 0..frames {
            let sync = if i == 0 && seed.is_multiple_of(5) {
                false
            } else if left_in_gop == 0 {
                left_in_gop = 1 + rng.below(u64::from(max_gop.max(1)));
                true
            } else {
                false
            };
            left_in_gop = left_in_gop.saturating_sub(1);
            let duration = match rng.below(10) {
                0 => frame + 1,
                1 => frame.saturating_sub(1).max(1),
                _ => frame,
            };
            // Reordering: P frames shown later, B frames earlier than their neighbours.
            let cts = match rng.below(4) {
                0 => 0,
                1 => 2 * frame as i32,
                2 => frame as i32,
                _ => -(frame as i32) / 2,
            };
            let size = match rng.below(20) {
                0 => 0,
                1 => 200_000 + rng.below(100_000) as u32,
                _ => 1 + rng.below(12_000) as u32,
            };
            samples.push(IdxSample {
                offset,
                size,
                dts,
                cts,
                duration,
                sync,
            });
            dts += u64::from(duration);
            offset += u64::from(size);
            match rng.below(8) {
                0 => offset += rng.below(64 * 1024),
                1 => offset = rng.below(1 << 40),
                _ => {}
            }
        }
        TrackIndex {
            source: 0,
            track_id: 1,
            codec: TrackCodec::Avc,
            fourcc: *b"avc1",
            config: vec![1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 0],
            width: 640,
            height: 360,
            timescale,
            sample_rate: 0,
            channels: 0,
            language: None,
            media_time: if seed.is_multiple_of(3) {
                i64::from(frame) * 2
            } else {
                0
            },
            samples,
        }
    }

    /// `n` AAC frames at 48 kHz, 5 bytes each back to back from `offset`, as track 2 of source 0
    /// (no language, no edit); fixtures override what differs.
    pub(crate) fn aac_track(n: u32, offset: u64) -> TrackIndex {
        TrackIndex {
            source: 0,
            track_id: 2,
            codec: TrackCodec::Aac,
            fourcc: *b"mp4a",
            config: vec![0x11, 0x90],
            width: 0,
            height: 0,
            timescale: 48_000,
            sample_rate: 48_000,
            channels: 2,
            language: None,
            media_time: 0,
            samples: (0..n)
                .map(|i| IdxSample {
                    offset: offset + u64::from(i) * 5,
                    size: 5,
                    dts: u64::from(i) * 1024,
                    cts: 0,
                    duration: 1024,
                    sync: true,
                })
                .collect(),
        }
    }

    /// `secs` of AAC at 48 kHz, its chunks interleaved at irregular places.
    pub(crate) fn odd_audio(seed: u64, source: u32, secs: u32) -> TrackIndex {
        let mut rng = Rng(seed ^ 0x5eed_0000_a0d1_0000);
        let n = secs * 48_000 / 1024;
        let mut offset = 1_000_000;
        let samples = (0..n)
            .map(|i| {
                if rng.below(20) == 0 {
                    offset += rng.below(1 << 20);
                }
                let s = IdxSample {
                    offset,
                    size: 200 + rng.below(300) as u32,
                    dts: u64::from(i) * 1024,
                    cts: 0,
                    duration: 1024,
                    sync: true,
                };
                offset += u64::from(s.size);
                s
            })
            .collect();
        TrackIndex {
            source,
            language: Some(*b"eng"),
            media_time: 1024,
            samples,
            ..aac_track(0, 0)
        }
    }

    /// Two video renditions with the same odd GOP structure, each with its audio (the same
    /// audio twice: one audio rendition), and an audio-only source alongside.
    pub(crate) fn odd_index(seed: u64) -> AssetIndex {
        let frames = 300 + (seed % 7) as u32 * 41;
        let v0 = odd_video(seed, frames, 1 + (seed % 90) as u32);
        let mut v1 = v0.clone();
        v1.source = 1;
        v1.width = 1280;
        for s in &mut v1.samples {
            s.size = s.size.saturating_mul(2);
        }
        let a0 = odd_audio(seed, 0, 10);
        let mut a1 = a0.clone();
        a1.source = 1;
        let mut a2 = odd_audio(seed + 1, 2, 7);
        a2.language = None;
        AssetIndex {
            memo: Memo::default(),
            bucket: "b".into(),
            sources: vec!["lo.mp4".into(), "hi.mp4".into(), "commentary.mp4".into()],
            tracks: vec![v0, a0, v1, a1, a2],
        }
    }

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
        // Fields as if taken from the video track: track 1, the same edit.
        let audio = TrackIndex {
            track_id: 1,
            language: audio_language,
            media_time: 1024,
            ..aac_track(469, 9000)
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
                    media_time: -1,
                    ..fixtures::aac_track(0, 0)
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

    /// A track whose every field sits at an extreme: offsets and decode times near the top of
    /// u64 (predictions overflow), decode times going backwards, composition offsets at both
    /// ends of i32, zero and maximal sizes and durations.
    fn extreme_index() -> AssetIndex {
        let mut idx = sample_index();
        let s = |offset, size, dts, cts, duration, sync| IdxSample {
            offset,
            size,
            dts,
            cts,
            duration,
            sync,
        };
        idx.tracks[1].samples = vec![
            s(
                u64::MAX - 10,
                u32::MAX,
                u64::MAX - 1,
                i32::MIN,
                u32::MAX,
                true,
            ),
            s(5, 0, 3, i32::MAX, 0, false),
            s(5, 0, 3, i32::MAX, 0, false),
            s(u64::MAX, 1, u64::MAX, -1, 1, true),
            s(0, 1, 0, 0, 1, false),
            s(1, u32::MAX, 1, 1, u32::MAX, true),
        ];
        idx
    }

    #[test]
    fn compact_encoding_round_trips_and_equals_the_fixed_one() {
        let mut cases = vec![sample_index(), extreme_index()];
        cases.extend((0..40).map(fixtures::odd_index));
        cases.push(fixtures::two_renditions(700, Some(*b"fra")));
        for (n, idx) in cases.iter().enumerate() {
            let fixed = idx.encode();
            let compact = idx.encode_compact();
            assert!(!AssetIndex::is_compact(&fixed) && AssetIndex::is_compact(&compact));
            let a = AssetIndex::decode(&fixed).unwrap();
            let b = AssetIndex::decode(&compact).unwrap();
            assert_eq!(&a, idx, "case {n}");
            // `PartialEq` ignores the memo, not the samples: compare those field by field too.
            for (x, y) in b.tracks.iter().zip(&idx.tracks) {
                assert_eq!(x.samples, y.samples, "case {n}");
            }
            assert_eq!(&b, idx, "case {n}");
            for threads in [2, 3, 8] {
                assert_eq!(
                    &AssetIndex::decode_parallel(&compact, threads).unwrap(),
                    idx
                );
                assert_eq!(&AssetIndex::decode_parallel(&fixed, threads).unwrap(), idx);
            }
            // What packaging derives is the same from either decoding.
            for target in [1, 2, 6, 30] {
                if let Some(&v) = idx.video_tracks().first() {
                    let (pa, pb) = (a.plan_memo(v, target), b.plan_memo(v, target));
                    assert_eq!(pa.reference, pb.reference);
                    for t in 0..idx.tracks.len() {
                        assert_eq!(pa.spans(&a, t), pb.spans(&b, t));
                        assert_eq!(pa.bounds(&a, t), pb.bounds(&b, t));
                    }
                }
            }
            assert_eq!(a.audio_tracks(), b.audio_tracks());
        }
        // The odd index keeps one audio rendition per distinct audio, whatever its source.
        assert_eq!(fixtures::odd_index(1).audio_tracks(), vec![1, 4]);
        // About 5 bytes a sample for the 60 fps-like generated tracks, against 29.
        let idx = fixtures::odd_index(3);
        assert!(idx.encode_compact().len() * 3 < idx.encode().len());
    }

    #[test]
    fn every_truncation_and_corruption_of_the_compact_encoding_is_refused() {
        for idx in [sample_index(), extreme_index()] {
            let enc = idx.encode_compact();
            for n in 0..enc.len() {
                assert!(AssetIndex::decode(&enc[..n]).is_err(), "prefix {n}");
                assert!(
                    AssetIndex::decode_parallel(&enc[..n], 2).is_err(),
                    "prefix {n}"
                );
            }
            let mut long = enc.clone();
            long.push(0);
            assert_eq!(
                AssetIndex::decode(&long),
                Err(DecodeError("trailing bytes"))
            );
        }
        // Deterministic mutations: any byte set to any of a few values never panics, and what
        // still decodes re-encodes to a decodable index.
        let enc = fixtures::odd_index(7).encode_compact();
        let mut rng = fixtures::Rng(99);
        for _ in 0..3000 {
            let mut m = enc.clone();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(m.len() as u64) as usize;
                m[at] = [0, 0xff, 0x80, 0x7f, rng.next() as u8][rng.below(5) as usize];
            }
            if let Ok(i) = AssetIndex::decode_parallel(&m, 2) {
                assert_eq!(AssetIndex::decode(&i.encode_compact()).unwrap(), i);
            }
        }
    }

    #[test]
    fn a_compact_encoding_may_not_decode_to_more_than_its_total_limit() {
        // 9 tracks of MAX_SAMPLES_PER_TRACK two-byte samples (flags 0, size 0: each valid)
        // exceed MAX_COMPACT_SAMPLES: refused while reading the headers, before any sample
        // is decoded or allocated.
        let mut enc = MAGIC.to_vec();
        enc.push(VERSION_COMPACT);
        put_bytes(&mut enc, b"b");
        put_u32(&mut enc, 1);
        put_bytes(&mut enc, b"s.mp4");
        put_u32(&mut enc, 9);
        let n = MAX_SAMPLES_PER_TRACK;
        assert!(9 * n > MAX_COMPACT_SAMPLES && 8 * n <= MAX_COMPACT_SAMPLES);
        for id in 0..9 {
            put_u32(&mut enc, 0);
            put_u32(&mut enc, id);
            enc.push(TrackCodec::Avc.to_byte());
            enc.extend_from_slice(b"avc1");
            put_bytes(&mut enc, &[]);
            for v in [640, 360, 90_000, 0] {
                put_u32(&mut enc, v);
            }
            enc.extend_from_slice(&[0, 0, 0]); // channels, no language
            enc.extend_from_slice(&0i64.to_be_bytes());
            put_u32(&mut enc, len_u32(n));
            put_bytes(&mut enc, &vec![0; n * MIN_COMPACT_SAMPLE_BYTES]);
        }
        assert_eq!(
            AssetIndex::decode(&enc),
            Err(DecodeError("too many samples for a compact index"))
        );
        assert!(sample_index().fits_compact());
    }

    /// The offset of the first track's sample count in the compact encoding of `sample_index`.
    fn first_count_at(enc: &[u8]) -> usize {
        let mut r = Rd { buf: enc };
        r.take(5).unwrap();
        r.string().unwrap();
        let n = r.count(4).unwrap();
        for _ in 0..n {
            r.string().unwrap();
        }
        r.u32().unwrap(); // tracks
        r.take(4 + 4 + 1 + 4).unwrap(); // source, track_ID, codec, fourcc
        r.bytes().unwrap();
        r.take(4 * 4 + 2).unwrap();
        if r.u8().unwrap() != 0 {
            r.take(3).unwrap();
        }
        r.take(8).unwrap();
        enc.len() - r.buf.len()
    }

    #[test]
    fn compact_counts_flags_and_lengths_are_checked() {
        let enc = sample_index().encode_compact();
        let at = first_count_at(&enc);
        assert_eq!(&enc[at..at + 4], &10u32.to_be_bytes());
        // A count the block cannot hold, or above the per-track limit, before any allocation.
        let mut huge = enc.clone();
        huge[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(
            AssetIndex::decode(&huge),
            Err(DecodeError("too many samples in a track"))
        );
        let mut more = enc.clone();
        more[at..at + 4].copy_from_slice(&11u32.to_be_bytes());
        assert!(AssetIndex::decode(&more).is_err());
        let mut fewer = enc.clone();
        fewer[at..at + 4].copy_from_slice(&9u32.to_be_bytes());
        assert_eq!(
            AssetIndex::decode(&fewer),
            Err(DecodeError("sample block longer than its samples"))
        );
        // The first sample's flags byte follows the block length.
        let mut flags = enc.clone();
        flags[at + 8] |= 0x20;
        assert_eq!(
            AssetIndex::decode(&flags),
            Err(DecodeError("unknown sample flags"))
        );
        // Another version, or version 1's header with version 2's samples, is refused.
        let mut version = enc.clone();
        version[4] = 3;
        assert_eq!(
            AssetIndex::decode(&version),
            Err(DecodeError("unknown encoding version"))
        );
        version[4] = VERSION_FIXED;
        assert!(AssetIndex::decode(&version).is_err());
        // A varint longer than a u64.
        let mut r = Varints {
            buf: &[0xff; 11],
            pos: 0,
        };
        assert_eq!(r.u64(), Err(DecodeError("varint overflows")));
        let mut r = Varints {
            buf: &[0xff, 0xff, 0xff, 0xff, 0x1f],
            pos: 0,
        };
        assert_eq!(r.u32(), Err(DecodeError("varint overflows")));
        for v in [0, 1, 127, 128, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(Varints { buf: &out, pos: 0 }.u64(), Ok(v));
            let as_u32 = Varints { buf: &out, pos: 0 }.u32();
            assert_eq!(as_u32.ok(), u32::try_from(v).ok());
            assert_eq!(unzigzag64(zigzag64(v)), v);
        }
    }
}
