//! Throughput of `apply` and latency of search, on synthetic posts. Ignored by default; run in
//! release: `cargo test -p store --release -- --ignored --nocapture` (set
//! `SWITCHBOARD_BENCH_POSTS` to change the number of posts, 200,000 by default).

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use jiff::{SignedDuration, Timestamp};
    use model::{Author, Change, Network, Post, query::parse};
    use store::{SearchQuery, SqliteStore, Store};

    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % n
        }
    }

    const COMMON: [&str; 24] = [
        "the",
        "nurse",
        "ward",
        "hospital",
        "waiting",
        "thank",
        "you",
        "staff",
        "care",
        "a&e",
        "doctor",
        "appointment",
        "hours",
        "great",
        "terrible",
        "nhs",
        "patient",
        "team",
        "night",
        "shift",
        "and",
        "to",
        "was",
        "my",
    ];

    fn text(rng: &mut Lcg, vocabulary: &[String]) -> String {
        let n = 8 + rng.next(40);
        let mut out = String::new();
        for i in 0..n {
            if i > 0 {
                out.push(' ');
            }
            if rng.next(3) == 0 {
                out.push_str(COMMON[rng.next(COMMON.len() as u64) as usize]);
            } else {
                out.push_str(&vocabulary[rng.next(vocabulary.len() as u64) as usize]);
            }
        }
        out
    }

    fn median(mut times: Vec<Duration>) -> Duration {
        times.sort();
        times[times.len() / 2]
    }

    #[test]
    #[ignore = "benchmark: run in release with --ignored --nocapture"]
    fn apply_and_search_speed() {
        let total: usize = std::env::var("SWITCHBOARD_BENCH_POSTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200_000);
        let mut rng = Lcg(42);
        let vocabulary: Vec<String> = (0..5000)
            .map(|i| {
                let len = 3 + rng.next(7);
                let mut w: String = (0..len)
                    .map(|_| (b'a' + rng.next(26) as u8) as char)
                    .collect();
                w.push_str(&(i % 10).to_string());
                w
            })
            .collect();
        let start_time: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("bench.db")).unwrap();

        let mut batches = Vec::new();
        let mut batch = Vec::with_capacity(10_000);
        for i in 0..total {
            let user = rng.next(20_000);
            let author = Author {
                id: format!("{user}"),
                handle: format!("user{user}"),
                display_name: Some(format!("User {user}")),
                followers: Some(user * 3),
                ..Author::default()
            };
            let created =
                start_time + SignedDuration::from_millis((i as i64) * 1500 + rng.next(1000) as i64);
            let network = Network::ALL[rng.next(3) as usize];
            let mut post = Post::new(
                network,
                format!("{i}"),
                author,
                text(&mut rng, &vocabulary),
                created,
            );
            post.counts.likes = Some(rng.next(100));
            post.raw = format!(
                "{{\"id\":\"{i}\",\"text\":\"{}\",\"public_metrics\":{{\"like_count\":3}}}}",
                post.text
            );
            batch.push(Change::Upsert(Box::new(post)));
            if batch.len() == 10_000 {
                batches.push(std::mem::take(&mut batch));
            }
        }
        if !batch.is_empty() {
            batches.push(batch);
        }

        let started = Instant::now();
        for batch in &batches {
            let summary = store.apply(batch).unwrap();
            assert_eq!(summary.inserted as usize, batch.len());
        }
        let elapsed = started.elapsed();
        println!(
            "apply: {total} new posts in {:.2} s = {:.0} posts/s (10k per batch, FTS5 included)",
            elapsed.as_secs_f64(),
            total as f64 / elapsed.as_secs_f64()
        );

        let started = Instant::now();
        for batch in batches.iter().take(5) {
            let summary = store.apply(batch).unwrap();
            assert_eq!(summary.unchanged as usize, batch.len());
        }
        let n: usize = batches.iter().take(5).map(Vec::len).sum();
        println!(
            "apply: {n} duplicates at {:.0} posts/s",
            n as f64 / started.elapsed().as_secs_f64()
        );

        let cases = [
            ("common word `nurse`", Some("nurse"), vec![]),
            ("two common words", Some("nurse waiting"), vec![]),
            ("phrase", Some("\"night shift\""), vec![]),
            ("rare word", Some(vocabulary[17].as_str()), vec![]),
            ("prefix `hosp*`", Some("hosp*"), vec![]),
            ("word NOT word", Some("nurse -ward"), vec![]),
            (
                "common word, one network",
                Some("nurse"),
                vec![Network::Bluesky],
            ),
            ("no words, newest 50", None, vec![]),
            ("no words, one network", None, vec![Network::Mastodon]),
        ];
        for (label, text, networks) in cases {
            let query = SearchQuery {
                text: text.map(|t| parse(t).unwrap()),
                networks,
                limit: 50,
                ..SearchQuery::default()
            };
            let mut times = Vec::new();
            let mut found = 0;
            for _ in 0..51 {
                let started = Instant::now();
                found = store.search(&query).unwrap().len();
                times.push(started.elapsed());
            }
            println!(
                "search {label}: {found} results, median {:.3} ms",
                median(times).as_secs_f64() * 1000.0
            );
        }
        let started = Instant::now();
        let stats = store.stats().unwrap();
        println!(
            "stats: {} posts, {} days in {:.1} ms",
            stats.posts,
            stats.by_day.len(),
            started.elapsed().as_secs_f64() * 1000.0
        );
        let size = std::fs::metadata(dir.path().join("bench.db"))
            .map(|m| m.len())
            .unwrap_or(0);
        println!("database file: {:.1} MB", size as f64 / 1e6);
    }
}
