//! `switchboard listen`: the configured live connectors feeding the import path and the alerts.
//!
//! Connectors run as tasks on a Tokio runtime and send batches over one bounded channel. One
//! pipeline thread takes whatever batches are waiting, and does what `import` does (apply the
//! changes in one transaction, analyse the posts, save the analyses), then feeds the alert
//! engine and saves each connector's cursor — only after its records are stored, so a restart
//! loses nothing. Alert updates go to the in-process hub (the web banner) and, for openings and
//! escalations, to the notifier (webhooks, Slack, Teams, email), each on its own task so a slow
//! receiver never holds the pipeline up.
//!
//! `switchboard bench alerts` (see [`bench`]) measures detector quality on generated traffic
//! and the end-to-end alert latency through this same pipeline.

pub mod bench;

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use alert::{AlertConfig, AlertUpdate, Engine, MonitorSpec};
use analyse::Analyser;
use anyhow::Context;
use clap::Args;
use ingest::{
    Record,
    live::{
        Batch, Health, Source, SourceContext,
        facebook::{Facebook, FacebookConfig},
        gdelt::{Gdelt, GdeltConfig},
        jetstream::{Jetstream, JetstreamConfig},
        mastodon::{Mastodon, MastodonConfig},
        rss::{Rss, RssConfig},
        x::{X, XConfig},
    },
};
use jiff::Timestamp;
use model::{Change, directory::Directory};
use notify::{AlertHub, Notifier, NotifyConfig};
use serde::Deserialize;
use store::{AccountStore, AlertStore, Monitor, PreparedAnalysis, SavedHealth, SqliteStore, Store};
use tokio::{
    sync::{mpsc, watch},
    task::JoinHandle,
};

use crate::common::DbArgs;

/// Arguments of `switchboard listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// The settings file (TOML): connectors, monitors, alert detectors and notifications.
    #[arg(long, default_value = "switchboard.toml")]
    pub config: PathBuf,
    /// Store the posts without analysing them (alerts then see no sentiment or intents).
    #[arg(long)]
    pub no_analyse: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

/// The settings file of `switchboard listen`. Connectors are tables named by the connector's
/// name, e.g. `[jetstream.bluesky]`; secrets are never written here, only the names of the
/// environment variables holding them.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ListenConfig {
    /// Bluesky Jetstream connectors, by name.
    pub jetstream: BTreeMap<String, JetstreamConfig>,
    /// Mastodon connectors (a stream, or a polled timeline), by name.
    pub mastodon: BTreeMap<String, MastodonConfig>,
    /// X connectors (filtered stream or recent search), by name.
    pub x: BTreeMap<String, XConfig>,
    /// Facebook Page connectors, by name.
    pub facebook: BTreeMap<String, FacebookConfig>,
    /// RSS and Atom feeds, by name.
    pub rss: BTreeMap<String, RssConfig>,
    /// GDELT news searches, by name.
    pub gdelt: BTreeMap<String, GdeltConfig>,
    /// Monitors: each gets its own spike and surge detectors.
    pub monitors: Vec<MonitorConfig>,
    /// The alert detectors.
    pub alerts: AlertConfig,
    /// Where notifications go.
    pub notify: NotifyConfig,
    /// How long posts and raw payloads are kept (enforced daily by `serve`, and by
    /// `switchboard retention run`).
    pub retention: store::RetentionPolicy,
    /// Single sign-on through the organisation's OpenID Connect provider (served by `serve`).
    pub oidc: Option<signin::oidc::OidcConfig>,
    /// The largest post taken from a connector: its text and title together, in bytes (its
    /// payload may be eight times that). Larger posts are counted as rejected and left out.
    pub max_post_bytes: usize,
}

impl Default for ListenConfig {
    fn default() -> Self {
        ListenConfig {
            jetstream: BTreeMap::new(),
            mastodon: BTreeMap::new(),
            x: BTreeMap::new(),
            facebook: BTreeMap::new(),
            rss: BTreeMap::new(),
            gdelt: BTreeMap::new(),
            monitors: Vec::new(),
            alerts: AlertConfig::default(),
            notify: NotifyConfig::default(),
            retention: store::RetentionPolicy::default(),
            oidc: None,
            max_post_bytes: ingest::DEFAULT_MAX_POST_BYTES,
        }
    }
}

/// A monitor in the settings file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorConfig {
    /// The name shown on alerts.
    pub name: String,
    /// The words, in the listening query language.
    pub query: String,
}

