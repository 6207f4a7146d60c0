//! A CSV feedback export through the CSV importer with the default FFT mapping.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mapping: ingest::csv::Mapping = "text=comment,time=date,service=ward,rating=score,id=id"
        .parse()
        .unwrap_or_default();
    if let Ok(records) =
        ingest::csv::parse(Box::new(Cursor::new(data.to_vec())), &mapping, 64 * 1024)
    {
        for record in records {
            drop(record);
        }
    }
});
