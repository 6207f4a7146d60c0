//! Opening inputs and turning them into a stream of [`Parsed`] records.
//!
//! Files are read through a buffer, gzip is recognised by its magic bytes and decompressed on
//! the fly, and JSON Lines inputs are read one line at a time, so a file larger than memory
//! streams. A JSON input whose first line is not a complete JSON value is read as one document.

use std::{
    fs::File,
    io::{self, BufRead, BufReader, Cursor, Read},
    path::{Path, PathBuf},
};

use flate2::read::MultiGzDecoder;

use crate::{
    Format, Location, Parsed, Rejected, bluesky, csv as csv_import,
    detect::{DetectError, detect},
    facebook, mastodon, rss, x,
};

/// How much of an input is read to recognise its format.
const HEAD_BYTES: usize = 64 * 1024;

/// A boxed, sendable buffered reader over an input's decompressed bytes.
pub type Input = Box<dyn BufRead + Send>;

/// A boxed, sendable stream of records.
pub type Records = Box<dyn Iterator<Item = Parsed> + Send>;

/// Settings of one import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The format, or `None` to recognise it from the content.
    pub format: Option<Format>,
    /// How CSV columns map to post fields.
    pub csv: csv_import::Mapping,
}

/// Why an input could not be read at all. Each message names the file and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The file could not be opened or read.
    #[error("{path}: cannot read the file ({source}); check the path and its permissions")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The content could not be recognised.
    #[error("{path}: {reason}; {advice}")]
    Unrecognised {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: DetectError,
        /// What to do about it.
        advice: &'static str,
    },
    /// A gzip file that is damaged before any record could be read.
    #[error(
        "{path}: the gzip data is damaged or cut short ({source}); copy or download the file again"
    )]
    Gzip {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The CSV header does not fit the column mapping.
    #[error("{path}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
}

/// Opens a file for import: decompresses gzip, reads the head, and recognises or checks the
/// format. Returns the format and a reader positioned at the start of the content.
pub fn open_path(path: &Path, wanted: Option<Format>) -> Result<(Format, Input), InputError> {
    let io_error = |source| InputError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    open_reader(path, Box::new(file), wanted)
}

/// Like [`open_path`], for an already opened byte source (standard input, a test buffer).
/// `path` only names the input in messages.
pub fn open_reader(
    path: &Path,
    source: Box<dyn Read + Send>,
    wanted: Option<Format>,
) -> Result<(Format, Input), InputError> {
    let mut raw = BufReader::with_capacity(256 * 1024, source);
    let magic = raw.fill_buf().map_err(|source| InputError::Io {
        path: path.to_owned(),
        source,
    })?;
    let gzipped = magic.starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn Read + Send> = if gzipped {
        Box::new(MultiGzDecoder::new(raw))
    } else {
        Box::new(raw)
    };
    let mut head = Vec::with_capacity(HEAD_BYTES);
    let read = (&mut reader).take(HEAD_BYTES as u64).read_to_end(&mut head);
    if let Err(source) = read {
        return Err(if gzipped {
            InputError::Gzip {
                path: path.to_owned(),
                source,
            }
        } else {
            InputError::Io {
                path: path.to_owned(),
                source,
            }
        });
    }
    let format = match wanted {
        Some(format) => refine(format, &head),
        None => detect(&head).map_err(|reason| InputError::Unrecognised {
            path: path.to_owned(),
            reason,
            advice: match reason {
                DetectError::Empty => "export the data again, or leave this file out",
                DetectError::Binary => {
                    "import the JSON, JSON Lines, CSV, RSS or Atom export (gzip is fine), not a \
                     spreadsheet or archive"
                }
                DetectError::Unknown => {
                    "name the format with --format (x, mastodon, bluesky, facebook, rss, csv)"
                }
            },
        })?,
    };
    let input: Input = Box::new(BufReader::with_capacity(
        256 * 1024,
        Cursor::new(head).chain(reader),
    ));
    Ok((format, input))
}

/// A network name given with `--format` covers both of that network's shapes: Mastodon JSON and
/// its event stream, Bluesky app view JSON and Jetstream lines.
fn refine(format: Format, head: &[u8]) -> Format {
    match (format, detect(head)) {
        (Format::Mastodon, Ok(Format::MastodonStream)) => Format::MastodonStream,
        (Format::Bluesky, Ok(Format::Jetstream)) => Format::Jetstream,
        _ => format,
    }
}

/// Opens `path` and returns its format and the stream of records in it.
pub fn records(path: &Path, options: &ImportOptions) -> Result<(Format, Records), InputError> {
    let (format, input) = open_path(path, options.format)?;
    let records = parse(path, format, input, options)?;
    Ok((format, records))
}

