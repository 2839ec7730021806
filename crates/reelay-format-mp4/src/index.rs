//! The per-sample index of a track, built from its sample tables (ISO/IEC 14496-12 §8.6-§8.7).

use crate::boxes::stbl::{SampleTables, Table};
use crate::error::{Error, Result, decode_error, limit_error};
use crate::limits;

/// One sample of a track, as located by the sample tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Absolute byte offset of the sample's data in the file.
    pub offset: u64,
    /// Size of the sample's data in bytes.
    pub size: u32,
    /// Decode time in the track's timescale, starting at 0 (before any edit list).
    pub dts: u64,
    /// Composition offset from `ctts`: presentation time = `dts + cts_offset` (§8.6.1.1).
    pub cts_offset: i32,
    /// Duration until the next sample's decode time (for the last sample, its `stts` delta).
    pub duration: u32,
    /// Whether the sample is a sync sample (random access point, §8.6.2).
    pub is_sync: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    offset: u64,
    dts: u64,
    size: u32,
    cts_offset: i32,
}

/// Compact table of a track's samples: 24 bytes per sample plus one bit for the sync flag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SampleIndex {
    entries: Vec<Entry>,
    /// Sync-sample bitmap; `None` when the track has no `stss`, meaning every sample is sync.
    sync: Option<Vec<u64>>,
    last_duration: u32,
}

impl SampleIndex {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the track has no samples.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The `i`-th sample in decode order.
    pub fn get(&self, i: usize) -> Option<Sample> {
        self.entries.get(i).map(|e| self.sample_at(i, e))
    }

    fn sample_at(&self, i: usize, e: &Entry) -> Sample {
        let duration = match self.entries.get(i + 1) {
            // Both decode times come from adding u32 deltas in order, so the difference is one
            // `stts` delta and fits a u32.
            Some(next) => u32::try_from(next.dts - e.dts).unwrap_or(u32::MAX),
            None => self.last_duration,
        };
        Sample {
            offset: e.offset,
            size: e.size,
            dts: e.dts,
            cts_offset: e.cts_offset,
            duration,
            is_sync: self.is_sync(i),
        }
    }

    /// Whether sample `i` is a sync sample (false past the end).
    pub fn is_sync(&self, i: usize) -> bool {
        if i >= self.entries.len() {
            return false;
        }
        match &self.sync {
            None => true,
            Some(bits) => bits.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0),
        }
    }

    /// All samples in decode order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Sample> + '_ {
        self.entries
            .iter()
            .enumerate()
            .map(|(i, e)| self.sample_at(i, e))
    }

    /// Sum of all sample durations, in the track's timescale.
    pub fn duration(&self) -> u64 {
        self.entries
            .last()
            .map_or(0, |e| e.dts.saturating_add(u64::from(self.last_duration)))
    }
}

/// Walks a run-length table of (count, value) pairs one sample at a time.
struct Runs<'a> {
    table: Option<&'a Table>,
    entry: usize,
    left: u32,
    value: u32,
}

impl<'a> Runs<'a> {
    fn new(table: Option<&'a Table>) -> Self {
        Self {
            table,
            entry: 0,
            left: 0,
            value: 0,
        }
    }

    /// The value for the next sample, skipping empty runs; `None` once the table is exhausted.
    fn next_value(&mut self) -> Option<u32> {
        let table = self.table?;
        while self.left == 0 {
            self.left = table.u32_at(self.entry, 0)?;
            self.value = table.u32_at(self.entry, 1)?;
            self.entry += 1;
        }
        self.left -= 1;
        Some(self.value)
    }
}

/// Sum of the counts of a (count, value) table, which is bounded by the table's byte length.
fn run_total(table: &Table) -> u64 {
    (0..table.len())
        .filter_map(|i| table.u32_at(i, 0))
        .map(u64::from)
        .sum()
}

