//! The triage-and-respond commands: `matrix` (check, set, show, test, bench), `audit` (verify,
//! export) and `publish` (the scheduler that sends scheduled posts on time, and at start-up
//! sends what fell due while it was stopped, exactly once).

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use engage::{
    Actor, Case, DraftStatus, Matrix, NewAuditEntry, Role, Subject, diff::diff_lines,
    matrix::format_duration, thread_key,
};
use jiff::Timestamp;
use model::{Author, Change, Counts, Network, Post, analysis::Analysis};
use publish::{Outgoing, Publisher};
use store::{EngageStore, PostAnalysis, SearchQuery, SqliteStore, Store, StoredPost};

use crate::common::DbArgs;

/// `switchboard matrix`.
#[derive(Debug, Args)]
pub struct MatrixArgs {
    #[command(subcommand)]
    command: MatrixCommand,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, Subcommand)]
enum MatrixCommand {
    /// Check a matrix file; every mistake is shown as FILE:LINE:COLUMN with what to do.
    Check {
        /// The TOML file.
        file: PathBuf,
    },
    /// Make a matrix file the active matrix (stored as a new version with its diff).
    Set {
        /// The TOML file.
        file: PathBuf,
        /// Who is making the change (recorded in the audit log).
        #[arg(long)]
        by: String,
    },
    /// Print the active matrix (the default one until a matrix is set).
    Show,
    /// Run the active matrix (or --file) over stored posts and show what each rule would do.
    Test {
        /// How many of the newest stored posts to try.
        #[arg(long, default_value_t = 10_000)]
        limit: usize,
        /// Try this file instead of the active matrix.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Examples shown per rule.
        #[arg(long, default_value_t = 3)]
        examples: usize,
    },
    /// Measure arrival-to-case time and matrix throughput over stored posts.
    Bench {
        /// Posts arriving one by one (apply, analyse, route, case written).
        #[arg(long, default_value_t = 2_000)]
        arrivals: usize,
        /// Posts stored and then evaluated by the matrix.
        #[arg(long, default_value_t = 1_000_000)]
        stored: usize,
    },
}

/// `switchboard audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check the whole audit log: every entry's keyed hash (with the key from
    /// SWITCHBOARD_AUDIT_KEY or the key file beside the database), and its end against the
    /// checkpoint file beside the database; report the first broken link.
    Verify {
        /// A head of the chain recorded elsewhere, as SEQ:HASH (the `head` of an "Audit chain
        /// head." line in the server's log output); may be given more than once.
        #[arg(long = "head", value_name = "SEQ:HASH")]
        heads: Vec<engage::Checkpoint>,
    },
    /// Write the audit log as CSV.
    Export {
        /// The CSV file to write.
        #[arg(long)]
        csv: PathBuf,
    },
}

/// `switchboard publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Send what is due now and stop (otherwise keep running and send each post on time).
    #[arg(long)]
    once: bool,
    /// Seconds between checks for due posts.
    #[arg(long, default_value_t = 15)]
    interval: u64,
    #[command(flatten)]
    db: DbArgs,
}

fn open(db: &DbArgs) -> anyhow::Result<SqliteStore> {
    SqliteStore::open(&db.path)
        .with_context(|| format!("cannot open the database {}", db.path.display()))
}

fn read(file: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(file)
        .with_context(|| format!("cannot read {}; check the path", file.display()))
}

fn parse_file(file: &Path, text: &str) -> anyhow::Result<Matrix> {
    Matrix::parse(text).map_err(|e| {
        let lines: Vec<String> = e
            .issues()
            .iter()
            .map(|i| format!("{}:{}:{}: {}", file.display(), i.line, i.column, i.message))
            .collect();
        anyhow::anyhow!(
            "{} has {} mistake(s):\n{}",
            file.display(),
            lines.len(),
            lines.join("\n")
        )
    })
}

