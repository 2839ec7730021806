//! The demuxer: transport stream bytes in any chunking, events out (ISO/IEC 13818-1 §2.4).
//!
//! Input is processed lazily: [`Demuxer::poll`] handles one packet at a time and only when no
//! event is waiting, so memory stays bounded by the limits whatever the input.

use std::collections::{HashMap, VecDeque};

use bytes::{Buf, Bytes, BytesMut};

use crate::adts::{self, AacConfig};
use crate::error::{Error, Result};
use crate::limits::{
    MAX_ADTS_FRAME, MAX_ES_PIDS, MAX_INPUT_BACKLOG, MAX_PES_SIZE, MAX_PROGRAMS,
    MAX_TOTAL_PES_BUFFER,
};
use crate::packet::{self, NULL_PID, PACKET_SIZE, PAT_PID, SYNC_BYTE};
use crate::pat;
use crate::pes;
use crate::pmt::{self, Program};
use crate::psi::{SectionAssembler, parse_section};
use crate::stream_type::StreamType;
use crate::video::VideoCodec;

/// Something the demuxer found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A PMT was read for the first time or changed. Its streams are demuxed from now on.
    Program(Program),
    /// One access unit of an elementary stream.
    AccessUnit(AccessUnit),
    /// The first scrambled packet or PES packet of an elementary stream of a known program
    /// (`transport_scrambling_control` or `PES_scrambling_control` not zero): its payload is
    /// encrypted and is not demuxed. Streams announced as SAMPLE-AES show up as
    /// [`crate::StreamInfo::encrypted`] instead, and their PES payloads are still delivered.
    Scrambled {
        /// The PID.
        pid: u16,
    },
    /// Malformed data was dropped; demuxing continues.
    Dropped {
        /// The PID concerned, when known.
        pid: Option<u16>,
        /// What was wrong.
        error: Error,
    },
}

/// One access unit: the payload of a PES packet, or one frame of an ADTS stream.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessUnit {
    /// The elementary PID.
    pub pid: u16,
    /// The stream type from the PMT.
    pub stream_type: StreamType,
    /// Presentation time stamp, 33-bit 90 kHz as in the stream. ADTS frames after the first of
    /// a PES packet get the PES timestamp plus the duration of the frames before them.
    pub pts: Option<u64>,
    /// Decoding time stamp; equal to `pts` when the PES header has none.
    pub dts: Option<u64>,
    /// H.264 / H.265: the access unit holds an IDR or IRAP picture. AAC: always. Other streams:
    /// the `random_access_indicator` of the packet that started the PES.
    pub keyframe: bool,
    /// H.264 / H.265: the Annex B access unit. AAC: the raw frame without ADTS header and CRC.
    /// Other streams: the PES payload.
    pub data: Bytes,
    /// AAC: the configuration from the frame's ADTS header.
    pub aac: Option<AacConfig>,
}

/// Counters of everything the demuxer skipped or repaired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DemuxStats {
    /// Packets handled.
    pub packets: u64,
    /// Bytes skipped while looking for the sync byte.
    pub sync_bytes_skipped: u64,
    /// Packets with a malformed header or adaptation field.
    pub malformed_packets: u64,
    /// Packets with `transport_error_indicator` set, dropped.
    pub transport_errors: u64,
    /// Continuity counter gaps (§2.4.3.3).
    pub continuity_errors: u64,
    /// Scrambled packets.
    pub scrambled_packets: u64,
    /// Sections dropped for a bad CRC or syntax.
    pub section_errors: u64,
    /// PES packets dropped (malformed, truncated, too large, or cut by a continuity gap).
    pub pes_dropped: u64,
    /// Bytes of ADTS streams skipped to find the next frame header.
    pub adts_bytes_skipped: u64,
    /// Elementary streams ignored because [`crate::limits::MAX_ES_PIDS`] were tracked.
    pub streams_ignored: u64,
}

/// Outcome of the continuity check of one packet.
enum Continuity {
    Ok,
    Duplicate,
    Gap,
}

/// §2.4.3.3: the counter increments by one per packet with payload, may repeat once for a
/// duplicate packet, and may jump when `discontinuity_indicator` is set.
fn check_continuity(last: &mut Option<u8>, pkt: &packet::Packet<'_>) -> Continuity {
    if !pkt.has_payload {
        return Continuity::Ok;
    }
    let cc = pkt.continuity_counter;
    let previous = last.replace(cc);
    match previous {
        None => Continuity::Ok,
        Some(_) if pkt.discontinuity => Continuity::Ok,
        Some(prev) if cc == (prev + 1) & 0x0F => Continuity::Ok,
        Some(prev) if cc == prev => Continuity::Duplicate,
        Some(_) => Continuity::Gap,
    }
}

