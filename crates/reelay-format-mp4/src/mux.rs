//! Fragmented MP4 / CMAF writer: init segments and media segments (ISO/IEC 14496-12 §8.8,
//! ISO/IEC 23000-19 §7).

use bytes::{BufMut, Bytes, BytesMut};

use crate::boxes::ftyp::{self, FileType};
use crate::boxes::moof::{self, TrunRow};
use crate::boxes::{elst, hdlr, mdhd, minf, mvex, mvhd, sidx as sidx_box, stsd, tkhd};
use crate::codec::Codec;
use crate::error::{Error, Result, decode_error, limit_error};
use crate::fourcc::FourCc;
use crate::limits;
use crate::movie::Track;
use crate::writer::write_box;

/// Movie timescale of init segments; track timing uses each track's own timescale.
const MOVIE_TIMESCALE: u32 = 1000;

/// What an init segment declares about one track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackConfig {
    /// `track_ID`, non-zero and unique in the init segment.
    pub track_id: u32,
    /// Media timescale: the unit of every duration, decode time and composition offset of the
    /// track's fragments.
    pub timescale: u32,
    /// ISO 639-2/T language; `None` writes `und`.
    pub language: Option<[u8; 3]>,
    /// The codec with its configuration record.
    pub codec: Codec,
    /// When set, the init segment carries an edit list starting presentation at this media time
    /// (in `timescale` units), e.g. to skip AAC encoder priming. `None` writes no edit list.
    pub edit_media_time: Option<u32>,
}

impl TrackConfig {
    /// The configuration that repackages a demuxed source track as is.
    pub fn from_track(track: &Track) -> Self {
        Self {
            track_id: track.id,
            timescale: track.timescale,
            language: track.language,
            codec: track.codec.clone(),
            edit_media_time: None,
        }
    }

    fn is_audio(&self) -> bool {
        matches!(self.codec, Codec::Aac(_))
    }
}

/// The `sample_flags` of a sample (ISO/IEC 14496-12 §8.8.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SampleFlags(pub u32);

impl SampleFlags {
    /// A sync sample: sample_depends_on = 2 (depends on no other sample),
    /// sample_is_non_sync_sample = 0.
    pub const SYNC: SampleFlags = SampleFlags(0x0200_0000);
    /// A non-sync sample: sample_depends_on = 1 (depends on others),
    /// sample_is_non_sync_sample = 1.
    pub const NON_SYNC: SampleFlags = SampleFlags(0x0101_0000);

    /// [`Self::SYNC`] or [`Self::NON_SYNC`].
    pub fn from_sync(is_sync: bool) -> Self {
        if is_sync { Self::SYNC } else { Self::NON_SYNC }
    }

    /// Whether sample_is_non_sync_sample is clear.
    pub fn is_sync(self) -> bool {
        self.0 & 0x0001_0000 == 0
    }
}

/// One sample of a track fragment. Its size is the length of `data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FragmentSample {
    /// Duration in the track's timescale.
    pub duration: u32,
    /// Sync / dependency flags.
    pub flags: SampleFlags,
    /// Composition offset: presentation time = decode time + `cts_offset` (signed, trun v1).
    pub cts_offset: i32,
    /// The sample's bytes (for video, length-prefixed NAL units as in the source).
    pub data: Bytes,
}

/// The samples of one track in one media segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackFragment {
    /// `track_ID` as declared in the init segment.
    pub track_id: u32,
    /// Decode time of the first sample, in the track's timescale (`tfdt`).
    pub base_media_decode_time: u64,
    /// Samples in decode order.
    pub samples: Vec<FragmentSample>,
}

/// One entry of a segment index: a media segment (`moof` + `mdat`) in DASH on-demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentReference {
    /// Size of the referenced segment in bytes (below 2^31).
    pub size: u32,
    /// Duration of the segment in the index timescale.
    pub duration: u32,
    /// Whether the segment starts with a random access point.
    pub starts_with_sap: bool,
}

