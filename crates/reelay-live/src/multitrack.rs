//! The channel's multitrack input policy (`multitrackInputConfiguration`, IVS 2024-11) applied
//! to Enhanced RTMP video tags.
//!
//! Multitrack input means video tags for a track other than 0 (Enhanced RTMP multitrack tags
//! carry a track id per track; legacy and single-track tags are track 0). Decisions:
//!
//! - multitrack not enabled on the channel: the first tag of another track ends the session
//!   with code `MultitrackInputNotAllowed`;
//! - enabled, `ALLOW`: track 0 is packaged, other tracks are skipped (one rendition today);
//! - enabled, `REQUIRE`: the first coded video frame ends the session with
//!   `MultitrackInputRequired` unless another track has announced itself before (encoders send
//!   the sequence starts of every track before their first frames);
//! - enabled, multitrack input: `InvalidMultitrackInputTrackCount` when more tracks announce
//!   themselves than the channel's `maximumResolution` leaves room for (one per rung of IVS's
//!   ladder at or under it: 1080, 720, 480, 360, 160 lines, so 5 / 4 / 3 tracks for FULL_HD /
//!   HD / SD; an inference, AWS does not publish the number), or when the first coded frame
//!   comes with fewer than two tracks or without track 0 (the one reelay packages);
//!   `InvalidMultitrackInputVideoTrackMediaProperties` when a track is not H.264, or its
//!   decoder configuration has no readable SPS or a picture whose short side is above the
//!   maximum (SD ≤ 480, HD ≤ 720, FULL_HD ≤ 1080 lines, IVS's definition of the resolutions).
//!   Track 0 is checked too once the input shows itself multitrack (its configuration usually
//!   comes first, before the other tracks announce themselves).
//!
//! Pure: the caller keeps the [`State`] per connection.

use reelay_aws::generated::ivs::types::{
    MultitrackInputConfiguration, MultitrackMaximumResolution, MultitrackPolicy,
};

/// Session Ended code when multitrack input reaches a channel that does not enable it (model
/// documentation of `StreamEvent.code`).
pub const NOT_ALLOWED: &str = "MultitrackInputNotAllowed";
/// Session Ended code when single-track input reaches a channel that requires multitrack.
pub const REQUIRED: &str = "MultitrackInputRequired";
/// Session Ended code when a multitrack input has a number of tracks the channel does not take.
pub const TRACK_COUNT: &str = "InvalidMultitrackInputTrackCount";
/// Session Ended code when a track of a multitrack input has a codec or picture size the
/// channel does not take.
pub const MEDIA_PROPERTIES: &str = "InvalidMultitrackInputVideoTrackMediaProperties";

/// Fewest tracks of a multitrack input.
const MIN_TRACKS: usize = 2;

/// What to do with one video tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Package it (track 0).
    Package,
    /// Drop it (another track, accepted but not packaged).
    Skip,
    /// End the session with this code.
    Refuse(&'static str),
}

/// One video tag as the policy sees it.
#[derive(Debug, Clone, Copy)]
pub struct VideoTag<'a> {
    /// Enhanced RTMP track id (0 for legacy and single-track tags).
    pub track_id: u8,
    /// Whether the track's codec is H.264.
    pub avc: bool,
    /// The decoder configuration record when the tag is a sequence start
    /// (`AVCDecoderConfigurationRecord` for H.264).
    pub sequence_start: Option<&'a [u8]>,
    /// Whether the tag carries coded frames (rather than a sequence start or metadata).
    pub coded_frame: bool,
}

/// What is known of one track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Track {
    id: u8,
    avc: bool,
    /// Short side of the picture, once a decoder configuration was read.
    lines: Option<u32>,
    /// A decoder configuration came whose picture size could not be read.
    unreadable: bool,
}

/// Per-connection state. Holds at most one entry per track the channel admits (plus the one
/// that makes the count fail), so hostile input cannot grow it.
#[derive(Debug, Clone, Default)]
pub struct State {
    multitrack: bool,
    tracks: Vec<Track>,
    coded_seen: bool,
}