#[derive(Debug, Default)]
struct PmtState {
    last_cc: Option<u8>,
    assembler: SectionAssembler,
    program: Option<Program>,
}

#[derive(Debug)]
struct EsState {
    stream_type: StreamType,
    /// The PMT PID of the program the stream belongs to.
    pmt_pid: u16,
    last_cc: Option<u8>,
    /// The PES packet being reassembled, valid when `active`.
    buf: BytesMut,
    active: bool,
    random_access: bool,
    /// The start of an ADTS frame that continues in the next PES packet.
    adts_carry: Vec<u8>,
    /// The timeline of ADTS frames: (timestamp of the anchor frame, samples since, rate).
    adts_clock: Option<(u64, u64, u32)>,
}

impl EsState {
    fn new(stream_type: StreamType, pmt_pid: u16) -> Self {
        Self {
            stream_type,
            pmt_pid,
            last_cc: None,
            buf: BytesMut::new(),
            active: false,
            random_access: false,
            adts_carry: Vec::new(),
            adts_clock: None,
        }
    }
}

/// Work produced by one packet, handed out by `poll`.
#[derive(Debug)]
enum Pending {
    Event(Event),
    /// A completed PES payload of an ADTS stream, split into frames when its turn comes so
    /// that a large PES never turns into a large number of queued events.
    Adts {
        pid: u16,
        payload: Bytes,
        pts: Option<u64>,
    },
}

/// An ADTS PES payload being split into frames.
#[derive(Debug)]
struct AdtsSplit {
    pid: u16,
    data: Bytes,
    pos: usize,
    /// Bytes at the start of `data` carried over from the previous PES packet.
    carry_len: usize,
    pes_pts: Option<u64>,
}

/// A sans-IO, incremental MPEG-TS demuxer.
///
/// Feed bytes with [`Demuxer::push`] in any chunking, drain [`Demuxer::poll`] until it returns
/// `None`, and call [`Demuxer::finish`] at the end of the input to flush the last PES packets.
#[derive(Debug, Default)]
pub struct Demuxer {
    input: BytesMut,
    in_sync: bool,
    eof: bool,
    flushed: bool,
    pending: VecDeque<Pending>,
    split: Option<AdtsSplit>,
    pat_cc: Option<u8>,
    pat: SectionAssembler,
    pmts: HashMap<u16, PmtState>,
    streams: HashMap<u16, EsState>,
    /// Sum of the PES bytes being reassembled across streams.
    pes_buffered: usize,
    /// One bit per PID already reported as scrambled.
    scrambled: Vec<u64>,
    stats: DemuxStats,
}

impl Demuxer {
    /// A demuxer waiting for its first bytes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends input. Fails with [`Error::Limit`] and keeps nothing when more than
    /// [`MAX_INPUT_BACKLOG`] bytes would be waiting: drain [`Demuxer::poll`] first.
    pub fn push(&mut self, data: &[u8]) -> Result<()> {
        if self.eof {
            return Err(Error::Config("demuxer: push after finish"));
        }
        if self.input.len() + data.len() > MAX_INPUT_BACKLOG {
            return Err(Error::Limit("demuxer: input backlog, drain poll() first"));
        }
        self.input.extend_from_slice(data);
        Ok(())
    }

    /// Marks the end of the input: the remaining PES packets are emitted by `poll`.
    pub fn finish(&mut self) {
        self.eof = true;
    }

    /// Bytes held for reassembly: unprocessed input, partial PES packets and ADTS frames.
    /// The limits bound it whatever the input.
    pub fn buffered_bytes(&self) -> usize {
        let carries: usize = self.streams.values().map(|es| es.adts_carry.len()).sum();
        let split = self.split.as_ref().map_or(0, |s| s.data.len() - s.pos);
        let pending: usize = self
            .pending
            .iter()
            .map(|p| match p {
                Pending::Adts { payload, .. } => payload.len(),
                Pending::Event(Event::AccessUnit(au)) => au.data.len(),
                Pending::Event(_) => 0,
            })
            .sum();
        self.input.len() + self.pes_buffered + carries + split + pending
    }

