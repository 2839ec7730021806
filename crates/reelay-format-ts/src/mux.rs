//! The muxer: elementary-stream samples in, 188-byte transport stream packets out
//! (ISO/IEC 13818-1 §2.4), shaped the way Apple HLS expects MPEG-TS segments.

use bytes::{BufMut, Bytes, BytesMut};

use crate::adts::{self, AacConfig};
use crate::error::{Error, Result};
use crate::limits::MAX_SAMPLE_SIZE;
use crate::packet::{
    AdaptationFlags, BODY_SIZE, NULL_PID, PACKET_SIZE, PAT_PID, write_packet, write_packet_header,
};
use crate::pat::{self, PatEntry};
use crate::pes::{self, STREAM_ID_AUDIO, STREAM_ID_PRIVATE_1, STREAM_ID_VIDEO};
use crate::pmt::{self, EsEntry};
use crate::stream_type::StreamType;
use crate::video::{VideoCodec, VideoWriter};

/// The longest gap between two PCRs the muxer lets through when samples allow it, in 90 kHz
/// ticks (40 ms). ISO/IEC 13818-1 §2.7.2 requires at most 100 ms.
const PCR_INTERVAL: u64 = 3600;

/// `metadata_pointer_descriptor` (§2.6.58) announcing ID3 timed metadata in the same stream:
/// application format and metadata format 0xFFFF / 0xFF with the identifier "ID3 ", service 0,
/// no locator record, MPEG carriage flags 0 (same transport stream), then the program number.
fn metadata_pointer_descriptor(program_number: u16) -> Vec<u8> {
    let mut d = vec![0x25, 15, 0xFF, 0xFF];
    d.extend_from_slice(b"ID3 ");
    d.push(0xFF);
    d.extend_from_slice(b"ID3 ");
    d.push(0x00);
    // metadata_locator_record_flag 0, MPEG_carriage_flags 00, five reserved bits.
    d.push(0x1F);
    d.extend_from_slice(&program_number.to_be_bytes());
    d
}

/// `metadata_descriptor` (§2.6.60) of the ID3 stream: same formats as the pointer, service 0,
/// no decoder configuration, no DSM-CC, four reserved bits.
fn metadata_descriptor() -> Vec<u8> {
    let mut d = vec![0x26, 13, 0xFF, 0xFF];
    d.extend_from_slice(b"ID3 ");
    d.push(0xFF);
    d.extend_from_slice(b"ID3 ");
    d.push(0x00);
    d.push(0x0F);
    d
}

/// How the muxer receives video samples.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VideoTrack {
    /// Annex B access units. Parameter sets found in band are remembered and repeated before
    /// later random access pictures that lack them.
    AnnexB(VideoCodec),
    /// NAL units with length prefixes, as in MP4 samples, described by the decoder
    /// configuration record (`avcC` for H.264, `hvcC` for H.265) whose parameter sets are
    /// inserted before every random access picture.
    LengthPrefixed {
        /// The codec.
        codec: VideoCodec,
        /// The `avcC` or `hvcC` record (the box payload, without the box header).
        record: Bytes,
    },
}

/// Muxer settings. [`MuxerConfig::default`] uses the PIDs and program number ffmpeg uses.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MuxerConfig {
    /// The video track, if any. It carries the PCR when present.
    pub video: Option<VideoTrack>,
    /// The AAC track, if any: raw AAC frames are given ADTS headers built from this.
    pub audio: Option<AacConfig>,
    /// Whether to declare an ID3 timed-metadata stream (`stream_type` 0x15).
    pub timed_metadata: bool,
    /// `transport_stream_id` of the PAT.
    pub transport_stream_id: u16,
    /// `program_number` of the single program.
    pub program_number: u16,
    /// PID of the PMT.
    pub pmt_pid: u16,
    /// PID of the video stream.
    pub video_pid: u16,
    /// PID of the audio stream.
    pub audio_pid: u16,
    /// PID of the ID3 stream.
    pub metadata_pid: u16,
}

impl Default for MuxerConfig {
    fn default() -> Self {
        Self {
            video: None,
            audio: None,
            timed_metadata: false,
            transport_stream_id: 1,
            program_number: 1,
            pmt_pid: 0x1000,
            video_pid: 0x100,
            audio_pid: 0x101,
            metadata_pid: 0x102,
        }
    }
}

