//! Retention and erasure against real database files (issue 14, data protection): what must go
//! is checked with plain SQL and by scanning the bytes of the database and its write-ahead log.

#[cfg(test)]
mod tests {
    use std::path::Path;

    use alert::{Alert, AlertKind, AlertState, PostRef, Severity, UpdateKind};
    use engage::{Actor, Case, Draft, NewAuditEntry, Role};
    use jiff::{SignedDuration, Timestamp};
    use model::{Author, Change, Network, Post, analysis::Analysis};
    use store::{
        AlertStore, AuthorRef, EngageStore, PostAnalysis, ProtectionStore, RetentionPolicy,
        SqliteStore, Store,
    };

    const HANDLE: &str = "quentin_erasable";
    const SECRET: &str = "zebrastriped umbrellaphobia";

    /// Now, as the store's own clock (payloads are aged from when the store received them).
    fn now() -> Timestamp {
        Timestamp::now()
    }

    fn days_ago(days: i64) -> Timestamp {
        now() - SignedDuration::from_hours(24 * days)
    }

    fn post(network: Network, id: &str, handle: &str, text: &str, created: Timestamp) -> Post {
        let author = Author {
            id: format!("id-{handle}"),
            handle: handle.to_owned(),
            display_name: Some(format!("{handle} display")),
            bio: Some(format!("bio of {handle}")),
            ..Author::default()
        };
        let mut post = Post::new(network, id, author, text, created);
        post.raw = format!(
            "{{\"id\":\"{id}\",\"user\":\"{handle}\",\"text\":\"{text}\",\"padding\":\"{}\"}}",
            "p".repeat(80)
        );
        post
    }

    /// An analysis whose reasons quote the post's words, as the engine's do.
    fn analysis(text: &str) -> Analysis {
        serde_json::from_value(serde_json::json!({
            "engine": "test",
            "language": {"code": "en", "name": "English", "confidence": 1.0, "source": "declared"},
            "sentiment": {"score": -0.6, "label": "negative", "confidence": 0.8,
                          "lexicon_score": -0.5, "reason": text},
            "intents": [{"kind": "complaint", "probability": 0.9, "detected": true, "reason": text}],
            "themes": [],
            "professional": null,
            "journalist": null,
            "personal_data": [],
            "priority": {"score": 50, "reasons": [text]}
        }))
        .unwrap()
    }

    fn up(post: &Post) -> Change {
        Change::Upsert(Box::new(post.clone()))
    }

    /// Every place in the files where `needle` occurs (the database and its write-ahead log).
    fn occurrences(db: &Path, needle: &str) -> Vec<String> {
        let mut found = Vec::new();
        for suffix in ["", "-wal"] {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            let Ok(bytes) = std::fs::read(&name) else {
                continue;
            };
            for n in [needle.to_owned(), needle.to_uppercase()] {
                if let Some(at) = memchr::memmem::find(&bytes, n.as_bytes()) {
                    found.push(format!("{} at byte {at}", Path::new(&name).display()));
                }
            }
        }
        found
    }

