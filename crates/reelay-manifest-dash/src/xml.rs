//! A minimal XML 1.0 writer: elements with attributes, indentation, and escaping.

use crate::error::{Error, Result};

/// Builds an indented XML document. Attribute values are escaped; characters XML 1.0 cannot
/// carry (W3C XML 1.0 §2.2 `Char`) are refused rather than silently dropped.
pub struct XmlWriter {
    out: String,
    depth: usize,
    /// Whether the current start tag is still open (`<Name a="b"` without its `>`).
    open: bool,
    stack: Vec<&'static str>,
}

impl Default for XmlWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl XmlWriter {
    /// An empty document (the XML declaration is the caller's).
    pub fn new() -> Self {
        Self {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            depth: 0,
            open: false,
            stack: Vec::new(),
        }
    }

    fn close_start_tag(&mut self) {
        if self.open {
            self.out.push_str(">\n");
            self.open = false;
        }
    }

    /// Opens an element (closing the previous start tag if it is still open).
    pub fn start(&mut self, name: &'static str) {
        self.close_start_tag();
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
        self.out.push('<');
        self.out.push_str(name);
        self.open = true;
        self.stack.push(name);
        self.depth += 1;
    }

    /// Adds an attribute to the start tag just opened.
    pub fn attr(&mut self, name: &'static str, value: &str) -> Result<()> {
        debug_assert!(self.open, "attribute outside a start tag");
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        escape_attr(&mut self.out, value)?;
        self.out.push('"');
        Ok(())
    }

    /// Closes the innermost element, as `<X .../>` when it has no children.
    pub fn end(&mut self) {
        let Some(name) = self.stack.pop() else {
            return;
        };
        self.depth -= 1;
        if self.open {
            self.out.push_str("/>\n");
            self.open = false;
        } else {
            for _ in 0..self.depth {
                self.out.push_str("  ");
            }
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push_str(">\n");
        }
    }

    /// Closes every open element and returns the document.
    pub fn finish(mut self) -> String {
        while !self.stack.is_empty() {
            self.end();
        }
        self.out
    }
}

/// Escapes an attribute value (XML 1.0 §2.4 and §3.3.3): markup characters become entity
/// references, and tab / line feed / carriage return become character references so that
/// attribute-value normalisation does not turn them into spaces.
fn escape_attr(out: &mut String, value: &str) -> Result<()> {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            // §2.2: Char excludes the other C0 controls and U+FFFE / U+FFFF; surrogates cannot
            // occur in a Rust `char`.
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {
                return Err(Error::Invalid("character not allowed in XML 1.0"));
            }
            c => out.push(c),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        let mut s = String::new();
        escape_attr(&mut s, "a&b<c>d\"e'f\tg\nh\ri é").unwrap();
        assert_eq!(s, "a&amp;b&lt;c&gt;d&quot;e&apos;f&#9;g&#10;h&#13;i é");
        assert_eq!(
            escape_attr(&mut String::new(), "bell\u{7}"),
            Err(Error::Invalid("character not allowed in XML 1.0"))
        );
        assert!(escape_attr(&mut String::new(), "\u{ffff}").is_err());
    }

    #[test]
    fn nesting() {
        let mut w = XmlWriter::new();
        w.start("A");
        w.attr("x", "1").unwrap();
        w.start("B");
        w.end();
        w.start("C");
        w.attr("y", "<").unwrap();
        let out = w.finish();
        assert_eq!(
            out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<A x=\"1\">\n  <B/>\n  <C y=\"&lt;\"/>\n</A>\n"
        );
    }
}