impl MuxerConfig {
    /// Adds a video track.
    pub fn with_video(mut self, video: VideoTrack) -> Self {
        self.video = Some(video);
        self
    }

    /// Adds an AAC track.
    pub fn with_audio(mut self, audio: AacConfig) -> Self {
        self.audio = Some(audio);
        self
    }

    /// Declares an ID3 timed-metadata stream.
    pub fn with_timed_metadata(mut self) -> Self {
        self.timed_metadata = true;
        self
    }
}

/// The track a sample belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Track {
    /// The video track.
    Video,
    /// The AAC track.
    Audio,
    /// The ID3 timed-metadata track.
    Metadata,
}

/// One access unit given to the muxer. Timestamps are in 90 kHz units on the caller's
/// timeline; they are written modulo 2^33.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sample<'a> {
    /// The track.
    pub track: Track,
    /// Presentation time stamp.
    pub pts: u64,
    /// Decoding time stamp; equal to `pts` for audio and metadata.
    pub dts: u64,
    /// Whether the sample is a random access point (for video: an IDR or IRAP picture, which
    /// the muxer also detects itself).
    pub keyframe: bool,
    /// Video: one access unit, Annex B or length-prefixed per [`VideoTrack`]. Audio: one raw
    /// AAC frame without ADTS header. Metadata: a complete ID3v2 tag.
    pub data: &'a [u8],
}

impl<'a> Sample<'a> {
    /// A video access unit.
    pub fn video(pts: u64, dts: u64, keyframe: bool, data: &'a [u8]) -> Self {
        Self {
            track: Track::Video,
            pts,
            dts,
            keyframe,
            data,
        }
    }

    /// A raw AAC frame.
    pub fn audio(pts: u64, data: &'a [u8]) -> Self {
        Self {
            track: Track::Audio,
            pts,
            dts: pts,
            keyframe: true,
            data,
        }
    }

    /// An ID3v2 tag for the timed-metadata track.
    pub fn metadata(pts: u64, data: &'a [u8]) -> Self {
        Self {
            track: Track::Metadata,
            pts,
            dts: pts,
            keyframe: false,
            data,
        }
    }
}

/// Continuity counters of the PIDs the muxer writes: the next value to use (§2.4.3.3).
#[derive(Debug, Default)]
struct Counters {
    pat: u8,
    pmt: u8,
    video: u8,
    audio: u8,
    metadata: u8,
}

fn next(counter: &mut u8) -> u8 {
    let value = *counter;
    *counter = (value + 1) & 0x0F;
    value
}

/// A sans-IO MPEG-TS muxer for one program.
///
/// Call [`Muxer::write_pat_pmt`] at the start of the stream and of every HLS segment, then
/// [`Muxer::write_sample`] for each sample in decoding order; concatenate the returned bytes.
///
/// The PCR takes the value of the decoding time of the sample being written, never going
/// backwards. It is written on the first sample after [`Muxer::write_pat_pmt`], on every video
/// keyframe, and whenever 40 ms have passed since the last one; as the muxer only writes when
/// given samples, gaps stay under the 100 ms of ISO/IEC 13818-1 §2.7.2 as long as some track
/// delivers a sample at least every 100 ms (AAC alone does, at about 21 ms per frame).
#[derive(Debug)]
pub struct Muxer {
    config: MuxerConfig,
    video: Option<VideoWriter>,
    audio: Option<AacConfig>,
    pcr_pid: u16,
    psi: Vec<u8>,
    pmt: Vec<u8>,
    pmt_version: u8,
    counters: Counters,
    last_pcr: Option<u64>,
    pcr_due: bool,
}

