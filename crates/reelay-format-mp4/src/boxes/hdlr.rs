//! `hdlr`: the handler reference naming the media type (ISO/IEC 14496-12 §8.4.3).

use bytes::{BufMut, BytesMut};

use crate::error::Result;
use crate::fourcc::FourCc;
use crate::reader::Reader;
use crate::writer::write_full_box;

pub(crate) fn parse(payload: &[u8]) -> Result<FourCc> {
    let mut r = Reader::new(payload, "hdlr: truncated");
    r.full_box()?;
    r.skip(4)?; // pre_defined
    r.fourcc()
}

pub(crate) fn write(buf: &mut BytesMut, handler: &[u8; 4], name: &str) {
    write_full_box(buf, b"hdlr", 0, 0, |buf| {
        buf.put_u32(0); // pre_defined
        buf.put_slice(handler);
        buf.put_bytes(0, 12); // reserved
        buf.put_slice(name.as_bytes());
        buf.put_u8(0); // null-terminated UTF-8 name
    });
}
