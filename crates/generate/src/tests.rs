use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::*;

fn start() -> Timestamp {
    "2024-05-01T00:00:00Z".parse().unwrap()
}

fn config(posts: u64, format: OutputFormat, seed: u64) -> Config {
    Config::new(posts, format, seed, start())
}

fn lines(c: Config) -> Vec<String> {
    Generator::new(c).collect()
}

const FORMATS: [OutputFormat; 3] = [
    OutputFormat::X,
    OutputFormat::Mastodon,
    OutputFormat::Bluesky,
];

#[test]
fn deterministic_and_seed_sensitive() {
    for f in FORMATS {
        let a = lines(config(3000, f, 7));
        let b = lines(config(3000, f, 7));
        let c = lines(config(3000, f, 8));
        assert_eq!(a, b, "{f:?}");
        assert_ne!(a, c, "{f:?}");
    }
}

/// Every post of a line, with its id, created time (ms) and text, for all formats.
struct Seen {
    id: String,
    ms: i64,
    text: String,
}

fn ms_of(s: &str) -> i64 {
    s.parse::<Timestamp>().unwrap().as_millisecond()
}

fn check_x(line: &str, out: &mut Vec<Seen>) {
    let v: Value = serde_json::from_str(line).unwrap();
    let data = v["data"].as_array().unwrap();
    assert!(!data.is_empty() && data.len() <= 100);
    assert_eq!(
        v["meta"]["result_count"].as_u64().unwrap() as usize,
        data.len()
    );
    assert_eq!(v["meta"]["newest_id"], data[0]["id"]);
    let users: BTreeSet<&str> = v["includes"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    for u in v["includes"]["users"].as_array().unwrap() {
        for k in [
            "username",
            "name",
            "description",
            "created_at",
            "verified",
            "verified_type",
        ] {
            assert!(!u[k].is_null(), "user {k}");
        }
        assert!(u["public_metrics"]["followers_count"].is_u64());
    }
    let included: BTreeSet<&str> = v["includes"]["tweets"]
        .as_array()
        .map(|t| t.iter().map(|t| t["id"].as_str().unwrap()).collect())
        .unwrap_or_default();
    let mut page = Vec::new();
    for t in data {
        for k in [
            "id",
            "text",
            "author_id",
            "created_at",
            "conversation_id",
            "lang",
            "public_metrics",
            "edit_history_tweet_ids",
            "reply_settings",
            "possibly_sensitive",
        ] {
            assert!(!t[k].is_null(), "tweet {k}: {t}");
        }
        let id = t["id"].as_str().unwrap();
        let ms = ms_of(t["created_at"].as_str().unwrap());
        let snow: u64 = id.parse().unwrap();
        assert_eq!(((snow >> 22) as i64 + 1_288_834_974_657) / 1000, ms / 1000);
        assert!(users.contains(t["author_id"].as_str().unwrap()));
        let text = t["text"].as_str().unwrap();
        let chars: Vec<char> = text.chars().collect();
        if let Some(tags) = t["entities"]["hashtags"].as_array() {
            for h in tags {
                let (s, e) = (
                    h["start"].as_u64().unwrap() as usize,
                    h["end"].as_u64().unwrap() as usize,
                );
                let got: String = chars[s..e].iter().collect();
                assert_eq!(got, format!("#{}", h["tag"].as_str().unwrap()));
            }
        }
        if let Some(ms_) = t["entities"]["mentions"].as_array() {
            for m in ms_ {
                let (s, e) = (
                    m["start"].as_u64().unwrap() as usize,
                    m["end"].as_u64().unwrap() as usize,
                );
                let got: String = chars[s..e].iter().collect();
                assert_eq!(got, format!("@{}", m["username"].as_str().unwrap()));
            }
        }
        if let Some(refs) = t["referenced_tweets"].as_array() {
            let r = &refs[0];
            assert!(
                included.contains(r["id"].as_str().unwrap()),
                "referenced tweet included"
            );
            if r["type"] == "retweeted" {
                assert!(text.starts_with("RT @"));
            } else {
                assert_eq!(r["type"], "replied_to");
                assert!(t["in_reply_to_user_id"].is_string());
            }
        }
        page.push(Seen {
            id: id.to_string(),
            ms,
            text: text.to_string(),
        });
    }
    // The API returns newest first within a page.
    assert!(page.windows(2).all(|w| w[0].ms >= w[1].ms));
    page.reverse();
    out.extend(page);
}

fn check_mastodon(line: &str, out: &mut Vec<Seen>) {
    let v: Value = serde_json::from_str(line).unwrap();
    let arr = v.as_array().unwrap();
    assert!(!arr.is_empty() && arr.len() <= 40);
    let mut page = Vec::new();
    for s in arr {
        for k in [
            "id",
            "created_at",
            "content",
            "account",
            "spoiler_text",
            "visibility",
            "replies_count",
            "reblogs_count",
            "favourites_count",
            "tags",
            "mentions",
            "media_attachments",
            "url",
            "uri",
        ] {
            assert!(!s[k].is_null(), "status {k}: {s}");
        }
        for k in [
            "id",
            "username",
            "acct",
            "display_name",
            "note",
            "url",
            "followers_count",
        ] {
            assert!(!s["account"][k].is_null(), "account {k}");
        }
        let content = s["content"].as_str().unwrap();
        if s["reblog"].is_object() {
            assert_eq!(content, "");
            assert!(s["reblog"]["content"].as_str().unwrap().starts_with("<p>"));
        } else {
            assert!(
                content.starts_with("<p>") && content.ends_with("</p>"),
                "{content}"
            );
            assert!(s["language"].is_string());
            for t in s["tags"].as_array().unwrap() {
                assert!(
                    content.contains(&format!("/tags/{}\"", t["name"].as_str().unwrap()))
                        || content
                            .to_lowercase()
                            .contains(&format!("/tags/{}\"", t["name"].as_str().unwrap()))
                );
            }
            if !s["mentions"].as_array().unwrap().is_empty() {
                assert!(content.contains("class=\"u-url mention\""));
            }
        }
        let ms = ms_of(s["created_at"].as_str().unwrap());
        page.push(Seen {
            id: s["id"].as_str().unwrap().to_string(),
            ms,
            text: content.to_string(),
        });
    }
    assert!(page.windows(2).all(|w| w[0].ms >= w[1].ms));
    page.reverse();
    out.extend(page);
}

fn check_bluesky(
    line: &str,
    out: &mut Vec<Seen>,
    last_us: &mut i64,
    kinds: &mut BTreeMap<String, usize>,
) {
    let v: Value = serde_json::from_str(line).unwrap();
    let t = v["time_us"].as_i64().unwrap();
    assert!(t > *last_us, "time_us increases");
    *last_us = t;
    assert!(v["did"].as_str().unwrap().starts_with("did:plc:"));
    let kind = v["kind"].as_str().unwrap();
    let c = &v["commit"];
    let key = format!(
        "{kind} {} {}",
        c["collection"].as_str().unwrap_or(""),
        c["operation"].as_str().unwrap_or("")
    );
    *kinds.entry(key).or_default() += 1;
    if kind == "commit" && c["collection"] == "app.bsky.feed.post" && c["operation"] == "create" {
        let r = &c["record"];
        assert_eq!(r["$type"], "app.bsky.feed.post");
        assert_eq!(c["rkey"].as_str().unwrap().len(), 13);
        assert!(c["cid"].as_str().unwrap().starts_with("bafyrei"));
        let text = r["text"].as_str().unwrap();
        for f in r["facets"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let (s, e) = (
                f["index"]["byteStart"].as_u64().unwrap() as usize,
                f["index"]["byteEnd"].as_u64().unwrap() as usize,
            );
            let got = &text.as_bytes()[s..e];
            let feat = &f["features"][0];
            match feat["$type"].as_str().unwrap() {
                "app.bsky.richtext.facet#tag" => assert_eq!(
                    got,
                    format!("#{}", feat["tag"].as_str().unwrap()).as_bytes()
                ),
                "app.bsky.richtext.facet#link" => {
                    assert_eq!(got, feat["uri"].as_str().unwrap().as_bytes())
                }
                "app.bsky.richtext.facet#mention" => assert!(
                    got.starts_with(b"@") && feat["did"].as_str().unwrap().starts_with("did:plc:")
                ),
                other => panic!("{other}"),
            }
        }
        if r["reply"].is_object() {
            assert!(
                r["reply"]["parent"]["uri"]
                    .as_str()
                    .unwrap()
                    .starts_with("at://did:plc:")
            );
            assert!(
                r["reply"]["root"]["cid"]
                    .as_str()
                    .unwrap()
                    .starts_with("bafyrei")
            );
        }
        let uri = format!(
            "at://{}/app.bsky.feed.post/{}",
            v["did"].as_str().unwrap(),
            c["rkey"].as_str().unwrap()
        );
        out.push(Seen {
            id: uri,
            ms: ms_of(r["createdAt"].as_str().unwrap()),
            text: text.to_string(),
        });
    }
}

fn collect(
    format: OutputFormat,
    posts: u64,
    seed: u64,
) -> (Vec<Seen>, Generator, BTreeMap<String, usize>) {
    let mut g = Generator::new(config(posts, format, seed));
    let mut seen = Vec::new();
    let mut last_us = 0;
    let mut kinds = BTreeMap::new();
    for line in g.by_ref() {
        assert!(!line.contains('\n'));
        match format {
            OutputFormat::X => check_x(&line, &mut seen),
            OutputFormat::Mastodon => check_mastodon(&line, &mut seen),
            OutputFormat::Bluesky => check_bluesky(&line, &mut seen, &mut last_us, &mut kinds),
        }
    }
    (seen, g, kinds)
}

#[test]
fn shapes_ids_and_times() {
    let lo = start().as_millisecond();
    let hi = lo + 14 * 86_400_000;
    for f in FORMATS {
        let (seen, g, kinds) = collect(f, 20_000, 3);
        assert_eq!(seen.len(), 20_000, "{f:?}");
        assert_eq!(g.posts_written(), 20_000);
        let ids: BTreeSet<&str> = seen.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids.len(), seen.len(), "{f:?} ids unique");
        assert!(
            seen.iter().all(|s| s.ms >= lo && s.ms < hi),
            "{f:?} in range"
        );
        assert!(
            seen.windows(2).all(|w| w[0].ms <= w[1].ms),
            "{f:?} non-decreasing"
        );
        if f == OutputFormat::Bluesky {
            assert!(kinds.keys().any(|k| k.contains("feed.like")), "{kinds:?}");
            assert!(kinds.keys().any(|k| k.contains("feed.repost")));
            assert!(kinds.keys().any(|k| k.contains("graph.follow")));
            assert!(kinds.keys().any(|k| k.contains("delete")));
            assert!(kinds.keys().any(|k| k.starts_with("identity")));
        }
    }
}

