//! Smooth Streaming fragments (MS-SSTR §2.2.4): a `moof` whose `traf` carries the
//! `TfxdBox` (§2.2.4.4, a `uuid` box with the fragment's absolute time and duration), then an
//! `mdat`.
//!
//! Smooth clients build their init segment from the client manifest, whose `TimeScale`
//! (10 MHz by default) is also the timescale of every duration and composition offset written
//! here. There is no `tfdt`: the fragment's decode time is `tfxd`'s absolute time (and the
//! manifest's `c@t`), which clients turn into a `tfdt` themselves.

use bytes::{BufMut, Bytes, BytesMut};

use crate::boxes::moof::{
    TRUN_DATA_OFFSET, TRUN_SAMPLE_CTS, TRUN_SAMPLE_DURATION, TRUN_SAMPLE_FLAGS, TRUN_SAMPLE_SIZE,
    write_mfhd,
};
use crate::error::{Error, Result, decode_error, limit_error};
use crate::limits;
use crate::mux::FragmentSample;
use crate::writer::{write_box, write_full_box};

/// The `usertype` of the `TfxdBox` (MS-SSTR §2.2.4.4).
pub const TFXD_USER_TYPE: [u8; 16] = [
    0x6d, 0x1d, 0x9b, 0x05, 0x42, 0xd5, 0x44, 0xe6, 0x80, 0xe2, 0x14, 0x1d, 0xaf, 0xf7, 0x57, 0xb2,
];

/// One Smooth Streaming fragment of one track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmoothFragment {
    /// `mfhd` sequence number (from 1).
    pub sequence_number: u32,
    /// `track_ID` written in `tfhd`; clients rewrite it to the track of their own init segment.
    pub track_id: u32,
    /// `tfxd` fragment_absolute_time: the decode time of the first sample, in manifest
    /// timescale units; equal to the manifest's `c@t` for this fragment.
    pub absolute_time: u64,
    /// `tfxd` fragment_duration, in manifest timescale units (the manifest's `c@d`).
    pub duration: u64,
    /// Samples in decode order; durations and composition offsets in manifest timescale units.
    pub samples: Vec<FragmentSample>,
}