/// Most tracks a channel takes: one per rung of IVS's ladder at or under its maximum.
fn max_tracks(config: &MultitrackInputConfiguration) -> usize {
    match config.maximum_resolution {
        Some(MultitrackMaximumResolution::Sd) => 3,
        Some(MultitrackMaximumResolution::Hd) => 4,
        // FULL_HD, or unset (the API requires it when enabled).
        _ => 5,
    }
}

/// Most lines (short side) of a track's picture.
fn max_lines(config: &MultitrackInputConfiguration) -> u32 {
    match config.maximum_resolution {
        Some(MultitrackMaximumResolution::Sd) => 480,
        Some(MultitrackMaximumResolution::Hd) => 720,
        _ => 1080,
    }
}

/// The short side of the picture of an `AVCDecoderConfigurationRecord` (ISO/IEC 14496-15
/// §5.3.3.1: 5 bytes, then `numOfSequenceParameterSets` & 0x1F and each SPS with a 16-bit
/// length), from its first SPS.
fn record_lines(record: &[u8]) -> Option<u32> {
    if record.len() < 8 || record[0] != 1 || record[5] & 0x1F == 0 {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([record[6], record[7]]));
    let sps = record.get(8..8usize.checked_add(len)?)?;
    let info = crate::ts_media::parse_sps(sps)?;
    Some(info.width.min(info.height))
}

/// Applies the channel's policy to one video tag.
pub fn admit(
    config: &MultitrackInputConfiguration,
    state: &mut State,
    tag: &VideoTag<'_>,
) -> Admit {
    let enabled = config.enabled.unwrap_or(false);
    if tag.track_id != 0 && !enabled {
        return Admit::Refuse(NOT_ALLOWED);
    }
    if !enabled {
        return Admit::Package;
    }
    let index = match state.tracks.iter().position(|t| t.id == tag.track_id) {
        Some(i) => i,
        None => {
            if state.tracks.len() > max_tracks(config) {
                // Already refused on the previous new track; keep the state bounded.
                return Admit::Refuse(TRACK_COUNT);
            }
            state.tracks.push(Track {
                id: tag.track_id,
                avc: tag.avc,
                lines: None,
                unreadable: false,
            });
            state.tracks.len() - 1
        }
    };
    let track = &mut state.tracks[index];
    track.avc &= tag.avc;
    if let Some(record) = tag.sequence_start
        && tag.avc
    {
        match record_lines(record) {
            Some(lines) => {
                track.lines = Some(lines);
                track.unreadable = false;
            }
            None => track.unreadable = true,
        }
    }
    if tag.track_id != 0 {
        state.multitrack = true;
    }
    let first_coded = tag.coded_frame && !state.coded_seen;
    if tag.coded_frame {
        state.coded_seen = true;
    }
    if state.multitrack {
        if state.tracks.len() > max_tracks(config) {
            return Admit::Refuse(TRACK_COUNT);
        }
        if first_coded
            && (state.tracks.len() < MIN_TRACKS || !state.tracks.iter().any(|t| t.id == 0))
        {
            return Admit::Refuse(TRACK_COUNT);
        }
        let limit = max_lines(config);
        if state
            .tracks
            .iter()
            .any(|t| !t.avc || t.unreadable || t.lines.is_some_and(|l| l > limit))
        {
            return Admit::Refuse(MEDIA_PROPERTIES);
        }
        if tag.track_id != 0 {
            return Admit::Skip;
        }
        return Admit::Package;
    }
    if tag.coded_frame && config.policy == Some(MultitrackPolicy::Require) {
        return Admit::Refuse(REQUIRED);
    }
    Admit::Package
}

