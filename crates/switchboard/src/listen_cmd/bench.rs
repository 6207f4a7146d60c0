//! `switchboard bench alerts`: detector quality and end-to-end alert latency.
//!
//! 1. **Quality.** A generated fortnight of Bluesky traffic with injected incidents of known
//!    start is parsed, analysed and fed to the engine by post time (a replay), with a monitor per
//!    incident keyword. Reported: the delay from each incident's start to its first spike or
//!    surge alert, and the spike/surge alerts outside every incident (false alarms per day).
//! 2. **Latency.** A local Jetstream-speaking WebSocket server replays generated posts at a
//!    fixed rate with probe posts (each carrying its own watch-list phrase) spread through them.
//!    The real connector, the `listen` pipeline (store, analysis, detectors) and the notifier
//!    carry them to a local webhook receiver. Reported: probe latency (median, 99th percentile)
//!    from the moment the server sends the probe to the moment the signed webhook is received,
//!    and whether every post reached the store.
//! 3. **Connector rate.** The server replays at rising rates to the connector alone; the highest
//!    rate delivered completely within the send time plus half a second is reported.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alert::{AlertConfig, AlertKind, Engine, MonitorSpec, UpdateKind};
use analyse::Analyser;
use anyhow::Context;
use clap::Args;
use futures_util::{SinkExt, StreamExt};
use generate::{Generator, OutputFormat};
use ingest::{
    Record,
    live::{
        Backoff, SourceContext,
        jetstream::{Jetstream, JetstreamConfig},
    },
};
use jiff::Timestamp;
use model::Change;
use notify::{AlertHub, Notifier, WebhookFormat, WebhookTarget};
use store::{SqliteStore, Store};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
    sync::{mpsc, watch},
};
use tokio_tungstenite::tungstenite::Message;

use super::{Pipeline, deliver, spawn};

/// Arguments of `switchboard bench alerts`.
#[derive(Debug, Args)]
pub struct AlertBenchArgs {
    /// Posts in the generated fortnight for the quality replay (0 skips it).
    #[arg(long, default_value_t = 200_000)]
    pub quality_posts: u64,
    /// Generator seeds for the quality replay (each a different fortnight and incidents).
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// Posts per second replayed in the latency run.
    #[arg(long, default_value_t = 2_000)]
    pub rate: u64,
    /// Seconds of the latency run.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Probe posts (one alert and one webhook each) in the latency run.
    #[arg(long, default_value_t = 200)]
    pub probes: usize,
    /// Seconds per step of the connector rate sweep (0 skips it).
    #[arg(long, default_value_t = 4)]
    pub sweep_seconds: u64,
}

