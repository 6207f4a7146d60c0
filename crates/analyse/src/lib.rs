//! The analysis engine of Switchboard: what a post is, and how urgently a human should see it.
//!
//! [`Analyser::analyse`] turns a [`model::Post`] into a [`model::analysis::Analysis`] with no
//! database and no runtime: language, sentiment (a VADER-style lexicon with healthcare words,
//! combined with a trained linear model), intents (complaint, compliment, question,
//! misinformation, safety, other), patient-experience themes, whether the author is a healthcare
//! professional or a journalist, personal data with byte spans, and a priority from 0 to 100.
//! Every label carries its reason. The trained models are embedded in the binary
//! (`models/*.bin`, written by `switchboard train`, see [`train`]).

pub mod author;
pub mod datasets;
pub mod eval;
pub mod features;
pub mod lang;
pub mod lexicon;
pub mod linear;
pub mod normalise;
pub mod people;
pub mod pii;
pub mod rules;
pub mod train;

use std::path::Path;

use model::analysis::{
    Analysis, AuthorFinding, AuthorKind, AuthorKindSource, Intent, IntentKind, PersonalDataKind,
    Priority, Sentiment, SentimentLabel, Theme,
};
use model::directory::Directory;
use model::{Author, Post};

use crate::features::{Features, FxHashMap, add_dense, extract_with};
use crate::lexicon::{Lexicon, LexiconScore};
use crate::linear::{FUSED, Fused, FusedSums, LinearModel};
use crate::normalise::{Normalised, Normaliser, Segmenter, TokenKind};

/// What can go wrong when loading the engine or its data.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A model file is missing or malformed.
    #[error("model: {0}")]
    Model(String),
    /// Embedded data (lexicon, patterns) could not be built.
    #[error("data: {0}")]
    Data(String),
    /// A data set could not be read.
    #[error("{path}: {message}")]
    Dataset {
        /// The file.
        path: String,
        /// What went wrong and what to do.
        message: String,
    },
}

/// The file names of the models, in `models/`.
pub const MODEL_FILES: [&str; 7] = [
    "sentiment.bin",
    "complaint.bin",
    "misinformation.bin",
    "themes.bin",
    "compliment.bin",
    "irony.bin",
    "complaint_feedback.bin",
];

const EMBEDDED: [&[u8]; 7] = [
    include_bytes!("../models/sentiment.bin"),
    include_bytes!("../models/complaint.bin"),
    include_bytes!("../models/misinformation.bin"),
    include_bytes!("../models/themes.bin"),
    include_bytes!("../models/compliment.bin"),
    include_bytes!("../models/irony.bin"),
    include_bytes!("../models/complaint_feedback.bin"),
];

/// Sentiment classes of the sentiment model, in order.
pub const SENTIMENT_CLASSES: [&str; 3] = ["negative", "neutral", "positive"];

/// Health-claim topics: the misinformation model (trained on COVID-era claims) is only trusted
/// on posts that mention one.
const HEALTH_TOPIC: &[&str] = &[
    "covid",
    "covid19",
    "coronavirus",
    "virus",
    "vaccine",
    "vaccines",
    "vaccinated",
    "vax",
    "jab",
    "jabs",
    "booster",
    "mask",
    "masks",
    "pandemic",
    "cure",
    "cures",
    "5g",
    "immunity",
    "ivermectin",
    "hydroxychloroquine",
    "bleach",
    "microchip",
    "microchips",
    "autism",
    "pharma",
    "lockdown",
    "measles",
    "outbreak",
    "infection",
    "infections",
    "plandemic",
    "antivax",
];

fn is_health_topic(word: &str) -> bool {
    let bytes = word.as_bytes();
    let Some(first) = bytes.first() else {
        return false;
    };
    let shape = HEALTH_TOPIC_SHAPES.get(usize::from(*first)).copied();
    (2..=18).contains(&bytes.len())
        && shape.unwrap_or(0) & (1 << bytes.len()) != 0
        && HEALTH_TOPIC.contains(&word)
}

/// For each first byte, a bit per length of the [`HEALTH_TOPIC`] words that start with it:
/// most words are ruled out by one look-up before any string comparison.
const HEALTH_TOPIC_SHAPES: [u32; 256] = {
    let mut shapes = [0u32; 256];
    let mut i = 0;
    while i < HEALTH_TOPIC.len() {
        let word = HEALTH_TOPIC[i].as_bytes();
        shapes[word[0] as usize] |= 1 << word.len();
        i += 1;
    }
    shapes
};

/// Normalisation, lexicon and feature extraction: the part shared by analysis and training.
#[derive(Debug)]
pub struct Pipeline {
    normaliser: Normaliser,
    lexicon: Lexicon,
}

/// A text prepared for the models.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The normalised tokens.
    pub norm: Normalised,
    /// The lexicon score.
    pub lexicon: LexiconScore,
    /// The hashed features, with the lexicon scores as dense features.
    pub features: Features,
    /// The sentiment model's probabilities, once computed by [`Analyser::prepare`].
    pub sentiment_probs: Vec<f32>,
    /// The sparse sums of every model in one pass, when the models can be fused.
    pub sums: Option<FusedSums>,
}

impl Pipeline {
    /// Builds the normaliser and the lexicon.
    pub fn new() -> Result<Self, Error> {
        let lexicon = Lexicon::new()?;
        let normaliser = Normaliser::new(lexicon.emoticons(), Segmenter::new(lexicon.words()));
        Ok(Pipeline {
            normaliser,
            lexicon,
        })
    }

    /// [`Pipeline::new`] whose lexicon also lists where the phrases with these first words
    /// can start ([`lexicon::Lexicon::watch`]).
    pub fn watching<'a>(first_words: impl IntoIterator<Item = &'a str>) -> Result<Self, Error> {
        let mut pipeline = Self::new()?;
        pipeline.lexicon.watch(first_words);
        Ok(pipeline)
    }

    /// Normalises, scores and extracts features.
    pub fn prepare(&self, text: &str) -> Prepared {
        self.prepare_with(text, true)
    }

    /// [`Pipeline::prepare`], with the character n-grams in the features or without them.
    fn prepare_with(&self, text: &str, with_chars: bool) -> Prepared {
        let norm = self.normaliser.normalise(text);
        let lexicon = self.lexicon.score(&norm);
        let mut features = extract_with(&norm, with_chars);
        add_dense(&mut features, "lex_compound", lexicon.compound * 2.0);
        add_dense(&mut features, "lex_pos", lexicon.pos * 2.0);
        add_dense(&mut features, "lex_neg", lexicon.neg * 2.0);
        add_dense(
            &mut features,
            "lex_complaint",
            (lexicon.complaint_terms.len() as f32).min(3.0),
        );
        add_dense(&mut features, "bias", 1.0);
        Prepared {
            norm,
            lexicon,
            features,
            sentiment_probs: Vec::new(),
            sums: None,
        }
    }
}

/// Where a text was written, which decides the complaint model that reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// A social network post (X, Mastodon, Bluesky, Facebook, news): the tweets model.
    Social,
    /// A patient feedback comment (Friends and Family Test, Care Opinion): the model trained on
    /// the phase-1 pxtextmining comments.
    Feedback,
}

/// The decision threshold of a one-class model (tuned at training).
pub fn threshold(model: &LinearModel) -> f32 {
    model.thresholds.first().copied().unwrap_or(0.5)
}

/// Dense features from the sentiment model's probabilities, stacked into the complaint and
/// themes models (trained on other data, so no leakage).
pub fn stacked(sentiment: &LinearModel, prep: &Prepared) -> Vec<(u64, f32)> {
    stacked_pair(sentiment, prep).to_vec()
}