pub(crate) fn build(t: &SampleTables) -> Result<SampleIndex> {
    let Some(sizes) = &t.sizes else {
        return decode_error("stbl: no stsz or stz2");
    };
    let count = sizes.count();
    if u64::from(count) > limits::MAX_SAMPLES_PER_TRACK {
        return limit_error("stsz: sample_count above MAX_SAMPLES_PER_TRACK");
    }
    if count == 0 {
        return Ok(SampleIndex::default());
    }
    let Some(stts) = &t.stts else {
        return decode_error("stbl: no stts");
    };
    // §8.6.1.2: the stts counts add up to the number of samples. Checking this up front also
    // guarantees that the walk below never runs out of decode times.
    if run_total(stts) != u64::from(count) {
        return decode_error("stts: sample counts disagree with stsz");
    }
    // A ctts shorter than the track leaves the remaining samples at offset 0, as readers such
    // as ffmpeg do; a longer one describes samples that do not exist.
    if let Some(ctts) = &t.ctts
        && run_total(ctts) > u64::from(count)
    {
        return decode_error("ctts: more samples than stsz");
    }
    let Some(stsc) = &t.stsc else {
        return decode_error("stbl: no stsc");
    };
    let Some(chunks) = &t.chunk_offsets else {
        return decode_error("stbl: no stco or co64");
    };
    let sync = match &t.stss {
        None => None,
        Some(stss) => Some(sync_bitmap(stss, count)?),
    };

    let mut entries = Vec::with_capacity((count as usize).min(limits::MAX_TABLE_INITIAL_CAPACITY));
    let mut deltas = Runs::new(Some(stts));
    let mut offsets = Runs::new(t.ctts.as_ref());
    let mut dts = 0u64;
    let mut last_duration = 0u32;
    let mut stsc_idx = 0usize;
    let mut samples_per_chunk = 0u32;
    let n_chunks = chunks.table.len();
    'chunks: for chunk_idx in 0..n_chunks {
        // stsc runs apply from their 1-based first_chunk until the next run starts (§8.7.4).
        let chunk_number = chunk_idx as u64 + 1;
        while let Some(first) = stsc.u32_at(stsc_idx, 0)
            && u64::from(first) <= chunk_number
        {
            let prev_first = stsc_idx
                .checked_sub(1)
                .and_then(|p| stsc.u32_at(p, 0))
                .unwrap_or(0);
            if first == 0 || first <= prev_first {
                return decode_error("stsc: first_chunk not increasing from 1");
            }
            samples_per_chunk = stsc.u32_at(stsc_idx, 1).unwrap_or(0);
            stsc_idx += 1;
        }
        let Some(mut offset) = chunks.get(chunk_idx) else {
            return decode_error("stco: missing chunk offset");
        };
        for _ in 0..samples_per_chunk {
            let i = entries.len() as u32;
            let Some(size) = sizes.get(i) else {
                break 'chunks;
            };
            let Some(delta) = deltas.next_value() else {
                return decode_error("stts: ran out of sample deltas");
            };
            // Invariant: reinterpreting the 32 bits as signed is the documented reading (see
            // SampleTables::ctts).
            let cts_offset = offsets.next_value().map_or(0, |v| v as i32);
            entries.push(Entry {
                offset,
                dts,
                size,
                cts_offset,
            });
            offset = offset
                .checked_add(u64::from(size))
                .ok_or(Error::Decode("stco: sample offset overflows"))?;
            dts = dts
                .checked_add(u64::from(delta))
                .ok_or(Error::Decode("stts: decode time overflows"))?;
            last_duration = delta;
        }
    }
    if entries.len() != count as usize {
        return decode_error("stsc: chunks hold fewer samples than stsz declares");
    }
    Ok(SampleIndex {
        entries,
        sync,
        last_duration,
    })
}