impl ListenConfig {
    /// Reads the settings file.
    pub fn load(path: &Path) -> anyhow::Result<ListenConfig> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read the settings file {}; pass --config with its path",
                path.display()
            )
        })?;
        toml::from_str(&text)
            .with_context(|| format!("{}: the settings cannot be read", path.display()))
    }

    /// The monitors as the alert engine takes them.
    pub fn monitor_specs(&self) -> Vec<MonitorSpec> {
        self.monitors
            .iter()
            .map(|monitor| MonitorSpec {
                name: monitor.name.clone(),
                query: monitor.query.clone(),
            })
            .collect()
    }
}

/// Runs `switchboard listen` until Ctrl-C.
pub fn run(args: &ListenArgs) -> anyhow::Result<()> {
    let config = ListenConfig::load(&args.config)?;
    let sqlite = Arc::new(
        SqliteStore::open(&args.db.path)
            .with_context(|| format!("cannot open the database {}", args.db.path.display()))?,
    );
    let analyser = load_analyser(args.no_analyse)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let live = start(&config, &args.config, sqlite, analyser, AlertHub::default())?;
        tokio::signal::ctrl_c()
            .await
            .context("cannot listen for Ctrl-C")?;
        tracing::info!("Shutting down.");
        let stats = live.stop().await?;
        eprintln!(
            "Stored {} changes, analysed {} posts, {} alert updates.",
            stats.changes, stats.analysed, stats.alert_updates
        );
        Ok(())
    })
}

/// The analyser, unless `--no-analyse` was given.
pub fn load_analyser(no_analyse: bool) -> anyhow::Result<Option<Analyser>> {
    if no_analyse {
        Ok(None)
    } else {
        Analyser::new()
            .map(Some)
            .context("cannot load the analysis models")
    }
}

/// The configured connectors and their pipeline, running (see [`start`]).
pub struct LiveRun {
    sources: Vec<Running>,
    healths: Vec<Health>,
    shutdown: watch::Sender<bool>,
    worker: std::thread::JoinHandle<anyhow::Result<PipelineStats>>,
    delivery: JoinHandle<()>,
    reporter: JoinHandle<()>,
}

impl LiveRun {
    /// The connectors' health records (live: read them with `snapshot`).
    pub fn healths(&self) -> &[Health] {
        &self.healths
    }

    /// Stops the connectors, lets the pipeline store what they brought, and waits for it.
    pub async fn stop(self) -> anyhow::Result<PipelineStats> {
        let _ = self.shutdown.send(true);
        for (task, health) in self.sources {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::error!(source = %health.snapshot().source, %error, "Connector stopped.");
                }
                Err(error) => tracing::error!(%error, "Connector task failed."),
            }
        }
        let worker = self.worker;
        let stats = tokio::task::spawn_blocking(move || worker.join())
            .await
            .context("the pipeline thread failed")?
            .map_err(|_| anyhow::anyhow!("the pipeline thread panicked"))??;
        let _ = self.delivery.await;
        let _ = self.reporter.await;
        Ok(stats)
    }
}

/// Starts the connectors configured in `config` (read from `config_path`) with their pipeline
/// over `sqlite`: posts stored and analysed, monitors from the settings file and the store (re-
/// read while running), alerts saved, published on `hub` and sent to the notification targets.
/// Call it inside a Tokio runtime.
pub fn start(
    config: &ListenConfig,
    config_path: &Path,
    sqlite: Arc<SqliteStore>,
    analyser: Option<Analyser>,
    hub: AlertHub,
) -> anyhow::Result<LiveRun> {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
    let store: Arc<dyn Store> = sqlite.clone();
    let alert_store: Arc<dyn AlertStore> = sqlite.clone();
    let monitor_store: Arc<dyn AccountStore> = sqlite;
    let engine = Engine::new(config.alerts.clone(), &config.monitor_specs())
        .with_context(|| format!("{}: the alert settings are wrong", config_path.display()))?;
    let notifier = config
        .notify
        .resolve(|name| std::env::var(name).ok())
        .with_context(|| {
            format!(
                "{}: the notification settings are wrong",
                config_path.display()
            )
        })?;
    let (shutdown, signal) = watch::channel(false);
    let (sender, batches) = mpsc::channel(4096);
    let sources = spawn_sources(config, store.as_ref(), &sender, &signal)?;
    drop(sender);
    if sources.is_empty() {
        anyhow::bail!(
            "{}: no connector is configured; add e.g. [jetstream.bluesky] with keywords",
            config_path.display()
        );
    }
    let (alerts, updates) = mpsc::unbounded_channel();
    let delivery = tokio::spawn(deliver(notifier, hub, updates));
    let pipeline = Pipeline::new(store, analyser, engine)
        .with_alert_store(alert_store.clone())
        .with_monitors(monitor_store, config.monitor_specs());
    let handle = tokio::runtime::Handle::current();
    let worker = std::thread::Builder::new()
        .name("live-pipeline".into())
        .spawn(move || pipeline.run(batches, &alerts, &handle))
        .context("cannot start the live pipeline")?;
    let healths: Vec<Health> = sources.iter().map(|(_, health)| health.clone()).collect();
    let reporter = tokio::spawn(report_health(healths.clone(), alert_store, signal));
    Ok(LiveRun {
        sources,
        healths,
        shutdown,
        worker,
        delivery,
        reporter,
    })
}

