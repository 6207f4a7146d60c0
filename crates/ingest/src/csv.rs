//! CSV (and TSV) exports of patient feedback and Friends and Family Test comments.
//!
//! A [`Mapping`] says which columns hold the text, time, author, rating, service and id. Each
//! field left unset is guessed from the header (`FFT answer`, `comment`, `feedback`, `Date`,
//! `Service type 1`...), so the exports NHS organisations already have import without flags.
//! A row without text is skipped and counted; a row whose time cannot be read is rejected with
//! its line and column. Rows without an id column get a stable id from their content and the
//! occurrence number of that content in the file, so importing the same file twice adds nothing,
//! and identical short answers ("Nothing.") stay separate posts. A quote left open costs its
//! own row only: the row is rejected and the lines after it are read as rows (see [`Rows`]).

use std::{
    collections::{HashMap, VecDeque},
    str::FromStr,
};

use jiff::{Timestamp, civil, tz::TimeZone};
use model::{Author, Change, Feedback, Network, Post};

use crate::{
    Location, Record, Rejected,
    input::{Input, Records},
};

/// Which CSV columns hold which post fields. `None` means "guess from the header".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    /// The column with the free-text comment.
    pub text: Option<String>,
    /// The column with the date or date and time of the comment.
    pub time: Option<String>,
    /// The column naming the respondent or author.
    pub author: Option<String>,
    /// The column with the rating or FFT answer.
    pub rating: Option<String>,
    /// The column with the service, ward or department.
    pub service: Option<String>,
    /// The column with a unique id of the row.
    pub id: Option<String>,
    /// The time given to rows without one (the CLI uses the file's modification time).
    pub default_time: Option<Timestamp>,
}

/// Header names recognised for each field, most specific first.
const GUESSES: [(&str, &[&str]); 6] = [
    (
        "text",
        &[
            "fft answer",
            "text",
            "comment",
            "comments",
            "feedback",
            "free text",
            "free_text",
            "what did we do well",
            "response",
            "answer",
            "message",
            "body",
            "review",
        ],
    ),
    (
        "time",
        &[
            "date",
            "time",
            "created_at",
            "created",
            "timestamp",
            "submitted",
            "response date",
            "date submitted",
        ],
    ),
    (
        "author",
        &[
            "author",
            "name",
            "respondent",
            "respondent id",
            "user",
            "username",
        ],
    ),
    (
        "rating",
        &[
            "rating",
            "fft categorical answer",
            "fft score",
            "score",
            "likelihood",
            "stars",
        ],
    ),
    (
        "service",
        &[
            "service",
            "service type 1",
            "ward",
            "department",
            "specialty",
            "team",
            "location",
            "organization",
            "organisation",
            "trust",
        ],
    ),
    (
        "id",
        &["id", "comment id", "response id", "row_index", "row id"],
    ),
];

impl FromStr for Mapping {
    type Err = String;

    /// Reads `text=FFT answer,time=Date,service=Ward` (field names: text, time, author,
    /// rating, service, id).
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut mapping = Mapping::default();
        for part in spec
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
        {
            let Some((field, column)) = part.split_once('=') else {
                return Err(format!(
                    "`{part}` in the CSV mapping is not FIELD=COLUMN; write e.g. \
                     text=Comment,time=Date"
                ));
            };
            let column = Some(column.trim().to_owned());
            match field.trim().to_ascii_lowercase().as_str() {
                "text" => mapping.text = column,
                "time" | "date" => mapping.time = column,
                "author" => mapping.author = column,
                "rating" => mapping.rating = column,
                "service" => mapping.service = column,
                "id" => mapping.id = column,
                other => {
                    return Err(format!(
                        "`{other}` is not a CSV mapping field; use text, time, author, rating, \
                         service or id"
                    ));
                }
            }
        }
        Ok(mapping)
    }
}

/// Column positions resolved against a header.
#[derive(Debug, Clone, Copy)]
struct Columns {
    text: usize,
    time: Option<usize>,
    author: Option<usize>,
    rating: Option<usize>,
    service: Option<usize>,
    id: Option<usize>,
}

