//! Readers of the labelled data sets in their native formats (as kept in `shared/data/`), and
//! the fixed hold-out rule for the sets that have no validation split.
//!
//! This is the only module of the crate that reads files; the analysis itself does no I/O.

use std::path::Path;

use crate::Error;

/// A labelled text: one label for single-label tasks, several for themes.
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    /// The text.
    pub text: String,
    /// The labels (names).
    pub labels: Vec<String>,
    /// A numeric target where the data has one (VADER mean rating).
    pub value: Option<f32>,
}

fn err(path: &Path, message: impl Into<String>) -> Error {
    Error::Dataset {
        path: path.display().to_string(),
        message: message.into(),
    }
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| err(path, format!("cannot read: {e}")))
}

/// Lower case, whitespace runs collapsed, trimmed: the text key of the hold-out rule.
pub fn norm_key(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The fixed hold-out rule for data without a validation split: a row is held out when the
/// FNV-1a hash of its normalised text is 0 modulo 5 (about one row in five). Identical texts
/// always fall on the same side.
pub fn is_held_out(text: &str) -> bool {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in norm_key(text).bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h.is_multiple_of(5)
}

/// A second fixed rule, inside the training part, for tuning thresholds (about one in five):
/// the rows of [`tuning_fold`] 1.
pub fn is_tuning(text: &str) -> bool {
    tuning_fold(text) == 1
}

/// The fold (0 to 4) of a training row for out-of-fold threshold tuning, from a second hash of
/// its normalised text (independent of the hold-out rule).
pub fn tuning_fold(text: &str) -> usize {
    let mut h: u64 = 0x8422_2325_cbf2_9ce4;
    for b in norm_key(text).bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % 5) as usize
}

/// Strips the outer quotes that some SemEval files put around a text (`""` inside).
fn unquote(text: &str) -> String {
    let t = text.trim();
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        t.get(1..t.len() - 1).unwrap_or(t).replace("\"\"", "\"")
    } else {
        t.to_owned()
    }
}

/// The SemEval 2013-2016 union (`combined_2013-2016_dedup.tsv`): rows marked as in TweetEval
/// validation and rows with conflicting labels are left out.
pub fn semeval_combined(path: &Path) -> Result<Vec<Labelled>, Error> {
    let text = read(path)?;
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("");
    if !header.starts_with("id\tlabel") {
        return Err(err(
            path,
            "expected the header `id<TAB>label<TAB>source_file...`",
        ));
    }
    let mut out = Vec::new();
    for line in lines {
        let cols: Vec<&str> = line.splitn(7, '\t').collect();
        let [_, label, _, _, conflict, in_val, body] = cols.as_slice() else {
            continue;
        };
        if *conflict == "1" || *in_val == "1" {
            continue;
        }
        out.push(Labelled {
            text: unquote(body),
            labels: vec![(*label).to_owned()],
            value: None,
        });
    }
    Ok(out)
}

/// A SemEval Subtask A file (`id<TAB>label<TAB>text[<TAB>...]`).
pub fn semeval_file(path: &Path) -> Result<Vec<Labelled>, Error> {
    let text = read(path)?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let label = cols.get(1)?;
            let body = cols.get(2)?;
            matches!(*label, "positive" | "negative" | "neutral").then(|| Labelled {
                text: unquote(body),
                labels: vec![(*label).to_owned()],
                value: None,
            })
        })
        .collect())
}