/// Parses an opened input of a known format.
pub fn parse(
    path: &Path,
    format: Format,
    input: Input,
    options: &ImportOptions,
) -> Result<Records, InputError> {
    Ok(match format {
        Format::X => json_records(input, x::parse_document),
        Format::Mastodon => json_records(input, mastodon::parse_document),
        Format::MastodonStream => mastodon::parse_sse(input),
        Format::Bluesky | Format::Jetstream => json_records(input, bluesky::parse_document),
        Format::Facebook => json_records(input, facebook::parse_document),
        Format::Rss => rss::parse(input),
        Format::Csv => {
            csv_import::parse(input, &options.csv).map_err(|message| InputError::Csv {
                path: path.to_owned(),
                message,
            })?
        }
    })
}

/// A parser of one JSON document, as each network module provides.
pub type DocumentParser = fn(&str, &mut Vec<Parsed>);

/// Splits an input into JSON documents (one per line for JSON Lines, else the whole input) and
/// runs `parse_document` on each, stamping line numbers on what it returns.
pub fn json_records(input: Input, parse_document: DocumentParser) -> Records {
    Box::new(JsonRecords {
        input,
        parse_document,
        mode: Mode::Unknown,
        line_number: 0,
        line: String::new(),
        pending: Vec::new(),
        finished: false,
    })
}

enum Mode {
    Unknown,
    Lines,
}

struct JsonRecords {
    input: Input,
    parse_document: DocumentParser,
    mode: Mode,
    line_number: u64,
    line: String,
    pending: Vec<Parsed>,
    finished: bool,
}

impl JsonRecords {
    /// Reads the next document into `pending`. Returns false at the end of the input.
    fn fill(&mut self) -> bool {
        loop {
            self.line.clear();
            match self.input.read_line(&mut self.line) {
                Ok(0) => return false,
                Ok(_) => {}
                Err(error) => {
                    self.pending
                        .push(Err(read_error(self.line_number + 1, &error)));
                    return false;
                }
            }
            self.line_number += 1;
            let text = self.line.trim();
            if text.is_empty() {
                continue;
            }
            if matches!(self.mode, Mode::Unknown) {
                if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
                    self.mode = Mode::Lines;
                } else {
                    self.read_whole_document();
                    return !self.pending.is_empty();
                }
            }
            let start = self.pending.len();
            let line = self.line_number;
            let text = self.line.trim();
            match serde_json::from_str::<serde::de::IgnoredAny>(text) {
                Ok(_) => (self.parse_document)(text, &mut self.pending),
                Err(error) => self.pending.push(Err(Rejected {
                    location: Location::line(line),
                    reason: format!("not valid JSON ({error}); the line may be cut short"),
                    excerpt: Some(crate::shorten(text, 2000)),
                })),
            }
            stamp(&mut self.pending[start..], line);
            if self.pending.len() > start {
                self.pending.reverse();
                return true;
            }
        }
    }

    fn read_whole_document(&mut self) {
        let first_line = self.line_number;
        let mut document = std::mem::take(&mut self.line);
        if let Err(error) = self.input.read_to_string(&mut document) {
            self.pending.push(Err(read_error(first_line, &error)));
            return;
        }
        let mut found = Vec::new();
        match serde_json::from_str::<serde::de::IgnoredAny>(&document) {
            Ok(_) => (self.parse_document)(&document, &mut found),
            Err(error) => found.push(Err(Rejected {
                location: Location::line(first_line + error.line().saturating_sub(1) as u64),
                reason: format!("not valid JSON ({error})"),
                excerpt: None,
            })),
        }
        found.reverse();
        self.pending = found;
    }
}

fn stamp(found: &mut [Parsed], line: u64) {
    for item in found {
        if let Err(rejected) = item {
            rejected.location.line.get_or_insert(line);
        }
    }
}

fn read_error(line: u64, error: &io::Error) -> Rejected {
    Rejected {
        location: Location::line(line),
        reason: format!(
            "the input stops here: {error}. If it is gzip, the file is cut short or damaged: \
             copy it again; everything before this point was read"
        ),
        excerpt: None,
    }
}

impl Iterator for JsonRecords {
    type Item = Parsed;

    fn next(&mut self) -> Option<Parsed> {
        loop {
            if let Some(item) = self.pending.pop() {
                return Some(item);
            }
            if self.finished {
                return None;
            }
            if !self.fill() {
                self.finished = true;
                if self.pending.is_empty() {
                    return None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counting(doc: &str, out: &mut Vec<Parsed>) {
        out.push(Ok(crate::Record::Skipped {
            kind: doc.len().to_string(),
        }));
    }

    #[test]
    fn json_lines_are_split_and_bad_lines_reported_with_their_number() {
        let input: Input = Box::new(Cursor::new("{\"a\":1}\n\n{\"b\":22}\n{\"c\":\n"));
        let items: Vec<_> = json_records(input, counting).collect();
        assert_eq!(items.len(), 3);
        assert!(items[0].is_ok() && items[1].is_ok());
        let rejected = items[2].as_ref().unwrap_err();
        assert_eq!(rejected.location.line, Some(4));
    }

    #[test]
    fn a_pretty_printed_document_is_read_whole() {
        let input: Input = Box::new(Cursor::new("{\n  \"a\": 1\n}\n"));
        let items: Vec<_> = json_records(input, counting).collect();
        assert_eq!(items.len(), 1);
    }
}
