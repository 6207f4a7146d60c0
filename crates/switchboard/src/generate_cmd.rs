//! `switchboard generate`: realistic traffic about a fictional NHS trust, in the networks' own
//! payload formats, for demos and benchmarks.

use std::{
    fs::File,
    io::{self, BufWriter, Write},
    path::{Path, PathBuf},
};

use anyhow::Context;
use clap::{Args, ValueEnum};
use generate::{Config, Generator, OutputFormat};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use jiff::Timestamp;

use crate::common::parse_time;

/// The formats `generate` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenerateFormat {
    /// X API v2 search pages with includes, one page per line.
    X,
    /// Mastodon hashtag timeline pages, one JSON array per line.
    Mastodon,
    /// Bluesky Jetstream events, one per line.
    Bluesky,
}

impl From<GenerateFormat> for OutputFormat {
    fn from(format: GenerateFormat) -> Self {
        match format {
            GenerateFormat::X => OutputFormat::X,
            GenerateFormat::Mastodon => OutputFormat::Mastodon,
            GenerateFormat::Bluesky => OutputFormat::Bluesky,
        }
    }
}

/// Arguments of `switchboard generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// How many posts to write.
    #[arg(long, default_value_t = 10_000)]
    pub posts: u64,
    /// The payload format.
    #[arg(long, value_enum, default_value = "x")]
    pub format: GenerateFormat,
    /// The random seed: the same seed and options give byte-identical output.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The first day of the period (UK local midnight), or a span back from now such as 14d.
    #[arg(long, value_parser = parse_time, default_value = "2024-05-01")]
    pub start: Timestamp,
    /// The length of the period in days.
    #[arg(long, default_value_t = 14)]
    pub days: u32,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

/// Runs `switchboard generate`.
pub fn run(args: &GenerateArgs) -> anyhow::Result<()> {
    let config = config(
        args.posts,
        args.format.into(),
        args.seed,
        args.start,
        args.days,
    );
    match &args.out {
        Some(path) => {
            let written = write_file(config, path)?;
            eprintln!("Wrote {written} posts to {}.", path.display());
            Ok(())
        }
        None => {
            let stdout = io::stdout().lock();
            write_lines(Generator::new(config), BufWriter::new(stdout), None)
                .context("cannot write to standard output")?;
            Ok(())
        }
    }
}

/// A generator configuration for `posts` posts over `days` days from `start`.
pub fn config(posts: u64, format: OutputFormat, seed: u64, start: Timestamp, days: u32) -> Config {
    let mut config = Config::new(posts, format, seed, start);
    config.days = days.max(1);
    config
}

/// Writes generated traffic to `path`, with a progress bar. Returns the posts written.
pub fn write_file(config: Config, path: &Path) -> anyhow::Result<u64> {
    let total = config.posts;
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(4));
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} generating [{bar:30}] {pos}/{len} posts ({eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let generator = Generator::new(config);
    let written = write_lines(
        generator,
        BufWriter::with_capacity(1 << 20, file),
        Some(&bar),
    )
    .with_context(|| format!("cannot write {}", path.display()))?;
    bar.finish_and_clear();
    Ok(written)
}

fn write_lines(
    mut generator: Generator,
    mut out: impl Write,
    bar: Option<&ProgressBar>,
) -> io::Result<u64> {
    let mut lines = 0u64;
    while let Some(line) = generator.next() {
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
        lines += 1;
        if let (Some(bar), 0) = (bar, lines % 256) {
            bar.set_position(generator.posts_written());
        }
    }
    out.flush()?;
    Ok(generator.posts_written())
}
