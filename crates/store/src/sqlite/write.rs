//! The writer: [`Store::apply`](crate::Store::apply) and cursors.
//!
//! Invariants kept by [`Writer::apply`], all inside one transaction:
//! - the current row of a post is the version with the latest version time; on an equal time,
//!   different words win unless they are already known in history (so re-applying a batch that
//!   holds two versions with the same time does not flip between them);
//! - every version replaced, and every older version arriving late, is in `post_versions` once
//!   (checked by version time, text and title) and `posts.versions` counts them plus one;
//! - `posts_fts` holds exactly the current words of every post (rowid = post key). Its changes
//!   are gathered during a batch and written at the end in ascending key order: FTS5 flushes
//!   its in-memory index to disk whenever the rowid goes down, and pages of posts arrive
//!   newest first, so writing them as they come costs a flush and a merge per post;
//! - a deletion of an unknown post waits in `tombstones` and is consumed when the post arrives.

use std::{collections::HashMap, sync::mpsc, thread};

use model::{Author, Change, Deletion, HandleChange, Network, Post, RelationKind};
use rusqlite::{
    Connection, OptionalExtension, Transaction, TransactionBehavior, params, types::Value,
};

use super::AuthorCache;
use crate::{ApplySummary, PreparedAnalysis};

/// Authors cached before the cache is emptied, to bound memory on huge imports.
const AUTHOR_CACHE_LIMIT: usize = 200_000;

/// Payloads a second thread compresses ahead of the writer at a time (batches of at least
/// twice this many changes are compressed so).
const PACKED_RUN: usize = 256;

/// How many runs of compressed payloads that thread may hold ready for the writer.
const PACKED_AHEAD: usize = 8;

/// One second in microseconds: keys up to this far above the creation time may be used when
/// the creation time itself is taken.
pub(crate) const SECOND: i64 = 1_000_000;

/// A written author, as cached by the writer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CachedAuthor {
    key: i64,
    profile_at: i64,
    hash: i64,
}

/// The writer connection and what it remembers between batches.
pub(crate) struct Writer {
    conn: Connection,
    authors: AuthorCache,
    /// `PRAGMA data_version` when the author cache was last known good: it changes when another
    /// process commits (which may have removed authors: retention, erasure), and then the
    /// cache is dropped.
    data_version: i64,
}

/// The current row of a post, as much as `apply` needs.
struct Current {
    key: i64,
    version_at: i64,
    text: String,
    title: Option<String>,
    deleted: bool,
    meta_hash: i64,
}

/// What happened to one change.
enum Outcome {
    Inserted,
    Updated,
    Refreshed,
    Unchanged,
    Deleted,
    HistoryOnly,
    Handle,
}