/// Writes `moof` (`mfhd`, `traf` with `tfhd`, `trun`, `tfxd`) and `mdat`.
pub fn smooth_fragment(f: &SmoothFragment) -> Result<Bytes> {
    if f.track_id == 0 {
        return decode_error("smooth: track id 0");
    }
    if f.samples.is_empty() {
        return decode_error("smooth: fragment without samples");
    }
    if f.samples.len() > limits::MAX_FRAGMENT_SAMPLES {
        return limit_error("smooth: more than MAX_FRAGMENT_SAMPLES samples in a fragment");
    }
    let mut data_len = 0u64;
    for s in &f.samples {
        if u32::try_from(s.data.len()).is_err() {
            return limit_error("smooth: sample larger than 4 GiB");
        }
        data_len += s.data.len() as u64;
    }
    if data_len + 8 > u64::from(u32::MAX) {
        return limit_error("smooth: mdat larger than 4 GiB");
    }
    // Version 0 (unsigned offsets) is what Smooth clients have always read; signed offsets
    // (version 1, ISO/IEC 14496-12 §8.8.8.2) only when a sample needs one.
    let trun_version = u8::from(f.samples.iter().any(|s| s.cts_offset < 0));
    let mut buf = BytesMut::new();
    let mut data_offset_pos = 0usize;
    write_box(&mut buf, b"moof", |buf| {
        write_mfhd(buf, f.sequence_number);
        write_box(buf, b"traf", |buf| {
            // No flags: the base data offset is the start of the moof (§8.8.7.1, first traf).
            write_full_box(buf, b"tfhd", 0, 0, |buf| buf.put_u32(f.track_id));
            let flags = TRUN_DATA_OFFSET
                | TRUN_SAMPLE_DURATION
                | TRUN_SAMPLE_SIZE
                | TRUN_SAMPLE_FLAGS
                | TRUN_SAMPLE_CTS;
            write_full_box(buf, b"trun", trun_version, flags, |buf| {
                // Bounded by MAX_FRAGMENT_SAMPLES above.
                buf.put_u32(f.samples.len() as u32);
                data_offset_pos = buf.len();
                buf.put_i32(0);
                for s in &f.samples {
                    buf.put_u32(s.duration);
                    // Checked above.
                    buf.put_u32(s.data.len() as u32);
                    buf.put_u32(s.flags.0);
                    buf.put_i32(s.cts_offset);
                }
            });
            // MS-SSTR §2.2.4.4: version 1 carries 64-bit time and duration.
            write_box(buf, b"uuid", |buf| {
                buf.put_slice(&TFXD_USER_TYPE);
                buf.put_u32(0x0100_0000);
                buf.put_u64(f.absolute_time);
                buf.put_u64(f.duration);
            });
        });
    });
    let Ok(offset) = i32::try_from(buf.len() + 8) else {
        return Err(Error::Limit("smooth: moof beyond 2 GiB"));
    };
    buf[data_offset_pos..data_offset_pos + 4].copy_from_slice(&offset.to_be_bytes());
    // Checked above: data_len + 8 fits a u32.
    buf.put_u32((data_len + 8) as u32);
    buf.put_slice(b"mdat");
    for s in &f.samples {
        buf.put_slice(&s.data);
    }
    Ok(buf.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mux::SampleFlags;

    fn word(b: &[u8], at: usize) -> u32 {
        u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    fn sample(data: &'static [u8], sync: bool, cts: i32) -> FragmentSample {
        FragmentSample {
            duration: 400_000,
            flags: SampleFlags::from_sync(sync),
            cts_offset: cts,
            data: Bytes::from_static(data),
        }
    }

    #[test]
    fn layout() {
        let f = SmoothFragment {
            sequence_number: 3,
            track_id: 1,
            absolute_time: 40_000_000,
            duration: 800_000,
            samples: vec![sample(b"IDR", true, 800_000), sample(b"P", false, 0)],
        };
        let b = smooth_fragment(&f).unwrap();
        let moof = word(&b, 0) as usize;
        assert_eq!(&b[4..8], b"moof");
        assert_eq!(&b[12..16], b"mfhd");
        assert_eq!(word(&b, 20), 3);
        assert_eq!(&b[28..32], b"traf");
        assert_eq!(&b[36..40], b"tfhd");
        assert_eq!((word(&b, 40), word(&b, 44)), (0, 1));
        assert_eq!(&b[52..56], b"trun");
        assert_eq!(
            word(&b, 56),
            0x0000_0f01,
            "version 0, all per-sample fields"
        );
        assert_eq!(word(&b, 60), 2);
        assert_eq!(
            word(&b, 64) as usize,
            moof + 8,
            "data offset from the moof start"
        );
        assert_eq!(&b[moof + 8..], b"IDRP");
        assert_eq!(word(&b, moof) as usize, b.len() - moof);
        assert_eq!(&b[moof + 4..moof + 8], b"mdat");
        // tfxd: 44 bytes ending the traf, closing the moof.
        let tfxd = moof - 44;
        assert_eq!(word(&b, tfxd), 44);
        assert_eq!(&b[tfxd + 4..tfxd + 8], b"uuid");
        assert_eq!(&b[tfxd + 8..tfxd + 24], &TFXD_USER_TYPE);
        assert_eq!(word(&b, tfxd + 24), 0x0100_0000);
        assert_eq!(&b[tfxd + 28..tfxd + 36], &40_000_000u64.to_be_bytes());
        assert_eq!(&b[tfxd + 36..tfxd + 44], &800_000u64.to_be_bytes());
        assert_eq!(word(&b, 24) as usize, moof - 24, "traf ends with the moof");
    }

    #[test]
    fn negative_offsets_use_version_1_and_bad_input_is_refused() {
        let mut f = SmoothFragment {
            sequence_number: 1,
            track_id: 1,
            absolute_time: 0,
            duration: 1,
            samples: vec![sample(b"x", true, -5)],
        };
        let b = smooth_fragment(&f).unwrap();
        let trun = b.windows(4).position(|w| w == b"trun").unwrap();
        assert_eq!(b[trun + 4], 1);
        f.track_id = 0;
        assert!(smooth_fragment(&f).is_err());
        f.track_id = 1;
        f.samples.clear();
        assert!(smooth_fragment(&f).is_err());
    }
}
