//! `SegmentTemplate` identifiers (ISO/IEC 23009-1 §5.3.9.4.4, Table 16): validation of
//! `@media` / `@initialization` strings and their expansion into segment names.

use std::fmt::Write as _;

use crate::error::{Error, Result};

/// One piece of a parsed template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece<'a> {
    Literal(&'a str),
    Dollar,
    RepresentationId,
    /// Identifier and the zero-padding width of its `%0<width>d` format tag (0 = none).
    Number(usize),
    Bandwidth(usize),
    Time(usize),
}

/// Longest width accepted in a `%0<width>d` format tag; u64 values have at most 20 digits, so
/// wider padding only wastes bytes (and an unbounded width would let a template allocate).
const MAX_WIDTH: usize = 32;

fn parse(template: &str) -> Result<Vec<Piece<'_>>> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('$') {
        if start > 0 {
            pieces.push(Piece::Literal(&rest[..start]));
        }
        let after = &rest[start + 1..];
        let Some(end) = after.find('$') else {
            return Err(Error::Invalid("template: unterminated $ identifier"));
        };
        let ident = &after[..end];
        rest = &after[end + 1..];
        let (name, format) = match ident.find('%') {
            Some(p) => (&ident[..p], Some(&ident[p..])),
            None => (ident, None),
        };
        // §5.3.9.4.4: the format tag is `%0[width]d`; `$RepresentationID$` takes none.
        let width = match format {
            None => 0,
            Some(f) => {
                let digits = f
                    .strip_prefix("%0")
                    .and_then(|f| f.strip_suffix('d'))
                    .ok_or(Error::Invalid("template: format tag is not %0<width>d"))?;
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(Error::Invalid("template: format tag is not %0<width>d"));
                }
                match digits.parse::<usize>() {
                    Ok(w) if w <= MAX_WIDTH => w,
                    _ => return Err(Error::Invalid("template: format width too large")),
                }
            }
        };
        pieces.push(match (name, format) {
            ("", None) => Piece::Dollar,
            ("RepresentationID", None) => Piece::RepresentationId,
            ("Number", _) => Piece::Number(width),
            ("Bandwidth", _) => Piece::Bandwidth(width),
            ("Time", _) => Piece::Time(width),
            ("RepresentationID" | "", Some(_)) => {
                return Err(Error::Invalid("template: identifier takes no format tag"));
            }
            _ => return Err(Error::Invalid("template: unknown $ identifier")),
        });
    }
    if !rest.is_empty() {
        pieces.push(Piece::Literal(rest));
    }
    Ok(pieces)
}

/// Which identifiers a template uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Uses {
    pub number: bool,
    pub time: bool,
}

pub(crate) fn uses(template: &str) -> Result<Uses> {
    let mut u = Uses::default();
    for p in parse(template)? {
        match p {
            Piece::Number(_) => u.number = true,
            Piece::Time(_) => u.time = true,
            _ => {}
        }
    }
    Ok(u)
}

/// The values substituted for a template's identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateValues<'a> {
    /// `$RepresentationID$`: the Representation's `@id`.
    pub representation_id: &'a str,
    /// `$Bandwidth$`: the Representation's `@bandwidth`.
    pub bandwidth: u64,
    /// `$Number$`: the segment number; `None` for an initialization template.
    pub number: Option<u64>,
    /// `$Time$`: the segment's `S@t` in the template's timescale; `None` for an initialization
    /// template.
    pub time: Option<u64>,
}

/// Expands a `@media` or `@initialization` template into the name a client will request
/// (§5.3.9.4.4), so that a packager names its files exactly as the MPD announces them.
///
/// Fails on a malformed template or when it uses `$Number$` / `$Time$` without a value.
pub fn expand_template(template: &str, values: &TemplateValues<'_>) -> Result<String> {
    let mut out = String::with_capacity(template.len() + 16);
    let pad = |out: &mut String, value: u64, width: usize| {
        // Writing to a String cannot fail.
        let _ = write!(out, "{value:0width$}");
    };
    for p in parse(template)? {
        match p {
            Piece::Literal(s) => out.push_str(s),
            Piece::Dollar => out.push('$'),
            Piece::RepresentationId => out.push_str(values.representation_id),
            Piece::Bandwidth(w) => pad(&mut out, values.bandwidth, w),
            Piece::Number(w) => {
                let n = values
                    .number
                    .ok_or(Error::Invalid("template: $Number$ without a number"))?;
                pad(&mut out, n, w);
            }
            Piece::Time(w) => {
                let t = values
                    .time
                    .ok_or(Error::Invalid("template: $Time$ without a time"))?;
                pad(&mut out, t, w);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: TemplateValues<'static> = TemplateValues {
        representation_id: "video_1",
        bandwidth: 800_000,
        number: Some(7),
        time: Some(25600),
    };

    #[test]
    fn expands_identifiers() {
        let t = "$RepresentationID$/$Number%05d$-$Time$-$Bandwidth$$$.m4s";
        assert_eq!(
            expand_template(t, &V).unwrap(),
            "video_1/00007-25600-800000$.m4s"
        );
        assert_eq!(
            expand_template("plain.mp4", &V).unwrap(),
            "plain.mp4".to_owned()
        );
        let init = TemplateValues {
            number: None,
            time: None,
            ..V
        };
        assert!(expand_template("$Number$.m4s", &init).is_err());
        assert!(expand_template("$Time$.m4s", &init).is_err());
        assert_eq!(
            uses("$Time$").unwrap(),
            Uses {
                number: false,
                time: true
            }
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "$Number",
            "$Foo$",
            "$Number%5d$",
            "$Number%05x$",
            "$Number%0d$",
            "$RepresentationID%02d$",
            "$Number%099999999999999999999d$",
            "$Number%033d$",
        ] {
            assert!(expand_template(bad, &V).is_err(), "{bad}");
        }
        assert_eq!(expand_template("$Number%032d$", &V).unwrap().len(), 32);
    }
}
