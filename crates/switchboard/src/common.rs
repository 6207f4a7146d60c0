//! Pieces every command shares: where the database is, and reading times from the command line.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use jiff::{Span, Timestamp};
use store::{SqliteStore, Store};

/// The `--db` option of every command that uses the store.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// The SQLite database file (created if missing).
    #[arg(
        long = "db",
        env = "SWITCHBOARD_DB",
        default_value = "switchboard.db",
        global = true
    )]
    pub path: PathBuf,
}

/// Opens (or creates) the store named by `--db`.
pub fn open_store(db: &DbArgs) -> anyhow::Result<Box<dyn Store>> {
    let store = SqliteStore::open(&db.path)
        .with_context(|| format!("cannot open the database {}", db.path.display()))?;
    Ok(Box::new(store))
}

/// Reads a time given on the command line: `2024-05-01`, `2024-05-01T14:30`,
/// `2024-05-01T14:30:00Z` (the date forms of [`ingest::csv::parse_time`], UK local time when
/// no zone is given), or a span back from now such as `24h`, `7d`, `2w`.
pub fn parse_time(value: &str) -> Result<Timestamp, String> {
    let value = value.trim();
    if let Some(timestamp) = ingest::csv::parse_time(value) {
        return Ok(timestamp);
    }
    if let Some(span) = relative_span(value) {
        return Timestamp::now()
            .checked_sub(span)
            .map_err(|error| format!("`{value}` reaches too far back ({error})"));
    }
    Err(format!(
        "`{value}` is not a time: write 2024-05-01, 2024-05-01T14:30, 2024-05-01T14:30:00Z, or a \
         span back from now such as 24h, 7d or 2w"
    ))
}

fn relative_span(value: &str) -> Option<Span> {
    let split = value.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = value.split_at(split);
    let number: i64 = number.parse().ok()?;
    let hours = match unit {
        "m" | "min" => return Some(Span::new().minutes(number)),
        "h" => number,
        "d" => number.checked_mul(24)?,
        "w" => number.checked_mul(24 * 7)?,
        _ => return None,
    };
    Some(Span::new().hours(hours))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dates_times_and_spans() {
        assert_eq!(
            parse_time("2024-07-01").unwrap().to_string(),
            "2024-06-30T23:00:00Z"
        );
        assert_eq!(
            parse_time("2024-01-01T10:00").unwrap().to_string(),
            "2024-01-01T10:00:00Z"
        );
        assert_eq!(
            parse_time("2024-01-01T10:00:00Z").unwrap().to_string(),
            "2024-01-01T10:00:00Z"
        );
        let day_ago = parse_time("1d").unwrap();
        let elapsed = Timestamp::now().as_second() - day_ago.as_second();
        assert!((86_399..=86_401).contains(&elapsed));
        assert!(parse_time("yesterday").unwrap_err().contains("7d"));
    }
}
