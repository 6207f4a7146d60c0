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
    directory_cmd, generate_cmd, import, serve_cmd, user_cmd,
};

/// Arguments of `switchboard demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Posts per network in the demo fortnight, and per day of the live replay.
    #[arg(long, default_value_t = 20_000)]
    pub posts: u64,
    /// The random seed of the demo traffic.
    #[arg(long, default_value_t = 2024)]
    pub seed: u64,
    /// The port of the web application on 127.0.0.1 (0 picks a free port).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Import only: do not serve the web application or replay live traffic.
    #[arg(long)]
    pub no_serve: bool,
    /// How many times faster than real time the live replay runs (1 spreads its day over a day).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub replay_speed: u32,
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
    let mut configs = Vec::new();
    for (format, name) in [
        (OutputFormat::X, "x-search-pages.jsonl"),
        (OutputFormat::Mastodon, "mastodon-hashtag-timeline.jsonl"),
        (OutputFormat::Bluesky, "bluesky-jetstream.jsonl"),
    ] {
        let path = folder.join(name);
        let seed = args.seed.wrapping_add(files.len() as u64);
        let config = generate_cmd::config(args.posts, format, seed, start, 14);
        configs.push(config.clone());
        generate_cmd::write_file(config, &path)?;
        files.push(path);
    }
    outln!(
        "Demo traffic for the fictional Northgate Valley NHS Foundation Trust written to {}.",
        folder.display()
    )?;
    // The trust's directory first, so that who is speaking is known from the first post: the
    // accounts of the fortnight's traffic and of the live replay's.
    let replay = serve_cmd::Replay {
        posts_per_day: args.posts,
        seed: args.seed,
        folder: folder.clone(),
        speed: args.replay_speed,
    };
    configs.extend(
        serve_cmd::replay_configs(&replay, start)
            .into_iter()
            .map(|(config, _)| config),
    );
    let directory_file = folder.join("directory.csv");
    fs::write(&directory_file, generate::directory_csv(&configs))
        .with_context(|| format!("cannot write {}", directory_file.display()))?;
    {
        let store = store::SqliteStore::open(&args.db.path)
            .with_context(|| format!("cannot open the database {}", args.db.path.display()))?;
        let summary = directory_cmd::import_file(&store, &directory_file, "demo")?;
        outln!(
            "Directory of the trust's own, leader, peer and press accounts imported from {}: \
             {} entries ({} new), {} handles.",
            directory_file.display(),
            summary.added + summary.updated,
            summary.added,
            summary.handles
        )?;
    }
    let store = open_store(&args.db)?;
    let analyser = Analyser::new().context("cannot load the analysis models")?;
    let directory = store.directory().context("cannot read the directory")?;
    let pipeline = import::Pipeline {
        options: &ImportOptions::default(),
        analyser: Some(&analyser),
        directory: &directory,
        batch_size: 10_000,
    };
    let summary = import::import_paths(
        store.as_ref(),
        &files,
        &pipeline,
        &import::rejects_path(&args.db.path),
    )?;
    outln!(
        "Imported into {}: {} new posts, {} already there, {} deleted, {} analysed, {} rejected.",
        args.db.path.display(),
        summary.imported,
        summary.duplicates + summary.updated + summary.refreshed,
        summary.deleted,
        summary.analysed,
        summary.rejected
    )?;
    let stats = store.stats()?;
    outln!(
        "\n{} posts stored by {} authors:",
        stats.posts,
        stats.authors
    )?;
    for count in &stats.by_network {
        outln!("  {:<17} {:>8}", count.network.label(), count.posts)?;
    }
    let db = args.db.path.display();
    outln!("\nTry:")?;
    outln!("  switchboard search --db {db} '\"A&E\" AND (wait* OR hours)' --limit 5")?;
    outln!("  switchboard search --db {db} 'thank* OR brilliant' --network mastodon --limit 5")?;
    outln!("  switchboard stats --db {db}")?;
    drop(store);
    if args.no_serve {
        return Ok(());
    }
    let store = std::sync::Arc::new(
        store::SqliteStore::open(&args.db.path)
            .with_context(|| format!("cannot open the database {db}"))?,
    );
    let password = user_cmd::ensure_user(&store, "demo", store::Role::Admin)?;
    outln!("\nLog in as `demo` with the password `{password}` (an administrator).")?;
    outln!(
        "A live replay adds new posts every few seconds; alerts it raises show in the banner \
         and under /alerts. Press Ctrl+C to stop."
    )?;
    serve_cmd::serve_with_replay(store, &format!("127.0.0.1:{}", args.port), &replay)
}

/// The folder beside the database where the demo traffic is written.
fn demo_folder(db: &std::path::Path) -> PathBuf {
    let mut name = db
        .file_stem()
        .map_or_else(|| "switchboard".into(), |stem| stem.to_os_string());
    name.push("-demo-data");
    db.with_file_name(name)
}
