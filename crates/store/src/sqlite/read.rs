//! Reads: posts, search, history, stats and cursors.
//!
//! Every read is one or a few statements on a reader connection, seeing the last committed
//! state. Search walks the post key (creation time) backwards, with the FTS5 match as the outer
//! loop when there are words, so the newest `limit` rows are found without sorting.

use jiff::{Timestamp, tz::TimeZone};
use model::{Author, Counts, Feedback, Network, Post, Relation, RelationKind};
use rusqlite::{Connection, OptionalExtension, Row, params, types::Value};

use super::write::SECOND;
use crate::{AnalysisBacklog, DayCount, NetworkCount, PostVersion, SearchQuery, Stats, StoredPost};

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Columns read into a [`StoredPost`] by [`stored_post`], from `posts p`, `authors a` and
/// `post_raw r`.
const COLUMNS: &str = "p.network, p.id, p.url, p.text, p.title, p.lang, p.created_at,
    p.edited_at, p.reply_to, p.thread_id, p.relation_kind, p.relation_target, p.likes,
    p.replies, p.reposts, p.quotes, p.hashtags, p.mentions, p.links, p.media_count, p.rating,
    p.service, p.is_feedback, p.deleted, p.deleted_at, p.first_seen, p.updated_at, p.versions,
    a.author_id, a.handle, a.display_name, a.bio, a.followers, a.verified, a.url,
    coalesce(r.raw, ''), an.analysis";

/// The joins every read of [`COLUMNS`] needs after `posts p`.
const JOINS: &str = "JOIN authors a ON a.key = p.author_key
    LEFT JOIN post_raw r ON r.key = p.key LEFT JOIN analyses an ON an.key = p.key";

fn bad(index: usize, detail: impl Into<String>) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        index,
        rusqlite::types::Type::Text,
        detail.into().into(),
    )
}

fn time(index: usize, micros: i64) -> rusqlite::Result<Timestamp> {
    Timestamp::from_microsecond(micros).map_err(|e| bad(index, e.to_string()))
}

fn opt_time(index: usize, micros: Option<i64>) -> rusqlite::Result<Option<Timestamp>> {
    micros.map(|m| time(index, m)).transpose()
}

/// Reads a payload column written by [`super::packed::pack`] (or plain text).
fn unpack(row: &Row<'_>, index: usize) -> rusqlite::Result<String> {
    super::packed::unpack(row.get_ref(index)?).map_err(|detail| bad(index, detail))
}

fn count(value: Option<i64>) -> Option<u64> {
    value.and_then(|v| u64::try_from(v).ok())
}

fn list(index: usize, value: Option<String>) -> rusqlite::Result<Vec<String>> {
    match value {
        Some(json) => serde_json::from_str(&json).map_err(|e| bad(index, e.to_string())),
        None => Ok(Vec::new()),
    }
}

/// Reads one row selected with [`COLUMNS`].
fn stored_post(row: &Row<'_>) -> rusqlite::Result<StoredPost> {
    let network: String = row.get(0)?;
    let network: Network = network
        .parse()
        .map_err(|e: model::UnknownNetwork| bad(0, e.0))?;
    let relation = match (row.get::<_, Option<String>>(10)?, row.get(11)?) {
        (Some(kind), Some(target_id)) => Some(Relation {
            kind: match kind.as_str() {
                "quote" => RelationKind::Quote,
                _ => RelationKind::Repost,
            },
            target_id,
        }),
        _ => None,
    };
    let feedback = if row.get::<_, bool>(22)? {
        Some(Feedback {
            rating: row.get(20)?,
            service: row.get(21)?,
        })
    } else {
        None
    };
    let post = Post {
        network,
        id: row.get(1)?,
        url: row.get(2)?,
        author: Author {
            id: row.get(28)?,
            handle: row.get(29)?,
            display_name: row.get(30)?,
            bio: row.get(31)?,
            followers: count(row.get(32)?),
            verified: row.get(33)?,
            url: row.get(34)?,
        },
        text: row.get(3)?,
        title: row.get(4)?,
        lang: row.get(5)?,
        created_at: time(6, row.get(6)?)?,
        edited_at: opt_time(7, row.get(7)?)?,
        reply_to: row.get(8)?,
        thread_id: row.get(9)?,
        relation,
        counts: Counts {
            likes: count(row.get(12)?),
            replies: count(row.get(13)?),
            reposts: count(row.get(14)?),
            quotes: count(row.get(15)?),
        },
        hashtags: list(16, row.get(16)?)?,
        mentions: list(17, row.get(17)?)?,
        links: list(18, row.get(18)?)?,
        media_count: row.get(19)?,
        deleted: row.get(23)?,
        feedback,
        raw: unpack(row, 35)?,
    };
    Ok(StoredPost {
        post,
        deleted_at: opt_time(24, row.get(24)?)?,
        first_seen: time(25, row.get(25)?)?,
        updated_at: time(26, row.get(26)?)?,
        versions: row.get(27)?,
        analysis: match row.get_ref(36)? {
            rusqlite::types::ValueRef::Null => None,
            _ => Some(serde_json::from_str(&unpack(row, 36)?).map_err(|e| bad(36, e.to_string()))?),
        },
    })
}

