//! `switchboard serve`: the web application over the store named by `--db`; and the live
//! replay the demo uses to keep its stream moving.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    thread,
    time::Duration,
};

use analyse::Analyser;
use anyhow::Context;
use clap::Args;
use generate::OutputFormat;
use ingest::{ImportOptions, Record};
use jiff::Timestamp;
use model::Change;
use store::{AccountStore, SqliteStore};

use ingest::live::{Batch, Health};
use notify::AlertHub;

use crate::{
    common::DbArgs,
    generate_cmd,
    listen_cmd::{self, ListenConfig},
};

/// Arguments of `switchboard serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080", env = "SWITCHBOARD_ADDR")]
    pub addr: String,
    /// Mark cookies Secure: set this when people reach the server over HTTPS (a proxy).
    #[arg(long, env = "SWITCHBOARD_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// The settings file of `switchboard listen` (TOML): with it, the configured connectors,
    /// alert detectors and notifications run inside the server, and alerts reach open pages.
    #[arg(long, env = "SWITCHBOARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// With --config: store the posts without analysing them (no alerts then).
    #[arg(long)]
    pub no_analyse: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Runs `switchboard serve`.
pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let store = SqliteStore::open(&args.db.path)
        .with_context(|| format!("cannot open the database {}", args.db.path.display()))?;
    let users = store.users()?;
    if users.is_empty() {
        eprintln!(
            "No one can log in yet: add a person with `switchboard user add NAME --role admin --db {}`.",
            args.db.path.display()
        );
    }
    let live = match &args.config {
        Some(path) => Some((
            ListenConfig::load(path)?,
            path.clone(),
            listen_cmd::load_analyser(args.no_analyse)?,
        )),
        None => None,
    };
    let store = Arc::new(store);
    let retention = live
        .as_ref()
        .map(|(config, _, _)| config.retention.clone())
        .filter(|policy| !policy.is_empty());
    let oidc = live
        .as_ref()
        .and_then(|(config, _, _)| config.oidc.clone())
        .map(|config| {
            let secret = std::env::var(&config.client_secret_env).ok();
            if secret.is_none() {
                eprintln!(
                    "Single sign-on: {} is not set, so the identity provider will be asked as a public client.",
                    config.client_secret_env
                );
            }
            (config, secret)
        });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        if let Some(policy) = retention {
            tokio::spawn(enforce_retention_daily(store.clone(), policy));
        }
        let hub = AlertHub::default();
        let running = match live {
            Some((config, path, analyser)) => Some(listen_cmd::start(
                &config,
                &path,
                store.clone(),
                analyser,
                hub.clone(),
            )?),
            None => None,
        };
        let mut state =
            server::AppState::new(store, config(args.secure_cookies)).with_alert_hub(hub);
        if let Some(running) = &running {
            state = state.with_live_health(live_health(running.healths().to_vec()));
        }
        if let Some((config, secret)) = oidc {
            state = state.with_oidc(config, secret);
        }
        let listener = bind(&args.addr).await?;
        tokio::select! {
            served = server::serve(listener, state) => {
                served.with_context(|| format!("serving on {} stopped", args.addr))?;
            }
            signal = tokio::signal::ctrl_c() => {
                signal.context("cannot listen for Ctrl-C")?;
            }
        }
        if let Some(running) = running {
            tracing::info!("Stopping the connectors.");
            running.stop().await?;
        }
        Ok(())
    })
}

/// How often the server applies the retention periods (the first run is at start-up).
const RETENTION_EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// Applies the retention periods at start-up and then once a day, off the async threads; a
/// failed run is logged and tried again the next day.
async fn enforce_retention_daily(store: Arc<SqliteStore>, policy: store::RetentionPolicy) {
    let mut every = tokio::time::interval(RETENTION_EVERY);
    loop {
        every.tick().await;
        let store = store.clone();
        let policy = policy.clone();
        let ran = tokio::task::spawn_blocking(move || {
            crate::protection_cmd::run_retention(&store, &policy)
        })
        .await;
        match ran {
            Ok(Ok(summary)) => tracing::info!(
                posts = summary.posts,
                payloads = summary.payloads,
                kept_for_open_cases = summary.kept_for_open_cases,
                "Retention applied."
            ),
            Ok(Err(error)) => tracing::error!(error = %format!("{error:#}"), "Retention failed."),
            Err(error) => tracing::error!(%error, "Retention stopped."),
        }
    }
}

