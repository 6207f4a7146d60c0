//! `switchboard bench import`: the figures the import issue asks for, measured in one run.
//!
//! It generates X-format traffic with `includes` (not timed), then measures, each `--runs`
//! times with the median reported: parsing alone (posts/s), a full import into an empty SQLite
//! store (parse, store, full-text index; posts/s), the peak resident memory of the import
//! (Linux `VmHWM`, reset before each phase), and the latency of a search for a common word over
//! the stored posts (median and 95th percentile of many runs).

use std::{
    fs,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use analyse::Analyser;
use anyhow::Context;
use clap::{Args, Subcommand};
use generate::OutputFormat;
use ingest::{ImportOptions, Record};
use model::{Change, query};
use store::{SearchQuery, SqliteStore, Store};

use crate::{generate_cmd, import};

/// Arguments of `switchboard bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchWhat,
}

/// What to measure.
#[derive(Debug, Subcommand)]
pub enum BenchWhat {
    /// Import throughput, peak memory and search latency over generated X traffic.
    Import(ImportBenchArgs),
    /// Alert detector quality, end-to-end alert latency and connector rate.
    Alerts(crate::listen_cmd::bench::AlertBenchArgs),
}

/// Arguments of `switchboard bench import`.
#[derive(Debug, Args)]
pub struct ImportBenchArgs {
    /// Posts to generate and import.
    #[arg(long, default_value_t = 1_000_000)]
    pub posts: u64,
    /// Repetitions of each timed phase; the median is reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// The word searched for in the latency test.
    #[arg(long, default_value = "nhs")]
    pub term: String,
    /// Searches timed for the latency figures.
    #[arg(long, default_value_t = 200)]
    pub searches: usize,
    /// Working folder for the generated file and databases (default: a temporary folder).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// Runs `switchboard bench`.
pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    match &args.what {
        BenchWhat::Import(args) => import_bench(args),
        BenchWhat::Alerts(args) => crate::listen_cmd::bench::run(args),
    }
}

