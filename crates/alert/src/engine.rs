//! The engine: scopes, their windows and baselines, the four detectors, and the alert book that
//! de-duplicates triggers into alerts with a cool-down.
//!
//! Time only moves forward: the engine's clock is the latest time it was given (by
//! [`Engine::observe`] or [`Engine::tick`]). A post older than the clock still counts in the
//! windows it falls in; one older than every window only feeds the post detectors.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use jiff::{Timestamp, tz::TimeZone};
use model::{
    Post,
    analysis::{Analysis, IntentKind, SentimentLabel},
    query::{self, Query},
};

use crate::{
    Alert, AlertConfig, AlertKind, AlertState, AlertUpdate, ConfigError, PostRef, Severity,
    UpdateKind,
    seasonal::{Bucket, Ewma, SeasonalBaseline},
};

/// A monitor whose posts get their own detectors: a name and a query in the listening query
/// language of [`model::query`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorSpec {
    /// The name shown on alerts.
    pub name: String,
    /// The words to match.
    pub query: String,
}

/// The longest gap, in minutes, replayed minute by minute into the baselines; a longer silence
/// (a connector down for a week) is learnt as this many empty minutes.
const MAX_GAP_MINUTES: i64 = 7 * 1440;

/// The windows and baselines of one scope.
#[derive(Debug)]
struct Scope {
    name: String,
    query: Option<Query>,
    minute: Option<i64>,
    spike: Vec<u32>,
    spike_sum: u64,
    negative: Vec<(u32, u32)>,
    negative_sum: (u64, u64),
    volume: SeasonalBaseline,
    negative_rate: Ewma,
    total_rate: Ewma,
    posts_seen: u64,
    retired: bool,
}

impl Scope {
    fn new(
        name: String,
        query: Option<Query>,
        spike_window: usize,
        negative_window: usize,
    ) -> Self {
        Scope {
            name,
            query,
            minute: None,
            spike: vec![0; spike_window],
            spike_sum: 0,
            negative: vec![(0, 0); negative_window],
            negative_sum: (0, 0),
            volume: SeasonalBaseline::default(),
            negative_rate: Ewma::default(),
            total_rate: Ewma::default(),
            posts_seen: 0,
            retired: false,
        }
    }

    fn spike_slot(&mut self, minute: i64) -> Option<&mut u32> {
        let len = self.spike.len() as i64;
        self.spike.get_mut(minute.rem_euclid(len) as usize)
    }

    fn negative_slot(&mut self, minute: i64) -> Option<&mut (u32, u32)> {
        let len = self.negative.len() as i64;
        self.negative.get_mut(minute.rem_euclid(len) as usize)
    }

    /// Closes every minute before `to`, learning each into the baselines.
    fn advance(&mut self, to: i64, clock: &mut BucketClock, cap_ratio: f64) {
        let Some(mut current) = self.minute else {
            self.minute = Some(to);
            return;
        };
        if to <= current {
            return;
        }
        if to - current > MAX_GAP_MINUTES {
            current = to - MAX_GAP_MINUTES;
            self.spike.fill(0);
            self.spike_sum = 0;
            self.negative.fill((0, 0));
            self.negative_sum = (0, 0);
        }
        while current < to {
            let bucket = clock.bucket(current);
            let count = self.spike_slot(current).map_or(0, |slot| *slot);
            let learnt = if self.volume.minutes() >= 60 {
                let expected = self.volume.expected_or_level(bucket);
                f64::from(count).min(expected * cap_ratio + 2.0)
            } else {
                f64::from(count)
            };
            self.volume.learn(bucket, learnt);
            let (negative, total) = self.negative_slot(current).map_or((0, 0), |slot| *slot);
            self.negative_rate.learn(f64::from(negative), 1440.0);
            self.total_rate.learn(f64::from(total), 1440.0);
            current += 1;
            let cleared = self.spike_slot(current).map_or(0, std::mem::take);
            self.spike_sum -= u64::from(cleared);
            let (negative, total) = self.negative_slot(current).map_or((0, 0), std::mem::take);
            self.negative_sum.0 -= u64::from(negative);
            self.negative_sum.1 -= u64::from(total);
        }
        self.minute = Some(to);
    }

