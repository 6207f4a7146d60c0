//! Evaluation of the engine on labelled files in their native formats, with each data set's own
//! metric: macro recall (TweetEval sentiment), Pearson r and 3-class F1 (VADER tweets), F1 of
//! the complaint class, micro and macro F1 (themes), weighted F1 (misinformation).
//!
//! Files that were used for training are refused, or, for the development files that the
//! hold-out rule split ([`crate::datasets::is_held_out`]), reduced to their held-out rows.

use std::fmt::Write as _;
use std::path::Path;

use model::analysis::IntentKind;
use model::{Author, Network, Post};

use crate::datasets::{self, Labelled};
use crate::train::f1;
use crate::{Analyser, Error, Prepared};

/// What to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Three-class sentiment, or intensity against a numeric rating.
    Sentiment,
    /// Complaint or not.
    Complaint,
    /// Compliment or not (patient feedback with a positive criticality).
    Compliment,
    /// Irony or not (TweetEval irony).
    Irony,
    /// Patient-experience themes.
    Themes,
    /// Fake or real health news.
    Misinformation,
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The readable report (metric details and confusion matrix).
    pub text: String,
    /// The headline metric's name (`macro_recall`).
    pub metric: String,
    /// The headline metric's value.
    pub value: f64,
}

/// Evaluation switches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Sentiment from the lexicon alone (thresholds ±0.05 on the compound score).
    pub lexicon_only: bool,
    /// Use every row even of a file the hold-out rule split for training.
    pub all_rows: bool,
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned()
}

/// The rows of a JSON Lines file; the lines passed over are named in the report.
fn jsonl_rows(path: &Path, text: &mut String) -> Result<Vec<Labelled>, Error> {
    let read = datasets::jsonl(path)?;
    if !read.skipped.is_empty() {
        let _ = writeln!(
            text,
            "{} line(s) of {} passed over, the other {} evaluated:",
            read.skipped.len(),
            file_name(path),
            read.rows.len()
        );
        for reason in &read.skipped {
            let _ = writeln!(text, "  {reason}");
        }
    }
    Ok(read.rows)
}

fn dataset_err(path: &Path, message: &str) -> Error {
    Error::Dataset {
        path: path.display().to_string(),
        message: message.to_owned(),
    }
}

fn hold_out(rows: Vec<Labelled>, path: &Path, opts: Options, text: &mut String) -> Vec<Labelled> {
    let name = file_name(path);
    let trained = [
        "complaints-data.dev.csv",
        "v6framework_230831.dev.csv",
        "phase1_text_data.dev.csv",
    ];
    if trained.contains(&name.as_str()) && !opts.all_rows {
        let total = rows.len();
        let kept: Vec<Labelled> = rows
            .into_iter()
            .filter(|r| datasets::is_held_out(&r.text))
            .collect();
        let _ = writeln!(
            text,
            "{name} trained the model except its hold-out rows: scoring the {} held-out rows \
             of {total}",
            kept.len()
        );
        kept
    } else {
        rows
    }
}

fn is_jsonl(path: &Path) -> bool {
    let n = file_name(path);
    n.ends_with(".jsonl") || n.ends_with(".ndjson")
}

fn refuse_training_file(path: &Path) -> Result<(), Error> {
    let n = file_name(path);
    let irony_train = n == "train_text.txt"
        && path
            .parent()
            .and_then(|p| p.file_name())
            .is_some_and(|d| d == "irony");
    if n == "Constraint_Train.csv"
        || n == "combined_2013-2016_dedup.tsv"
        || n.ends_with("-A.txt")
        || irony_train
    {
        return Err(dataset_err(
            path,
            "the models were trained on this file; evaluate on a validation or held-out file",
        ));
    }
    Ok(())
}