impl Writer {
    pub(crate) fn new(conn: Connection) -> Writer {
        Writer {
            conn,
            authors: HashMap::new(),
            data_version: 0,
        }
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Forgets cached authors (after a failed transaction, their rows may be gone).
    pub(crate) fn forget_cache(&mut self) {
        self.authors.clear();
    }

    /// Applies `changes` and saves `analyses` in one transaction; returns what the changes did
    /// and how many analyses were saved.
    pub(crate) fn apply(
        &mut self,
        changes: &[Change],
        analyses: &[PreparedAnalysis],
    ) -> rusqlite::Result<(ApplySummary, u64)> {
        let result = self.apply_inner(changes, analyses);
        if result.is_err() {
            self.forget_cache();
        }
        result
    }

    fn apply_inner(
        &mut self,
        changes: &[Change],
        analyses: &[PreparedAnalysis],
    ) -> rusqlite::Result<(ApplySummary, u64)> {
        let now = jiff::Timestamp::now().as_microsecond();
        if self.authors.len() > AUTHOR_CACHE_LIMIT {
            self.authors.clear();
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let data_version: i64 = tx.query_row("PRAGMA data_version", [], |row| row.get(0))?;
        if data_version != self.data_version {
            self.authors.clear();
            self.data_version = data_version;
        }
        let mut batch = Batch {
            tx: &tx,
            authors: &mut self.authors,
            now,
            tombstones: tx.query_row("SELECT EXISTS (SELECT 1 FROM tombstones)", [], |row| {
                row.get(0)
            })?,
            fts: Vec::with_capacity(changes.len()),
            stored: (!analyses.is_empty()).then(|| HashMap::with_capacity(changes.len())),
            raw: None,
        };
        let ordered = in_key_order(changes);
        let summary = thread::scope(|scope| -> rusqlite::Result<ApplySummary> {
            // Large batches have their payloads compressed by a second thread, ahead of the
            // writer and in the same order, so that the writer only runs SQL.
            let (packed, ahead) = mpsc::sync_channel::<Vec<Option<Value>>>(PACKED_AHEAD);
            let packing = ordered.len() >= 2 * PACKED_RUN;
            if packing {
                let ordered = &ordered;
                scope.spawn(move || {
                    for run in ordered.chunks(PACKED_RUN) {
                        let payloads = run
                            .iter()
                            .map(|change| match change {
                                Change::Upsert(post) => Some(super::packed::pack(&post.raw)),
                                Change::Delete(_) | Change::Handle(_) => None,
                            })
                            .collect();
                        if packed.send(payloads).is_err() {
                            break;
                        }
                    }
                });
            }
            let mut payloads = Vec::new().into_iter();
            let mut summary = ApplySummary::default();
            for (index, change) in ordered.iter().enumerate() {
                if packing && index % PACKED_RUN == 0 {
                    payloads = ahead.recv().unwrap_or_default().into_iter();
                }
                batch.raw = payloads.next().flatten();
                let outcome = match change {
                    Change::Upsert(post) => batch.upsert(post)?,
                    Change::Delete(deletion) => batch.delete(deletion)?,
                    Change::Handle(handle) => batch.handle(handle)?,
                };
                match outcome {
                    Outcome::Inserted => summary.inserted += 1,
                    Outcome::Updated => summary.updated += 1,
                    Outcome::Refreshed => summary.refreshed += 1,
                    Outcome::Unchanged => summary.unchanged += 1,
                    Outcome::Deleted => summary.deleted += 1,
                    Outcome::HistoryOnly => summary.history_only += 1,
                    Outcome::Handle => summary.handles += 1,
                }
            }
            Ok(summary)
        })?;
        batch.raw = None;
        batch.write_index()?;
        let stored = batch.stored.take().unwrap_or_default();
        let saved = write_analyses(&tx, analyses, &stored)?;
        tx.commit()?;
        Ok((summary, saved))
    }

    /// Saves analyses in one transaction; see [`crate::Store::save_analyses`].
    pub(crate) fn save_analyses(&mut self, analyses: &[PreparedAnalysis]) -> rusqlite::Result<u64> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let saved = write_analyses(&tx, analyses, &HashMap::new())?;
        tx.commit()?;
        Ok(saved)
    }

    pub(crate) fn set_cursor(&self, source: &str, value: &str) -> rusqlite::Result<()> {
        let now = jiff::Timestamp::now().as_microsecond();
        self.conn
            .prepare_cached(
                "INSERT INTO cursors (source, value, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (source) DO UPDATE SET value = excluded.value,
                     updated_at = excluded.updated_at",
            )?
            .execute(params![source, value, now])?;
        Ok(())
    }
}

/// A change to the full-text index, held until the end of the batch.
enum FtsChange<'p> {
    /// Remove the words indexed for a key.
    Remove(i64),
    /// Index a post's words under a key.
    Add(i64, &'p Post),
}

impl FtsChange<'_> {
    fn key(&self) -> i64 {
        match self {
            FtsChange::Remove(key) | FtsChange::Add(key, _) => *key,
        }
    }
}

/// The key and stored version of each post a batch wrote, by network and id.
type Written<'p> = HashMap<(Network, &'p str), (i64, i64)>;

/// One `apply` call in progress.
struct Batch<'a, 'p> {
    tx: &'a Transaction<'a>,
    authors: &'a mut AuthorCache,
    now: i64,
    /// Whether any tombstone may exist (skips a lookup per new post when none do).
    tombstones: bool,
    /// Index changes, written in key order by [`Batch::write_index`].
    fts: Vec<FtsChange<'p>>,
    /// The key and stored version of every post written, when analyses follow in the same
    /// transaction.
    stored: Option<Written<'p>>,
    /// The payload of the post being written, compressed ahead by another thread.
    raw: Option<Value>,
}