/// A TweetEval `*_text.txt` with its `*_labels.txt` beside it, labels mapped through
/// `mapping.txt` when present (sentiment: 0 negative, 1 neutral, 2 positive).
pub fn tweeteval(text_path: &Path) -> Result<Vec<Labelled>, Error> {
    let name = text_path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let labels_name = name.replace("_text.txt", "_labels.txt");
    if labels_name == name {
        return Err(err(
            text_path,
            "a TweetEval text file is named `<split>_text.txt`",
        ));
    }
    let labels_path = text_path.with_file_name(labels_name);
    let texts = read(text_path)?;
    let labels = read(&labels_path)?;
    let mapping_path = text_path.with_file_name("mapping.txt");
    let mapping: Vec<(String, String)> = std::fs::read_to_string(mapping_path)
        .map(|m| {
            m.lines()
                .filter_map(|l| l.split_once('\t'))
                .map(|(a, b)| (a.trim().to_owned(), b.trim().to_owned()))
                .collect()
        })
        .unwrap_or_else(|_| {
            vec![
                ("0".into(), "negative".into()),
                ("1".into(), "neutral".into()),
                ("2".into(), "positive".into()),
            ]
        });
    let texts: Vec<&str> = texts.lines().collect();
    let labels: Vec<&str> = labels.lines().map(str::trim).collect();
    if texts.len() != labels.len() {
        return Err(err(
            text_path,
            format!(
                "{} texts but {} labels in the labels file",
                texts.len(),
                labels.len()
            ),
        ));
    }
    Ok(texts
        .iter()
        .zip(labels)
        .map(|(t, l)| {
            let name = mapping
                .iter()
                .find(|(k, _)| k == l)
                .map_or_else(|| l.to_owned(), |(_, v)| v.clone());
            Labelled {
                text: (*t).to_owned(),
                labels: vec![name],
                value: None,
            }
        })
        .collect())
}

/// The 3-class label of a VADER mean rating (-4..4) on the paper's ±0.05 normalised thresholds.
pub fn vader_class(mean: f32) -> &'static str {
    let n = mean / 4.0;
    if n > 0.05 {
        "positive"
    } else if n < -0.05 {
        "negative"
    } else {
        "neutral"
    }
}

/// A VADER ground-truth file (`ID<TAB>MEAN<TAB>TEXT`).
pub fn vader(path: &Path) -> Result<Vec<Labelled>, Error> {
    let text = read(path)?;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        let mut cols = line.splitn(3, '\t');
        let (Some(_), Some(mean), Some(body)) = (cols.next(), cols.next(), cols.next()) else {
            continue;
        };
        let Ok(mean) = mean.trim().parse::<f32>() else {
            continue;
        };
        out.push(Labelled {
            text: body.to_owned(),
            labels: vec![vader_class(mean).to_owned()],
            value: Some(mean),
        });
    }
    if out.is_empty() {
        return Err(err(path, "no `ID<TAB>MEAN<TAB>TEXT` rows found"));
    }
    Ok(out)
}

/// The complaints CSV (no header: `tweet_id,text,label,domain`; label 1 = complaint).
pub fn complaints(path: &Path) -> Result<Vec<Labelled>, Error> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| err(path, format!("cannot read CSV: {e}")))?;
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| err(path, format!("bad CSV row: {e}")))?;
        let (Some(text), Some(label)) = (rec.get(1), rec.get(2)) else {
            continue;
        };
        let label = match label.trim() {
            "1" => "complaint",
            "0" => "not_complaint",
            _ => continue,
        };
        out.push(Labelled {
            text: text.to_owned(),
            labels: vec![label.to_owned()],
            value: None,
        });
    }
    Ok(out)
}

/// A CONSTRAINT CSV (`id,tweet,label`; label `real` or `fake`).
pub fn constraint(path: &Path) -> Result<Vec<Labelled>, Error> {
    let mut rdr =
        csv::Reader::from_path(path).map_err(|e| err(path, format!("cannot read CSV: {e}")))?;
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| err(path, format!("bad CSV row: {e}")))?;
        let (Some(text), Some(label)) = (rec.get(1), rec.get(2)) else {
            continue;
        };
        let label = label.trim().to_lowercase();
        if label != "real" && label != "fake" {
            continue;
        }
        out.push(Labelled {
            text: text.to_owned(),
            labels: vec![label],
            value: None,
        });
    }
    Ok(out)
}

/// Theme columns of the v6 framework that are not themes.
pub const NOT_THEMES: [&str; 1] = ["Not assigned"];

