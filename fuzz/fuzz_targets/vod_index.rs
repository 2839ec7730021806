//! A MediaPackage VOD asset's index is read back from the metadata store and from its binary
//! copy in the object store, which anyone with write access to that bucket could replace:
//! decoding must refuse garbage without panicking or allocating beyond what the input can
//! hold, give the same answer on one thread or several, and what decodes must encode and
//! decode back to itself in both encodings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reelay_vod::index::AssetIndex;

fuzz_target!(|data: &[u8]| {
    let one = AssetIndex::decode(data);
    assert_eq!(one, AssetIndex::decode_parallel(data, 2));
    if let Ok(index) = one {
        assert_eq!(AssetIndex::decode(&index.encode_compact()).as_ref(), Ok(&index));
        assert_eq!(AssetIndex::decode(&index.encode()).as_ref(), Ok(&index));
    }
});