/// [`stacked`], without a vector.
fn stacked_pair(sentiment: &LinearModel, prep: &Prepared) -> [(u64, f32); 2] {
    let computed;
    let p = if prep.sentiment_probs.is_empty() {
        computed = sentiment.predict(&prep.features);
        &computed
    } else {
        &prep.sentiment_probs
    };
    [
        (
            features::hash(20, b"sent_neg"),
            2.0 * p.first().copied().unwrap_or(0.0),
        ),
        (
            features::hash(20, b"sent_pos"),
            2.0 * p.get(2).copied().unwrap_or(0.0),
        ),
    ]
}

/// Dense values stacked onto the complaint model: the sentiment probabilities of [`stacked`]
/// and the cues of [`features::complaint_cues`].
pub fn complaint_stacked(sentiment: &LinearModel, prep: &Prepared) -> Vec<(u64, f32)> {
    let mut extra = stacked(sentiment, prep);
    extra.extend(features::complaint_cues(&prep.norm));
    extra
}

/// The trained models.
#[derive(Debug, Clone)]
pub struct Models {
    /// Three-class sentiment (negative, neutral, positive).
    pub sentiment: LinearModel,
    /// Complaint or not (one sigmoid).
    pub complaint: LinearModel,
    /// COVID-era health misinformation (fake) or not (one sigmoid).
    pub misinformation: LinearModel,
    /// Patient-experience themes (one sigmoid per theme, thresholds tuned).
    pub themes: LinearModel,
    /// Compliment or not (one sigmoid; patient feedback with a positive criticality).
    pub compliment: LinearModel,
    /// Irony or not (one sigmoid; TweetEval irony).
    pub irony: LinearModel,
    /// Complaint or not in patient feedback comments (one sigmoid; phase-1 pxtextmining
    /// comments with a negative criticality).
    pub complaint_feedback: LinearModel,
    /// A short fingerprint of the model bytes, for the audit trail.
    pub fingerprint: String,
    /// The models side by side (same bucket count), for one sparse pass.
    pub fused: Option<Fused>,
}

/// The place of each model in [`Models::fused`].
const SENTIMENT: usize = 0;
const COMPLAINT: usize = 1;
const MISINFORMATION: usize = 2;
const THEMES: usize = 3;
const COMPLIMENT: usize = 4;
const IRONY: usize = 5;
const COMPLAINT_FEEDBACK: usize = 6;

impl Models {
    fn from_parts(parts: [&[u8]; 7]) -> Result<Self, Error> {
        let mut fp = 0xcbf2_9ce4_8422_2325u64;
        for p in parts {
            if p.is_empty() {
                return Err(Error::Model(
                    "a model file is empty: run `switchboard train` first".into(),
                ));
            }
            fp ^= features::hash(0, p);
        }
        let [s, c, m, t, p, i, f] = parts;
        let sentiment = LinearModel::from_bytes(s)?;
        let complaint = LinearModel::from_bytes(c)?;
        let misinformation = LinearModel::from_bytes(m)?;
        let themes = LinearModel::from_bytes(t)?;
        let compliment = LinearModel::from_bytes(p)?;
        let irony = LinearModel::from_bytes(i)?;
        let complaint_feedback = LinearModel::from_bytes(f)?;
        let fused = Fused::new(&[
            &sentiment,
            &complaint,
            &misinformation,
            &themes,
            &compliment,
            &irony,
            &complaint_feedback,
        ]);
        Ok(Models {
            sentiment,
            complaint,
            misinformation,
            themes,
            compliment,
            irony,
            complaint_feedback,
            fingerprint: format!("{:08x}", fp >> 32),
            fused,
        })
    }

    /// The models embedded in this build.
    pub fn embedded() -> Result<Self, Error> {
        Self::from_parts(EMBEDDED)
    }

    /// Models read from a directory holding the files of [`MODEL_FILES`].
    pub fn from_dir(dir: &Path) -> Result<Self, Error> {
        let mut bytes = Vec::new();
        for name in MODEL_FILES {
            let path = dir.join(name);
            bytes.push(std::fs::read(&path).map_err(|e| {
                Error::Model(format!("{}: {e}; run `switchboard train`", path.display()))
            })?);
        }
        match bytes.as_slice() {
            [a, b, c, d, e, f, g] => Self::from_parts([a, b, c, d, e, f, g]),
            _ => Err(Error::Model(format!(
                "{} model files expected",
                MODEL_FILES.len()
            ))),
        }
    }
}

/// Words whose character n-gram sums a thread keeps (about 200 bytes each).
const CHAR_CACHE_WORDS: usize = 1 << 15;

/// Identifies an [`Analyser`] (so a thread's cache never mixes two engines' models).
static NEXT_ANALYSER_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

thread_local! {
    static CHAR_SUMS: std::cell::RefCell<CharSumCache> =
        std::cell::RefCell::new(CharSumCache::default());
}

/// One thread's cache: for each word, how many character n-grams it has and the sums of their
/// fused rows (each fits 16 bits: a word has at most 87 n-grams of weights within ±127).
#[derive(Default)]
struct CharSumCache {
    owner: u64,
    words: FxHashMap<Box<[u8]>, (u32, [i16; FUSED])>,
    scratch: Vec<u64>,
}

impl CharSumCache {
    /// The character n-gram sums of every word token of `norm`, and how many n-grams they are.
    fn sums(&mut self, owner: u64, fused: &Fused, norm: &Normalised) -> ([i32; FUSED], usize) {
        if self.owner != owner {
            self.words.clear();
            self.owner = owner;
        }
        let mut acc = [0i32; FUSED];
        // Cached rows are added in 16-bit lanes, two at a time, then into `acc`: each row lies
        // within ±`CACHED_ROW_LIMIT`, so two never overflow a lane.
        let mut lanes = [0i16; FUSED];
        let mut in_lanes = false;
        let mut count = 0usize;
        for word in features::char_ngram_words(norm) {
            let word = word.as_bytes();
            if let Some((n, row)) = self.words.get(word) {
                for (l, x) in lanes.iter_mut().zip(row) {
                    *l = l.wrapping_add(*x);
                }
                if in_lanes {
                    spill_lanes(&mut lanes, &mut acc);
                }
                in_lanes = !in_lanes;
                count += *n as usize;
                continue;
            }
            self.scratch.clear();
            features::char_ngrams(word, &mut self.scratch);
            let sums = fused.row_sums(&self.scratch);
            for (a, x) in acc.iter_mut().zip(&sums) {
                *a += x;
            }
            count += self.scratch.len();
            if self.words.len() < CHAR_CACHE_WORDS {
                let mut row = [0i16; FUSED];
                let fits = row.iter_mut().zip(&sums).all(|(r, x)| {
                    x.abs() <= CACHED_ROW_LIMIT && i16::try_from(*x).map(|v| *r = v).is_ok()
                });
                if fits {
                    self.words
                        .insert(word.into(), (self.scratch.len() as u32, row));
                }
            }
        }
        spill_lanes(&mut lanes, &mut acc);
        (acc, count)
    }
}

/// The largest magnitude of a cached row sum: two of them fit a 16-bit lane (a word's sums
/// are at most 87 × 128 in magnitude, so every word's row is cached).
const CACHED_ROW_LIMIT: i32 = 16_383;

/// Adds 16-bit lanes into `acc` and clears them.
fn spill_lanes(lanes: &mut [i16; FUSED], acc: &mut [i32; FUSED]) {
    for (a, l) in acc.iter_mut().zip(lanes.iter_mut()) {
        *a += i32::from(*l);
        *l = 0;
    }
}

/// The analysis engine. Build once, share across threads (`&self` only).
#[derive(Debug)]
pub struct Analyser {
    id: u64,
    pipeline: Pipeline,
    models: Models,
    languages: lang::LanguageDetector,
    pii: pii::PiiFinder,
    people: people::People,
    authors: author::Authors,
    rules: rules::Rules,
    engine: String,
    /// Per theme, a raw score below which its sigmoid cannot reach its threshold.
    theme_floors: Vec<f32>,
    /// Per theme, its [`theme_id`].
    theme_ids: Vec<String>,
}

/// A theme's readable name from a pxtextmining column name.
pub fn readable_theme(column: &str) -> String {
    column.trim().replace(" & ", " and ").replace('&', " and ")
}