fn resolve(header: &csv::StringRecord, mapping: &Mapping) -> Result<Columns, String> {
    let names: Vec<String> = header
        .iter()
        .map(|name| name.trim().to_lowercase())
        .collect();
    let available = header
        .iter()
        .map(|name| format!("`{}`", name.trim()))
        .collect::<Vec<_>>();
    let find = |wanted: &str| {
        names
            .iter()
            .position(|name| name == &wanted.trim().to_lowercase())
    };
    let mut positions = [None; 6];
    let chosen = [
        &mapping.text,
        &mapping.time,
        &mapping.author,
        &mapping.rating,
        &mapping.service,
        &mapping.id,
    ];
    for (slot, ((field, guesses), chosen)) in positions.iter_mut().zip(GUESSES.iter().zip(chosen)) {
        *slot = match chosen {
            Some(column) => Some(find(column).ok_or_else(|| {
                format!(
                    "the CSV mapping names column `{column}` for the {field}, but the header has \
                     only {}; fix --csv-map",
                    available.join(", ")
                )
            })?),
            None => guesses.iter().find_map(|guess| find(guess)),
        };
    }
    let [text, time, author, rating, service, id] = positions;
    let text = text.ok_or_else(|| {
        format!(
            "no column holds the comment text (the header has {}); name it with --csv-map \
             text=COLUMN",
            available.join(", ")
        )
    })?;
    Ok(Columns {
        text,
        time,
        author,
        rating,
        service,
        id,
    })
}

/// Parses a CSV export. Fails at once, with a message saying what to do, when the header does
/// not fit the mapping; every later problem is a [`Rejected`] row, a row larger than
/// `max_post_bytes` among them (see [`crate::check_size`]).
pub fn parse(
    mut input: Input,
    mapping: &Mapping,
    max_post_bytes: usize,
) -> Result<Records, String> {
    let delimiter = sniff_delimiter(&mut input);
    let mut rows = Rows {
        input,
        delimiter,
        line_number: 0,
        queue: VecDeque::new(),
        header_fields: 0,
        time_column: None,
    };
    let header = match rows.next_row() {
        None => return Err("the file has no CSV header; check the file".to_owned()),
        Some(Ok((_, header))) => header,
        Some(Err(rejected)) => {
            return Err(format!(
                "the CSV header cannot be read ({}); check the file",
                rejected.reason
            ));
        }
    };
    let columns = resolve(&header, mapping)?;
    rows.header_fields = header.len();
    rows.time_column = columns.time;
    let time_column = columns
        .time
        .and_then(|i| header.get(i))
        .unwrap_or("")
        .to_owned();
    let mapping = mapping.clone();
    let mut seen: HashMap<u64, u32> = HashMap::new();
    let rows = std::iter::from_fn(move || rows.next_row()).map(move |row| {
        let (line, row) = row?;
        let line = Some(line);
        let field = |index: Option<usize>| {
            index
                .and_then(|i| row.get(i))
                .map(str::trim)
                .filter(|value| !value.is_empty())
        };
        let Some(text) = field(Some(columns.text)) else {
            return Ok(Record::Skipped {
                kind: "feedback row without text".into(),
            });
        };
        let created_at = match field(columns.time) {
            Some(value) => parse_time(value).ok_or_else(|| Rejected {
                location: Location {
                    line,
                    pointer: Some(time_column.clone()),
                },
                reason: format!(
                    "`{value}` in column `{time_column}` is not a date this importer reads \
                     (2024-05-01, 01/05/2024, 2024-05-01 14:30 or RFC 3339)"
                ),
                excerpt: Some(crate::shorten(text, 200)),
            })?,
            None => mapping.default_time.ok_or_else(|| Rejected {
                location: Location {
                    line,
                    pointer: None,
                },
                reason: "the row has no date and no default time was given".into(),
                excerpt: None,
            })?,
        };
        let author_name = field(columns.author);
        let rating = field(columns.rating).map(str::to_owned);
        let service = field(columns.service).map(str::to_owned);
        let id = match field(columns.id) {
            Some(id) => id.to_owned(),
            None => {
                let key = content_hash(&[
                    text,
                    field(columns.time).unwrap_or(""),
                    author_name.unwrap_or(""),
                    rating.as_deref().unwrap_or(""),
                    service.as_deref().unwrap_or(""),
                ]);
                let occurrence = seen.entry(key).or_insert(0);
                *occurrence += 1;
                format!("{key:016x}-{occurrence}")
            }
        };
        let author = Author {
            id: author_name.unwrap_or("").to_owned(),
            handle: author_name.unwrap_or("anonymous").to_owned(),
            ..Author::default()
        };
        let raw = header
            .iter()
            .zip(row.iter())
            .map(|(name, value)| (name.to_owned(), serde_json::Value::String(value.to_owned())))
            .collect::<serde_json::Map<_, _>>();
        let mut post = Post::new(Network::Feedback, id, author, text, created_at);
        post.feedback = Some(Feedback { rating, service });
        post.raw = serde_json::Value::Object(raw).to_string();
        crate::check_size(&post, max_post_bytes).map_err(|mut rejected| {
            rejected.location.line = line;
            rejected
        })?;
        Ok(Record::Change(Change::Upsert(Box::new(post))))
    });
    Ok(Box::new(rows))
}