impl Muxer {
    /// Checks the configuration and prepares the PAT and PMT.
    pub fn new(config: MuxerConfig) -> Result<Self> {
        let video = match &config.video {
            None => None,
            Some(VideoTrack::AnnexB(codec)) => Some(VideoWriter::annex_b(*codec)),
            Some(VideoTrack::LengthPrefixed { codec, record }) => {
                Some(VideoWriter::length_prefixed(*codec, record)?)
            }
        };
        let audio = match config.audio {
            None => None,
            Some(aac) => {
                if aac.channel_configuration == 0 {
                    return Err(Error::Unsupported("aac: channelConfiguration 0 (PCE)"));
                }
                Some(AacConfig::new(
                    aac.object_type,
                    aac.sampling_frequency_index,
                    aac.channel_configuration,
                )?)
            }
        };
        if video.is_none() && audio.is_none() {
            return Err(Error::Config("muxer: needs a video or an audio track"));
        }
        if config.program_number == 0 {
            return Err(Error::Config("muxer: program_number 0 is the network PID"));
        }
        let mut pids = vec![config.pmt_pid];
        if video.is_some() {
            pids.push(config.video_pid);
        }
        if audio.is_some() {
            pids.push(config.audio_pid);
        }
        if config.timed_metadata {
            pids.push(config.metadata_pid);
        }
        // Table 2-3: 0x0000..=0x000F are reserved for tables, 0x1FFF is the null packet.
        if pids.iter().any(|&pid| !(0x0010..NULL_PID).contains(&pid)) {
            return Err(Error::Config("muxer: PIDs must be within 0x0010..=0x1FFE"));
        }
        let mut sorted = pids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != pids.len() {
            return Err(Error::Config("muxer: PIDs must be distinct"));
        }
        let pcr_pid = if video.is_some() {
            config.video_pid
        } else {
            config.audio_pid
        };

        let mut psi = Vec::new();
        pat::write(
            &mut psi,
            config.transport_stream_id,
            PatEntry {
                program_number: config.program_number,
                pmt_pid: config.pmt_pid,
            },
        );
        let pmt = build_pmt(
            &config,
            video.as_ref().map(|v| v.codec().stream_type()),
            audio.is_some(),
            pcr_pid,
            0,
        );
        Ok(Self {
            config,
            video,
            audio,
            pcr_pid,
            psi,
            pmt,
            pmt_version: 0,
            counters: Counters::default(),
            last_pcr: None,
            pcr_due: true,
        })
    }

    /// The configuration this muxer was built with.
    pub fn config(&self) -> &MuxerConfig {
        &self.config
    }

    /// Declares the ID3 timed-metadata stream on a running muxer (for example when the first
    /// metadata of a live stream arrives): the PMT gains the stream and its descriptors under the
    /// next `version_number` (§2.4.4.9), continuity counters carry on, and the next
    /// [`Muxer::write_pat_pmt`] announces it. Nothing happens when it is already declared.
    pub fn enable_timed_metadata(&mut self) -> Result<()> {
        if self.config.timed_metadata {
            return Ok(());
        }
        let pid = self.config.metadata_pid;
        let taken = [
            self.config.pmt_pid,
            self.config.video_pid,
            self.config.audio_pid,
        ];
        if !(0x0010..NULL_PID).contains(&pid) || taken.contains(&pid) {
            return Err(Error::Config("muxer: metadata PID must be free and valid"));
        }
        self.config.timed_metadata = true;
        self.pmt_version = (self.pmt_version + 1) & 0x1F;
        self.pmt = build_pmt(
            &self.config,
            self.video.as_ref().map(|v| v.codec().stream_type()),
            self.audio.is_some(),
            self.pcr_pid,
            self.pmt_version,
        );
        Ok(())
    }

    /// Writes one PAT and one PMT packet. HLS segments must start with these so that each can
    /// be decoded on its own; the next sample on the PCR PID also carries a PCR.
    pub fn write_pat_pmt(&mut self) -> Bytes {
        let mut out = BytesMut::with_capacity(2 * 188);
        write_section_packets(&mut out, PAT_PID, &mut self.counters.pat, &self.psi);
        write_section_packets(
            &mut out,
            self.config.pmt_pid,
            &mut self.counters.pmt,
            &self.pmt,
        );
        self.pcr_due = true;
        out.freeze()
    }

    /// Packetizes one sample and returns its packets (preceded by a PCR-only packet on the
    /// video PID when audio or metadata arrive and a PCR is due).
    pub fn write_sample(&mut self, sample: &Sample<'_>) -> Result<Bytes> {
        let mut out = BytesMut::new();
        self.write_sample_into(sample, &mut out)?;
        Ok(out.freeze())
    }