fn sync_bitmap(stss: &Table, count: u32) -> Result<Vec<u64>> {
    // count <= MAX_SAMPLES_PER_TRACK, so the bitmap is at most 64 KiB.
    let mut bits = vec![0u64; (count as usize).div_ceil(64)];
    for i in 0..stss.len() {
        let Some(number) = stss.u32_at(i, 0) else {
            break;
        };
        if number == 0 || number > count {
            return decode_error("stss: sample_number out of range");
        }
        let idx = (number - 1) as usize;
        // In bounds: idx < count and the bitmap holds count.div_ceil(64) words.
        bits[idx / 64] |= 1 << (idx % 64);
    }
    Ok(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(body: &[u32]) -> Vec<u8> {
        let mut out = vec![0, 0, 0, 0];
        for v in body {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out
    }

    fn tables(parts: &[(&[u8; 4], Vec<u8>)]) -> SampleTables {
        let mut t = SampleTables::default();
        for (kind, payload) in parts {
            t.parse_child(kind, payload).unwrap();
        }
        t
    }

    #[test]
    fn two_chunks_with_ctts_and_stss() {
        let t = tables(&[
            (b"stsz", full(&[0, 3, 10, 20, 30])),
            (b"stts", full(&[2, 2, 100, 1, 50])),
            (b"ctts", full(&[1, 1, 200])),
            (b"stsc", full(&[2, 1, 2, 1, 2, 1, 1])),
            (b"stco", full(&[2, 1000, 5000])),
            (b"stss", full(&[1, 1])),
        ]);
        let idx = build(&t).unwrap();
        let got: Vec<_> = idx
            .iter()
            .map(|s| (s.offset, s.size, s.dts, s.cts_offset, s.duration, s.is_sync))
            .collect();
        assert_eq!(
            got,
            [
                (1000, 10, 0, 200, 100, true),
                (1010, 20, 100, 0, 100, false),
                (5000, 30, 200, 0, 50, false),
            ]
        );
        assert_eq!(idx.duration(), 250);
    }

    #[test]
    fn huge_declared_count_is_a_limit_error() {
        let t = tables(&[
            (b"stsz", full(&[7, u32::MAX])),
            (b"stts", full(&[1, u32::MAX, 1])),
            (b"stsc", full(&[1, 1, u32::MAX, 1])),
            (b"stco", full(&[1, 0])),
        ]);
        assert_eq!(
            build(&t),
            Err(Error::Limit(
                "stsz: sample_count above MAX_SAMPLES_PER_TRACK"
            ))
        );
    }

    #[test]
    fn inconsistent_tables_are_errors() {
        let base = |stts: Vec<u8>, stsc: Vec<u8>, stco: Vec<u8>| {
            build(&tables(&[
                (b"stsz", full(&[5, 4])),
                (b"stts", stts),
                (b"stsc", stsc),
                (b"stco", stco),
            ]))
        };
        // stts covers 3 of 4 samples.
        assert!(base(full(&[1, 3, 1]), full(&[1, 1, 4, 1]), full(&[1, 0])).is_err());
        // One chunk of 3 samples for 4 samples.
        assert!(base(full(&[1, 4, 1]), full(&[1, 1, 3, 1]), full(&[1, 0])).is_err());
        // stsc first_chunk 0.
        assert!(base(full(&[1, 4, 1]), full(&[1, 0, 4, 1]), full(&[1, 0])).is_err());
        // The second sample's offset overflows u64.
        let mut co64 = full(&[1]);
        co64.extend_from_slice(&(u64::MAX - 2).to_be_bytes());
        let t = tables(&[
            (b"stsz", full(&[5, 4])),
            (b"stts", full(&[1, 4, 1])),
            (b"stsc", full(&[1, 1, 4, 1])),
            (b"co64", co64),
        ]);
        assert_eq!(
            build(&t),
            Err(Error::Decode("stco: sample offset overflows"))
        );
        assert!(base(full(&[1, 4, 1]), full(&[1, 1, 4, 1]), full(&[1, 0])).is_ok());
    }
}