/// A pxtextmining v6-framework CSV: the `FFT answer` text and the theme columns set to 1
/// (readable names, see [`crate::readable_theme`]). Empty answers are skipped. Returns the
/// theme names (every theme column except [`NOT_THEMES`]) and the rows.
pub fn pxtextmining_v6(path: &Path) -> Result<(Vec<String>, Vec<Labelled>), Error> {
    let mut rdr =
        csv::Reader::from_path(path).map_err(|e| err(path, format!("cannot read CSV: {e}")))?;
    let headers = rdr
        .headers()
        .map_err(|e| err(path, format!("no header: {e}")))?
        .clone();
    let text_col = headers
        .iter()
        .position(|h| h == "FFT answer")
        .ok_or_else(|| {
            err(
                path,
                "no `FFT answer` column: only the v6 framework files are supported for themes \
             (phase 1 files use another label set)",
            )
        })?;
    let first_theme = headers
        .iter()
        .position(|h| h == "Comment sentiment")
        .map_or(11, |p| p + 1);
    let theme_cols: Vec<(usize, String)> = headers
        .iter()
        .enumerate()
        .skip(first_theme)
        .map(|(i, h)| (i, h.to_owned()))
        .collect();
    let names: Vec<String> = theme_cols
        .iter()
        .filter(|(_, h)| !NOT_THEMES.contains(&h.as_str()))
        .map(|(_, h)| crate::readable_theme(h))
        .collect();
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| err(path, format!("bad CSV row: {e}")))?;
        let text = rec.get(text_col).unwrap_or("").trim();
        if text.is_empty() {
            continue;
        }
        let labels = theme_cols
            .iter()
            .filter(|(i, h)| {
                !NOT_THEMES.contains(&h.as_str())
                    && rec.get(*i).is_some_and(|v| matches!(v.trim(), "1" | "1.0"))
            })
            .map(|(_, h)| crate::readable_theme(h))
            .collect();
        out.push(Labelled {
            text: text.to_owned(),
            labels,
            value: None,
        });
    }
    Ok((names, out))
}

/// Phase-1 pxtextmining sub-categories whose meaning is one v6 theme (column name).
pub const PHASE1_TO_V6: &[(&str, &str)] = &[
    ("Attitude Of Staff", "Staff manner & personal attributes"),
    (
        "Professionalism/Competence Of Staff",
        "Competence & training",
    ),
    ("Food", "Food & drink provision & facilities"),
    (
        "Time spent waiting for first appt/referral/service",
        "Timeliness of care",
    ),
    (
        "Time spent waiting between appointments",
        "Timeliness of care",
    ),
    (
        "Listening",
        "Staff listening, understanding & involving patients",
    ),
    ("Cleanliness", "Cleanliness, tidiness & infection control"),
    ("Staffing levels", "Number & deployment of staff"),
    ("Activities", "Activities & access to fresh air"),
    ("Medication", "Supplying & understanding medication"),
    ("Transition And Discharge", "Discharge"),
    ("Feeling safe including bullying", "Feeling safe"),
    ("Location", "Service location"),
];

/// The phase-1 pxtextmining file (`code,label,subcategory,feedback,...`): the rows whose
/// sub-category maps onto one v6 theme ([`PHASE1_TO_V6`]), labelled with that theme's readable
/// name only (single-label: they say nothing of the other themes).
pub fn pxtextmining_phase1(path: &Path) -> Result<Vec<Labelled>, Error> {
    let mut rdr =
        csv::Reader::from_path(path).map_err(|e| err(path, format!("cannot read CSV: {e}")))?;
    let headers = rdr
        .headers()
        .map_err(|e| err(path, format!("no header: {e}")))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| err(path, format!("no `{name}` column: not a phase-1 file")))
    };
    let (text_col, sub_col) = (col("feedback")?, col("subcategory")?);
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| err(path, format!("bad CSV row: {e}")))?;
        let text = rec.get(text_col).unwrap_or("").trim();
        let sub = rec.get(sub_col).unwrap_or("").trim();
        let Some((_, theme)) = PHASE1_TO_V6.iter().find(|(s, _)| *s == sub) else {
            continue;
        };
        if text.is_empty() {
            continue;
        }
        out.push(Labelled {
            text: text.to_owned(),
            labels: vec![crate::readable_theme(theme)],
            value: None,
        });
    }
    Ok(out)
}

/// The rows of a phase-1 pxtextmining file read for complaint and compliment, and the rows
/// passed over.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Criticality {
    /// One row per comment: the text, the label (`complaint` for criticality below 0,
    /// `compliment` above 0, `neither` at 0) and the criticality as the value.
    pub rows: Vec<Labelled>,
    /// Rows whose criticality is not a whole number from -5 to 5 (`-o`, `NA`, `xx`, `-9`).
    pub passed_over: usize,
    /// Rows with an empty comment.
    pub empty: usize,
}

