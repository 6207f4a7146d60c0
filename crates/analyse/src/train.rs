//! Training of the four models from the training splits only, reproducibly (same data and seed,
//! same bytes), and the metrics shared with evaluation.
//!
//! - sentiment: SemEval 2013-2016 tweets without the TweetEval validation tweets and without
//!   conflicting labels;
//! - complaint: the complaints development file minus the rows of the fixed hold-out rule
//!   ([`crate::datasets::is_held_out`]);
//! - misinformation: `Constraint_Train.csv`;
//! - themes: the pxtextmining v6 development file minus the hold-out rows (plus mapped phase-1
//!   rows labelled on one theme); thresholds are tuned on out-of-fold scores of the training
//!   rows ([`crate::datasets::tuning_fold`]) and the final model is trained on all training
//!   rows.

use std::path::{Path, PathBuf};

use crate::datasets::{self, Labelled};
use crate::linear::{Example, Kind, LinearModel, TrainConfig, bucket, vectorise};
use crate::{Error, Pipeline, Prepared, SENTIMENT_CLASSES, complaint_stacked, stacked};

/// Where the training data is and how to train.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// The `shared/data` directory.
    pub data_dir: PathBuf,
    /// The shuffle seed.
    pub seed: u64,
    /// Use at most this many rows per data set (for quick checks).
    pub limit: Option<usize>,
}

/// The sentiment training settings.
pub fn sentiment_config(seed: u64) -> TrainConfig {
    TrainConfig {
        bits: 16,
        use_chars: true,
        epochs: 6,
        rate: 0.05,
        l2: 1e-6,
        seed,
        balance: 0.6,
        bags: 1,
        nb: 0.0,
    }
}

/// The complaint and misinformation settings: word uni/bigrams only (character n-grams made
/// both worse on their held-out rows), with NB scaling of strength `nb` (see
/// [`TrainConfig::nb`]).
pub fn binary_config(seed: u64, bits: u32, nb: f32) -> TrainConfig {
    TrainConfig {
        bits,
        use_chars: false,
        epochs: 15,
        rate: 0.2,
        l2: 1e-6,
        seed,
        balance: 1.5,
        bags: 1,
        nb,
    }
}

/// NB scaling of the complaint model: out-of-fold F1 0.724 without, 0.732 with 0.5 (0.763
/// with the complaint cues, [`crate::features::complaint_cues`]).
pub const COMPLAINT_NB: f32 = 0.5;

fn themes_config(seed: u64) -> TrainConfig {
    TrainConfig {
        bits: 16,
        use_chars: true,
        epochs: 12,
        rate: 0.1,
        l2: 1e-6,
        seed,
        balance: 1.0,
        bags: 1,
        nb: 1.0,
    }
}

/// The dense values stacked onto a model's own features.
#[derive(Debug, Clone, Copy)]
pub enum Stack<'a> {
    /// Nothing.
    Nothing,
    /// The sentiment model's probabilities ([`stacked`]): the themes model.
    Sentiment(&'a LinearModel),
    /// Those and the complaint cues ([`complaint_stacked`]): the complaint model.
    Complaint(&'a LinearModel),
}

impl Stack<'_> {
    /// The stacked values of a prepared text.
    pub fn values(&self, prep: &Prepared) -> Vec<(u64, f32)> {
        match self {
            Stack::Nothing => Vec::new(),
            Stack::Sentiment(s) => stacked(s, prep),
            Stack::Complaint(s) => complaint_stacked(s, prep),
        }
    }
}

fn examples(
    pipeline: &Pipeline,
    rows: &[Labelled],
    classes: &[String],
    cfg: &TrainConfig,
    stack: Stack<'_>,
) -> Vec<Example> {
    rows.iter()
        .map(|r| {
            let prep = pipeline.prepare(&r.text);
            let mut x = vectorise(&prep.features, cfg.bits, cfg.use_chars);
            let sparse = prep.features.words.len()
                + if cfg.use_chars {
                    prep.features.chars.len()
                } else {
                    0
                };
            x.extend(
                stack
                    .values(&prep)
                    .into_iter()
                    .map(|(h, v)| (bucket(h, cfg.bits), v)),
            );
            Example {
                only: None,
                x,
                sparse,
                y: r.labels
                    .iter()
                    .filter_map(|l| classes.iter().position(|c| c == l).map(|p| p as u16))
                    .collect(),
            }
        })
        .collect()
}