/// A stable identifier for a theme name (`Timeliness of care` → `timeliness_of_care`).
pub fn theme_id(label: &str) -> String {
    let mut id = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.ends_with('_') && !id.is_empty() {
            id.push('_');
        }
    }
    id.trim_end_matches('_').to_owned()
}

impl Analyser {
    /// The engine with the models embedded in this build.
    pub fn new() -> Result<Self, Error> {
        Self::with_models(Models::embedded()?)
    }

    /// The engine with the given models.
    pub fn with_models(models: Models) -> Result<Self, Error> {
        let rules = rules::Rules::new()?;
        Ok(Analyser {
            id: NEXT_ANALYSER_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            pipeline: Pipeline::watching(rules.first_words())?,
            engine: format!(
                "analyse {} models {}",
                env!("CARGO_PKG_VERSION"),
                models.fingerprint
            ),
            theme_floors: models
                .themes
                .thresholds
                .iter()
                .map(|t| {
                    let t = f64::from(*t);
                    if t > 0.0 && t < 1.0 {
                        ((t / (1.0 - t)).ln() - 1e-3) as f32
                    } else {
                        f32::NEG_INFINITY
                    }
                })
                .collect(),
            theme_ids: models.themes.classes.iter().map(|c| theme_id(c)).collect(),
            models,
            languages: lang::LanguageDetector::new(),
            pii: pii::PiiFinder::new()?,
            people: people::People::new()?,
            authors: author::Authors::new()?,
            rules,
        })
    }

    /// The engine and model version written into every analysis (`Analysis::engine`).
    pub fn engine(&self) -> &str {
        &self.engine
    }

    /// The models in use.
    pub fn models(&self) -> &Models {
        &self.models
    }

    /// The shared normalisation and feature pipeline.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Analyses free text, as a post with no author and no declared language.
    pub fn analyse_text(&self, text: &str) -> Analysis {
        self.analyse_parts(text, text, &Author::default(), None, None)
    }

    /// Normalises, scores and extracts features, and runs the sentiment model once for the
    /// models stacked on it.
    pub fn prepare(&self, text: &str) -> Prepared {
        let mut prep = self.pipeline.prepare(text);
        prep.sums = self.models.fused.as_ref().map(|f| f.sums(&prep.features));
        prep.sentiment_probs = self.predict(SENTIMENT, &prep, &[]);
        prep
    }

    /// [`Analyser::prepare`] for the analysis of a post: when the models are fused, the
    /// character n-grams are not listed in the features but summed word by word, through a
    /// per-thread cache of each word's sums (exact integers, so the scores are the same).
    fn prepare_for_analysis(&self, text: &str) -> Prepared {
        let Some(fused) = &self.models.fused else {
            return self.prepare(text);
        };
        let mut prep = self.pipeline.prepare_with(text, false);
        let words = fused.row_sums(&prep.features.words);
        let (chars, char_count) = CHAR_SUMS.with(|cell| {
            let mut cache = cell.borrow_mut();
            cache.sums(self.id, fused, &prep.norm)
        });
        prep.sums = Some(FusedSums::from_parts(
            words,
            prep.features.words.len(),
            &chars,
            char_count,
        ));
        prep.sentiment_probs = self.predict(SENTIMENT, &prep, &[]);
        prep
    }

    fn model(&self, which: usize) -> &LinearModel {
        match which {
            SENTIMENT => &self.models.sentiment,
            COMPLAINT => &self.models.complaint,
            MISINFORMATION => &self.models.misinformation,
            COMPLIMENT => &self.models.compliment,
            IRONY => &self.models.irony,
            COMPLAINT_FEEDBACK => &self.models.complaint_feedback,
            _ => &self.models.themes,
        }
    }

    /// One model's probabilities, from the fused sums when there are some.
    fn predict(&self, which: usize, prep: &Prepared, extra: &[(u64, f32)]) -> Vec<f32> {
        let model = self.model(which);
        match (&self.models.fused, &prep.sums) {
            (Some(fused), Some(sums)) => {
                let (acc, sparse) = sums.of(fused, which, model);
                model.predict_from_sums(acc, sparse, &prep.features, extra)
            }
            _ => model.predict_with(&prep.features, extra),
        }
    }

    /// The sentiment of prepared text: combined score, label, label probability.
    pub fn sentiment(&self, prep: &Prepared) -> Sentiment {
        let computed;
        let probs = if prep.sentiment_probs.is_empty() {
            computed = self.models.sentiment.predict(&prep.features);
            &computed
        } else {
            &prep.sentiment_probs
        };
        let p = |i: usize| probs.get(i).copied().unwrap_or(0.0);
        let (best, conf) =
            probs.iter().enumerate().fold(
                (1, 0.0f32),
                |acc, (i, v)| if *v > acc.1 { (i, *v) } else { acc },
            );
        let label = match best {
            0 => SentimentLabel::Negative,
            2 => SentimentLabel::Positive,
            _ => SentimentLabel::Neutral,
        };
        let model_score = p(2) - p(0);
        let score = (0.5 * prep.lexicon.compound + 0.5 * model_score).clamp(-1.0, 1.0);
        let mut reason = String::with_capacity(112);
        reason.push_str("model ");
        reason.push_str(label.as_str());
        reason.push_str(" p=");
        push_fixed(&mut reason, conf, 2, false);
        reason.push_str("; lexicon ");
        push_fixed(&mut reason, prep.lexicon.compound, 2, true);
        for (i, (w, v)) in prep.lexicon.evidence.iter().take(4).enumerate() {
            reason.push_str(if i == 0 { ": " } else { ", " });
            reason.push_str(w);
            reason.push_str(" (");
            push_fixed(&mut reason, *v, 1, true);
            reason.push(')');
        }
        Sentiment {
            score,
            label,
            confidence: conf,
            lexicon_score: prep.lexicon.compound,
            reason,
        }
    }

    /// The probability that prepared text is a complaint, from the social-post model alone.
    pub fn complaint_probability(&self, prep: &Prepared) -> f32 {
        self.complaint_probability_in(prep, Domain::Social)
    }

    /// The probability that prepared text is a complaint, from the model of its domain alone.
    pub fn complaint_probability_in(&self, prep: &Prepared, domain: Domain) -> f32 {
        let extra = complaint_stacked(&self.models.sentiment, prep);
        let which = match domain {
            Domain::Social => COMPLAINT,
            Domain::Feedback => COMPLAINT_FEEDBACK,
        };
        self.predict(which, prep, &extra)
            .first()
            .copied()
            .unwrap_or(0.0)
    }

    /// The complaint model of a domain.
    pub fn complaint_model(&self, domain: Domain) -> &LinearModel {
        match domain {
            Domain::Social => &self.models.complaint,
            Domain::Feedback => &self.models.complaint_feedback,
        }
    }

    /// [`Analyser::complaint_in`] for a social post.
    pub fn complaint(&self, prep: &Prepared, explain_from: f32) -> (f32, String) {
        self.complaint_in(prep, explain_from, Domain::Social)
    }

    /// The complaint probability of the engine (the model of the domain, raised by healthcare
    /// complaint words and phrases of the lexicon), with its reason. The words that raised the
    /// model are only looked up when `pc` reaches `explain_from`.
    pub fn complaint_in(
        &self,
        prep: &Prepared,
        explain_from: f32,
        domain: Domain,
    ) -> (f32, String) {
        let pc = self.complaint_probability_in(prep, domain);
        let terms = &prep.lexicon.complaint_terms;
        let prefix = match domain {
            Domain::Social => "complaint model p=",
            Domain::Feedback => "feedback complaint model p=",
        };
        if terms.is_empty() {
            if pc < explain_from {
                return (pc, model_p(prefix, pc));
            }
            let mut reason = model_p(prefix, pc);
            self.push_top_words(
                &mut reason,
                self.complaint_model(domain),
                0,
                &hashed_words(&prep.norm),
            );
            (pc, reason)
        } else {
            let rule = (0.6 + 0.1 * terms.len() as f32).min(0.95);
            let quoted: Vec<String> = terms.iter().take(3).map(|t| format!("\"{t}\"")).collect();
            let mut reason = model_p(prefix, pc);
            reason.push_str("; healthcare complaint words ");
            reason.push_str(&quoted.join(", "));
            (pc.max(rule), reason)
        }
    }

