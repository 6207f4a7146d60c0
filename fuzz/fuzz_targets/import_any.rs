//! Any file through the import front: format recognition, gzip, JSON Lines splitting, then the
//! recognised importer.
#![no_main]

use std::{io::Cursor, path::Path};

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz-input");
    let Ok((format, input)) =
        ingest::input::open_reader(path, Box::new(Cursor::new(data.to_vec())), None)
    else {
        return;
    };
    let options = ingest::ImportOptions::default();
    if let Ok(records) = ingest::input::parse(path, format, input, &options) {
        for record in records.take(10_000) {
            drop(record);
        }
    }
});
