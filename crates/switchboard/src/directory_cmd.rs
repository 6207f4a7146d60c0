//! `switchboard directory`: the directory of organisations, people and accounts from the command
//! line: list it, import a CSV file, export it, and add peer NHS organisations by ODS code.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use directory::{LineError, OdsLists, Row, check_entry, ods};
use engage::NewAuditEntry;
use jiff::Timestamp;
use store::{DirectoryStore, ImportSummary, ImportedEntry, SqliteStore, Store};

use crate::common::DbArgs;

/// The largest directory file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// Arguments of `switchboard directory`.
#[derive(Debug, Args)]
pub struct DirectoryArgs {
    #[command(subcommand)]
    command: DirectoryCommand,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, Subcommand)]
enum DirectoryCommand {
    /// List the entries and their handles.
    List,
    /// Import a CSV file (name,kind,ods_code,parent,title,notes,x,mastodon,bluesky,facebook,news):
    /// rows whose ODS code or name is already there replace that entry; nothing is imported
    /// while a line has a mistake.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// Who is importing (recorded in the audit log).
        #[arg(long)]
        by: String,
    },
    /// Write the directory as CSV (to standard output unless --out is given).
    Export {
        /// The file to write.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Add NHS organisations from the ODS lists as peer organisations, by ODS code.
    Ods {
        /// ODS codes of trusts, ICBs or ICB sub-locations (`R0A QYG`).
        #[arg(required = true)]
        codes: Vec<String>,
        /// Who is adding them (recorded in the audit log).
        #[arg(long)]
        by: String,
        /// The folder of the shared data sets, holding `nhs-ods/`.
        #[arg(long, default_value = "../shared/data", env = "SWITCHBOARD_DATA")]
        data: PathBuf,
    },
}

fn open(db: &DbArgs) -> anyhow::Result<SqliteStore> {
    SqliteStore::open(&db.path)
        .with_context(|| format!("cannot open the database {}", db.path.display()))
}

/// Runs `switchboard directory`.
pub fn run(args: &DirectoryArgs) -> anyhow::Result<()> {
    match &args.command {
        DirectoryCommand::List => list(&open(&args.db)?),
        DirectoryCommand::Import { file, by } => {
            let store = open(&args.db)?;
            let summary = import_file(&store, file, by)?;
            outln!(
                "{}: {} added, {} updated, {} handles.",
                file.display(),
                summary.added,
                summary.updated,
                summary.handles
            )?;
            Ok(())
        }
        DirectoryCommand::Export { out } => {
            let text = directory::csv::write(&open(&args.db)?.directory()?);
            match out {
                Some(path) => std::fs::write(path, text)
                    .with_context(|| format!("cannot write {}", path.display())),
                None => {
                    out!("{text}")?;
                    Ok(())
                }
            }
        }
        DirectoryCommand::Ods { codes, by, data } => {
            let lists = OdsLists::read_folder(&data.join("nhs-ods"))?;
            let store = open(&args.db)?;
            add_peers(&store, &lists, codes, by)
        }
    }
}

fn list(store: &SqliteStore) -> anyhow::Result<()> {
    let directory = store.directory()?;
    if directory.is_empty() {
        outln!("The directory is empty: import a CSV file with `switchboard directory import`.")?;
    }
    for entry in directory.entries() {
        let code = entry
            .ods_code
            .as_deref()
            .map(|c| format!(" [{c}]"))
            .unwrap_or_default();
        outln!("{} ({}){code}", entry.name, entry.kind.label())?;
        for handle in &entry.handles {
            outln!("    {:<9} {}", handle.network.label(), handle.handle)?;
        }
    }
    Ok(())
}

/// Imports a directory CSV file into `store` as `by`, all of it or nothing: every mistake is
/// reported with its line and field.
pub fn import_file<S: Store + DirectoryStore + ?Sized>(
    store: &S,
    file: &Path,
    by: &str,
) -> anyhow::Result<ImportSummary> {
    let size = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}; check the path", file.display()))?
        .len();
    if size > MAX_FILE_BYTES {
        bail!(
            "{}: the file is larger than {} MB; split it into several files",
            file.display(),
            MAX_FILE_BYTES / 1024 / 1024
        );
    }
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    import_bytes(store, &bytes, &file.display().to_string(), by)
}