    /// Counts a post at `minute` if it falls in the windows.
    fn count(&mut self, minute: i64, negative: bool) {
        let Some(current) = self.minute else {
            return;
        };
        self.posts_seen += 1;
        let age = current - minute;
        if (0..self.spike.len() as i64).contains(&age)
            && let Some(slot) = self.spike_slot(minute)
        {
            *slot += 1;
            self.spike_sum += 1;
        }
        let add = u32::from(negative);
        if (0..self.negative.len() as i64).contains(&age)
            && let Some(slot) = self.negative_slot(minute)
        {
            slot.0 += add;
            slot.1 += 1;
            self.negative_sum.0 += u64::from(add);
            self.negative_sum.1 += 1;
        }
    }

    /// The baseline share of negative posts.
    fn negative_share(&self) -> f64 {
        if self.total_rate.mean <= 0.0 {
            return 0.0;
        }
        (self.negative_rate.mean / self.total_rate.mean).clamp(0.0, 1.0)
    }
}

/// Turns minutes into local (weekday, hour) buckets, remembering the last hour asked.
#[derive(Debug)]
struct BucketClock {
    zone: TimeZone,
    hour: i64,
    bucket: Bucket,
}

impl BucketClock {
    fn bucket(&mut self, minute: i64) -> Bucket {
        let hour = minute.div_euclid(60);
        if hour != self.hour {
            self.hour = hour;
            self.bucket = Timestamp::from_second(minute.saturating_mul(60))
                .map(|time| {
                    let zoned = time.to_zoned(self.zone.clone());
                    Bucket {
                        weekday: zoned.weekday().to_monday_zero_offset().unsigned_abs(),
                        hour: zoned.hour().unsigned_abs(),
                    }
                })
                .unwrap_or_default();
        }
        self.bucket
    }
}

/// An open alert and when an update of it was last sent.
#[derive(Debug)]
struct Open {
    alert: Alert,
    last_sent: Timestamp,
}

/// One trigger: what a detector saw, before de-duplication.
struct Trigger<'a> {
    scope: usize,
    kind: AlertKind,
    detail: &'a str,
    severity: Severity,
    measure: f64,
    expected: f64,
}

/// The detectors of every scope and the book of open alerts.
#[derive(Debug)]
pub struct Engine {
    config: AlertConfig,
    scopes: Vec<Scope>,
    watch: Option<AhoCorasick>,
    clock: BucketClock,
    now: Option<Timestamp>,
    now_minute: i64,
    open: HashMap<(usize, AlertKind, String), Open>,
    next_id: u64,
}

