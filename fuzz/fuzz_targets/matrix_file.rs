//! A response matrix file (TOML) through the matrix parser and its checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = engage::Matrix::parse(&text);
});
