//! Reading the pre-encoded FLV file that every publisher replays (FLV v10.1 §E.2–E.4: file
//! header, then tags each followed by the previous tag size).
//!
//! The file is split into what a publisher sends once (`onMetaData`, the AVC and AAC sequence
//! headers) and the media tags it loops, rebased so that the first video keyframe is at 0 ms.

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;

/// Largest FLV file accepted: a few seconds at a few Mbps is a few MB.
const MAX_FILE: usize = 256 * 1024 * 1024;
/// FLV tag types (§E.4.1).
const TAG_AUDIO: u8 = 8;
const TAG_VIDEO: u8 = 9;
const TAG_SCRIPT: u8 = 18;
/// Legacy video codec id of AVC (§E.4.3.1) and sound format of AAC (§E.4.2.1).
const CODEC_AVC: u8 = 7;
const SOUND_AAC: u8 = 10;

/// Whether a tag is audio or video; selects the RTMP message type and chunk stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Audio,
    Video,
}

/// One media tag body (the RTMP message payload) at its time in the loop.
#[derive(Debug, Clone)]
pub struct Tag {
    pub kind: Kind,
    pub timestamp_ms: u32,
    pub body: Bytes,
}

/// What a publisher replays.
#[derive(Debug)]
pub struct Recording {
    /// The `onMetaData` script body (`"onMetaData"`, ECMA array), if the file has one.
    pub metadata: Option<Bytes>,
    /// AVC and AAC sequence headers, sent once before the media.
    pub headers: Vec<Tag>,
    /// Media tags in file order, from the first video keyframe; timestamps start at 0.
    pub media: Vec<Tag>,
    /// Length of one loop: the timestamp offset added on every repetition.
    pub loop_ms: u32,
    /// Media payload bytes in one loop.
    pub loop_bytes: usize,
}

impl Recording {
    pub fn read(path: &std::path::Path) -> Result<Self> {
        let len = std::fs::metadata(path)
            .with_context(|| format!("reading {}", path.display()))?
            .len();
        ensure!(
            len as usize <= MAX_FILE,
            "FLV file larger than {MAX_FILE} bytes"
        );
        let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(Bytes::from(data))
    }