impl Engine {
    /// Builds the engine for the organisation-wide scope plus one scope per monitor.
    pub fn new(config: AlertConfig, monitors: &[MonitorSpec]) -> Result<Engine, ConfigError> {
        if config.spike.window_minutes == 0 {
            return Err(ConfigError::Window {
                field: "spike.window_minutes",
            });
        }
        if config.negative.window_minutes == 0 {
            return Err(ConfigError::Window {
                field: "negative.window_minutes",
            });
        }
        let spike_window = config.spike.window_minutes as usize;
        let negative_window = config.negative.window_minutes as usize;
        let mut scopes = vec![Scope::new(
            config.organisation_scope.clone(),
            None,
            spike_window,
            negative_window,
        )];
        for monitor in monitors {
            let query = query::parse(&monitor.query).map_err(|source| ConfigError::Query {
                name: monitor.name.clone(),
                source,
            })?;
            scopes.push(Scope::new(
                monitor.name.clone(),
                Some(query),
                spike_window,
                negative_window,
            ));
        }
        let phrases: Vec<&str> = config
            .watch_phrases
            .iter()
            .map(|phrase| phrase.trim())
            .filter(|phrase| !phrase.is_empty())
            .collect();
        let watch = if phrases.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&phrases)
                    .map_err(|error| ConfigError::WatchList {
                        message: error.to_string(),
                    })?,
            )
        };
        let zone = TimeZone::get(&config.timezone).unwrap_or(TimeZone::UTC);
        Ok(Engine {
            config,
            scopes,
            watch,
            clock: BucketClock {
                zone,
                hour: i64::MIN,
                bucket: Bucket::default(),
            },
            now: None,
            now_minute: i64::MIN,
            open: HashMap::new(),
            next_id: 1,
        })
    }

    /// The settings in use.
    pub fn config(&self) -> &AlertConfig {
        &self.config
    }

    /// The open alerts, in no particular order.
    pub fn open_alerts(&self) -> impl Iterator<Item = &Alert> {
        self.open.values().map(|open| &open.alert)
    }

    /// Names of the scopes in use: the organisation-wide one first, then the monitors.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scopes
            .iter()
            .filter(|scope| !scope.retired)
            .map(|scope| scope.name.as_str())
    }

    /// Replaces the monitors while running (a monitor added, changed or removed in the web
    /// application): a monitor kept by name keeps its windows and baseline and takes the new
    /// query; a new one starts learning; a removed one stops counting (its open alerts resolve
    /// after the cool-down). Nothing changes when a query does not parse.
    pub fn set_monitors(&mut self, monitors: &[MonitorSpec]) -> Result<(), ConfigError> {
        let mut parsed = Vec::with_capacity(monitors.len());
        for monitor in monitors {
            let query = query::parse(&monitor.query).map_err(|source| ConfigError::Query {
                name: monitor.name.clone(),
                source,
            })?;
            parsed.push((monitor.name.as_str(), query));
        }
        for scope in self.scopes.iter_mut().skip(1) {
            scope.retired = true;
        }
        for (name, query) in parsed {
            let found = self
                .scopes
                .iter_mut()
                .skip(1)
                .find(|scope| scope.name == name);
            if let Some(scope) = found {
                scope.query = Some(query);
                scope.retired = false;
            } else {
                self.scopes.push(Scope::new(
                    name.to_owned(),
                    Some(query),
                    self.config.spike.window_minutes as usize,
                    self.config.negative.window_minutes as usize,
                ));
            }
        }
        Ok(())
    }

    /// Moves the clock to `now` (if later) and resolves alerts quiet for the whole cool-down.
    pub fn tick(&mut self, now: Timestamp, out: &mut Vec<AlertUpdate>) {
        self.set_clock(now);
        let minute = self.now_minute;
        for scope in &mut self.scopes {
            scope.advance(minute, &mut self.clock, self.config.spike.min_ratio);
        }
        self.sweep(out);
    }

    /// Feeds one analysed post observed at `at` (its creation time in a replay, its arrival time
    /// when live) and pushes what changed in the alerts.
    pub fn observe(
        &mut self,
        at: Timestamp,
        post: &Post,
        analysis: &Analysis,
        out: &mut Vec<AlertUpdate>,
    ) {
        let minute = at.as_second().div_euclid(60);
        if self.set_clock(at) {
            let now_minute = self.now_minute;
            for scope in &mut self.scopes {
                scope.advance(now_minute, &mut self.clock, self.config.spike.min_ratio);
            }
            self.sweep(out);
        }
        let now_minute = self.now_minute;
        let negative = analysis.sentiment.label == SentimentLabel::Negative;
        let words = if self.scopes.len() > 1 {
            let mut words = query::tokens(&post.text);
            if let Some(title) = &post.title {
                words.extend(query::tokens(title));
            }
            words
        } else {
            Vec::new()
        };
        let mut triggers: Vec<Trigger<'static>> = Vec::new();
        let spike = &self.config.spike;
        let surge = &self.config.negative;
        for (index, scope) in self.scopes.iter_mut().enumerate() {
            if scope.retired {
                continue;
            }
            if let Some(query) = &scope.query
                && !query.matches_tokens(&words)
            {
                continue;
            }
            scope.advance(now_minute, &mut self.clock, spike.min_ratio);
            scope.count(minute, negative);
            let bucket = self.clock.bucket(now_minute);
            if let Some(rate) = scope
                .volume
                .expected(bucket, u64::from(spike.warmup_minutes))
            {
                let expected = rate * f64::from(spike.window_minutes);
                let count = scope.spike_sum as f64;
                let z = (count - expected) / expected.max(1.0).sqrt();
                if count >= f64::from(spike.min_count)
                    && count >= expected * spike.min_ratio
                    && z >= spike.z
                {
                    triggers.push(Trigger {
                        scope: index,
                        kind: AlertKind::VolumeSpike,
                        detail: "",
                        severity: if count >= expected * spike.critical_ratio {
                            Severity::Critical
                        } else {
                            Severity::Warning
                        },
                        measure: count,
                        expected,
                    });
                }
            }
            let (negatives, total) = scope.negative_sum;
            if scope.posts_seen >= surge.warmup_posts && total >= u64::from(surge.min_volume) {
                let share = negatives as f64 / total as f64;
                let base = scope.negative_share().clamp(0.01, 0.99);
                let z = (share - base) / (base * (1.0 - base) / total as f64).sqrt();
                if share - base >= surge.min_increase && z >= surge.z {
                    triggers.push(Trigger {
                        scope: index,
                        kind: AlertKind::NegativeSurge,
                        detail: "",
                        severity: if share - base >= 2.0 * surge.min_increase {
                            Severity::Critical
                        } else {
                            Severity::Warning
                        },
                        measure: share,
                        expected: base,
                    });
                }
            }
        }
        for trigger in triggers {
            self.trigger(at, post, &trigger, out);
        }
        for (detail, severity) in self.priority_reasons(post, analysis) {
            let trigger = Trigger {
                scope: 0,
                kind: AlertKind::HighPriorityPost,
                detail,
                severity,
                measure: 1.0,
                expected: 0.0,
            };
            self.trigger(at, post, &trigger, out);
        }
        for phrase in self.watch_hits(post) {
            let detail = self
                .config
                .watch_phrases
                .get(phrase)
                .map(|p| p.trim().to_owned())
                .unwrap_or_default();
            let trigger = Trigger {
                scope: 0,
                kind: AlertKind::WatchPhrase,
                detail: &detail,
                severity: Severity::Warning,
                measure: 1.0,
                expected: 0.0,
            };
            self.trigger(at, post, &trigger, out);
        }
    }

    /// Why a post is high priority, with the severity of each reason.
    fn priority_reasons(&self, post: &Post, analysis: &Analysis) -> Vec<(&'static str, Severity)> {
        let settings = &self.config.priority;
        let mut reasons = Vec::new();
        if settings.safety && analysis.has_intent(IntentKind::Safety) {
            reasons.push(("safety", Severity::Critical));
        }
        if settings.personal_data && !analysis.personal_data.is_empty() {
            reasons.push(("personal data exposed", Severity::Critical));
        }
        if settings.reach_followers > 0
            && analysis.has_intent(IntentKind::Complaint)
            && post
                .author
                .followers
                .is_some_and(|followers| followers >= settings.reach_followers)
        {
            reasons.push((
                "complaint from an account with a large reach",
                Severity::Warning,
            ));
        }
        if settings.journalist && analysis.journalist.is_some() {
            reasons.push(("journalist", Severity::Warning));
        }
        reasons
    }

    /// Indexes of the watch-list phrases found in the post, each once.
    fn watch_hits(&self, post: &Post) -> Vec<usize> {
        let Some(watch) = &self.watch else {
            return Vec::new();
        };
        let mut hits: Vec<usize> = Vec::new();
        let texts = std::iter::once(post.text.as_str()).chain(post.title.as_deref());
        for text in texts {
            for found in watch.find_iter(text) {
                let index = found.pattern().as_usize();
                if !hits.contains(&index) {
                    hits.push(index);
                }
            }
        }
        hits
    }

    /// Moves the clock forward; returns whether the minute changed.
    fn set_clock(&mut self, at: Timestamp) -> bool {
        if self.now.is_some_and(|now| now >= at) {
            return false;
        }
        self.now = Some(at);
        let minute = at.as_second().div_euclid(60);
        let changed = minute != self.now_minute;
        self.now_minute = minute;
        changed
    }

    /// Resolves every alert quiet for longer than the cool-down.
    fn sweep(&mut self, out: &mut Vec<AlertUpdate>) {
        let Some(now) = self.now else {
            return;
        };
        let cooldown = cooldown_secs(&self.config);
        let quiet: Vec<(usize, AlertKind, String)> = self
            .open
            .iter()
            .filter(|(_, open)| now.as_second() - open.alert.last_seen.as_second() > cooldown)
            .map(|(key, _)| key.clone())
            .collect();
        for key in quiet {
            if let Some(open) = self.open.remove(&key) {
                out.push(resolve(open.alert, now));
            }
        }
    }

    /// De-duplicates one trigger into the alert book.
    fn trigger(
        &mut self,
        at: Timestamp,
        post: &Post,
        trigger: &Trigger<'_>,
        out: &mut Vec<AlertUpdate>,
    ) {
        let key = (trigger.scope, trigger.kind, trigger.detail.to_owned());
        let now = self.now.unwrap_or(at);
        let cooldown = cooldown_secs(&self.config);
        let samples = self.config.sample_posts;
        let interval = i64::try_from(self.config.update_interval_secs).unwrap_or(i64::MAX);
        if let Some(open) = self.open.get(&key)
            && now.as_second() - open.alert.last_seen.as_second() > cooldown
            && let Some(open) = self.open.remove(&key)
        {
            out.push(resolve(open.alert, now));
        }
        if let Some(open) = self.open.get_mut(&key) {
            let alert = &mut open.alert;
            alert.count += 1;
            alert.last_seen = alert.last_seen.max(at);
            if trigger.measure > alert.peak {
                alert.peak = trigger.measure;
                alert.expected = trigger.expected;
            }
            if alert.posts.len() < samples {
                alert.posts.push(post_ref(post, at));
            }
            let kind = if trigger.severity > alert.severity {
                alert.severity = trigger.severity;
                alert.title = title(&self.scopes, trigger, alert.severity);
                Some(UpdateKind::Escalated)
            } else if now.as_second() - open.last_sent.as_second() >= interval {
                Some(UpdateKind::Updated)
            } else {
                None
            };
            if let Some(kind) = kind {
                alert.revision += 1;
                open.last_sent = now;
                out.push(AlertUpdate {
                    kind,
                    alert: alert.clone(),
                });
            }
            return;
        }
        let alert = Alert {
            id: self.next_id,
            scope: self
                .scopes
                .get(trigger.scope)
                .map(|scope| scope.name.clone())
                .unwrap_or_default(),
            kind: trigger.kind,
            detail: trigger.detail.to_owned(),
            severity: trigger.severity,
            title: title(&self.scopes, trigger, trigger.severity),
            state: AlertState::Open,
            first_seen: at,
            last_seen: at,
            count: 1,
            peak: trigger.measure,
            expected: trigger.expected,
            posts: if samples > 0 {
                vec![post_ref(post, at)]
            } else {
                Vec::new()
            },
            resolved_at: None,
            revision: 1,
        };
        self.next_id += 1;
        out.push(AlertUpdate {
            kind: UpdateKind::Opened,
            alert: alert.clone(),
        });
        self.open.insert(
            key,
            Open {
                alert,
                last_sent: now,
            },
        );
    }
}

