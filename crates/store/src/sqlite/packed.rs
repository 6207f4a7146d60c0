//! Large text payloads (a post's raw JSON, an analysis) stored LZ4-compressed.
//!
//! JSON from the networks and the analysis engine repeats its keys, so LZ4 (a few microseconds
//! per payload, spent on other threads than the writer's in large batches: see
//! [`crate::PreparedAnalysis`] and the payloads compressed ahead in `write.rs`) about halves
//! what SQLite writes and keeps. A compressed payload is a BLOB: the uncompressed length (4 bytes, little-endian) and
//! the LZ4 block. Plain TEXT values are read as they are, so rows written before compression
//! and empty payloads need no conversion.

use rusqlite::types::{Value, ValueRef};

/// Payloads shorter than this are stored as plain text: compression would not pay.
const SMALL: usize = 64;

/// The value to store for a payload.
pub(crate) fn pack(text: &str) -> Value {
    if text.len() < SMALL {
        return Value::Text(text.to_owned());
    }
    Value::Blob(lz4_flex::block::compress_prepend_size(text.as_bytes()))
}

/// The payload of a stored value, or why it cannot be read.
pub(crate) fn unpack(value: ValueRef<'_>) -> Result<String, String> {
    match value {
        ValueRef::Null => Ok(String::new()),
        ValueRef::Text(bytes) => String::from_utf8(bytes.to_vec()).map_err(|e| e.to_string()),
        ValueRef::Blob(bytes) => {
            let bytes = lz4_flex::block::decompress_size_prepended(bytes)
                .map_err(|e| format!("a stored payload is damaged ({e})"))?;
            String::from_utf8(bytes).map_err(|e| e.to_string())
        }
        ValueRef::Integer(_) | ValueRef::Real(_) => Err("a stored payload is a number".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_small_ones_stay_text() {
        let json = format!(
            "{{\"data\":[{}]}}",
            "{\"id\":\"1\",\"text\":\"hello\"},".repeat(40)
        );
        let packed = pack(&json);
        let Value::Blob(bytes) = &packed else {
            panic!("not compressed")
        };
        assert!(bytes.len() < json.len() / 2);
        assert_eq!(unpack(ValueRef::Blob(bytes)).unwrap(), json);
        assert_eq!(pack("{}"), Value::Text("{}".into()));
        assert_eq!(unpack(ValueRef::Text(b"{}")).unwrap(), "{}");
        assert!(unpack(ValueRef::Blob(&[100, 0, 0, 0])).is_err());
    }
}