pub(crate) fn post(
    conn: &Connection,
    network: Network,
    id: &str,
) -> rusqlite::Result<Option<StoredPost>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM posts p {JOINS} WHERE p.network = ?1 AND p.id = ?2"
    ))?
    .query_row(params![network.as_str(), id], stored_post)
    .optional()
}

/// Reads the posts named by `names` (network and id) with one statement, in the order given;
/// posts not found are left out.
pub(crate) fn posts(
    conn: &Connection,
    names: &[(Network, String)],
) -> rusqlite::Result<Vec<StoredPost>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<(&str, &str)> = names
        .iter()
        .map(|(network, id)| (network.as_str(), id.as_str()))
        .collect();
    let json = serde_json::to_string(&list)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM json_each(?1) j
         CROSS JOIN posts p ON p.network = j.value ->> 0 AND p.id = j.value ->> 1 {JOINS}
         ORDER BY j.key"
    ))?
    .query_map([json], stored_post)?
    .collect()
}

/// Runs a search; `fts` is the rendered FTS5 expression of `query.text`.
pub(crate) fn search(
    conn: &Connection,
    query: &SearchQuery,
    fts: Option<&str>,
) -> rusqlite::Result<Vec<StoredPost>> {
    if query.limit == 0 {
        return Ok(Vec::new());
    }
    // Keys are creation times moved up by less than a second, so a key range finds every
    // candidate and the exact bounds are checked on created_at.
    let low = query.since.map_or(i64::MIN, |t| t.as_microsecond());
    let high = query
        .until
        .map_or(i64::MAX, |t| t.as_microsecond().saturating_add(SECOND));
    let mut values: Vec<Value> = Vec::new();
    let mut sql = String::with_capacity(1024);
    let key = if let Some(fts) = fts {
        sql.push_str(&format!(
            "SELECT {COLUMNS} FROM posts_fts f CROSS JOIN posts p ON p.key = f.rowid {JOINS}
             WHERE posts_fts MATCH ?1"
        ));
        values.push(Value::Text(fts.to_owned()));
        "f.rowid"
    } else {
        sql.push_str(&format!("SELECT {COLUMNS} FROM posts p {JOINS} WHERE 1"));
        "p.key"
    };
    if query.since.is_some() {
        values.push(Value::Integer(low));
        sql.push_str(&format!(
            " AND {key} >= ?{n} AND p.created_at >= ?{n}",
            n = values.len()
        ));
    }
    if let Some(until) = query.until {
        values.push(Value::Integer(high));
        values.push(Value::Integer(until.as_microsecond()));
        sql.push_str(&format!(
            " AND {key} < ?{} AND p.created_at < ?{}",
            values.len() - 1,
            values.len()
        ));
    }
    if !query.include_deleted {
        sql.push_str(" AND p.deleted = 0");
    }
    if !query.networks.is_empty() {
        let mut placeholders = Vec::new();
        for network in &query.networks {
            values.push(Value::Text(network.as_str().to_owned()));
            placeholders.push(format!("?{}", values.len()));
        }
        sql.push_str(&format!(" AND p.network IN ({})", placeholders.join(", ")));
    }
    values.push(Value::Integer(
        i64::try_from(query.limit).unwrap_or(i64::MAX),
    ));
    sql.push_str(&format!(" ORDER BY {key} DESC LIMIT ?{}", values.len()));
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(rusqlite::params_from_iter(values), stored_post)?;
    rows.collect()
}

