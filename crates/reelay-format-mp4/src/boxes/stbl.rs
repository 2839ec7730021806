//! The sample table boxes under `stbl` (ISO/IEC 14496-12 §8.5-§8.7): `stts`, `ctts`, `stsc`,
//! `stsz`, `stz2`, `stco`, `co64` and `stss`.
//!
//! Parsing only validates each table's header against the bytes present and keeps the entry
//! area; [`crate::index`] walks the tables to build the per-sample index. Entry counts are
//! therefore always backed by real bytes, and walking a table costs time proportional to its
//! size on the wire.

use bytes::Bytes;

use crate::error::{Result, decode_error};
use crate::reader::Reader;

/// A table of fixed-size entries, its declared count checked against the box length.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Table {
    data: Bytes,
    entry_len: usize,
}

impl Table {
    /// Reads `entry_count` then takes exactly `entry_count * entry_len` bytes.
    fn parse(r: &mut Reader<'_>, entry_len: usize, what: &'static str) -> Result<Self> {
        let count = r.u32()? as usize;
        let Some(len) = count.checked_mul(entry_len) else {
            return decode_error(what);
        };
        if len > r.remaining() {
            return decode_error(what);
        }
        Ok(Self {
            data: Bytes::copy_from_slice(r.bytes(len)?),
            entry_len,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.data.len().checked_div(self.entry_len).unwrap_or(0)
    }

    /// The `i`-th entry's bytes; `None` past the end.
    pub(crate) fn entry(&self, i: usize) -> Option<&[u8]> {
        let start = i.checked_mul(self.entry_len)?;
        self.data.get(start..start.checked_add(self.entry_len)?)
    }

    /// The big-endian u32 at word `word` of entry `i`.
    pub(crate) fn u32_at(&self, i: usize, word: usize) -> Option<u32> {
        let e = self.entry(i)?;
        let b = e.get(word * 4..word * 4 + 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The big-endian u64 forming entry `i` (for `co64`).
    pub(crate) fn u64_at(&self, i: usize) -> Option<u64> {
        let e = self.entry(i)?;
        let mut raw = [0u8; 8];
        raw.copy_from_slice(e.get(..8)?);
        Some(u64::from_be_bytes(raw))
    }
}

/// Sample sizes from `stsz` (§8.7.3.2) or `stz2` (§8.7.3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SampleSizes {
    /// Every sample has the same size.
    Constant { size: u32, count: u32 },
    /// One field of `field_bits` (4, 8, 16 or 32) per sample.
    Table {
        field_bits: u8,
        count: u32,
        data: Bytes,
    },
}

impl SampleSizes {
    pub(crate) fn count(&self) -> u32 {
        match self {
            SampleSizes::Constant { count, .. } | SampleSizes::Table { count, .. } => *count,
        }
    }

    /// The size of sample `i` (0-based); `None` past the end.
    pub(crate) fn get(&self, i: u32) -> Option<u32> {
        if i >= self.count() {
            return None;
        }
        match self {
            SampleSizes::Constant { size, .. } => Some(*size),
            SampleSizes::Table {
                field_bits, data, ..
            } => {
                let i = i as usize;
                match field_bits {
                    // Two 4-bit sizes per byte, the first in the high nibble (§8.7.3.3.2).
                    4 => data
                        .get(i / 2)
                        .map(|b| u32::from(if i.is_multiple_of(2) { b >> 4 } else { b & 0xf })),
                    8 => data.get(i).map(|&b| u32::from(b)),
                    16 => data
                        .get(i * 2..i * 2 + 2)
                        .map(|b| u32::from(u16::from_be_bytes([b[0], b[1]]))),
                    _ => data
                        .get(i * 4..i * 4 + 4)
                        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
                }
            }
        }
    }
}

/// Chunk offsets from `stco` (32-bit, §8.7.5) or `co64` (64-bit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChunkOffsets {
    pub table: Table,
    pub wide: bool,
}

impl ChunkOffsets {
    pub(crate) fn get(&self, i: usize) -> Option<u64> {
        if self.wide {
            self.table.u64_at(i)
        } else {
            self.table.u32_at(i, 0).map(u64::from)
        }
    }
}

/// The raw, header-validated sample tables of one track.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SampleTables {
    /// `stts` entries: (sample_count, sample_delta).
    pub stts: Option<Table>,
    /// `ctts` entries: (sample_count, sample_offset); the offset is read as signed for both
    /// versions (§8.6.1.3: version 0 offsets are unsigned in the text, but writers put negative
    /// values there and readers such as ffmpeg accept them).
    pub ctts: Option<Table>,
    /// `stsc` entries: (first_chunk, samples_per_chunk, sample_description_index).
    pub stsc: Option<Table>,
    pub sizes: Option<SampleSizes>,
    pub chunk_offsets: Option<ChunkOffsets>,
    /// `stss` entries: sample_number, 1-based. `None` means every sample is a sync sample.
    pub stss: Option<Table>,
}

impl SampleTables {
    /// Parses one child of `stbl` into the matching table; other boxes are ignored.
    pub(crate) fn parse_child(&mut self, kind: &[u8; 4], payload: &[u8]) -> Result<()> {
        let slot_taken = |taken: bool| {
            if taken {
                decode_error("stbl: duplicate sample table")
            } else {
                Ok(())
            }
        };
        match kind {
            b"stts" => {
                slot_taken(self.stts.is_some())?;
                let mut r = Reader::new(payload, "stts: truncated");
                r.full_box()?;
                self.stts = Some(Table::parse(
                    &mut r,
                    8,
                    "stts: entry_count exceeds the box",
                )?);
            }
            b"ctts" => {
                slot_taken(self.ctts.is_some())?;
                let mut r = Reader::new(payload, "ctts: truncated");
                let (version, _) = r.full_box()?;
                if version > 1 {
                    return decode_error("ctts: unknown version");
                }
                self.ctts = Some(Table::parse(
                    &mut r,
                    8,
                    "ctts: entry_count exceeds the box",
                )?);
            }
            b"stsc" => {
                slot_taken(self.stsc.is_some())?;
                let mut r = Reader::new(payload, "stsc: truncated");
                r.full_box()?;
                self.stsc = Some(Table::parse(
                    &mut r,
                    12,
                    "stsc: entry_count exceeds the box",
                )?);
            }
            b"stsz" => {
                slot_taken(self.sizes.is_some())?;
                self.sizes = Some(parse_stsz(payload)?);
            }
            b"stz2" => {
                slot_taken(self.sizes.is_some())?;
                self.sizes = Some(parse_stz2(payload)?);
            }
            b"stco" | b"co64" => {
                slot_taken(self.chunk_offsets.is_some())?;
                let wide = kind == b"co64";
                let mut r = Reader::new(payload, "stco: truncated");
                r.full_box()?;
                let table = Table::parse(
                    &mut r,
                    if wide { 8 } else { 4 },
                    "stco: entry_count exceeds the box",
                )?;
                self.chunk_offsets = Some(ChunkOffsets { table, wide });
            }
            b"stss" => {
                slot_taken(self.stss.is_some())?;
                let mut r = Reader::new(payload, "stss: truncated");
                r.full_box()?;
                self.stss = Some(Table::parse(
                    &mut r,
                    4,
                    "stss: entry_count exceeds the box",
                )?);
            }
            _ => {}
        }
        Ok(())
    }
}

fn parse_stsz(payload: &[u8]) -> Result<SampleSizes> {
    let mut r = Reader::new(payload, "stsz: truncated");
    r.full_box()?;
    let size = r.u32()?;
    let count = r.u32()?;
    if size != 0 {
        return Ok(SampleSizes::Constant { size, count });
    }
    let Some(len) = (count as usize).checked_mul(4) else {
        return decode_error("stsz: sample_count exceeds the box");
    };
    if len > r.remaining() {
        return decode_error("stsz: sample_count exceeds the box");
    }
    Ok(SampleSizes::Table {
        field_bits: 32,
        count,
        data: Bytes::copy_from_slice(r.bytes(len)?),
    })
}

fn parse_stz2(payload: &[u8]) -> Result<SampleSizes> {
    let mut r = Reader::new(payload, "stz2: truncated");
    r.full_box()?;
    r.skip(3)?; // reserved
    let field_bits = r.u8()?;
    let count = r.u32()?;
    if ![4, 8, 16].contains(&field_bits) {
        return decode_error("stz2: field_size not 4, 8 or 16");
    }
    let len = (u64::from(count) * u64::from(field_bits)).div_ceil(8);
    if len > r.remaining() as u64 {
        return decode_error("stz2: sample_count exceeds the box");
    }
    // Invariant: len <= remaining, which is a usize.
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    Ok(SampleSizes::Table {
        field_bits,
        count,
        data: Bytes::copy_from_slice(r.bytes(len)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stz2_nibbles() {
        let payload = [0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 3, 0x12, 0x30];
        let sizes = parse_stz2(&payload).unwrap();
        assert_eq!(sizes.count(), 3);
        assert_eq!(
            (0..4).map(|i| sizes.get(i)).collect::<Vec<_>>(),
            [Some(1), Some(2), Some(3), None]
        );
    }

    #[test]
    fn declared_counts_need_bytes() {
        // stsz with sample_count 2^32 - 1 and no entries.
        let payload = [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff];
        assert!(parse_stsz(&payload).is_err());
        let mut t = SampleTables::default();
        let stts = [0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 1];
        assert!(t.parse_child(b"stts", &stts).is_err());
    }
}
