//! Behaviour of the SQLite store against real database files in a temporary folder.

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use jiff::Timestamp;
    use model::{Author, Change, Deletion, Network, Post, query::parse};
    use store::{PreparedAnalysis, SearchQuery, SqliteStore, Store, StoreError};

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn author(handle: &str, name: &str) -> Author {
        Author {
            id: format!("u-{handle}"),
            handle: handle.to_owned(),
            display_name: Some(name.to_owned()),
            ..Author::default()
        }
    }

    fn post(id: &str, text: &str, created: &str) -> Post {
        let mut post = Post::new(
            Network::X,
            id,
            author("someone", "Some One"),
            text,
            at(created),
        );
        post.raw = format!("{{\"id\":\"{id}\"}}");
        post
    }

    fn up(post: &Post) -> Change {
        Change::Upsert(Box::new(post.clone()))
    }

    fn del(id: &str, when: &str) -> Change {
        Change::Delete(Deletion {
            network: Network::X,
            id: id.to_owned(),
            deleted_at: Some(at(when)),
        })
    }

    fn open() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("switchboard.db")).unwrap();
        (dir, store)
    }

    fn ids(store: &SqliteStore, query: &SearchQuery) -> Vec<String> {
        store
            .search(query)
            .unwrap()
            .into_iter()
            .map(|p| p.post.id)
            .collect()
    }

    fn words(store: &SqliteStore, text: &str) -> Vec<String> {
        ids(
            store,
            &SearchQuery {
                text: Some(parse(text).unwrap()),
                include_deleted: true,
                ..SearchQuery::default()
            },
        )
    }

    /// A search within the query limits that keeps SQLite busy for seconds: posts of one word
    /// said 2,000 times, and a phrase of that word 62 times long that must not appear, which
    /// the index checks at every position of every post.
    fn slow_search_store() -> (tempfile::TempDir, Arc<SqliteStore>, SearchQuery) {
        let (dir, store) = open();
        let text = "the ".repeat(2_000);
        let changes: Vec<Change> = (0..3_000)
            .map(|i| {
                let created = Timestamp::from_second(1_700_000_000 + i).unwrap();
                let mut post =
                    Post::new(Network::X, i.to_string(), author("a", "A"), &text, created);
                post.raw = "{}".into();
                Change::Upsert(Box::new(post))
            })
            .collect();
        store.apply(&changes).unwrap();
        let query = SearchQuery {
            text: Some(parse(&format!("the NOT \"{}\"", ["the"; 62].join(" "))).unwrap()),
            ..SearchQuery::default()
        };
        (dir, Arc::new(store), query)
    }

    #[test]
    fn a_cancelled_search_stops_within_a_second() {
        let (_dir, store, query) = slow_search_store();
        let cancel = store::Cancel::new();
        let (done, finished) = std::sync::mpsc::channel();
        let reader = {
            let (store, cancel) = (Arc::clone(&store), cancel.clone());
            std::thread::spawn(move || {
                let result = cancel.scope(|| store.search(&query));
                done.send(std::time::Instant::now()).unwrap();
                result
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(
            finished.try_recv().is_err(),
            "the search ended within 300 ms: the test data must make it slower"
        );
        let cancelled_at = std::time::Instant::now();
        cancel.cancel();
        let ended_at = finished
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap();
        assert!(
            ended_at.duration_since(cancelled_at) < std::time::Duration::from_secs(1),
            "the search went on for {:?} after it was cancelled",
            ended_at.duration_since(cancelled_at)
        );
        assert!(matches!(reader.join().unwrap(), Err(StoreError::Cancelled)));
        // A read started in a cancelled scope does not run; the store still serves others.
        assert!(matches!(
            cancel.scope(|| store.count_posts()),
            Err(StoreError::Cancelled)
        ));
        assert_eq!(store.count_posts().unwrap(), 3_000);
    }

    #[test]
    fn web_writes_never_fail_because_an_import_is_running() {
        use std::sync::atomic::{AtomicBool, Ordering};

        use store::{AccountStore, Role};
        // Issue 14, finding 10: an import next to a busy server made a web write fail with
        // "database is locked" after waiting 5.2 s. Two stores on one file, as two processes
        // would have: one imports batch after batch, the other writes as the web server does.
        let (dir, web) = open();
        let import = SqliteStore::open(dir.path().join("switchboard.db")).unwrap();
        let stop = AtomicBool::new(false);
        let text = "Waited nine hours in A&E, the nurses were kind but the wait was awful. ";
        // Batches are made ahead on a thread of their own, as an import's reader does, so the
        // importing store goes from one transaction straight to the next.
        let (ready, batches) = std::sync::mpsc::sync_channel::<Vec<Change>>(2);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for batch in 0_i64.. {
                    let changes: Vec<Change> = (0..10_000)
                        .map(|i| {
                            let n = batch * 10_000 + i;
                            let created = Timestamp::from_second(1_700_000_000 + n).unwrap();
                            let mut post = Post::new(
                                Network::X,
                                n.to_string(),
                                author("a", "A"),
                                text.repeat(3),
                                created,
                            );
                            post.raw = text.repeat(6);
                            Change::Upsert(Box::new(post))
                        })
                        .collect();
                    if ready.send(changes).is_err() {
                        break;
                    }
                }
            });
            let importer = scope.spawn(|| {
                let mut written = 0;
                while !stop.load(Ordering::Relaxed) {
                    import.apply(&batches.recv().unwrap()).unwrap();
                    written += 1;
                }
                drop(batches);
                written
            });
            let started = std::time::Instant::now();
            let mut writes = 0;
            let mut failure = None;
            while started.elapsed() < std::time::Duration::from_secs(8) {
                let name = format!("person{writes}");
                let written = web.add_user(&name, Role::Viewer, "hash");
                if !matches!(written, Ok(Some(_))) {
                    failure = Some(format!(
                        "web write {writes} failed after {:?} of importing: {written:?}",
                        started.elapsed()
                    ));
                    break;
                }
                writes += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            stop.store(true, Ordering::Relaxed);
            let batches = importer.join().unwrap();
            assert_eq!(failure, None);
            assert!(batches >= 2, "the import wrote only {batches} batches");
            assert!(writes >= 10, "only {writes} web writes in 8 s");
        });
    }

    #[test]
    fn jetstream_identity_handle_replaces_the_bare_did() {
        // Issue 14, finding 13: an identity event carries the handle that should replace a
        // bare DID on screen (Jetstream posts carry only the DID).
        let (_dir, store) = open();
        let did = "did:plc:g4ut2w5755qxi3fe7mfs72p4";
        let jetstream_post = |rkey: &str, created: &str| {
            let author = Author {
                id: did.to_owned(),
                handle: did.to_owned(),
                ..Author::default()
            };
            let mut post = Post::new(
                Network::Bluesky,
                format!("at://{did}/app.bsky.feed.post/{rkey}"),
                author,
                "Ward 7 were brilliant",
                at(created),
            );
            post.raw = "{}".into();
            Change::Upsert(Box::new(post))
        };
        let handle = |name: &str, when: &str| {
            Change::Handle(model::HandleChange {
                network: Network::Bluesky,
                author_id: did.to_owned(),
                handle: name.to_owned(),
                at: at(when),
            })
        };
        let shown = |rkey: &str| -> String {
            store
                .post(
                    Network::Bluesky,
                    &format!("at://{did}/app.bsky.feed.post/{rkey}"),
                )
                .unwrap()
                .unwrap()
                .post
                .author
                .handle
        };
        store
            .apply(&[jetstream_post("a", "2026-05-25T10:00:00Z")])
            .unwrap();
        assert_eq!(shown("a"), did);
        let summary = store
            .apply(&[handle("ward7.northgate.nhs.uk", "2026-05-25T11:00:00Z")])
            .unwrap();
        assert_eq!(summary.handles, 1);
        assert_eq!(shown("a"), "ward7.northgate.nhs.uk");
        // A later post that comes with the DID only keeps the handle.
        store
            .apply(&[jetstream_post("b", "2026-05-25T12:00:00Z")])
            .unwrap();
        assert_eq!(shown("a"), "ward7.northgate.nhs.uk");
        assert_eq!(shown("b"), "ward7.northgate.nhs.uk");
        // A handle announced before any post of the account is shown once its posts arrive.
        let other = "did:plc:hqvhxrowqbemo5e4wjnj6zao";
        store
            .apply(&[Change::Handle(model::HandleChange {
                network: Network::Bluesky,
                author_id: other.to_owned(),
                handle: "matron.bsky.social".to_owned(),
                at: at("2026-05-25T09:00:00Z"),
            })])
            .unwrap();
        let mut early = Post::new(
            Network::Bluesky,
            format!("at://{other}/app.bsky.feed.post/c"),
            Author {
                id: other.to_owned(),
                handle: other.to_owned(),
                ..Author::default()
            },
            "Thank you",
            at("2026-05-25T13:00:00Z"),
        );
        early.raw = "{}".into();
        store.apply(&[Change::Upsert(Box::new(early))]).unwrap();
        let stored = store
            .post(
                Network::Bluesky,
                &format!("at://{other}/app.bsky.feed.post/c"),
            )
            .unwrap()
            .unwrap();
        assert_eq!(stored.post.author.handle, "matron.bsky.social");
    }

    #[test]
    fn apply_is_idempotent_and_round_trips() {
        let (_dir, store) = open();
        let mut a = post(
            "1",
            "Thank you to the ward 7 nurses",
            "2024-03-01T10:00:00Z",
        );
        a.hashtags = vec!["NHS".into()];
        a.counts.likes = Some(3);
        a.title = Some("cw".into());
        let b = post("2", "Waited 9 hours in A&E", "2024-03-01T11:00:00Z");
        let changes = vec![up(&a), up(&b), del("3", "2024-03-02T00:00:00Z")];
        let first = store.apply(&changes).unwrap();
        assert_eq!((first.inserted, first.deleted), (2, 1));
        for _ in 0..3 {
            let again = store.apply(&changes).unwrap();
            assert_eq!(again.unchanged, 3, "{again:?}");
            assert_eq!(again.total(), 3);
        }
        assert_eq!(store.count_posts().unwrap(), 2);
        let stored = store.post(Network::X, "1").unwrap().unwrap();
        assert_eq!(stored.post, a);
        assert_eq!(stored.versions, 1);
        assert!(store.post(Network::Mastodon, "1").unwrap().is_none());
    }

    #[test]
    fn edits_in_any_order_keep_history() {
        let (_dir, store) = open();
        let v1 = post("1", "Clinic opens at 9", "2024-03-01T10:00:00Z");
        let mut v2 = v1.clone();
        v2.text = "Clinic opens at 10".into();
        v2.edited_at = Some(at("2024-03-01T10:05:00Z"));
        let mut v3 = v1.clone();
        v3.text = "Clinic opens at 11".into();
        v3.edited_at = Some(at("2024-03-01T10:09:00Z"));

        // In order.
        let s = store.apply(&[up(&v1), up(&v2)]).unwrap();
        assert_eq!((s.inserted, s.updated), (1, 1));
        // Newest, then an older one that was never seen: history only.
        let mut late = v1.clone();
        late.text = "Clinic opens at 9:30".into();
        late.edited_at = Some(at("2024-03-01T10:02:00Z"));
        let s = store.apply(&[up(&v3), up(&late)]).unwrap();
        assert_eq!((s.updated, s.history_only), (1, 1), "{s:?}");
        let stored = store.post(Network::X, "1").unwrap().unwrap();
        assert_eq!(stored.post.text, "Clinic opens at 11");
        assert_eq!(stored.versions, 4);
        let history = store.history(Network::X, "1").unwrap();
        let texts: Vec<&str> = history.iter().map(|v| v.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Clinic opens at 9",
                "Clinic opens at 9:30",
                "Clinic opens at 10",
                "Clinic opens at 11"
            ]
        );
        assert!(history.last().unwrap().current);
        assert_eq!(history.iter().filter(|v| v.current).count(), 1);
        // Re-applying everything changes nothing; search sees only the current words.
        let s = store
            .apply(&[up(&v1), up(&v2), up(&v3), up(&late)])
            .unwrap();
        assert_eq!(s.unchanged, 4, "{s:?}");
        assert_eq!(words(&store, "11"), ["1"]);
        assert!(words(&store, "10").is_empty());

        // Out of order from the start in a second store.
        let (_dir2, other) = open();
        let s = other.apply(&[up(&v3), up(&v1), up(&v2)]).unwrap();
        assert_eq!((s.inserted, s.history_only), (1, 2), "{s:?}");
        assert_eq!(
            other.post(Network::X, "1").unwrap().unwrap().post.text,
            "Clinic opens at 11"
        );
        assert_eq!(other.history(Network::X, "1").unwrap().len(), 3);
    }

    #[test]
    fn same_time_different_text_does_not_flip_on_reapply() {
        let (_dir, store) = open();
        let a = post("1", "first wording", "2024-03-01T10:00:00Z");
        let mut b = a.clone();
        b.text = "second wording".into();
        let s = store.apply(&[up(&a), up(&b)]).unwrap();
        assert_eq!((s.inserted, s.updated), (1, 1));
        let s = store.apply(&[up(&a), up(&b)]).unwrap();
        assert_eq!(s.unchanged, 2, "{s:?}");
        assert_eq!(
            store.post(Network::X, "1").unwrap().unwrap().post.text,
            "second wording"
        );
    }

    #[test]
    fn counts_refresh() {
        let (_dir, store) = open();
        let mut p = post("1", "Great care", "2024-03-01T10:00:00Z");
        p.counts.likes = Some(1);
        store.apply(&[up(&p)]).unwrap();
        p.counts.likes = Some(40);
        p.counts.reposts = Some(2);
        let s = store.apply(&[up(&p)]).unwrap();
        assert_eq!((s.refreshed, s.updated, s.unchanged), (1, 0, 0));
        let stored = store.post(Network::X, "1").unwrap().unwrap();
        assert_eq!(stored.post.counts.likes, Some(40));
        assert_eq!(stored.versions, 1);
        assert_eq!(store.apply(&[up(&p)]).unwrap().unchanged, 1);
    }

    #[test]
    fn deletions_before_and_after_the_post() {
        let (_dir, store) = open();
        let a = post("1", "delete me later", "2024-03-01T10:00:00Z");
        let b = post("2", "deleted before arriving", "2024-03-01T11:00:00Z");
        store.apply(&[up(&a)]).unwrap();
        let s = store
            .apply(&[
                del("1", "2024-03-05T00:00:00Z"),
                del("2", "2024-03-04T00:00:00Z"),
            ])
            .unwrap();
        assert_eq!(s.deleted, 2);
        assert_eq!(store.stats().unwrap().pending_deletions, 1);
        let s = store.apply(&[up(&b)]).unwrap();
        assert_eq!(s.inserted, 1);
        let stored = store.post(Network::X, "2").unwrap().unwrap();
        assert!(stored.post.deleted);
        assert_eq!(stored.deleted_at, Some(at("2024-03-04T00:00:00Z")));
        let stored = store.post(Network::X, "1").unwrap().unwrap();
        assert_eq!(stored.deleted_at, Some(at("2024-03-05T00:00:00Z")));
        assert_eq!(store.stats().unwrap().pending_deletions, 0);
        let s = store
            .apply(&[
                del("1", "2024-03-05T00:00:00Z"),
                del("2", "2024-03-04T00:00:00Z"),
                up(&b),
            ])
            .unwrap();
        assert_eq!(s.unchanged, 3);
        // Hidden from search unless asked.
        let hidden = SearchQuery {
            text: Some(parse("deleted OR delete").unwrap()),
            ..SearchQuery::default()
        };
        assert!(ids(&store, &hidden).is_empty());
        assert_eq!(
            ids(
                &store,
                &SearchQuery {
                    include_deleted: true,
                    ..hidden
                }
            ),
            ["2", "1"]
        );
    }

    #[test]
    fn search_language_features() {
        let (_dir, store) = open();
        let mut posts = [
            post(
                "1",
                "Lovely café in the main hospital",
                "2024-03-01T10:00:00Z",
            ),
            post(
                "2",
                "The nurses on ward 7 were wonderful",
                "2024-03-02T10:00:00Z",
            ),
            post(
                "3",
                "Agency nurse shortage on night shift",
                "2024-03-03T10:00:00Z",
            ),
            post(
                "4",
                "Night shift again, ward 7 short staffed",
                "2024-03-04T10:00:00Z",
            ),
            post("5", "Nothing to see", "2024-03-05T10:00:00Z"),
        ];
        posts[4].author = author("drjones_nhs", "Dr Ana Jones");
        posts[0].title = Some("Food review".into());
        let changes: Vec<Change> = posts.iter().map(up).collect();
        store.apply(&changes).unwrap();

        assert_eq!(words(&store, "cafe"), ["1"]);
        assert_eq!(words(&store, "CAFÉ"), ["1"]);
        assert_eq!(words(&store, "review"), ["1"]);
        assert_eq!(words(&store, "nurs*"), ["3", "2"]);
        assert_eq!(words(&store, "\"night shift\""), ["4", "3"]);
        assert_eq!(words(&store, "\"shift night\""), Vec::<String>::new());
        assert_eq!(words(&store, "night shift -agency"), ["4"]);
        assert_eq!(words(&store, "night NOT agency"), ["4"]);
        assert_eq!(words(&store, "ward AND 7"), ["4", "2"]);
        assert_eq!(words(&store, "cafe OR wonderful"), ["2", "1"]);
        assert_eq!(words(&store, "(cafe OR wonderful) -nurses"), ["1"]);
        assert_eq!(words(&store, "drjones_nhs"), ["5"]);
        assert_eq!(words(&store, "ana jones"), ["5"]);
        // Hostile input is only ever words.
        assert!(words(&store, "text:nurse NEAR(a b) ^x").is_empty());
        assert_eq!(words(&store, "\"(nurses:\""), ["2"]);

        let only_x = SearchQuery {
            networks: vec![Network::Mastodon],
            ..SearchQuery::default()
        };
        assert!(ids(&store, &only_x).is_empty());
        let window = SearchQuery {
            since: Some(at("2024-03-02T10:00:00Z")),
            until: Some(at("2024-03-04T10:00:00Z")),
            networks: vec![Network::X, Network::Bluesky],
            ..SearchQuery::default()
        };
        assert_eq!(ids(&store, &window), ["3", "2"]);
        let words_in_window = SearchQuery {
            text: Some(parse("ward").unwrap()),
            ..window
        };
        assert_eq!(ids(&store, &words_in_window), ["2"]);
        let limited = SearchQuery {
            limit: 2,
            ..SearchQuery::default()
        };
        assert_eq!(ids(&store, &limited), ["5", "4"]);
        // A hand-built query with only a NOT is refused, not sent to SQLite.
        let bad = SearchQuery {
            text: Some(model::query::Query::Not(Box::new(parse("x").unwrap()))),
            ..SearchQuery::default()
        };
        assert!(matches!(
            store.search(&bad),
            Err(StoreError::InvalidQuery { .. })
        ));
    }

    #[test]
    fn posts_in_the_same_microsecond_all_stored_newest_first() {
        let (_dir, store) = open();
        let changes: Vec<Change> = (0..50)
            .map(|i| up(&post(&i.to_string(), "same time", "2024-03-01T00:00:00Z")))
            .chain([up(&post("later", "same time", "2024-03-01T00:00:00.5Z"))])
            .collect();
        assert_eq!(store.apply(&changes).unwrap().inserted, 51);
        let all = SearchQuery {
            text: Some(parse("same").unwrap()),
            limit: 100,
            ..SearchQuery::default()
        };
        let found = ids(&store, &all);
        assert_eq!(found.len(), 51);
        assert_eq!(found[0], "later");
        let window = SearchQuery {
            until: Some(at("2024-03-01T00:00:00.1Z")),
            limit: 100,
            ..SearchQuery::default()
        };
        assert_eq!(ids(&store, &window).len(), 50);
    }

    #[test]
    fn authors_keep_the_newest_profile() {
        let (_dir, store) = open();
        let mut old = post("1", "hello", "2024-03-01T10:00:00Z");
        old.author.display_name = Some("Old Name".into());
        let mut new = post("2", "hello again", "2024-03-02T10:00:00Z");
        new.author.display_name = Some("New Name".into());
        new.author.followers = Some(10);
        store.apply(&[up(&new), up(&old)]).unwrap();
        let first = store.post(Network::X, "1").unwrap().unwrap();
        assert_eq!(first.post.author.display_name.as_deref(), Some("New Name"));
        assert_eq!(first.post.author.followers, Some(10));
        assert_eq!(store.stats().unwrap().authors, 1);
    }

    #[test]
    fn stats_and_cursors() {
        let (_dir, store) = open();
        let mut m = post("m1", "toot", "2024-03-02T23:59:59Z");
        m.network = Network::Mastodon;
        store
            .apply(&[
                up(&post("1", "a", "2024-03-01T10:00:00Z")),
                up(&post("2", "b", "2024-03-01T12:00:00Z")),
                up(&m),
                del("2", "2024-03-03T00:00:00Z"),
            ])
            .unwrap();
        let stats = store.stats().unwrap();
        assert_eq!((stats.posts, stats.deleted), (3, 1));
        assert_eq!(stats.by_network.len(), 2);
        assert_eq!(stats.by_network[0].network, Network::X);
        assert_eq!(
            (stats.by_network[0].posts, stats.by_network[0].deleted),
            (2, 1)
        );
        let days: Vec<(String, u64)> = stats
            .by_day
            .iter()
            .map(|d| (d.day.to_string(), d.posts))
            .collect();
        assert_eq!(
            days,
            [("2024-03-01".to_owned(), 2), ("2024-03-02".to_owned(), 1)]
        );
        assert_eq!(stats.oldest, Some(at("2024-03-01T10:00:00Z")));

        assert_eq!(store.cursor("mastodon:home").unwrap(), None);
        store.set_cursor("mastodon:home", "123").unwrap();
        store.set_cursor("mastodon:home", "456").unwrap();
        assert_eq!(
            store.cursor("mastodon:home").unwrap().as_deref(),
            Some("456")
        );
    }

    #[test]
    fn migrations_upgrade_old_files_and_refuse_newer_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(include_str!("../migrations/sqlite/0001_posts.sql"))
                .unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        store.set_cursor("x", "1").unwrap();
        store
            .apply(&[up(&post("1", "after migration", "2024-03-01T10:00:00Z"))])
            .unwrap();
        drop(store);
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            let version: u32 = conn
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap();
            assert_eq!(version, store::sqlite::SCHEMA_VERSION);
            conn.pragma_update(None, "user_version", 99).unwrap();
        }
        let err = SqliteStore::open(&path).unwrap_err();
        assert!(
            matches!(err, StoreError::NewerSchema { found: 99, .. }),
            "{err}"
        );
        let message = err.to_string();
        assert!(
            message.contains("old.db") && message.contains("upgrade switchboard"),
            "{message}"
        );

        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, vec![b'x'; 4096]).unwrap();
        let err = SqliteStore::open(&junk).unwrap_err();
        assert!(matches!(err, StoreError::NotADatabase { .. }), "{err}");
    }

    #[test]
    fn readers_read_while_the_writer_writes() {
        let (_dir, store) = open();
        let store = Arc::new(store);
        store
            .apply(&[up(&post("seed", "ward news", "2024-01-01T00:00:00Z"))])
            .unwrap();
        let writer = {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                for batch in 0..20 {
                    let changes: Vec<Change> = (0..500)
                        .map(|i| {
                            let mut p =
                                post(&format!("{batch}-{i}"), "ward news", "2024-02-01T00:00:00Z");
                            p.created_at = at("2024-02-01T00:00:00Z")
                                + jiff::SignedDuration::from_secs(batch * 1000 + i);
                            up(&p)
                        })
                        .collect();
                    store.apply(&changes).unwrap();
                }
            })
        };
        let mut last = 0;
        let mut reads = 0;
        while !writer.is_finished() || reads < 5 {
            let n = store.count_posts().unwrap();
            assert!(
                n >= last && (n - 1) % 500 == 0,
                "{n}: readers see whole batches"
            );
            last = n;
            assert!(!words(&store, "ward").is_empty());
            reads += 1;
        }
        writer.join().unwrap();
        assert_eq!(store.count_posts().unwrap(), 10_001);
    }

    #[test]
    fn in_memory_store_works() {
        let store = SqliteStore::open_in_memory().unwrap();
        store
            .apply(&[up(&post("1", "in memory", "2024-03-01T10:00:00Z"))])
            .unwrap();
        assert_eq!(words(&store, "memory"), ["1"]);
    }

    #[test]
    fn matcher_agrees_with_the_index() {
        let store = SqliteStore::open_in_memory().unwrap();
        let texts = [
            "Café crème at the A&E entrance",
            "NAÏVE question about Œdema",
            "Ελληνικά και ДОКТОР 看護師",
            "cafe\u{301} with combining accent",
            "Straße & naïveté — ward-7 nurses",
            "don't forget the 2nd dose",
            "ﬁne ligature and Ǆ digraph",
            "emoji 💙 between words💙here",
        ];
        let changes: Vec<Change> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| up(&post(&i.to_string(), t, "2024-03-01T10:00:00Z")))
            .collect();
        store.apply(&changes).unwrap();
        for (i, text) in texts.iter().enumerate() {
            for token in model::query::tokens(text) {
                let q = model::query::Query::Term {
                    text: token.clone(),
                    prefix: false,
                };
                let found = ids(
                    &store,
                    &SearchQuery {
                        text: Some(q.clone()),
                        limit: 100,
                        ..SearchQuery::default()
                    },
                );
                assert!(
                    found.contains(&i.to_string()),
                    "token {token:?} of {text:?} not found by FTS5"
                );
                for (j, other) in texts.iter().enumerate() {
                    assert_eq!(
                        found.contains(&j.to_string()),
                        q.matches(other),
                        "{token:?} in {other:?}"
                    );
                }
            }
        }
    }

    fn analysis(engine: &str, priority: u8) -> model::analysis::Analysis {
        serde_json::from_value(serde_json::json!({
            "engine": engine,
            "language": {"code": "en", "name": "English", "confidence": 1.0, "source": "declared"},
            "sentiment": {"score": -0.6, "label": "negative", "confidence": 0.8,
                          "lexicon_score": -0.5, "reason": "disgraceful"},
            "intents": [
                {"kind": "complaint", "probability": 0.9, "detected": true, "reason": "waited"},
                {"kind": "question", "probability": 0.1, "detected": false, "reason": ""}
            ],
            "themes": [{"id": "timeliness", "label": "Timeliness", "probability": 0.7, "reason": "waited"}],
            "professional": null,
            "journalist": null,
            "personal_data": [],
            "priority": {"score": priority, "reasons": ["complaint"]}
        }))
        .unwrap()
    }

    fn analysed(network: Network, id: &str, version: &str, engine: &str) -> store::PostAnalysis {
        store::PostAnalysis {
            network,
            id: id.to_owned(),
            version_at: at(version),
            analysis: analysis(engine, 40),
        }
    }

    #[test]
    fn analyses_are_saved_read_back_and_the_backlog_pages_through_what_lacks_one() {
        let (_dir, store) = open();
        let changes: Vec<Change> = (0..25)
            .map(|i| {
                up(&post(
                    &format!("p{i}"),
                    "waited hours",
                    &format!("2024-05-01T10:{i:02}:00Z"),
                ))
            })
            .collect();
        store.apply(&changes).unwrap();
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = store
                .posts_to_analyse("engine-1", after.as_deref(), 10)
                .unwrap();
            seen.extend(page.posts.iter().map(|p| p.post.id.clone()));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(seen.len(), 25);
        assert_eq!(seen[0], "p0");

        let saved = store
            .save_analyses(&[
                analysed(Network::X, "p1", "2024-05-01T10:01:00Z", "engine-1"),
                analysed(Network::X, "p2", "2024-05-01T10:02:00Z", "engine-1"),
                analysed(Network::X, "missing", "2024-05-01T10:02:00Z", "engine-1"),
                analysed(Network::X, "p3", "2024-04-01T00:00:00Z", "engine-1"),
            ])
            .unwrap();
        assert_eq!(saved, 2, "unknown posts and stale versions are passed over");
        let stored = store.post(Network::X, "p1").unwrap().unwrap();
        let read = stored.analysis.unwrap();
        assert_eq!(read.priority.score, 40);
        assert!(read.has_intent(model::analysis::IntentKind::Complaint));
        assert!(
            store
                .post(Network::X, "p3")
                .unwrap()
                .unwrap()
                .analysis
                .is_none()
        );
        let left = store.posts_to_analyse("engine-1", None, 100).unwrap();
        assert_eq!(left.posts.len(), 23);
        assert!(left.next.is_none());
        // Saving the same again changes nothing; a new engine makes everything due again.
        let again = store
            .save_analyses(&[analysed(
                Network::X,
                "p1",
                "2024-05-01T10:01:00Z",
                "engine-1",
            )])
            .unwrap();
        assert_eq!(again, 0);
        assert_eq!(
            store
                .posts_to_analyse("engine-2", None, 100)
                .unwrap()
                .posts
                .len(),
            25
        );
        // An edit makes the post due again.
        let mut edited = post("p1", "waited hours and hours", "2024-05-01T10:01:00Z");
        edited.edited_at = Some(at("2024-05-02T00:00:00Z"));
        store.apply(&[up(&edited)]).unwrap();
        let due: Vec<String> = store
            .posts_to_analyse("engine-1", None, 100)
            .unwrap()
            .posts
            .into_iter()
            .map(|p| p.post.id)
            .collect();
        assert!(due.contains(&"p1".to_owned()), "{due:?}");
        let hits = store
            .search(&SearchQuery {
                text: Some(parse("waited").unwrap()),
                ..SearchQuery::default()
            })
            .unwrap();
        assert_eq!(hits.iter().filter(|p| p.analysis.is_some()).count(), 2);
    }

    fn prepared(network: Network, id: &str, version: &str, engine: &str) -> PreparedAnalysis {
        PreparedAnalysis::new(&analysed(network, id, version, engine)).unwrap()
    }

    #[test]
    fn changes_and_their_analyses_are_stored_together() {
        let (_dir, store) = open();
        store
            .apply(&[up(&post("old", "earlier batch", "2024-05-01T09:00:00Z"))])
            .unwrap();
        let mut edited = post("e1", "waited hours, edited", "2024-05-01T10:00:00Z");
        edited.edited_at = Some(at("2024-05-01T11:00:00Z"));
        let changes = vec![
            up(&edited),
            up(&post("e1", "waited hours", "2024-05-01T10:00:00Z")),
            up(&post("n1", "new post", "2024-05-01T10:05:00Z")),
        ];
        let (summary, saved) = store
            .apply_analysed(
                &changes,
                &[
                    // The original of the edited post: older than what the batch stored.
                    prepared(Network::X, "e1", "2024-05-01T10:00:00Z", "engine-1"),
                    prepared(Network::X, "e1", "2024-05-01T11:00:00Z", "engine-1"),
                    prepared(Network::X, "n1", "2024-05-01T10:05:00Z", "engine-1"),
                    // Written by an earlier batch: found by a look-up.
                    prepared(Network::X, "old", "2024-05-01T09:00:00Z", "engine-1"),
                    prepared(Network::X, "unknown", "2024-05-01T10:00:00Z", "engine-1"),
                ],
            )
            .unwrap();
        assert_eq!(summary.inserted, 2);
        assert_eq!(summary.history_only, 1);
        assert_eq!(saved, 3, "stale versions and unknown posts are passed over");
        for id in ["e1", "n1", "old"] {
            let stored = store.post(Network::X, id).unwrap().unwrap();
            assert_eq!(stored.analysis.unwrap().engine, "engine-1", "{id}");
        }
        assert!(
            store
                .posts_to_analyse("engine-1", None, 10)
                .unwrap()
                .posts
                .is_empty()
        );
        // Applying the same again stores nothing new and saves no analysis twice.
        let (again, saved_again) = store
            .apply_analysed(
                &changes,
                &[prepared(
                    Network::X,
                    "n1",
                    "2024-05-01T10:05:00Z",
                    "engine-1",
                )],
            )
            .unwrap();
        assert_eq!(again.inserted + again.updated, 0);
        assert_eq!(saved_again, 0);
    }

    #[test]
    fn dashboards_are_added_up_from_hour_counts() {
        use store::{DashboardQuery, DeskStore};
        let store = SqliteStore::open_in_memory().unwrap();
        let mut first = post("h1", "one", "2026-03-01T10:05:00Z");
        first.hashtags = vec!["NHS".into(), "Parking".into()];
        first.links = vec!["https://example.org/a".into()];
        let mut second = post("h2", "two", "2026-03-01T10:59:59Z");
        second.hashtags = vec!["nhs".into()];
        let mut third = post("h3", "three", "2026-03-01T13:00:00Z");
        third.author = author("other", "Other");
        let outside = post("h4", "four", "2026-03-01T16:00:00Z");
        store
            .apply(&[up(&first), up(&second), up(&third), up(&outside)])
            .unwrap();
        store.apply(&[del("h2", "2026-03-01T12:00:00Z")]).unwrap();
        let hours = store
            .dashboard_hours(at("2026-03-01T10:30:00Z"), at("2026-03-01T13:10:00Z"), None)
            .unwrap();
        let starts: Vec<String> = hours.iter().map(|h| h.start.to_string()).collect();
        assert_eq!(
            starts,
            [
                "2026-03-01T10:00:00Z",
                "2026-03-01T11:00:00Z",
                "2026-03-01T12:00:00Z",
                "2026-03-01T13:00:00Z"
            ]
        );
        let totals: Vec<u64> = hours.iter().map(|h| h.total).collect();
        assert_eq!(totals, [1, 0, 0, 1], "the deleted post is not counted");
        assert_eq!(hours[0].hashtags.get("parking"), Some(&1));
        assert_eq!(hours[0].by_sentiment, [0, 0, 0, 1]);
        let query = DashboardQuery {
            since: at("2026-03-01T06:00:00Z"),
            until: at("2026-03-01T18:00:00Z"),
            monitor: None,
            bucket_seconds: 6 * 3_600,
            utc_offset_seconds: 3_600,
            top: 10,
        };
        let dash = store.dashboard(&query).unwrap();
        assert_eq!(dash.total, 3);
        let per_bucket: Vec<u64> = dash
            .buckets
            .iter()
            .map(|b| b.by_network.iter().sum())
            .collect();
        assert_eq!(per_bucket, [1, 2]);
        assert_eq!(dash.hours[11] + dash.hours[14] + dash.hours[17], 3);
        assert_eq!(dash.hashtags[0].name, "nhs");
        assert_eq!(dash.links[0].posts, 1);
        assert_eq!(dash.authors[0].name, "x:@someone");
        assert_eq!(dash.authors[0].posts, 2);
        assert_eq!(dash.authors[1].name, "x:@other");
    }

    #[test]
    fn recent_posts_lists_names_and_times_newest_first() {
        use store::DeskStore;
        let store = SqliteStore::open_in_memory().unwrap();
        store
            .apply(&[
                up(&post("r1", "one", "2026-03-01T10:00:00Z")),
                up(&post("r2", "two", "2026-03-01T10:05:00Z")),
                up(&post("r3", "three", "2026-03-01T09:00:00Z")),
            ])
            .unwrap();
        let recent = store.recent_posts(at("2026-03-01T09:30:00Z"), 10).unwrap();
        let ids: Vec<&str> = recent.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["r2", "r1"]);
        assert!(!recent[0].analysed);
        assert_eq!(
            store
                .recent_posts(at("2026-03-01T09:30:00Z"), 1)
                .unwrap()
                .len(),
            1
        );
        let read = store
            .posts(&[
                (Network::X, "r3".to_owned()),
                (Network::X, "missing".to_owned()),
                (Network::X, "r1".to_owned()),
            ])
            .unwrap();
        let ids: Vec<&str> = read.iter().map(|p| p.post.id.as_str()).collect();
        assert_eq!(
            ids,
            ["r3", "r1"],
            "in the order asked, missing ones left out"
        );
        assert_eq!(read[1].post.text, "one");
    }
}
