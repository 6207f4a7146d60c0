//! `switchboard search` and `switchboard stats`: reading the store from the command line.

use std::fmt::Write as _;

use anyhow::Context;
use clap::Args;
use jiff::Timestamp;
use model::{Network, query};
use store::{SearchQuery, StoredPost};

use crate::common::{DbArgs, open_store, parse_time};

/// Arguments of `switchboard search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// What to look for: words, "quoted phrases", AND, OR, NOT (or -word), parentheses and
    /// prefix* terms. Searches the text, title, author handle and author name.
    #[arg(value_name = "QUERY")]
    pub query: String,
    /// Only these networks (repeat, or separate with commas).
    #[arg(long = "network", value_delimiter = ',')]
    pub networks: Vec<Network>,
    /// Only posts from this time on: 2024-05-01, 2024-05-01T14:30, or a span back such as 7d.
    #[arg(long, value_parser = parse_time)]
    pub since: Option<Timestamp>,
    /// Only posts before this time.
    #[arg(long, value_parser = parse_time)]
    pub until: Option<Timestamp>,
    /// How many posts to show, newest first.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Include deleted posts.
    #[arg(long)]
    pub deleted: bool,
    /// Print JSON Lines, one stored post per line.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Runs `switchboard search`.
pub fn search(args: &SearchArgs) -> anyhow::Result<()> {
    let text = if args.query.trim() == "*" {
        None
    } else {
        Some(query::parse(&args.query).with_context(|| format!("in the query `{}`", args.query))?)
    };
    let store = open_store(&args.db)?;
    let found = store.search(&SearchQuery {
        text,
        networks: args.networks.clone(),
        since: args.since,
        until: args.until,
        limit: args.limit,
        include_deleted: args.deleted,
    })?;
    if args.json {
        for stored in &found {
            outln!("{}", serde_json::to_string(&stored.post)?)?;
        }
        return Ok(());
    }
    if found.is_empty() {
        outln!("No posts match.")?;
        return Ok(());
    }
    for stored in &found {
        outln!("{}", render(stored))?;
    }
    outln!("{} post(s), newest first.", found.len())?;
    Ok(())
}

/// One post as a short block of text for a terminal.
fn render(stored: &StoredPost) -> String {
    let post = &stored.post;
    let mut out = String::new();
    let name = post.author.display_name.as_deref().unwrap_or("");
    let _ = write!(
        out,
        "{}  {:<9} @{} {name}",
        post.created_at.strftime("%Y-%m-%d %H:%M"),
        post.network.label(),
        post.author.handle
    );
    if post.deleted {
        out.push_str("  [deleted]");
    }
    if post.edited_at.is_some() {
        out.push_str("  [edited]");
    }
    out.push('\n');
    if let Some(title) = &post.title {
        let _ = writeln!(out, "    {title}");
    }
    let text: String = post.text.split_whitespace().collect::<Vec<_>>().join(" ");
    let _ = writeln!(out, "    {}", ingest::shorten(&text, 280));
    if let Some(url) = &post.url {
        let _ = writeln!(out, "    {url}");
    }
    out
}

/// Arguments of `switchboard stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Runs `switchboard stats`: counts by network and by day.
pub fn stats(args: &StatsArgs) -> anyhow::Result<()> {
    let store = open_store(&args.db)?;
    let stats = store.stats()?;
    if args.json {
        let json = serde_json::json!({
            "posts": stats.posts,
            "deleted": stats.deleted,
            "authors": stats.authors,
            "history_versions": stats.history_versions,
            "oldest": stats.oldest.map(|time| time.to_string()),
            "newest": stats.newest.map(|time| time.to_string()),
            "by_network": stats.by_network.iter().map(|count| serde_json::json!({
                "network": count.network, "posts": count.posts, "deleted": count.deleted,
            })).collect::<Vec<_>>(),
            "by_day": stats.by_day.iter().map(|count| serde_json::json!({
                "day": count.day.to_string(), "posts": count.posts,
            })).collect::<Vec<_>>(),
        });
        outln!("{}", serde_json::to_string_pretty(&json)?)?;
        return Ok(());
    }
    outln!(
        "{} posts ({} deleted) by {} authors; {} earlier versions kept.",
        stats.posts,
        stats.deleted,
        stats.authors,
        stats.history_versions
    )?;
    if let (Some(oldest), Some(newest)) = (stats.oldest, stats.newest) {
        outln!(
            "From {} to {}.",
            oldest.strftime("%Y-%m-%d %H:%M UTC"),
            newest.strftime("%Y-%m-%d %H:%M UTC")
        )?;
    }
    outln!("\nBy network:")?;
    for count in &stats.by_network {
        outln!(
            "  {:<17} {:>10}  ({} deleted)",
            count.network.label(),
            count.posts,
            count.deleted
        )?;
    }
    outln!("\nBy day (UTC):")?;
    let busiest = stats
        .by_day
        .iter()
        .map(|count| count.posts)
        .max()
        .unwrap_or(1)
        .max(1);
    for count in &stats.by_day {
        let bar = "#".repeat(((count.posts * 40).div_ceil(busiest)) as usize);
        outln!("  {}  {:>9}  {bar}", count.day, count.posts)?;
    }
    Ok(())
}