/// The most physical lines one CSV row may span (a comment with line breaks in quotes).
const MAX_ROW_LINES: usize = 200;

/// The most bytes one CSV row may hold.
const MAX_ROW_BYTES: usize = 1024 * 1024;

/// Rows read from physical lines, so that a quote left open costs one row, not the rows after
/// it: a quoted field may run over several lines, but a row is rejected (and the lines after
/// its first are read again as rows of their own) when its quote is still open at the end of
/// the file, after [`MAX_ROW_LINES`] lines or [`MAX_ROW_BYTES`] bytes, when it does not have
/// the header's number of fields, or when one of its later lines is on its own a complete row
/// (the header's number of fields, quotes balanced, a readable date in the date column).
struct Rows {
    input: Input,
    delimiter: u8,
    /// Physical lines read from the input so far.
    line_number: u64,
    /// Lines read but not used yet (given back by a rejected row), with their numbers.
    queue: VecDeque<(u64, Vec<u8>)>,
    /// Fields of the header; 0 while the header itself is read.
    header_fields: usize,
    /// The column holding the date, if any.
    time_column: Option<usize>,
}

impl Rows {
    /// The next physical line without its line end, with its number.
    fn next_line(&mut self) -> Option<Result<(u64, Vec<u8>), Rejected>> {
        if let Some(line) = self.queue.pop_front() {
            return Some(Ok(line));
        }
        let mut bytes = Vec::new();
        match self.input.read_until(b'\n', &mut bytes) {
            Ok(0) => None,
            Ok(_) => {
                self.line_number += 1;
                if bytes.last() == Some(&b'\n') {
                    bytes.pop();
                }
                if bytes.last() == Some(&b'\r') {
                    bytes.pop();
                }
                if self.line_number == 1
                    && let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF")
                {
                    bytes = rest.to_vec();
                }
                Some(Ok((self.line_number, bytes)))
            }
            Err(error) => Some(Err(Rejected {
                location: Location::line(self.line_number + 1),
                reason: format!(
                    "the input stops here: {error}. If it is gzip, the file is cut short or \
                     damaged: copy it again; everything before this point was read"
                ),
                excerpt: None,
            })),
        }
    }