/// Trains the three-class sentiment model.
pub fn train_sentiment(pipeline: &Pipeline, rows: &[Labelled], seed: u64) -> LinearModel {
    let classes: Vec<String> = SENTIMENT_CLASSES.iter().map(|c| (*c).to_owned()).collect();
    let cfg = sentiment_config(seed);
    let ex: Vec<Example> = examples(pipeline, rows, &classes, &cfg, Stack::Nothing)
        .into_iter()
        .filter(|e| e.y.len() == 1)
        .collect();
    LinearModel::train(&ex, classes, Kind::Softmax, &cfg)
}

/// Trains a one-class (sigmoid) model for `positive` against everything else, its threshold
/// tuned like the themes' (see [`train_tuned`]); `nb` is the strength of the NB scaling
/// ([`TrainConfig::nb`], 0 for none).
pub fn train_binary(
    pipeline: &Pipeline,
    rows: &[Labelled],
    positive: &str,
    seed: u64,
    bits: u32,
    nb: f32,
    stack: Stack<'_>,
) -> (LinearModel, String) {
    let classes = vec![positive.to_owned()];
    train_tuned(
        pipeline,
        &classes,
        rows,
        &binary_config(seed, bits, nb),
        1,
        stack,
    )
}

/// F1 from counts.
pub fn f1(tp: usize, fp: usize, fn_: usize) -> f64 {
    if tp == 0 {
        return 0.0;
    }
    let p = tp as f64 / (tp + fp) as f64;
    let r = tp as f64 / (tp + fn_) as f64;
    2.0 * p * r / (p + r)
}

/// Trains the multi-label themes model with tuned thresholds; themes with fewer than
/// `min_positives` training rows are left out. Returns the model and a tuning report.
///
/// `partial` rows are labelled on one theme only (mapped phase-1 rows): they train that
/// theme's sigmoid and no other, and take no part in the threshold tuning.
pub fn train_themes(
    pipeline: &Pipeline,
    names: &[String],
    rows: &[Labelled],
    partial: &[Labelled],
    seed: u64,
    min_positives: usize,
    stack: Stack<'_>,
) -> (LinearModel, String) {
    train_tuned_with(
        pipeline,
        names,
        rows,
        partial,
        &themes_config(seed),
        min_positives,
        stack,
    )
}

/// The number of folds of the out-of-fold threshold tuning.
pub const FOLDS: usize = 5;

/// Counts of true positives, false positives and false negatives of one class at the
/// thresholds of [`threshold_grid`].
fn counts_at(probs: &[Vec<f32>], gold: &[bool], k: usize, t: f32) -> (usize, usize, usize) {
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for (p, g) in probs.iter().zip(gold) {
        let pred = p.get(k).is_some_and(|p| *p >= t);
        match (pred, *g) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            _ => {}
        }
    }
    (tp, fp, fn_)
}

/// The thresholds tried: 0.05 to 0.95 in steps of 0.025.
fn threshold_grid() -> impl Iterator<Item = f32> {
    (2..=38).map(|s| s as f32 * 0.025)
}

/// Trains a multi-label model. Thresholds are tuned for F1 per class on out-of-fold
/// probabilities: the training rows are split in [`FOLDS`] folds by [`datasets::tuning_fold`],
/// and each fold is scored by a model fitted on the other folds, so every training row serves
/// once for tuning and no tuning score comes from a model that saw the row. The thresholds are
/// chosen together for micro F1 over all classes (three rounds of coordinate ascent over the
/// grid), the metric of the themes task and, for one class, the F1 of that class. The final
/// model is then trained on all training rows. Classes with fewer than `min_positives` rows
/// are left out.
pub fn train_tuned(
    pipeline: &Pipeline,
    names: &[String],
    rows: &[Labelled],
    cfg: &TrainConfig,
    min_positives: usize,
    stack: Stack<'_>,
) -> (LinearModel, String) {
    train_tuned_with(pipeline, names, rows, &[], cfg, min_positives, stack)
}

/// [`train_tuned`] with extra rows labelled on one class only, used in every fitted model
/// (each trains only its own class) but never for tuning.
pub fn train_tuned_with(
    pipeline: &Pipeline,
    names: &[String],
    rows: &[Labelled],
    partial: &[Labelled],
    cfg: &TrainConfig,
    min_positives: usize,
    stack: Stack<'_>,
) -> (LinearModel, String) {
    let (model, report, _) =
        train_tuned_oof(pipeline, names, rows, partial, cfg, min_positives, stack);
    (model, report)
}

