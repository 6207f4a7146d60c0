//! A CSV mapping (`text=...,time=...`, the first line) and a file read with it (the rest).
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (spec, body) = text.split_once('\n').unwrap_or((&text, ""));
    let Ok(mapping) = spec.parse::<ingest::csv::Mapping>() else {
        return;
    };
    let input = Box::new(Cursor::new(body.as_bytes().to_vec()));
    if let Ok(records) = ingest::csv::parse(input, &mapping, 64 * 1024) {
        for record in records {
            drop(record);
        }
    }
});
