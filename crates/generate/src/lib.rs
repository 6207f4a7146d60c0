//! Realistic, deterministic social media traffic about a fictional NHS trust, written in the
//! networks' own payload formats: X API v2 search pages, Mastodon tag-timeline pages and Bluesky
//! Jetstream events, one JSON document per line. A [`Generator`] is a pure iterator over output
//! lines: the same [`Config`] always gives byte-identical output. It follows a diurnal and weekly
//! rhythm, injects one to three [`Incident`]s (volume and negativity surge for a few hours), and
//! draws on a cast of the trust, its chief executive, peer trusts, the ICB, local press,
//! journalists, clinicians, staff, patients and the public. Every name and organisation is
//! fictional; NHS numbers come from the never-issued `999` test range, phone numbers from the
//! Ofcom drama ranges.

mod bluesky;
mod directory;
mod json;
mod mastodon;
mod people;
mod text;
mod x;

use std::collections::VecDeque;

use fastrand::Rng;
use jiff::Timestamp;

pub use directory::directory_csv;
pub use people::{Account, Role};
pub use text_api::{is_valid_nhs_number, nhs_numbers_in};

use people::Cast;
use text::{Ctx, SpanKind, Text};

/// The payload format written, one JSON document per line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OutputFormat {
    /// X API v2 search pages: `{"data":[..],"includes":{..},"meta":{..}}`, up to 100 tweets.
    #[default]
    X,
    /// Mastodon `/api/v1/timelines/tag/:tag` pages: a JSON array of up to 40 statuses.
    Mastodon,
    /// Bluesky Jetstream events, one event per line (posts, likes, reposts, follows, ...).
    Bluesky,
}

impl OutputFormat {
    /// Posts per output line (page size); Bluesky writes one event per line.
    pub const fn page_size(self) -> usize {
        match self {
            OutputFormat::X => 100,
            OutputFormat::Mastodon => 40,
            OutputFormat::Bluesky => 1,
        }
    }
}

/// A named account of an organisation or outlet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// Display name, e.g. "Northgate Gazette".
    pub name: String,
    /// Handle without `@`, e.g. "NorthgateGazette".
    pub handle: String,
}

impl Named {
    fn new(name: &str, handle: &str) -> Named {
        Named {
            name: name.to_string(),
            handle: handle.to_string(),
        }
    }
}

/// The organisation the traffic is about, with the places and people it is talked about with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// Full name, e.g. "Northgate Valley NHS Foundation Trust".
    pub name: String,
    /// How people say it, e.g. "Northgate Valley".
    pub short_name: String,
    /// The corporate handle without `@`.
    pub handle: String,
    /// The website, `https://...`, without a trailing slash.
    pub website: String,
    /// The chief executive and her handle.
    pub chief_executive: Named,
    /// Hospitals, as people name them.
    pub hospitals: Vec<String>,
    /// Wards and units.
    pub wards: Vec<String>,
    /// Towns served.
    pub towns: Vec<String>,
    /// Peer trusts and the ICB (for share of voice).
    pub peers: Vec<Named>,
    /// Local press outlets.
    pub press: Vec<Named>,
}

impl Default for Organisation {
    fn default() -> Self {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_string()).collect::<Vec<_>>();
        Organisation {
            name: "Northgate Valley NHS Foundation Trust".into(),
            short_name: "Northgate Valley".into(),
            handle: "NorthgateNHS".into(),
            website: "https://www.northgatevalley.nhs.uk".into(),
            chief_executive: Named::new("Dr Catherine Ellwood", "CathEllwoodCEO"),
            hospitals: s(&[
                "Northgate General",
                "Northgate General Hospital",
                "the Valley Royal",
                "Valley Royal Infirmary",
                "St Aldric's",
                "Kelmsford Community Hospital",
            ]),
            wards: s(&[
                "Beech Ward",
                "Rowan Ward",
                "Ward 14",
                "Larch Ward",
                "Willow Ward",
                "Maple Ward",
                "the Cedar Unit",
                "Ward 7",
                "the Heron Birth Centre",
                "Kingfisher children's ward",
                "ITU",
                "the discharge lounge",
                "AMU",
                "Ward 22",
                "the Alder Unit",
            ]),
            towns: s(&[
                "Northgate",
                "Kelmsford",
                "Ashworth Vale",
                "Marrowby",
                "Hollinbridge",
                "Stavewell",
                "Upper Denholm",
            ]),
            peers: vec![
                Named::new(
                    "Kelmsford and District Hospitals NHS Trust",
                    "KelmsfordHosp",
                ),
                Named::new(
                    "Ashworth Vale University Hospitals NHS Foundation Trust",
                    "AVUHnhs",
                ),
                Named::new("NHS Northgate and Kelmsford ICB", "NandK_ICB"),
            ],
            press: vec![
                Named::new("Northgate Gazette", "NorthgateGazette"),
                Named::new("Valley FM News", "ValleyFMNews"),
                Named::new("Kelmsford Echo", "KelmsfordEcho"),
            ],
        }
    }
}