fn config(secure_cookies: bool) -> server::Config {
    server::Config {
        secure_cookies,
        ..server::Config::default()
    }
}

/// Binds `addr` and prints the address people open.
async fn bind(addr: &str) -> anyhow::Result<tokio::net::TcpListener> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot serve on {addr}; is another server using this port?"))?;
    let bound = listener.local_addr()?;
    outln!("Switchboard is serving http://{bound}")?;
    Ok(listener)
}

/// The running connectors' health, as the status page shows it.
fn live_health(healths: Vec<Health>) -> server::status::LiveHealth {
    Arc::new(move || {
        healths
            .iter()
            .map(|health| {
                let h = health.snapshot();
                server::status::ConnectorHealth {
                    source: h.source,
                    connected: h.connected,
                    last_event: h.last_event,
                    lag_ms: h.lag_ms,
                    posts: h.posts,
                    rejected: h.rejected,
                    errors: h.errors,
                    reconnects: h.reconnects,
                    last_error: h.last_error,
                }
            })
            .collect()
    })
}

/// How the live replay feeds the store.
#[derive(Debug, Clone)]
pub struct Replay {
    /// Posts per network per day of replay traffic.
    pub posts_per_day: u64,
    /// The random seed.
    pub seed: u64,
    /// Where the day's traffic files are written.
    pub folder: PathBuf,
    /// How many times faster than real time the day is replayed (1 = a day takes a day).
    pub speed: u32,
}

/// Seconds of replay before the day's injected incident starts.
const INCIDENT_LEAD_SECS: i64 = 120;

/// Serves `store` on `addr` while a day of generated traffic is replayed through the `listen`
/// pipeline: each post is stored, analysed and tagged when its time comes, and fed to the alert
/// detectors (default settings, the store's monitors); alerts are saved for the crisis view and
/// published to the banner of open pages. Runs until Ctrl-C.
pub fn serve_with_replay(
    store: Arc<SqliteStore>,
    addr: &str,
    replay: &Replay,
) -> anyhow::Result<()> {
    let changes = replay_changes(replay)?;
    let analyser = Analyser::new().context("cannot load the analysis models")?;
    let engine = alert::Engine::new(alert::AlertConfig::default(), &[])
        .context("the default alert settings are wrong")?;
    let notifier = notify::NotifyConfig::default()
        .resolve(|_| None)
        .context("the default notification settings are wrong")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let hub = AlertHub::default();
        let (alerts, updates) = tokio::sync::mpsc::unbounded_channel();
        let delivery = tokio::spawn(listen_cmd::deliver(notifier, hub.clone(), updates));
        let (sender, batches) = tokio::sync::mpsc::channel(64);
        let pipeline = listen_cmd::Pipeline::new(store.clone(), Some(analyser), engine)
            .with_alert_store(store.clone())
            .with_monitors(store.clone(), Vec::new());
        let handle = tokio::runtime::Handle::current();
        thread::Builder::new()
            .name("demo-pipeline".into())
            .spawn(move || {
                if let Err(error) = pipeline.run(batches, &alerts, &handle) {
                    eprintln!("The demo pipeline stopped: {error:#}");
                }
            })
            .context("cannot start the demo pipeline")?;
        thread::Builder::new()
            .name("demo-replay".into())
            .spawn(move || run_replay(&sender, changes))
            .context("cannot start the demo replay")?;
        let state = server::AppState::new(store, config(false)).with_alert_hub(hub);
        let listener = bind(addr).await?;
        tokio::select! {
            served = server::serve(listener, state) => {
                served.with_context(|| format!("serving on {addr} stopped"))?;
            }
            signal = tokio::signal::ctrl_c() => {
                signal.context("cannot listen for Ctrl-C")?;
            }
        }
        delivery.abort();
        Ok(())
    })
}

/// The generator settings of the replay's day starting at `start`, with the file each is
/// written to.
pub fn replay_configs(replay: &Replay, start: Timestamp) -> Vec<(generate::Config, PathBuf)> {
    [
        (OutputFormat::X, "replay-x.jsonl"),
        (OutputFormat::Mastodon, "replay-mastodon.jsonl"),
        (OutputFormat::Bluesky, "replay-bluesky.jsonl"),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (format, name))| {
        let seed = replay.seed.wrapping_add(1_000 + i as u64);
        (
            generate_cmd::config(replay.posts_per_day, format, seed, start, 1),
            replay.folder.join(name),
        )
    })
    .collect()
}