    /// The counters so far.
    pub fn stats(&self) -> DemuxStats {
        self.stats
    }

    /// The next event, or `None` when more input (or [`Demuxer::finish`]) is needed.
    pub fn poll(&mut self) -> Option<Event> {
        loop {
            // next_adts_frame returns None only once the split is over.
            if let Some(event) = self.next_adts_frame() {
                return Some(event);
            }
            match self.pending.pop_front() {
                Some(Pending::Event(event)) => return Some(event),
                Some(Pending::Adts { pid, payload, pts }) => {
                    self.start_split(pid, payload, pts);
                    continue;
                }
                None => {}
            }
            if self.process_next_packet() {
                continue;
            }
            if self.eof && !self.flushed {
                self.flushed = true;
                self.flush();
                continue;
            }
            if self.flushed {
                // A partial ADTS frame left at the end of the input never completes.
                for es in self.streams.values_mut() {
                    self.stats.adts_bytes_skipped += es.adts_carry.len() as u64;
                    es.adts_carry = Vec::new();
                }
            }
            return None;
        }
    }

    /// Handles the next packet if enough input is buffered; returns whether input was consumed.
    fn process_next_packet(&mut self) -> bool {
        loop {
            if self.input.len() < PACKET_SIZE {
                if self.eof && !self.input.is_empty() {
                    self.stats.sync_bytes_skipped += self.input.len() as u64;
                    self.input.clear();
                    return true;
                }
                return false;
            }
            if self.input[0] == SYNC_BYTE {
                // Out of sync, a candidate is confirmed by the sync byte of the next packet.
                let confirmed = self.in_sync
                    || match self.input.get(PACKET_SIZE) {
                        Some(&b) => b == SYNC_BYTE,
                        // Wait for the next packet's first byte, unless none will come.
                        None if !self.eof => return false,
                        None => true,
                    };
                if confirmed {
                    let mut pkt = [0u8; PACKET_SIZE];
                    pkt.copy_from_slice(&self.input[..PACKET_SIZE]);
                    self.input.advance(PACKET_SIZE);
                    self.in_sync = true;
                    self.handle_packet(&pkt);
                    return true;
                }
            }
            self.in_sync = false;
            let skip = self.input[1..]
                .iter()
                .position(|&b| b == SYNC_BYTE)
                .map_or(self.input.len(), |p| p + 1);
            self.stats.sync_bytes_skipped += skip as u64;
            self.input.advance(skip);
        }
    }

    fn handle_packet(&mut self, bytes: &[u8; PACKET_SIZE]) {
        self.stats.packets += 1;
        let pkt = match packet::parse(bytes) {
            Ok(pkt) => pkt,
            Err(error) => {
                self.stats.malformed_packets += 1;
                self.event(Event::Dropped { pid: None, error });
                return;
            }
        };
        if pkt.pid == NULL_PID {
            return;
        }
        if pkt.transport_error {
            // The header itself may be damaged; the continuity check of the next packet on the
            // PID drops the PES this packet belonged to.
            self.stats.transport_errors += 1;
            return;
        }
        if pkt.scrambling_control != 0 {
            // Only elementary streams of a known program are reported: PSI is never scrambled
            // (§2.4.4), and PIDs nobody announced are noise.
            self.stats.scrambled_packets += 1;
            if let Some(es) = self.streams.get_mut(&pkt.pid) {
                self.pes_buffered -= es.buf.len();
                es.buf.clear();
                es.active = false;
                self.report_scrambled(pkt.pid);
            }
            return;
        }
        if pkt.pid == PAT_PID {
            self.handle_pat(&pkt);
        } else if self.pmts.contains_key(&pkt.pid) {
            self.handle_pmt(&pkt);
        } else if self.streams.contains_key(&pkt.pid) {
            self.handle_es(&pkt);
        }
    }

    fn event(&mut self, event: Event) {
        self.pending.push_back(Pending::Event(event));
    }

    fn report_scrambled(&mut self, pid: u16) {
        if self.scrambled.is_empty() {
            self.scrambled = vec![0; 8192 / 64];
        }
        let (word, bit) = (usize::from(pid & 0x1FFF) / 64, pid % 64);
        if self.scrambled[word] & (1 << bit) == 0 {
            self.scrambled[word] |= 1 << bit;
            self.event(Event::Scrambled { pid });
        }
    }