/// What a post is, as ground truth (the intent an analyser should find).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Kind {
    /// A complaint: waits, cancellations, no call back, parking, rudeness, food, discharge.
    Complaint,
    /// Compliments and thanks.
    Compliment,
    /// Questions and requests for help.
    Question,
    /// Health misinformation and false claims.
    Misinformation,
    /// Safety and crisis: self-harm language, threats, safeguarding.
    Safety,
    /// Staff and clinicians talking among themselves.
    StaffDiscussion,
    /// News items from the press and journalists.
    News,
    /// The organisation's (or a peer's, or a leader's) own voice, including its replies.
    Organisation,
    /// Neutral chatter.
    #[default]
    Chatter,
}

impl Kind {
    /// Every kind, in declaration order.
    pub const ALL: [Kind; 9] = [
        Kind::Complaint,
        Kind::Compliment,
        Kind::Question,
        Kind::Misinformation,
        Kind::Safety,
        Kind::StaffDiscussion,
        Kind::News,
        Kind::Organisation,
        Kind::Chatter,
    ];

    /// Position in [`Kind::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// Relative weights of each kind among ordinary (non-incident, non-repost) posts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mix {
    /// Weights indexed by [`Kind::index`].
    pub weights: [f64; 9],
    /// Share of posts that are reposts (retweets, reblogs) on X and Mastodon.
    pub reposts: f64,
    /// Share of ordinary public posts written as replies to an earlier post.
    pub replies: f64,
}

impl Default for Mix {
    fn default() -> Self {
        Mix {
            // complaint, compliment, question, misinformation, safety, staff, news, organisation, chatter
            weights: [22.0, 15.0, 12.0, 3.0, 0.7, 12.0, 5.0, 7.0, 23.3],
            reposts: 0.12,
            replies: 0.15,
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Number of posts (tweets, statuses, Bluesky post records) to write.
    pub posts: u64,
    /// The payload format.
    pub format: OutputFormat,
    /// Random seed: the same config gives byte-identical output.
    pub seed: u64,
    /// Start of the period.
    pub start: Timestamp,
    /// Length of the period in days (posts are spread over `start .. start + days`).
    pub days: u32,
    /// The organisation talked about.
    pub organisation: Organisation,
    /// The mix of kinds.
    pub mix: Mix,
}

impl Config {
    /// A config with the default fortnight, organisation and mix.
    pub fn new(posts: u64, format: OutputFormat, seed: u64, start: Timestamp) -> Config {
        Config {
            posts,
            format,
            seed,
            start,
            days: 14,
            organisation: Organisation::default(),
            mix: Mix::default(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::new(
            10_000,
            OutputFormat::X,
            1,
            Timestamp::from_second(1_714_521_600).unwrap_or(Timestamp::UNIX_EPOCH),
        )
    }
}

/// The kind of an injected incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncidentKind {
    /// A cyber attack takes IT systems down; appointments cancelled.
    CyberAttack,
    /// A false rumour that A&E is closing spreads.
    AeClosureRumour,
    /// A norovirus outbreak closes wards.
    Norovirus,
    /// A power cut at a hospital.
    PowerCut,
}

impl IncidentKind {
    const ALL: [IncidentKind; 4] = [
        IncidentKind::CyberAttack,
        IncidentKind::AeClosureRumour,
        IncidentKind::Norovirus,
        IncidentKind::PowerCut,
    ];

    /// The keyword a monitor would watch for; it appears in most posts of the incident.
    pub const fn keyword(self) -> &'static str {
        match self {
            IncidentKind::CyberAttack => "cyber attack",
            IncidentKind::AeClosureRumour => "A&E closing",
            IncidentKind::Norovirus => "norovirus",
            IncidentKind::PowerCut => "power cut",
        }
    }
}

/// An injected incident, as ground truth for alert-detection tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// What happens.
    pub kind: IncidentKind,
    /// When the surge starts.
    pub start: Timestamp,
    /// When the surge has faded (volume back to normal).
    pub end: Timestamp,
    /// The monitor keyword (same as `kind.keyword()`).
    pub keyword: &'static str,
    /// Peak volume relative to normal at that time of day (e.g. 8.0 = nine times normal).
    pub peak: f64,
}

impl Incident {
    /// Excess intensity (multiple of the normal rate) at `ms`.
    fn excess(&self, ms: i64) -> f64 {
        let s = self.start.as_millisecond();
        let e = self.end.as_millisecond();
        if ms < s || ms >= e {
            return 0.0;
        }
        let t = (ms - s) as f64;
        let ramp = 15.0 * 60_000.0;
        let span = (e - s) as f64;
        if t < ramp {
            self.peak * t / ramp
        } else {
            self.peak * (-(t - ramp) / (span / 3.0)).exp()
        }
    }
}

/// Ground truth for one post written in the last line.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// The network's id of the post (tweet id, status id, or Bluesky `at://` URI).
    pub id: String,
    /// The intent.
    pub kind: Kind,
    /// Index into [`Generator::incidents`] when the post belongs to an incident.
    pub incident: Option<usize>,
    /// Whether the text contains an NHS number.
    pub nhs_number: bool,
    /// Language code (`en`, `cy`, `pl`, `ur`).
    pub lang: &'static str,
    /// Index into [`Generator::accounts`].
    pub author: usize,
    /// Whether it is a repost (retweet, reblog).
    pub repost: bool,
    /// Whether it replies to an earlier post.
    pub reply: bool,
}