fn cooldown_secs(config: &AlertConfig) -> i64 {
    i64::try_from(config.cooldown_secs).unwrap_or(i64::MAX)
}

fn resolve(mut alert: Alert, now: Timestamp) -> AlertUpdate {
    alert.state = AlertState::Resolved;
    alert.resolved_at = Some(now);
    alert.revision += 1;
    AlertUpdate {
        kind: UpdateKind::Resolved,
        alert,
    }
}

fn title(scopes: &[Scope], trigger: &Trigger<'_>, severity: Severity) -> String {
    let scope = scopes
        .get(trigger.scope)
        .map_or("", |scope| scope.name.as_str());
    let level = match severity {
        Severity::Critical => "Critical",
        Severity::Warning => "Warning",
        Severity::Info => "Note",
    };
    match trigger.kind {
        AlertKind::VolumeSpike => format!(
            "{level}: volume spike in {scope} ({:.0} posts where {:.1} were expected).",
            trigger.measure, trigger.expected
        ),
        AlertKind::NegativeSurge => format!(
            "{level}: negative posts surge in {scope} ({:.0}% negative, usually {:.0}%).",
            trigger.measure * 100.0,
            trigger.expected * 100.0
        ),
        AlertKind::HighPriorityPost => {
            format!("{level}: high-priority post ({}).", trigger.detail)
        }
        AlertKind::WatchPhrase => {
            format!("{level}: watch-list phrase \"{}\".", trigger.detail)
        }
    }
}