/// Imports the bytes of a directory CSV file named `name` into `store` as `by`.
pub fn import_bytes<S: Store + DirectoryStore + ?Sized>(
    store: &S,
    bytes: &[u8],
    name: &str,
    by: &str,
) -> anyhow::Result<ImportSummary> {
    let report = |errors: Vec<LineError>| {
        let lines: Vec<String> = errors.iter().map(|e| format!("{name}: {e}")).collect();
        anyhow::anyhow!(
            "{name} was not imported, it has {} mistake(s):\n{}",
            lines.len(),
            lines.join("\n")
        )
    };
    let rows = directory::csv::read(bytes, &store.directory()?).map_err(report)?;
    let detail = format!("{name}: {} row(s) imported", rows.len());
    let audit = [NewAuditEntry::new(
        Timestamp::now(),
        by,
        "directory.import",
        "directory",
        detail,
    )];
    let imported: Vec<ImportedEntry> = rows
        .iter()
        .map(|row| ImportedEntry {
            entry: row.entry.clone(),
            parent_row: row.parent_row,
        })
        .collect();
    store
        .import_directory(&imported, &audit)?
        .map_err(|conflicts| report(conflict_lines(&rows, conflicts)))
}

/// The store's conflicts as mistakes on the lines of the rows that caused them.
fn conflict_lines(rows: &[Row], conflicts: Vec<store::RowConflict>) -> Vec<LineError> {
    conflicts
        .into_iter()
        .map(|c| LineError {
            line: rows.get(c.row).map_or(0, |r| r.line),
            field: None,
            message: c.conflict.to_string(),
        })
        .collect()
}

/// Adds the organisations with these ODS codes as peer organisations; codes already in the
/// directory are left as they are.
fn add_peers(
    store: &SqliteStore,
    lists: &OdsLists,
    codes: &[String],
    by: &str,
) -> anyhow::Result<()> {
    let directory = store.directory()?;
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    for code in codes {
        let Some(organisation) = lists.get(code) else {
            problems.push(format!(
                "{code}: not in the ODS lists (trusts, ICBs, ICB sub-locations); check the code"
            ));
            continue;
        };
        if let Some(closed) = organisation.closed {
            problems.push(format!(
                "{code}: {} closed on {closed}; it is no longer an NHS organisation",
                organisation.name
            ));
            continue;
        }
        if let Some(entry) = directory
            .entries()
            .iter()
            .find(|e| e.ods_code.as_deref() == Some(organisation.code.as_str()))
        {
            outln!("{code}: already in the directory as {}.", entry.name)?;
            continue;
        }
        let mut entry = ods::peer_entry(organisation);
        if let Err(errors) = check_entry(&mut entry, &directory) {
            for error in errors {
                problems.push(format!("{code}: {error}"));
            }
            continue;
        }
        rows.push(ImportedEntry {
            entry,
            parent_row: None,
        });
    }
    if !problems.is_empty() {
        bail!("nothing was added:\n{}", problems.join("\n"));
    }
    if rows.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = rows.iter().map(|r| r.entry.name.clone()).collect();
    let audit = [NewAuditEntry::new(
        Timestamp::now(),
        by,
        "directory.ods",
        "directory",
        format!("peer organisations added by ODS code: {}", names.join(", ")),
    )];
    match store.import_directory(&rows, &audit)? {
        Ok(summary) => {
            for name in &names {
                outln!("Added {name}.")?;
            }
            outln!("{} peer organisation(s) added.", summary.added)?;
            Ok(())
        }
        Err(conflicts) => bail!(
            "nothing was added:\n{}",
            conflicts
                .iter()
                .map(|c| c.conflict.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}