/// A confusion matrix as text (rows gold, columns predicted).
pub fn confusion(classes: &[&str], pairs: &[(usize, usize)]) -> String {
    let mut m = vec![vec![0usize; classes.len()]; classes.len()];
    for (g, p) in pairs {
        if let Some(c) = m.get_mut(*g).and_then(|row| row.get_mut(*p)) {
            *c += 1;
        }
    }
    let mut s = format!("confusion (rows gold, columns predicted)\n{:>14}", "");
    for c in classes {
        let _ = write!(s, "{c:>14}");
    }
    s.push('\n');
    for (c, row) in classes.iter().zip(&m) {
        let _ = write!(s, "{c:>14}");
        for v in row {
            let _ = write!(s, "{v:>14}");
        }
        s.push('\n');
    }
    s
}

/// Per-class precision, recall, F1 and support, plus the macro recall, macro F1 and weighted F1.
pub fn per_class(classes: &[&str], pairs: &[(usize, usize)], text: &mut String) -> (f64, f64, f64) {
    let mut macro_r = 0.0;
    let mut macro_f = 0.0;
    let mut weighted = 0.0;
    let _ = writeln!(
        text,
        "{:>14} {:>9} {:>9} {:>9} {:>9}",
        "class", "precision", "recall", "f1", "support"
    );
    for (k, c) in classes.iter().enumerate() {
        let tp = pairs.iter().filter(|(g, p)| *g == k && *p == k).count();
        let fp = pairs.iter().filter(|(g, p)| *g != k && *p == k).count();
        let fn_ = pairs.iter().filter(|(g, p)| *g == k && *p != k).count();
        let support = tp + fn_;
        let prec = if tp + fp > 0 {
            tp as f64 / (tp + fp) as f64
        } else {
            0.0
        };
        let rec = if support > 0 {
            tp as f64 / support as f64
        } else {
            0.0
        };
        let f = f1(tp, fp, fn_);
        macro_r += rec;
        macro_f += f;
        weighted += f * support as f64;
        let _ = writeln!(text, "{c:>14} {prec:>9.3} {rec:>9.3} {f:>9.3} {support:>9}");
    }
    let n = classes.len().max(1) as f64;
    (
        macro_r / n,
        macro_f / n,
        weighted / pairs.len().max(1) as f64,
    )
}

