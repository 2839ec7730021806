//! Exact-text snapshots of whole MPDs for each segment template format and layout, and the
//! writer's refusals.

use std::time::Duration;

use crate::*;

/// Video at timescale 12800: two 2 s segments then a 1 s one. Audio at 48000: AAC frames do not
/// divide 2 s, so its durations differ.
fn video_segments() -> Vec<Segment> {
    vec![
        Segment {
            start: 0,
            duration: 25600,
        },
        Segment {
            start: 25600,
            duration: 25600,
        },
        Segment {
            start: 51200,
            duration: 12800,
        },
    ]
}

fn audio_segments() -> Vec<Segment> {
    vec![
        Segment {
            start: 0,
            duration: 96256,
        },
        Segment {
            start: 96256,
            duration: 95232,
        },
        Segment {
            start: 191_488,
            duration: 48128,
        },
    ]
}

fn media_for(format: SegmentTemplateFormat) -> &'static str {
    match format {
        SegmentTemplateFormat::TimeWithTimeline => "$RepresentationID$_$Time$.mp4",
        _ => "$RepresentationID$_$Number%03d$.mp4",
    }
}

fn mpd(format: SegmentTemplateFormat, layout: ManifestLayout, profile: Profile) -> Mpd {
    let template = |timescale, segments: &[Segment]| {
        SegmentTemplate::for_format(
            format,
            timescale,
            "$RepresentationID$_init.mp4",
            media_for(format),
            1,
            segments,
        )
        .unwrap()
    };
    let video_rep = |id: &str, bandwidth, width, height| Representation {
        id: id.to_owned(),
        bandwidth,
        codecs: None,
        width: Some(width),
        height: Some(height),
        frame_rate: Some(FrameRate { num: 25, den: 1 }),
        audio_sampling_rate: None,
        audio_channel_configuration: None,
        segment_template: template(12800, &video_segments()),
    };
    Mpd {
        profile,
        media_presentation_duration: Duration::from_millis(5000),
        min_buffer_time: Duration::from_secs(30),
        layout,
        period: Period {
            id: Some("0".to_owned()),
            adaptation_sets: vec![
                AdaptationSet {
                    id: Some(1),
                    content_type: ContentType::Video,
                    mime_type: "video/mp4".to_owned(),
                    codecs: Some("avc1.64001f".to_owned()),
                    lang: None,
                    segment_alignment: true,
                    start_with_sap: Some(1),
                    representations: vec![
                        video_rep("v720", 3_000_000, 1280, 720),
                        video_rep("v360", 800_000, 640, 360),
                    ],
                },
                AdaptationSet {
                    id: Some(2),
                    content_type: ContentType::Audio,
                    mime_type: "audio/mp4".to_owned(),
                    codecs: Some("mp4a.40.2".to_owned()),
                    lang: Some("en".to_owned()),
                    segment_alignment: true,
                    start_with_sap: Some(1),
                    representations: vec![Representation {
                        id: "a1".to_owned(),
                        bandwidth: 128_000,
                        codecs: None,
                        width: None,
                        height: None,
                        frame_rate: None,
                        audio_sampling_rate: Some(48000),
                        audio_channel_configuration: Some(AudioChannelConfiguration::channels(2)),
                        segment_template: template(48000, &audio_segments()),
                    }],
                },
            ],
        },
    }
}

#[track_caller]
fn check(format: SegmentTemplateFormat, layout: ManifestLayout, profile: Profile, expect: &str) {
    let got = mpd(format, layout, profile).write().unwrap();
    assert_eq!(got, expect, "\n--- got ---\n{got}");
}

