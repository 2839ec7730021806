//! Sans-IO MPEG-DASH MPD writer for static (VOD) presentations, the foundation of MediaPackage
//! VOD's `DashPackage`.
//!
//! Build an [`Mpd`] with one [`Period`], an [`AdaptationSet`] per media type and their
//! [`Representation`]s, address segments with a [`SegmentTemplate`] (`$Number$` or `$Time$`,
//! with a run-length compressed [`SegmentTimeline`] or a constant `@duration`), and call
//! [`Mpd::write`]. [`expand_template`] turns a template into the file names a client will
//! request, so a packager names its segments exactly as the MPD announces them.
//!
//! **Architecture Invariant:** nothing here performs I/O, reads a clock or spawns a process;
//! writing never panics, and models that cannot be a valid MPD are refused with an [`Error`].
//!
//! Section numbers refer to ISO/IEC 23009-1 (fifth edition) unless another standard is named.

mod duration;
mod error;
mod mpd;
mod template;
mod timeline;
pub mod xml;

#[cfg(test)]
mod tests;

pub use duration::{DurationStyle, xs_duration};
pub use error::{Error, Result};
pub use mpd::{
    AUDIO_CHANNEL_CONFIGURATION_SCHEME, AdaptationSet, Addressing, AudioChannelConfiguration,
    ContentType, FrameRate, MPD_NAMESPACE, ManifestLayout, Mpd, Period, Profile, Representation,
    SegmentTemplate, SegmentTemplateFormat,
};
pub use template::{TemplateValues, expand_template};
pub use timeline::{S, Segment, SegmentTimeline};