/// A running connector and its health.
pub type Running = (JoinHandle<Result<(), ingest::live::SourceError>>, Health);

/// Starts every configured connector, each resuming from its saved cursor.
pub fn spawn_sources(
    config: &ListenConfig,
    store: &dyn Store,
    sender: &mpsc::Sender<Batch>,
    signal: &watch::Receiver<bool>,
) -> anyhow::Result<Vec<Running>> {
    let mut running = Vec::new();
    let mut start = |source: Box<dyn FnOnce(SourceContext) -> Running>, name: &str| {
        let cursor = store.cursor(name)?;
        let mut ctx = SourceContext::new(name, sender.clone(), cursor, signal.clone());
        ctx.max_post_bytes = config.max_post_bytes;
        running.push(source(ctx));
        anyhow::Ok(())
    };
    for (name, settings) in &config.jetstream {
        let source = Jetstream::new(name.clone(), settings.clone())?;
        start(Box::new(move |ctx| spawn(source, ctx)), name)?;
    }
    for (name, settings) in &config.mastodon {
        let source = Mastodon::new(name.clone(), settings.clone());
        start(Box::new(move |ctx| spawn(source, ctx)), name)?;
    }
    for (name, settings) in &config.x {
        let source = X::new(name.clone(), settings.clone());
        start(Box::new(move |ctx| spawn(source, ctx)), name)?;
    }
    for (name, settings) in &config.facebook {
        let source = Facebook::new(name.clone(), settings.clone());
        start(Box::new(move |ctx| spawn(source, ctx)), name)?;
    }
    for (name, settings) in &config.rss {
        let source = Rss::new(name.clone(), settings.clone());
        start(Box::new(move |ctx| spawn(source, ctx)), name)?;
    }
    for (name, settings) in &config.gdelt {
        let source = Gdelt::new(name.clone(), settings.clone());
        start(Box::new(move |ctx| spawn(source, ctx)), name)?;
    }
    Ok(running)
}

/// Spawns one connector.
pub fn spawn<S: Source>(source: S, ctx: SourceContext) -> Running {
    let health = ctx.health().clone();
    (tokio::spawn(source.run(ctx)), health)
}

/// Publishes every update on the hub and notifies people of openings and escalations.
pub async fn deliver(
    notifier: Notifier,
    hub: AlertHub,
    mut updates: mpsc::UnboundedReceiver<AlertUpdate>,
) {
    let notifier = Arc::new(notifier);
    let mut sending = tokio::task::JoinSet::new();
    while let Some(update) = updates.recv().await {
        hub.publish(update.clone());
        if update.kind.notifies() && !notifier.is_empty() {
            let notifier = notifier.clone();
            sending.spawn(async move { notifier.notify(&update).await });
        }
        while sending.try_join_next().is_some() {}
    }
    while sending.join_next().await.is_some() {}
}

/// Logs the connectors' health every minute and saves it for the status page.
async fn report_health(
    healths: Vec<Health>,
    store: Arc<dyn AlertStore>,
    mut signal: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(15)) => {}
            _ = signal.changed() => return,
        }
        let mut saved = Vec::new();
        for health in &healths {
            let h = health.snapshot();
            if let Ok(data) = serde_json::to_string(&h) {
                saved.push(SavedHealth {
                    source: h.source.clone(),
                    data,
                    updated_at: Timestamp::now(),
                });
            }
            tracing::info!(
                source = %h.source,
                connected = h.connected,
                posts = h.posts,
                errors = h.errors,
                reconnects = h.reconnects,
                lag_ms = h.lag_ms,
                "Connector health."
            );
        }
        let store = store.clone();
        let saving = tokio::task::spawn_blocking(move || store.save_health(&saved)).await;
        if let Ok(Err(error)) = saving {
            tracing::warn!(%error, "Connector health not saved.");
        }
    }
}