fn import_bench(args: &ImportBenchArgs) -> anyhow::Result<()> {
    let temporary;
    let dir = match &args.dir {
        Some(dir) => {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            dir.clone()
        }
        None => {
            temporary = TempDir::new()?;
            temporary.0.clone()
        }
    };
    let data = dir.join(format!("x-{}.jsonl", args.posts));
    let start = crate::common::parse_time("2024-05-01").map_err(anyhow::Error::msg)?;
    eprintln!(
        "Generating {} posts (X API v2 pages with includes)...",
        args.posts
    );
    generate_cmd::write_file(
        generate_cmd::config(args.posts, OutputFormat::X, 1, start, 14),
        &data,
    )?;
    let size = fs::metadata(&data)?.len();
    eprintln!("{} bytes in {}.", size, data.display());
    let runs = args.runs.max(1);

    let mut parse_rates = Vec::new();
    let mut parsed_posts = 0;
    for run in 1..=runs {
        let started = Instant::now();
        parsed_posts = parse_only(&data)?;
        let elapsed = started.elapsed();
        let rate = parsed_posts as f64 / elapsed.as_secs_f64();
        eprintln!(
            "parse run {run}: {parsed_posts} posts in {:.2} s = {rate:.0} posts/s",
            elapsed.as_secs_f64()
        );
        parse_rates.push(rate);
    }

    let analyser = Analyser::new().context("cannot load the analysis models")?;
    let mut import_rates = Vec::new();
    let mut analysed_rates = Vec::new();
    let mut peaks = Vec::new();
    let db = dir.join("bench.db");
    for run in 1..=runs {
        for analyse in [false, true] {
            remove_database(&db);
            reset_peak_memory();
            let store = SqliteStore::open(&db)?;
            let directory = store.directory()?;
            let pipeline = import::Pipeline {
                options: &ImportOptions::default(),
                analyser: analyse.then_some(&analyser),
                directory: &directory,
                batch_size: 10_000,
            };
            let started = Instant::now();
            let summary = import::import_paths(
                &store,
                std::slice::from_ref(&data),
                &pipeline,
                &import::rejects_path(&db),
            )?;
            // Closing the store writes the last of the log into the database file: timed too.
            drop(store);
            let elapsed = started.elapsed();
            let stored =
                summary.imported + summary.updated + summary.duplicates + summary.refreshed;
            let rate = stored as f64 / elapsed.as_secs_f64();
            let peak = peak_memory_bytes();
            eprintln!(
                "import run {run}{}: {} new posts ({stored} changes) in {:.2} s = {rate:.0} posts/s, peak {}",
                if analyse { " with analysis" } else { "" },
                summary.imported,
                elapsed.as_secs_f64(),
                peak.map_or("unknown".into(), megabytes)
            );
            if analyse {
                analysed_rates.push(rate);
            } else {
                import_rates.push(rate);
            }
            if let Some(peak) = peak {
                peaks.push(peak as f64);
            }
        }
    }

    let store = SqliteStore::open(&db)?;
    let total = store.count_posts()?;
    let query = SearchQuery {
        text: Some(query::parse(&args.term)?),
        limit: 50,
        ..SearchQuery::default()
    };
    let matches = store
        .search(&SearchQuery {
            limit: 1_000_000,
            ..query.clone()
        })?
        .len();
    let mut latencies = Vec::with_capacity(args.searches);
    for _ in 0..5 {
        store.search(&query)?;
    }
    for _ in 0..args.searches.max(1) {
        let started = Instant::now();
        let found = store.search(&query)?;
        latencies.push(started.elapsed());
        anyhow::ensure!(
            !found.is_empty(),
            "the search for `{}` found nothing",
            args.term
        );
    }
    latencies.sort();

    outln!(
        "Import benchmark: {} generated X posts ({} MB of JSON Lines), {runs} run(s), medians.",
        args.posts,
        size / 1_000_000
    )?;
    outln!(
        "  parse only          {:>10.0} posts/s  ({parsed_posts} posts)",
        median(&mut parse_rates)
    )?;
    outln!(
        "  import end to end   {:>10.0} posts/s  (parse + store + full-text index)",
        median(&mut import_rates)
    )?;
    outln!(
        "  import with analysis {:>9.0} posts/s  (and every post analysed, in the same transactions; {:.0} % of the rate without)",
        median(&mut analysed_rates),
        100.0 * median(&mut analysed_rates) / median(&mut import_rates).max(1.0)
    )?;
    if !peaks.is_empty() {
        let highest = peaks.iter().copied().fold(0.0, f64::max);
        outln!(
            "  peak memory         {:>10}  (highest of the import runs)",
            megabytes(highest as u64)
        )?;
    }
    outln!(
        "  search `{}`         {:>10.2} ms median, {:.2} ms p95  (newest 50 of {matches} matches in {total} posts)",
        args.term,
        millis(percentile(&latencies, 0.5)),
        millis(percentile(&latencies, 0.95)),
    )?;
    Ok(())
}

/// Parses the file and counts the posts, storing nothing.
fn parse_only(path: &Path) -> anyhow::Result<u64> {
    let (_, records) = ingest::records(path, &ImportOptions::default())?;
    let mut posts = 0;
    for record in records {
        if let Ok(Record::Change(Change::Upsert(post))) = record {
            posts += 1;
            std::hint::black_box(&post);
        }
    }
    Ok(posts)
}

fn remove_database(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let _ = fs::remove_file(PathBuf::from(name));
    }
}

/// Resets the kernel's peak resident memory mark of this process (Linux 4.0 and later).
fn reset_peak_memory() {
    let _ = fs::write("/proc/self/clear_refs", "5");
}

/// The peak resident memory of this process since the last reset (Linux `VmHWM`).
fn peak_memory_bytes() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kilobytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes * 1024)
}

fn megabytes(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / 1_000_000.0)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values.get(n / 2).copied().unwrap_or_default(),
        n => {
            (values.get(n / 2 - 1).copied().unwrap_or_default()
                + values.get(n / 2).copied().unwrap_or_default())
                / 2.0
        }
    }
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// A temporary folder removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!("switchboard-bench-{}", std::process::id()));
        fs::create_dir_all(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
