//! XML in and out.
//!
//! Output is written by a small writer that escapes every text node. Input (DeleteObjects,
//! CompleteMultipartUpload, CreateBucketConfiguration) is parsed into a tiny element tree with
//! limits on depth and element count; document type declarations are refused, so no entity
//! expansion can happen.

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::error::{S3Error, S3Result};

/// The S3 XML namespace of the 2006-03-01 API.
pub(crate) const S3_NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Deepest element nesting accepted in a request body.
const MAX_DEPTH: usize = 16;
/// Most elements accepted in a request body (10,000 parts of four elements each fit).
const MAX_ELEMENTS: usize = 100_000;

/// Escapes text for an XML text node or attribute. Control characters that XML 1.0 cannot carry
/// are written as character references, as S3 does.
pub(crate) fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    let needs = s.chars().any(|c| {
        matches!(c, '&' | '<' | '>' | '"' | '\'')
            || ((c as u32) < 0x20 && !matches!(c, '\t' | '\n'))
    });
    if !needs {
        return s.into();
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n') => {
                out.push_str(&format!("&#x{:X};", c as u32));
            }
            c => out.push(c),
        }
    }
    out.into()
}

/// Appends elements to a string.
pub(crate) struct XmlWriter {
    out: String,
}

impl XmlWriter {
    pub(crate) fn new() -> Self {
        XmlWriter {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
        }
    }

    /// Opens the root element with the S3 namespace.
    pub(crate) fn open_root(&mut self, name: &str) {
        self.out.push_str(&format!("<{name} xmlns=\"{S3_NS}\">"));
    }

    pub(crate) fn open_plain(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
    }

    pub(crate) fn open(&mut self, name: &str) {
        self.open_plain(name);
    }

    pub(crate) fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    pub(crate) fn elem(&mut self, name: &str, text: &str) {
        self.open_plain(name);
        self.out.push_str(&escape(text));
        self.close(name);
    }

    /// Text directly inside the currently open element.
    pub(crate) fn elem_text(&mut self, text: &str) {
        self.out.push_str(&escape(text));
    }

    pub(crate) fn elem_opt(&mut self, name: &str, text: Option<&str>) {
        if let Some(t) = text {
            self.elem(name, t);
        }
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}

/// A parsed element: local name, concatenated text, children.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub(crate) fn children_named<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub(crate) fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }
}

/// Parses a request body into its root element.
pub(crate) fn parse(body: &[u8]) -> S3Result<Element> {
    let mut reader = Reader::from_reader(body);
    reader.config_mut().trim_text(false);
    let mut buf = Vec::new();
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut n_elements = 0usize;
    let bad = |_| S3Error::malformed_xml();
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| {
            tracing::debug!(error = %e, "malformed XML body");
            S3Error::malformed_xml()
        })?;
        match event {
            Event::Start(e) => {
                n_elements += 1;
                if stack.len() >= MAX_DEPTH || n_elements > MAX_ELEMENTS || root.is_some() {
                    return Err(S3Error::malformed_xml());
                }
                let name = std::str::from_utf8(e.local_name().as_ref())
                    .map_err(|_| S3Error::malformed_xml())?
                    .to_owned();
                stack.push(Element {
                    name,
                    ..Default::default()
                });
            }
            Event::Empty(e) => {
                n_elements += 1;
                if n_elements > MAX_ELEMENTS || root.is_some() {
                    return Err(S3Error::malformed_xml());
                }
                let name = std::str::from_utf8(e.local_name().as_ref())
                    .map_err(|_| S3Error::malformed_xml())?
                    .to_owned();
                let el = Element {
                    name,
                    ..Default::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                // quick-xml checks that end tags match their start tags.
                let el = stack.pop().ok_or_else(S3Error::malformed_xml)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                let text = t.decode().map_err(|_| S3Error::malformed_xml())?;
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err(S3Error::malformed_xml()),
                }
            }
            Event::CData(t) => {
                let text = t.decode().map_err(|_| S3Error::malformed_xml())?;
                let el = stack.last_mut().ok_or_else(S3Error::malformed_xml)?;
                el.text.push_str(&text);
            }
            Event::GeneralRef(r) => {
                let resolved: String = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .map_err(|_| S3Error::malformed_xml())?
                        .map(String::from)
                        .ok_or_else(S3Error::malformed_xml)?
                } else {
                    let name = r.decode().map_err(bad)?;
                    quick_xml::escape::resolve_predefined_entity(&name)
                        .ok_or_else(S3Error::malformed_xml)?
                        .to_owned()
                };
                let el = stack.last_mut().ok_or_else(S3Error::malformed_xml)?;
                el.text.push_str(&resolved);
            }
            // A DTD could declare entities; S3 request bodies never need one.
            Event::DocType(_) => return Err(S3Error::malformed_xml()),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err(S3Error::malformed_xml());
    }
    root.ok_or_else(S3Error::malformed_xml)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_namespaces_entities_and_cdata() {
        let doc = br#"<?xml version="1.0"?>
            <Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Object><Key>a&amp;b&#x41;&lt;</Key></Object>
              <Object><Key><![CDATA[<raw>]]></Key></Object>
              <Quiet>true</Quiet><Empty/>
            </Delete>"#;
        let root = parse(doc).expect("valid");
        assert_eq!(root.name, "Delete");
        let keys: Vec<_> = root
            .children_named("Object")
            .map(|o| o.child_text("Key").unwrap_or_default().to_owned())
            .collect();
        assert_eq!(keys, ["a&bA<", "<raw>"]);
        assert_eq!(root.child_text("Quiet"), Some("true"));
        assert!(root.child("Empty").is_some());
    }

    #[test]
    fn rejects_malformed_and_dangerous_documents() {
        let deep = format!("{}{}", "<a>".repeat(40), "</a>".repeat(40));
        for doc in [
            &b""[..],
            b"<a>",
            b"<a></b>",
            b"<a/><b/>",
            b"text",
            b"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
            b"<a>&unknown;</a>",
            deep.as_bytes(),
        ] {
            assert!(parse(doc).is_err(), "{}", String::from_utf8_lossy(doc));
        }
    }

    #[test]
    fn escapes_text() {
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("a<b>&\"'\u{1}"), "a&lt;b&gt;&amp;&quot;&apos;&#x1;");
    }

    /// Truncations and byte flips of a valid document never panic.
    #[test]
    fn mutated_documents_never_panic() {
        let doc = br#"<Delete><Object><Key>a&amp;b</Key></Object><Quiet>true</Quiet></Delete>"#;
        for cut in 0..doc.len() {
            let _ = parse(&doc[..cut]);
            for byte in [0u8, b'<', b'>', b'&', b'/', 0xff] {
                let mut m = doc.to_vec();
                m[cut] = byte;
                let _ = parse(&m);
            }
        }
    }
}