#[test]
fn text_variety() {
    let (seen, _, _) = collect(OutputFormat::Bluesky, 100_000, 11);
    let distinct: BTreeSet<&str> = seen.iter().map(|s| s.text.as_str()).collect();
    let ratio = distinct.len() as f64 / seen.len() as f64;
    assert!(ratio > 0.9, "distinct ratio {ratio}");
}

#[test]
fn mix_roughly_as_configured() {
    let mut g = Generator::new(config(50_000, OutputFormat::X, 5));
    g.by_ref().for_each(drop);
    let counts = g.kind_counts();
    let total: u64 = counts.iter().sum();
    assert_eq!(total, 50_000);
    let share = |k: Kind| counts[k.index()] as f64 / total as f64;
    let w = Mix::default().weights;
    let wt: f64 = w.iter().sum();
    for k in [
        Kind::Complaint,
        Kind::Compliment,
        Kind::Question,
        Kind::StaffDiscussion,
        Kind::Chatter,
    ] {
        let expected = w[k.index()] / wt;
        assert!(
            (share(k) - expected).abs() < expected * 0.5 + 0.02,
            "{k:?} {} vs {expected}",
            share(k)
        );
    }
    assert!(share(Kind::Safety) > 0.0 && share(Kind::Safety) < 0.03);
    assert!(share(Kind::Misinformation) > 0.01);
    // Skewing the mix moves it.
    let mut c = config(20_000, OutputFormat::X, 5);
    c.mix.weights = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    let mut g = Generator::new(c);
    g.by_ref().for_each(drop);
    let counts = g.kind_counts();
    assert!(counts[Kind::Complaint.index()] as f64 > 0.6 * 20_000.0);
}