/// The monitors of the settings file, then those of the store whose name is new and whose
/// query parses (a bad one is left out, not fatal).
pub fn merge_monitors(from_settings: &[MonitorSpec], stored: &[Monitor]) -> Vec<MonitorSpec> {
    let mut merged = from_settings.to_vec();
    for monitor in stored {
        if merged.iter().any(|m| m.name == monitor.name) {
            continue;
        }
        if let Err(error) = model::query::parse(&monitor.query) {
            tracing::warn!(monitor = %monitor.name, %error, "A monitor's query does not parse.");
            continue;
        }
        merged.push(MonitorSpec {
            name: monitor.name.clone(),
            query: monitor.query.clone(),
        });
    }
    merged
}

/// Counts of what the pipeline did.
#[derive(Debug, Clone, Copy, Default)]
pub struct PipelineStats {
    /// Changes applied to the store.
    pub changes: u64,
    /// Posts analysed.
    pub analysed: u64,
    /// Alert updates produced.
    pub alert_updates: u64,
}

/// The import path for live batches: store, analyse, detect, save cursors.
pub struct Pipeline {
    store: Arc<dyn Store>,
    alert_store: Option<Arc<dyn AlertStore>>,
    monitors: Option<StoreMonitors>,
    analyser: Option<Analyser>,
    /// The directory the analysis reads authors' kinds from, re-read from the store every
    /// [`DIRECTORY_REFRESH`] so that entries added in the settings count within seconds.
    directory: Directory,
    directory_read_at: Option<std::time::Instant>,
    engine: Engine,
    stats: PipelineStats,
}

/// How often the pipeline re-reads the directory in the store.
const DIRECTORY_REFRESH: Duration = Duration::from_secs(10);

/// Monitors kept in the store (the web application's settings), re-read while running.
struct StoreMonitors {
    store: Arc<dyn AccountStore>,
    from_settings: Vec<MonitorSpec>,
    in_use: Vec<MonitorSpec>,
    read_at: Option<std::time::Instant>,
}

/// How often the pipeline re-reads the monitors in the store.
const MONITOR_REFRESH: Duration = Duration::from_secs(2);

impl Pipeline {
    /// A pipeline writing to `store`.
    pub fn new(store: Arc<dyn Store>, analyser: Option<Analyser>, engine: Engine) -> Self {
        Pipeline {
            store,
            alert_store: None,
            monitors: None,
            analyser,
            directory: Directory::default(),
            directory_read_at: None,
            engine,
            stats: PipelineStats::default(),
        }
    }

    /// Saves every alert update in `store` too (for the crisis view).
    pub fn with_alert_store(mut self, store: Arc<dyn AlertStore>) -> Self {
        self.alert_store = Some(store);
        self
    }

    /// Also matches the monitors kept in `store` (re-read every few seconds, so a monitor added
    /// in the web application is matched without a restart) besides those of the settings file,
    /// and tags stored posts with the store's monitors.
    pub fn with_monitors(
        mut self,
        store: Arc<dyn AccountStore>,
        from_settings: Vec<MonitorSpec>,
    ) -> Self {
        self.monitors = Some(StoreMonitors {
            store,
            in_use: from_settings.clone(),
            from_settings,
            read_at: None,
        });
        self
    }

    /// Re-reads the store's monitors when due and gives the engine any change.
    fn refresh_monitors(&mut self) {
        let Some(monitors) = &mut self.monitors else {
            return;
        };
        if monitors
            .read_at
            .is_some_and(|at| at.elapsed() < MONITOR_REFRESH)
        {
            return;
        }
        monitors.read_at = Some(std::time::Instant::now());
        let stored = match monitors.store.monitors() {
            Ok(stored) => stored,
            Err(error) => {
                tracing::warn!(%error, "The monitors could not be read.");
                return;
            }
        };
        let wanted = merge_monitors(&monitors.from_settings, &stored);
        if wanted == monitors.in_use {
            return;
        }
        match self.engine.set_monitors(&wanted) {
            Ok(()) => monitors.in_use = wanted,
            Err(error) => tracing::warn!(%error, "The monitors were not changed."),
        }
    }