/// One generated post, kept in a ring so replies and reposts can refer back.
#[derive(Debug, Clone, Default)]
pub(crate) struct Post {
    pub seq: u64,
    pub ms: i64,
    /// Network id: X snowflake, Mastodon id, or Bluesky time in microseconds.
    pub id: u64,
    pub author: usize,
    pub kind: Kind,
    pub text: Text,
    pub reply_to: Option<u64>,
    pub root: u64,
    pub root_id: u64,
    pub root_author: usize,
    pub repost_of: Option<u64>,
    pub metrics: [u32; 4],
    pub incident: Option<usize>,
    pub media: bool,
}

const RING: usize = 4096;
const X_EPOCH: i64 = 1_288_834_974_657;

/// Posts over time: minute bins weighted by time of day, day of week and incidents.
#[derive(Debug, Clone)]
struct Timeline {
    start_ms: i64,
    cum: Vec<f64>,
    bin: usize,
}

impl Timeline {
    fn new(start_ms: i64, days: u32, incidents: &[Incident]) -> Timeline {
        const HOURLY: [f64; 24] = [
            0.30, 0.18, 0.12, 0.09, 0.09, 0.14, 0.32, 0.62, 0.92, 1.0, 1.0, 1.02, 1.08, 1.02, 0.96,
            0.96, 1.0, 1.1, 1.2, 1.28, 1.25, 1.05, 0.8, 0.5,
        ];
        const DAILY: [f64; 7] = [1.12, 1.05, 1.0, 1.0, 0.95, 0.8, 0.82];
        let bins = (days.max(1) as usize) * 1440;
        let mut cum = Vec::with_capacity(bins + 1);
        let mut total = 0.0;
        cum.push(0.0);
        for b in 0..bins {
            let ms = start_ms + (b as i64) * 60_000 + 30_000;
            let hour = (ms.rem_euclid(86_400_000) / 3_600_000) as usize;
            let base = HOURLY.get(hour).copied().unwrap_or(1.0)
                * DAILY.get(json::weekday(ms)).copied().unwrap_or(1.0);
            let excess: f64 = incidents.iter().map(|i| i.excess(ms)).sum();
            total += base * (1.0 + excess);
            cum.push(total);
        }
        Timeline {
            start_ms,
            cum,
            bin: 0,
        }
    }