impl<'p> Batch<'_, 'p> {
    /// Writes the gathered index changes in ascending key order; for one key, in the order
    /// they were made (a removal before the new words).
    fn write_index(&mut self) -> rusqlite::Result<()> {
        self.fts.sort_by_key(FtsChange::key);
        let mut remove = self
            .tx
            .prepare_cached("DELETE FROM posts_fts WHERE rowid = ?1")?;
        let mut add = self.tx.prepare_cached(
            "INSERT INTO posts_fts (rowid, text, title, handle, name) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for change in self.fts.drain(..) {
            match change {
                FtsChange::Remove(key) => remove.execute([key])?,
                FtsChange::Add(key, post) => add.execute(params![
                    key,
                    post.text,
                    post.title,
                    post.author.handle,
                    post.author.display_name
                ])?,
            };
        }
        Ok(())
    }

    /// The stored payload of the post being written: compressed ahead, or now.
    fn packed_raw(&mut self, post: &Post) -> Value {
        self.raw
            .take()
            .unwrap_or_else(|| super::packed::pack(&post.raw))
    }

    /// Notes the key and stored version of a post written, for analyses in the same batch.
    fn remember(&mut self, post: &'p Post, key: i64, stored_version: i64) {
        if let Some(stored) = &mut self.stored {
            stored.insert((post.network, post.id.as_str()), (key, stored_version));
        }
    }

    fn current(&self, network: Network, id: &str) -> rusqlite::Result<Option<Current>> {
        self.tx
            .prepare_cached(
                "SELECT key, version_at, text, title, deleted, meta_hash FROM posts
                 WHERE network = ?1 AND id = ?2",
            )?
            .query_row(params![network.as_str(), id], |row| {
                Ok(Current {
                    key: row.get(0)?,
                    version_at: row.get(1)?,
                    text: row.get(2)?,
                    title: row.get(3)?,
                    deleted: row.get(4)?,
                    meta_hash: row.get(5)?,
                })
            })
            .optional()
    }

    fn upsert(&mut self, post: &'p Post) -> rusqlite::Result<Outcome> {
        let version_at = post.version_time().as_microsecond();
        let meta = meta_hash(post);
        let author_key = self.author(post.network, &post.author, version_at)?;
        let Some(current) = self.current(post.network, &post.id)? else {
            return self.insert(post, author_key, meta, version_at);
        };
        self.remember(post, current.key, current.version_at.max(version_at));
        let same_words = current.text == post.text && current.title == post.title;
        let older = version_at < current.version_at;
        let known = (older || (version_at == current.version_at && !same_words))
            && self.in_history(current.key, version_at, post)?;
        let outcome = if older || known {
            if known {
                Outcome::Unchanged
            } else {
                self.tx
                    .prepare_cached(
                        "INSERT INTO post_versions
                             (post_key, version_at, edited_at, text, title, raw, seen_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )?
                    .execute(params![
                        current.key,
                        version_at,
                        post.edited_at.map(|t| t.as_microsecond()),
                        post.text,
                        post.title,
                        post.raw,
                        self.now
                    ])?;
                self.tx
                    .prepare_cached("UPDATE posts SET versions = versions + 1 WHERE key = ?1")?
                    .execute([current.key])?;
                Outcome::HistoryOnly
            }
        } else if version_at > current.version_at || !same_words {
            let kept = self
                .tx
                .prepare_cached(
                    "INSERT INTO post_versions
                         (post_key, version_at, edited_at, text, title, raw, seen_at)
                     SELECT p.key, p.version_at, p.edited_at, p.text, p.title,
                            coalesce(r.raw, ''), p.version_seen
                     FROM posts p LEFT JOIN post_raw r ON r.key = p.key
                     WHERE p.key = ?1 AND NOT EXISTS (
                         SELECT 1 FROM post_versions v
                         WHERE v.post_key = p.key AND v.version_at = p.version_at
                           AND v.text = p.text AND v.title IS p.title)",
                )?
                .execute([current.key])?;
            self.update(
                current.key,
                post,
                author_key,
                meta,
                version_at,
                Some(kept > 0),
            )?;
            self.fts.push(FtsChange::Remove(current.key));
            self.fts.push(FtsChange::Add(current.key, post));
            Outcome::Updated
        } else if meta != current.meta_hash {
            self.update(current.key, post, author_key, meta, version_at, None)?;
            Outcome::Refreshed
        } else {
            Outcome::Unchanged
        };
        if post.deleted && !current.deleted {
            self.mark_deleted(current.key, version_at)?;
            return Ok(Outcome::Deleted);
        }
        Ok(outcome)
    }

    fn in_history(&self, key: i64, version_at: i64, post: &Post) -> rusqlite::Result<bool> {
        self.tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM post_versions
                 WHERE post_key = ?1 AND version_at = ?2 AND text = ?3 AND title IS ?4)",
            )?
            .query_row(params![key, version_at, post.text, post.title], |row| {
                row.get(0)
            })
    }

    fn insert(
        &mut self,
        post: &'p Post,
        author_key: i64,
        meta: i64,
        version_at: i64,
    ) -> rusqlite::Result<Outcome> {
        let tombstone: Option<i64> = if self.tombstones {
            self.tx
                .prepare_cached(
                    "DELETE FROM tombstones WHERE network = ?1 AND id = ?2 RETURNING deleted_at",
                )?
                .query_row(params![post.network.as_str(), post.id], |row| row.get(0))
                .optional()?
        } else {
            None
        };
        let deleted_at = match tombstone {
            Some(at) => Some(at),
            None if post.deleted => Some(version_at),
            None => None,
        };
        let created_at = post.created_at.as_microsecond();
        let (relation_kind, relation_target) = relation(post);
        let feedback = post.feedback.as_ref();
        let mut statement = self.tx.prepare_cached(
            "INSERT INTO posts (key, network, id, author_key, url, text, title, lang, created_at,
                 edited_at, version_at, reply_to, thread_id, relation_kind, relation_target,
                 likes, replies, reposts, quotes, hashtags, mentions, links, media_count,
                 rating, service, is_feedback, meta_hash, deleted, deleted_at, first_seen,
                 version_seen, updated_at, versions)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?30, ?30, 1)",
        )?;
        let mut key = created_at;
        let mut attempts = 0;
        loop {
            let result = statement.execute(params![
                key,
                post.network.as_str(),
                post.id,
                author_key,
                post.url,
                post.text,
                post.title,
                post.lang,
                created_at,
                post.edited_at.map(|t| t.as_microsecond()),
                version_at,
                post.reply_to,
                post.thread_id,
                relation_kind,
                relation_target,
                count(post.counts.likes),
                count(post.counts.replies),
                count(post.counts.reposts),
                count(post.counts.quotes),
                list(&post.hashtags),
                list(&post.mentions),
                list(&post.links),
                post.media_count,
                feedback.and_then(|f| f.rating.as_deref()),
                feedback.and_then(|f| f.service.as_deref()),
                feedback.is_some(),
                meta,
                deleted_at.is_some(),
                deleted_at,
                self.now,
            ]);
            match result {
                Ok(_) => break,
                Err(error) if is_key_conflict(&error) && attempts < 2 => {
                    attempts += 1;
                    key = self.free_key(created_at)?;
                }
                Err(error) => return Err(error),
            }
        }
        self.tx
            .prepare_cached("INSERT INTO post_raw (key, raw) VALUES (?1, ?2)")?
            .execute(params![key, self.packed_raw(post)])?;
        self.fts.push(FtsChange::Add(key, post));
        self.remember(post, key, version_at);
        Ok(Outcome::Inserted)
    }

    /// A free key for a post created at `created_at` whose own microsecond is taken: the next
    /// after the highest key used within the following second, else after the highest key.
    fn free_key(&self, created_at: i64) -> rusqlite::Result<i64> {
        let window_end = created_at.saturating_add(SECOND);
        let in_window: Option<i64> = self
            .tx
            .prepare_cached("SELECT max(key) FROM posts WHERE key >= ?1 AND key < ?2")?
            .query_row([created_at, window_end], |row| row.get(0))?;
        if let Some(next) = in_window.and_then(|k| k.checked_add(1))
            && next < window_end
        {
            return Ok(next);
        }
        let highest: Option<i64> = self
            .tx
            .prepare_cached("SELECT max(key) FROM posts")?
            .query_row([], |row| row.get(0))?;
        Ok(highest.and_then(|k| k.checked_add(1)).unwrap_or(created_at))
    }

    /// Writes the post over the current row. `new_version` is `None` for a refresh (same
    /// words), else whether the replaced version was added to history (counted in `versions`).
    fn update(
        &mut self,
        key: i64,
        post: &Post,
        author_key: i64,
        meta: i64,
        version_at: i64,
        new_version: Option<bool>,
    ) -> rusqlite::Result<()> {
        let (relation_kind, relation_target) = relation(post);
        let feedback = post.feedback.as_ref();
        self.tx
            .prepare_cached(
                "UPDATE posts SET author_key = ?2, url = ?3, text = ?4, title = ?5, lang = ?6,
                     edited_at = ?7, version_at = ?8, reply_to = ?9, thread_id = ?10,
                     relation_kind = ?11, relation_target = ?12, likes = ?13, replies = ?14,
                     reposts = ?15, quotes = ?16, hashtags = ?17, mentions = ?18, links = ?19,
                     media_count = ?20, rating = ?21, service = ?22, is_feedback = ?23,
                     meta_hash = ?24, updated_at = ?25, versions = versions + ?26,
                     version_seen = CASE WHEN ?27 THEN ?25 ELSE version_seen END
                 WHERE key = ?1",
            )?
            .execute(params![
                key,
                author_key,
                post.url,
                post.text,
                post.title,
                post.lang,
                post.edited_at.map(|t| t.as_microsecond()),
                version_at,
                post.reply_to,
                post.thread_id,
                relation_kind,
                relation_target,
                count(post.counts.likes),
                count(post.counts.replies),
                count(post.counts.reposts),
                count(post.counts.quotes),
                list(&post.hashtags),
                list(&post.mentions),
                list(&post.links),
                post.media_count,
                feedback.and_then(|f| f.rating.as_deref()),
                feedback.and_then(|f| f.service.as_deref()),
                feedback.is_some(),
                meta,
                self.now,
                i64::from(new_version == Some(true)),
                new_version.is_some(),
            ])?;
        self.tx
            .prepare_cached("UPDATE post_raw SET raw = ?2 WHERE key = ?1")?
            .execute(params![key, self.packed_raw(post)])?;
        Ok(())
    }

    fn mark_deleted(&self, key: i64, deleted_at: i64) -> rusqlite::Result<()> {
        self.tx
            .prepare_cached(
                "UPDATE posts SET deleted = 1, deleted_at = ?2, updated_at = ?3 WHERE key = ?1",
            )?
            .execute(params![key, deleted_at, self.now])?;
        Ok(())
    }

    /// Shows an account's announced handle for its posts: the author row gets it (made when
    /// the account has no post yet, so its first posts find it).
    fn handle(&mut self, change: &HandleChange) -> rusqlite::Result<Outcome> {
        let url = match change.network {
            Network::Bluesky => Some(format!("https://bsky.app/profile/{}", change.handle)),
            _ => None,
        };
        self.tx
            .prepare_cached(
                "INSERT INTO authors (network, identity, author_id, handle, verified, url,
                     profile_at, profile_hash)
                 VALUES (?1, 'id:' || ?2, ?2, ?3, 0, ?4, ?5, 0)
                 ON CONFLICT (network, identity) DO UPDATE SET handle = excluded.handle,
                     url = coalesce(excluded.url, url)",
            )?
            .execute(params![
                change.network.as_str(),
                change.author_id,
                change.handle,
                url,
                change.at.as_microsecond()
            ])?;
        Ok(Outcome::Handle)
    }

    fn delete(&mut self, deletion: &Deletion) -> rusqlite::Result<Outcome> {
        let deleted_at = deletion.deleted_at.map_or(self.now, |t| t.as_microsecond());
        match self.current(deletion.network, &deletion.id)? {
            Some(current) if current.deleted => Ok(Outcome::Unchanged),
            Some(current) => {
                self.mark_deleted(current.key, deleted_at)?;
                Ok(Outcome::Deleted)
            }
            None => {
                let added = self
                    .tx
                    .prepare_cached(
                        "INSERT OR IGNORE INTO tombstones (network, id, deleted_at)
                         VALUES (?1, ?2, ?3)",
                    )?
                    .execute(params![deletion.network.as_str(), deletion.id, deleted_at])?;
                self.tombstones = true;
                Ok(if added > 0 {
                    Outcome::Deleted
                } else {
                    Outcome::Unchanged
                })
            }
        }
    }

    /// The key of the post's author, inserting the author or refreshing a profile older than
    /// `profile_at` when it changed.
    fn author(
        &mut self,
        network: Network,
        author: &Author,
        profile_at: i64,
    ) -> rusqlite::Result<i64> {
        let identity = if author.id.is_empty() {
            format!("handle:{}", author.handle.to_lowercase())
        } else {
            format!("id:{}", author.id)
        };
        let hash = profile_hash(author);
        let cache_key = (network, identity);
        if let Some(cached) = self.authors.get(&cache_key)
            && (cached.hash == hash || profile_at <= cached.profile_at)
        {
            return Ok(cached.key);
        }
        let (network, identity) = cache_key;
        let stored: Option<CachedAuthor> = self
            .tx
            .prepare_cached(
                "SELECT key, profile_at, profile_hash FROM authors
                 WHERE network = ?1 AND identity = ?2",
            )?
            .query_row(params![network.as_str(), identity], |row| {
                Ok(CachedAuthor {
                    key: row.get(0)?,
                    profile_at: row.get(1)?,
                    hash: row.get(2)?,
                })
            })
            .optional()?;
        let values = params![
            network.as_str(),
            identity,
            author.id,
            author.handle,
            author.display_name,
            author.bio,
            count(author.followers),
            author.verified,
            author.url,
            profile_at,
            hash,
        ];
        let cached = match stored {
            None => {
                self.tx
                    .prepare_cached(
                        "INSERT INTO authors (network, identity, author_id, handle, display_name,
                             bio, followers, verified, url, profile_at, profile_hash)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    )?
                    .execute(values)?;
                CachedAuthor {
                    key: self.tx.last_insert_rowid(),
                    profile_at,
                    hash,
                }
            }
            Some(stored) if stored.hash != hash && profile_at >= stored.profile_at => {
                self.tx
                    .prepare_cached(
                        "UPDATE authors SET author_id = ?3,
                             handle = CASE WHEN ?4 = ?3 THEN handle ELSE ?4 END,
                             display_name = ?5, bio = ?6, followers = ?7, verified = ?8,
                             url = CASE WHEN ?4 = ?3 THEN coalesce(?9, url) ELSE ?9 END,
                             profile_at = ?10, profile_hash = ?11
                         WHERE network = ?1 AND identity = ?2",
                    )?
                    .execute(values)?;
                CachedAuthor {
                    key: stored.key,
                    profile_at,
                    hash,
                }
            }
            Some(stored) => stored,
        };
        self.authors.insert((network, identity), cached);
        Ok(cached.key)
    }
}

