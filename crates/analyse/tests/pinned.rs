//! Pins the engine's outputs, so that speed work cannot change a result unseen.
//!
//! `analyses_match_the_pinned_file` analyses a fixed sample (hand-written texts that exercise
//! every rule, and generated X posts with their authors, bios and declared languages) and
//! compares the JSON of every analysis with `tests/pinned/analyses.jsonl`, byte for byte. The
//! file's first line holds the fingerprint of the models it was written with: when the models
//! are retrained the test fails and says so; check the differences, then rewrite the file with
//! `PINNED_UPDATE=1 cargo test -p analyse --test pinned`.
//!
//! `golden_corpus` (ignored) writes the analysis of every SemEval tweet and of 20,000 generated
//! X posts to the file named by `GOLDEN_OUT`, for a full before/after `cmp` of a change:
//! `GOLDEN_OUT=/tmp/golden.jsonl cargo test --release -p analyse --test pinned -- --ignored`.

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::{Path, PathBuf};

    use analyse::Analyser;
    use ingest::{ImportOptions, Record};
    use model::{Author, Change, Network, Post};

    /// Texts that exercise normalisation, the lexicon rules, the intent rules and personal data.
    const TEXTS: &[&str] = &[
        "Waited 9 hours in A&E. Absolutely disgraceful.",
        "Thank you to the amazing nurses on ward 7, so kind #NHSHeroes",
        "How do I get a repeat prescription?",
        "I can't go on, I want to end my life",
        "The 5G towers spread covid and the vaccine has microchips",
        "My NHS number is 943 476 5919, call 07700 900123 or a.b@example.org, I live at LS1 4AP, DOB 12/03/1985",
        "Sooooo GOOD :) 😀😀 in A&amp;E, it\\u2019s fine",
        "@NHSEngland thanks! https://t.co/x #NHSHeroes #AandE #thankyounhs #WaitingTimes2024",
        "The nurses were lovely but the wait was awful and the ward dirty",
        "I didn't hate it, not bad at all!!! kind of ok??",
        "The staff were NOT helpful, very rude and extremely slow",
        "My operation was cancelled again and nobody called back",
        "Dad was discharged too early, sat waiting for over 4 hours",
        "Suicide prevention awareness week: self harm support",
        "Thanks for nothing, absolutely useless service",
        "Diolch yn fawr iawn i'r staff yn yr ysbyty am eu gofal arbennig",
        "Dziękuję bardzo za pomoc, lekarze byli bardzo mili i pomocni",
        "ok",
        "",
        "!!! ???",
        "Can anyone recommend a good dentist near Leeds",
        "born on 3rd March 1990, ring 0113 243 3144 today",
        "Is ivermectin a cure for covid? My friend says the jab causes autism",
        "The food was cold, the parking expensive and the toilets filthy. Staff were kind though.",
        "hellooooo #clapforcarers ❤️❤️ 👍🏽 <3 :-(",
        "GREAT care from the team at St Mary's, couldn't fault them",
        "he hits me and I am scared to go home",
        "I know where you live, watch your back",
        "Really really really long wait in the waiting room, kinda annoying but hardly terrible",
        "no one cares, no help, no answers, nothing",
    ];

    fn sample_posts(generated: &[Post]) -> Vec<Post> {
        let authors = [
            Author {
                display_name: Some("Sam Jones RGN".into()),
                bio: Some("Ward sister. Views my own".into()),
                followers: Some(25_000),
                ..Author::default()
            },
            Author {
                display_name: Some("Dr Priya Shah".into()),
                bio: Some("GP partner, Leeds. GMC 1234567".into()),
                followers: Some(1_200),
                verified: true,
                ..Author::default()
            },
            Author {
                display_name: Some("Alex Reed".into()),
                bio: Some("Health correspondent at the Evening Post".into()),
                followers: Some(150_000),
                ..Author::default()
            },
            Author::default(),
        ];
        let mut posts = Vec::new();
        for (i, text) in TEXTS.iter().enumerate() {
            let author = authors.get(i % authors.len()).cloned().unwrap_or_default();
            let mut post = Post::new(
                Network::X,
                i.to_string(),
                author,
                *text,
                jiff::Timestamp::UNIX_EPOCH,
            );
            if i % 5 == 4 {
                post.lang = Some("en-GB".into());
            }
            if i % 7 == 6 {
                post.title = Some("Patient story".into());
            }
            posts.push(post);
        }
        posts.extend(generated.iter().cloned());
        posts
    }

    /// Generated X posts (deterministic: fixed seed and start), parsed as `import` parses them.
    fn generated_posts(count: u64) -> Vec<Post> {
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
        let (_, records) = ingest::records(&path, &ImportOptions::default()).unwrap();
        records
            .filter_map(|r| match r {
                Ok(Record::Change(Change::Upsert(post))) => Some(*post),
                _ => None,
            })
            .collect()
    }

    fn lines(analyser: &Analyser, posts: &[Post]) -> Vec<String> {
        posts
            .iter()
            .map(|p| serde_json::to_string(&analyser.analyse(p)).unwrap())
            .collect()
    }

    fn pinned_path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pinned/analyses.jsonl")
    }

    #[test]
    fn analyses_match_the_pinned_file() {
        let analyser = Analyser::new().unwrap();
        let posts = sample_posts(&generated_posts(300));
        let fingerprint = format!("models {}", analyser.models().fingerprint);
        let got = lines(&analyser, &posts);
        let path = pinned_path();
        if std::env::var_os("PINNED_UPDATE").is_some() {
            let mut text = fingerprint.clone();
            for line in &got {
                text.push('\n');
                text.push_str(line);
            }
            text.push('\n');
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            return;
        }
        let pinned = std::fs::read_to_string(&path).unwrap();
        let mut pinned_lines = pinned.lines();
        let pinned_fingerprint = pinned_lines.next().unwrap_or("");
        assert_eq!(
            pinned_fingerprint, fingerprint,
            "the models changed since the outputs were pinned: check the differences, then \
             rewrite the file with `PINNED_UPDATE=1 cargo test -p analyse --test pinned`"
        );
        let pinned_lines: Vec<&str> = pinned_lines.collect();
        assert_eq!(pinned_lines.len(), got.len(), "number of pinned analyses");
        for ((post, want), got) in posts.iter().zip(&pinned_lines).zip(&got) {
            assert_eq!(
                got, want,
                "analysis of {:?} (author {:?}) differs from the pinned one",
                post.text, post.author.display_name
            );
        }
    }

    fn semeval_texts() -> Option<Vec<String>> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/semeval-twitter-sentiment/combined_2013-2016_dedup.tsv");
        let text = std::fs::read_to_string(path).ok()?;
        Some(
            text.lines()
                .skip(1)
                .filter_map(|l| l.splitn(7, '\t').nth(6))
                .map(str::to_owned)
                .collect(),
        )
    }

    #[test]
    #[ignore]
    fn golden_corpus() {
        let Some(out) = std::env::var_os("GOLDEN_OUT") else {
            eprintln!("GOLDEN_OUT not set: nothing written");
            return;
        };
        let analyser = Analyser::new().unwrap();
        let mut file = std::io::BufWriter::new(std::fs::File::create(out).unwrap());
        for text in semeval_texts().unwrap_or_default() {
            let json = serde_json::to_string(&analyser.analyse_text(&text)).unwrap();
            writeln!(file, "{json}").unwrap();
        }
        for line in lines(&analyser, &sample_posts(&generated_posts(20_000))) {
            writeln!(file, "{line}").unwrap();
        }
        file.flush().unwrap();
    }
}