#[test]
fn nhs_numbers_pass_modulus_11() {
    let mut found = 0;
    let mut g = Generator::new(config(60_000, OutputFormat::Bluesky, 9));
    while let Some(line) = g.next() {
        let v: Value = serde_json::from_str(&line).unwrap();
        let Some(text) = v["commit"]["record"]["text"].as_str() else {
            continue;
        };
        let labelled = g.labels().first().is_some_and(|l| l.nhs_number);
        let numbers = nhs_numbers_in(text);
        assert_eq!(labelled, !numbers.is_empty(), "{text}");
        for n in numbers {
            assert!(is_valid_nhs_number(&n), "{n} in {text}");
            assert!(n.starts_with("999"));
            found += 1;
        }
    }
    assert!(found > 20, "{found}");
    assert!(is_valid_nhs_number("943 476 5919"));
    assert!(!is_valid_nhs_number("943 476 5918"));
}

#[test]
fn incidents_surge() {
    let mut g = Generator::new(config(30_000, OutputFormat::X, 21));
    let incidents = g.incidents().to_vec();
    assert!((1..=3).contains(&incidents.len()));
    let mut during = 0u64;
    let mut keyword = 0u64;
    let mut negative = 0u64;
    while let Some(line) = g.next() {
        let v: Value = serde_json::from_str(&line).unwrap();
        for (t, l) in v["data"].as_array().unwrap().iter().zip(g.labels()) {
            assert_eq!(t["id"].as_str().unwrap(), l.id);
            if let Some(i) = l.incident {
                during += 1;
                let inc = &incidents[i];
                let ms = ms_of(t["created_at"].as_str().unwrap());
                assert!(ms >= inc.start.as_millisecond() - 1000 && ms <= inc.end.as_millisecond());
                if t["text"]
                    .as_str()
                    .unwrap()
                    .to_lowercase()
                    .contains(&inc.keyword.to_lowercase())
                {
                    keyword += 1;
                }
                if matches!(
                    l.kind,
                    Kind::Complaint | Kind::Misinformation | Kind::Question
                ) {
                    negative += 1;
                }
            }
        }
    }
    assert!(during > 300, "{during}");
    assert!(keyword as f64 > 0.5 * during as f64, "{keyword}/{during}");
    assert!(negative as f64 > 0.4 * during as f64);
}