/// The changes of a batch with posts in creation-time order (which is key order) and deletions
/// last. The sort is stable, so versions of one post keep their order; a deletion ends the same
/// way before or after its post (tombstone or mark). Pages of posts arrive newest first: writing
/// rows in ascending key order appends to the right edge of each B-tree, leaving full pages
/// instead of half-empty ones after splits.
/// Writes the analyses of stored posts, passing over those of unknown posts and of versions
/// older than the stored one. `stored` gives the key and stored version of posts the same
/// transaction has just written, so that they need no look-up; other posts are looked up.
fn write_analyses(
    tx: &Transaction<'_>,
    analyses: &[PreparedAnalysis],
    stored: &Written<'_>,
) -> rusqlite::Result<u64> {
    if analyses.is_empty() {
        return Ok(0);
    }
    let mut find =
        tx.prepare_cached("SELECT key, version_at FROM posts WHERE network = ?1 AND id = ?2")?;
    let mut save = tx.prepare_cached(
        "INSERT INTO analyses (key, version_at, engine, sentiment, sentiment_label,
             priority, intents, themes, language, professional, personal_data, analysis)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (key) DO UPDATE SET version_at = excluded.version_at,
             engine = excluded.engine, sentiment = excluded.sentiment,
             sentiment_label = excluded.sentiment_label, priority = excluded.priority,
             intents = excluded.intents, themes = excluded.themes,
             language = excluded.language, professional = excluded.professional,
             personal_data = excluded.personal_data, analysis = excluded.analysis
         WHERE excluded.version_at > analyses.version_at
            OR excluded.engine <> analyses.engine
            OR excluded.analysis <> analyses.analysis",
    )?;
    let mut found = Vec::with_capacity(analyses.len());
    for item in analyses {
        let known = match stored.get(&(item.network, item.id.as_str())) {
            Some(&known) => Some(known),
            None => find
                .query_row(params![item.network.as_str(), item.id], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()?,
        };
        if let Some((key, stored_version)) = known
            && item.version_at >= stored_version
        {
            found.push((key, item));
        }
    }
    found.sort_by_key(|(key, _)| *key);
    let mut saved = 0;
    for (key, item) in found {
        saved += save.execute(params![
            key,
            item.version_at,
            item.engine,
            item.sentiment,
            item.sentiment_label,
            item.priority,
            item.intents,
            item.themes,
            item.language,
            item.professional,
            item.personal_data,
            item.payload,
        ])? as u64;
    }
    Ok(saved)
}

