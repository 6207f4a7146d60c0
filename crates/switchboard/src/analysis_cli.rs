//! The `train`, `eval` and `analyse --text` commands: thin wrappers over the `analyse` crate.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};

use analyse::eval::{Options, Task};
use analyse::train::TrainOptions;
use analyse::{Analyser, MODEL_FILES, Models, Pipeline};

/// Arguments of `switchboard train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The labelled data directory (`shared/data`).
    #[arg(long, default_value = "../shared/data", env = "SWITCHBOARD_DATA")]
    pub data: PathBuf,
    /// Where to write the model files.
    #[arg(long, default_value = "crates/analyse/models")]
    pub out: PathBuf,
    /// The shuffle seed (same data and seed give byte-identical models).
    #[arg(long, default_value_t = 20_240_901)]
    pub seed: u64,
    /// Use at most this many rows of each data set (quick checks).
    #[arg(long)]
    pub limit: Option<usize>,
}

/// The tasks `switchboard eval` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvalTask {
    /// Sentiment: TweetEval `*_text.txt`, VADER `tweets_GroundTruth.txt`, or JSON Lines.
    Sentiment,
    /// Complaint: the complaints CSV, a phase-1 pxtextmining CSV, or JSON Lines.
    Complaint,
    /// Compliment: a phase-1 pxtextmining CSV (criticality above 0), or JSON Lines.
    Compliment,
    /// Irony: TweetEval irony `val_text.txt`, or JSON Lines.
    Irony,
    /// Themes: a pxtextmining v6 CSV, or JSON Lines.
    Themes,
    /// Misinformation: a CONSTRAINT CSV, or JSON Lines.
    Misinformation,
    /// A sanity check on generated posts (no file): the analysis's intents and author kinds
    /// against what the generator wrote, with the trust's directory.
    Intents,
}

/// Arguments of `switchboard eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Which task.
    #[arg(long, value_enum)]
    pub task: EvalTask,
    /// The labelled file, in the data set's own format or JSON Lines (`{text, label}`); not
    /// used by `--task intents`.
    #[arg(long, required_unless_present = "posts")]
    pub data: Option<PathBuf>,
    /// `--task intents`: how many posts to generate (X pages, fixed seed).
    #[arg(long)]
    pub posts: Option<u64>,
    /// Sentiment from the lexicon alone, to compare with the combined engine.
    #[arg(long)]
    pub lexicon_only: bool,
    /// Score every row even of a development file whose other rows trained the model.
    #[arg(long)]
    pub all_rows: bool,
    /// Read models from this directory instead of the embedded ones.
    #[arg(long)]
    pub models: Option<PathBuf>,
}