/// Pearson correlation.
pub fn pearson(xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len().min(ys.len()) as f64;
    if n < 2.0 {
        return 0.0;
    }
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        0.0
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

const SENT: [&str; 3] = ["negative", "neutral", "positive"];

fn class_of_score(s: f32) -> usize {
    if s > 0.05 {
        2
    } else if s < -0.05 {
        0
    } else {
        1
    }
}

/// The sentiment class and score of a text: the lexicon's alone, or the full analysis's
/// (which reads irony in complaints, see [`Analyser::analyse`]).
fn sentiment_label(
    analyser: &Analyser,
    text: &str,
    prep: &Prepared,
    opts: Options,
) -> (usize, f32) {
    if opts.lexicon_only {
        let s = prep.lexicon.compound;
        return (class_of_score(s), s);
    }
    let s = analyser.analyse_text(text).sentiment;
    let k = match s.label {
        model::analysis::SentimentLabel::Negative => 0,
        model::analysis::SentimentLabel::Neutral => 1,
        model::analysis::SentimentLabel::Positive => 2,
    };
    (k, s.score)
}

fn eval_sentiment(analyser: &Analyser, path: &Path, opts: Options) -> Result<Report, Error> {
    let name = file_name(path);
    let mut text = String::new();
    let rows = if name.ends_with("_text.txt") {
        datasets::tweeteval(path)?
    } else if is_jsonl(path) {
        jsonl_rows(path, &mut text)?
    } else {
        refuse_training_file(path)?;
        datasets::vader(path)?
    };
    let source = if opts.lexicon_only {
        "lexicon alone"
    } else {
        "lexicon + model"
    };
    let _ = writeln!(
        text,
        "sentiment ({source}) on {} rows of {name}",
        rows.len()
    );
    let numeric = rows.iter().all(|r| r.value.is_some());
    let mut pairs = Vec::with_capacity(rows.len());
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for r in &rows {
        let prep = analyser.prepare(&r.text);
        let (k, score) = sentiment_label(analyser, &r.text, &prep, opts);
        if numeric {
            xs.push(f64::from(score));
            ys.push(f64::from(r.value.unwrap_or(0.0)));
            pairs.push((
                class_of_score(r.value.unwrap_or(0.0) / 4.0),
                class_of_score(score),
            ));
        } else if let Some(g) = r
            .labels
            .first()
            .and_then(|l| SENT.iter().position(|c| c == l))
        {
            pairs.push((g, k));
        }
    }
    let (macro_r, macro_f, weighted) = per_class(&SENT, &pairs, &mut text);
    text.push_str(&confusion(&SENT, &pairs));
    if numeric {
        let r = pearson(&xs, &ys);
        let _ = writeln!(
            text,
            "pearson_r {r:.4}; 3-class (±0.05 on score/4 and score) macro F1 {macro_f:.4}, \
             weighted F1 {weighted:.4}"
        );
        Ok(Report {
            text,
            metric: "pearson_r".into(),
            value: r,
        })
    } else {
        let _ = writeln!(text, "macro recall {macro_r:.4}, macro F1 {macro_f:.4}");
        Ok(Report {
            text,
            metric: "macro_recall".into(),
            value: macro_r,
        })
    }
}

/// Precision, recall and F1 of the positive class (1) of gold/predicted pairs.
fn positive_class(pairs: &[(usize, usize)]) -> (f64, f64, f64) {
    let tp = pairs.iter().filter(|p| **p == (1, 1)).count();
    let fp = pairs.iter().filter(|p| **p == (0, 1)).count();
    let fn_ = pairs.iter().filter(|p| **p == (1, 0)).count();
    let precision = if tp + fp > 0 {
        tp as f64 / (tp + fp) as f64
    } else {
        0.0
    };
    let recall = if tp + fn_ > 0 {
        tp as f64 / (tp + fn_) as f64
    } else {
        0.0
    };
    (precision, recall, f1(tp, fp, fn_))
}

/// The rows of a complaint or compliment file and whether they are patient feedback: a
/// phase-1 pxtextmining file (criticality below 0 a complaint, above 0 a compliment, 0
/// neither; rows whose criticality is not a number from -5 to 5 passed over and counted), the
/// complaints tweets CSV, or JSON Lines.
fn intent_rows(path: &Path, task: Task, text: &mut String) -> Result<(Vec<Labelled>, bool), Error> {
    if is_jsonl(path) {
        return Ok((jsonl_rows(path, text)?, false));
    }
    if datasets::is_phase1(path) {
        let read = datasets::pxtextmining_criticality(path)?;
        let _ = writeln!(
            text,
            "{}: {} rows; {} passed over (criticality not a number from -5 to 5), {} empty",
            file_name(path),
            read.rows.len(),
            read.passed_over,
            read.empty
        );
        return Ok((read.rows, true));
    }
    if task == Task::Compliment {
        return Err(dataset_err(
            path,
            "compliment is measured on a phase-1 pxtextmining file (columns `feedback` and \
             `criticality`) or JSON Lines",
        ));
    }
    Ok((datasets::complaints(path)?, false))
}

/// Complaint or compliment, as the full analysis detects the intent: patient feedback files
/// are analysed as feedback entries (the feedback complaint model), other files as social
/// posts.
fn eval_intent(
    analyser: &Analyser,
    path: &Path,
    opts: Options,
    task: Task,
) -> Result<Report, Error> {
    let mut text = String::new();
    refuse_training_file(path)?;
    let (rows, feedback) = intent_rows(path, task, &mut text)?;
    let rows = hold_out(rows, path, opts, &mut text);
    let (kind, positive, classes) = match task {
        Task::Compliment => (
            IntentKind::Compliment,
            "compliment",
            ["not_compliment", "compliment"],
        ),
        _ => (
            IntentKind::Complaint,
            "complaint",
            ["not_complaint", "complaint"],
        ),
    };
    let mut pairs = Vec::with_capacity(rows.len());
    for r in &rows {
        let analysis = if feedback {
            let post = Post::new(
                Network::Feedback,
                "eval",
                Author::default(),
                r.text.as_str(),
                jiff::Timestamp::UNIX_EPOCH,
            );
            analyser.analyse(&post)
        } else {
            analyser.analyse_text(&r.text)
        };
        let gold = usize::from(
            r.labels
                .iter()
                .any(|l| l == positive || l == "1" || l == "true" || l == "yes"),
        );
        pairs.push((gold, usize::from(analysis.has_intent(kind))));
    }
    let _ = writeln!(
        text,
        "{positive} on {} rows of {} (analysed as {})",
        rows.len(),
        file_name(path),
        if feedback {
            "patient feedback"
        } else {
            "social posts"
        }
    );
    per_class(&classes, &pairs, &mut text);
    text.push_str(&confusion(&classes, &pairs));
    let (precision, recall, pos_f1) = positive_class(&pairs);
    let _ = writeln!(
        text,
        "{positive}: precision {precision:.4}, recall {recall:.4}, F1 {pos_f1:.4}"
    );
    Ok(Report {
        text,
        metric: "f1".into(),
        value: pos_f1,
    })
}

fn eval_binary(
    analyser: &Analyser,
    path: &Path,
    opts: Options,
    task: Task,
) -> Result<Report, Error> {
    let mut text = String::new();
    refuse_training_file(path)?;
    let (rows, classes, positive): (Vec<Labelled>, [&str; 2], &str) = match task {
        Task::Irony => {
            let rows = if is_jsonl(path) {
                jsonl_rows(path, &mut text)?
            } else {
                datasets::tweeteval(path)?
            };
            (rows, ["non_irony", "irony"], "irony")
        }
        _ => {
            let rows = if is_jsonl(path) {
                jsonl_rows(path, &mut text)?
            } else {
                datasets::constraint(path)?
            };
            (rows, ["real", "fake"], "fake")
        }
    };
    let rows = hold_out(rows, path, opts, &mut text);
    let mut pairs = Vec::with_capacity(rows.len());
    for r in &rows {
        let prep = analyser.prepare(&r.text);
        let (p, t) = match task {
            Task::Irony => (
                analyser.irony_probability(&prep),
                crate::threshold(&analyser.models().irony),
            ),
            _ => (
                analyser.misinformation_probability(&prep),
                crate::threshold(&analyser.models().misinformation),
            ),
        };
        let gold = usize::from(
            r.labels
                .iter()
                .any(|l| l == positive || l == "1" || l == "true"),
        );
        pairs.push((gold, usize::from(p >= t)));
    }
    let _ = writeln!(
        text,
        "{positive} on {} rows of {}",
        rows.len(),
        file_name(path)
    );
    let (_, macro_f, weighted) = per_class(&classes, &pairs, &mut text);
    text.push_str(&confusion(&classes, &pairs));
    let (precision, recall, pos_f1) = positive_class(&pairs);
    let _ = writeln!(
        text,
        "{positive}: precision {precision:.4}, recall {recall:.4}, F1 {pos_f1:.4}; macro F1 \
         {macro_f:.4}, weighted F1 {weighted:.4}"
    );
    Ok(match task {
        Task::Irony => Report {
            text,
            metric: "f1".into(),
            value: pos_f1,
        },
        _ => Report {
            text,
            metric: "weighted_f1".into(),
            value: weighted,
        },
    })
}

fn eval_themes(analyser: &Analyser, path: &Path, opts: Options) -> Result<Report, Error> {
    let mut text = String::new();
    let rows = if is_jsonl(path) {
        jsonl_rows(path, &mut text)?
    } else {
        datasets::pxtextmining_v6(path)?.1
    };
    let rows = hold_out(rows, path, opts, &mut text);
    let model = &analyser.models().themes;
    let classes = &model.classes;
    let resolve = |l: &str| {
        classes
            .iter()
            .position(|c| c == l || crate::theme_id(c) == l || *c == crate::readable_theme(l))
    };
    let k = classes.len();
    let (mut tp, mut fp, mut fn_) = (vec![0usize; k], vec![0usize; k], vec![0usize; k]);
    let mut unknown = 0usize;
    let mut exact = 0usize;
    for r in &rows {
        let prep = analyser.prepare(&r.text);
        let probs = analyser.theme_probabilities(&prep);
        let gold: Vec<usize> = r.labels.iter().filter_map(|l| resolve(l)).collect();
        unknown += r.labels.len() - gold.len();
        let mut all_right = r.labels.len() == gold.len();
        for c in 0..k {
            let pred = probs.get(c).copied().unwrap_or(0.0)
                >= model.thresholds.get(c).copied().unwrap_or(0.5);
            let g = gold.contains(&c);
            if pred != g {
                all_right = false;
            }
            let slot = match (pred, g) {
                (true, true) => tp.get_mut(c),
                (true, false) => fp.get_mut(c),
                (false, true) => fn_.get_mut(c),
                _ => None,
            };
            if let Some(v) = slot {
                *v += 1;
            }
        }
        exact += usize::from(all_right);
    }
    let _ = writeln!(text, "themes on {} rows of {}", rows.len(), file_name(path));
    let _ = writeln!(
        text,
        "{:>56} {:>5} {:>5} {:>5} {:>6}",
        "theme (tp fp fn per theme)", "tp", "fp", "fn", "f1"
    );
    let mut macro_sum = 0.0;
    let mut macro_n = 0usize;
    for (c, name) in classes.iter().enumerate() {
        let (a, b, d) = (
            tp.get(c).copied().unwrap_or(0),
            fp.get(c).copied().unwrap_or(0),
            fn_.get(c).copied().unwrap_or(0),
        );
        let f = f1(a, b, d);
        if a + d > 0 {
            macro_sum += f;
            macro_n += 1;
        }
        let _ = writeln!(text, "{name:>56} {a:>5} {b:>5} {d:>5} {f:>6.3}");
    }
    let (stp, sfp, sfn) = (
        tp.iter().sum::<usize>(),
        fp.iter().sum::<usize>(),
        fn_.iter().sum::<usize>() + unknown,
    );
    let micro = f1(stp, sfp, sfn);
    let macro_f = macro_sum / macro_n.max(1) as f64;
    let _ = writeln!(
        text,
        "micro F1 {micro:.4} (gold labels of themes the model lacks, {unknown}, count as misses), \
         macro F1 {macro_f:.4} over {macro_n} themes present, exact match {:.4}",
        exact as f64 / rows.len().max(1) as f64
    );
    Ok(Report {
        text,
        metric: "micro_f1".into(),
        value: micro,
    })
}

/// One generated post for [`generated_confusion`]: its analysis and what the generator wrote.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The analysis of the post.
    pub analysis: model::analysis::Analysis,
    /// The kind of post the generator meant (`complaint`, `staff_discussion`, `news`, ...).
    pub kind: String,
    /// The author's role in the generator's cast (`organisation`, `peer_trust`, `public`, ...).
    pub role: String,
}

