//! Four-character codes naming boxes, brands, handlers and sample entries.

use std::fmt;

/// A four-character code such as `moov`, `avc1` or `soun` (ISO/IEC 14496-12 §4.2).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FourCc(pub [u8; 4]);

impl FourCc {
    /// Builds a code from its four ASCII bytes.
    pub const fn new(code: &[u8; 4]) -> Self {
        Self(*code)
    }

    /// The four raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 4] {
        &self.0
    }
}

impl fmt::Display for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Codes read from hostile input may hold any byte: escape rather than trust them.
        for &b in &self.0 {
            if b.is_ascii_graphic() || b == b' ' {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FourCc(\"{self}\")")
    }
}

impl From<&[u8; 4]> for FourCc {
    fn from(code: &[u8; 4]) -> Self {
        Self(*code)
    }
}
