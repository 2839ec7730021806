//! A minimal XML 1.0 writer: elements with attributes, indentation and escaping.

use crate::{Error, Result};

/// Builds an indented XML document. Attribute values are escaped; characters XML 1.0 cannot
/// carry (W3C XML 1.0 §2.2 `Char`) are refused rather than dropped.
pub(crate) struct Writer {
    out: String,
    /// Whether the current start tag still lacks its `>`.
    open: bool,
    stack: Vec<&'static str>,
}

impl Writer {
    pub(crate) fn new() -> Self {
        Self {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            open: false,
            stack: Vec::new(),
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.stack.len() {
            self.out.push_str("  ");
        }
    }

    pub(crate) fn start(&mut self, name: &'static str) {
        if self.open {
            self.out.push_str(">\n");
            self.open = false;
        }
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.open = true;
        self.stack.push(name);
    }

    pub(crate) fn attr(&mut self, name: &'static str, value: &str) -> Result<()> {
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        escape(&mut self.out, value)?;
        self.out.push('"');
        Ok(())
    }

    pub(crate) fn end(&mut self) {
        let Some(name) = self.stack.pop() else {
            return;
        };
        if self.open {
            self.out.push_str("/>\n");
            self.open = false;
        } else {
            self.indent();
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push_str(">\n");
        }
    }

    pub(crate) fn finish(mut self) -> String {
        while !self.stack.is_empty() {
            self.end();
        }
        self.out
    }
}

/// Escapes an attribute value (XML 1.0 §2.4, §3.3.3): markup characters become entity
/// references; tab, line feed and carriage return become character references so that
/// attribute-value normalisation keeps them.
fn escape(out: &mut String, value: &str) -> Result<()> {
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
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {
                return Err(Error::Invalid("character not allowed in XML 1.0"));
            }
            c => out.push(c),
        }
    }
    Ok(())
}