#[test]
fn number_with_timeline_full() {
    check(
        SegmentTemplateFormat::NumberWithTimeline,
        ManifestLayout::Full,
        Profile::Live,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT5.000S" minBufferTime="PT30S">
  <Period id="0" start="PT0S">
    <AdaptationSet id="1" contentType="video" mimeType="video/mp4" codecs="avc1.64001f" segmentAlignment="true" startWithSAP="1">
      <Representation id="v720" bandwidth="3000000" width="1280" height="720" frameRate="25">
        <SegmentTemplate timescale="12800" initialization="$RepresentationID$_init.mp4" media="$RepresentationID$_$Number%03d$.mp4" startNumber="1">
          <SegmentTimeline>
            <S t="0" d="25600" r="1"/>
            <S d="12800"/>
          </SegmentTimeline>
        </SegmentTemplate>
      </Representation>
      <Representation id="v360" bandwidth="800000" width="640" height="360" frameRate="25">
        <SegmentTemplate timescale="12800" initialization="$RepresentationID$_init.mp4" media="$RepresentationID$_$Number%03d$.mp4" startNumber="1">
          <SegmentTimeline>
            <S t="0" d="25600" r="1"/>
            <S d="12800"/>
          </SegmentTimeline>
        </SegmentTemplate>
      </Representation>
    </AdaptationSet>
    <AdaptationSet id="2" contentType="audio" mimeType="audio/mp4" codecs="mp4a.40.2" lang="en" segmentAlignment="true" startWithSAP="1">
      <Representation id="a1" bandwidth="128000" audioSamplingRate="48000">
        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2"/>
        <SegmentTemplate timescale="48000" initialization="$RepresentationID$_init.mp4" media="$RepresentationID$_$Number%03d$.mp4" startNumber="1">
          <SegmentTimeline>
            <S t="0" d="96256"/>
            <S d="95232"/>
            <S d="48128"/>
          </SegmentTimeline>
        </SegmentTemplate>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
"#,
    );
}

#[test]
fn number_with_timeline_compact() {
    check(
        SegmentTemplateFormat::NumberWithTimeline,
        ManifestLayout::Compact,
        Profile::Live,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT5.000S" minBufferTime="PT30S">
  <Period id="0" start="PT0S">
    <AdaptationSet id="1" contentType="video" mimeType="video/mp4" codecs="avc1.64001f" segmentAlignment="true" startWithSAP="1">
      <SegmentTemplate timescale="12800" initialization="$RepresentationID$_init.mp4" media="$RepresentationID$_$Number%03d$.mp4" startNumber="1">
        <SegmentTimeline>
          <S t="0" d="25600" r="1"/>
          <S d="12800"/>
        </SegmentTimeline>
      </SegmentTemplate>
      <Representation id="v720" bandwidth="3000000" width="1280" height="720" frameRate="25"/>
      <Representation id="v360" bandwidth="800000" width="640" height="360" frameRate="25"/>
    </AdaptationSet>
    <AdaptationSet id="2" contentType="audio" mimeType="audio/mp4" codecs="mp4a.40.2" lang="en" segmentAlignment="true" startWithSAP="1">
      <SegmentTemplate timescale="48000" initialization="$RepresentationID$_init.mp4" media="$RepresentationID$_$Number%03d$.mp4" startNumber="1">
        <SegmentTimeline>
          <S t="0" d="96256"/>
          <S d="95232"/>
          <S d="48128"/>
        </SegmentTimeline>
      </SegmentTemplate>
      <Representation id="a1" bandwidth="128000" audioSamplingRate="48000">
        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2"/>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
"#,
    );
}

#[test]
fn time_with_timeline_full() {
    check(
        SegmentTemplateFormat::TimeWithTimeline,
        ManifestLayout::Full,
        Profile::Live,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT5.000S" minBufferTime="PT30S">
  <Period id="0" start="PT0S">
    <AdaptationSet id="1" contentType="video" mimeType="video/mp4" codecs="avc1.64001f" segmentAlignment="true" startWithSAP="1">
      <Representation id="v720" bandwidth="3000000" width="1280" height="720" frameRate="25">
        <SegmentTemplate timescale="12800" initialization="$RepresentationID$_init.mp4" media="$RepresentationID$_$Time$.mp4">
          <SegmentTimeline>
            <S t="0" d="25600" r="1"/>
            <S d="12800"/>
          </SegmentTimeline>
        </SegmentTemplate>
      </Representation>
      <Representation id="v360" bandwidth="800000" width="640" height="360" frameRate="25">
        <SegmentTemplate timescale="12800" initialization="$RepresentationID$_init.mp4" media="$RepresentationID$_$Time$.mp4">
          <SegmentTimeline>
            <S t="0" d="25600" r="1"/>
            <S d="12800"/>
          </SegmentTimeline>
        </SegmentTemplate>
      </Representation>
    </AdaptationSet>
    <AdaptationSet id="2" contentType="audio" mimeType="audio/mp4" codecs="mp4a.40.2" lang="en" segmentAlignment="true" startWithSAP="1">
      <Representation id="a1" bandwidth="128000" audioSamplingRate="48000">
        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2"/>
        <SegmentTemplate timescale="48000" initialization="$RepresentationID$_init.mp4" media="$RepresentationID$_$Time$.mp4">
          <SegmentTimeline>
            <S t="0" d="96256"/>
            <S d="95232"/>
            <S d="48128"/>
          </SegmentTimeline>
        </SegmentTemplate>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
"#,
    );
}