    /// The time of post `i` of `n`: non-decreasing in `i`.
    fn time(&mut self, rng: &mut Rng, i: u64, n: u64) -> i64 {
        let total = self.cum.last().copied().unwrap_or(0.0);
        let q = (i as f64 + rng.f64()) / (n.max(1) as f64) * total;
        while self.cum.get(self.bin + 1).is_some_and(|c| *c < q) && self.bin + 2 < self.cum.len() {
            self.bin += 1;
        }
        let lo = self.cum.get(self.bin).copied().unwrap_or(0.0);
        let hi = self.cum.get(self.bin + 1).copied().unwrap_or(lo);
        let frac = if hi > lo {
            ((q - lo) / (hi - lo)).clamp(0.0, 0.999_999)
        } else {
            0.0
        };
        self.start_ms + (self.bin as i64) * 60_000 + (frac * 60_000.0) as i64
    }
}

/// The generator: an iterator over output lines (no trailing newline).
#[derive(Debug)]
pub struct Generator {
    config: Config,
    rng: Rng,
    cast: Cast,
    incidents: Vec<Incident>,
    timeline: Timeline,
    ring: Vec<Post>,
    made: u64,
    last_ms: i64,
    seq_in_ms: u64,
    last_us: i64,
    /// Precomputed per-account JSON (X user objects or Mastodon account objects).
    account_json: Vec<String>,
    /// Page stamps for de-duplicating includes.
    stamp: Vec<u64>,
    page_no: u64,
    pending: VecDeque<String>,
    labels: Vec<Label>,
    counts: [u64; 9],
    nhs_numbers: u64,
}

impl Generator {
    /// Builds a generator; no output is produced until iterated.
    pub fn new(config: Config) -> Self {
        let mut rng = Rng::with_seed(config.seed);
        let start_ms = config.start.as_millisecond();
        let size = (config.posts / 8).clamp(400, 12_000) as usize;
        let cast = Cast::new(&mut rng, &config.organisation, start_ms, size);
        let incidents = Self::place_incidents(&mut rng, start_ms, config.days.max(1));
        let timeline = Timeline::new(start_ms, config.days, &incidents);
        let account_json = match config.format {
            OutputFormat::X => cast.accounts.iter().map(x::user_json).collect(),
            OutputFormat::Mastodon => cast.accounts.iter().map(mastodon::account_json).collect(),
            OutputFormat::Bluesky => Vec::new(),
        };
        let stamp = vec![u64::MAX; cast.accounts.len()];
        Generator {
            rng,
            cast,
            incidents,
            timeline,
            ring: vec![Post::default(); RING],
            made: 0,
            last_ms: i64::MIN,
            seq_in_ms: 0,
            last_us: 0,
            account_json,
            stamp,
            page_no: 0,
            pending: VecDeque::new(),
            labels: Vec::new(),
            counts: [0; 9],
            nhs_numbers: 0,
            config,
        }
    }

    fn place_incidents(rng: &mut Rng, start_ms: i64, days: u32) -> Vec<Incident> {
        let n = if days < 3 { 1 } else { rng.usize(1..=3) };
        let mut kinds = IncidentKind::ALL.to_vec();
        rng.shuffle(&mut kinds);
        let span = i64::from(days) * 86_400_000;
        let mut out: Vec<Incident> = Vec::new();
        for kind in kinds.into_iter().take(n) {
            for _ in 0..20 {
                let day = start_ms.div_euclid(86_400_000) * 86_400_000;
                let at = day
                    + (rng.i64(span / 12..span - span / 12)).div_euclid(86_400_000) * 86_400_000
                    + i64::from(rng.u32(7..20)) * 3_600_000
                    + i64::from(rng.u32(0..60)) * 60_000;
                let at = at.max(start_ms);
                let dur = i64::from(rng.u32(3..9)) * 3_600_000;
                if at + dur > start_ms + span {
                    continue;
                }
                if out
                    .iter()
                    .any(|o| (o.start.as_millisecond() - at).abs() < 24 * 3_600_000)
                {
                    continue;
                }
                let (Ok(start), Ok(end)) = (
                    Timestamp::from_millisecond(at),
                    Timestamp::from_millisecond(at + dur),
                ) else {
                    continue;
                };
                out.push(Incident {
                    kind,
                    start,
                    end,
                    keyword: kind.keyword(),
                    peak: 5.0 + rng.f64() * 7.0,
                });
                break;
            }
        }
        out.sort_by_key(|i| i.start);
        out
    }