    /// The next row with the number of its first line, or why it was rejected.
    fn next_row(&mut self) -> Option<Result<(u64, csv::StringRecord), Rejected>> {
        loop {
            let (first, bytes) = match self.next_line()? {
                Ok(line) => line,
                Err(rejected) => return Some(Err(rejected)),
            };
            if bytes.trim_ascii().is_empty() {
                continue;
            }
            let mut quotes = Quotes::new(self.delimiter);
            quotes.feed(&bytes);
            quotes.end();
            let mut lines = vec![bytes];
            let mut size = lines[0].len();
            let mut open_at_end = false;
            while quotes.open {
                if lines.len() >= MAX_ROW_LINES || size > MAX_ROW_BYTES {
                    open_at_end = true;
                    break;
                }
                match self.next_line() {
                    Some(Ok((_, line))) => {
                        quotes.feed(b"\n");
                        quotes.feed(&line);
                        quotes.end();
                        size += line.len() + 1;
                        lines.push(line);
                    }
                    Some(Err(rejected)) => {
                        self.queue.clear();
                        return Some(Err(rejected));
                    }
                    None => {
                        open_at_end = true;
                        break;
                    }
                }
            }
            let joined = lines.join(&b'\n');
            let record = read_record(&joined, self.delimiter);
            let swallowed = lines.len() > 1
                && self.header_fields > 0
                && (record
                    .as_ref()
                    .is_none_or(|r| r.len() != self.header_fields)
                    || lines.iter().skip(1).any(|line| self.is_whole_row(line)));
            if open_at_end || swallowed {
                let excerpt = String::from_utf8_lossy(&lines[0]).into_owned();
                for (offset, line) in lines.into_iter().enumerate().skip(1).rev() {
                    self.queue.push_front((first + offset as u64, line));
                }
                return Some(Err(Rejected {
                    location: Location::line(first),
                    reason: "a quote opened in this row is never closed, so the row would run \
                             into the rows after it; the row was left out and the lines after \
                             it were read as rows of their own: close the quote and import the \
                             file again"
                        .into(),
                    excerpt: Some(crate::shorten(&excerpt, 200)),
                }));
            }
            return Some(match record {
                Some(record) => match csv::StringRecord::from_byte_record(record) {
                    Ok(record) => Ok((first, record)),
                    Err(error) => Err(Rejected {
                        location: Location::line(first),
                        reason: format!(
                            "the row is not UTF-8 text ({}); it was left out: save the export \
                             as UTF-8",
                            error.utf8_error()
                        ),
                        excerpt: Some(crate::shorten(&String::from_utf8_lossy(&joined), 200)),
                    }),
                },
                None => Err(Rejected {
                    location: Location::line(first),
                    reason: "this CSV row cannot be read".into(),
                    excerpt: Some(crate::shorten(&String::from_utf8_lossy(&joined), 200)),
                }),
            });
        }
    }

    /// Whether `line` on its own is a complete row: every quote where a row's quotes go (none
    /// left open, none in the middle of a field, as the end of a quoted comment would be), the
    /// header's number of fields, and a readable date in the date column when there is one.
    fn is_whole_row(&self, line: &[u8]) -> bool {
        let mut quotes = Quotes::new(self.delimiter);
        quotes.feed(line);
        quotes.end();
        if quotes.open || quotes.stray {
            return false;
        }
        let Some(record) = read_record(line, self.delimiter) else {
            return false;
        };
        record.len() == self.header_fields
            && self.time_column.is_none_or(|column| {
                record
                    .get(column)
                    .and_then(|value| std::str::from_utf8(value).ok())
                    .and_then(parse_time)
                    .is_some()
            })
    }
}

/// Whether a quoted field is open, following the CSV rules the `csv` crate reads by: a quote
/// opens a field only at its start, and `""` inside one is a quote.
struct Quotes {
    delimiter: u8,
    open: bool,
    at_field_start: bool,
    /// A quote was just seen inside a quoted field: the next byte tells an escaped quote from
    /// the end of the field.
    quote_pending: bool,
    /// A quote was seen in the middle of an unquoted field, or text after a closing quote.
    stray: bool,
}

impl Quotes {
    fn new(delimiter: u8) -> Quotes {
        Quotes {
            delimiter,
            open: false,
            at_field_start: true,
            quote_pending: false,
            stray: false,
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if self.quote_pending {
                self.quote_pending = false;
                if byte == b'"' {
                    continue;
                }
                self.open = false;
                if byte != self.delimiter && byte != b'\n' {
                    self.stray = true;
                }
            }
            if self.open {
                if byte == b'"' {
                    self.quote_pending = true;
                }
                continue;
            }
            if byte == b'"' && self.at_field_start {
                self.open = true;
                self.at_field_start = false;
            } else {
                if byte == b'"' {
                    self.stray = true;
                }
                self.at_field_start = byte == self.delimiter || byte == b'\n';
            }
        }
    }

    /// The end of the bytes fed: a quote just seen closes its field.
    fn end(&mut self) {
        if self.quote_pending {
            self.quote_pending = false;
            self.open = false;
        }
    }
}

/// The fields of one row's bytes.
fn read_record(bytes: &[u8], delimiter: u8) -> Option<csv::ByteRecord> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    match reader.read_byte_record(&mut record) {
        Ok(true) => Some(record),
        _ => None,
    }
}

/// Chooses tab, semicolon or comma from the header line without consuming it.
fn sniff_delimiter(input: &mut Input) -> u8 {
    let head = input
        .fill_buf()
        .map(|buffer| buffer.to_vec())
        .unwrap_or_default();
    let header = head.split(|&byte| byte == b'\n').next().unwrap_or(&[]);
    let count = |delimiter: u8| header.iter().filter(|&&byte| byte == delimiter).count();
    [b'\t', b';', b',']
        .into_iter()
        .max_by_key(|&delimiter| (count(delimiter), delimiter == b','))
        .unwrap_or(b',')
}

