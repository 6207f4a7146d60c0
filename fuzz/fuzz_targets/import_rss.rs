//! An RSS or Atom feed through the feed importer.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let records = ingest::rss::parse(Box::new(Cursor::new(data.to_vec())));
    for record in records {
        drop(record);
    }
});