    /// A count by plain SQL on a connection of its own.
    fn count(db: &Path, sql: &str) -> i64 {
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    fn sample(post: &Post) -> PostRef {
        PostRef {
            network: post.network,
            id: post.id.clone(),
            url: None,
            author: post.author.handle.clone(),
            text: post.text.clone(),
            at: post.created_at,
        }
    }

    fn alert(posts: Vec<PostRef>) -> Alert {
        Alert {
            id: 1,
            scope: "all posts".into(),
            kind: AlertKind::NegativeSurge,
            detail: String::new(),
            severity: Severity::Warning,
            title: "Surge.".into(),
            state: AlertState::Open,
            first_seen: days_ago(1),
            last_seen: days_ago(1),
            count: 3,
            peak: 3.0,
            expected: 1.0,
            posts,
            resolved_at: None,
            revision: 1,
        }
    }

    /// Everything stored about one author, then erased: the handle and the words of their posts
    /// are nowhere in the database file or its write-ahead log, the rest is untouched, and the
    /// audit log says an erasure happened without saying of whom.
    #[test]
    fn erasure_leaves_no_byte_of_the_author_in_the_database_or_its_wal() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("switchboard.db");
        let store = SqliteStore::open(&db).unwrap();
        let theirs = post(
            Network::X,
            "901",
            HANDLE,
            &format!("My {SECRET} story, awful wait"),
            days_ago(3),
        );
        let mut edited = theirs.clone();
        edited.text = format!("Edited: my {SECRET} story, an awful wait at A&E");
        edited.edited_at = Some(days_ago(2));
        let second = post(
            Network::X,
            "902",
            HANDLE,
            "Second post by them",
            days_ago(2),
        );
        let other = post(
            Network::X,
            "903",
            "olive_keeps",
            "Thanks to ward 4, lovely staff",
            days_ago(2),
        );
        let reply = {
            let mut p = post(
                Network::X,
                "904",
                "olive_keeps",
                "Sorry to hear that",
                days_ago(1),
            );
            p.reply_to = Some("901".into());
            p.thread_id = Some("901".into());
            p
        };
        store
            .apply(&[up(&theirs), up(&second), up(&other), up(&reply)])
            .unwrap();
        store.apply(&[up(&edited)]).unwrap();
        let analyses: Vec<PostAnalysis> = [&edited, &second, &other]
            .iter()
            .map(|p| PostAnalysis {
                network: p.network,
                id: p.id.clone(),
                version_at: p.version_time(),
                analysis: analysis(&p.text),
            })
            .collect();
        store.save_analyses(&analyses).unwrap();

        // A case on their post, with a note, a draft reply and its audit trail.
        let officer = Actor::new("olu", Role::Officer);
        let rule = engage::Matrix::default_matrix().unwrap().rules[0].clone();
        let mut rule = rule;
        rule.create_case = true;
        let (mut case, opened) = Case::open(&edited, &rule, now()).unwrap();
        store.save_case(&case, &[opened]).unwrap();
        let (note, noted) = case
            .note(
                &officer,
                &format!("Called @{HANDLE} back; {SECRET} again"),
                now(),
            )
            .unwrap();
        store.add_note(&note, &noted).unwrap();
        let draft = Draft::new(
            Some(&case.id),
            Network::X,
            Some("901"),
            "olu",
            &format!("@{HANDLE} we are sorry about your wait"),
            now(),
        );
        store
            .save_draft(
                &draft,
                Some(&case),
                &[NewAuditEntry::new(
                    now(),
                    "olu",
                    "draft.create",
                    format!("draft:{}", draft.id),
                    format!("reply to @{HANDLE}: {}", draft.text),
                )],
            )
            .unwrap();
        case.assignee = Some("olu".into());
        // An unrelated case and note stay.
        let (kept_case, kept_opened) = Case::open(&other, &rule, now()).unwrap();
        store.save_case(&kept_case, &[kept_opened]).unwrap();
        let (kept_note, kept_noted) = kept_case
            .note(&officer, "Thanked olive for the kind words", now())
            .unwrap();
        store.add_note(&kept_note, &kept_noted).unwrap();
        store
            .save_alert_update(
                UpdateKind::Opened,
                &alert(vec![sample(&edited), sample(&other)]),
            )
            .unwrap();
        drop(store);

        // The check can fail: before the erasure both are in the files.
        let store = SqliteStore::open(&db).unwrap();
        assert!(!occurrences(&db, HANDLE).is_empty());
        assert!(!occurrences(&db, SECRET).is_empty());
        let posts_before = count(&db, "SELECT count(*) FROM posts");
        let audit_before = store.audit_entries(0, 1000).unwrap().len();

        let summary = store
            .erase_author(
                &AuthorRef {
                    network: Network::X,
                    account: format!("@{}", HANDLE.to_uppercase()),
                },
                "dee",
                "subject access request 2026-014",
                now(),
            )
            .unwrap();
        assert_eq!(summary.posts, 2);
        assert_eq!(summary.versions, 1);
        assert_eq!(summary.cases, 1);
        assert_eq!(summary.notes, 1);
        assert_eq!(summary.drafts, 1);
        assert_eq!(summary.alerts, 1);
        assert_eq!(summary.authors, 1);
        assert!(summary.audit_details >= 3, "{summary:?}");
        drop(store);

        assert_eq!(occurrences(&db, HANDLE), Vec::<String>::new());
        assert_eq!(occurrences(&db, SECRET), Vec::<String>::new());
        assert_eq!(
            occurrences(&db, "Second post by them"),
            Vec::<String>::new()
        );
        // Everything else is still there.
        assert_eq!(count(&db, "SELECT count(*) FROM posts"), posts_before - 2);
        assert_eq!(
            count(
                &db,
                "SELECT count(*) FROM posts WHERE author_key IN (SELECT key FROM authors WHERE handle = 'olive_keeps')"
            ),
            2
        );
        assert_eq!(count(&db, "SELECT count(*) FROM cases"), 1);
        assert_eq!(count(&db, "SELECT count(*) FROM case_notes"), 1);
        assert_eq!(count(&db, "SELECT count(*) FROM analyses"), 1);
        assert_eq!(
            count(
                &db,
                "SELECT count(*) FROM alerts WHERE data LIKE '%ward 4%'"
            ),
            1
        );
        let store = SqliteStore::open(&db).unwrap();
        let found = store
            .search(&store::SearchQuery {
                text: Some(model::query::parse("ward").unwrap()),
                ..store::SearchQuery::default()
            })
            .unwrap();
        assert_eq!(found.len(), 1);
        // The audit log keeps that it happened, and still verifies.
        let log = store.audit_entries(0, 1000).unwrap();
        assert_eq!(log.len(), audit_before + 1);
        let record = log.last().unwrap();
        assert_eq!(record.entry.action, engage::audit::ERASURE_ACTION);
        assert!(
            record
                .entry
                .detail
                .contains("subject access request 2026-014")
        );
        let report = store.verify_audit(&[]).unwrap();
        assert!(report.intact(), "{report:?}");
        assert_eq!(report.erased, summary.audit_details);
    }