#[test]
fn time_with_timeline_compact() {
    check(
        SegmentTemplateFormat::TimeWithTimeline,
        ManifestLayout::Compact,
        Profile::Live,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT5.000S" minBufferTime="PT30S">
  <Period id="0" start="PT0S">
    <AdaptationSet id="1" contentType="video" mimeType="video/mp4" codecs="avc1.64001f" segmentAlignment="true" startWithSAP="1">
      <SegmentTemplate timescale="12800" initialization="$RepresentationID$_init.mp4" media="$RepresentationID$_$Time$.mp4">
        <SegmentTimeline>
          <S t="0" d="25600" r="1"/>
          <S d="12800"/>
        </SegmentTimeline>
      </SegmentTemplate>
      <Representation id="v720" bandwidth="3000000" width="1280" height="720" frameRate="25"/>
      <Representation id="v360" bandwidth="800000" width="640" height="360" frameRate="25"/>
    </AdaptationSet>
    <AdaptationSet id="2" contentType="audio" mimeType="audio/mp4" codecs="mp4a.40.2" lang="en" segmentAlignment="true" startWithSAP="1">
      <SegmentTemplate timescale="48000" initialization="$RepresentationID$_init.mp4" media="$RepresentationID$_$Time$.mp4">
        <SegmentTimeline>
          <S t="0" d="96256"/>
          <S d="95232"/>
          <S d="48128"/>
        </SegmentTimeline>
      </SegmentTemplate>
      <Representation id="a1" bandwidth="128000" audioSamplingRate="48000">
        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2"/>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
"#,
    );
}

#[test]
fn number_with_duration_full() {
    check(
        SegmentTemplateFormat::NumberWithDuration,
        ManifestLayout::Full,
        Profile::Live,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT5.000S" minBufferTime="PT30S">
  <Period id="0" start="PT0S">
    <AdaptationSet id="1" contentType="video" mimeType="video/mp4" codecs="avc1.64001f" segmentAlignment="true" startWithSAP="1">
      <Representation id="v720" bandwidth="3000000" width="1280" height="720" frameRate="25">
        <SegmentTemplate timescale="12800" initialization="$RepresentationID$_init.mp4" media="$RepresentationID$_$Number%03d$.mp4" startNumber="1" duration="25600"/>
      </Representation>
      <Representation id="v360" bandwidth="800000" width="640" height="360" frameRate="25">
        <SegmentTemplate timescale="12800" initialization="$RepresentationID$_init.mp4" media="$RepresentationID$_$Number%03d$.mp4" startNumber="1" duration="25600"/>
      </Representation>
    </AdaptationSet>
    <AdaptationSet id="2" contentType="audio" mimeType="audio/mp4" codecs="mp4a.40.2" lang="en" segmentAlignment="true" startWithSAP="1">
      <Representation id="a1" bandwidth="128000" audioSamplingRate="48000">
        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2"/>
        <SegmentTemplate timescale="48000" initialization="$RepresentationID$_init.mp4" media="$RepresentationID$_$Number%03d$.mp4" startNumber="1" duration="96256"/>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
"#,
    );
}

#[test]
fn number_with_duration_compact() {
    check(
        SegmentTemplateFormat::NumberWithDuration,
        ManifestLayout::Compact,
        Profile::Live,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT5.000S" minBufferTime="PT30S">
  <Period id="0" start="PT0S">
    <AdaptationSet id="1" contentType="video" mimeType="video/mp4" codecs="avc1.64001f" segmentAlignment="true" startWithSAP="1">
      <SegmentTemplate timescale="12800" initialization="$RepresentationID$_init.mp4" media="$RepresentationID$_$Number%03d$.mp4" startNumber="1" duration="25600"/>
      <Representation id="v720" bandwidth="3000000" width="1280" height="720" frameRate="25"/>
      <Representation id="v360" bandwidth="800000" width="640" height="360" frameRate="25"/>
    </AdaptationSet>
    <AdaptationSet id="2" contentType="audio" mimeType="audio/mp4" codecs="mp4a.40.2" lang="en" segmentAlignment="true" startWithSAP="1">
      <SegmentTemplate timescale="48000" initialization="$RepresentationID$_init.mp4" media="$RepresentationID$_$Number%03d$.mp4" startNumber="1" duration="96256"/>
      <Representation id="a1" bandwidth="128000" audioSamplingRate="48000">
        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2"/>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
"#,
    );
}

