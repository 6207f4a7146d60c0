//! The data-protection commands: `retention run` (the periods of the settings file's
//! `[retention]` table) and `erase` (everything stored about one author, on request).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use jiff::Timestamp;
use model::Network;
use store::{AuthorRef, ProtectionStore, RetentionPolicy, SqliteStore};

use crate::{common::DbArgs, listen_cmd::ListenConfig};

/// `switchboard retention`.
#[derive(Debug, Args)]
pub struct RetentionArgs {
    #[command(subcommand)]
    command: RetentionCommand,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, Subcommand)]
enum RetentionCommand {
    /// Remove posts past their network's period and empty raw payloads past theirs, as the
    /// `[retention]` table of the settings file says (posts of open cases are kept until the
    /// case closes). The server does the same once a day.
    Run {
        /// The settings file (the one `serve` and `listen` read).
        #[arg(long, env = "SWITCHBOARD_CONFIG")]
        config: PathBuf,
    },
}

/// `switchboard erase`.
#[derive(Debug, Args)]
pub struct EraseArgs {
    /// The network of the account.
    #[arg(long)]
    network: Network,
    /// The account: its handle (with or without @) or the network's account id.
    #[arg(long)]
    author: String,
    /// Why: the reference of the person's request (recorded in the audit log).
    #[arg(long)]
    reason: String,
    /// Who is erasing (recorded in the audit log).
    #[arg(long)]
    by: String,
    #[command(flatten)]
    db: DbArgs,
}

/// Runs `switchboard retention`.
pub fn retention(args: &RetentionArgs) -> anyhow::Result<()> {
    match &args.command {
        RetentionCommand::Run { config } => {
            let policy = ListenConfig::load(config)?.retention;
            if policy.is_empty() {
                outln!(
                    "{} sets no retention periods ([retention] table): nothing to remove",
                    config.display()
                )?;
                return Ok(());
            }
            let store = open(&args.db)?;
            let summary = run_retention(&store, &policy)?;
            outln!(
                "retention: {} posts removed ({} earlier versions, {} authors left with no post), \
                 {} raw payloads emptied, {} posts past their period kept for open cases",
                summary.posts,
                summary.versions,
                summary.authors,
                summary.payloads,
                summary.kept_for_open_cases
            )?;
            Ok(())
        }
    }
}

/// Applies `policy` now, as the system.
pub fn run_retention(
    store: &SqliteStore,
    policy: &RetentionPolicy,
) -> anyhow::Result<store::RetentionSummary> {
    store
        .apply_retention(policy, "switchboard", Timestamp::now())
        .context("the retention run failed; nothing of the failed step was removed")
}

/// Runs `switchboard erase`.
pub fn erase(args: &EraseArgs) -> anyhow::Result<()> {
    if args.reason.trim().is_empty() || args.by.trim().is_empty() {
        anyhow::bail!("--reason and --by are recorded in the audit log: give both");
    }
    let store = open(&args.db)?;
    let summary = store.erase_author(
        &AuthorRef {
            network: args.network,
            account: args.author.clone(),
        },
        args.by.trim(),
        args.reason.trim(),
        Timestamp::now(),
    )?;
    if summary.authors == 0 {
        anyhow::bail!(
            "no {} account {} is stored: nothing was erased (check the handle or use the account id)",
            args.network,
            args.author
        );
    }
    outln!(
        "erased: {} posts, {} earlier versions, {} cases, {} notes, {} drafts, samples in {} \
         alerts, the detail of {} audit entries; the audit log records the erasure",
        summary.posts,
        summary.versions,
        summary.cases,
        summary.notes,
        summary.drafts,
        summary.alerts,
        summary.audit_details
    )?;
    Ok(())
}

fn open(db: &DbArgs) -> anyhow::Result<SqliteStore> {
    SqliteStore::open(&db.path)
        .with_context(|| format!("cannot open the database {}", db.path.display()))
}