/// [`train_tuned_with`], also returning the out-of-fold probabilities of every training row
/// (one per class of the model), for figures per part of the training data.
pub fn train_tuned_oof(
    pipeline: &Pipeline,
    names: &[String],
    rows: &[Labelled],
    partial: &[Labelled],
    cfg: &TrainConfig,
    min_positives: usize,
    stack: Stack<'_>,
) -> (LinearModel, String, Vec<Vec<f32>>) {
    let cfg = cfg.clone();
    let classes: Vec<String> = names
        .iter()
        .filter(|n| rows.iter().filter(|r| r.labels.contains(n)).count() >= min_positives)
        .cloned()
        .collect();
    let all = examples(pipeline, rows, &classes, &cfg, stack);
    let extra: Vec<Example> = examples(pipeline, partial, &classes, &cfg, stack)
        .into_iter()
        .filter_map(|mut e| {
            e.only = Some(*e.y.first()?);
            Some(e)
        })
        .collect();
    let folds: Vec<usize> = rows
        .iter()
        .map(|r| datasets::tuning_fold(&r.text))
        .collect();
    let mut oof: Vec<Vec<f32>> = vec![Vec::new(); rows.len()];
    for fold in 0..FOLDS {
        let fit: Vec<Example> = all
            .iter()
            .zip(&folds)
            .filter(|(_, f)| **f != fold)
            .map(|(e, _)| e.clone())
            .chain(extra.iter().cloned())
            .collect();
        let model = LinearModel::train(&fit, classes.clone(), Kind::MultiLabel, &cfg);
        for ((r, f), slot) in rows.iter().zip(&folds).zip(oof.iter_mut()) {
            if *f == fold {
                let prep = pipeline.prepare(&r.text);
                let extra = stack.values(&prep);
                *slot = model.predict_with(&prep.features, &extra);
            }
        }
    }
    let gold: Vec<Vec<bool>> = classes
        .iter()
        .map(|name| rows.iter().map(|r| r.labels.contains(name)).collect())
        .collect();
    let grid: Vec<f32> = threshold_grid().collect();
    let table: Vec<Vec<(usize, usize, usize)>> = (0..classes.len())
        .map(|k| {
            let g = gold.get(k).map_or(&[][..], Vec::as_slice);
            grid.iter().map(|t| counts_at(&oof, g, k, *t)).collect()
        })
        .collect();
    let mut choice: Vec<usize> =
        vec![grid.iter().position(|t| *t >= 0.5).unwrap_or(0); classes.len()];
    let total = |choice: &[usize]| {
        choice
            .iter()
            .zip(&table)
            .fold((0, 0, 0), |(a, b, c), (i, row)| {
                let (x, y, z) = row.get(*i).copied().unwrap_or((0, 0, 0));
                (a + x, b + y, c + z)
            })
    };
    for _ in 0..3 {
        for k in 0..classes.len() {
            let mut best = (choice.get(k).copied().unwrap_or(0), -1.0f64);
            for i in 0..grid.len() {
                if let Some(slot) = choice.get_mut(k) {
                    *slot = i;
                }
                let (tp, fp, fn_) = total(&choice);
                let f = f1(tp, fp, fn_);
                if f > best.1 + 1e-9 {
                    best = (i, f);
                }
            }
            if let Some(slot) = choice.get_mut(k) {
                *slot = best.0;
            }
        }
    }
    let thresholds: Vec<f32> = choice
        .iter()
        .map(|i| grid.get(*i).copied().unwrap_or(0.5))
        .collect();
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for (k, t) in thresholds.iter().enumerate() {
        let (a, b, c) = counts_at(&oof, gold.get(k).map_or(&[], Vec::as_slice), k, *t);
        (tp, fp, fn_) = (tp + a, fp + b, fn_ + c);
    }
    let report = format!(
        "{} classes; thresholds tuned on out-of-fold scores of the {} training rows \
         ({FOLDS} folds; micro F1 there {:.3}); final model on {} rows{}",
        classes.len(),
        rows.len(),
        f1(tp, fp, fn_),
        rows.len(),
        if extra.is_empty() {
            String::new()
        } else {
            format!(" and {} rows labelled on one class only", extra.len())
        }
    );
    let mut all = all;
    all.extend(extra);
    let mut model = LinearModel::train(&all, classes, Kind::MultiLabel, &cfg);
    model.thresholds = thresholds;
    (model, report, oof)
}