/// Whether a CSV header is a phase-1 pxtextmining file (`feedback` and `criticality`).
pub fn is_phase1(path: &Path) -> bool {
    csv::Reader::from_path(path)
        .ok()
        .and_then(|mut r| r.headers().ok().cloned())
        .is_some_and(|h| h.iter().any(|c| c == "feedback") && h.iter().any(|c| c == "criticality"))
}

/// A phase-1 pxtextmining file (`code,label,subcategory,feedback,criticality,...`) read for
/// complaint and compliment: `criticality` runs from -5 (highly critical) to +5 (highly
/// positive); below 0 is a complaint, above 0 a compliment, 0 neither. Rows whose criticality
/// is not a whole number in that range are passed over and counted.
pub fn pxtextmining_criticality(path: &Path) -> Result<Criticality, Error> {
    let mut rdr =
        csv::Reader::from_path(path).map_err(|e| err(path, format!("cannot read CSV: {e}")))?;
    let headers = rdr
        .headers()
        .map_err(|e| err(path, format!("no header: {e}")))?
        .clone();
    let col = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            err(
                path,
                format!("no `{name}` column: not a phase-1 pxtextmining file"),
            )
        })
    };
    let (text_col, crit_col) = (col("feedback")?, col("criticality")?);
    let mut out = Criticality::default();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| err(path, format!("bad CSV row: {e}")))?;
        let text = rec.get(text_col).unwrap_or("").trim();
        let Some(value) = rec
            .get(crit_col)
            .and_then(|c| c.trim().parse::<i8>().ok())
            .filter(|v| (-5..=5).contains(v))
        else {
            out.passed_over += 1;
            continue;
        };
        if text.is_empty() {
            out.empty += 1;
            continue;
        }
        let label = match value {
            v if v < 0 => "complaint",
            v if v > 0 => "compliment",
            _ => "neither",
        };
        out.rows.push(Labelled {
            text: text.to_owned(),
            labels: vec![label.to_owned()],
            value: Some(f32::from(value)),
        });
    }
    Ok(out)
}

/// The rows of a JSON Lines file, and the lines that could not be used.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JsonLines {
    /// The labelled rows, in file order.
    pub rows: Vec<Labelled>,
    /// One message per line passed over (`line 3: not JSON: ...`), in file order.
    pub skipped: Vec<String>,
}

/// A JSON Lines file of `{"text": ..., "label": "..." | ["...", ...]}` (a number in `label` is
/// kept as a value, for sentiment intensity). A line that is not such an object is passed over
/// and named in [`JsonLines::skipped`]; the other lines are kept. A file with no usable line is
/// an error.
pub fn jsonl(path: &Path) -> Result<JsonLines, Error> {
    let text = read(path)?;
    let mut out = JsonLines::default();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match jsonl_row(line) {
            Ok(row) => out.rows.push(row),
            Err(reason) => out.skipped.push(format!("line {}: {reason}", n + 1)),
        }
    }
    if out.rows.is_empty() {
        let first = out
            .skipped
            .first()
            .map_or("the file is empty", String::as_str);
        return Err(err(
            path,
            format!("no usable `{{\"text\": ..., \"label\": ...}}` line ({first})"),
        ));
    }
    Ok(out)
}