/// Runs `switchboard bench alerts`.
pub fn run(args: &AlertBenchArgs) -> anyhow::Result<()> {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
    let analyser = Analyser::new().context("cannot load the analysis models")?;
    if args.quality_posts > 0 {
        for seed in 1..=args.seeds {
            quality(&analyser, args.quality_posts, seed)?;
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(latency(args, analyser))?;
    if args.sweep_seconds > 0 {
        runtime.block_on(sweep(args.sweep_seconds))?;
    }
    Ok(())
}

/// The start of the generated fortnight.
fn fortnight_start() -> anyhow::Result<Timestamp> {
    "2026-03-02T00:00:00Z"
        .parse()
        .context("the start of the fortnight")
}

fn quality(analyser: &Analyser, posts: u64, seed: u64) -> anyhow::Result<()> {
    let config = generate::Config::new(posts, OutputFormat::Bluesky, seed, fortnight_start()?);
    let days = f64::from(config.days);
    let mut generator = Generator::new(config);
    let incidents = generator.incidents().to_vec();
    let monitors: Vec<MonitorSpec> = incidents
        .iter()
        .map(|incident| MonitorSpec {
            name: incident.keyword.to_owned(),
            query: incident.keyword.to_owned(),
        })
        .collect();
    let mut engine = Engine::new(AlertConfig::default(), &monitors)?;
    let mut opened = Vec::new();
    let mut updates = Vec::new();
    let mut found = Vec::new();
    let mut seen = 0u64;
    let clock = Instant::now();
    for line in generator.by_ref() {
        found.clear();
        ingest::bluesky::parse_document(&line, &mut found);
        for item in found.drain(..) {
            if let Ok(Record::Change(Change::Upsert(post))) = item {
                seen += 1;
                let analysis = analyser.analyse(&post);
                engine.observe(post.created_at, &post, &analysis, &mut updates);
                opened.extend(
                    updates
                        .drain(..)
                        .filter(|u| u.kind == UpdateKind::Opened)
                        .map(|u| u.alert),
                );
            }
        }
    }
    let elapsed = clock.elapsed();
    outln!(
        "quality seed {seed}: {seen} posts over {days} days replayed in {:.1} s ({:.0} posts/s \
         with analysis)",
        elapsed.as_secs_f64(),
        seen as f64 / elapsed.as_secs_f64()
    )?;
    let volume =
        |kind: AlertKind| matches!(kind, AlertKind::VolumeSpike | AlertKind::NegativeSurge);
    let mut delays = Vec::new();
    for incident in &incidents {
        let window = |at: Timestamp| {
            at.as_second() >= incident.start.as_second() - 600
                && at.as_second() <= incident.end.as_second()
        };
        let first = opened
            .iter()
            .filter(|a| volume(a.kind) && window(a.first_seen))
            .min_by_key(|a| a.first_seen);
        match first {
            Some(alert) => {
                let delay = alert.first_seen.as_second() - incident.start.as_second();
                delays.push(delay);
                outln!(
                    "  incident {:?} at {} (peak x{:.1}): first alert after {delay} s: {} [{}]",
                    incident.kind,
                    incident.start,
                    incident.peak,
                    alert.title,
                    alert.scope
                )?;
            }
            None => outln!(
                "  incident {:?} at {} (peak x{:.1}): NOT detected",
                incident.kind,
                incident.start,
                incident.peak
            )?,
        }
    }
    let cooldown = i64::try_from(AlertConfig::default().cooldown_secs).unwrap_or(0);
    let false_alarms: Vec<_> = opened
        .iter()
        .filter(|a| volume(a.kind))
        .filter(|a| {
            !incidents.iter().any(|i| {
                a.first_seen.as_second() >= i.start.as_second() - 600
                    && a.first_seen.as_second() <= i.end.as_second() + cooldown
            })
        })
        .collect();
    for alarm in &false_alarms {
        outln!(
            "  false alarm at {}: {} [{}]",
            alarm.first_seen,
            alarm.title,
            alarm.scope
        )?;
    }
    delays.sort_unstable();
    let per_post = |kind: AlertKind| opened.iter().filter(|a| a.kind == kind).count() as f64 / days;
    outln!(
        "  detected {}/{} incidents; delay median {} s, max {} s; false spike/surge alarms {:.2} \
         per day; single-post alerts per day: high priority {:.1}, watch phrase {:.1}",
        delays.len(),
        incidents.len(),
        delays.get(delays.len() / 2).copied().unwrap_or(-1),
        delays.last().copied().unwrap_or(-1),
        false_alarms.len() as f64 / days,
        per_post(AlertKind::HighPriorityPost),
        per_post(AlertKind::WatchPhrase),
    )?;
    Ok(())
}

/// Generated Jetstream lines (every kind of event; about a third are posts).
fn generated_lines(count: u64) -> anyhow::Result<Vec<String>> {
    let config = generate::Config::new(count, OutputFormat::Bluesky, 42, fortnight_start()?);
    Ok(Generator::new(config).collect())
}

fn probe_line(number: usize) -> String {
    let now = Timestamp::now();
    serde_json::json!({
        "did": "did:plc:benchprobe",
        "time_us": now.as_microsecond(),
        "kind": "commit",
        "commit": {
            "rev": format!("probe{number:05}"),
            "operation": "create",
            "collection": "app.bsky.feed.post",
            "rkey": format!("probe{number:05}"),
            "record": {
                "$type": "app.bsky.feed.post",
                "createdAt": now.to_string(),
                "langs": ["en"],
                "text": format!("Is this true? probe-{number:05} at the hospital"),
            },
            "cid": format!("bafyprobe{number:05}"),
        },
    })
    .to_string()
}

/// A Jetstream-speaking server replaying `lines` at `rate` per second to its first client,
/// with `probes` probe posts spread evenly; probe send times go to `sent`.
async fn replay_server(
    lines: Arc<Vec<String>>,
    rate: u64,
    probes: usize,
    sent: Arc<Mutex<HashMap<usize, Instant>>>,
) -> anyhow::Result<(String, tokio::task::JoinHandle<Duration>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = format!("ws://{}/subscribe", listener.local_addr()?);
    let task = tokio::spawn(async move {
        let Ok((stream, _)) = listener.accept().await else {
            return Duration::ZERO;
        };
        let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else {
            return Duration::ZERO;
        };
        let every = (lines.len() / probes.max(1)).max(1);
        let start = Instant::now();
        let mut next_probe = 0;
        for (index, line) in lines.iter().enumerate() {
            let due = start + Duration::from_secs_f64(index as f64 / rate.max(1) as f64);
            if due > Instant::now() {
                tokio::time::sleep_until(due.into()).await;
            }
            if socket.feed(Message::text(line.clone())).await.is_err() {
                break;
            }
            if index % every == every / 2 && next_probe < probes {
                let probe = probe_line(next_probe);
                if socket.feed(Message::text(probe)).await.is_err() {
                    break;
                }
                let _ = socket.flush().await;
                if let Ok(mut sent) = sent.lock() {
                    sent.insert(next_probe, Instant::now());
                }
                next_probe += 1;
            }
            if index % 64 == 0 {
                let _ = socket.flush().await;
            }
        }
        let _ = socket.flush().await;
        let took = start.elapsed();
        tokio::spawn(async move { while socket.next().await.is_some() {} });
        took
    });
    Ok((address, task))
}

/// A webhook receiver answering 200 and recording when each probe's alert arrived.
async fn webhook_receiver(received: Arc<Mutex<HashMap<usize, Instant>>>) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let received = received.clone();
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut buffer = [0u8; 8192];
                loop {
                    let Ok(n) = stream.read(&mut buffer).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(buffer.get(..n).unwrap_or_default());
                    let text = String::from_utf8_lossy(&data).into_owned();
                    let Some((head, body)) = text.split_once("\r\n\r\n") else {
                        continue;
                    };
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .and_then(|v| v.trim().parse().ok())
                        })
                        .unwrap_or(0);
                    if body.len() < length {
                        continue;
                    }
                    let at = Instant::now();
                    if let Some(number) = body
                        .split("probe-")
                        .nth(1)
                        .and_then(|rest| rest.get(..5))
                        .and_then(|digits| digits.parse::<usize>().ok())
                        && let Ok(mut received) = received.lock()
                    {
                        received.entry(number).or_insert(at);
                    }
                    let _ = stream
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    data.clear();
                }
            });
        }
    });
    Ok(url)
}