/// F1 of class 0 of out-of-fold probabilities at `threshold`, over the rows `pick` keeps.
pub fn oof_f1(
    oof: &[Vec<f32>],
    rows: &[Labelled],
    positive: &str,
    threshold: f32,
    pick: impl Fn(usize) -> bool,
) -> (f64, usize) {
    let (mut tp, mut fp, mut fn_, mut n) = (0, 0, 0, 0);
    for (i, (p, r)) in oof.iter().zip(rows).enumerate() {
        if !pick(i) {
            continue;
        }
        n += 1;
        let pred = p.first().is_some_and(|p| *p >= threshold);
        let gold = r.labels.iter().any(|l| l == positive);
        match (pred, gold) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            _ => {}
        }
    }
    (f1(tp, fp, fn_), n)
}

fn limited(mut rows: Vec<Labelled>, limit: Option<usize>) -> Vec<Labelled> {
    if let Some(n) = limit {
        rows.truncate(n);
    }
    rows
}

/// The training files under the data directory.
pub fn training_files(data_dir: &Path) -> [PathBuf; 4] {
    [
        data_dir.join("semeval-twitter-sentiment/combined_2013-2016_dedup.tsv"),
        data_dir.join("complaints-twitter/complaints-data.dev.csv"),
        data_dir.join("constraint-covid-fake-news/Constraint_Train.csv"),
        data_dir.join("pxtextmining/v6framework_230831.dev.csv"),
    ]
}

/// The phase-1 pxtextmining comments that may train (`phase1_text_data`, never the Care
/// Opinion file), less the rows of the hold-out rule, labelled for one class: `positive` when
/// their criticality label is `wanted`, `other` otherwise.
fn phase1_rows(
    path: &Path,
    wanted: &str,
    positive: &str,
    limit: Option<usize>,
) -> Result<Vec<Labelled>, Error> {
    let rows = datasets::pxtextmining_criticality(path)?
        .rows
        .into_iter()
        .filter(|r| !datasets::is_held_out(&r.text))
        .map(|mut r| {
            let yes = r.labels.iter().any(|l| l == wanted);
            r.labels = vec![if yes { positive } else { "other" }.to_owned()];
            r
        })
        .collect();
    Ok(limited(rows, limit))
}

