//! The MPD data model for a static (VOD) presentation and its writer (ISO/IEC 23009-1 §5.3).

use std::time::Duration;

use crate::duration::{DurationStyle, xs_duration};
use crate::error::{Error, Result};
use crate::template::{self, Uses};
use crate::timeline::{Segment, SegmentTimeline};
use crate::xml::XmlWriter;

/// `MPD@xmlns` (§5.3.1.2, Annex B schema).
pub const MPD_NAMESPACE: &str = "urn:mpeg:dash:schema:mpd:2011";
/// `@schemeIdUri` of `AudioChannelConfiguration` counting channels (ISO/IEC 23009-1 §5.8.5.4,
/// referring to ISO/IEC 23001-8 ChannelConfiguration semantics as a plain count).
pub const AUDIO_CHANNEL_CONFIGURATION_SCHEME: &str =
    "urn:mpeg:dash:23003:3:audio_channel_configuration:2011";

/// `MPD@profiles` (§8: DASH profiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Profile {
    /// ISO Base media file format On Demand profile (§8.3).
    OnDemand,
    /// ISO Base media file format live profile (§8.4); what MediaPackage's `NONE` writes.
    Live,
    /// HbbTV 1.5 (ETSI TS 102 796 §E.2.1) on top of the live profile: MediaPackage `HBBTV_1_5`.
    HbbTv15,
}

impl Profile {
    /// The comma-separated `@profiles` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::OnDemand => "urn:mpeg:dash:profile:isoff-on-demand:2011",
            Profile::Live => "urn:mpeg:dash:profile:isoff-live:2011",
            Profile::HbbTv15 => {
                "urn:hbbtv:dash:profile:isoff-live:2012,urn:mpeg:dash:profile:isoff-live:2011"
            }
        }
    }
}

/// MediaPackage `manifestLayout`: where `SegmentTemplate` is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ManifestLayout {
    /// One `SegmentTemplate` in every `Representation`.
    #[default]
    Full,
    /// One `SegmentTemplate` on the `AdaptationSet` when all its Representations have the same
    /// one (§5.3.9.1: Representation-level elements inherit from the AdaptationSet); per
    /// Representation otherwise.
    Compact,
}

/// MediaPackage `segmentTemplateFormat`: how segments are addressed (§5.3.9.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SegmentTemplateFormat {
    /// `$Number$` in `@media` with a `SegmentTimeline`.
    NumberWithTimeline,
    /// `$Time$` in `@media` with a `SegmentTimeline`.
    TimeWithTimeline,
    /// `$Number$` in `@media` with a constant `@duration`.
    NumberWithDuration,
}

/// The MPD's `@type` is always `static`: this writer describes VOD presentations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mpd {
    /// `@profiles`.
    pub profile: Profile,
    /// `@mediaPresentationDuration`, written with milliseconds (`PT4.000S`).
    pub media_presentation_duration: Duration,
    /// `@minBufferTime` (MediaPackage `minBufferTimeSeconds`), written shortest (`PT30S`).
    pub min_buffer_time: Duration,
    /// Where segment templates go.
    pub layout: ManifestLayout,
    /// The single Period.
    pub period: Period,
}

/// A `Period` (§5.3.2), starting at 0.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Period {
    /// `@id`, if any.
    pub id: Option<String>,
    /// One AdaptationSet per media type (and language).
    pub adaptation_sets: Vec<AdaptationSet>,
}

/// `AdaptationSet@contentType` (§5.3.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContentType {
    /// `video`.
    Video,
    /// `audio`.
    Audio,
    /// `text`.
    Text,
}

impl ContentType {
    fn as_str(self) -> &'static str {
        match self {
            ContentType::Video => "video",
            ContentType::Audio => "audio",
            ContentType::Text => "text",
        }
    }
}