#[test]
fn hbbtv_profile() {
    let text = mpd(
        SegmentTemplateFormat::NumberWithTimeline,
        ManifestLayout::Compact,
        Profile::HbbTv15,
    )
    .write()
    .unwrap();
    assert!(text.contains(
        " profiles=\"urn:hbbtv:dash:profile:isoff-live:2012,urn:mpeg:dash:profile:isoff-live:2011\" "
    ));
    assert_eq!(
        Profile::OnDemand.as_str(),
        "urn:mpeg:dash:profile:isoff-on-demand:2011"
    );
}

#[test]
fn compact_keeps_differing_templates_per_representation() {
    let mut m = mpd(
        SegmentTemplateFormat::NumberWithTimeline,
        ManifestLayout::Compact,
        Profile::Live,
    );
    m.period.adaptation_sets[0].representations[1]
        .segment_template
        .start_number = 0;
    let text = m.write().unwrap();
    let video = &text[text.find("<AdaptationSet id=\"1\"").unwrap()
        ..text.find("<AdaptationSet id=\"2\"").unwrap()];
    // Not hoisted: one template inside each Representation.
    assert_eq!(video.matches("<SegmentTemplate").count(), 2, "{video}");
    assert!(video.contains("<Representation id=\"v360\" bandwidth=\"800000\" width=\"640\" height=\"360\" frameRate=\"25\">\n        <SegmentTemplate timescale=\"12800\" initialization=\"$RepresentationID$_init.mp4\" media=\"$RepresentationID$_$Number%03d$.mp4\" startNumber=\"0\">"), "{video}");
    // The audio set, with a single Representation, is still hoisted.
    let audio = &text[text.find("<AdaptationSet id=\"2\"").unwrap()..];
    assert!(
        audio.contains("startWithSAP=\"1\">\n      <SegmentTemplate "),
        "{audio}"
    );
}

#[test]
fn presentation_time_offset_is_written_when_set() {
    let mut m = mpd(
        SegmentTemplateFormat::TimeWithTimeline,
        ManifestLayout::Full,
        Profile::Live,
    );
    assert!(!m.write().unwrap().contains("presentationTimeOffset"));
    m.period.adaptation_sets[0].representations[0]
        .segment_template
        .presentation_time_offset = 1024;
    let text = m.write().unwrap();
    assert_eq!(
        text.matches(" presentationTimeOffset=\"1024\"").count(),
        1,
        "{text}"
    );
    assert!(text.contains("<SegmentTemplate timescale=\"12800\" presentationTimeOffset=\"1024\" "));
}

#[test]
fn attributes_are_escaped_and_frame_rates_written() {
    let mut m = mpd(
        SegmentTemplateFormat::NumberWithDuration,
        ManifestLayout::Full,
        Profile::Live,
    );
    m.period.id = Some("a&b\"<c>".to_owned());
    m.period.adaptation_sets[0].representations[0].frame_rate = Some(FrameRate {
        num: 30000,
        den: 1001,
    });
    let text = m.write().unwrap();
    assert!(text.contains("<Period id=\"a&amp;b&quot;&lt;c&gt;\" start=\"PT0S\">"));
    assert!(text.contains(" frameRate=\"30000/1001\">"));
}

#[track_caller]
fn refuses(edit: impl FnOnce(&mut Mpd), expect: Error) {
    let mut m = mpd(
        SegmentTemplateFormat::NumberWithTimeline,
        ManifestLayout::Full,
        Profile::Live,
    );
    edit(&mut m);
    assert_eq!(m.write(), Err(expect));
}