    /// The probability that prepared text is a compliment, from the model alone.
    pub fn compliment_probability(&self, prep: &Prepared) -> f32 {
        let extra = stacked_pair(&self.models.sentiment, prep);
        self.predict(COMPLIMENT, prep, &extra)
            .first()
            .copied()
            .unwrap_or(0.0)
    }

    /// The probability that prepared text is ironic, from the model alone.
    pub fn irony_probability(&self, prep: &Prepared) -> f32 {
        let extra = stacked_pair(&self.models.sentiment, prep);
        self.predict(IRONY, prep, &extra)
            .first()
            .copied()
            .unwrap_or(0.0)
    }

    /// The probability that prepared text is misinformation, from the model alone.
    pub fn misinformation_probability(&self, prep: &Prepared) -> f32 {
        self.predict(MISINFORMATION, prep, &[])
            .first()
            .copied()
            .unwrap_or(0.0)
    }

    /// The themes whose probability reaches their threshold, with it, in class order. With fused
    /// sums and sigmoid themes, a theme whose raw score lies below `theme_floors` (the logit of
    /// its threshold less 0.001) cannot reach it, so its sigmoid is not computed.
    fn themes_reaching_threshold(&self, prep: &Prepared) -> Vec<(usize, f32)> {
        let model = &self.models.themes;
        let threshold = |k: usize| model.thresholds.get(k).copied().unwrap_or(0.5);
        if let (Some(fused), Some(sums), linear::Kind::MultiLabel) =
            (&self.models.fused, &prep.sums, model.kind)
        {
            let extra = stacked_pair(&self.models.sentiment, prep);
            let (acc, sparse) = sums.of(fused, THEMES, model);
            let z = model.raw_from_sums(acc, sparse, &prep.features, &extra);
            return z
                .iter()
                .enumerate()
                .filter_map(|(k, zk)| {
                    let floor = self.theme_floors.get(k).copied();
                    if *zk < floor.unwrap_or(f32::NEG_INFINITY) {
                        return None;
                    }
                    let p = linear::sigmoid(*zk);
                    (p >= threshold(k)).then_some((k, p))
                })
                .collect();
        }
        self.theme_probabilities(prep)
            .into_iter()
            .enumerate()
            .filter(|(k, p)| *p >= threshold(*k))
            .collect()
    }

    /// Theme probabilities (one per theme of the themes model, in its class order).
    pub fn theme_probabilities(&self, prep: &Prepared) -> Vec<f32> {
        let extra = stacked_pair(&self.models.sentiment, prep);
        self.predict(THEMES, prep, &extra)
    }

    /// Appends the (up to three) words of `words` ([`hashed_words`], hashed once per post)
    /// that raise `class` of `model` most, as `; words "a", "b"`.
    fn push_top_words(
        &self,
        out: &mut String,
        model: &LinearModel,
        class: usize,
        words: &[(u64, &str)],
    ) {
        let mut scored: Vec<(f32, &str)> = Vec::with_capacity(words.len());
        scored.extend(
            words
                .iter()
                .map(|(h, text)| (model.weight(*h, class), *text))
                .filter(|(w, _)| *w > 0.0),
        );
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored.dedup_by(|a, b| a.1 == b.1);
        for (i, (_, w)) in scored.iter().take(3).enumerate() {
            out.push_str(if i == 0 { "; words \"" } else { ", \"" });
            out.push_str(w);
            out.push('"');
        }
    }

    /// Irony in a complaint about care. Called for a post that sounds positive yet has negative
    /// words, names a health service (hospital, ward, scan, GP...), and that either complaint
    /// model reads as a complaint: when the irony model (TweetEval irony) finds it ironic, its
    /// positive words are read as irony ("the lifts are out… Happy Monday!"): the sentiment
    /// label turns negative (the score stays that of the words) and the thanks are set aside.
    /// Other posts are left as they read: on general tweets the irony model flags far more
    /// sincere positive posts than ironic ones (by the TweetEval sentiment labels, 58 positive
    /// against 6 negative in validation among positive posts with negative words).
    fn read_irony(&self, prep: &Prepared, sentiment: &mut Sentiment, intents: &mut [Intent]) {
        let thanked = intents
            .iter()
            .any(|i| i.kind == IntentKind::Compliment && i.detected);
        if sentiment.label != SentimentLabel::Positive && !thanked {
            return;
        }
        let pi = self.irony_probability(prep);
        if pi < threshold(&self.models.irony) {
            return;
        }
        let mut note = model_p("ironic (irony model p=", pi);
        note.push_str(") in a complaint");
        if sentiment.label == SentimentLabel::Positive {
            // The label is the reading; the score stays that of the words (lexicon and model).
            sentiment.label = SentimentLabel::Negative;
            sentiment.reason.push_str("; ");
            sentiment.reason.push_str(&note);
            sentiment.reason.push_str(": read as negative");
        }
        for intent in intents
            .iter_mut()
            .filter(|i| i.kind == IntentKind::Compliment && i.detected)
        {
            intent.detected = false;
            intent.probability = intent.probability.min(0.3);
            intent.reason.push_str("; set aside: ");
            intent.reason.push_str(&note);
        }
    }

    /// A post with both a complaint and thanks carries both intents, each with the parts of the
    /// text that say it: the body is cut into clauses (at `.`, `!`, `?`, `;`, line breaks, and
    /// before "but", "however", "although", "though", "whereas", "except"), each clause scored
    /// by the lexicon and the thanks phrases. When one clause thanks or praises (a thanks phrase,
    /// or a lexicon score of +0.3 or more) and another complains (healthcare complaint words,
    /// or -0.3 or less), the compliment is detected too and both intents carry their clauses.
    /// Only posts read as complaints with a clearly positive word (lexicon valence 2 or more)
    /// and no compliment detected are cut.
    fn mixed_spans(&self, body: &str, intents: &mut [Intent]) {
        let Some(compliment) = intents.iter().find(|i| i.kind == IntentKind::Compliment) else {
            return;
        };
        if compliment.detected || compliment.reason.contains("ironic") {
            return;
        }
        let mut praise = Vec::new();
        let mut blame = Vec::new();
        for (start, end) in clauses(body).into_iter().take(32) {
            let Some(clause) = body.get(start..end) else {
                continue;
            };
            let norm = self.pipeline.normaliser.normalise(clause);
            let lexicon = self.pipeline.lexicon.score(&norm);
            let span = model::analysis::Span { start, end };
            if !lexicon.complaint_terms.is_empty() || lexicon.compound <= -0.3 {
                blame.push(span);
            } else if lexicon.compound >= 0.3 || self.rules.thanks(&norm.padded).is_some() {
                praise.push(span);
            }
        }
        if praise.is_empty() || blame.is_empty() {
            return;
        }
        for intent in intents.iter_mut() {
            match intent.kind {
                IntentKind::Compliment => {
                    intent.detected = true;
                    intent.probability = intent.probability.max(0.5);
                    intent.reason.push_str(
                        "; mixed post: thanks or praise in one part, a complaint in another",
                    );
                    intent.spans = praise.clone();
                }
                IntentKind::Complaint => intent.spans = blame.clone(),
                _ => {}
            }
        }
    }

    /// Analyses one post, its author's kind inferred from the payload and the bio.
    pub fn analyse(&self, post: &Post) -> Analysis {
        self.analyse_with(post, &Directory::default())
    }