/// An `AdaptationSet` (§5.3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdaptationSet {
    /// `@id`, if any.
    pub id: Option<u32>,
    /// `@contentType`.
    pub content_type: ContentType,
    /// `@mimeType` (a common attribute, §5.3.7), e.g. `video/mp4`.
    pub mime_type: String,
    /// `@codecs` shared by all Representations (RFC 6381), if any.
    pub codecs: Option<String>,
    /// `@lang` (BCP 47), if any.
    pub lang: Option<String>,
    /// `@segmentAlignment` (§5.3.3.2); written only when true.
    pub segment_alignment: bool,
    /// `@startWithSAP` (§5.3.7.2), 0-6; e.g. 1 for closed-GOP segments starting with an IDR.
    pub start_with_sap: Option<u8>,
    /// The Representations; at least one.
    pub representations: Vec<Representation>,
}

/// A `Representation` (§5.3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Representation {
    /// `@id`, unique within the Period and without whitespace (§5.3.5.2).
    pub id: String,
    /// `@bandwidth` in bits per second.
    pub bandwidth: u64,
    /// `@codecs`, when not given on the AdaptationSet.
    pub codecs: Option<String>,
    /// `@width`.
    pub width: Option<u32>,
    /// `@height`.
    pub height: Option<u32>,
    /// `@frameRate`.
    pub frame_rate: Option<FrameRate>,
    /// `@audioSamplingRate` in Hz.
    pub audio_sampling_rate: Option<u32>,
    /// `AudioChannelConfiguration` descriptor, if any.
    pub audio_channel_configuration: Option<AudioChannelConfiguration>,
    /// How the Representation's segments are addressed.
    pub segment_template: SegmentTemplate,
}

/// `@frameRate` (§5.3.7.2, `FrameRateType`): `num` or `num/den`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameRate {
    /// Frames per `den` seconds.
    pub num: u32,
    /// Denominator; 1 writes the integer form.
    pub den: u32,
}

/// An `AudioChannelConfiguration` descriptor (§5.3.7.2, `DescriptorType`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AudioChannelConfiguration {
    /// `@schemeIdUri`.
    pub scheme_id_uri: String,
    /// `@value`.
    pub value: String,
}

impl AudioChannelConfiguration {
    /// The descriptor stating a channel count with [`AUDIO_CHANNEL_CONFIGURATION_SCHEME`].
    pub fn channels(count: u16) -> Self {
        Self {
            scheme_id_uri: AUDIO_CHANNEL_CONFIGURATION_SCHEME.to_owned(),
            value: count.to_string(),
        }
    }
}

/// How a `SegmentTemplate` lists its segments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Addressing {
    /// `@duration`: every segment but the last lasts this long (§5.3.9.2).
    Duration(u64),
    /// An explicit `SegmentTimeline` (§5.3.9.6).
    Timeline(SegmentTimeline),
}

/// A `SegmentTemplate` (§5.3.9.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SegmentTemplate {
    /// `@timescale`, non-zero.
    pub timescale: u32,
    /// `@initialization` template: may use `$RepresentationID$` and `$Bandwidth$` only.
    pub initialization: String,
    /// `@media` template: `$Number$` or `$Time$`, plus optionally `$RepresentationID$`.
    pub media: String,
    /// `@startNumber`; written when the media template uses `$Number$`.
    pub start_number: u64,
    /// `@presentationTimeOffset` (§5.3.9.2, Table 16): the media time that maps to the start
    /// of the Period, e.g. a source's edit-list start. Written when non-zero.
    pub presentation_time_offset: u64,
    /// `@duration` or `SegmentTimeline`.
    pub addressing: Addressing,
}

impl SegmentTemplate {
    /// Builds the template of a MediaPackage `segmentTemplateFormat` for `segments` (in
    /// `timescale` units), checking that `media` uses the identifier the format needs.
    /// `NUMBER_WITH_DURATION` takes its `@duration` from the first segment: every segment but
    /// the last is expected to last that long.
    pub fn for_format(
        format: SegmentTemplateFormat,
        timescale: u32,
        initialization: impl Into<String>,
        media: impl Into<String>,
        start_number: u64,
        segments: &[Segment],
    ) -> Result<Self> {
        let addressing = match format {
            SegmentTemplateFormat::NumberWithTimeline | SegmentTemplateFormat::TimeWithTimeline => {
                Addressing::Timeline(SegmentTimeline::from_segments(segments)?)
            }
            SegmentTemplateFormat::NumberWithDuration => {
                let first = segments
                    .first()
                    .ok_or(Error::Invalid("template: no segments"))?;
                Addressing::Duration(first.duration)
            }
        };
        let t = Self {
            timescale,
            initialization: initialization.into(),
            media: media.into(),
            start_number,
            presentation_time_offset: 0,
            addressing,
        };
        let uses = t.validate()?;
        let wanted_time = format == SegmentTemplateFormat::TimeWithTimeline;
        if uses.time != wanted_time || uses.number == wanted_time {
            return Err(Error::Invalid(
                "template: @media identifier does not match the segment template format",
            ));
        }
        Ok(t)
    }