    /// [`Muxer::write_sample`], appending the packets to `out`. Each byte of the sample is
    /// copied once, from the sample straight into its packet: the PES packet is described as a
    /// gather list (PES header, ADTS header or start codes and parameter sets, NAL units) and
    /// cut into packets as it is copied. Nothing is appended when an error is returned.
    pub fn write_sample_into(&mut self, sample: &Sample<'_>, out: &mut BytesMut) -> Result<()> {
        if sample.data.len() > MAX_SAMPLE_SIZE {
            return Err(Error::Limit("muxer: sample size"));
        }
        // The PES header and the ADTS header live here.
        let mut pes_header = [0u8; pes::MAX_HEADER_LEN];
        let mut adts_header = [0u8; adts::HEADER_LEN];
        let mut parts: Vec<&[u8]> = Vec::new();
        parts.push(&[]);
        let pcr_counter = self.pcr_counter();
        let (pid, stream_id, random_access, dts) = match sample.track {
            Track::Video => {
                let Some(video) = &mut self.video else {
                    return Err(Error::Config("muxer: no video track"));
                };
                let random_access =
                    video.access_unit_parts(sample.data, sample.keyframe, &mut parts)?;
                (
                    self.config.video_pid,
                    STREAM_ID_VIDEO,
                    random_access,
                    sample.dts,
                )
            }
            Track::Audio => {
                let Some(aac) = &self.audio else {
                    return Err(Error::Config("muxer: no audio track"));
                };
                adts::write_header(&mut &mut adts_header[..], aac, sample.data.len())?;
                parts.push(&adts_header);
                parts.push(sample.data);
                // Every AAC frame can start decoding; flag it when audio carries the clock.
                let random_access = self.video.is_none();
                (
                    self.config.audio_pid,
                    STREAM_ID_AUDIO,
                    random_access,
                    sample.pts,
                )
            }
            Track::Metadata => {
                if !self.config.timed_metadata {
                    return Err(Error::Config("muxer: no timed-metadata track"));
                }
                parts.push(sample.data);
                (
                    self.config.metadata_pid,
                    STREAM_ID_PRIVATE_1,
                    false,
                    sample.pts,
                )
            }
        };
        let es_len: usize = parts.iter().map(|p| p.len()).sum();
        let header_len = {
            let mut w = &mut pes_header[..];
            pes::write_header(
                &mut w,
                stream_id,
                sample.pts,
                dts,
                es_len,
                sample.track == Track::Video,
            )?;
            pes::MAX_HEADER_LEN - w.len()
        };
        parts[0] = &pes_header[..header_len];
        let pes_len = header_len + es_len;

        // One PCR-only packet at most, then the PES packets.
        out.reserve((pes_len / BODY_SIZE + 3) * PACKET_SIZE);
        let mut flags = AdaptationFlags {
            random_access,
            pcr: None,
        };
        let since_last = self.last_pcr.map(|last| dts.saturating_sub(last));
        let pcr_due = self.pcr_due
            || since_last.is_none_or(|gap| gap >= PCR_INTERVAL)
            || (pid == self.pcr_pid && random_access);
        if pcr_due {
            // PCR follows the decoding times, never going backwards when tracks interleave.
            let pcr = self.last_pcr.map_or(dts, |last| last.max(dts));
            self.last_pcr = Some(pcr);
            self.pcr_due = false;
            if pid == self.pcr_pid {
                flags.pcr = Some(pcr);
            } else {
                // An adaptation-field-only packet: §2.4.3.3 says the continuity counter is not
                // incremented, so it repeats the PCR PID's last value.
                let counter = pcr_counter;
                write_packet(
                    out,
                    self.pcr_pid,
                    false,
                    counter.wrapping_sub(1) & 0x0F,
                    AdaptationFlags {
                        random_access: false,
                        pcr: Some(pcr),
                    },
                    &[],
                );
            }
        }
        let counter = match sample.track {
            Track::Video => &mut self.counters.video,
            Track::Audio => &mut self.counters.audio,
            Track::Metadata => &mut self.counters.metadata,
        };
        let mut remaining = pes_len;
        let mut pieces = parts.iter().copied().filter(|p| !p.is_empty());
        let mut piece: &[u8] = &[];
        let mut first = true;
        while remaining > 0 {
            let packet_flags = if first {
                flags
            } else {
                AdaptationFlags::default()
            };
            let mut n =
                write_packet_header(out, pid, first, next(counter), packet_flags, remaining);
            remaining -= n;
            while n > 0 {
                if piece.is_empty() {
                    // `remaining` counts exactly the bytes of `parts` not yet copied, so a
                    // piece is always left here; stopping beats looping should that break.
                    let Some(next_piece) = pieces.next() else {
                        break;
                    };
                    piece = next_piece;
                }
                let take = n.min(piece.len());
                out.put_slice(&piece[..take]);
                piece = &piece[take..];
                n -= take;
            }
            first = false;
        }
        Ok(())
    }