fn post_ref(post: &Post, at: Timestamp) -> PostRef {
    PostRef {
        network: post.network,
        id: post.id.clone(),
        url: post.url.clone(),
        author: post.author.handle.clone(),
        text: post.text.chars().take(280).collect(),
        at,
    }
}

#[cfg(test)]
mod tests {
    use model::{Author, Network};

    use super::*;

    fn analysis(label: &str, intents: &[&str]) -> Analysis {
        let intents: Vec<_> = intents
            .iter()
            .map(|kind| {
                serde_json::json!({"kind": kind, "probability": 0.9, "detected": true, "reason": ""})
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "engine": "test",
            "language": {"code": "en", "name": "English", "confidence": 1.0, "source": "declared"},
            "sentiment": {"score": 0.0, "label": label, "confidence": 1.0, "lexicon_score": 0.0, "reason": ""},
            "intents": intents,
            "themes": [],
            "professional": null,
            "journalist": null,
            "personal_data": [],
            "priority": {"score": 0, "reasons": []}
        }))
        .unwrap()
    }

    fn post(id: u64, text: &str, at: Timestamp) -> Post {
        let author = Author {
            id: "a".into(),
            handle: "someone".into(),
            ..Author::default()
        };
        Post::new(Network::X, id.to_string(), author, text, at)
    }

    fn start() -> Timestamp {
        "2024-05-06T00:00:00Z".parse().unwrap()
    }

    /// A quiet day: one neutral post every two minutes, then `burst` posts within a few
    /// minutes at noon of the second day.
    fn run(engine: &mut Engine, burst: u64, text: &str) -> Vec<AlertUpdate> {
        let mut out = Vec::new();
        let mut id = 0;
        let neutral = analysis("neutral", &[]);
        for minute in 0..(36 * 60) {
            let at = start() + jiff::SignedDuration::from_mins(minute);
            if minute % 2 == 0 {
                id += 1;
                engine.observe(
                    at,
                    &post(id, "lovely weather at the clinic", at),
                    &neutral,
                    &mut out,
                );
            }
            if minute == 36 * 60 - 30 {
                for second in 0..burst {
                    id += 1;
                    let at = at + jiff::SignedDuration::from_secs(second as i64);
                    let negative = analysis("negative", &["complaint"]);
                    engine.observe(at, &post(id, text, at), &negative, &mut out);
                }
            }
        }
        out
    }

    #[test]
    fn a_burst_makes_one_spike_alert_that_updates() {
        let mut engine = Engine::new(AlertConfig::default(), &[]).unwrap();
        let out = run(&mut engine, 200, "the car park is full again");
        let opened: Vec<_> = out
            .iter()
            .filter(|u| u.kind == UpdateKind::Opened && u.alert.kind == AlertKind::VolumeSpike)
            .collect();
        assert_eq!(opened.len(), 1, "{out:#?}");
        let alert = engine
            .open_alerts()
            .find(|a| a.kind == AlertKind::VolumeSpike)
            .unwrap();
        assert!(alert.count > 100, "{}", alert.count);
        assert_eq!(alert.severity, Severity::Critical);
        assert!(alert.peak >= 150.0);
        let surges = out
            .iter()
            .filter(|u| u.kind == UpdateKind::Opened && u.alert.kind == AlertKind::NegativeSurge)
            .count();
        assert_eq!(surges, 1);
    }

    #[test]
    fn quiet_traffic_raises_nothing_and_alerts_resolve_after_the_cooldown() {
        let mut engine = Engine::new(AlertConfig::default(), &[]).unwrap();
        let out = run(&mut engine, 0, "");
        assert!(out.is_empty(), "{out:#?}");
        let mut engine = Engine::new(AlertConfig::default(), &[]).unwrap();
        let mut out = Vec::new();
        let at = start();
        let neutral = analysis("neutral", &[]);
        engine.observe(
            at,
            &post(1, "A DATA BREACH at the trust?", at),
            &neutral,
            &mut out,
        );
        engine.observe(
            at,
            &post(2, "another data breach story", at),
            &neutral,
            &mut out,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].alert.kind, AlertKind::WatchPhrase);
        assert_eq!(out[0].alert.detail, "data breach");
        engine.tick(at + jiff::SignedDuration::from_mins(30), &mut out);
        assert_eq!(out.len(), 1);
        engine.tick(at + jiff::SignedDuration::from_mins(61), &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].kind, UpdateKind::Resolved);
        assert_eq!(out[1].alert.count, 2);
        assert_eq!(engine.open_alerts().count(), 0);
    }

    #[test]
    fn monitors_spike_on_their_own_words_and_safety_posts_alert_at_once() {
        let monitors = [MonitorSpec {
            name: "norovirus".into(),
            query: "norovirus".into(),
        }];
        let mut engine = Engine::new(AlertConfig::default(), &monitors).unwrap();
        let out = run(&mut engine, 12, "norovirus on ward 5, visiting stopped");
        assert!(out.iter().any(|u| u.kind == UpdateKind::Opened
            && u.alert.kind == AlertKind::VolumeSpike
            && u.alert.scope == "norovirus"));
        let mut out = Vec::new();
        let at = start() + jiff::SignedDuration::from_hours(40);
        engine.observe(
            at,
            &post(9, "help", at),
            &analysis("negative", &["safety"]),
            &mut out,
        );
        assert!(out.iter().any(|u| u.kind == UpdateKind::Resolved));
        let opened: Vec<_> = out
            .iter()
            .filter(|u| u.kind == UpdateKind::Opened)
            .collect();
        assert_eq!(opened.len(), 1);
        assert_eq!(opened[0].alert.kind, AlertKind::HighPriorityPost);
        assert_eq!(opened[0].alert.severity, Severity::Critical);
    }

    #[test]
    fn monitors_set_while_running_are_matched_and_removed_ones_stop() {
        let spec = |name: &str, query: &str| MonitorSpec {
            name: name.into(),
            query: query.into(),
        };
        let mut engine =
            Engine::new(AlertConfig::default(), &[spec("parking", "parking")]).unwrap();
        engine
            .set_monitors(&[spec("norovirus", "norovirus")])
            .unwrap();
        assert_eq!(
            engine.scopes().collect::<Vec<_>>(),
            [
                AlertConfig::default().organisation_scope.as_str(),
                "norovirus"
            ]
        );
        assert!(engine.set_monitors(&[spec("bad", "(")]).is_err());
        assert_eq!(engine.scopes().count(), 2);
        let out = run(&mut engine, 200, "norovirus on ward 3");
        assert!(
            out.iter().any(|u| u.kind == UpdateKind::Opened
                && u.alert.kind == AlertKind::VolumeSpike
                && u.alert.scope == "norovirus"),
            "{out:#?}"
        );
        engine.set_monitors(&[spec("parking", "car park")]).unwrap();
        assert_eq!(engine.scopes().count(), 2);
    }
}