/// The active matrix and its text (the default until one is set).
fn active(store: &SqliteStore) -> anyhow::Result<(Matrix, String, String)> {
    match store.active_matrix()? {
        Some(v) => {
            let m = Matrix::parse(&v.text).map_err(|e| {
                anyhow::anyhow!("the stored matrix version {} is invalid: {e}", v.version)
            })?;
            Ok((
                m,
                v.text,
                format!("version {} set by {} at {}", v.version, v.author, v.at),
            ))
        }
        None => Ok((
            Matrix::default_matrix()?,
            engage::matrix::DEFAULT_MATRIX.to_owned(),
            "the default matrix (none set yet)".to_owned(),
        )),
    }
}

/// Runs `switchboard matrix`.
pub fn matrix(args: &MatrixArgs) -> anyhow::Result<()> {
    match &args.command {
        MatrixCommand::Check { file } => {
            let m = parse_file(file, &read(file)?)?;
            outln!(
                "{}: valid, {} rules, {} templates",
                file.display(),
                m.rules.len(),
                m.templates.len()
            )?;
            Ok(())
        }
        MatrixCommand::Set { file, by } => {
            let text = read(file)?;
            parse_file(file, &text)?;
            let store = open(&args.db)?;
            let (_, old, _) = active(&store)?;
            let diff = diff_lines(&old, &text, 2);
            if diff.is_empty() && store.active_matrix()?.is_some() {
                outln!("the active matrix is already this text; nothing changed")?;
                return Ok(());
            }
            let now = Timestamp::now();
            let audit = NewAuditEntry::new(now, by, "matrix.set", "matrix", diff.clone());
            let v = store.set_matrix(&text, by, &diff, now, &audit)?;
            outln!("matrix version {} is active (set by {by})", v.version)?;
            out!("{diff}")?;
            Ok(())
        }
        MatrixCommand::Show => {
            let store = open(&args.db)?;
            let (_, text, source) = active(&store)?;
            outln!("# {source}")?;
            out!("{text}")?;
            Ok(())
        }
        MatrixCommand::Test {
            limit,
            file,
            examples,
        } => {
            let store = open(&args.db)?;
            let (m, source) = match file {
                Some(f) => (parse_file(f, &read(f)?)?, f.display().to_string()),
                None => {
                    let (m, _, s) = active(&store)?;
                    (m, s)
                }
            };
            test(&store, &m, &source, *limit, *examples)
        }
        MatrixCommand::Bench { arrivals, stored } => bench(&args.db, *arrivals, *stored),
    }
}

fn snippet(text: &str) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 90 {
        format!("{}…", one.chars().take(89).collect::<String>())
    } else {
        one
    }
}

fn test(
    store: &SqliteStore,
    m: &Matrix,
    source: &str,
    limit: usize,
    examples: usize,
) -> anyhow::Result<()> {
    let posts = store.search(&SearchQuery {
        limit,
        ..SearchQuery::default()
    })?;
    let mut analyser: Option<analyse::Analyser> = None;
    let directory = store.directory()?;
    let mut counts = vec![0usize; m.rules.len()];
    let mut shown: Vec<Vec<String>> = vec![Vec::new(); m.rules.len()];
    let (mut none, mut analysed_now) = (0usize, 0usize);
    for sp in &posts {
        let analysis = match &sp.analysis {
            Some(a) => a.clone(),
            None => {
                if analyser.is_none() {
                    analyser = Some(analyse::Analyser::new()?);
                }
                analysed_now += 1;
                match &analyser {
                    Some(a) => a.analyse_with(&sp.post, &directory),
                    None => continue,
                }
            }
        };
        match m.evaluate_index(&Subject::new(&sp.post, &analysis, &[])) {
            Some(i) => {
                if let Some(c) = counts.get_mut(i) {
                    *c += 1;
                }
                if let Some(s) = shown.get_mut(i)
                    && s.len() < examples
                {
                    s.push(format!(
                        "{} {}: {}",
                        sp.post.network,
                        sp.post.id,
                        snippet(&sp.post.text)
                    ));
                }
            }
            None => none += 1,
        }
    }
    let total = posts.len().max(1) as f64;
    outln!(
        "{} stored posts through {source}{}",
        posts.len(),
        if analysed_now > 0 {
            format!(" ({analysed_now} analysed now: run `switchboard analyse` to store analyses)")
        } else {
            String::new()
        }
    )?;
    outln!(
        "{:<22} {:>8} {:>7}  {:<5} {:<36} {:<7} {:<18} approval",
        "rule",
        "posts",
        "share",
        "case",
        "action",
        "limit",
        "senders"
    )?;
    for (i, rule) in m.rules.iter().enumerate() {
        let n = counts.get(i).copied().unwrap_or_default();
        let senders: Vec<&str> = rule.senders.iter().map(|r| r.as_str()).collect();
        outln!(
            "{:<22} {:>8} {:>6.1}%  {:<5} {:<36} {:<7} {:<18} {}",
            rule.name,
            n,
            n as f64 * 100.0 / total,
            if rule.create_case { "yes" } else { "no" },
            rule.action.describe(),
            rule.respond_within.map_or("-".into(), format_duration),
            senders.join(","),
            rule.approval.map_or("none", Role::as_str)
        )?;
    }
    outln!(
        "{:<22} {:>8} {:>6.1}%",
        "(no rule: ignored)",
        none,
        none as f64 * 100.0 / total
    )?;
    for (i, rule) in m.rules.iter().enumerate() {
        if let Some(s) = shown.get(i).filter(|s| !s.is_empty()) {
            outln!("\n{} — {}:", rule.name, rule.action.describe())?;
            for line in s {
                outln!("  {line}")?;
            }
        }
    }
    Ok(())
}

