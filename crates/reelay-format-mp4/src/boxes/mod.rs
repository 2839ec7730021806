//! One module per box family, mirroring ISO/IEC 14496-12 (and 14496-14 / 14496-15 for the
//! codec-specific boxes).

pub(crate) mod elst;
pub(crate) mod esds;
pub(crate) mod ftyp;
pub(crate) mod hdlr;
pub(crate) mod header;
pub(crate) mod mdhd;
pub(crate) mod minf;
pub(crate) mod moof;
pub(crate) mod mvex;
pub(crate) mod mvhd;
pub(crate) mod sidx;
pub(crate) mod stbl;
pub(crate) mod stsd;
pub(crate) mod tkhd;