fn in_key_order(changes: &[Change]) -> Vec<&Change> {
    let mut ordered: Vec<&Change> = changes.iter().collect();
    ordered.sort_by_key(|change| match change {
        Change::Upsert(post) => post.created_at.as_microsecond(),
        // Deletions and handles after the posts of the batch, which they may be about.
        Change::Delete(_) | Change::Handle(_) => i64::MAX,
    });
    ordered
}

fn is_key_conflict(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(failure, _)
        if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

fn relation(post: &Post) -> (Option<&'static str>, Option<&str>) {
    match &post.relation {
        Some(relation) => (
            Some(match relation.kind {
                RelationKind::Repost => "repost",
                RelationKind::Quote => "quote",
            }),
            Some(relation.target_id.as_str()),
        ),
        None => (None, None),
    }
}

/// A count as SQLite stores it (counts beyond `i64::MAX` are clamped).
fn count(value: Option<u64>) -> Option<i64> {
    value.map(|v| i64::try_from(v).unwrap_or(i64::MAX))
}

/// A list as a JSON array, or NULL when empty.
fn list(values: &[String]) -> Option<String> {
    if values.is_empty() {
        None
    } else {
        serde_json::to_string(values).ok()
    }
}

/// FNV-1a, 64 bits: stable across builds, unlike the standard library's hasher.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn str(&mut self, value: Option<&str>) {
        match value {
            Some(s) => {
                self.bytes(&[1]);
                self.bytes(&(s.len() as u64).to_le_bytes());
                self.bytes(s.as_bytes());
            }
            None => self.bytes(&[0]),
        }
    }

    fn num(&mut self, value: Option<u64>) {
        match value {
            Some(n) => {
                self.bytes(&[1]);
                self.bytes(&n.to_le_bytes());
            }
            None => self.bytes(&[0]),
        }
    }

    fn list(&mut self, values: &[String]) {
        self.num(Some(values.len() as u64));
        for value in values {
            self.str(Some(value));
        }
    }

    fn finish(&self) -> i64 {
        i64::from_le_bytes(self.0.to_le_bytes())
    }
}