/// A page of posts whose current version has no analysis by `engine`, in key order after
/// `after` (a key written as decimal text).
pub(crate) fn posts_to_analyse(
    conn: &Connection,
    engine: &str,
    after: Option<&str>,
    limit: usize,
) -> rusqlite::Result<AnalysisBacklog> {
    let after: i64 = match after {
        Some(text) => text.parse().map_err(|_| {
            bad(
                0,
                format!("`{text}` is not a position in the analysis backlog"),
            )
        })?,
        None => i64::MIN,
    };
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut last = None;
    let posts = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS}, p.key FROM posts p {JOINS}
             WHERE p.key > ?1
               AND (an.key IS NULL OR an.version_at < p.version_at OR an.engine <> ?2)
             ORDER BY p.key LIMIT ?3"
        ))?
        .query_map(params![after, engine, limit], |row| {
            let key: i64 = row.get(37)?;
            Ok((key, stored_post(row)?))
        })?
        .map(|item| {
            item.map(|(key, post)| {
                last = Some(key);
                post
            })
        })
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let next = if i64::try_from(posts.len()).unwrap_or(i64::MAX) < limit {
        None
    } else {
        last.map(|key| key.to_string())
    };
    Ok(AnalysisBacklog { posts, next })
}

pub(crate) fn history(
    conn: &Connection,
    network: Network,
    id: &str,
) -> rusqlite::Result<Vec<PostVersion>> {
    let current = conn
        .prepare_cached(
            "SELECT p.key, p.version_at, p.edited_at, p.text, p.title, coalesce(r.raw, ''),
                    p.version_seen
             FROM posts p LEFT JOIN post_raw r ON r.key = p.key
             WHERE p.network = ?1 AND p.id = ?2",
        )?
        .query_row(params![network.as_str(), id], |row| {
            Ok((row.get::<_, i64>(0)?, version(row, true)?))
        })
        .optional()?;
    let Some((key, current)) = current else {
        return Ok(Vec::new());
    };
    let mut statement = conn.prepare_cached(
        "SELECT post_key, version_at, edited_at, text, title, raw, seen_at FROM post_versions
         WHERE post_key = ?1 ORDER BY version_at, rowid",
    )?;
    let mut versions = statement
        .query_map([key], |row| version(row, false))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    versions.push(current);
    Ok(versions)
}

fn version(row: &Row<'_>, current: bool) -> rusqlite::Result<PostVersion> {
    Ok(PostVersion {
        version_at: time(1, row.get(1)?)?,
        edited_at: opt_time(2, row.get(2)?)?,
        text: row.get(3)?,
        title: row.get(4)?,
        raw: unpack(row, 5)?,
        seen_at: time(6, row.get(6)?)?,
        current,
    })
}

pub(crate) fn stats(conn: &Connection) -> rusqlite::Result<Stats> {
    let mut stats = Stats::default();
    let mut statement = conn.prepare_cached(
        "SELECT network, count(*), coalesce(sum(deleted), 0), min(created_at), max(created_at)
         FROM posts GROUP BY network",
    )?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let name: String = row.get(0)?;
        let network: Network = name
            .parse()
            .map_err(|e: model::UnknownNetwork| bad(0, e.0))?;
        let posts = count(row.get(1)?).unwrap_or(0);
        let deleted = count(row.get(2)?).unwrap_or(0);
        stats.posts += posts;
        stats.deleted += deleted;
        stats.by_network.push(NetworkCount {
            network,
            posts,
            deleted,
        });
        let oldest = time(3, row.get(3)?)?;
        let newest = time(4, row.get(4)?)?;
        stats.oldest = Some(stats.oldest.map_or(oldest, |o| o.min(oldest)));
        stats.newest = Some(stats.newest.map_or(newest, |n| n.max(newest)));
    }
    stats
        .by_network
        .sort_by_key(|c| Network::ALL.iter().position(|n| *n == c.network));
    let mut statement = conn.prepare_cached(
        "SELECT (created_at - (((created_at % ?1) + ?1) % ?1)) / ?1 AS day, count(*)
         FROM posts GROUP BY day ORDER BY day",
    )?;
    let mut rows = statement.query([MICROS_PER_DAY])?;
    while let Some(row) = rows.next()? {
        let day: i64 = row.get(0)?;
        let start = Timestamp::from_second(day.saturating_mul(86_400))
            .map_err(|e| bad(0, e.to_string()))?;
        stats.by_day.push(DayCount {
            day: start.to_zoned(TimeZone::UTC).date(),
            posts: count(row.get(1)?).unwrap_or(0),
        });
    }
    let small = |sql: &str| -> rusqlite::Result<u64> {
        conn.prepare_cached(sql)?
            .query_row([], |row| row.get::<_, i64>(0))
            .map(|n| u64::try_from(n).unwrap_or(0))
    };
    stats.authors = small("SELECT count(*) FROM authors")?;
    stats.history_versions = small("SELECT count(*) FROM post_versions")?;
    stats.pending_deletions = small("SELECT count(*) FROM tombstones")?;
    Ok(stats)
}

pub(crate) fn cursor(conn: &Connection, source: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT value FROM cursors WHERE source = ?1")?
        .query_row([source], |row| row.get(0))
        .optional()
}