impl crate::LiveStream {
    /// [`admit`] with the channel's configuration and this stream's state.
    pub(crate) fn admit_video(&self, tag: &VideoTag<'_>) -> Admit {
        let mut state = self
            .multitrack_state
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        admit(&self.multitrack, &mut state, tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(
        enabled: bool,
        policy: MultitrackPolicy,
        max: MultitrackMaximumResolution,
    ) -> MultitrackInputConfiguration {
        MultitrackInputConfiguration {
            enabled: Some(enabled),
            policy: Some(policy),
            maximum_resolution: Some(max),
        }
    }

    /// Bits of a baseline SPS (ITU-T H.264 §7.3.2.1.1) for a `w`×`h` picture, both multiples
    /// of 16, without cropping or VUI.
    fn avcc(w: u32, h: u32) -> Vec<u8> {
        let mut bits: Vec<u8> = Vec::new();
        let mut put = |v: u32, n: u32| {
            for i in (0..n).rev() {
                bits.push(((v >> i) & 1) as u8);
            }
        };
        let ue = |put: &mut dyn FnMut(u32, u32), v: u32| {
            let x = v + 1;
            let len = 32 - x.leading_zeros();
            put(0, len - 1);
            put(x, len);
        };
        put(66, 8); // profile_idc: Baseline
        put(0, 8); // constraint flags
        put(30, 8); // level_idc
        ue(&mut put, 0); // seq_parameter_set_id
        ue(&mut put, 0); // log2_max_frame_num_minus4
        ue(&mut put, 2); // pic_order_cnt_type
        ue(&mut put, 1); // max_num_ref_frames
        put(0, 1); // gaps_in_frame_num_value_allowed_flag
        ue(&mut put, w / 16 - 1);
        ue(&mut put, h / 16 - 1);
        put(1, 1); // frame_mbs_only_flag
        put(1, 1); // direct_8x8_inference_flag
        put(0, 1); // frame_cropping_flag
        put(0, 1); // vui_parameters_present_flag
        put(1, 1); // rbsp_stop_one_bit
        while !bits.len().is_multiple_of(8) {
            bits.push(0);
        }
        let mut sps = vec![0x67];
        sps.extend(
            bits.chunks(8)
                .map(|c| c.iter().fold(0u8, |a, b| a << 1 | b)),
        );
        let mut rec = vec![1, 66, 0, 30, 0xFF, 0xE1];
        rec.extend_from_slice(&(sps.len() as u16).to_be_bytes());
        rec.extend_from_slice(&sps);
        rec.extend_from_slice(&[1, 0, 2, 0x68, 0xCE]);
        rec
    }

    fn start(track_id: u8, record: &[u8]) -> VideoTag<'_> {
        VideoTag {
            track_id,
            avc: true,
            sequence_start: Some(record),
            coded_frame: false,
        }
    }

    fn frame(track_id: u8) -> VideoTag<'static> {
        VideoTag {
            track_id,
            avc: true,
            sequence_start: None,
            coded_frame: true,
        }
    }

    #[test]
    fn sizes_come_from_the_record() {
        assert_eq!(record_lines(&avcc(320, 240)), Some(240));
        assert_eq!(record_lines(&avcc(720, 1280)), Some(720));
        // Hostile records: truncated, wrong version, no SPS, a length past the end.
        let good = avcc(640, 480);
        for bad in [
            &good[..7],
            &[0u8; 8][..],
            &[1, 66, 0, 30, 0xFF, 0xE0, 0, 4][..],
        ] {
            assert_eq!(record_lines(bad), None);
        }
        let mut long = good.clone();
        long[7] = 0xFF;
        assert_eq!(record_lines(&long), None);
    }

    #[test]
    fn policies() {
        use MultitrackMaximumResolution::FullHd;
        let off = cfg(false, MultitrackPolicy::Allow, FullHd);
        let allow = cfg(true, MultitrackPolicy::Allow, FullHd);
        let require = cfg(true, MultitrackPolicy::Require, FullHd);
        let rec = avcc(320, 240);
        let mut s = State::default();
        assert_eq!(admit(&off, &mut s, &frame(0)), Admit::Package);
        assert_eq!(
            admit(&off, &mut s, &start(1, &rec)),
            Admit::Refuse(NOT_ALLOWED)
        );
        let mut s = State::default();
        assert_eq!(admit(&allow, &mut s, &frame(0)), Admit::Package);
        let mut s = State::default();
        assert_eq!(admit(&allow, &mut s, &start(0, &rec)), Admit::Package);
        assert_eq!(admit(&allow, &mut s, &start(1, &rec)), Admit::Skip);
        assert_eq!(admit(&allow, &mut s, &frame(0)), Admit::Package);
        assert_eq!(admit(&allow, &mut s, &frame(1)), Admit::Skip);
        let mut s = State::default();
        assert_eq!(admit(&require, &mut s, &start(0, &rec)), Admit::Package);
        assert_eq!(admit(&require, &mut s, &frame(0)), Admit::Refuse(REQUIRED));
        let mut s = State::default();
        assert_eq!(admit(&require, &mut s, &start(0, &rec)), Admit::Package);
        assert_eq!(admit(&require, &mut s, &start(1, &rec)), Admit::Skip);
        assert_eq!(admit(&require, &mut s, &frame(0)), Admit::Package);
    }