async fn latency(args: &AlertBenchArgs, analyser: Analyser) -> anyhow::Result<()> {
    let lines = Arc::new(generated_lines(args.rate * args.seconds)?);
    let mut expected: BTreeSet<String> = BTreeSet::new();
    let mut found = Vec::new();
    for line in lines.iter() {
        ingest::bluesky::parse_document(line, &mut found);
    }
    for item in found.drain(..) {
        if let Ok(Record::Change(Change::Upsert(post))) = item {
            expected.insert(post.id);
        }
    }
    // Paced by events so that the posts among them arrive at `rate` per second or more.
    let event_rate =
        (args.rate as f64 * lines.len() as f64 / expected.len().max(1) as f64).ceil() as u64;
    let sent = Arc::new(Mutex::new(HashMap::new()));
    let received = Arc::new(Mutex::new(HashMap::new()));
    let (address, server) =
        replay_server(lines.clone(), event_rate, args.probes, sent.clone()).await?;
    let url = webhook_receiver(received.clone()).await?;
    let dir = tempdir()?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.join("bench.db"))?);
    let alerts = AlertConfig {
        watch_phrases: (0..args.probes).map(|n| format!("probe-{n:05}")).collect(),
        ..AlertConfig::default()
    };
    let engine = Engine::new(alerts, &[])?;
    let notifier = Notifier::new(
        vec![WebhookTarget {
            url,
            format: WebhookFormat::Json,
            secret: Some("bench".to_owned()),
            min_severity: alert::Severity::Info,
            retries: 2,
            first_wait: Duration::from_millis(50),
        }],
        None,
    )?;
    let (shutdown, signal) = watch::channel(false);
    let (sender, batches) = mpsc::channel(4096);
    let jetstream = Jetstream::new(
        "bench-jetstream",
        JetstreamConfig {
            endpoint: address,
            ..JetstreamConfig::default()
        },
    )?;
    let mut ctx = SourceContext::new("bench-jetstream", sender, None, signal);
    ctx.backoff = Backoff::new(Duration::from_millis(20), Duration::from_secs(1));
    let (source, health) = spawn(jetstream, ctx);
    let (alert_sender, updates) = mpsc::unbounded_channel();
    let delivery = tokio::spawn(deliver(notifier, AlertHub::default(), updates));
    let pipeline = Pipeline::new(store.clone(), Some(analyser), engine);
    let handle = tokio::runtime::Handle::current();
    let worker = std::thread::spawn(move || pipeline.run(batches, &alert_sender, &handle));
    let took = server.await.context("the replay server failed")?;
    let total_events = (lines.len() + args.probes) as u64;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let done = received.lock().map(|r| r.len()).unwrap_or(0) >= args.probes
            && health.snapshot().events >= total_events;
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Let the pipeline store what the connector has sent before stopping it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let _ = shutdown.send(true);
    let _ = source.await;
    let stats = tokio::task::spawn_blocking(move || worker.join())
        .await?
        .map_err(|_| anyhow::anyhow!("the pipeline thread panicked"))??;
    let _ = delivery.await;
    let sent = sent.lock().map(|s| s.clone()).unwrap_or_default();
    let received = received.lock().map(|r| r.clone()).unwrap_or_default();
    let mut latencies: Vec<f64> = sent
        .iter()
        .filter_map(|(n, at)| Some(received.get(n)?.duration_since(*at).as_secs_f64() * 1000.0))
        .collect();
    latencies.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        let index = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(index).copied().unwrap_or(f64::NAN)
    };
    let mut missing = 0usize;
    for id in &expected {
        if store.post(model::Network::Bluesky, id)?.is_none() {
            missing += 1;
        }
    }
    let delivered = lines.len() as f64 / took.as_secs_f64();
    let post_rate = expected.len() as f64 / took.as_secs_f64();
    outln!(
        "latency: {} events ({} posts) sent in {:.1} s ({delivered:.0} events/s, {post_rate:.0} \
         posts/s); {} of {} probe webhooks received; latency median {:.1} ms, p99 {:.1} ms, max {:.1} ms; posts missing \
         from the store: {missing}; pipeline stored {} changes, analysed {}, {} alert updates; \
         connector health: {:?}",
        lines.len(),
        expected.len(),
        took.as_secs_f64(),
        received.len(),
        args.probes,
        pick(0.5),
        pick(0.99),
        latencies.last().copied().unwrap_or(f64::NAN),
        stats.changes,
        stats.analysed,
        stats.alert_updates,
        health.snapshot(),
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The connector alone at rising rates: the highest carried completely, without delay.
async fn sweep(seconds: u64) -> anyhow::Result<()> {
    let mut best = 0;
    for rate in [2_000u64, 5_000, 10_000, 20_000, 40_000, 80_000, 160_000] {
        let mut lines = generated_lines(rate * seconds)?;
        lines.truncate(usize::try_from(rate * seconds).unwrap_or(usize::MAX));
        let lines = Arc::new(lines);
        let sent = Arc::new(Mutex::new(HashMap::new()));
        let (address, server) = replay_server(lines.clone(), rate, 0, sent).await?;
        let (shutdown, signal) = watch::channel(false);
        let (sender, mut batches) = mpsc::channel(4096);
        let jetstream = Jetstream::new(
            "sweep",
            JetstreamConfig {
                endpoint: address,
                ..JetstreamConfig::default()
            },
        )?;
        let ctx = SourceContext::new("sweep", sender, None, signal);
        let started = Instant::now();
        let (source, health) = spawn(jetstream, ctx);
        let mut events = 0usize;
        let limit = Duration::from_secs(seconds) + Duration::from_millis(500);
        let total = lines.len();
        while events < total {
            let left = limit.saturating_sub(started.elapsed());
            match tokio::time::timeout(left, batches.recv()).await {
                Ok(Some(_)) => events += 1,
                _ => break,
            }
        }
        let took = started.elapsed();
        let _ = shutdown.send(true);
        let _ = source.await;
        server.abort();
        let carried = events == total;
        outln!(
            "sweep: {rate} events/s for {seconds} s: {events}/{total} delivered in {:.2} s{} \
             (errors {})",
            took.as_secs_f64(),
            if carried { "" } else { " — NOT carried" },
            health.snapshot().errors
        )?;
        if !carried {
            break;
        }
        best = rate;
    }
    outln!("sweep: highest rate carried without loss or delay: {best} events/s")?;
    Ok(())
}

fn tempdir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "switchboard-bench-alerts-{}-{}",
        std::process::id(),
        Timestamp::now().as_millisecond()
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}