    #[test]
    fn erasing_an_unknown_author_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("switchboard.db");
        let store = SqliteStore::open(&db).unwrap();
        store
            .apply(&[up(&post(Network::X, "1", "olive", "hello", days_ago(1)))])
            .unwrap();
        let summary = store
            .erase_author(
                &AuthorRef {
                    network: Network::Mastodon,
                    account: "olive".into(),
                },
                "dee",
                "request",
                now(),
            )
            .unwrap();
        assert_eq!(summary, store::ErasureSummary::default());
        assert_eq!(count(&db, "SELECT count(*) FROM posts"), 1);
        assert!(store.audit_entries(0, 10).unwrap().is_empty());
    }

    /// Retention per network and for raw payloads, with the posts of an open case kept until it
    /// closes; expected counts are computed by plain SQL from the ages before the run.
    #[test]
    fn retention_removes_posts_past_their_network_period_but_keeps_open_cases() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("switchboard.db");
        let store = SqliteStore::open(&db).unwrap();
        let mut changes = Vec::new();
        for (i, age) in [1_i64, 10, 29, 31, 45, 100, 400].iter().enumerate() {
            for network in [Network::X, Network::Mastodon, Network::Bluesky] {
                changes.push(up(&post(
                    network,
                    &format!("{i}"),
                    &format!("author{i}"),
                    &format!("post {i} on {network}"),
                    days_ago(*age),
                )));
            }
        }
        store.apply(&changes).unwrap();
        // An open case on an old X post (and its thread), a closed one on another.
        let rule = {
            let mut r = engage::Matrix::default_matrix().unwrap().rules[0].clone();
            r.create_case = true;
            r
        };
        let old_open = post(Network::X, "5", "author5", "post 5 on x", days_ago(100));
        let (open_case, a) = Case::open(&old_open, &rule, now()).unwrap();
        store.save_case(&open_case, &[a]).unwrap();
        let mut in_thread = post(
            Network::X,
            "5r",
            "author9",
            "a reply in the thread",
            days_ago(90),
        );
        in_thread.reply_to = Some("5".into());
        store.apply(&[up(&in_thread)]).unwrap();
        let old_closed = post(Network::X, "6", "author6", "post 6 on x", days_ago(400));
        let (mut closed_case, a) = Case::open(&old_closed, &rule, now()).unwrap();
        closed_case.state = engage::CaseState::Closed;
        store.save_case(&closed_case, &[a]).unwrap();

        let cutoff = |days: i64| days_ago(days).as_microsecond();
        let expect_x = count(
            &db,
            &format!(
                "SELECT count(*) FROM posts WHERE network = 'x' AND created_at < {} AND id NOT IN ('5', '5r')",
                cutoff(30)
            ),
        );
        let expect_bluesky = count(
            &db,
            &format!(
                "SELECT count(*) FROM posts WHERE network = 'bluesky' AND created_at < {}",
                cutoff(365)
            ),
        );
        assert_eq!((expect_x, expect_bluesky), (3, 1));
        let total = count(&db, "SELECT count(*) FROM posts");

        let policy: RetentionPolicy = toml::from_str(
            "posts_days = { x = 30 }
default_posts_days = 365
raw_payload_days = 7
",
        )
        .unwrap();
        let summary = store
            .apply_retention(&policy, "switchboard", now())
            .unwrap();
        assert_eq!(summary.posts as i64, expect_x + expect_bluesky * 2);
        assert_eq!(summary.kept_for_open_cases, 2);
        assert_eq!(
            count(&db, "SELECT count(*) FROM posts"),
            total - summary.posts as i64
        );
        assert_eq!(
            count(
                &db,
                &format!(
                    "SELECT count(*) FROM posts WHERE network = 'x' AND created_at < {}",
                    cutoff(30)
                )
            ),
            2,
            "the open case's post and its thread stay"
        );
        assert_eq!(
            count(&db, "SELECT count(*) FROM authors WHERE handle = 'author6'"),
            0
        );
        // Payloads were all received today: none is past a week yet.
        assert_eq!(summary.payloads, 0);
        assert_eq!(
            count(&db, "SELECT count(*) FROM post_raw WHERE raw = ''"),
            0
        );
        // The run is in the audit log; a second run removes nothing more.
        let log = store.audit_entries(0, 100).unwrap();
        assert_eq!(log.last().unwrap().entry.action, "retention.run");
        let again = store
            .apply_retention(&policy, "switchboard", now())
            .unwrap();
        assert_eq!(again.posts, 0);
        // Closing the case lets its posts go on the next run.
        let mut closing = open_case.clone();
        closing.state = engage::CaseState::Closed;
        store.save_case(&closing, &[]).unwrap();
        let after_close = store
            .apply_retention(&policy, "switchboard", now())
            .unwrap();
        assert_eq!(after_close.posts, 2);
        assert_eq!(after_close.kept_for_open_cases, 0);

        // Eight days on, every payload is past its week; the posts stay.
        let payloads = count(&db, "SELECT count(*) FROM post_raw WHERE raw != ''")
            + count(&db, "SELECT count(*) FROM post_versions WHERE raw != ''");
        let posts = count(&db, "SELECT count(*) FROM posts");
        let payload_policy = RetentionPolicy {
            raw_payload_days: Some(7),
            ..RetentionPolicy::default()
        };
        let later = now() + SignedDuration::from_hours(24 * 8);
        let emptied = store
            .apply_retention(&payload_policy, "switchboard", later)
            .unwrap();
        assert_eq!(emptied.payloads as i64, payloads);
        assert_eq!(emptied.posts, 0);
        assert_eq!(
            count(&db, "SELECT count(*) FROM post_raw WHERE raw != ''"),
            0
        );
        assert_eq!(count(&db, "SELECT count(*) FROM posts"), posts);
        let kept = store.post(Network::X, "0").unwrap().unwrap();
        assert_eq!(kept.post.text, "post 0 on x");
        assert_eq!(kept.post.raw, "");
    }
}
