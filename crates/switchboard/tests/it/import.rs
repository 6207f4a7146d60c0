//! `switchboard import`, `search` and `stats` end to end.

use std::{
    fs,
    io::Write,
    process::Stdio,
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::{run, samples, stderr, stdout, switchboard};

fn import_json(dir: &std::path::Path, args: &[&str]) -> Value {
    let output = run(switchboard(dir).arg("import").arg("--json").args(args));
    assert!(
        output.status.success(),
        "import failed: {}",
        stderr(&output)
    );
    serde_json::from_str(&stdout(&output)).expect("the summary is JSON")
}

fn count(summary: &Value, field: &str) -> u64 {
    summary[field]
        .as_u64()
        .unwrap_or_else(|| panic!("no {field} in {summary}"))
}

#[test]
fn every_sample_folder_imports_and_a_second_import_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let folders = ["x-twitter", "mastodon", "bluesky", "facebook"];
    let mut files = Vec::new();
    for folder in folders {
        for entry in fs::read_dir(samples().join(folder)).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    files.sort();
    let paths: Vec<&str> = files.iter().map(|path| path.to_str().unwrap()).collect();
    let first = import_json(dir.path(), &paths);
    assert_eq!(count(&first, "files"), files.len() as u64, "{first}");
    assert_eq!(count(&first, "files_failed"), 0, "{first}");
    assert!(count(&first, "imported") > 500, "{first}");
    // Every new or edited post is analysed; a post seen again in another file with other
    // engagement counts is analysed again when its reach changes its priority (issue 13).
    let analysed = count(&first, "analysed");
    let new_or_edited = count(&first, "imported") + count(&first, "updated");
    assert!(
        (new_or_edited..=new_or_edited + count(&first, "refreshed")).contains(&analysed),
        "{first}"
    );
    let stats = run(switchboard(dir.path()).args(["stats", "--json"]));
    let stats: Value = serde_json::from_str(&stdout(&stats)).unwrap();
    let posts = stats["posts"].as_u64().unwrap();
    assert_eq!(posts, count(&first, "imported"), "{stats}");
    for network in ["x", "mastodon", "bluesky", "facebook"] {
        let found = stats["by_network"]
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row["network"] == network && row["posts"].as_u64().unwrap() > 0);
        assert!(found, "no {network} posts in {stats}");
    }

    let second = import_json(dir.path(), &paths);
    assert_eq!(count(&second, "imported"), 0, "{second}");
    assert_eq!(count(&second, "updated"), 0, "{second}");
    let stats = run(switchboard(dir.path()).args(["stats", "--json"]));
    let stats: Value = serde_json::from_str(&stdout(&stats)).unwrap();
    assert_eq!(stats["posts"].as_u64().unwrap(), posts);
    // The truncated stream line and the error bodies were reported and written down.
    assert!(count(&first, "rejected") >= 3, "{first}");
    let rejects = fs::read_to_string(dir.path().join("switchboard.rejects.jsonl")).unwrap();
    assert!(rejects.contains("truncated-last-line.jsonl"), "{rejects}");
    assert!(rejects.contains("\"line\":8"), "{rejects}");
}