    /// Analyses one post, its author's kind taken from `directory` when it lists the account
    /// and inferred otherwise ([`author::Authors::finding`]). Still pure: the directory is
    /// plain data the caller loaded.
    pub fn analyse_with(&self, post: &Post, directory: &Directory) -> Analysis {
        let text: std::borrow::Cow<'_, str> = match &post.title {
            Some(title) if !title.is_empty() => format!("{title}\n{}", post.text).into(),
            _ => post.text.as_str().into(),
        };
        self.analyse_parts(
            &text,
            &post.text,
            &post.author,
            post.lang.as_deref(),
            Some((post, directory)),
        )
    }

    /// [`Analyser::analyse`] of a post's parts: `text` (the title and the body), the `body`
    /// alone (searched for personal data), the author, the declared language, and the post
    /// with the directory (none for free text).
    fn analyse_parts(
        &self,
        text: &str,
        body: &str,
        author: &Author,
        declared: Option<&str>,
        post: Option<(&Post, &Directory)>,
    ) -> Analysis {
        let prep = self.prepare_for_analysis(text);
        let padded = prep.norm.padded.as_str();
        let language = self.languages.detect(text, declared);
        let sentiment = self.sentiment(&prep);
        let english = language.code == "en";

        let mut intents = Vec::with_capacity(6);
        let domain = match post {
            Some((post, _)) if post.network == model::Network::Feedback => Domain::Feedback,
            _ => Domain::Social,
        };
        let complaint_threshold = threshold(self.complaint_model(domain));
        let (pc, reason) = self.complaint_in(&prep, complaint_threshold, domain);
        let complaint_detected = pc >= complaint_threshold;
        intents.push(Intent {
            kind: IntentKind::Complaint,
            probability: pc,
            detected: complaint_detected,
            reason,
            spans: Vec::new(),
        });

        let phrases = if self.pipeline.lexicon.watching() {
            self.rules
                .scan_at(padded, &prep.lexicon.watched)
                .unwrap_or_else(|| self.rules.scan(padded))
        } else {
            self.rules.scan(padded)
        };
        let thanks = self.rules.thanks_of(&phrases);
        let pm = self.compliment_probability(&prep);
        let model_says = pm >= threshold(&self.models.compliment);
        let (pt, detected, reason) = match (&thanks, sentiment.label) {
            (Some(hit), SentimentLabel::Negative) => {
                let mut reason = format!("thanks {} but negative sentiment; ", hit.reason);
                reason.push_str(&model_p("compliment model p=", pm));
                ((hit.probability * 0.5).max(pm), model_says, reason)
            }
            (Some(hit), _) => (
                hit.probability.max(pm),
                true,
                format!("thanks or praise {}", hit.reason),
            ),
            (None, _) => {
                let mut reason = model_p("compliment model p=", pm);
                if model_says {
                    self.push_top_words(
                        &mut reason,
                        &self.models.compliment,
                        0,
                        &hashed_words(&prep.norm),
                    );
                }
                (pm, model_says, reason)
            }
        };
        intents.push(Intent {
            kind: IntentKind::Compliment,
            probability: pt,
            detected,
            reason,
            spans: Vec::new(),
        });

        let question = self.rules.question_of(&prep.norm, &phrases);
        let (pq, reason) = question.map_or((0.05, "no question or request".to_owned()), |h| {
            (h.probability, h.reason)
        });
        intents.push(Intent {
            kind: IntentKind::Question,
            probability: pq,
            detected: pq >= 0.5,
            reason,
            spans: Vec::new(),
        });
        if pq >= 0.5 {
            question_not_complaint(&mut intents, &sentiment, &prep.lexicon);
        }

        let hashed = std::cell::OnceCell::new();
        let topic = prep
            .norm
            .tokens
            .iter()
            .find(|t| t.is_word() && is_health_topic(prep.norm.text(t)));
        let own_experience = topic.is_some() && tells_own_experience(padded);
        let pm_raw = match topic {
            Some(_) if english && !own_experience => self.misinformation_probability(&prep),
            _ => 0.0,
        };
        let (pm, reason) = match topic {
            Some(_) if own_experience => (
                0.0,
                "misinformation model not consulted: the writer tells of their own jab or test, \
                 which no claim it learnt from does"
                    .to_owned(),
            ),
            Some(t) if english => {
                let mut reason = model_p("misinformation model p=", pm_raw);
                reason.push_str(", health topic \"");
                reason.push_str(prep.norm.text(t));
                reason.push('"');
                self.push_top_words(
                    &mut reason,
                    &self.models.misinformation,
                    0,
                    hashed.get_or_init(|| hashed_words(&prep.norm)),
                );
                (pm_raw, reason)
            }
            _ => (
                0.0,
                "misinformation model not consulted: no health-claim topic".to_owned(),
            ),
        };
        intents.push(Intent {
            kind: IntentKind::Misinformation,
            probability: pm,
            detected: pm >= threshold(&self.models.misinformation),
            reason,
            spans: Vec::new(),
        });

        let safety = self.rules.safety_of(&phrases, padded);
        let (ps, reason) = safety.map_or((0.0, "no safety phrase".to_owned()), |h| {
            (h.probability, h.reason)
        });
        intents.push(Intent {
            kind: IntentKind::Safety,
            probability: ps,
            detected: ps >= 0.5,
            reason,
            spans: Vec::new(),
        });

        let mut themes: Vec<Theme> = Vec::new();
        if english {
            for (k, p) in self.themes_reaching_threshold(&prep) {
                let threshold = self.models.themes.thresholds.get(k).copied().unwrap_or(0.5);
                if let Some(label) = self.models.themes.classes.get(k) {
                    let mut reason = model_p("theme model p=", p);
                    reason.push_str(" ≥ ");
                    push_fixed(&mut reason, threshold, 2, false);
                    self.push_top_words(
                        &mut reason,
                        &self.models.themes,
                        k,
                        hashed.get_or_init(|| hashed_words(&prep.norm)),
                    );
                    themes.push(Theme {
                        id: self.theme_ids.get(k).cloned().unwrap_or_default(),
                        label: label.clone(),
                        probability: p,
                        reason,
                    });
                }
            }
            themes.sort_by(|a, b| b.probability.total_cmp(&a.probability));
        }

        let mut sentiment = sentiment;
        if domain == Domain::Social && themes.is_empty() {
            compliment_needs_care(&mut intents, &sentiment);
        }
        if sentiment.label == SentimentLabel::Positive
            && prep.lexicon.neg > 0.0
            && names_a_health_service(&prep.norm)
            && (complaint_detected
                || self.complaint_probability_in(&prep, Domain::Feedback)
                    >= threshold(&self.models.complaint_feedback))
        {
            self.read_irony(&prep, &mut sentiment, &mut intents);
        }
        if complaint_detected && prep.lexicon.evidence.iter().any(|(_, v)| *v >= 2.0) {
            self.mixed_spans(body, &mut intents);
        }

        let (professional, journalist) = self.people.roles(author);
        let finding = match post {
            Some((post, directory)) => {
                self.authors
                    .finding(post, directory, professional.as_ref(), journalist.as_ref())
            }
            None => AuthorFinding {
                kind: AuthorKind::Public,
                source: AuthorKindSource::Inferred,
                entry: None,
                reason: "free text: no author".to_owned(),
            },
        };
        read_in_light_of_author(&mut intents, finding.kind);

        let any = intents.iter().any(|i| i.detected);
        let top = intents.iter().map(|i| i.probability).fold(0.0f32, f32::max);
        intents.push(Intent {
            kind: IntentKind::Other,
            probability: (1.0 - top).max(0.0),
            detected: !any,
            reason: if any {
                "another intent applies".into()
            } else if finding.kind.is_organisation() {
                format!("an update or announcement ({})", finding.kind.label())
            } else {
                "no intent reached its threshold".into()
            },
            spans: Vec::new(),
        });

        let personal_data = self.pii.find(body);

        let mut analysis = Analysis {
            engine: self.engine.clone(),
            language,
            sentiment,
            intents,
            themes,
            professional,
            journalist,
            author: finding,
            personal_data,
            priority: Priority {
                score: 0,
                reasons: Vec::new(),
            },
        };
        let reposts = post.and_then(|(p, _)| p.counts.reposts).unwrap_or(0);
        analysis.priority = priority(&analysis, author, reposts, &prep);
        analysis
    }
}

