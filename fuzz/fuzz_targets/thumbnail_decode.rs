//! A keyframe from a publisher is hostile input: decoding, scaling and JPEG encoding arbitrary
//! bytes (either framing, any resolution) must end in a thumbnail or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reelay_thumbnail::{Keyframe, Resolution, thumbnail};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let resolution = match selector % 4 {
        0 => Resolution::Sd,
        1 => Resolution::Hd,
        2 => Resolution::FullHd,
        _ => Resolution::Source,
    };
    if selector & 0x80 == 0 {
        let _ = thumbnail(Keyframe::AnnexB(rest), resolution);
    } else {
        // The first byte of the rest says where the decoder configuration record ends.
        let split = usize::from(rest.first().copied().unwrap_or(0)).min(rest.len());
        let (config, data) = rest.split_at(split);
        let _ = thumbnail(Keyframe::Avcc { config, data }, resolution);
    }
});