    /// Checks the template on its own and returns which identifiers `@media` uses.
    fn validate(&self) -> Result<Uses> {
        if self.timescale == 0 {
            return Err(Error::Invalid("template: zero timescale"));
        }
        let init = template::uses(&self.initialization)?;
        // §5.3.9.4.4: $Number$ and $Time$ shall not be used in @initialization.
        if init.number || init.time {
            return Err(Error::Invalid(
                "template: $Number$ or $Time$ in @initialization",
            ));
        }
        let media = template::uses(&self.media)?;
        // §5.3.9.4.4: $Number$ and $Time$ shall not both be present.
        if media.number && media.time {
            return Err(Error::Invalid(
                "template: both $Number$ and $Time$ in @media",
            ));
        }
        match &self.addressing {
            Addressing::Duration(0) => {
                return Err(Error::Invalid("template: zero @duration"));
            }
            Addressing::Duration(_) if !media.number => {
                // With @duration there are no S@t values, so only $Number$ can address segments.
                return Err(Error::Invalid("template: @duration without $Number$"));
            }
            Addressing::Timeline(tl) if tl.is_empty() => {
                return Err(Error::Invalid("timeline: no segments"));
            }
            _ => {}
        }
        if !media.number && !media.time {
            return Err(Error::Invalid(
                "template: @media without $Number$ or $Time$",
            ));
        }
        Ok(media)
    }

    fn write(&self, w: &mut XmlWriter) -> Result<()> {
        let uses = self.validate()?;
        w.start("SegmentTemplate");
        w.attr("timescale", &self.timescale.to_string())?;
        if self.presentation_time_offset > 0 {
            w.attr(
                "presentationTimeOffset",
                &self.presentation_time_offset.to_string(),
            )?;
        }
        w.attr("initialization", &self.initialization)?;
        w.attr("media", &self.media)?;
        if uses.number {
            w.attr("startNumber", &self.start_number.to_string())?;
        }
        match &self.addressing {
            Addressing::Duration(d) => {
                w.attr("duration", &d.to_string())?;
            }
            Addressing::Timeline(tl) => {
                w.start("SegmentTimeline");
                for s in &tl.entries {
                    if s.d == 0 || i32::try_from(s.r).is_err() {
                        return Err(Error::Invalid("timeline: S@d zero or S@r beyond xs:int"));
                    }
                    w.start("S");
                    if let Some(t) = s.t {
                        w.attr("t", &t.to_string())?;
                    }
                    w.attr("d", &s.d.to_string())?;
                    if s.r > 0 {
                        w.attr("r", &s.r.to_string())?;
                    }
                    w.end();
                }
                w.end();
            }
        }
        w.end();
        Ok(())
    }
}

impl Mpd {
    /// Writes the MPD as UTF-8 XML. Fails when the model cannot be a valid MPD: no
    /// AdaptationSet, an AdaptationSet without Representation, a duplicate or blank
    /// Representation id, a zero bandwidth or frame rate, `@startWithSAP` above 6, an invalid
    /// template or a character XML cannot carry.
    pub fn write(&self) -> Result<String> {
        let mut w = XmlWriter::new();
        // §5.3.1.2, Table 3.
        w.start("MPD");
        w.attr("xmlns", MPD_NAMESPACE)?;
        w.attr("profiles", self.profile.as_str())?;
        w.attr("type", "static")?;
        w.attr(
            "mediaPresentationDuration",
            &xs_duration(
                self.media_presentation_duration,
                DurationStyle::Milliseconds,
            ),
        )?;
        w.attr(
            "minBufferTime",
            &xs_duration(self.min_buffer_time, DurationStyle::Shortest),
        )?;
        self.write_period(&mut w)?;
        Ok(w.finish())
    }