/// The clauses of a text as byte ranges, trimmed, in order: cut after `.`, `!`, `?`, `;` and
/// line breaks, and before the words "but", "however", "although", "though", "whereas" and
/// "except" (any case).
fn clauses(text: &str) -> Vec<(usize, usize)> {
    const TURNS: [&str; 6] = ["but", "however", "although", "though", "whereas", "except"];
    let bytes = text.as_bytes();
    let mut cuts = vec![0usize];
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes.get(i).copied().unwrap_or(0);
        if matches!(b, b'.' | b'!' | b'?' | b';' | b'\n') {
            cuts.push(i + 1);
        } else if b == b' ' {
            let rest = bytes.get(i + 1..).unwrap_or_default();
            let turns = TURNS.iter().any(|w| {
                rest.len() > w.len()
                    && rest
                        .get(..w.len())
                        .is_some_and(|head| head.eq_ignore_ascii_case(w.as_bytes()))
                    && !rest.get(w.len()).is_some_and(|c| c.is_ascii_alphanumeric())
            });
            if turns {
                cuts.push(i + 1);
            }
        }
        i += 1;
    }
    cuts.push(bytes.len());
    cuts.dedup();
    cuts.windows(2)
        .filter_map(|w| {
            let (a, b) = (*w.first()?, *w.get(1)?);
            let piece = text.get(a..b)?;
            let lead = piece.len() - piece.trim_start().len();
            let trail = piece.len() - piece.trim_end().len();
            let (s, e) = (a + lead, b - trail);
            (e > s).then_some((s, e))
        })
        .collect()
}

/// The words longer than two bytes of a normalised text with their word-unigram hash, the
/// candidates of [`Analyser::top_words`].
fn hashed_words(norm: &Normalised) -> Vec<(u64, &str)> {
    let mut words = Vec::with_capacity(norm.tokens.len());
    words.extend(
        norm.tokens
            .iter()
            .filter(|t| t.is_word() && norm.text(t).len() > 2)
            .map(|t| {
                let text = norm.text(t);
                (features::hash(1, text.as_bytes()), text)
            }),
    );
    words
}

/// `prefix` followed by `p` as `{p:.2}` writes it.
fn model_p(prefix: &str, p: f32) -> String {
    let mut out = String::with_capacity(prefix.len() + 72);
    out.push_str(prefix);
    push_fixed(&mut out, p, 2, false);
    out
}

/// Appends `v` exactly as `format!("{v:.D}")` writes it (`{v:+.D}` with `plus`), for
/// `D = decimals` of 0, 1 or 2, without the general formatting machinery: the scaled value
/// `|v| × 10^D` is exact in `f64`, and it is rounded half to even as the standard library
/// does. Values it does not handle (not finite, very large) go to the standard formatting.
fn push_fixed(out: &mut String, v: f32, decimals: usize, plus: bool) {
    use std::fmt::Write as _;
    const SCALE: [u64; 3] = [1, 10, 100];
    let Some(&unit) = SCALE.get(decimals) else {
        let _ = write!(out, "{v:.decimals$}");
        return;
    };
    if !v.is_finite() || v.abs() >= 1e9 {
        let _ = if plus {
            write!(out, "{v:+.decimals$}")
        } else {
            write!(out, "{v:.decimals$}")
        };
        return;
    }
    let x = f64::from(v.abs()) * unit as f64;
    let floor = x.floor();
    let frac = x - floor;
    let mut n = floor as u64;
    if frac > 0.5 || (frac == 0.5 && n % 2 == 1) {
        n += 1;
    }
    if v.is_sign_negative() {
        out.push('-');
    } else if plus {
        out.push('+');
    }
    push_digits(out, n / unit);
    if decimals > 0 {
        out.push('.');
        let mut frac_digits = n % unit;
        let mut divisor = unit / 10;
        while divisor > 0 {
            out.push(char::from(b'0' + (frac_digits / divisor) as u8));
            frac_digits %= divisor;
            divisor /= 10;
        }
    }
}

/// Appends the decimal digits of `n`.
fn push_digits(out: &mut String, n: u64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    let mut rest = n;
    loop {
        at -= 1;
        if let Some(slot) = buf.get_mut(at) {
            *slot = b'0' + (rest % 10) as u8;
        }
        rest /= 10;
        if rest == 0 || at == 0 {
            break;
        }
    }
    for b in buf.get(at..).unwrap_or_default() {
        out.push(char::from(*b));
    }
}

/// Followers from which an author's post has reach: the top quarter of the 410 distinct authors
/// in the recorded X payloads of `shared/data/api-samples` (their 75th percentile is 5,009
/// followers, the median 1,033). A local newspaper or an NHS trust has several times this; most
/// members of the public have far fewer.
pub const REACH_FOLLOWERS: u64 = 5_000;

/// Reposts from which a post has reach whoever wrote it: among the original tweets of the
/// recorded X payloads the median has none and the 95th percentile 13, so 10 reposts means the
/// post is being carried well beyond its author's own followers.
pub const REACH_REPOSTS: u64 = 10;

/// Reads the intents in the light of who is speaking: an organisation's update or news item is
/// an announcement, not a complaint; a story from our staff or leaders is not a complaint, and
/// our own voice does not thank or ask itself; an NHS organisation does not spread
/// misinformation. Safety is never set aside. Each intent set aside says why in its reason.
pub fn read_in_light_of_author(intents: &mut [Intent], kind: AuthorKind) {
    let own_voice = matches!(
        kind,
        AuthorKind::OwnOrganisation | AuthorKind::Leader | AuthorKind::Staff
    );
    for intent in intents.iter_mut().filter(|i| i.detected) {
        let set_aside = match intent.kind {
            IntentKind::Complaint => {
                kind.is_organisation()
                    || own_voice
                    || kind == AuthorKind::Journalist
                    || (kind == AuthorKind::Clinician
                        && !intent.reason.contains("healthcare complaint words"))
            }
            IntentKind::Compliment => own_voice,
            IntentKind::Question => {
                matches!(kind, AuthorKind::OwnOrganisation | AuthorKind::Leader)
            }
            IntentKind::Misinformation => matches!(
                kind,
                AuthorKind::OwnOrganisation | AuthorKind::Leader | AuthorKind::PeerOrganisation
            ),
            IntentKind::Safety | IntentKind::Other => false,
        };
        if set_aside {
            intent.detected = false;
            intent.reason.push_str("; set aside: ");
            intent.reason.push_str(match kind {
                AuthorKind::OwnOrganisation | AuthorKind::PeerOrganisation => {
                    "an NHS organisation's update or announcement"
                }
                AuthorKind::NewsOutlet | AuthorKind::Journalist => "a news item or press enquiry",
                AuthorKind::OtherOrganisation => "an organisation's update or announcement",
                AuthorKind::Leader => "our leader's own voice",
                AuthorKind::Clinician => {
                    "a healthcare professional's post about their work (no healthcare complaint \
                     words)"
                }
                _ => "a staff story in our own voice",
            });
            intent.reason.push_str(" (");
            intent.reason.push_str(kind.label());
            intent.reason.push(')');
        }
    }
}

/// On a social post, praise read by the compliment model alone (no thanks phrase) counts only
/// when the post is positive: the model learnt from patient feedback, where an answer to "what
/// went well?" is praise, and on a social network it also fires on neutral remarks. Called for
/// posts that name no patient-experience theme.
fn compliment_needs_care(intents: &mut [Intent], sentiment: &Sentiment) {
    if sentiment.label == SentimentLabel::Positive && sentiment.confidence >= 0.6 {
        return;
    }
    for intent in intents.iter_mut().filter(|i| {
        i.kind == IntentKind::Compliment && i.detected && i.reason.starts_with("compliment model")
    }) {
        intent.detected = false;
        intent
            .reason
            .push_str("; set aside: a social post naming no care theme and not clearly positive");
    }
}