    pub fn parse(data: Bytes) -> Result<Self> {
        ensure!(data.len() >= 13 && &data[..3] == b"FLV", "not an FLV file");
        let header_len = u32::from_be_bytes([data[5], data[6], data[7], data[8]]) as usize;
        ensure!(header_len >= 9, "FLV header size");
        // The header, then PreviousTagSize0.
        let mut pos = header_len.checked_add(4).context("FLV header size")?;
        let mut metadata = None;
        let mut headers = Vec::new();
        let mut media: Vec<Tag> = Vec::new();
        let mut first_key: Option<u32> = None;
        while pos < data.len() {
            let Some(h) = data.get(pos..pos + 11) else {
                break; // A truncated last tag header: stop at the last whole tag.
            };
            let tag_type = h[0] & 0x1F;
            let size = u32::from_be_bytes([0, h[1], h[2], h[3]]) as usize;
            let ts = u32::from_be_bytes([h[7], h[4], h[5], h[6]]);
            let start = pos + 11;
            if data.len() < start + size {
                break;
            }
            let body = data.slice(start..start + size);
            pos = start + size + 4;
            match tag_type {
                TAG_SCRIPT if metadata.is_none() => metadata = Some(body),
                TAG_VIDEO if body.len() >= 2 => {
                    if body[0] & 0x80 != 0 || body[0] & 0x0F != CODEC_AVC {
                        bail!("only legacy AVC video is replayed (no Enhanced RTMP)");
                    }
                    let tag = Tag {
                        kind: Kind::Video,
                        timestamp_ms: ts,
                        body,
                    };
                    if tag.body[1] == 0 {
                        headers.push(tag);
                    } else if tag.body[1] == 1 {
                        let key = tag.body[0] >> 4 == 1;
                        if first_key.is_none() && key {
                            first_key = Some(ts);
                        }
                        if first_key.is_some() {
                            media.push(tag);
                        }
                    }
                }
                TAG_AUDIO if body.len() >= 2 => {
                    if body[0] >> 4 != SOUND_AAC {
                        bail!("only AAC audio is replayed");
                    }
                    let tag = Tag {
                        kind: Kind::Audio,
                        timestamp_ms: ts,
                        body,
                    };
                    if tag.body[1] == 0 {
                        headers.push(tag);
                    } else if first_key.is_some() {
                        media.push(tag);
                    }
                }
                _ => {}
            }
        }
        let base = first_key.context("the FLV has no AVC keyframe")?;
        // Audio stamped just before the keyframe but written after it is clamped to 0.
        for t in &mut media {
            t.timestamp_ms = t.timestamp_ms.saturating_sub(base);
        }
        let video: Vec<u32> = media
            .iter()
            .filter(|t| t.kind == Kind::Video)
            .map(|t| t.timestamp_ms)
            .collect();
        ensure!(video.len() >= 2, "the FLV needs at least two video frames");
        // One frame interval after the last frame, so the loop keeps the frame rate.
        let mut deltas: Vec<u32> = video
            .windows(2)
            .map(|w| w[1].saturating_sub(w[0]))
            .collect();
        deltas.sort_unstable();
        let frame = deltas[deltas.len() / 2].max(1);
        let last = video.iter().copied().max().unwrap_or(0);
        let loop_ms = last + frame;
        // Audio past the loop end would repeat out of order with the next loop's first frames.
        media.retain(|t| t.timestamp_ms < loop_ms);
        media.sort_by_key(|t| t.timestamp_ms);
        let loop_bytes = media.iter().map(|t| t.body.len()).sum();
        Ok(Self {
            metadata,
            headers,
            media,
            loop_ms,
            loop_bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(out: &mut Vec<u8>, kind: u8, ts: u32, body: &[u8]) {
        out.push(kind);
        out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        out.extend_from_slice(&ts.to_be_bytes()[1..]);
        out.push((ts >> 24) as u8);
        out.extend_from_slice(&[0, 0, 0]);
        out.extend_from_slice(body);
        out.extend_from_slice(&(11 + body.len() as u32).to_be_bytes());
    }

    fn file(tags: &[(u8, u32, &[u8])]) -> Bytes {
        let mut out = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
        for (k, ts, b) in tags {
            tag(&mut out, *k, *ts, b);
        }
        Bytes::from(out)
    }

    #[test]
    fn splits_headers_and_rebases_media_on_the_first_keyframe() {
        let data = file(&[
            (TAG_SCRIPT, 0, b"\x02\x00\x0aonMetaData"),
            (TAG_VIDEO, 0, &[0x17, 0, 0, 0, 0, 1]),
            (TAG_AUDIO, 0, &[0xAF, 0, 0x11, 0x90]),
            (TAG_VIDEO, 80, &[0x27, 1, 0, 0, 0, 9]), // before the first keyframe: dropped
            (TAG_VIDEO, 100, &[0x17, 1, 0, 0, 0, 9]),
            (TAG_AUDIO, 110, &[0xAF, 1, 5]),
            (TAG_VIDEO, 140, &[0x27, 1, 0, 0, 0, 9]),
            (TAG_VIDEO, 180, &[0x27, 1, 0, 0, 0, 9]),
            (TAG_AUDIO, 230, &[0xAF, 1, 5]), // past the loop end (180 + 40): dropped
        ]);
        let r = Recording::parse(data).expect("valid");
        assert!(r.metadata.is_some());
        assert_eq!(r.headers.len(), 2);
        let ts: Vec<u32> = r.media.iter().map(|t| t.timestamp_ms).collect();
        assert_eq!(ts, [0, 10, 40, 80]);
        assert_eq!(r.loop_ms, 120);
        assert_eq!(r.loop_bytes, 6 + 3 + 6 + 6);
    }

    #[test]
    fn truncated_and_hostile_files_are_errors_not_panics() {
        let data = file(&[
            (TAG_VIDEO, 0, &[0x17, 1, 0, 0, 0, 9]),
            (TAG_VIDEO, 40, &[0x27, 1, 0, 0, 0, 9]),
        ]);
        for n in 0..data.len() {
            let _ = Recording::parse(data.slice(..n));
        }
        assert!(
            Recording::parse(Bytes::from_static(b"FLV\x01\x05\xff\xff\xff\xff\0\0\0\0")).is_err()
        );
        assert!(Recording::parse(data).is_ok());
    }
}