    fn pcr_counter(&self) -> u8 {
        if self.video.is_some() {
            self.counters.video
        } else {
            self.counters.audio
        }
    }
}

/// The PMT section of the muxer's program: video, AAC, then the ID3 stream with its
/// `metadata_pointer_descriptor` in the program info when timed metadata is declared.
fn build_pmt(
    config: &MuxerConfig,
    video: Option<StreamType>,
    audio: bool,
    pcr_pid: u16,
    version: u8,
) -> Vec<u8> {
    let metadata_es = metadata_descriptor();
    let mut streams = Vec::new();
    if let Some(stream_type) = video {
        streams.push(EsEntry {
            stream_type,
            pid: config.video_pid,
            descriptors: &[],
        });
    }
    if audio {
        streams.push(EsEntry {
            stream_type: StreamType::AacAdts,
            pid: config.audio_pid,
            descriptors: &[],
        });
    }
    let mut program_info = Vec::new();
    if config.timed_metadata {
        program_info = metadata_pointer_descriptor(config.program_number);
        streams.push(EsEntry {
            stream_type: StreamType::Id3,
            pid: config.metadata_pid,
            descriptors: &metadata_es,
        });
    }
    let mut pmt = Vec::new();
    pmt::write_version(
        &mut pmt,
        config.program_number,
        pcr_pid,
        &program_info,
        &streams,
        version,
    );
    pmt
}