/// Runs `switchboard audit`.
pub fn audit(args: &AuditArgs) -> anyhow::Result<()> {
    let store = open(&args.db)?;
    match &args.command {
        AuditCommand::Verify { heads } => {
            let report = store.verify_audit(heads)?;
            outln!(
                "audit key: id {} (from {})",
                report.key_id,
                report.key_source
            )?;
            match (&report.head, &report.checkpoint) {
                (Some(head), Some(checkpoint)) => {
                    outln!("last entry: {head}\ncheckpoint outside the database: {checkpoint}")?
                }
                (Some(head), None) => outln!("last entry: {head}")?,
                (None, _) => outln!("the audit log is empty")?,
            }
            if let Some(broken) = &report.broken {
                bail!(
                    "{broken}. Entries before it ({}) verify; restore the database from a backup \
                     and investigate who changed it",
                    broken.seq.saturating_sub(1)
                );
            }
            if let Some(problem) = &report.checkpoint_problem {
                bail!(
                    "the {} entries verify with the key, but {problem}",
                    report.entries
                );
            }
            outln!(
                "audit log verified: {} entries, chain intact, keyed hashes match, the end matches \
                 the checkpoint ({} details erased on request)",
                report.entries,
                report.erased
            )?;
            Ok(())
        }
        AuditCommand::Export { csv } => {
            let mut w = ::csv::Writer::from_path(csv)
                .with_context(|| format!("cannot write {}", csv.display()))?;
            w.write_record(engage::audit::CSV_HEADER)?;
            let mut after = 0;
            let mut n = 0;
            loop {
                let page = store.audit_entries(after, 10_000)?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                for e in &page {
                    w.write_record(e.csv_record())?;
                    n += 1;
                }
            }
            w.flush()?;
            outln!("{n} audit entries written to {}", csv.display())?;
            Ok(())
        }
    }
}

/// Runs `switchboard publish`: sends due scheduled posts now (those that fell due while
/// stopped included), then keeps sending each one when it falls due unless `--once`.
pub fn publish(args: &PublishArgs) -> anyhow::Result<()> {
    publish::install_crypto_provider();
    let store = open(&args.db)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let mut clients: HashMap<Network, Publisher> = HashMap::new();
        loop {
            let (sent, failed) = publish_due(&store, &mut clients, Timestamp::now()).await?;
            if sent + failed > 0 {
                outln!("{sent} post(s) published, {failed} failed (they are retried next time)")?;
            }
            if args.once {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_secs(args.interval.max(1))).await;
        }
    })
}