/// FNV-1a over the fields, separated, so ids are stable across runs and platforms.
fn content_hash(fields: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for field in fields {
        for byte in field.bytes().chain([0x1f]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// Reads the date formats of UK exports: RFC 3339, ISO dates with or without a time, and UK
/// day-first dates (`01/05/2024`, `01/05/2024 14:30`), falling back to month-first only when
/// the day-first reading is impossible. Times without a zone are UK local time.
pub fn parse_time(value: &str) -> Option<Timestamp> {
    let value = value.trim();
    if let Ok(timestamp) = value.parse::<Timestamp>() {
        return Some(timestamp);
    }
    let london = TimeZone::get("Europe/London").unwrap_or(TimeZone::UTC);
    let local = |datetime: civil::DateTime| {
        datetime
            .to_zoned(london.clone())
            .ok()
            .map(|zoned| zoned.timestamp())
    };
    if let Ok(datetime) = value.parse::<civil::DateTime>() {
        return local(datetime);
    }
    if let Ok(date) = value.parse::<civil::Date>() {
        return local(date.to_datetime(civil::Time::midnight()));
    }
    // Day first, as UK exports write dates; month first only when day first is impossible
    // (some exports mix `30/09/2021` with `1/18/2022`).
    for format in [
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
        "%d/%m/%Y",
        "%d-%m-%Y",
        "%d.%m.%Y",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y %H:%M",
        "%m/%d/%Y",
    ] {
        if let Ok(datetime) = civil::DateTime::strptime(format, value) {
            return local(datetime);
        }
        if let Ok(date) = civil::Date::strptime(format, value) {
            return local(date.to_datetime(civil::Time::midnight()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::{io::Cursor, path::Path};

    use super::*;
    use crate::{
        Parsed,
        input::{ImportOptions, open_path, parse as parse_input},
    };

    fn run(text: &str, mapping: &Mapping) -> Result<Vec<Parsed>, String> {
        let input: Input = Box::new(Cursor::new(text.to_owned()));
        parse(input, mapping, crate::DEFAULT_MAX_POST_BYTES).map(Iterator::collect)
    }

    fn posts(items: &[Parsed]) -> Vec<&Post> {
        items
            .iter()
            .filter_map(|item| match item {
                Ok(Record::Change(Change::Upsert(post))) => Some(post.as_ref()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn guesses_the_columns_of_an_fft_export() {
        let csv = "Comment ID,Date,Service type 1,FFT categorical answer,FFT question,FFT answer\n\
                   c1,2024-05-01,Maternity,1,What was good?,Lovely midwives\n\
                   c2,02/05/2024,A&E,5,What was good?,\n\
                   c3,yesterday,A&E,4,What was good?,Long wait\n";
        let items = run(csv, &Mapping::default()).unwrap();
        assert_eq!(items.len(), 3);
        let found = posts(&items);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].text, "Lovely midwives");
        assert_eq!(found[0].id, "c1");
        let feedback = found[0].feedback.as_ref().unwrap();
        assert_eq!(feedback.service.as_deref(), Some("Maternity"));
        assert_eq!(feedback.rating.as_deref(), Some("1"));
        assert_eq!(found[0].created_at.to_string(), "2024-04-30T23:00:00Z");
        assert!(matches!(items[1], Ok(Record::Skipped { .. })));
        let rejected = items[2].as_ref().unwrap_err();
        assert_eq!(rejected.location.line, Some(4));
        assert!(rejected.reason.contains("yesterday"), "{}", rejected.reason);
    }

    #[test]
    fn an_unclosed_csv_quote_rejects_its_row_and_keeps_the_next() {
        // Issue 14, finding 8: a quote left open swallowed the next row into a comment, with
        // no reject.
        let csv = "id,date,comment,ward\n\
                   1,2024-05-01,The nurses on Ward 7 were wonderful,Ward 7\n\
                   2,2024-05-02,\"Waited nine hours in A&E. Disgraceful.,A&E\n\
                   3,2024-05-03,\"Parking was impossible, but the nurses were kind\",Outpatients\n\
                   4,2024-05-04,\"Cafe food was cold\n\
                   and late, again\",Ward 7\n\
                   5,2024-05-05,\"Waited all day,A&E\n\
                   6,2024-05-06,\"Lovely \"\"quiet\"\" ward\",Ward 9\n\
                   7,2024-05-07,\"No closing quote at the end,Ward 1\n\
                   \n";
        let items = run(csv, &Mapping::default()).unwrap();
        let ids: Vec<&str> = posts(&items).iter().map(|post| post.id.as_str()).collect();
        assert_eq!(ids, ["1", "3", "4", "6"]);
        let found = posts(&items);
        assert_eq!(
            found[1].text,
            "Parking was impossible, but the nurses were kind"
        );
        assert_eq!(found[2].text, "Cafe food was cold\nand late, again");
        assert_eq!(found[3].text, "Lovely \"quiet\" ward");
        let rejected: Vec<&Rejected> = items
            .iter()
            .filter_map(|item| item.as_ref().err())
            .collect();
        let lines: Vec<Option<u64>> = rejected.iter().map(|r| r.location.line).collect();
        assert_eq!(lines, [Some(3), Some(7), Some(9)]);
        for rejected in rejected {
            assert!(rejected.reason.contains("quote"), "{}", rejected.reason);
        }
    }

    #[test]
    fn a_wrong_mapping_names_the_available_columns() {
        let mapping: Mapping = "text=Comments".parse().unwrap();
        let error = run("a,b\n1,2\n", &mapping).unwrap_err();
        assert!(
            error.contains("`Comments`") && error.contains("`a`, `b`"),
            "{error}"
        );
        let error = run("a,b\n1,2\n", &Mapping::default()).unwrap_err();
        assert!(error.contains("--csv-map"), "{error}");
        assert!("colour=red".parse::<Mapping>().is_err());
        assert!("text".parse::<Mapping>().is_err());
    }

    #[test]
    fn identical_answers_stay_separate_and_ids_are_stable() {
        let mapping = Mapping {
            default_time: Some("2024-01-01T00:00:00Z".parse().unwrap()),
            ..Mapping::default()
        };
        let csv = "comment;ward\nNothing.;Ward 1\nNothing.;Ward 1\n";
        let first = run(csv, &mapping).unwrap();
        let ids: Vec<_> = posts(&first).iter().map(|post| post.id.clone()).collect();
        assert_eq!(ids.len(), 2);
        assert_ne!(ids[0], ids[1]);
        let again = run(csv, &mapping).unwrap();
        let again: Vec<_> = posts(&again).iter().map(|post| post.id.clone()).collect();
        assert_eq!(ids, again);
    }

    #[test]
    fn uk_dates_are_day_first_and_local() {
        assert_eq!(
            parse_time("01/07/2024 14:30").unwrap().to_string(),
            "2024-07-01T13:30:00Z"
        );
        assert_eq!(
            parse_time("2024-01-15").unwrap().to_string(),
            "2024-01-15T00:00:00Z"
        );
        assert_eq!(
            parse_time("2024-01-15T10:00:00Z").unwrap().to_string(),
            "2024-01-15T10:00:00Z"
        );
        assert_eq!(
            parse_time("1/18/2022").unwrap().to_string(),
            "2022-01-18T00:00:00Z"
        );
        assert!(parse_time("soon").is_none());
    }

    #[test]
    fn imports_the_pxtextmining_exports() {
        let data = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/pxtextmining"
        );
        let options = ImportOptions {
            csv: Mapping {
                default_time: Some("2024-01-01T00:00:00Z".parse().unwrap()),
                ..Mapping::default()
            },
            ..ImportOptions::default()
        };
        for (file, minimum) in [
            ("phase1_text_data.dev.csv", 8000),
            ("v6framework_230831.dev.csv", 6000),
        ] {
            let path = Path::new(data).join(file);
            let (format, input) = open_path(&path, None).unwrap();
            assert_eq!(format, crate::Format::Csv, "{file}");
            let items: Vec<_> = parse_input(&path, format, input, &options)
                .unwrap()
                .collect();
            let rejected = items.iter().filter(|item| item.is_err()).count();
            assert_eq!(
                rejected,
                0,
                "{file}: {:?}",
                items.iter().find(|item| item.is_err())
            );
            assert!(
                posts(&items).len() >= minimum,
                "{file}: {}",
                posts(&items).len()
            );
        }
    }
}