    /// The injected incidents, in time order.
    pub fn incidents(&self) -> &[Incident] {
        &self.incidents
    }

    /// The cast of accounts; [`Label::author`] indexes it.
    pub fn accounts(&self) -> &[Account] {
        &self.cast.accounts
    }

    /// Ground truth for the posts written in the line last returned by `next()`.
    pub fn labels(&self) -> &[Label] {
        &self.labels
    }

    /// Posts of each kind so far, indexed by [`Kind::index`] (reposts count as their original's kind).
    pub fn kind_counts(&self) -> [u64; 9] {
        self.counts
    }

    /// Posts written so far.
    pub fn posts_written(&self) -> u64 {
        self.made
    }

    /// Posts so far whose text contains an NHS number.
    pub fn nhs_numbers_written(&self) -> u64 {
        self.nhs_numbers
    }

    fn post(&self, seq: u64) -> Option<&Post> {
        post_in(&self.ring, self.made, seq)
    }

    /// Generates the next post into the ring and returns its sequence number.
    fn make_post(&mut self) -> u64 {
        let seq = self.made;
        let ms = self.timeline.time(&mut self.rng, seq, self.config.posts);
        if ms == self.last_ms {
            self.seq_in_ms += 1;
        } else {
            self.seq_in_ms = 0;
            self.last_ms = ms;
        }
        let id = match self.config.format {
            OutputFormat::X => {
                (((ms - X_EPOCH).max(0) as u64) << 22) | (self.seq_in_ms & 0x3f_ffff)
            }
            OutputFormat::Mastodon => ((ms.max(0) as u64) << 16) | (self.seq_in_ms & 0xffff),
            OutputFormat::Bluesky => (ms.max(0) as u64) * 1000 + (self.seq_in_ms % 1000),
        };
        let made = self.made;
        let Generator {
            rng,
            cast,
            config,
            ring,
            incidents,
            ..
        } = self;
        let slot_index = (seq % RING as u64) as usize;
        let mut slot = ring
            .get_mut(slot_index)
            .map(std::mem::take)
            .unwrap_or_default();
        let ring: &[Post] = ring;
        slot.text.clear();
        slot.seq = seq;
        slot.ms = ms;
        slot.id = id;
        slot.reply_to = None;
        slot.root = seq;
        slot.root_id = id;
        slot.root_author = 0;
        slot.repost_of = None;
        slot.incident = None;
        slot.media = false;

        let ctx = Ctx {
            org: &config.organisation,
            cast,
            format: config.format,
        };

        // Incident share at this moment.
        let mut incident = None;
        let excess: f64 = incidents.iter().map(|i| i.excess(ms)).sum();
        if excess > 0.0 && rng.f64() < excess / (1.0 + excess) {
            let mut r = rng.f64() * excess;
            for (n, inc) in incidents.iter().enumerate() {
                r -= inc.excess(ms);
                if r < 0.0 {
                    incident = Some(n);
                    break;
                }
            }
        }

        let repost_ok = config.format != OutputFormat::Bluesky;
        if let Some(n) = incident {
            let kind_i = incidents
                .get(n)
                .map_or(IncidentKind::CyberAttack, |i| i.kind);
            slot.incident = Some(n);
            if repost_ok && rng.f64() < 0.2 {
                slot.repost_of = recent(rng, ring, made, cast.org, 60, &[]);
            }
            if slot.repost_of.is_none() {
                if rng.u8(..25) == 0 {
                    slot.author = cast.org;
                    slot.kind = Kind::Organisation;
                    ctx.fill(
                        rng,
                        &mut slot.text,
                        text::incident_statement(kind_i),
                        Some(kind_i),
                    );
                } else {
                    let table = text::incident_templates(kind_i);
                    let (tpl, kind) = table
                        .get(rng.usize(..table.len()))
                        .copied()
                        .unwrap_or(("{kw}", Kind::Chatter));
                    slot.kind = kind;
                    slot.author = author_for(rng, cast, kind);
                    let body = ctx.opener(rng, &mut slot.text, kind);
                    ctx.fill(rng, &mut slot.text, tpl, Some(kind_i));
                    Ctx::soften(&mut slot.text, body);
                    ctx.decorate(rng, &mut slot.text, kind);
                    ctx.vary(rng, &mut slot.text, kind);
                }
            }
        } else if repost_ok && rng.f64() < config.mix.reposts {
            slot.repost_of = recent(rng, ring, made, cast.org, 400, &[]);
        }

        if let Some(orig) = slot.repost_of {
            let (kind, orig_author) =
                post_in(ring, made, orig).map_or((Kind::Chatter, 0), |p| (p.kind, p.author));
            slot.kind = kind;
            let as_kind = if rng.bool() { Kind::Chatter } else { kind };
            let mut author = author_for(rng, cast, as_kind);
            if author == orig_author {
                author = zipf(rng, &cast.public);
            }
            slot.author = author;
        } else if slot.incident.is_none() {
            let kind = pick_kind(rng, &config.mix);
            let author = author_for(rng, cast, kind);
            slot.author = author;
            slot.kind = kind;
            let org_reply = author == cast.org && rng.f64() < 0.6;
            let parent = if org_reply {
                recent(
                    rng,
                    ring,
                    made,
                    cast.org,
                    300,
                    &[
                        Kind::Complaint,
                        Kind::Question,
                        Kind::Compliment,
                        Kind::Misinformation,
                    ],
                )
            } else if matches!(kind, Kind::Complaint | Kind::Compliment | Kind::Chatter)
                && rng.f64() < config.mix.replies
            {
                recent(rng, ring, made, cast.org, 300, &[])
            } else {
                None
            };
            let parent = parent.and_then(|s| post_in(ring, made, s));
            if let Some(parent) = parent {
                slot.reply_to = Some(parent.seq);
                slot.root = parent.root;
                slot.root_id = parent.root_id;
                slot.root_author = parent.root_author;
                if config.format != OutputFormat::Bluesky {
                    let start = slot.text.text.len();
                    slot.text.text.push('@');
                    if let Some(a) = cast.accounts.get(parent.author) {
                        slot.text.text.push_str(&a.username);
                    }
                    slot.text.spans.push(text::Span {
                        start,
                        end: slot.text.text.len(),
                        kind: SpanKind::Mention(parent.author),
                    });
                    slot.text.text.push(' ');
                }
                slot.kind = ctx.reply(rng, &mut slot.text, parent.kind, org_reply);
            } else if author == cast.ceo || cast.peers.contains(&author) {
                ctx.compose_voice(rng, &mut slot.text, author == cast.ceo);
            } else {
                ctx.compose(rng, &mut slot.text, kind);
            }
            slot.media = matches!(kind, Kind::Compliment | Kind::Organisation | Kind::News)
                && rng.u8(..8) == 0;
        }
        if slot.reply_to.is_none() {
            slot.root_author = slot.author;
        }

        // Engagement: skewed by the author's reach.
        let followers = cast.accounts.get(slot.author).map_or(10, |a| a.followers);
        let reach = f64::from(followers).sqrt() / 8.0 + 0.2;
        let boost = if slot.incident.is_some() { 3.0 } else { 1.0 };
        let mut draw = |scale: f64| -> u32 {
            let u = rng.f64();
            ((u * u * u * u) * scale * reach * boost) as u32
        };
        slot.metrics = [draw(30.0), draw(8.0), draw(120.0), draw(3.0)];
        if slot.text.nhs_number {
            self.nhs_numbers += 1;
        }
        if let Some(c) = self.counts.get_mut(slot.kind.index()) {
            *c += 1;
        }
        if let Some(dst) = self.ring.get_mut(slot_index) {
            *dst = slot;
        }
        self.made += 1;
        seq
    }