/// Publishes every scheduled draft due at `now`, once each. Before sending, the attempt is
/// recorded; a draft whose earlier attempt did not finish (a crash) is sent as `resumed`, so the
/// client looks for it on the network first. Returns (sent, failed).
pub async fn publish_due(
    store: &SqliteStore,
    clients: &mut HashMap<Network, Publisher>,
    now: Timestamp,
) -> anyhow::Result<(usize, usize)> {
    let system = Actor::new("switchboard", Role::Admin);
    let (mut sent, mut failed) = (0, 0);
    for mut draft in store.due_drafts(now)? {
        draft.publish_attempts += 1;
        let start = NewAuditEntry::new(
            Timestamp::now(),
            &system.name,
            "draft.publish_start",
            draft.subject(),
            format!("attempt {} to {}", draft.publish_attempts, draft.network),
        );
        store.save_draft(&draft, None, &[start])?;
        let client = match clients.entry(draft.network) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                match Publisher::from_env(draft.network) {
                    Ok(p) => v.insert(p),
                    Err(e) => {
                        store.append_audit(&[NewAuditEntry::new(
                            Timestamp::now(),
                            &system.name,
                            "draft.publish_failed",
                            draft.subject(),
                            e.to_string(),
                        )])?;
                        eprintln!("draft {}: {e}", draft.id);
                        failed += 1;
                        continue;
                    }
                }
            }
        };

        let outgoing = Outgoing {
            key: draft.id.clone(),
            text: draft.text.clone(),
            created_at: draft.created_at,
            resumed: draft.publish_attempts > 1,
        };
        match Box::pin(client.send(&outgoing, draft.in_reply_to.as_deref())).await {
            Ok(p) => {
                let done = Timestamp::now();
                draft.status = DraftStatus::Sent;
                draft.sent_id = Some(p.id.clone());
                draft.updated_at = done;
                let mut audit = vec![NewAuditEntry::new(
                    done,
                    &system.name,
                    "draft.publish",
                    draft.subject(),
                    format!(
                        "published to {} as {} after {} request(s){}",
                        draft.network,
                        p.id,
                        p.attempts,
                        if p.recovered {
                            "; found already posted by an earlier attempt"
                        } else {
                            ""
                        }
                    ),
                )];
                let mut case = match &draft.case_id {
                    Some(id) => store.case(id)?,
                    None => None,
                };
                if let Some(c) = case.as_mut()
                    && let Ok(e) = c.answered(&system, done)
                {
                    audit.push(e);
                }
                store.save_draft(&draft, case.as_ref(), &audit)?;
                sent += 1;
            }
            Err(e) => {
                let audit = NewAuditEntry::new(
                    Timestamp::now(),
                    &system.name,
                    "draft.publish_failed",
                    draft.subject(),
                    e.to_string(),
                );
                store.append_audit(&[audit])?;
                eprintln!("draft {}: {e}", draft.id);
                failed += 1;
            }
        }
    }
    Ok((sent, failed))
}

const SAMPLES: [&str; 12] = [
    "Waited 9 hours in A&E last night with my dad. Absolutely disgraceful, nobody told us anything.",
    "Huge thanks to the nurses on ward 7 who looked after my mum, you were all wonderful",
    "Does anyone know if the phlebotomy clinic at the General is walk-in on Saturdays?",
    "My NHS number is 943 476 5919, can someone tell me when my appointment is?",
    "Parking at the hospital is a joke, £4 an hour and no spaces again",
    "Vaccines cause more harm than good, the hospital is hiding the truth",
    "When will I get my scan results? Been waiting three weeks and the discharge letter says nothing",
    "Lovely to see the new children's ward open today, well done everyone",
    "As a nurse on the night shift I can say staffing levels have been really tough this month",
    "Cancelled operation for the second time. Nobody has called to explain why.",
    "Our local health reporter here: can the trust comment on the maternity inspection report?",
    "Nice weather for the hospital fun run this weekend",
];