#[test]
fn languages_and_cast() {
    let mut g = Generator::new(config(20_000, OutputFormat::Mastodon, 4));
    let mut langs = BTreeSet::new();
    while g.next().is_some() {
        for l in g.labels() {
            langs.insert(l.lang);
        }
    }
    assert!(
        langs.contains("en")
            && langs.contains("cy")
            && langs.contains("pl")
            && langs.contains("ur"),
        "{langs:?}"
    );
    let a = g.accounts();
    assert!(a.iter().any(|a| a.role == Role::ChiefExecutive));
    assert!(
        a.iter()
            .any(|a| a.role.is_hcp() && a.bio.contains("Views my own"))
    );
    assert!(
        a.iter()
            .any(|a| a.role == Role::Journalist && a.bio.contains("Health reporter"))
    );
}

#[test]
#[ignore = "throughput: run with --release -- --ignored --nocapture"]
fn throughput() {
    for f in FORMATS {
        let n = 1_000_000;
        let t = std::time::Instant::now();
        let mut bytes = 0usize;
        for line in Generator::new(config(n, f, 1)) {
            bytes += line.len() + 1;
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "{f:?}: {n} posts in {s:.2}s = {:.0} posts/s, {:.0} MB",
            n as f64 / s,
            bytes as f64 / 1e6
        );
    }
}

#[test]
#[ignore = "diagnostic"]
fn top_texts() {
    let (seen, _, _) = collect(OutputFormat::Bluesky, 100_000, 11);
    let mut m: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &seen {
        *m.entry(s.text.as_str()).or_default() += 1;
    }
    let mut v: Vec<_> = m.into_iter().collect();
    v.sort_by_key(|x| std::cmp::Reverse(x.1));
    for (t, n) in v.iter().take(40) {
        println!("{n:6} {t}");
    }
}

#[test]
#[ignore = "diagnostic"]
fn sample() {
    for f in FORMATS {
        let mut g = Generator::new(config(2000, f, 2));
        let line = g.nth(3).unwrap();
        println!("{}", &line[..line.len().min(2500)]);
    }
    println!(
        "{:?}",
        Generator::new(config(10, OutputFormat::X, 2)).incidents()
    );
}