#[test]
fn every_recorded_post_in_the_samples_folder_is_stored() {
    // Issue 14, finding 13: on recorded payloads, 515 of 518 posts were stored. The figures
    // are the distinct posts of each network in the samples folder, counted by
    // scripts/count_sample_posts.py, which walks the payloads' documented shapes on its own.
    let expected = [
        ("x", 686),
        ("mastodon", 63),
        ("bluesky", 226),
        ("facebook", 60),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for folder in ["x-twitter", "mastodon", "bluesky", "facebook"] {
        for entry in fs::read_dir(samples().join(folder)).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    let mut args: Vec<&str> = files.iter().map(|path| path.to_str().unwrap()).collect();
    args.push("--no-analyse");
    let summary = import_json(dir.path(), &args);
    let stats = run(switchboard(dir.path()).args(["stats", "--json"]));
    let stats: Value = serde_json::from_str(&stdout(&stats)).unwrap();
    for (network, posts) in expected {
        let stored = stats["by_network"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["network"] == network)
            .and_then(|row| row["posts"].as_u64());
        assert_eq!(stored, Some(posts), "{network}: {stats}");
    }
    let total: u64 = expected.iter().map(|(_, posts)| posts).sum();
    assert_eq!(stats["posts"].as_u64(), Some(total), "{stats}");
    // Only the error bodies and the cut-off stream line are rejected, nothing else.
    assert_eq!(count(&summary, "rejected"), 5, "{summary}");
}

#[test]
fn search_finds_phrases_boolean_and_prefix_terms_with_filters() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("feedback.csv");
    fs::write(
        &csv,
        "id,date,comment,ward\n\
         1,2024-05-01,The nurses on Ward 7 were wonderful,Ward 7\n\
         2,2024-05-02,Waited nine hours in A&E. Disgraceful.,A&E\n\
         3,2024-05-03,Parking was impossible but the nurses were kind,Outpatients\n\
         4,2024-05-04,Café food was cold,Ward 7\n",
    )
    .unwrap();
    import_json(dir.path(), &[csv.to_str().unwrap()]);
    let ids = |query: &str, extra: &[&str]| -> Vec<String> {
        let output = run(switchboard(dir.path())
            .args(["search", query, "--json"])
            .args(extra));
        assert!(output.status.success(), "{query}: {}", stderr(&output));
        stdout(&output)
            .lines()
            .map(|line| {
                serde_json::from_str::<Value>(line).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .into()
            })
            .collect()
    };
    assert_eq!(ids("nurses", &[]), ["3", "1"]);
    assert_eq!(ids("\"nine hours\"", &[]), ["2"]);
    assert_eq!(ids("nurses AND parking", &[]), ["3"]);
    assert_eq!(ids("nurses NOT parking", &[]), ["1"]);
    assert_eq!(ids("wonder* OR disgrace*", &[]), ["2", "1"]);
    assert_eq!(ids("cafe", &[]), ["4"]);
    assert_eq!(ids("nurses", &["--since", "2024-05-02"]), ["3"]);
    assert_eq!(
        ids(
            "nurses",
            &["--until", "2024-05-02", "--network", "feedback"]
        ),
        ["1"]
    );
    assert!(ids("nurses", &["--network", "x"]).is_empty());
    let broken = run(switchboard(dir.path()).args(["search", "\"unclosed"]));
    assert!(!broken.status.success());
    assert!(stderr(&broken).contains("quote"), "{}", stderr(&broken));
    let stats = run(switchboard(dir.path()).arg("stats"));
    assert!(stdout(&stats).contains("2024-05-01"), "{}", stdout(&stats));
}

#[test]
fn bad_inputs_get_one_clear_message_and_the_rest_is_imported() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.json");
    fs::write(&empty, "").unwrap();
    let binary = dir.path().join("photo.json");
    fs::write(&binary, [0x89, b'P', b'N', b'G', 0, 0, 1, 2, 3]).unwrap();
    let unknown = dir.path().join("notes.txt");
    fs::write(&unknown, "{\"hello\": \"world\"}\n").unwrap();
    let good = samples().join("x-twitter/twarc-csv__search-all__two-tweets.json");
    let output = run(switchboard(dir.path()).arg("import").arg("--json").args([
        empty.to_str().unwrap(),
        binary.to_str().unwrap(),
        unknown.to_str().unwrap(),
        good.to_str().unwrap(),
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let messages = stderr(&output);
    assert!(
        messages.contains("empty.json: the file is empty"),
        "{messages}"
    );
    assert!(
        messages.contains("photo.json: the file is binary"),
        "{messages}"
    );
    assert!(
        messages.contains("notes.txt") && messages.contains("--format"),
        "{messages}"
    );
    let summary: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(count(&summary, "files_failed"), 3);
    assert_eq!(count(&summary, "files"), 1);
    assert!(count(&summary, "imported") >= 2, "{summary}");

    let csv = dir.path().join("fft.csv");
    fs::write(&csv, "when,what\n2024-01-01,Great\n").unwrap();
    let output = run(switchboard(dir.path()).args(["import", csv.to_str().unwrap()]));
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("--csv-map text=COLUMN"),
        "{}",
        stderr(&output)
    );
    let output = run(switchboard(dir.path()).args([
        "import",
        "--csv-map",
        "text=Comment",
        csv.to_str().unwrap(),
    ]));
    assert!(stderr(&output).contains("`Comment`"), "{}", stderr(&output));
    let output = run(switchboard(dir.path()).args([
        "import",
        "--csv-map",
        "text=what,time=when",
        csv.to_str().unwrap(),
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn a_truncated_gzip_keeps_what_came_before_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let generated = dir.path().join("x.jsonl");
    let output = run(switchboard(dir.path()).args([
        "generate",
        "--posts",
        "3000",
        "--format",
        "x",
        "--out",
        generated.to_str().unwrap(),
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&fs::read(&generated).unwrap()).unwrap();
    let gzip = encoder.finish().unwrap();
    let whole = dir.path().join("whole.jsonl.gz");
    fs::write(&whole, &gzip).unwrap();
    let cut = dir.path().join("cut.jsonl.gz");
    fs::write(&cut, &gzip[..gzip.len() / 2]).unwrap();

    let summary = import_json(dir.path(), &[cut.to_str().unwrap()]);
    let partial = count(&summary, "imported");
    assert!(partial > 0, "{summary}");
    assert!(count(&summary, "rejected") >= 1, "{summary}");
    let rejects = fs::read_to_string(dir.path().join("switchboard.rejects.jsonl")).unwrap();
    assert!(rejects.contains("cut short"), "{rejects}");
    let summary = import_json(dir.path(), &[whole.to_str().unwrap()]);
    assert!(count(&summary, "imported") > 0, "{summary}");
    assert_eq!(count(&summary, "rejected"), 0, "{summary}");
}

fn snapshot(dir: &std::path::Path) -> Vec<String> {
    let output =
        run(switchboard(dir).args(["search", "*", "--json", "--deleted", "--limit", "1000000"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let mut rows: Vec<String> = stdout(&output)
        .lines()
        .map(|line| {
            let post: Value = serde_json::from_str(line).unwrap();
            format!(
                "{} {} {} {}",
                post["network"], post["id"], post["text"], post["deleted"]
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn killing_an_import_and_running_it_again_loses_nothing_and_doubles_nothing() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("x.jsonl");
    let output = run(switchboard(work.path()).args([
        "generate",
        "--posts",
        "60000",
        "--format",
        "x",
        "--seed",
        "7",
        "--out",
        data.to_str().unwrap(),
    ]));
    assert!(output.status.success(), "{}", stderr(&output));

    let clean = tempfile::tempdir().unwrap();
    import_json(
        clean.path(),
        &[data.to_str().unwrap(), "--batch", "2000", "--no-analyse"],
    );
    let expected = snapshot(clean.path());
    assert!(expected.len() > 50_000, "{}", expected.len());

    let killed = tempfile::tempdir().unwrap();
    for (round, delay_ms) in [300u64, 200, 400].into_iter().enumerate() {
        let mut child = switchboard(killed.path())
            .args([
                "import",
                "--batch",
                "2000",
                "--no-analyse",
                data.to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(delay_ms) {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        if round == 0 {
            let partial = snapshot(killed.path()).len();
            assert!(
                partial < expected.len(),
                "the first run was not interrupted: {partial}"
            );
        }
    }
    import_json(
        killed.path(),
        &[data.to_str().unwrap(), "--batch", "2000", "--no-analyse"],
    );
    assert_eq!(snapshot(killed.path()), expected);
}

#[test]
fn printing_commands_end_quietly_when_the_reader_goes() {
    // Issue 14, finding 12: `switchboard search … | head` panicked with "failed printing to
    // stdout" and a backtrace.
    use std::io::{BufRead, BufReader};

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("x.jsonl");
    let output = run(switchboard(dir.path()).args([
        "generate",
        "--posts",
        "3000",
        "--format",
        "x",
        "--seed",
        "3",
        "--out",
        data.to_str().unwrap(),
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    import_json(dir.path(), &[data.to_str().unwrap(), "--no-analyse"]);
    let commands: [&[&str]; 3] = [
        &["search", "*", "--limit", "3000"],
        &["search", "*", "--limit", "3000", "--json"],
        &["generate", "--posts", "20000", "--format", "mastodon"],
    ];
    for args in commands {
        let mut child = switchboard(dir.path())
            .args(args)
            .env("RUST_BACKTRACE", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        reader.read_line(&mut first).unwrap();
        assert!(!first.is_empty(), "{args:?} printed nothing");
        drop(reader);
        let output = child.wait_with_output().unwrap();
        let errors = stderr(&output);
        assert!(
            !errors.contains("panicked") && !errors.contains("Broken pipe"),
            "{args:?}: {errors}"
        );
        assert!(
            output.status.success(),
            "{args:?}: {:?} {errors}",
            output.status
        );
    }
}

#[test]
fn rejects_are_written_once_per_run() {
    // Issue 14, finding 8: the rejects file was appended on every run, so importing the same
    // file again listed the same reject again.
    let dir = tempfile::tempdir().unwrap();
    let rejects_path = dir.path().join("switchboard.rejects.jsonl");
    let first = dir.path().join("first.csv");
    let second = dir.path().join("second.csv");
    fs::write(
        &first,
        "id,date,comment\n1,2024-05-01,Kind nurses\n2,yesterday,Long wait\n",
    )
    .unwrap();
    fs::write(
        &second,
        "id,date,comment\n1,2024-05-01,Lovely ward\n2,someday,Cold food\n",
    )
    .unwrap();
    let lines = || -> Vec<Value> {
        fs::read_to_string(&rejects_path)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    };
    let files = |rejects: &[Value]| -> Vec<String> {
        let mut files: Vec<String> = rejects
            .iter()
            .map(|reject| {
                let file = reject["file"].as_str().unwrap();
                std::path::Path::new(file)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        files.sort();
        files
    };
    for _ in 0..3 {
        let summary = import_json(dir.path(), &[first.to_str().unwrap()]);
        assert_eq!(count(&summary, "rejected"), 1, "{summary}");
        assert_eq!(files(&lines()), ["first.csv"]);
    }
    import_json(dir.path(), &[second.to_str().unwrap()]);
    assert_eq!(files(&lines()), ["first.csv", "second.csv"]);
    import_json(
        dir.path(),
        &[first.to_str().unwrap(), second.to_str().unwrap()],
    );
    assert_eq!(files(&lines()), ["first.csv", "second.csv"]);
    // The first file mended: its reject goes, the second file's stays.
    fs::write(
        &first,
        "id,date,comment\n1,2024-05-01,Kind nurses\n2,2024-05-02,Long wait\n",
    )
    .unwrap();
    let summary = import_json(dir.path(), &[first.to_str().unwrap()]);
    assert_eq!(count(&summary, "rejected"), 0, "{summary}");
    assert_eq!(files(&lines()), ["second.csv"]);
    assert_eq!(lines()[0]["line"], 3);
}