fn bench_post(i: usize, network: Network) -> Post {
    let text = SAMPLES.get(i % SAMPLES.len()).copied().unwrap_or_default();
    Post {
        network,
        id: format!("b{i}"),
        url: None,
        author: Author {
            id: format!("u{}", i % 5000),
            handle: format!("person{}", i % 5000),
            display_name: Some(format!("Person {}", i % 5000)),
            bio: None,
            followers: Some((i % 20_000) as u64),
            verified: false,
            url: None,
        },
        text: format!("{text} #{i}"),
        title: None,
        lang: Some("en".into()),
        created_at: Timestamp::from_second(1_767_225_600 + i as i64)
            .unwrap_or(Timestamp::UNIX_EPOCH),
        edited_at: None,
        reply_to: None,
        thread_id: None,
        relation: None,
        counts: Counts::default(),
        hashtags: Vec::new(),
        mentions: Vec::new(),
        links: Vec::new(),
        media_count: 0,
        deleted: false,
        feedback: None,
        raw: String::new(),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len().saturating_sub(1)) as f64 * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn bench(db: &DbArgs, arrivals: usize, stored: usize) -> anyhow::Result<()> {
    let path = db.path.with_extension("matrix-bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let store = open(&DbArgs { path: path.clone() })?;
    let matrix = Matrix::default_matrix()?;
    let analyser = analyse::Analyser::new()?;
    let networks = [Network::X, Network::Mastodon, Network::Bluesky];

    // 1. Arrival to case: the post is applied, analysed (and the analysis saved), routed by
    // the matrix, and its case written with the audit entry; one post at a time.
    let mut total = Vec::with_capacity(arrivals);
    let mut engine = Vec::with_capacity(arrivals);
    let mut cases = 0;
    for i in 0..arrivals {
        let network = networks.get(i % 3).copied().unwrap_or(Network::X);
        let post = bench_post(i, network);
        let started = Instant::now();
        store.apply(&[Change::Upsert(Box::new(post.clone()))])?;
        let analysis = analyser.analyse(&post);
        store.save_analyses(&[PostAnalysis {
            network,
            id: post.id.clone(),
            version_at: post.version_time(),
            analysis: analysis.clone(),
        }])?;
        let routed = Instant::now();
        let existing = store.case(&thread_key(&post))?;
        let subject = Subject::new(&post, &analysis, &[]);
        if let Some((_, case, audit)) =
            Case::route(&matrix, &subject, &post, existing, Timestamp::now())
        {
            store.save_case(&case, &[audit])?;
            cases += 1;
        }
        engine.push(routed.elapsed());
        total.push(started.elapsed());
    }
    total.sort();
    engine.sort();
    outln!(
        "arrival to case over {arrivals} posts ({cases} cases opened), one post per transaction:"
    )?;
    outln!(
        "  whole path (apply + analyse + save analysis + route + case write): median {:?}, p95 {:?}, p99 {:?}",
        percentile(&total, 0.5),
        percentile(&total, 0.95),
        percentile(&total, 0.99)
    )?;
    outln!(
        "  engine step + store write (route + case and audit written):       median {:?}, p95 {:?}, p99 {:?}",
        percentile(&engine, 0.5),
        percentile(&engine, 0.95),
        percentile(&engine, 0.99)
    )?;

    // 2. The matrix over stored posts: store `stored` posts with their analyses, read them
    // back page by page with their analyses, and evaluate the matrix on each.
    let distinct: Vec<Analysis> = (0..SAMPLES.len())
        .map(|i| analyser.analyse(&bench_post(i, Network::X)))
        .collect();
    let fill = Instant::now();
    let batch = 10_000;
    let mut i = arrivals;
    while i < arrivals + stored {
        let end = (i + batch).min(arrivals + stored);
        let posts: Vec<Post> = (i..end)
            .map(|k| bench_post(k, networks.get(k % 3).copied().unwrap_or(Network::X)))
            .collect();
        let changes: Vec<Change> = posts
            .iter()
            .map(|p| Change::Upsert(Box::new(p.clone())))
            .collect();
        store.apply(&changes)?;
        let analyses: Vec<PostAnalysis> = posts
            .iter()
            .enumerate()
            .filter_map(|(k, p)| {
                distinct.get((i + k) % SAMPLES.len()).map(|a| PostAnalysis {
                    network: p.network,
                    id: p.id.clone(),
                    version_at: p.version_time(),
                    analysis: a.clone(),
                })
            })
            .collect();
        store.save_analyses(&analyses)?;
        i = end;
    }
    eprintln!(
        "stored {stored} posts with analyses in {:.1?}",
        fill.elapsed()
    );

    let started = Instant::now();
    let mut read = 0usize;
    let mut evaluated: Vec<(Post, Analysis)> = Vec::new();
    let mut counts = vec![0usize; matrix.rules.len() + 1];
    let mut until: Option<Timestamp> = None;
    let mut eval_time = Duration::ZERO;
    loop {
        let page: Vec<StoredPost> = store.search(&SearchQuery {
            limit: 20_000,
            until,
            ..SearchQuery::default()
        })?;
        let Some(last) = page.last() else { break };
        until = Some(last.post.created_at);
        let t = Instant::now();
        for sp in &page {
            if let Some(a) = &sp.analysis {
                let k = matrix
                    .evaluate_index(&Subject::new(&sp.post, a, &[]))
                    .unwrap_or(matrix.rules.len());
                if let Some(c) = counts.get_mut(k) {
                    *c += 1;
                }
            }
        }
        eval_time += t.elapsed();
        read += page.len();
        if evaluated.len() < 10_000 {
            evaluated.extend(
                page.into_iter()
                    .take(1000)
                    .filter_map(|sp| sp.analysis.map(|a| (sp.post, a))),
            );
        }
    }
    let whole = started.elapsed();
    outln!("matrix over {read} stored posts (read with analyses from SQLite, then evaluated):")?;
    outln!(
        "  read + evaluate: {:.1?} = {:.0} posts/s; evaluation alone: {:.0} posts/s",
        whole,
        read as f64 / whole.as_secs_f64(),
        read as f64 / eval_time.as_secs_f64().max(1e-9)
    )?;
    for (k, rule) in matrix.rules.iter().enumerate() {
        outln!(
            "    {:<22} {:>9}",
            rule.name,
            counts.get(k).copied().unwrap_or_default()
        )?;
    }
    outln!(
        "    {:<22} {:>9}",
        "(no rule)",
        counts.last().copied().unwrap_or_default()
    )?;
    let mut samples = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let mut n = 0usize;
        while n < 1_000_000 {
            for (p, a) in &evaluated {
                std::hint::black_box(matrix.evaluate_index(&Subject::new(p, a, &[])));
                n += 1;
            }
        }
        samples.push(n as f64 / t.elapsed().as_secs_f64());
    }
    samples.sort_by(f64::total_cmp);
    outln!(
        "  evaluation alone, 1,000,000 posts in memory x5: median {:.0} posts/s",
        samples.get(2).copied().unwrap_or_default()
    )?;
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use engage::Draft;

    use super::*;

    /// Builds a draft scheduled for `at` (for tests and the story calendar).
    fn scheduled(network: Network, text: &str, at: Timestamp) -> Draft {
        let mut d = Draft::new(None, network, None, "olu", text, at);
        d.status = DraftStatus::Scheduled;
        d.scheduled_at = Some(at);
        d
    }

    #[test]
    fn scheduler_records_a_failed_attempt_and_keeps_the_post_scheduled() {
        // No credentials in the environment: the due draft fails to send and stays scheduled
        // with its attempt recorded, so the next run (after a restart) resumes it.
        let dir = std::env::temp_dir().join(format!("sb-sched-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = SqliteStore::open(dir.join("s.db")).unwrap();
        let now = Timestamp::now();
        let due = scheduled(Network::Facebook, "Open day", now);
        let later = scheduled(
            Network::Facebook,
            "Later",
            now.checked_add(jiff::SignedDuration::from_hours(1))
                .unwrap(),
        );
        store.save_draft(&due, None, &[]).unwrap();
        store.save_draft(&later, None, &[]).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut clients = HashMap::new();
        let (sent, failed) = rt.block_on(publish_due(&store, &mut clients, now)).unwrap();
        assert_eq!((sent, failed), (0, 1));
        let d = store.draft(&due.id).unwrap().unwrap();
        assert_eq!((d.status, d.publish_attempts), (DraftStatus::Scheduled, 1));
        assert_eq!(store.draft(&later.id).unwrap().unwrap().publish_attempts, 0);
        let log = store.audit_entries(0, 10).unwrap();
        assert_eq!(log.last().unwrap().entry.action, "draft.publish_failed");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A minimal Mastodon `POST /api/v1/statuses` on 127.0.0.1 that keeps the first status per
    /// `Idempotency-Key`; returns its address and the keys of the statuses it created.
    async fn fake_mastodon() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let created = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let keys = created.clone();
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let keys = keys.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        let n = socket.read(&mut chunk).await.unwrap();
                        buf.extend_from_slice(&chunk[..n]);
                        let text = String::from_utf8_lossy(&buf).to_string();
                        if let Some(end) = text.find("\r\n\r\n") {
                            let head = text[..end].to_lowercase();
                            let len: usize = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .map_or(0, |v| v.trim().parse().unwrap());
                            if buf.len() >= end + 4 + len || n == 0 {
                                let key = head
                                    .lines()
                                    .find_map(|l| l.strip_prefix("idempotency-key:"))
                                    .unwrap()
                                    .trim()
                                    .to_owned();
                                let index = {
                                    let mut k = keys.lock().unwrap();
                                    match k.iter().position(|x| *x == key) {
                                        Some(i) => i,
                                        None => {
                                            k.push(key);
                                            k.len() - 1
                                        }
                                    }
                                };

                                let body = format!("{{\"id\":\"{}\",\"url\":null}}", 100 + index);
                                let response = format!(
                                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                                    body.len()
                                );
                                socket.write_all(response.as_bytes()).await.unwrap();
                                return;
                            }
                        }
                    }
                });
            }
        });
        (format!("http://{addr}"), created)
    }

    #[test]
    fn scheduler_sends_due_posts_once_even_after_a_restart() {
        let dir = std::env::temp_dir().join(format!("sb-sched2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.db");
        let now = Timestamp::now();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (base, created) = rt.block_on(fake_mastodon());
        let client = || {
            let policy = publish::RetryPolicy {
                base_delay: Duration::from_millis(5),
                ..publish::RetryPolicy::default()
            };
            let mut clients = HashMap::new();
            clients.insert(
                Network::Mastodon,
                Publisher::Mastodon(publish::Mastodon::new(&base, "t", policy).unwrap()),
            );
            clients
        };
        let overdue = scheduled(
            Network::Mastodon,
            "Fell due while stopped",
            now.checked_sub(jiff::SignedDuration::from_hours(2))
                .unwrap(),
        );
        let due = scheduled(Network::Mastodon, "Due now", now);
        let later = scheduled(
            Network::Mastodon,
            "Later",
            now.checked_add(jiff::SignedDuration::from_hours(1))
                .unwrap(),
        );
        // A draft whose first attempt was cut short by a crash after the network took it.
        let mut crashed = scheduled(Network::Mastodon, "Crashed mid-send", now);
        crashed.publish_attempts = 1;
        {
            let store = SqliteStore::open(&path).unwrap();
            for d in [&overdue, &due, &later, &crashed] {
                store.save_draft(d, None, &[]).unwrap();
            }
            created.lock().unwrap().push(crashed.id.clone());
            let (sent, failed) = rt
                .block_on(publish_due(&store, &mut client(), now))
                .unwrap();
            assert_eq!((sent, failed), (3, 0));
        }
        // A restart: the store is opened again and the scheduler runs again at start-up.
        let store = SqliteStore::open(&path).unwrap();
        let (sent, _) = rt
            .block_on(publish_due(&store, &mut client(), now))
            .unwrap();
        assert_eq!(sent, 0, "nothing is sent twice");
        let keys = created.lock().unwrap().clone();
        assert_eq!(
            keys.len(),
            3,
            "one status per draft, the crashed one included: {keys:?}"
        );
        for d in [&overdue, &due, &crashed] {
            let stored = store.draft(&d.id).unwrap().unwrap();
            assert_eq!(stored.status, DraftStatus::Sent);
            assert!(keys.contains(&d.id));
        }
        assert_eq!(
            store.draft(&later.id).unwrap().unwrap().status,
            DraftStatus::Scheduled
        );
        let log = store.audit_entries(0, 100).unwrap();
        assert_eq!(
            log.iter()
                .filter(|e| e.entry.action == "draft.publish")
                .count(),
            3
        );
        assert_eq!(engage::audit::verify(&log), Ok(log.len() as u64));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
