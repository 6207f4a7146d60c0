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
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The format, or `None` to recognise it from the content.
    pub format: Option<Format>,
    /// How CSV columns map to post fields.
    pub csv: csv_import::Mapping,
    /// The largest post imported: its text and title together, in bytes (see
    /// [`crate::check_size`]); a larger post is rejected.
    pub max_post_bytes: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            format: None,
            csv: csv_import::Mapping::default(),
            max_post_bytes: crate::DEFAULT_MAX_POST_BYTES,
        }
    }
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
    let max = options.max_post_bytes;
    Ok(match format {
        Format::X => json_records(input, x::parse_document, max),
        Format::Mastodon => json_records(input, mastodon::parse_document, max),
        Format::MastodonStream => mastodon::parse_sse(input, max),
        Format::Bluesky | Format::Jetstream => json_records(input, bluesky::parse_document, max),
        Format::Facebook => json_records(input, facebook::parse_document, max),
        Format::Rss => Box::new(rss::parse(input).map(move |item| {
            let mut one = [item];
            crate::limit_size(&mut one, max);
            let [item] = one;
            item
        })),
        Format::Csv => {
            csv_import::parse(input, &options.csv, max).map_err(|message| InputError::Csv {
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
///
/// Lines are read as bytes: a line that is not UTF-8, not JSON or longer than
/// [`MAX_LINE_BYTES`] is rejected with its number, and reading goes on with the next line. A
/// post larger than `max_post_bytes` is rejected (see [`crate::check_size`]).
pub fn json_records(
    input: Input,
    parse_document: DocumentParser,
    max_post_bytes: usize,
) -> Records {
    Box::new(JsonRecords {
        input,
        parse_document,
        max_post_bytes,
        mode: Mode::Unknown,
        line_number: 0,
        line: Vec::new(),
        pending: Vec::new(),
        finished: false,
    })
}

/// The longest line of a JSON Lines input (64 MiB): a longer one is rejected and skipped, so a
/// file without line breaks cannot fill the memory.
pub const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

enum Mode {
    Unknown,
    Lines,
}

struct JsonRecords {
    input: Input,
    parse_document: DocumentParser,
    max_post_bytes: usize,
    mode: Mode,
    line_number: u64,
    line: Vec<u8>,
    pending: Vec<Parsed>,
    finished: bool,
}

/// What reading one line gave.
enum Line {
    /// The end of the input.
    End,
    /// A line, in `JsonRecords::line`.
    Read,
    /// A line longer than [`MAX_LINE_BYTES`], skipped up to its end.
    TooLong,
}

impl JsonRecords {
    /// Reads the next line into `self.line`, without its end of line, up to
    /// [`MAX_LINE_BYTES`].
    fn read_line(&mut self) -> io::Result<Line> {
        self.line.clear();
        let limit = MAX_LINE_BYTES as u64 + 1;
        let read = (&mut self.input)
            .take(limit)
            .read_until(b'\n', &mut self.line)?;
        if read == 0 {
            return Ok(Line::End);
        }
        self.line_number += 1;
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
        } else if self.line.len() > MAX_LINE_BYTES {
            self.line.clear();
            skip_line(&mut self.input)?;
            return Ok(Line::TooLong);
        }
        Ok(Line::Read)
    }

    /// Reads the next document into `pending`. Returns false at the end of the input.
    fn fill(&mut self) -> bool {
        loop {
            let read = match self.read_line() {
                Ok(Line::End) => return false,
                Ok(read) => read,
                Err(error) => {
                    self.pending
                        .push(Err(read_error(self.line_number + 1, &error)));
                    return false;
                }
            };
            let line = self.line_number;
            if matches!(read, Line::TooLong) {
                self.mode = Mode::Lines;
                self.pending.push(Err(Rejected {
                    location: Location::line(line),
                    reason: format!(
                        "the line is longer than {} MiB, which no single record needs; it was \
                         skipped and the lines after it were read",
                        MAX_LINE_BYTES / (1024 * 1024)
                    ),
                    excerpt: None,
                }));
                return true;
            }
            let bytes = if line == 1 {
                self.line
                    .strip_prefix(b"\xEF\xBB\xBF")
                    .unwrap_or(&self.line)
            } else {
                &self.line[..]
            };
            let text = match std::str::from_utf8(bytes) {
                Ok(text) => text.trim(),
                Err(error) => {
                    if bytes.trim_ascii().is_empty() {
                        continue;
                    }
                    self.mode = Mode::Lines;
                    self.pending.push(Err(Rejected {
                        location: Location::line(line),
                        reason: format!(
                            "the line is not UTF-8 text (byte {} of the line is not); it was \
                             skipped and the lines after it were read: save the export as \
                             UTF-8, or fix that line",
                            error.valid_up_to() + 1
                        ),
                        excerpt: Some(crate::shorten(&String::from_utf8_lossy(bytes), 2000)),
                    }));
                    return true;
                }
            };
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
            match serde_json::from_str::<serde::de::IgnoredAny>(text) {
                Ok(_) => (self.parse_document)(text, &mut self.pending),
                Err(error) => self.pending.push(Err(Rejected {
                    location: Location::line(line),
                    reason: format!("not valid JSON ({error}); the line may be cut short"),
                    excerpt: Some(crate::shorten(text, 2000)),
                })),
            }
            crate::limit_size(&mut self.pending[start..], self.max_post_bytes);
            stamp(&mut self.pending[start..], line);
            if self.pending.len() > start {
                self.pending.reverse();
                return true;
            }
        }
    }

    /// Reads the rest of the input as one JSON document that started on the line just read.
    /// Bytes that are not UTF-8 are replaced (U+FFFD), so one bad byte spoils one string of
    /// the document, not the document.
    fn read_whole_document(&mut self) {
        let first_line = self.line_number;
        let mut bytes = std::mem::take(&mut self.line);
        bytes.push(b'\n');
        if let Err(error) = self.input.read_to_end(&mut bytes) {
            self.pending.push(Err(read_error(first_line, &error)));
            return;
        }
        let document = String::from_utf8_lossy(&bytes);
        let mut found = Vec::new();
        match serde_json::from_str::<serde::de::IgnoredAny>(&document) {
            Ok(_) => (self.parse_document)(&document, &mut found),
            Err(error) => found.push(Err(Rejected {
                location: Location::line(first_line + error.line().saturating_sub(1) as u64),
                reason: format!("not valid JSON ({error})"),
                excerpt: None,
            })),
        }
        crate::limit_size(&mut found, self.max_post_bytes);
        found.reverse();
        self.pending = found;
    }
}

/// Reads and drops bytes up to the next end of line (or the end of the input).
fn skip_line(input: &mut Input) -> io::Result<()> {
    loop {
        let buffer = input.fill_buf()?;
        if buffer.is_empty() {
            return Ok(());
        }
        match memchr::memchr(b'\n', buffer) {
            Some(end) => {
                input.consume(end + 1);
                return Ok(());
            }
            None => {
                let all = buffer.len();
                input.consume(all);
            }
        }
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
    use crate::Parsed;

    fn counting(doc: &str, out: &mut Vec<Parsed>) {
        out.push(Ok(crate::Record::Skipped {
            kind: doc.len().to_string(),
        }));
    }

    #[test]
    fn json_lines_are_split_and_bad_lines_reported_with_their_number() {
        let input: Input = Box::new(Cursor::new("{\"a\":1}\n\n{\"b\":22}\n{\"c\":\n"));
        let items: Vec<_> = json_records(input, counting, crate::DEFAULT_MAX_POST_BYTES).collect();
        assert_eq!(items.len(), 3);
        assert!(items[0].is_ok() && items[1].is_ok());
        let rejected = items[2].as_ref().unwrap_err();
        assert_eq!(rejected.location.line, Some(4));
    }

    /// The recorded X filtered stream: 7 complete lines and a truncated 8th.
    fn stream_sample() -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../../../shared/data/api-samples/x-twitter/\
             twarc-csv__filtered-stream__dogs__truncated-last-line.jsonl",
        );
        std::fs::read(path).unwrap()
    }

    /// Opens `bytes` as a file would be (format recognised from the head) and reads it all.
    fn import(bytes: Vec<u8>) -> Result<Vec<Parsed>, InputError> {
        let path = Path::new("test.jsonl");
        let (format, input) = open_reader(path, Box::new(Cursor::new(bytes)), None)?;
        Ok(parse(path, format, input, &ImportOptions::default())?.collect())
    }

    fn rejected_lines(items: &[Parsed]) -> Vec<u64> {
        items
            .iter()
            .filter_map(|item| item.as_ref().err())
            .filter_map(|rejected| rejected.location.line)
            .collect()
    }

    #[test]
    fn json_lines_reject_only_the_line_with_invalid_utf8() {
        // Issue 14, finding 8: a byte that is not UTF-8 on line 1,001 stopped the import there,
        // silently dropping the 999 good lines after it.
        let mut text = Vec::new();
        for line in 1..=2_000 {
            if line == 1_001 {
                text.extend_from_slice(b"{\"a\":\"caf\xe9\"}\n");
            } else {
                text.extend_from_slice(b"{\"a\":1}\n");
            }
        }
        let input: Input = Box::new(Cursor::new(text));
        let items: Vec<_> = json_records(input, counting, crate::DEFAULT_MAX_POST_BYTES).collect();
        assert_eq!(items.len(), 2_000);
        assert_eq!(rejected_lines(&items), [1_001]);
        let rejected = items[1_000].as_ref().unwrap_err();
        assert!(rejected.reason.contains("UTF-8"), "{rejected}");
    }

    #[test]
    fn invalid_utf8_in_the_first_64_kb_is_not_a_binary_file() {
        // Issue 14, finding 8: the same byte in the first 64 KB made the whole file "binary".
        let clean = import(stream_sample()).unwrap();
        let posts = |items: &[Parsed]| items.iter().filter(|item| item.is_ok()).count();
        let mut lines: Vec<Vec<u8>> = stream_sample()
            .split(|&byte| byte == b'\n')
            .map(<[u8]>::to_vec)
            .collect();
        let mut from_second = Vec::new();
        x::parse_document(std::str::from_utf8(&lines[1]).unwrap(), &mut from_second);
        let second = &mut lines[1];
        let at = second.windows(4).position(|w| w == b"text").unwrap();
        second.insert(at + 10, 0xff);
        let damaged = import(lines.join(&b'\n')).unwrap();
        assert_eq!(rejected_lines(&damaged), [2, 8]);
        assert!(!from_second.is_empty());
        assert_eq!(posts(&damaged), posts(&clean) - posts(&from_second));
        // A file that is binary through and through is still refused.
        let noise: Vec<u8> = (0..70_000_u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert!(matches!(
            import(noise),
            Err(InputError::Unrecognised { .. })
        ));
    }

    #[test]
    fn posts_over_the_maximum_size_are_rejected() {
        // Issue 14, finding 9: one 50 MB post made /stream 52 MB for everyone.
        let huge = "A&E ".repeat(13 * 1024 * 1024);
        let csv = format!(
            "id,date,comment\n1,2024-05-01,Kind nurses\n2,2024-05-02,{huge}\n3,2024-05-03,Long wait\n"
        );
        let path = Path::new("feedback.csv");
        let read = |options: &ImportOptions| -> Vec<Parsed> {
            let (format, input) =
                open_reader(path, Box::new(Cursor::new(csv.clone().into_bytes())), None).unwrap();
            parse(path, format, input, options).unwrap().collect()
        };
        let items = read(&ImportOptions::default());
        assert_eq!(items.len(), 3);
        assert_eq!(rejected_lines(&items), [3]);
        let reason = &items[1].as_ref().unwrap_err().reason;
        assert!(
            reason.contains("131072") || reason.contains("128 KiB"),
            "{reason}"
        );
        // The limit is a setting: a smaller one rejects smaller posts.
        let strict = ImportOptions {
            max_post_bytes: 10,
            ..ImportOptions::default()
        };
        assert_eq!(rejected_lines(&read(&strict)), [2, 3]);
    }

    #[test]
    fn a_pretty_printed_document_is_read_whole() {
        let input: Input = Box::new(Cursor::new("{\n  \"a\": 1\n}\n"));
        let items: Vec<_> = json_records(input, counting, crate::DEFAULT_MAX_POST_BYTES).collect();
        assert_eq!(items.len(), 1);
    }
}