    /// Feeds a PSI packet to an assembler and returns the completed, CRC-checked sections.
    fn sections(
        assembler: &mut SectionAssembler,
        last_cc: &mut Option<u8>,
        pkt: &packet::Packet<'_>,
        stats: &mut DemuxStats,
        events: &mut Vec<Event>,
    ) -> Vec<Vec<u8>> {
        match check_continuity(last_cc, pkt) {
            Continuity::Duplicate => return Vec::new(),
            Continuity::Gap => {
                stats.continuity_errors += 1;
                assembler.reset();
            }
            Continuity::Ok => {}
        }
        let mut sections = Vec::new();
        if let Err(error) = assembler.push(pkt.payload_unit_start, pkt.payload, &mut sections) {
            stats.section_errors += 1;
            events.push(Event::Dropped {
                pid: Some(pkt.pid),
                error,
            });
        }
        sections
    }

    fn handle_pat(&mut self, pkt: &packet::Packet<'_>) {
        let mut events = Vec::new();
        let sections = Self::sections(
            &mut self.pat,
            &mut self.pat_cc,
            pkt,
            &mut self.stats,
            &mut events,
        );
        for section in sections {
            let entries = parse_section(&section).and_then(|s| {
                if s.current_next {
                    pat::parse(&s).map(|entries| Some((s.section_number == 0, entries)))
                } else {
                    Ok(None)
                }
            });
            match entries {
                Ok(Some((first, entries))) => self.apply_pat(first, &entries),
                Ok(None) => {}
                Err(error) => {
                    self.stats.section_errors += 1;
                    events.push(Event::Dropped {
                        pid: Some(PAT_PID),
                        error,
                    });
                }
            }
        }
        for event in events {
            self.event(event);
        }
    }

    /// Applies a PAT section. The first section of a table replaces the known programs;
    /// further sections (`section_number` above 0) add to them.
    fn apply_pat(&mut self, first_section: bool, entries: &[pat::PatEntry]) {
        let wanted: Vec<u16> = entries
            .iter()
            .map(|e| e.pmt_pid)
            .filter(|&pid| pid != PAT_PID && pid != NULL_PID && !self.streams.contains_key(&pid))
            .collect();
        if first_section {
            let removed: Vec<u16> = self
                .pmts
                .keys()
                .copied()
                .filter(|pid| !wanted.contains(pid))
                .collect();
            for pmt_pid in removed {
                self.pmts.remove(&pmt_pid);
                self.remove_streams(pmt_pid, &[]);
            }
        }
        for pid in wanted {
            if self.pmts.len() < MAX_PROGRAMS || self.pmts.contains_key(&pid) {
                self.pmts.entry(pid).or_default();
            }
        }
    }

    /// Forgets the streams of a program except `keep`.
    fn remove_streams(&mut self, pmt_pid: u16, keep: &[u16]) {
        let pes_buffered = &mut self.pes_buffered;
        self.streams.retain(|pid, es| {
            let retain = es.pmt_pid != pmt_pid || keep.contains(pid);
            if !retain {
                *pes_buffered -= es.buf.len();
            }
            retain
        });
    }

    fn handle_pmt(&mut self, pkt: &packet::Packet<'_>) {
        let mut events = Vec::new();
        let Some(state) = self.pmts.get_mut(&pkt.pid) else {
            return;
        };
        let sections = Self::sections(
            &mut state.assembler,
            &mut state.last_cc,
            pkt,
            &mut self.stats,
            &mut events,
        );
        for section in sections {
            let program = parse_section(&section).and_then(|s| {
                if s.current_next {
                    pmt::parse(&s, pkt.pid).map(Some)
                } else {
                    Ok(None)
                }
            });
            match program {
                Ok(Some(program)) => self.apply_pmt(program, &mut events),
                Ok(None) => {}
                Err(error) => {
                    self.stats.section_errors += 1;
                    events.push(Event::Dropped {
                        pid: Some(pkt.pid),
                        error,
                    });
                }
            }
        }
        for event in events {
            self.event(event);
        }
    }