/// Words that name a health service: a post with one is about care, where irony in a
/// complaint is read (see [`Analyser::read_irony`]).
const HEALTH_SERVICE: &[&str] = &[
    "hospital",
    "hospitals",
    "ward",
    "wards",
    "a&e",
    "ae",
    "nhs",
    "gp",
    "clinic",
    "scan",
    "appointment",
    "appointments",
    "surgery",
    "nurse",
    "nurses",
    "doctor",
    "doctors",
    "consultant",
    "ambulance",
    "paramedics",
    "pharmacy",
    "prescription",
    "discharge",
    "discharged",
    "outpatients",
    "theatre",
    "operation",
    "x-ray",
    "mri",
    "triage",
    "midwife",
    "maternity",
    "icu",
    "itu",
    "hospice",
    "dentist",
    "physio",
    "111",
    "999",
    "receptionist",
];

/// Whether a normalised text names a health service ([`HEALTH_SERVICE`]).
fn names_a_health_service(norm: &Normalised) -> bool {
    norm.tokens
        .iter()
        .any(|t| t.is_word() && HEALTH_SERVICE.contains(&norm.text(t)))
}

/// Whether padded text tells of the writer's own jab, dose or test ("got my flu jab", "had my
/// booster", "my covid test"): none of the 8,560 CONSTRAINT posts the misinformation model
/// learnt from or is measured on says "got my", "had my" or "my … jab/vaccine/dose".
fn tells_own_experience(padded: &str) -> bool {
    const OWN: [&str; 9] = [
        " got my ",
        " had my ",
        " my jab",
        " my flu jab",
        " my vaccine",
        " my booster",
        " my dose",
        " my covid jab",
        " my covid vaccine",
    ];
    OWN.iter().any(|w| padded.contains(w))
}

/// A question about a service is a question: a post that asks, is not negative and names no
/// healthcare complaint words keeps its complaint probability but is not a complaint unless the
/// model is sure of it (p ≥ 0.9).
fn question_not_complaint(intents: &mut [Intent], sentiment: &Sentiment, lexicon: &LexiconScore) {
    if sentiment.label == SentimentLabel::Negative || !lexicon.complaint_terms.is_empty() {
        return;
    }
    if let Some(complaint) = intents
        .iter_mut()
        .find(|i| i.kind == IntentKind::Complaint && i.detected && i.probability < 0.6)
    {
        complaint.detected = false;
        complaint
            .reason
            .push_str("; set aside: a question about a service, not negative");
    }
}

/// The priority tiers, highest first, each with the band of scores it takes: every post of a
/// tier scores above every post of the tiers below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// Self-harm, abuse, safeguarding or a threat (the safety intent).
    RiskToLife,
    /// Personal data exposed in the text.
    PersonalData,
    /// Misinformation from an author or post with reach ([`REACH_FOLLOWERS`],
    /// [`REACH_REPOSTS`]).
    MisinformationWithReach,
    /// A complaint with reach.
    ComplaintWithReach,
    /// A complaint, or misinformation without reach.
    Complaint,
    /// A question or a request for help.
    Question,
    /// Everything else.
    Rest,
}

impl Tier {
    /// The lowest score of the tier and the width of its band.
    const fn band(self) -> (f32, f32) {
        match self {
            Tier::RiskToLife => (85.0, 16.0),
            Tier::PersonalData => (70.0, 15.0),
            Tier::MisinformationWithReach => (60.0, 10.0),
            Tier::ComplaintWithReach => (50.0, 10.0),
            Tier::Complaint => (35.0, 15.0),
            Tier::Question => (20.0, 15.0),
            Tier::Rest => (0.0, 20.0),
        }
    }

    /// The words of the tier in a priority reason.
    const fn label(self) -> &'static str {
        match self {
            Tier::RiskToLife => "risk to life",
            Tier::PersonalData => "personal data exposed",
            Tier::MisinformationWithReach => "misinformation with reach",
            Tier::ComplaintWithReach => "complaint with reach",
            Tier::Complaint => "complaint",
            Tier::Question => "question",
            Tier::Rest => "no urgent intent",
        }
    }
}

/// The tier of an analysed post, given whether it has reach.
pub fn tier(a: &Analysis, reach: bool) -> Tier {
    let misinformation = a.has_intent(IntentKind::Misinformation);
    let complaint = a.has_intent(IntentKind::Complaint);
    if a.has_intent(IntentKind::Safety) {
        Tier::RiskToLife
    } else if !a.personal_data.is_empty() {
        Tier::PersonalData
    } else if misinformation && reach {
        Tier::MisinformationWithReach
    } else if complaint && reach {
        Tier::ComplaintWithReach
    } else if complaint || misinformation {
        Tier::Complaint
    } else if a.has_intent(IntentKind::Question) {
        Tier::Question
    } else {
        Tier::Rest
    }
}