/// Trains all the models; returns their bytes in the order of [`crate::MODEL_FILES`] and a
/// report line per model. `log` is called as each step starts.
pub fn train_all(
    pipeline: &Pipeline,
    opts: &TrainOptions,
    log: &mut dyn FnMut(&str),
) -> Result<([Vec<u8>; 7], Vec<String>), Error> {
    let [sent_path, comp_path, misinfo_path, px_path] = training_files(&opts.data_dir);
    let phase1_path = opts.data_dir.join("pxtextmining/phase1_text_data.dev.csv");
    let irony_path = opts.data_dir.join("tweeteval/irony/train_text.txt");
    let mut report = Vec::new();

    log("sentiment: reading SemEval 2013-2016 (TweetEval validation tweets left out)");
    let rows = limited(datasets::semeval_combined(&sent_path)?, opts.limit);
    let sentiment = train_sentiment(pipeline, &rows, opts.seed);
    report.push(format!(
        "sentiment: trained on {} SemEval tweets",
        rows.len()
    ));

    log("complaint: reading the complaints development file (hold-out rows left out)");
    let rows: Vec<Labelled> = datasets::complaints(&comp_path)?
        .into_iter()
        .filter(|r| !datasets::is_held_out(&r.text))
        .collect();
    let rows = limited(rows, opts.limit);
    let (complaint, tuning) = train_binary(
        pipeline,
        &rows,
        "complaint",
        opts.seed,
        16,
        COMPLAINT_NB,
        Stack::Complaint(&sentiment),
    );
    report.push(format!("complaint (hold-out rows excluded): {tuning}"));

    log("complaint in patient feedback: the phase-1 comments (hold-out rows left out)");
    let rows = phase1_rows(&phase1_path, "complaint", "complaint", opts.limit)?;
    let (complaint_feedback, tuning) = train_binary(
        pipeline,
        &rows,
        "complaint",
        opts.seed,
        16,
        COMPLAINT_NB,
        Stack::Complaint(&sentiment),
    );
    report.push(format!(
        "complaint in patient feedback (phase1_text_data, hold-out rows excluded): {tuning}"
    ));

    log("compliment: the phase-1 comments (hold-out rows left out)");
    let rows = phase1_rows(&phase1_path, "compliment", "compliment", opts.limit)?;
    let (compliment, tuning) = train_binary(
        pipeline,
        &rows,
        "compliment",
        opts.seed,
        16,
        COMPLAINT_NB,
        Stack::Sentiment(&sentiment),
    );
    report.push(format!("compliment (hold-out rows excluded): {tuning}"));

    log("irony: reading TweetEval irony train");
    let rows = limited(datasets::tweeteval(&irony_path)?, opts.limit);
    let (irony, tuning) = train_binary(
        pipeline,
        &rows,
        "irony",
        opts.seed,
        16,
        0.0,
        Stack::Sentiment(&sentiment),
    );
    report.push(format!("irony (TweetEval irony train): {tuning}"));

    log("misinformation: reading Constraint_Train");
    let rows = limited(datasets::constraint(&misinfo_path)?, opts.limit);
    let (misinformation, tuning) =
        train_binary(pipeline, &rows, "fake", opts.seed, 16, 0.0, Stack::Nothing);
    report.push(format!("misinformation (Constraint_Train): {tuning}"));

    log("themes: reading the pxtextmining v6 development file (hold-out rows left out)");
    let (names, rows) = datasets::pxtextmining_v6(&px_path)?;
    let rows: Vec<Labelled> = rows
        .into_iter()
        .filter(|r| !datasets::is_held_out(&r.text))
        .collect();
    let rows = limited(rows, opts.limit);
    log("themes: reading the phase-1 pxtextmining file (hold-out rows and v6 texts left out)");
    let v6_texts: std::collections::HashSet<String> =
        rows.iter().map(|r| datasets::norm_key(&r.text)).collect();
    let partial: Vec<Labelled> = datasets::pxtextmining_phase1(&phase1_path)?
        .into_iter()
        .filter(|r| {
            !datasets::is_held_out(&r.text) && !v6_texts.contains(&datasets::norm_key(&r.text))
        })
        .collect();
    let partial = limited(partial, opts.limit);
    let (themes, theme_report) = train_themes(
        pipeline,
        &names,
        &rows,
        &partial,
        opts.seed,
        8,
        Stack::Sentiment(&sentiment),
    );
    report.push(format!("themes (hold-out rows excluded): {theme_report}"));

    Ok((
        [
            sentiment.to_bytes(),
            complaint.to_bytes(),
            misinformation.to_bytes(),
            themes.to_bytes(),
            compliment.to_bytes(),
            irony.to_bytes(),
            complaint_feedback.to_bytes(),
        ],
        report,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_on_a_small_sample_is_byte_identical() {
        let pipeline = Pipeline::new().unwrap();
        let rows: Vec<Labelled> = (0..60)
            .map(|i| Labelled {
                text: match i % 3 {
                    0 => format!("I love the nurses {i} :)"),
                    1 => format!("Waited {i} hours, awful"),
                    _ => format!("Clinic opens at {i}"),
                },
                labels: vec![SENTIMENT_CLASSES[[2, 0, 1][i % 3]].to_owned()],
                value: None,
            })
            .collect();
        let a = train_sentiment(&pipeline, &rows, 42).to_bytes();
        let b = train_sentiment(&pipeline, &rows, 42).to_bytes();
        assert_eq!(a, b);
        let model = LinearModel::from_bytes(&a).unwrap();
        let p = model.predict(&pipeline.prepare("I love the nurses").features);
        assert!(p[2] > p[0]);
        let themes = vec!["Parking".to_owned(), "Food".to_owned()];
        let trows: Vec<Labelled> = (0..80)
            .map(|i| Labelled {
                text: if i % 2 == 0 {
                    format!("no parking spaces {i}")
                } else {
                    format!("cold food {i}")
                },
                labels: vec![themes[i % 2].clone()],
                value: None,
            })
            .collect();
        let (m1, _) = train_themes(&pipeline, &themes, &trows, &[], 1, 2, Stack::Nothing);
        let (m2, _) = train_themes(&pipeline, &themes, &trows, &[], 1, 2, Stack::Nothing);
        assert_eq!(m1.to_bytes(), m2.to_bytes());
    }
}