/// Arguments of `switchboard analyse` when it reads free text rather than the store.
#[derive(Debug, Args)]
pub struct TextArgs {
    /// Analyse this text and print the result instead of analysing stored posts (`-` reads
    /// lines from standard input).
    #[arg(long)]
    pub text: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `switchboard train`.
pub fn train(args: &TrainArgs) -> anyhow::Result<()> {
    let pipeline = Pipeline::new()?;
    let opts = TrainOptions {
        data_dir: args.data.clone(),
        seed: args.seed,
        limit: args.limit,
    };
    let started = std::time::Instant::now();
    let (bytes, report) = analyse::train::train_all(&pipeline, &opts, &mut |step| {
        eprintln!("[{:>5.1}s] {step}", started.elapsed().as_secs_f32());
    })
    .with_context(|| {
        format!(
            "training from {} (set --data to shared/data)",
            args.data.display()
        )
    })?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    for (name, b) in MODEL_FILES.iter().zip(&bytes) {
        let path = args.out.join(name);
        std::fs::write(&path, b).with_context(|| format!("writing {}", path.display()))?;
        outln!("wrote {} ({} bytes)", path.display(), b.len())?;
    }
    for line in report {
        outln!("{line}")?;
    }
    outln!(
        "done in {:.1}s; rebuild to embed the new models",
        started.elapsed().as_secs_f32()
    )?;
    Ok(())
}

/// Runs `switchboard eval`.
pub fn eval(args: &EvalArgs) -> anyhow::Result<()> {
    let models = match &args.models {
        Some(dir) => Models::from_dir(dir)?,
        None => Models::embedded()?,
    };
    let analyser = Analyser::with_models(models)?;
    if args.task == EvalTask::Intents {
        let report = generated_intents(&analyser, args.posts.unwrap_or(20_000))?;
        out!("{}", report.text)?;
        outln!("{} {:.4}", report.metric, report.value)?;
        return Ok(());
    }
    let Some(data) = &args.data else {
        anyhow::bail!("give the labelled file with --data FILE");
    };
    let task = match args.task {
        EvalTask::Sentiment => Task::Sentiment,
        EvalTask::Complaint => Task::Complaint,
        EvalTask::Compliment => Task::Compliment,
        EvalTask::Irony => Task::Irony,
        EvalTask::Themes => Task::Themes,
        EvalTask::Misinformation | EvalTask::Intents => Task::Misinformation,
    };
    let opts = Options {
        lexicon_only: args.lexicon_only,
        all_rows: args.all_rows,
    };
    let report = analyse::eval::evaluate(&analyser, task, data, opts)?;
    out!("{}", report.text)?;
    outln!("{} {:.4}", report.metric, report.value)?;
    Ok(())
}

/// `eval --task intents`: `count` generated X posts (seed 1, from 1 May 2024) parsed as
/// `import` parses them, analysed with the trust's directory as the demo imports it, and
/// compared with what the generator wrote ([`analyse::eval::generated_confusion`]).
fn generated_intents(analyser: &Analyser, count: u64) -> anyhow::Result<analyse::eval::Report> {
    use std::collections::HashMap;

    let start: jiff::Timestamp = "2024-05-01T00:00:00Z".parse()?;
    let config = generate::Config::new(count, generate::OutputFormat::X, 1, start);
    let csv = generate::directory_csv(std::slice::from_ref(&config));
    let rows = directory::csv::read(csv.as_bytes(), &model::directory::Directory::default())
        .map_err(|errors| anyhow::anyhow!("the demo directory does not read: {errors:?}"))?;
    let entries = rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let mut entry = row.entry;
            entry.id = i as i64 + 1;
            entry
        })
        .collect();
    let directory = model::directory::Directory::new(entries);
    let path = std::env::temp_dir().join(format!("switchboard-eval-{}.jsonl", std::process::id()));
    let mut truth: HashMap<String, (String, String)> = HashMap::new();
    {
        let mut file = std::io::BufWriter::new(
            std::fs::File::create(&path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        );
        let mut generator = generate::Generator::new(config);
        while let Some(line) = generator.next() {
            writeln!(file, "{line}")?;
            for label in generator.labels() {
                let role = generator
                    .accounts()
                    .get(label.author)
                    .map_or_else(String::new, |a| snake(&format!("{:?}", a.role)));
                truth.insert(
                    label.id.clone(),
                    (snake(&format!("{:?}", label.kind)), role),
                );
            }
        }
        file.flush()?;
    }
    let parsed = ingest::records(&path, &ingest::ImportOptions::default());
    let posts: Vec<model::Post> = match parsed {
        Ok((_, records)) => records
            .filter_map(|r| match r {
                Ok(ingest::Record::Change(model::Change::Upsert(post))) => Some(*post),
                _ => None,
            })
            .collect(),
        Err(error) => {
            let _ = std::fs::remove_file(&path);
            return Err(error.into());
        }
    };
    let _ = std::fs::remove_file(&path);
    let generated: Vec<analyse::eval::Generated> = posts
        .iter()
        .filter_map(|post| {
            let (kind, role) = truth.get(&post.id)?;
            Some(analyse::eval::Generated {
                analysis: analyser.analyse_with(post, &directory),
                kind: kind.clone(),
                role: role.clone(),
            })
        })
        .collect();
    Ok(analyse::eval::generated_confusion(&generated))
}

/// `StaffDiscussion` → `staff_discussion`.
fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn print_analysis(a: &model::analysis::Analysis, text: &str, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, a)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "text:        {text}")?;
    writeln!(
        out,
        "language:    {} ({}, {:?}, {:.2})",
        a.language.name, a.language.code, a.language.source, a.language.confidence
    )?;
    writeln!(
        out,
        "sentiment:   {} {:+.2} ({})",
        a.sentiment.label.as_str(),
        a.sentiment.score,
        a.sentiment.reason
    )?;
    for i in &a.intents {
        let mark = if i.detected { "*" } else { " " };
        writeln!(
            out,
            "intent:    {mark} {:<15} {:.2}  {}",
            i.kind.as_str(),
            i.probability,
            i.reason
        )?;
    }
    for t in &a.themes {
        writeln!(
            out,
            "theme:       {} {:.2} ({})",
            t.label, t.probability, t.reason
        )?;
    }
    if let Some(p) = &a.professional {
        writeln!(out, "professional: {} ({})", p.role, p.reason)?;
    }
    if let Some(j) = &a.journalist {
        writeln!(out, "journalist:  {} ({})", j.role, j.reason)?;
    }
    for p in &a.personal_data {
        let span = text.get(p.start..p.end).unwrap_or("");
        writeln!(
            out,
            "personal:    {} bytes {}..{} \"{span}\" ({})",
            p.kind.as_str(),
            p.start,
            p.end,
            p.reason
        )?;
    }
    writeln!(
        out,
        "priority:    {} ({})",
        a.priority.score,
        a.priority.reasons.join("; ")
    )?;
    writeln!(out)?;
    Ok(())
}

/// Runs `switchboard analyse --text`.
pub fn analyse_text(args: &TextArgs) -> anyhow::Result<()> {
    let Some(text) = &args.text else {
        anyhow::bail!(
            "analysing stored posts is not available yet: give --text \"...\" (or --text - to \
             read lines from standard input)"
        );
    };
    let analyser = Analyser::new()?;
    if text == "-" {
        for line in std::io::stdin().lock().lines() {
            let line = line.context("reading standard input")?;
            if line.trim().is_empty() {
                continue;
            }
            print_analysis(&analyser.analyse_text(&line), &line, args.json)?;
        }
    } else {
        print_analysis(&analyser.analyse_text(text), text, args.json)?;
    }
    Ok(())
}
