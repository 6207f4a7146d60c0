//! `switchboard demo`: the main job on the embedded default, in one command.
//!
//! It generates a realistic fortnight of traffic about a fictional NHS trust (X, Mastodon and
//! Bluesky, in their own payload formats), imports it through the same path as any file
//! import, and shows what is stored. Running it again adds nothing twice.

use std::{fs, path::PathBuf};

use analyse::Analyser;
use anyhow::Context;
use clap::Args;
use generate::OutputFormat;
use ingest::ImportOptions;
use jiff::{ToSpan, Zoned};

use crate::{
    common::{DbArgs, open_store},
    generate_cmd, import,
};

/// Arguments of `switchboard demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Posts per network in the demo fortnight.
    #[arg(long, default_value_t = 20_000)]
    pub posts: u64,
    /// The random seed of the demo traffic.
    #[arg(long, default_value_t = 2024)]
    pub seed: u64,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Runs `switchboard demo`.
pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let today = Zoned::now().date();
    let start = today
        .checked_sub(14.days())
        .context("the demo period starts before the calendar")?
        .to_zoned(jiff::tz::TimeZone::get("Europe/London").unwrap_or(jiff::tz::TimeZone::UTC))
        .context("the demo period cannot be placed in UK time")?
        .timestamp();
    let folder = demo_folder(&args.db.path);
    fs::create_dir_all(&folder).with_context(|| format!("cannot create {}", folder.display()))?;
    let mut files = Vec::new();
    for (format, name) in [
        (OutputFormat::X, "x-search-pages.jsonl"),
        (OutputFormat::Mastodon, "mastodon-hashtag-timeline.jsonl"),
        (OutputFormat::Bluesky, "bluesky-jetstream.jsonl"),
    ] {
        let path = folder.join(name);
        let seed = args.seed.wrapping_add(files.len() as u64);
        generate_cmd::write_file(
            generate_cmd::config(args.posts, format, seed, start, 14),
            &path,
        )?;
        files.push(path);
    }
    println!(
        "Demo traffic for the fictional Northgate Valley NHS Foundation Trust written to {}.",
        folder.display()
    );
    let store = open_store(&args.db)?;
    let analyser = Analyser::new().context("cannot load the analysis models")?;
    let pipeline = import::Pipeline {
        options: &ImportOptions::default(),
        analyser: Some(&analyser),
        batch_size: 10_000,
    };
    let summary = import::import_paths(
        store.as_ref(),
        &files,
        &pipeline,
        &import::rejects_path(&args.db.path),
    )?;
    println!(
        "Imported into {}: {} new posts, {} already there, {} deleted, {} analysed, {} rejected.",
        args.db.path.display(),
        summary.imported,
        summary.duplicates + summary.updated + summary.refreshed,
        summary.deleted,
        summary.analysed,
        summary.rejected
    );
    let stats = store.stats()?;
    println!(
        "\n{} posts stored by {} authors:",
        stats.posts, stats.authors
    );
    for count in &stats.by_network {
        println!("  {:<17} {:>8}", count.network.label(), count.posts);
    }
    let db = args.db.path.display();
    println!("\nTry:");
    println!("  switchboard search --db {db} '\"A&E\" AND (wait* OR hours)' --limit 5");
    println!("  switchboard search --db {db} 'thank* OR brilliant' --network mastodon --limit 5");
    println!("  switchboard stats --db {db}");
    Ok(())
}

/// The folder beside the database where the demo traffic is written.
fn demo_folder(db: &std::path::Path) -> PathBuf {
    let mut name = db
        .file_stem()
        .map_or_else(|| "switchboard".into(), |stem| stem.to_os_string());
    name.push("-demo-data");
    db.with_file_name(name)
}