    fn apply_pmt(&mut self, program: Program, events: &mut Vec<Event>) {
        let pmt_pid = program.pmt_pid;
        let Some(state) = self.pmts.get_mut(&pmt_pid) else {
            return;
        };
        if state.program.as_ref() == Some(&program) {
            return;
        }
        state.program = Some(program.clone());
        let keep: Vec<u16> = program.streams.iter().map(|s| s.pid).collect();
        self.remove_streams(pmt_pid, &keep);
        for stream in &program.streams {
            let pid = stream.pid;
            if !(0x0010..NULL_PID).contains(&pid) || self.pmts.contains_key(&pid) {
                continue;
            }
            match self.streams.get(&pid) {
                Some(es) if es.stream_type == stream.stream_type && es.pmt_pid == pmt_pid => {}
                Some(_) => {
                    // Same PID, new type or program: start over.
                    if let Some(old) = self.streams.remove(&pid) {
                        self.pes_buffered -= old.buf.len();
                    }
                    self.streams
                        .insert(pid, EsState::new(stream.stream_type, pmt_pid));
                }
                None if self.streams.len() >= MAX_ES_PIDS => self.stats.streams_ignored += 1,
                None => {
                    self.streams
                        .insert(pid, EsState::new(stream.stream_type, pmt_pid));
                }
            }
        }
        events.push(Event::Program(program));
    }

    fn handle_es(&mut self, pkt: &packet::Packet<'_>) {
        let pid = pkt.pid;
        let Some(es) = self.streams.get_mut(&pid) else {
            return;
        };
        match check_continuity(&mut es.last_cc, pkt) {
            Continuity::Duplicate => return,
            Continuity::Gap => {
                self.stats.continuity_errors += 1;
                es.adts_carry.clear();
                if es.active {
                    self.pes_buffered -= es.buf.len();
                    es.buf.clear();
                    es.active = false;
                    self.drop_pes(pid, Error::Decode("pes: continuity counter gap"));
                }
            }
            Continuity::Ok => {}
        }
        if !pkt.has_payload {
            return;
        }
        if pkt.payload_unit_start {
            self.complete_pes(pid);
            let Some(es) = self.streams.get_mut(&pid) else {
                return;
            };
            es.active = true;
            es.random_access = pkt.random_access;
        }
        let Some(es) = self.streams.get_mut(&pid) else {
            return;
        };
        if !es.active {
            return;
        }
        if es.buf.len() + pkt.payload.len() > MAX_PES_SIZE
            || self.pes_buffered + pkt.payload.len() > MAX_TOTAL_PES_BUFFER
        {
            self.pes_buffered -= es.buf.len();
            es.buf.clear();
            es.active = false;
            self.drop_pes(pid, Error::Limit("pes: PES packet size"));
            return;
        }
        es.buf.extend_from_slice(pkt.payload);
        self.pes_buffered += pkt.payload.len();
        // A bounded PES packet is complete as soon as its declared length has arrived.
        if es.buf.len() >= 6 {
            let declared = usize::from(u16::from_be_bytes([es.buf[4], es.buf[5]]));
            if declared != 0 && es.buf.len() >= 6 + declared {
                self.complete_pes(pid);
            }
        }
    }

    fn drop_pes(&mut self, pid: u16, error: Error) {
        self.stats.pes_dropped += 1;
        self.event(Event::Dropped {
            pid: Some(pid),
            error,
        });
    }

    /// Ends the PES packet being reassembled on `pid`, if any, and queues what it holds.
    fn complete_pes(&mut self, pid: u16) {
        let Some(es) = self.streams.get_mut(&pid) else {
            return;
        };
        if !es.active {
            return;
        }
        es.active = false;
        let mut data = es.buf.split().freeze();
        self.pes_buffered -= data.len();
        let stream_type = es.stream_type;
        let random_access = es.random_access;
        let header = match pes::parse_header(&data) {
            Ok(header) => header,
            Err(error) => return self.drop_pes(pid, error),
        };
        if header.packet_length != 0 {
            let declared = 6 + usize::from(header.packet_length);
            if data.len() < declared || header.payload_offset > declared {
                return self.drop_pes(pid, Error::Decode("pes: shorter than PES_packet_length"));
            }
            // Bytes after the declared length are stuffing of the last packet.
            data.truncate(declared);
        }
        if header.scrambling_control != 0 {
            self.stats.scrambled_packets += 1;
            self.report_scrambled(pid);
            return;
        }
        let payload = data.slice(header.payload_offset..);
        let pts = header.pts;
        let dts = header.dts.or(pts);
        let codec = match stream_type {
            StreamType::H264 => Some(VideoCodec::H264),
            StreamType::H265 => Some(VideoCodec::H265),
            _ => None,
        };
        if stream_type == StreamType::AacAdts {
            self.pending.push_back(Pending::Adts { pid, payload, pts });
            return;
        }
        if payload.is_empty() {
            return self.drop_pes(pid, Error::Decode("pes: empty payload"));
        }
        let keyframe = match codec {
            Some(codec) => codec.is_random_access(&payload),
            None => random_access,
        };
        self.event(Event::AccessUnit(AccessUnit {
            pid,
            stream_type,
            pts,
            dts,
            keyframe,
            data: payload,
            aac: None,
        }));
    }