    fn write_period(&self, w: &mut XmlWriter) -> Result<()> {
        let period = &self.period;
        if period.adaptation_sets.is_empty() {
            return Err(Error::Invalid("period without AdaptationSet"));
        }
        let mut ids: Vec<&str> = Vec::new();
        for set in &period.adaptation_sets {
            for r in &set.representations {
                // §5.3.5.2: @id is unique within the Period and contains no whitespace.
                if r.id.is_empty() || r.id.chars().any(char::is_whitespace) {
                    return Err(Error::Invalid("Representation@id empty or with whitespace"));
                }
                if ids.contains(&r.id.as_str()) {
                    return Err(Error::Invalid("duplicate Representation@id"));
                }
                ids.push(&r.id);
            }
        }
        // §5.3.2.2, Table 4.
        w.start("Period");
        if let Some(id) = &period.id {
            w.attr("id", id)?;
        }
        w.attr("start", "PT0S")?;
        for set in &period.adaptation_sets {
            self.write_adaptation_set(w, set)?;
        }
        w.end();
        Ok(())
    }

    fn write_adaptation_set(&self, w: &mut XmlWriter, set: &AdaptationSet) -> Result<()> {
        let Some(first) = set.representations.first() else {
            return Err(Error::Invalid("AdaptationSet without Representation"));
        };
        let hoisted = self.layout == ManifestLayout::Compact
            && set
                .representations
                .iter()
                .all(|r| r.segment_template == first.segment_template);
        // §5.3.3.2, Table 5, and the common attributes of §5.3.7.2, Table 9.
        w.start("AdaptationSet");
        if let Some(id) = set.id {
            w.attr("id", &id.to_string())?;
        }
        w.attr("contentType", set.content_type.as_str())?;
        w.attr("mimeType", &set.mime_type)?;
        if let Some(codecs) = &set.codecs {
            w.attr("codecs", codecs)?;
        }
        if let Some(lang) = &set.lang {
            w.attr("lang", lang)?;
        }
        if set.segment_alignment {
            w.attr("segmentAlignment", "true")?;
        }
        if let Some(sap) = set.start_with_sap {
            if sap > 6 {
                return Err(Error::Invalid("@startWithSAP above 6"));
            }
            w.attr("startWithSAP", &sap.to_string())?;
        }
        // Schema order (Annex B): SegmentTemplate precedes Representation.
        if hoisted {
            first.segment_template.write(w)?;
        }
        for r in &set.representations {
            write_representation(w, r, !hoisted)?;
        }
        w.end();
        Ok(())
    }
}

fn write_representation(w: &mut XmlWriter, r: &Representation, template: bool) -> Result<()> {
    if r.bandwidth == 0 {
        return Err(Error::Invalid("Representation@bandwidth is zero"));
    }
    // §5.3.5.2, Table 7.
    w.start("Representation");
    w.attr("id", &r.id)?;
    w.attr("bandwidth", &r.bandwidth.to_string())?;
    if let Some(codecs) = &r.codecs {
        w.attr("codecs", codecs)?;
    }
    if let Some(width) = r.width {
        w.attr("width", &width.to_string())?;
    }
    if let Some(height) = r.height {
        w.attr("height", &height.to_string())?;
    }
    if let Some(f) = r.frame_rate {
        if f.num == 0 || f.den == 0 {
            return Err(Error::Invalid("@frameRate with a zero term"));
        }
        let text = if f.den == 1 {
            f.num.to_string()
        } else {
            format!("{}/{}", f.num, f.den)
        };
        w.attr("frameRate", &text)?;
    }
    if let Some(rate) = r.audio_sampling_rate {
        w.attr("audioSamplingRate", &rate.to_string())?;
    }
    // Schema order: descriptors of RepresentationBaseType come before SegmentTemplate.
    if let Some(acc) = &r.audio_channel_configuration {
        w.start("AudioChannelConfiguration");
        w.attr("schemeIdUri", &acc.scheme_id_uri)?;
        w.attr("value", &acc.value)?;
        w.end();
    }
    if template {
        r.segment_template.write(w)?;
    }
    w.end();
    Ok(())
}