    /// Runs until every sender is gone, ticking the alert engine once a second.
    pub fn run(
        mut self,
        mut batches: mpsc::Receiver<Batch>,
        alerts: &mpsc::UnboundedSender<AlertUpdate>,
        handle: &tokio::runtime::Handle,
    ) -> anyhow::Result<PipelineStats> {
        loop {
            let first = handle.block_on(async {
                tokio::time::timeout(Duration::from_secs(1), batches.recv()).await
            });
            let mut waiting = match first {
                Ok(Some(batch)) => vec![batch],
                Ok(None) => break,
                Err(_) => Vec::new(),
            };
            while waiting.len() < 512 {
                match batches.try_recv() {
                    Ok(batch) => waiting.push(batch),
                    Err(_) => break,
                }
            }
            let mut updates = Vec::new();
            self.refresh_monitors();
            if !waiting.is_empty() {
                self.process(waiting, &mut updates)?;
            }
            self.engine.tick(Timestamp::now(), &mut updates);
            self.stats.alert_updates += updates.len() as u64;
            if let Some(store) = &self.alert_store {
                for update in &updates {
                    store
                        .save_alert_update(update.kind, &update.alert)
                        .context("cannot store an alert")?;
                }
            }
            for update in updates {
                let _ = alerts.send(update);
            }
        }
        Ok(self.stats)
    }

    /// Stores, analyses and detects one group of batches, then saves their cursors.
    pub fn process(
        &mut self,
        batches: Vec<Batch>,
        updates: &mut Vec<AlertUpdate>,
    ) -> anyhow::Result<()> {
        let mut cursors: HashMap<String, String> = HashMap::new();
        let mut changes: Vec<Change> = Vec::new();
        for batch in batches {
            for record in batch.records {
                if let Record::Change(change) = record {
                    changes.push(change);
                }
            }
            if let Some(cursor) = batch.cursor {
                cursors.insert(batch.source, cursor);
            }
        }
        if self.analyser.is_some()
            && self
                .directory_read_at
                .is_none_or(|at| at.elapsed() >= DIRECTORY_REFRESH)
        {
            self.directory = self
                .store
                .directory()
                .context("cannot read the directory")?;
            self.directory_read_at = Some(std::time::Instant::now());
        }
        let Some(analyser) = &self.analyser else {
            if !changes.is_empty() {
                self.store
                    .apply(&changes)
                    .context("cannot store live posts")?;
                self.stats.changes += changes.len() as u64;
            }
            return self.save_cursors(cursors);
        };
        let posts: Vec<&model::Post> = changes.iter().filter_map(Change::post).collect();
        let analyses = crate::import::analyse_posts(analyser, &self.directory, &posts);
        let prepared = analyses
            .iter()
            .map(PreparedAnalysis::new)
            .collect::<Result<Vec<_>, _>>()
            .context("cannot store analyses")?;
        if !changes.is_empty() {
            // The posts and their analyses in one transaction: a crash keeps both or neither.
            self.store
                .apply_analysed(&changes, &prepared)
                .context("cannot store live posts and their analyses")?;
            self.stats.changes += changes.len() as u64;
        }
        let now = Timestamp::now();
        for (post, analysed) in posts.iter().zip(&analyses) {
            let at = post.created_at.min(now);
            self.engine.observe(at, post, &analysed.analysis, updates);
        }
        self.stats.analysed += analyses.len() as u64;
        if let Some(monitors) = &self.monitors {
            let tagged: Vec<(&model::Post, Option<&str>)> = posts
                .iter()
                .zip(&analyses)
                .map(|(post, a)| (*post, Some(a.analysis.language.code.as_str())))
                .collect();
            monitors
                .store
                .tag_posts(&tagged)
                .context("cannot tag live posts with the monitors")?;
        }
        self.save_cursors(cursors)
    }

