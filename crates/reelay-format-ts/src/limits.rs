//! Limits applied to every length and count read from the wire, checked before allocating
//! (see STYLE.md, "Limits live in a named module").

/// Largest PES packet (header and payload) the demuxer reassembles. A 4K H.265 intra picture at
/// a high bit rate stays well below this; anything larger is dropped and counted.
pub const MAX_PES_SIZE: usize = 8 * 1024 * 1024;

/// Largest sum of all PES packets being reassembled at once, across PIDs.
pub const MAX_TOTAL_PES_BUFFER: usize = 24 * 1024 * 1024;

/// Largest number of elementary-stream PIDs the demuxer tracks; further streams of a PMT are
/// reported but their packets are ignored.
pub const MAX_ES_PIDS: usize = 32;

/// Largest number of programs taken from a PAT.
pub const MAX_PROGRAMS: usize = 16;

/// Largest PSI section the demuxer reassembles. ISO/IEC 13818-1 §2.4.4.3 and §2.4.4.8 cap
/// `section_length` of PAT and PMT sections at 1021, so a whole section is at most 1024 bytes.
pub const MAX_SECTION_SIZE: usize = 1024;

/// Largest number of unprocessed input bytes the demuxer holds. [`crate::Demuxer::push`]
/// refuses more until [`crate::Demuxer::poll`] has drained what was pushed.
pub const MAX_INPUT_BACKLOG: usize = 4 * 1024 * 1024;

/// Largest ADTS frame: `aac_frame_length` is a 13-bit field (ISO/IEC 14496-3 §1.A.2.2.1).
pub const MAX_ADTS_FRAME: usize = 8191;

/// Largest number of NAL units in one access unit accepted by the muxer.
pub const MAX_NAL_UNITS_PER_ACCESS_UNIT: usize = 1024;

/// Largest number of parameter sets (VPS, SPS, PPS together) taken from a decoder
/// configuration record or cached from an Annex B stream.
pub const MAX_PARAMETER_SETS: usize = 64;

/// Largest elementary-stream payload of one sample given to the muxer.
pub const MAX_SAMPLE_SIZE: usize = MAX_PES_SIZE;