/// The priority of an analysed post: its [`Tier`] sets the band (risk to life 85-100, personal
/// data 70-84, misinformation with reach 60-69, complaint with reach 50-59, complaint 35-49,
/// question 20-34, the rest 0-19); within the band, the probability of the tier's intent, how
/// negative the post is, how far it reaches and who wrote it (journalist, professional) move it
/// up, never out of its band.
pub fn priority(a: &Analysis, author: &Author, reposts: u64, prep: &Prepared) -> Priority {
    let followers = author.followers.unwrap_or(0);
    let reach = followers >= REACH_FOLLOWERS || reposts >= REACH_REPOSTS;
    let tier = tier(a, reach);
    let (base, width) = tier.band();
    let room = width - 1.0;
    let mut parts: Vec<(f32, String)> = Vec::new();
    let intent_p = match tier {
        Tier::RiskToLife => Some(("safety concern", a.intent_probability(IntentKind::Safety))),
        Tier::MisinformationWithReach => Some((
            "misinformation",
            a.intent_probability(IntentKind::Misinformation),
        )),
        Tier::ComplaintWithReach => {
            Some(("complaint", a.intent_probability(IntentKind::Complaint)))
        }
        Tier::Complaint if a.has_intent(IntentKind::Complaint) => {
            Some(("complaint", a.intent_probability(IntentKind::Complaint)))
        }
        Tier::Complaint => Some((
            "misinformation",
            a.intent_probability(IntentKind::Misinformation),
        )),
        Tier::Question => Some(("question", a.intent_probability(IntentKind::Question))),
        Tier::PersonalData | Tier::Rest => None,
    };
    if let Some((what, p)) = intent_p {
        let mut reason = model_p(what, p);
        reason.insert_str(what.len(), " (p=");
        reason.push(')');
        parts.push((0.4 * room * ((p - 0.5) * 2.0).clamp(0.0, 1.0), reason));
    }
    if tier == Tier::PersonalData
        && let Some(worst) = a
            .personal_data
            .iter()
            .map(|p| p.kind)
            .max_by_key(|k| match k {
                PersonalDataKind::NhsNumber => 3,
                PersonalDataKind::DateOfBirth => 2,
                _ => 1,
            })
    {
        let w = match worst {
            PersonalDataKind::NhsNumber => 0.4,
            PersonalDataKind::DateOfBirth => 0.25,
            _ => 0.1,
        };
        parts.push((w * room, format!("kind: {}", worst.as_str())));
    }
    if tier == Tier::Rest && a.has_intent(IntentKind::Compliment) {
        parts.push((0.25 * room, "thanks or praise to acknowledge".into()));
    }
    if a.sentiment.score < -0.3 {
        parts.push((
            0.3 * room * -a.sentiment.score,
            format!("negative ({:+.2})", a.sentiment.score),
        ));
    }
    if followers >= 1_000 {
        let scale = ((followers as f32).log10() - 3.0).clamp(0.0, 3.0) / 3.0;
        parts.push((0.15 * room * scale, format!("{followers} followers")));
    }
    if reposts > 0 {
        let scale = ((reposts as f32).log10()).clamp(0.0, 3.0) / 3.0;
        parts.push((0.1 * room * scale, format!("{reposts} reposts")));
    }
    if author.verified {
        parts.push((0.03 * room, "verified account".into()));
    }
    if let Some(j) = &a.journalist {
        parts.push((0.1 * room, format!("journalist ({})", j.reason)));
    }
    if let Some(p) = &a.professional {
        parts.push((0.05 * room, format!("healthcare professional: {}", p.role)));
    }
    if prep
        .norm
        .tokens
        .iter()
        .filter(|t| t.kind != TokenKind::Punct)
        .count()
        < 3
        && parts.is_empty()
    {
        parts.push((0.0, "very short text".into()));
    }
    parts.sort_by(|a, b| b.0.total_cmp(&a.0));
    let inside: f32 = parts.iter().map(|(w, _)| w).sum::<f32>().clamp(0.0, room);
    let mut reasons = Vec::with_capacity(parts.len() + 1);
    let mut first = String::with_capacity(48);
    push_fixed(&mut first, base, 0, true);
    first.push(' ');
    first.push_str(tier.label());
    if reach
        && matches!(
            tier,
            Tier::MisinformationWithReach | Tier::ComplaintWithReach
        )
    {
        first.push_str(if followers >= REACH_FOLLOWERS {
            " (5,000 followers or more)"
        } else {
            " (10 reposts or more)"
        });
    }
    reasons.push(first);
    reasons.extend(parts.into_iter().filter(|(w, _)| *w >= 0.5).map(|(w, r)| {
        let mut reason = String::with_capacity(r.len() + 5);
        push_fixed(&mut reason, w, 0, true);
        reason.push(' ');
        reason.push_str(&r);
        reason
    }));
    Priority {
        score: (base + inside).round().clamp(0.0, 100.0) as u8,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Network;

    #[test]
    fn health_topic_shapes_only_rule_out_other_words() {
        let naive = |w: &str| w.len() >= 2 && w.len() <= 18 && HEALTH_TOPIC.contains(&w);
        let mut words: Vec<String> = HEALTH_TOPIC.iter().map(|w| w.to_string()).collect();
        for w in HEALTH_TOPIC {
            words.push(format!("{w}s"));
            words.push(w.get(1..).unwrap_or("").to_owned());
            words.push(w.to_uppercase());
        }
        words.extend(["", "a", "the", "cure", "vaccines", &"x".repeat(40)].map(String::from));
        for w in &words {
            assert_eq!(is_health_topic(w), naive(w), "{w}");
        }
        assert!(HEALTH_TOPIC.iter().all(|w| is_health_topic(w)));
    }
    use model::analysis::PersonalDataKind;

    #[test]
    fn fixed_point_formatting_matches_the_standard_library() {
        let mut values = vec![
            0.0f32, -0.0, 0.005, 0.015, 0.125, 0.375, -0.125, 0.25, 0.35, 0.5, 1.5, 2.5, -0.004,
            0.995, 0.9999, 99.5, 100.5, 12.0, 59.99,
        ];
        let mut x = 0x1234_5678u32;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            values.push((x as f32 / u32::MAX as f32) * 130.0 - 65.0);
            values.push(f32::from_bits(x) % 1.0);
        }
        for k in 0..2_000u16 {
            values.push(f32::from(k) / 8.0);
            values.push(-f32::from(k) / 40.0);
        }
        for v in values {
            for (decimals, plus) in [(0, true), (1, true), (2, true), (2, false)] {
                let mut ours = String::new();
                push_fixed(&mut ours, v, decimals, plus);
                let std = if plus {
                    format!("{v:+.decimals$}")
                } else {
                    format!("{v:.decimals$}")
                };
                assert_eq!(ours, std, "{v} with {decimals} decimals");
            }
        }
    }

    #[test]
    fn cached_character_sums_equal_the_full_pass() {
        let a = Analyser::new().unwrap();
        let texts = [
            "Waited 9 hours in A&E. Absolutely disgraceful.",
            "Sooooo GOOD :) 😀 #NHSHeroes #thankyounhs, can't fault them!!",
            "Zażółć gęślą jaźń, diolch yn fawr",
            "",
        ];
        for _ in 0..2 {
            for text in texts {
                let full = a.prepare(text);
                let fast = a.prepare_for_analysis(text);
                assert!(full.sums.is_some());
                assert_eq!(full.sums, fast.sums, "{text}");
                assert_eq!(full.sentiment_probs, fast.sentiment_probs, "{text}");
            }
        }
    }

    #[test]
    fn embedded_models_load() {
        let m = Models::embedded().unwrap();
        assert_eq!(
            m.sentiment.classes,
            SENTIMENT_CLASSES.map(str::to_owned).to_vec()
        );
        assert_eq!(m.complaint.classes, vec!["complaint".to_owned()]);
        assert_eq!(m.misinformation.classes, vec!["fake".to_owned()]);
        assert!(m.themes.classes.len() > 20);
        assert!(m.themes.thresholds.iter().all(|t| (0.0..=1.0).contains(t)));
    }

    #[test]
    fn end_to_end_analyses() {
        let a = Analyser::new().unwrap();
        let r = a.analyse_text("Waited 9 hours in A&E. Absolutely disgraceful.");
        assert_eq!(r.sentiment.label, SentimentLabel::Negative);
        assert!(r.has_intent(IntentKind::Complaint));
        assert!(r.themes.iter().any(|t| t.id == "timeliness_of_care"));

        let r = a.analyse_text("Thank you to the amazing nurses on ward 7, so kind #NHSHeroes");
        assert_eq!(r.sentiment.label, SentimentLabel::Positive);
        assert!(r.has_intent(IntentKind::Compliment));
        assert!(!r.has_intent(IntentKind::Complaint));
        assert!(!r.has_intent(IntentKind::Misinformation));

        let r = a.analyse_text("How do I get a repeat prescription?");
        assert!(r.has_intent(IntentKind::Question));

        let r = a.analyse_text("I can't go on, I want to end my life");
        assert!(r.has_intent(IntentKind::Safety));
        assert!(r.priority.score >= 60, "{:?}", r.priority);

        let r = a.analyse_text("The 5G towers spread covid and the vaccine has microchips");
        assert!(r.has_intent(IntentKind::Misinformation));

        let text = "My NHS number is 943 476 5919";
        let r = a.analyse_text(text);
        assert_eq!(r.personal_data[0].kind, PersonalDataKind::NhsNumber);
        assert_eq!(
            &text[r.personal_data[0].start..r.personal_data[0].end],
            "943 476 5919"
        );
        assert!(
            r.priority
                .reasons
                .iter()
                .any(|x| x.contains("personal data"))
        );
        let json = serde_json::to_string(&r).unwrap();
        let back: Analysis = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn post_author_and_declared_language_count() {
        let a = Analyser::new().unwrap();
        let author = Author {
            display_name: Some("Sam Jones RGN".into()),
            bio: Some("Ward sister. Views my own".into()),
            followers: Some(25_000),
            ..Author::default()
        };
        let mut post = Post::new(
            Network::X,
            "1",
            author,
            "Staffing on the ward tonight is unsafe",
            jiff::Timestamp::UNIX_EPOCH,
        );
        post.lang = Some("en-GB".into());
        let r = a.analyse(&post);
        assert_eq!(r.language.source, model::analysis::LanguageSource::Declared);
        assert_eq!(
            r.professional.as_ref().map(|p| p.role.as_str()),
            Some("nurse")
        );
        assert!(
            r.priority
                .reasons
                .iter()
                .any(|x| x.contains("25000 followers"))
        );
        assert!(r.journalist.is_none());
        assert_eq!(r.author.kind, AuthorKind::Clinician);
        assert!(r.author.reason.contains("nurse"), "{}", r.author.reason);
    }
}