/// The intent an analysis leads with: safety, misinformation, complaint, question,
/// compliment, in that order, else other.
pub fn primary_intent(a: &model::analysis::Analysis) -> IntentKind {
    [
        IntentKind::Safety,
        IntentKind::Misinformation,
        IntentKind::Complaint,
        IntentKind::Question,
        IntentKind::Compliment,
    ]
    .into_iter()
    .find(|k| a.has_intent(*k))
    .unwrap_or(IntentKind::Other)
}

/// The intent a generated kind of post should lead with: its own for the five intents,
/// `other` for staff discussion, news, organisations' posts and chatter.
fn expected_intent(kind: &str) -> IntentKind {
    match kind {
        "complaint" => IntentKind::Complaint,
        "compliment" => IntentKind::Compliment,
        "question" => IntentKind::Question,
        "misinformation" => IntentKind::Misinformation,
        "safety" => IntentKind::Safety,
        _ => IntentKind::Other,
    }
}

/// A sanity check, not a target: the confusion of the analysis against the intent and the
/// author the generator wrote (its texts are templates, so no rule or lexicon entry may be
/// chosen on them). Prints the intent confusion (rows the generator's kinds, columns the
/// leading intent), the author-kind confusion (rows the cast's roles), the share of complaint
/// intents against the generator's share of complaints, and complaints read on organisations'
/// posts; the headline is the share of posts whose leading intent is the expected one.
pub fn generated_confusion(posts: &[Generated]) -> Report {
    let mut text = String::new();
    let mut kinds: Vec<&str> = posts.iter().map(|g| g.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let _ = writeln!(
        text,
        "intents on {} generated posts (rows: generator's kind; columns: leading intent)",
        posts.len()
    );
    let _ = write!(text, "{:>18}", "");
    for k in IntentKind::ALL {
        let _ = write!(text, "{:>15}", k.as_str());
    }
    text.push('\n');
    for kind in &kinds {
        let _ = write!(text, "{kind:>18}");
        for k in IntentKind::ALL {
            let n = posts
                .iter()
                .filter(|g| g.kind == *kind && primary_intent(&g.analysis) == k)
                .count();
            let _ = write!(text, "{n:>15}");
        }
        text.push('\n');
    }
    let mut roles: Vec<&str> = posts.iter().map(|g| g.role.as_str()).collect();
    roles.sort_unstable();
    roles.dedup();
    let _ = writeln!(
        text,
        "author kinds (rows: the cast's role; columns: the analysis's author kind)"
    );
    let _ = write!(text, "{:>18}", "");
    for k in model::analysis::AuthorKind::ALL {
        let _ = write!(text, "{:>19}", k.as_str());
    }
    text.push('\n');
    for role in &roles {
        let _ = write!(text, "{role:>18}");
        for k in model::analysis::AuthorKind::ALL {
            let n = posts
                .iter()
                .filter(|g| g.role == *role && g.analysis.author.kind == k)
                .count();
            let _ = write!(text, "{n:>19}");
        }
        text.push('\n');
    }
    let n = posts.len().max(1) as f64;
    let complaints = posts
        .iter()
        .filter(|g| g.analysis.has_intent(IntentKind::Complaint))
        .count();
    let gold = posts.iter().filter(|g| g.kind == "complaint").count();
    let on_organisations = posts
        .iter()
        .filter(|g| {
            g.analysis.has_intent(IntentKind::Complaint)
                && matches!(
                    g.analysis.author.kind,
                    model::analysis::AuthorKind::OwnOrganisation
                        | model::analysis::AuthorKind::PeerOrganisation
                )
        })
        .count();
    let agree = posts
        .iter()
        .filter(|g| primary_intent(&g.analysis) == expected_intent(&g.kind))
        .count() as f64
        / n;
    let _ = writeln!(
        text,
        "complaint intents {complaints} ({:.1} %), generator's complaints {gold} ({:.1} %); \
         complaint intents on own or peer organisations' posts: {on_organisations}",
        100.0 * complaints as f64 / n,
        100.0 * gold as f64 / n
    );
    let _ = writeln!(
        text,
        "leading intent as the generator meant it: {:.1} %",
        100.0 * agree
    );
    Report {
        text,
        metric: "agreement".into(),
        value: agree,
    }
}

/// Evaluates one task on one file.
pub fn evaluate(
    analyser: &Analyser,
    task: Task,
    path: &Path,
    opts: Options,
) -> Result<Report, Error> {
    match task {
        Task::Sentiment => eval_sentiment(analyser, path, opts),
        Task::Complaint | Task::Compliment => eval_intent(analyser, path, opts, task),
        Task::Misinformation | Task::Irony => eval_binary(analyser, path, opts, task),
        Task::Themes => eval_themes(analyser, path, opts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics() {
        assert!((pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]) - 1.0).abs() < 1e-9);
        let mut t = String::new();
        let (mr, _, w) = per_class(&["a", "b"], &[(0, 0), (1, 1), (1, 0)], &mut t);
        assert!((mr - 0.75).abs() < 1e-9);
        assert!(w > 0.0);
        assert!(confusion(&["a", "b"], &[(0, 1)]).contains('1'));
    }
}