/// Writes a PSI section after a zero `pointer_field`, filling the last packet with 0xFF
/// (§2.4.4.1: stuffing bytes after the last section).
fn write_section_packets(out: &mut BytesMut, pid: u16, counter: &mut u8, section: &[u8]) {
    let mut payload = Vec::with_capacity(section.len() + 1);
    payload.push(0);
    payload.extend_from_slice(section);
    let padded = payload.len().div_ceil(BODY_SIZE) * BODY_SIZE;
    payload.resize(padded, 0xFF);
    for (idx, chunk) in payload.chunks(BODY_SIZE).enumerate() {
        write_packet(
            out,
            pid,
            idx == 0,
            next(counter),
            AdaptationFlags::default(),
            chunk,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demux::{Demuxer, Event};

    use crate::pes;
    use crate::video::VideoCodec;

    impl Muxer {
        /// The muxer before the single-copy rewrite: the sample is copied into an ES buffer, then
        /// a PES buffer, then packets. Kept as the oracle of `single_copy_output_is_unchanged`.
        fn write_sample_reference(&mut self, sample: &Sample<'_>) -> Result<Bytes> {
            if sample.data.len() > MAX_SAMPLE_SIZE {
                return Err(Error::Limit("muxer: sample size"));
            }
            let mut es = BytesMut::with_capacity(sample.data.len() + 64);
            let (pid, stream_id, random_access, dts) = match sample.track {
                Track::Video => {
                    let Some(video) = &mut self.video else {
                        return Err(Error::Config("muxer: no video track"));
                    };
                    let random_access =
                        video.write_access_unit(sample.data, sample.keyframe, &mut es)?;
                    (
                        self.config.video_pid,
                        STREAM_ID_VIDEO,
                        random_access,
                        sample.dts,
                    )
                }
                Track::Audio => {
                    let Some(aac) = &self.audio else {
                        return Err(Error::Config("muxer: no audio track"));
                    };
                    adts::write_header(&mut es, aac, sample.data.len())?;
                    es.put_slice(sample.data);
                    // Every AAC frame can start decoding; flag it when audio carries the clock.
                    let random_access = self.video.is_none();
                    (
                        self.config.audio_pid,
                        STREAM_ID_AUDIO,
                        random_access,
                        sample.pts,
                    )
                }
                Track::Metadata => {
                    if !self.config.timed_metadata {
                        return Err(Error::Config("muxer: no timed-metadata track"));
                    }
                    es.put_slice(sample.data);
                    (
                        self.config.metadata_pid,
                        STREAM_ID_PRIVATE_1,
                        false,
                        sample.pts,
                    )
                }
            };
            let mut pes = BytesMut::with_capacity(es.len() + 19);
            pes::write_header(
                &mut pes,
                stream_id,
                sample.pts,
                dts,
                es.len(),
                sample.track == Track::Video,
            )?;
            pes.put_slice(&es);

            let mut out = BytesMut::with_capacity((pes.len() / 176 + 2) * 188);
            let mut flags = AdaptationFlags {
                random_access,
                pcr: None,
            };
            let since_last = self.last_pcr.map(|last| dts.saturating_sub(last));
            let pcr_due = self.pcr_due
                || since_last.is_none_or(|gap| gap >= PCR_INTERVAL)
                || (pid == self.pcr_pid && random_access);
            if pcr_due {
                // PCR follows the decoding times, never going backwards when tracks interleave.
                let pcr = self.last_pcr.map_or(dts, |last| last.max(dts));
                self.last_pcr = Some(pcr);
                self.pcr_due = false;
                if pid == self.pcr_pid {
                    flags.pcr = Some(pcr);
                } else {
                    // An adaptation-field-only packet: §2.4.3.3 says the continuity counter is not
                    // incremented, so it repeats the PCR PID's last value.
                    let counter = self.pcr_counter();
                    write_packet(
                        &mut out,
                        self.pcr_pid,
                        false,
                        counter.wrapping_sub(1) & 0x0F,
                        AdaptationFlags {
                            random_access: false,
                            pcr: Some(pcr),
                        },
                        &[],
                    );
                }
            }
            let counter = match sample.track {
                Track::Video => &mut self.counters.video,
                Track::Audio => &mut self.counters.audio,
                Track::Metadata => &mut self.counters.metadata,
            };
            let mut rest = &pes[..];
            let mut first = true;
            while !rest.is_empty() {
                let packet_flags = if first {
                    flags
                } else {
                    AdaptationFlags::default()
                };
                let n = write_packet(&mut out, pid, first, next(counter), packet_flags, rest);
                rest = &rest[n..];
                first = false;
            }
            Ok(out.freeze())
        }
    }

    fn events(data: &[u8]) -> Vec<Event> {
        let mut demuxer = Demuxer::new();
        demuxer.push(data).unwrap();
        let mut out = Vec::new();
        while let Some(e) = demuxer.poll() {
            out.push(e);
        }
        demuxer.finish();
        while let Some(e) = demuxer.poll() {
            out.push(e);
        }
        out
    }

    /// xorshift64*, so the test is reproducible.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: u64) -> usize {
            (self.next() % n) as usize
        }
    }

    /// A length-prefixed access unit of 1 to 3 NAL units (SEI, parameter sets, one slice).
    fn access_unit(rng: &mut Rng, idr: bool) -> Vec<u8> {
        let mut au = Vec::new();
        let mut nal = |header: u8, len: usize, rng: &mut Rng| {
            au.extend_from_slice(&(len as u32 + 1).to_be_bytes());
            au.push(header);
            au.extend((0..len).map(|_| (rng.next() >> 56) as u8));
        };
        if rng.below(4) == 0 {
            nal(0x06, 5, rng);
        }
        if idr && rng.below(3) == 0 {
            nal(0x67, 6, rng);
            nal(0x68, 3, rng);
        }
        let len = match rng.below(4) {
            0 => rng.below(200),
            1 => rng.below(5_000),
            2 => 60_000 + rng.below(20_000),
            _ => rng.below(200_000),
        };
        nal(if idr { 0x65 } else { 0x41 }, len, rng);
        au
    }

    /// The single-copy muxer writes exactly the bytes of the previous three-buffer one, for
    /// every track, sample size (below and above one packet, above 64 KiB PES lengths), PCR
    /// case and error.
    #[test]
    fn single_copy_output_is_unchanged() {
        let avcc = [
            1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 2, 0x68, 0xee,
        ];
        let aac = AacConfig::new(2, 3, 2).unwrap();
        let configs = [
            MuxerConfig::default()
                .with_video(VideoTrack::LengthPrefixed {
                    codec: VideoCodec::H264,
                    record: Bytes::copy_from_slice(&avcc),
                })
                .with_audio(aac),
            MuxerConfig::default().with_audio(aac).with_timed_metadata(),
            MuxerConfig::default().with_video(VideoTrack::LengthPrefixed {
                codec: VideoCodec::H264,
                record: Bytes::copy_from_slice(&avcc),
            }),
        ];
        let mut rng = Rng(0x7e57);
        let mut total = 0usize;
        for config in configs {
            let mut new = Muxer::new(config.clone()).unwrap();
            let mut old = Muxer::new(config.clone()).unwrap();
            let mut out = BytesMut::new();
            let mut want = Vec::new();
            let mut t = 900_000u64;
            for i in 0..3_000 {
                if i % 97 == 0 {
                    out.extend_from_slice(&new.write_pat_pmt());
                    want.extend_from_slice(&old.write_pat_pmt());
                }
                t += rng.below(4_000) as u64;
                let data;
                let sample = match rng.below(5) {
                    0 | 1 if config.video.is_some() => {
                        let idr = rng.below(10) == 0;
                        data = access_unit(&mut rng, idr);
                        Sample::video(t + 3_000, t, rng.below(20) == 0, &data)
                    }
                    2 if config.timed_metadata => {
                        data = crate::id3_txxx_tag("", "x").unwrap();
                        Sample::metadata(t, &data)
                    }
                    _ => {
                        // Up to just over the largest ADTS frame, which is refused.
                        data = vec![(i % 251) as u8; rng.below(8_200)];
                        Sample::audio(t, &data)
                    }
                };
                let a = new.write_sample_into(&sample, &mut out);
                let b = old.write_sample_reference(&sample);
                match (a, b) {
                    (Ok(()), Ok(bytes)) => want.extend_from_slice(&bytes),
                    (Err(x), Err(y)) => assert_eq!(x, y),
                    (a, b) => panic!("sample {i}: {a:?} vs {b:?}"),
                }
                assert_eq!(out.len(), want.len(), "sample {i}");
            }
            assert!(out[..] == want[..]);
            total += out.len();
        }
        assert!(total > 10_000_000, "{total}");
    }

    #[test]
    fn timed_metadata_declared_on_a_running_muxer() {
        let aac = AacConfig::new(2, 3, 2).unwrap();
        let mut muxer = Muxer::new(MuxerConfig::default().with_audio(aac)).unwrap();
        let mut ts = muxer.write_pat_pmt().to_vec();
        ts.extend_from_slice(&muxer.write_sample(&Sample::audio(900, &[0u8; 8])).unwrap());
        // Refused until declared.
        let tag = crate::id3_txxx_tag("", "hello").unwrap();
        assert!(muxer.write_sample(&Sample::metadata(1000, &tag)).is_err());
        muxer.enable_timed_metadata().unwrap();
        muxer.enable_timed_metadata().unwrap();
        ts.extend_from_slice(&muxer.write_pat_pmt());
        ts.extend_from_slice(&muxer.write_sample(&Sample::metadata(1800, &tag)).unwrap());
        ts.extend_from_slice(&muxer.write_sample(&Sample::audio(2700, &[0u8; 8])).unwrap());
        let evs = events(&ts);
        let programs: Vec<_> = evs
            .iter()
            .filter_map(|e| match e {
                Event::Program(p) => Some(p.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(programs.len(), 2, "{evs:?}");
        assert_eq!(programs[0].version, 0);
        assert_eq!(programs[1].version, 1);
        let types: Vec<_> = programs[1]
            .streams
            .iter()
            .map(|s| (s.pid, s.stream_type))
            .collect();
        assert_eq!(
            types,
            [(0x101, StreamType::AacAdts), (0x102, StreamType::Id3)]
        );
        let id3: Vec<_> = evs
            .iter()
            .filter_map(|e| match e {
                Event::AccessUnit(au) if au.pid == 0x102 => Some(au.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(id3.len(), 1);
        assert_eq!(id3[0].pts, Some(1800));
        assert_eq!(&id3[0].data[..], &tag[..]);
    }
}
