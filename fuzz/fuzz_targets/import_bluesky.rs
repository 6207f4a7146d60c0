//! One JSON document (an API response or one JSON Lines line) through the bluesky importer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let doc = String::from_utf8_lossy(data);
    let mut out = Vec::new();
    ingest::bluesky::parse_document(&doc, &mut out);
});