fn replay_changes(replay: &Replay) -> anyhow::Result<Vec<(Timestamp, Change)>> {
    let now = Timestamp::now();
    let mut changes = Vec::new();
    let mut incidents = Vec::new();
    for (config, path) in replay_configs(replay, now) {
        incidents.extend_from_slice(generate::Generator::new(config.clone()).incidents());
        generate_cmd::write_file(config, &path)?;
        changes.extend(read_changes(&path)?);
    }
    let at = |c: &Change| match c {
        Change::Upsert(post) => post.created_at,
        Change::Delete(deletion) => deletion.deleted_at.unwrap_or(now),
        Change::Handle(handle) => handle.at,
    };
    changes.sort_by_key(at);
    // The generator follows the day's rhythm (quiet at night); the replay spaces changes evenly
    // over the day instead, in the same order, so the stream moves whenever the demo runs.
    let count = i64::try_from(changes.len()).unwrap_or(i64::MAX).max(1);
    let speed = i64::from(replay.speed.max(1));
    let step = (86_400_000_000 / count / speed).max(1);
    // The day starts a little before an injected incident (and wraps round), so the detectors
    // have something to catch within the first minutes: one whose keyword is on the default
    // watch list when there is one, else the first.
    let watched = alert::AlertConfig::default().watch_phrases;
    let incident = incidents
        .iter()
        .find(|incident| watched.iter().any(|phrase| phrase == incident.keyword))
        .or_else(|| incidents.iter().min_by_key(|incident| incident.start));
    if let Some(start) = incident.map(|incident| incident.start) {
        let first = changes.partition_point(|c| at(c) < start);
        let lead = usize::try_from(INCIDENT_LEAD_SECS * 1_000_000 / step).unwrap_or(0);
        changes.rotate_left(first.saturating_sub(lead));
    }
    let mut timed = Vec::with_capacity(changes.len());
    for (i, mut change) in changes.into_iter().enumerate() {
        let at = now.as_microsecond() + step * (i64::try_from(i).unwrap_or(0) + 1);
        let due = Timestamp::from_microsecond(at).unwrap_or(now);
        match &mut change {
            Change::Upsert(post) => {
                if let Some(edited) = post.edited_at {
                    post.edited_at = due.checked_add(edited.duration_since(post.created_at)).ok();
                }
                post.created_at = due;
            }
            Change::Delete(deletion) => deletion.deleted_at = Some(due),
            Change::Handle(handle) => handle.at = due,
        }
        timed.push((due, change));
    }
    Ok(timed)
}

fn read_changes(path: &Path) -> anyhow::Result<Vec<Change>> {
    let (_, records) = ingest::records(path, &ImportOptions::default())
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(records
        .filter_map(|parsed| match parsed {
            Ok(Record::Change(change)) => Some(change),
            _ => None,
        })
        .collect())
}

/// Sends each change to the pipeline when its time comes, in batches every second.
fn run_replay(sender: &tokio::sync::mpsc::Sender<Batch>, changes: Vec<(Timestamp, Change)>) {
    let mut pending = changes.into_iter().peekable();
    while pending.peek().is_some() {
        thread::sleep(Duration::from_secs(1));
        let now = Timestamp::now();
        let mut records = Vec::new();
        while let Some((_, change)) = pending.next_if(|(at, _)| *at <= now) {
            records.push(Record::Change(change));
        }
        if records.is_empty() {
            continue;
        }
        let batch = Batch {
            source: "demo-replay".to_owned(),
            records,
            cursor: None,
        };
        if sender.blocking_send(batch).is_err() {
            return;
        }
    }
}

/// Tags the posts in the database at `db` with every monitor they match, after an import.
/// Prints how many tags were added, when there are monitors.
pub fn tag_monitors(db: &Path) -> anyhow::Result<()> {
    let store = SqliteStore::open(db)
        .with_context(|| format!("cannot open the database {}", db.display()))?;
    if store.monitors()?.is_empty() {
        return Ok(());
    }
    let added = store
        .retag_monitors()
        .context("tagging posts with monitors failed")?;
    eprintln!("Tagged {added} posts with the monitors they match.");
    Ok(())
}