/// Builds a CMAF init segment: `ftyp` (brands `iso6`, `cmfc`) and a `moov` with one `trak` per
/// track and an `mvex` announcing fragments.
pub fn init_segment(tracks: &[TrackConfig]) -> Result<Bytes> {
    if tracks.is_empty() {
        return decode_error("mux: init segment without tracks");
    }
    if tracks.len() > limits::MAX_TRACKS {
        return limit_error("mux: more than MAX_TRACKS tracks");
    }
    for (i, t) in tracks.iter().enumerate() {
        if t.track_id == 0 || tracks[..i].iter().any(|o| o.track_id == t.track_id) {
            return decode_error("mux: track ids must be non-zero and unique");
        }
        if t.timescale == 0 {
            return decode_error("mux: zero timescale");
        }
        stsd::validate_for_write(&t.codec)?;
    }
    // §8.2.2.3: next_track_ID of all ones means "search for an unused id", which is also the
    // right answer when the largest id is already all ones.
    let next_track_id = tracks
        .iter()
        .map(|t| t.track_id)
        .max()
        .unwrap_or(0)
        .saturating_add(1);
    let mut buf = BytesMut::new();
    ftyp::write(
        &mut buf,
        b"ftyp",
        &FileType {
            major_brand: FourCc::new(b"iso6"),
            minor_version: 0,
            // cmfc: CMAF track format (ISO/IEC 23000-19 §7.2); iso6: the 14496-12 features used.
            compatible_brands: vec![FourCc::new(b"iso6"), FourCc::new(b"cmfc")],
        },
    );
    write_box(&mut buf, b"moov", |buf| {
        mvhd::write(buf, MOVIE_TIMESCALE, next_track_id);
        for t in tracks {
            write_trak(buf, t);
        }
        mvex::write(buf, tracks.iter().map(|t| t.track_id));
    });
    Ok(buf.freeze())
}

fn write_trak(buf: &mut BytesMut, t: &TrackConfig) {
    let audio = t.is_audio();
    let (width, height) = match &t.codec {
        Codec::Avc(v) | Codec::Hevc(v) => (u32::from(v.width), u32::from(v.height)),
        _ => (0, 0),
    };
    write_box(buf, b"trak", |buf| {
        tkhd::write(buf, t.track_id, audio, width, height);
        if let Some(media_time) = t.edit_media_time {
            elst::write(buf, media_time);
        }
        write_box(buf, b"mdia", |buf| {
            mdhd::write(buf, t.timescale, t.language);
            if audio {
                hdlr::write(buf, b"soun", "SoundHandler");
            } else {
                hdlr::write(buf, b"vide", "VideoHandler");
            }
            minf::write(buf, &t.codec, audio);
        });
    });
}

/// Builds a media segment: one `moof` with a `traf` per fragment, then one `mdat` holding the
/// fragments' samples in order.
pub fn media_segment(sequence_number: u32, fragments: &[TrackFragment]) -> Result<Bytes> {
    for s in fragments.iter().flat_map(|f| &f.samples) {
        if u32::try_from(s.data.len()).is_err() {
            return limit_error("mux: sample larger than 4 GiB");
        }
    }
    let layouts: Vec<FragmentLayout> = fragments
        .iter()
        .map(|f| FragmentLayout {
            track_id: f.track_id,
            base_media_decode_time: f.base_media_decode_time,
            samples: f
                .samples
                .iter()
                .map(|s| SampleLayout {
                    duration: s.duration,
                    flags: s.flags,
                    cts_offset: s.cts_offset,
                    // Checked above.
                    size: s.data.len() as u32,
                })
                .collect(),
        })
        .collect();
    let header = media_segment_header(sequence_number, &layouts)?;
    let data_len: usize = fragments
        .iter()
        .flat_map(|f| &f.samples)
        .map(|s| s.data.len())
        .sum();
    let mut buf = BytesMut::with_capacity(header.len() + data_len);
    buf.put_slice(&header);
    for f in fragments {
        for s in &f.samples {
            buf.put_slice(&s.data);
        }
    }
    Ok(buf.freeze())
}