    fn label(&self, seq: u64, id: String) -> Option<Label> {
        let p = self.post(seq)?;
        let base = p.repost_of.and_then(|o| self.post(o)).unwrap_or(p);
        Some(Label {
            id,
            kind: p.kind,
            incident: p.incident,
            nhs_number: base.text.nhs_number,
            lang: base.text.lang,
            author: p.author,
            repost: p.repost_of.is_some(),
            reply: p.reply_to.is_some(),
        })
    }
}

impl Iterator for Generator {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        self.labels.clear();
        if let Some(line) = self.pending.pop_front() {
            return Some(line);
        }
        if self.made >= self.config.posts {
            return None;
        }
        self.page_no += 1;
        match self.config.format {
            OutputFormat::X => Some(x::page(self)),
            OutputFormat::Mastodon => Some(mastodon::page(self)),
            OutputFormat::Bluesky => Some(bluesky::next_line(self)),
        }
    }
}

fn post_in(ring: &[Post], made: u64, seq: u64) -> Option<&Post> {
    ring.get((seq % RING as u64) as usize)
        .filter(|p| p.seq == seq && seq < made)
}

fn zipf(rng: &mut Rng, list: &[usize]) -> usize {
    let u = rng.f64();
    let i = ((u * u * u) * list.len() as f64) as usize;
    list.get(i.min(list.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0)
}

fn author_for(rng: &mut Rng, c: &Cast, kind: Kind) -> usize {
    let r = rng.u8(..100);
    match kind {
        Kind::Misinformation if r < 70 => zipf(rng, &c.campaigners),
        Kind::StaffDiscussion if r < 80 => zipf(rng, &c.clinicians),
        Kind::StaffDiscussion => zipf(rng, &c.staff),
        Kind::News if r < 50 => zipf(rng, &c.press),
        Kind::News if r < 90 => zipf(rng, &c.journalists),
        Kind::News => zipf(rng, &c.peers),
        Kind::Organisation if r < 65 => c.org,
        Kind::Organisation if r < 85 => c.ceo,
        Kind::Organisation => zipf(rng, &c.peers),
        Kind::Chatter if r < 12 => zipf(rng, &c.clinicians),
        Kind::Compliment | Kind::Chatter if r < 17 => zipf(rng, &c.staff),
        _ => zipf(rng, &c.public),
    }
}

fn pick_kind(rng: &mut Rng, mix: &Mix) -> Kind {
    let total: f64 = mix.weights.iter().map(|x| x.max(0.0)).sum();
    let mut r = rng.f64() * total;
    for (k, x) in Kind::ALL.iter().zip(&mix.weights) {
        r -= x.max(0.0);
        if r < 0.0 {
            return *k;
        }
    }
    Kind::Chatter
}

/// A recent post (not a repost, not the organisation's), at most `back` posts ago, of `want` kinds.
fn recent(
    rng: &mut Rng,
    ring: &[Post],
    made: u64,
    org: usize,
    back: u64,
    want: &[Kind],
) -> Option<u64> {
    if made == 0 {
        return None;
    }
    for _ in 0..12 {
        let d = rng.u64(1..=back.min(made));
        let seq = made - d;
        if let Some(p) = post_in(ring, made, seq)
            && p.repost_of.is_none()
            && (want.is_empty() || want.contains(&p.kind))
            && p.author != org
        {
            return Some(seq);
        }
    }
    None
}

mod text_api {
    /// Whether a ten-digit string is a valid NHS number (Modulus 11).
    pub fn is_valid_nhs_number(digits: &str) -> bool {
        let d: Vec<u64> = digits
            .bytes()
            .filter(u8::is_ascii_digit)
            .map(|b| u64::from(b - b'0'))
            .collect();
        if d.len() != 10 {
            return false;
        }
        let body = d.iter().take(9).fold(0, |acc, x| acc * 10 + x);
        crate::text::modulus11_check(body).is_some_and(|c| Some(&c) == d.get(9))
    }

    /// Every NHS-number-shaped run (ten digits, optionally spaced 3-3-4) in `text`.
    pub fn nhs_numbers_in(text: &str) -> Vec<String> {
        let b = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let digit = |j: usize| b.get(j).is_some_and(u8::is_ascii_digit);
            if digit(i) && (i == 0 || !digit(i - 1)) {
                let mut j = i;
                let mut s = String::new();
                while j < b.len()
                    && (digit(j)
                        || (b.get(j) == Some(&b' ')
                            && digit(j + 1)
                            && (s.len() == 3 || s.len() == 6)))
                {
                    if let Some(c) = b.get(j).filter(|c| c.is_ascii_digit()) {
                        s.push(char::from(*c));
                    }
                    j += 1;
                }
                if s.len() == 10 {
                    out.push(s);
                }
                i = j.max(i + 1);
            } else {
                i += 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