    /// Saves the cursors of the connectors whose batches were stored.
    fn save_cursors(&self, cursors: HashMap<String, String>) -> anyhow::Result<()> {
        for (source, cursor) in cursors {
            self.store
                .set_cursor(&source, &cursor)
                .context("cannot save a connector's cursor")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[jetstream.bluesky]
keywords = ["nhs", "hospital"]

[mastodon.social]
base_url = "https://mastodon.social"
stream = "hashtag:nhs"

[x.stream]
rules = [{ value = "\"Northgate Hospital\"", tag = "trust" }]

[rss.bbc-health]
url = "https://feeds.bbci.co.uk/news/health/rss.xml"

[gdelt.news]
query = "\"Northgate Hospital\" sourcecountry:UK"

[[monitors]]
name = "norovirus"
query = "norovirus"

[alerts]
cooldown_secs = 1800
watch_phrases = ["data breach", "never event"]

[[notify.webhooks]]
url = "https://hooks.example.invalid/switchboard"
format = "teams"
"#;

    #[test]
    fn the_example_settings_are_read_and_unknown_fields_refused() {
        let config: ListenConfig = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(config.jetstream["bluesky"].keywords, ["nhs", "hospital"]);
        assert_eq!(config.alerts.cooldown_secs, 1800);
        assert_eq!(config.monitor_specs()[0].name, "norovirus");
        assert!(config.notify.resolve(|_| None).is_ok());
        assert!(toml::from_str::<ListenConfig>("[alerts]\ncooldown = 5\n").is_err());
    }

    #[test]
    fn a_batch_is_stored_analysed_alerted_and_its_cursor_saved() {
        let store: Arc<dyn Store> = Arc::new(store::SqliteStore::open_in_memory().unwrap());
        let engine = Engine::new(AlertConfig::default(), &[]).unwrap();
        let mut pipeline = Pipeline::new(store.clone(), Some(Analyser::new().unwrap()), engine);
        let line = r#"{"did":"did:plc:a","time_us":1779719009157119,"kind":"commit","commit":{"rev":"r","operation":"create","collection":"app.bsky.feed.post","rkey":"k1","record":{"$type":"app.bsky.feed.post","createdAt":"2026-05-25T14:23:28.757Z","langs":["en"],"text":"Is there a data breach at the hospital?"},"cid":"bafy"}}"#;
        let mut found = Vec::new();
        ingest::bluesky::parse_document(line, &mut found);
        let records = found.into_iter().filter_map(Result::ok).collect();
        let batch = Batch {
            source: "bluesky".to_owned(),
            records,
            cursor: Some("1779719009157119".to_owned()),
        };
        let mut updates = Vec::new();
        pipeline.process(vec![batch], &mut updates).unwrap();
        assert_eq!(store.count_posts().unwrap(), 1);
        assert_eq!(
            store.cursor("bluesky").unwrap().as_deref(),
            Some("1779719009157119")
        );
        assert!(updates.iter().any(|u| u.alert.detail == "data breach"));
    }

    #[test]
    fn a_monitor_added_in_the_store_is_matched_and_tagged_without_a_restart() {
        use store::DeskStore;
        let sqlite = Arc::new(store::SqliteStore::open_in_memory().unwrap());
        let engine = Engine::new(AlertConfig::default(), &[]).unwrap();
        let settings = vec![MonitorSpec {
            name: "parking".into(),
            query: "parking".into(),
        }];
        let mut pipeline = Pipeline::new(sqlite.clone(), Some(Analyser::new().unwrap()), engine)
            .with_monitors(sqlite.clone(), settings);
        pipeline.refresh_monitors();
        assert_eq!(pipeline.engine.scopes().count(), 1);
        let monitor = Monitor {
            id: 0,
            name: "norovirus".into(),
            query: "norovirus".into(),
            networks: Vec::new(),
            languages: Vec::new(),
            authors: Vec::new(),
        };
        let id = sqlite.save_monitor(&monitor).unwrap().unwrap();
        pipeline.refresh_monitors();
        assert_eq!(
            pipeline.engine.scopes().count(),
            1,
            "read again only when due"
        );
        if let Some(monitors) = &mut pipeline.monitors {
            monitors.read_at = None;
        }
        pipeline.refresh_monitors();
        let scopes: Vec<String> = pipeline.engine.scopes().map(str::to_owned).collect();
        assert_eq!(scopes[1..], ["parking".to_owned(), "norovirus".to_owned()]);
        let line = r#"{"did":"did:plc:a","time_us":1779719009157119,"kind":"commit","commit":{"rev":"r","operation":"create","collection":"app.bsky.feed.post","rkey":"k2","record":{"$type":"app.bsky.feed.post","createdAt":"2026-05-25T14:23:28.757Z","langs":["en"],"text":"Norovirus on ward 3 again"},"cid":"bafy"}}"#;
        let mut found = Vec::new();
        ingest::bluesky::parse_document(line, &mut found);
        let batch = Batch {
            source: "bluesky".to_owned(),
            records: found.into_iter().filter_map(Result::ok).collect(),
            cursor: None,
        };
        pipeline.process(vec![batch], &mut Vec::new()).unwrap();
        let tagged = sqlite
            .stream(&store::StreamFilter {
                monitor: Some(id),
                limit: 10,
                ..store::StreamFilter::default()
            })
            .unwrap();
        assert_eq!(tagged.len(), 1);
    }
}