/// One sample of a [`FragmentLayout`]: what the `trun` says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleLayout {
    /// Duration in the track's timescale.
    pub duration: u32,
    /// Sync / dependency flags.
    pub flags: SampleFlags,
    /// Composition offset (signed, trun v1).
    pub cts_offset: i32,
    /// Size of the sample's data in bytes.
    pub size: u32,
}

/// The samples of one track in one media segment, described without their bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FragmentLayout {
    /// `track_ID` as declared in the init segment.
    pub track_id: u32,
    /// Decode time of the first sample, in the track's timescale (`tfdt`).
    pub base_media_decode_time: u64,
    /// Samples in decode order.
    pub samples: Vec<SampleLayout>,
}

/// The head of a media segment: the `moof` and the `mdat` box header, exactly the bytes
/// [`media_segment`] writes before the sample data. The caller sends the samples' bytes after
/// it, in order (fragments in order, samples in order), so the sample data never has to be
/// copied into one buffer with the boxes.
pub fn media_segment_header(sequence_number: u32, fragments: &[FragmentLayout]) -> Result<Bytes> {
    if fragments.is_empty() {
        return decode_error("mux: media segment without track fragments");
    }
    if fragments.len() > limits::MAX_TRACKS {
        return limit_error("mux: more than MAX_TRACKS track fragments");
    }
    let mut data_len = 0u64;
    let mut rows = 0usize;
    for f in fragments {
        if f.track_id == 0 {
            return decode_error("mux: track id 0");
        }
        if f.samples.len() > limits::MAX_FRAGMENT_SAMPLES {
            return limit_error("mux: more than MAX_FRAGMENT_SAMPLES samples in a fragment");
        }
        rows += f.samples.len();
        data_len += f.samples.iter().map(|s| u64::from(s.size)).sum::<u64>();
    }
    // mfhd 16, per traf 8 + tfhd 16 + tfdt 20 + trun 20, 16 bytes per row; mdat header 16.
    let mut buf = BytesMut::with_capacity(8 + 16 + fragments.len() * 64 + rows * 16 + 16);
    let mut data_offset_positions = Vec::with_capacity(fragments.len());
    write_box(&mut buf, b"moof", |buf| {
        moof::write_mfhd(buf, sequence_number);
        for f in fragments {
            let rows = f.samples.iter().map(|s| TrunRow {
                duration: s.duration,
                size: s.size,
                flags: s.flags.0,
                cts_offset: s.cts_offset,
            });
            data_offset_positions.push(moof::write_traf(
                buf,
                f.track_id,
                f.base_media_decode_time,
                rows,
            ));
        }
    });
    let moof_len = buf.len() as u64;
    // §4.2: a 64-bit largesize when the box does not fit 32 bits.
    let mdat_header_len: u64 = if data_len + 8 > u64::from(u32::MAX) {
        16
    } else {
        8
    };
    let mut offset = moof_len + mdat_header_len;
    for (pos, f) in data_offset_positions.into_iter().zip(fragments) {
        // The data offset is relative to the moof start (default-base-is-moof) and signed.
        let Ok(field) = i32::try_from(offset) else {
            return Err(Error::Limit("mux: sample data beyond 2 GiB from the moof"));
        };
        buf[pos..pos + 4].copy_from_slice(&field.to_be_bytes());
        offset += f.samples.iter().map(|s| u64::from(s.size)).sum::<u64>();
    }
    if mdat_header_len == 16 {
        buf.put_u32(1);
        buf.put_slice(b"mdat");
        buf.put_u64(data_len + 16);
    } else {
        // Checked above: data_len + 8 fits a u32.
        buf.put_u32((data_len + 8) as u32);
        buf.put_slice(b"mdat");
    }
    Ok(buf.freeze())
}