/// One line of a JSON Lines file, or why it cannot be used.
fn jsonl_row(line: &str) -> Result<Labelled, String> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let t = v
        .get("text")
        .and_then(|t| t.as_str())
        .ok_or("no string `text`")?;
    let (labels, value) = match v.get("label") {
        Some(serde_json::Value::String(s)) => (vec![s.clone()], None),
        Some(serde_json::Value::Array(a)) => (
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
            None,
        ),
        Some(serde_json::Value::Number(x)) => (Vec::new(), x.as_f64().map(|f| f as f32)),
        Some(serde_json::Value::Bool(b)) => (vec![b.to_string()], None),
        _ => return Err("no `label`".to_owned()),
    };
    Ok(Labelled {
        text: t.to_owned(),
        labels,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn data(rel: &str) -> Option<PathBuf> {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data")
            .join(rel);
        p.exists().then_some(p)
    }

    #[test]
    fn hold_out_rule_is_fixed_and_about_a_fifth() {
        assert_eq!(is_held_out("Hello  World"), is_held_out("hello world"));
        let n = (0..1000)
            .filter(|i| is_held_out(&format!("text {i}")))
            .count();
        assert!((150..250).contains(&n), "{n}");
    }

    #[test]
    fn readers_on_the_real_files() {
        if let Some(p) = data("tweeteval/sentiment/val_text.txt") {
            let rows = tweeteval(&p).unwrap();
            assert_eq!(rows.len(), 2000);
            assert_eq!(
                rows.iter().filter(|r| r.labels[0] == "negative").count(),
                312
            );
        }
        if let Some(p) = data("semeval-twitter-sentiment/combined_2013-2016_dedup.tsv") {
            let rows = semeval_combined(&p).unwrap();
            assert_eq!(rows.len(), 47_482);
            assert!(!rows[0].text.starts_with('"'));
        }
        if let Some(p) = data("vader-icwsm2014/tweets_GroundTruth.txt") {
            let rows = vader(&p).unwrap();
            assert_eq!(rows.len(), 4200);
            assert!(rows[0].value.unwrap() > 2.0);
        }
        if let Some(p) = data("complaints-twitter/complaints-data.dev.csv") {
            let rows = complaints(&p).unwrap();
            assert_eq!(rows.len(), 2769);
            assert_eq!(
                rows.iter().filter(|r| r.labels[0] == "complaint").count(),
                974
            );
        }
        if let Some(p) = data("constraint-covid-fake-news/Constraint_Val.csv") {
            let rows = constraint(&p).unwrap();
            assert_eq!(rows.len(), 2140);
            assert_eq!(rows.iter().filter(|r| r.labels[0] == "fake").count(), 1020);
        }
        if let Some(p) = data("pxtextmining/phase1_text_data.dev.csv") {
            // Counted with Python's csv module: 8,350 rows, 27 whose criticality is not a
            // whole number from -5 to 5; 1,490 below 0, 2,017 at 0, 4,816 above.
            let read = pxtextmining_criticality(&p).unwrap();
            assert_eq!((read.passed_over, read.empty), (27, 0));
            let count = |l: &str| read.rows.iter().filter(|r| r.labels[0] == l).count();
            assert_eq!(
                (count("complaint"), count("neither"), count("compliment")),
                (1490, 2017, 4816)
            );
            assert!(is_phase1(&p));
        }
        if let Some(p) = data("pxtextmining/v6framework_230831.dev.csv") {
            assert!(!is_phase1(&p));
            let (names, rows) = pxtextmining_v6(&p).unwrap();
            assert_eq!(names.len(), 49);
            assert_eq!(rows.len(), 6795 - 508);
            assert!(names.contains(&"Staff manner and personal attributes".to_owned()));
        }
    }

    #[test]
    fn jsonl_reader() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.jsonl");
        std::fs::write(
            &p,
            "{\"text\":\"a\",\"label\":\"positive\"}\n{\"text\":\"b\",\"label\":[\"Parking\"]}\n",
        )
        .unwrap();
        let read = jsonl(&p).unwrap();
        assert_eq!(read.rows[1].labels, vec!["Parking".to_owned()]);
        assert!(read.skipped.is_empty());
    }

    #[test]
    fn jsonl_broken_lines_are_named_and_the_rest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.jsonl");
        std::fs::write(
            &p,
            "{\"text\":\"a\",\"label\":\"complaint\"}\n{\"text\": broken\n{\"label\":\"x\"}\n\n{\"text\":\"b\",\"label\":\"complaint\"}\n",
        )
        .unwrap();
        let read = jsonl(&p).unwrap();
        assert_eq!(read.rows.len(), 2);
        assert_eq!(read.rows[1].text, "b");
        assert_eq!(read.skipped.len(), 2);
        assert!(
            read.skipped[0].starts_with("line 2: not JSON"),
            "{:?}",
            read.skipped
        );
        assert_eq!(read.skipped[1], "line 3: no string `text`");
        std::fs::write(&p, "not json\n").unwrap();
        let error = jsonl(&p).unwrap_err().to_string();
        assert!(
            error.contains("no usable") && error.contains("line 1"),
            "{error}"
        );
    }
}