    /// At the end of the input, ends every PES packet still open.
    fn flush(&mut self) {
        let mut pids: Vec<u16> = self.streams.keys().copied().collect();
        pids.sort_unstable();
        for pid in pids {
            self.complete_pes(pid);
        }
    }

    fn start_split(&mut self, pid: u16, payload: Bytes, pes_pts: Option<u64>) {
        let Some(es) = self.streams.get_mut(&pid) else {
            return;
        };
        let carry = std::mem::take(&mut es.adts_carry);
        let carry_len = carry.len();
        let data = if carry.is_empty() {
            payload
        } else {
            let mut joined = BytesMut::with_capacity(carry.len() + payload.len());
            joined.extend_from_slice(&carry);
            joined.extend_from_slice(&payload);
            joined.freeze()
        };
        self.split = Some(AdtsSplit {
            pid,
            data,
            pos: 0,
            carry_len,
            pes_pts,
        });
    }

    /// The next frame of the ADTS payload being split, if any (ISO/IEC 14496-3 §1.A.2.2).
    fn next_adts_frame(&mut self) -> Option<Event> {
        let split = self.split.as_mut()?;
        let Some(es) = self.streams.get_mut(&split.pid) else {
            self.split = None;
            return None;
        };
        loop {
            let rest = &split.data[split.pos..];
            if rest.is_empty() {
                self.split = None;
                return None;
            }
            let header = match adts::parse_header(rest) {
                Ok(Some(header)) if header.frame_length <= rest.len() => header,
                Ok(_) => {
                    // The frame continues in the next PES packet; 13 bits bound its length.
                    if rest.len() <= MAX_ADTS_FRAME {
                        es.adts_carry = rest.to_vec();
                    } else {
                        self.stats.adts_bytes_skipped += rest.len() as u64;
                    }
                    self.split = None;
                    return None;
                }
                Err(_) => {
                    // Resynchronise on the next candidate syncword.
                    let skip = rest[1..]
                        .iter()
                        .position(|&b| b == 0xFF)
                        .map_or(rest.len(), |p| p + 1);
                    self.stats.adts_bytes_skipped += skip as u64;
                    split.pos += skip;
                    continue;
                }
            };
            let start = split.pos;
            split.pos += header.frame_length;
            // The PES timestamp belongs to the first frame that starts in that PES packet
            // (13818-1 §2.4.3.7); later frames follow at one frame duration each.
            let rate = header.config.sample_rate();
            if start >= split.carry_len
                && let Some(pts) = split.pes_pts.take()
            {
                es.adts_clock = Some((pts, 0, rate));
            }
            let pts = match es.adts_clock {
                Some((anchor, samples, clock_rate)) if clock_rate == rate => {
                    let offset = (samples * 90_000 + u64::from(rate) / 2) / u64::from(rate);
                    Some((anchor + offset) & pes::TIMESTAMP_MASK)
                }
                Some((anchor, samples, clock_rate)) => {
                    // The rate changed: re-anchor at the current position.
                    let offset =
                        (samples * 90_000 + u64::from(clock_rate) / 2) / u64::from(clock_rate);
                    es.adts_clock = Some(((anchor + offset) & pes::TIMESTAMP_MASK, 0, rate));
                    Some((anchor + offset) & pes::TIMESTAMP_MASK)
                }
                None => None,
            };
            if let Some((_, samples, _)) = &mut es.adts_clock {
                *samples += u64::from(header.config.samples_per_frame());
            }
            if header.raw_data_blocks != 0 {
                self.stats.pes_dropped += 1;
                return Some(Event::Dropped {
                    pid: Some(split.pid),
                    error: Error::Unsupported("adts: several raw data blocks per frame"),
                });
            }
            let data = split
                .data
                .slice(start + header.header_length..start + header.frame_length);
            return Some(Event::AccessUnit(AccessUnit {
                pid: split.pid,
                stream_type: es.stream_type,
                pts,
                dts: pts,
                keyframe: true,
                data,
                aac: Some(header.config),
            }));
        }
    }
}