/// Builds a segment index (`sidx`, version 1) for DASH on-demand: `first_offset` is the distance
/// from the end of the `sidx` to the first referenced segment.
pub fn sidx(
    reference_id: u32,
    timescale: u32,
    earliest_presentation_time: u64,
    first_offset: u64,
    references: &[SegmentReference],
) -> Result<Bytes> {
    if timescale == 0 {
        return decode_error("sidx: zero timescale");
    }
    if references.len() > usize::from(u16::MAX) {
        return limit_error("sidx: more than 65535 references");
    }
    if references.iter().any(|r| r.size >= 1 << 31) {
        return limit_error("sidx: referenced_size is 31 bits");
    }
    let refs: Vec<_> = references
        .iter()
        .map(|r| (r.size, r.duration, r.starts_with_sap))
        .collect();
    let mut buf = BytesMut::new();
    sidx_box::write(
        &mut buf,
        reference_id,
        timescale,
        earliest_presentation_time,
        first_offset,
        &refs,
    );
    Ok(buf.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{AudioConfig, VideoConfig};
    use crate::movie::{Handler, parse_moov_inner};

    fn video() -> TrackConfig {
        TrackConfig {
            track_id: 1,
            timescale: 12800,
            language: Some(*b"eng"),
            codec: Codec::Avc(VideoConfig {
                fourcc: FourCc::new(b"avc1"),
                width: 320,
                height: 240,
                config: Bytes::from_static(&[1, 0x64, 0, 0x0d, 0xff, 0xe0, 0]),
            }),
            edit_media_time: Some(1024),
        }
    }

    fn audio() -> TrackConfig {
        TrackConfig {
            track_id: 2,
            timescale: 48000,
            language: None,
            codec: Codec::Aac(AudioConfig {
                fourcc: FourCc::new(b"mp4a"),
                sample_rate: 48000,
                channels: 2,
                object_type: 2,
                config: Bytes::from_static(&[0x11, 0x90]),
            }),
            edit_media_time: None,
        }
    }

    #[test]
    fn init_segment_parses_back() {
        let init = init_segment(&[video(), audio()]).unwrap();
        assert_eq!(&init[4..8], b"ftyp");
        assert_eq!(&init[8..12], b"iso6");
        assert_eq!(&init[16..24], b"iso6cmfc");
        let moov = &init[24..];
        // A fragmented moov is refused as a source, and parses when allowed.
        assert_eq!(crate::parse_moov(moov), Err(crate::FRAGMENTED_SOURCE));
        let movie = parse_moov_inner(moov, true).unwrap();
        assert_eq!(movie.tracks.len(), 2);
        let (v, a) = (&movie.tracks[0], &movie.tracks[1]);
        assert_eq!((v.id, v.handler, v.timescale), (1, Handler::Video, 12800));
        assert_eq!((v.width, v.height, v.language), (320, 240, Some(*b"eng")));
        assert_eq!(v.codec, video().codec);
        assert_eq!(v.edit_list.map(|e| e.media_time), Some(1024));
        assert_eq!(
            (a.id, a.handler, a.language),
            (2, Handler::Audio, Some(*b"und"))
        );
        assert_eq!(a.codec, audio().codec);
        assert_eq!(a.edit_list, None);
        assert!(a.samples().unwrap().is_empty());
    }

    #[test]
    fn init_segment_rejects_bad_configs() {
        assert!(init_segment(&[]).is_err());
        let dup = [
            video(),
            TrackConfig {
                track_id: 1,
                ..audio()
            },
        ];
        assert!(init_segment(&dup).is_err());
        let other = TrackConfig {
            codec: Codec::Other(FourCc::new(b"mp4v")),
            ..video()
        };
        assert!(matches!(init_segment(&[other]), Err(Error::Unsupported(_))));
        let mut wrong_kind = video();
        if let Codec::Avc(v) = &mut wrong_kind.codec {
            v.fourcc = FourCc::new(b"hvc1");
        }
        assert!(init_segment(&[wrong_kind]).is_err());
    }

    fn word(buf: &[u8], at: usize) -> u32 {
        u32::from_be_bytes(buf[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn media_segment_layout() {
        let sample = |data: &'static [u8], sync, cts| FragmentSample {
            duration: 512,
            flags: SampleFlags::from_sync(sync),
            cts_offset: cts,
            data: Bytes::from_static(data),
        };
        let fragments = [
            TrackFragment {
                track_id: 1,
                base_media_decode_time: 1 << 40,
                samples: vec![sample(b"IDR", true, 1024), sample(b"B", false, -512)],
            },
            TrackFragment {
                track_id: 2,
                base_media_decode_time: 7,
                samples: vec![sample(b"aac", true, 0)],
            },
        ];
        let seg = media_segment(9, &fragments).unwrap();
        let moof_len = word(&seg, 0) as usize;
        assert_eq!(&seg[4..8], b"moof");
        assert_eq!(&seg[12..16], b"mfhd");
        assert_eq!(word(&seg, 20), 9);
        assert_eq!(&seg[moof_len + 4..moof_len + 8], b"mdat");
        assert_eq!(word(&seg, moof_len) as usize, seg.len() - moof_len);
        assert_eq!(&seg[moof_len + 8..], b"IDRBaac");

        // Each trun's data_offset, relative to the moof, points at its track's first sample.
        let truns: Vec<usize> = seg
            .windows(4)
            .enumerate()
            .filter(|(_, w)| w == b"trun")
            .map(|(i, _)| i)
            .collect();
        assert_eq!(truns.len(), 2);
        let first = truns[0];
        assert_eq!(
            word(&seg, first + 4),
            0x0100_0f01,
            "trun version 1, all fields"
        );
        assert_eq!(word(&seg, first + 8), 2, "sample_count");
        assert_eq!(&seg[word(&seg, first + 12) as usize..][..3], b"IDR");
        assert_eq!(&seg[word(&seg, truns[1] + 12) as usize..][..3], b"aac");
        // Rows: duration, size, flags, signed composition offset.
        let row2 = first + 16 + 16;
        assert_eq!(word(&seg, row2 + 4), 1);
        assert_eq!(word(&seg, row2 + 8), SampleFlags::NON_SYNC.0);
        assert_eq!(word(&seg, row2 + 12) as i32, -512);
        // tfhd: default-base-is-moof; tfdt version 1 with the 64-bit time.
        let tfhd = seg.windows(4).position(|w| w == b"tfhd").unwrap();
        assert_eq!(word(&seg, tfhd + 4), 0x0002_0000);
        let tfdt = seg.windows(4).position(|w| w == b"tfdt").unwrap();
        assert_eq!(word(&seg, tfdt + 4), 0x0100_0000);
        assert_eq!(&seg[tfdt + 8..tfdt + 16], &(1u64 << 40).to_be_bytes());
    }

    #[test]
    fn sample_flags() {
        assert!(SampleFlags::SYNC.is_sync());
        assert!(!SampleFlags::NON_SYNC.is_sync());
        assert_eq!(SampleFlags::from_sync(false), SampleFlags::NON_SYNC);
    }

    #[test]
    fn sidx_layout() {
        let refs = [
            SegmentReference {
                size: 1000,
                duration: 12800,
                starts_with_sap: true,
            },
            SegmentReference {
                size: 900,
                duration: 6400,
                starts_with_sap: false,
            },
        ];
        let b = sidx(1, 12800, 1024, 0, &refs).unwrap();
        assert_eq!(b.len(), 12 + 4 + 4 + 8 + 8 + 4 + 2 * 12);
        assert_eq!(word(&b, 0) as usize, b.len());
        assert_eq!(&b[4..8], b"sidx");
        assert_eq!(word(&b, 8), 0x0100_0000);
        assert_eq!(word(&b, 16), 12800);
        assert_eq!(&b[20..28], &1024u64.to_be_bytes());
        assert_eq!(word(&b, 36), 2, "reserved + reference_count");
        assert_eq!(
            (word(&b, 40), word(&b, 44), word(&b, 48)),
            (1000, 12800, 0x9000_0000)
        );
        assert_eq!((word(&b, 52), word(&b, 56), word(&b, 60)), (900, 6400, 0));
        let too_big = [SegmentReference {
            size: 1 << 31,
            duration: 1,
            starts_with_sap: true,
        }];
        assert!(matches!(sidx(1, 1, 0, 0, &too_big), Err(Error::Limit(_))));
        assert!(sidx(1, 0, 0, 0, &refs).is_err());
    }
}
