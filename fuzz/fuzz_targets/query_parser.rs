//! The search and monitor query language: parse, then match against a few words.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(query) = model::query::parse(&text) {
        let words = model::query::tokens("waited nine hours in a&e, the nurses were kind");
        let _ = query.matches_tokens(&words);
    }
});