    #[test]
    fn track_count_follows_the_maximum_resolution() {
        let rec = avcc(320, 240);
        for (max, limit) in [
            (MultitrackMaximumResolution::Sd, 3u8),
            (MultitrackMaximumResolution::Hd, 4),
            (MultitrackMaximumResolution::FullHd, 5),
        ] {
            let c = cfg(true, MultitrackPolicy::Allow, max);
            let mut s = State::default();
            assert_eq!(admit(&c, &mut s, &start(0, &rec)), Admit::Package);
            for t in 1..limit {
                assert_eq!(
                    admit(&c, &mut s, &start(t, &rec)),
                    Admit::Skip,
                    "{max:?} {t}"
                );
            }
            assert_eq!(
                admit(&c, &mut s, &start(limit, &rec)),
                Admit::Refuse(TRACK_COUNT)
            );
            // Further new tracks are refused without growing the state.
            for t in limit + 1..=255 {
                assert_eq!(
                    admit(&c, &mut s, &start(t, &rec)),
                    Admit::Refuse(TRACK_COUNT)
                );
            }
            assert!(s.tracks.len() <= usize::from(limit) + 1);
        }
        // A multitrack input without track 0 when its frames start.
        let c = cfg(
            true,
            MultitrackPolicy::Require,
            MultitrackMaximumResolution::Hd,
        );
        let mut s = State::default();
        assert_eq!(admit(&c, &mut s, &start(1, &rec)), Admit::Skip);
        assert_eq!(admit(&c, &mut s, &start(2, &rec)), Admit::Skip);
        assert_eq!(admit(&c, &mut s, &frame(1)), Admit::Refuse(TRACK_COUNT));
    }

    #[test]
    fn media_properties_follow_the_maximum_resolution() {
        let sd = cfg(
            true,
            MultitrackPolicy::Allow,
            MultitrackMaximumResolution::Sd,
        );
        let hd = cfg(
            true,
            MultitrackPolicy::Allow,
            MultitrackMaximumResolution::Hd,
        );
        let (r480, r720) = (avcc(848, 480), avcc(1280, 720));
        // Track 0 above the maximum: refused once the input shows itself multitrack.
        let mut s = State::default();
        assert_eq!(admit(&sd, &mut s, &start(0, &r720)), Admit::Package);
        assert_eq!(
            admit(&sd, &mut s, &start(1, &r480)),
            Admit::Refuse(MEDIA_PROPERTIES)
        );
        let mut s = State::default();
        assert_eq!(admit(&hd, &mut s, &start(0, &r720)), Admit::Package);
        assert_eq!(admit(&hd, &mut s, &start(1, &r480)), Admit::Skip);
        // A single-track input is not held to the multitrack maximum.
        let mut s = State::default();
        assert_eq!(admit(&sd, &mut s, &start(0, &r720)), Admit::Package);
        assert_eq!(admit(&sd, &mut s, &frame(0)), Admit::Package);
        // Another codec on a track, or a record without a readable SPS.
        let mut s = State::default();
        assert_eq!(admit(&hd, &mut s, &start(0, &r480)), Admit::Package);
        let hevc = VideoTag {
            avc: false,
            ..start(1, b"\x01")
        };
        assert_eq!(admit(&hd, &mut s, &hevc), Admit::Refuse(MEDIA_PROPERTIES));
        let mut s = State::default();
        assert_eq!(admit(&hd, &mut s, &start(0, &r480)), Admit::Package);
        assert_eq!(
            admit(&hd, &mut s, &start(1, &[1, 2, 3])),
            Admit::Refuse(MEDIA_PROPERTIES)
        );
    }
}