#[test]
fn refuses_invalid_models() {
    refuses(
        |m| m.period.adaptation_sets.clear(),
        Error::Invalid("period without AdaptationSet"),
    );
    refuses(
        |m| m.period.adaptation_sets[1].representations.clear(),
        Error::Invalid("AdaptationSet without Representation"),
    );
    refuses(
        |m| m.period.adaptation_sets[1].representations[0].id = "v720".to_owned(),
        Error::Invalid("duplicate Representation@id"),
    );
    refuses(
        |m| m.period.adaptation_sets[1].representations[0].id = "a 1".to_owned(),
        Error::Invalid("Representation@id empty or with whitespace"),
    );
    refuses(
        |m| m.period.adaptation_sets[1].representations[0].bandwidth = 0,
        Error::Invalid("Representation@bandwidth is zero"),
    );
    refuses(
        |m| m.period.adaptation_sets[0].start_with_sap = Some(7),
        Error::Invalid("@startWithSAP above 6"),
    );
    refuses(
        |m| m.period.adaptation_sets[0].lang = Some("en\u{0}".to_owned()),
        Error::Invalid("character not allowed in XML 1.0"),
    );
    refuses(
        |m| {
            m.period.adaptation_sets[0].representations[0].frame_rate =
                Some(FrameRate { num: 25, den: 0 })
        },
        Error::Invalid("@frameRate with a zero term"),
    );
    refuses(
        |m| {
            m.period.adaptation_sets[0].representations[0]
                .segment_template
                .timescale = 0
        },
        Error::Invalid("template: zero timescale"),
    );
    refuses(
        |m| {
            m.period.adaptation_sets[0].representations[0]
                .segment_template
                .initialization = "$Number$.mp4".to_owned()
        },
        Error::Invalid("template: $Number$ or $Time$ in @initialization"),
    );
    refuses(
        |m| {
            m.period.adaptation_sets[0].representations[0]
                .segment_template
                .media = "$Number$$Time$".to_owned()
        },
        Error::Invalid("template: both $Number$ and $Time$ in @media"),
    );
    refuses(
        |m| {
            m.period.adaptation_sets[0].representations[0]
                .segment_template
                .media = "fixed.mp4".to_owned()
        },
        Error::Invalid("template: @media without $Number$ or $Time$"),
    );
    refuses(
        |m| {
            let t = &mut m.period.adaptation_sets[0].representations[0].segment_template;
            t.media = "$Time$.mp4".to_owned();
            t.addressing = Addressing::Duration(100);
        },
        Error::Invalid("template: @duration without $Number$"),
    );
    refuses(
        |m| {
            m.period.adaptation_sets[0].representations[0]
                .segment_template
                .addressing = Addressing::Timeline(SegmentTimeline::default())
        },
        Error::Invalid("timeline: no segments"),
    );
    refuses(
        |m| {
            m.period.adaptation_sets[0].representations[0]
                .segment_template
                .addressing = Addressing::Timeline(SegmentTimeline {
                entries: vec![S {
                    t: Some(0),
                    d: 10,
                    r: u32::MAX,
                }],
            })
        },
        Error::Invalid("timeline: S@d zero or S@r beyond xs:int"),
    );
}

#[test]
fn for_format_checks_the_media_identifier() {
    let segs = video_segments();
    let mismatch =
        Error::Invalid("template: @media identifier does not match the segment template format");
    let build = |f, media: &str| SegmentTemplate::for_format(f, 12800, "init.mp4", media, 1, &segs);
    assert_eq!(
        build(SegmentTemplateFormat::TimeWithTimeline, "$Number$.mp4"),
        Err(mismatch.clone())
    );
    assert_eq!(
        build(SegmentTemplateFormat::NumberWithTimeline, "$Time$.mp4"),
        Err(mismatch.clone())
    );
    assert_eq!(
        build(SegmentTemplateFormat::NumberWithDuration, "$Time$.mp4"),
        Err(Error::Invalid("template: @duration without $Number$"))
    );
    assert_eq!(
        SegmentTemplate::for_format(
            SegmentTemplateFormat::NumberWithDuration,
            1,
            "i",
            "$Number$",
            1,
            &[]
        ),
        Err(Error::Invalid("template: no segments"))
    );
    let t = build(SegmentTemplateFormat::NumberWithDuration, "$Number$.mp4").unwrap();
    assert_eq!(t.addressing, Addressing::Duration(25600));
}