/// Hash of what a refresh may change: everything but the words, the author, the payload and
/// the deletion flag.
fn meta_hash(post: &Post) -> i64 {
    let mut h = Fnv::new();
    h.str(post.url.as_deref());
    h.str(post.lang.as_deref());
    h.str(post.reply_to.as_deref());
    h.str(post.thread_id.as_deref());
    let (kind, target) = relation(post);
    h.str(kind);
    h.str(target);
    h.num(post.counts.likes);
    h.num(post.counts.replies);
    h.num(post.counts.reposts);
    h.num(post.counts.quotes);
    h.list(&post.hashtags);
    h.list(&post.mentions);
    h.list(&post.links);
    h.num(Some(u64::from(post.media_count)));
    let feedback = post.feedback.as_ref();
    h.num(feedback.map(|_| 1));
    h.str(feedback.and_then(|f| f.rating.as_deref()));
    h.str(feedback.and_then(|f| f.service.as_deref()));
    h.finish()
}

/// Hash of an author's profile.
fn profile_hash(author: &Author) -> i64 {
    let mut h = Fnv::new();
    h.str(Some(&author.id));
    h.str(Some(&author.handle));
    h.str(author.display_name.as_deref());
    h.str(author.bio.as_deref());
    h.num(author.followers);
    h.num(Some(u64::from(author.verified)));
    h.str(author.url.as_deref());
    h.finish()
}
