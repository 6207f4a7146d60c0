//! Throughput of the full analysis on one core, over the SemEval/TweetEval tweet texts in
//! `shared/data`, with Python `vaderSentiment` timed over the same texts in the same run.
//!
//! Run with `cargo test --release -p analyse --test throughput -- --ignored --nocapture`.
//! Python's side is skipped (with a note) when `python3 -c "import vaderSentiment"` fails;
//! install it with `pip install vaderSentiment`.

#[cfg(test)]
mod tests {
    use std::hint::black_box;
    use std::path::PathBuf;
    use std::process::Command;
    use std::time::Instant;

    const PYTHON: &str = r#"
import sys, time
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
texts = open(sys.argv[1], encoding="utf-8").read().split("\n")
a = SentimentIntensityAnalyzer()
t = time.perf_counter()
s = 0.0
for x in texts:
    s += a.polarity_scores(x)["compound"]
print(len(texts) / (time.perf_counter() - t))
"#;

    fn corpus() -> Option<Vec<String>> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/semeval-twitter-sentiment/combined_2013-2016_dedup.tsv");
        let text = std::fs::read_to_string(path).ok()?;
        Some(
            text.lines()
                .skip(1)
                .filter_map(|l| l.splitn(7, '\t').nth(6))
                .map(|t| t.replace("\\u2019", "'"))
                .collect(),
        )
    }

    #[test]
    #[ignore]
    fn full_analysis_against_python_vader() {
        let Some(texts) = corpus() else {
            eprintln!("shared/data not found: skipped");
            return;
        };
        let analyser = analyse::Analyser::new().unwrap();
        for t in texts.iter().take(500) {
            black_box(analyser.analyse_text(t));
        }
        let start = Instant::now();
        let mut chars = 0usize;
        for t in &texts {
            let a = analyser.analyse_text(t);
            chars += a.priority.score as usize;
            black_box(a);
        }
        let secs = start.elapsed().as_secs_f64();
        let ours = texts.len() as f64 / secs;
        black_box(chars);
        println!(
            "full analysis: {} posts in {secs:.2}s = {ours:.0} posts/s on one core",
            texts.len()
        );

        let start = Instant::now();
        let mut sum = 0.0;
        let pipeline = analyser.pipeline();
        for t in &texts {
            sum += pipeline.prepare(t).lexicon.compound;
        }
        black_box(sum);
        let lex = texts.len() as f64 / start.elapsed().as_secs_f64();
        println!("normalise + lexicon + features only: {lex:.0} posts/s");

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("texts.txt");
        std::fs::write(&file, texts.join("\n")).unwrap();
        let out = Command::new("python3")
            .arg("-c")
            .arg(PYTHON)
            .arg(&file)
            .output();
        match out {
            Ok(o) if o.status.success() => {
                let py: f64 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
                println!("python vaderSentiment: {py:.0} posts/s (sentiment only)");
                println!("ratio full analysis / python VADER: {:.1}x", ours / py);
            }
            _ => println!("python vaderSentiment not available: pip install vaderSentiment"),
        }
    }

    /// The full analysis alone, once over the corpus (for profilers:
    /// `valgrind --tool=callgrind target/release/deps/throughput-* --ignored analysis_only`).
    #[test]
    #[ignore]
    fn analysis_only() {
        let Some(texts) = corpus() else {
            eprintln!("shared/data not found: skipped");
            return;
        };
        let analyser = analyse::Analyser::new().unwrap();
        let start = Instant::now();
        for t in &texts {
            black_box(analyser.analyse_text(t));
        }
        let secs = start.elapsed().as_secs_f64();
        println!("full analysis: {:.0} posts/s", texts.len() as f64 / secs);
    }

    /// 20,000 generated X posts (fixed seed) parsed as `import` parses them: authors with bios
    /// and follower counts, declared languages, titles. For profilers, the inclusive cost of
    /// `Analyser::analyse` over them measures the analysis of whole posts, author included:
    /// `valgrind --tool=callgrind target/release/deps/throughput-* --ignored posts_only`.
    #[test]
    #[ignore]
    fn posts_only() {
        let posts = generated_posts(20_000);
        let analyser = analyse::Analyser::new().unwrap();
        let start = Instant::now();
        for post in &posts {
            black_box(analyser.analyse(post));
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "full analysis of {} generated posts: {:.0} posts/s",
            posts.len(),
            posts.len() as f64 / secs
        );
    }

    /// Generated X posts (deterministic: fixed seed and start), parsed as `import` parses them.
    fn generated_posts(count: u64) -> Vec<model::Post> {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.jsonl");
        let start: jiff::Timestamp = "2024-05-01T00:00:00Z".parse().unwrap();
        let config = generate::Config::new(count, generate::OutputFormat::X, 1, start);
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        for line in generate::Generator::new(config) {
            writeln!(file, "{line}").unwrap();
        }
        file.flush().unwrap();
        drop(file);
        let (_, records) = ingest::records(&path, &ingest::ImportOptions::default()).unwrap();
        records
            .filter_map(|r| match r {
                Ok(ingest::Record::Change(model::Change::Upsert(post))) => Some(*post),
                _ => None,
            })
            .collect()
    }
}
