//! RSS 2.0, RSS 1.0 and Atom news feeds, parsed by `feed-rs`.
//!
//! Each entry becomes a [`Network::News`] post whose author is the publication (the feed's host
//! as handle, its title as display name), whose title is the headline and whose text is the
//! summary or content as plain text. Entries keep the feed's own id (`guid`/`id`), else their
//! link, so the same item fetched twice is one post. An entry without any date is rejected.

use std::io::Read;

use model::{Author, Change, Network, Post};

use crate::{
    Location, Parsed, Record, Rejected,
    input::{Input, Records},
};

/// Parses a whole feed (feeds are small; they are read into memory).
pub fn parse(mut input: Input) -> Records {
    let mut bytes = Vec::new();
    if let Err(error) = input.read_to_end(&mut bytes) {
        return one_rejection(format!("the feed cannot be read to its end ({error})"));
    }
    let feed = match feed_rs::parser::parse(bytes.as_slice()) {
        Ok(feed) => feed,
        Err(error) => {
            return one_rejection(format!(
                "this is not a valid RSS or Atom feed ({error}); save the feed again from its \
                 address"
            ));
        }
    };
    let feed_link = feed.links.first().map(|link| link.href.clone());
    let feed_title = feed.title.as_ref().map(|title| crate_text(&title.content));
    let publication = Author {
        id: feed_link.clone().unwrap_or_else(|| feed.id.clone()),
        handle: feed_link
            .as_deref()
            .and_then(host)
            .unwrap_or_else(|| feed.id.clone()),
        display_name: feed_title.clone(),
        bio: feed
            .description
            .as_ref()
            .map(|text| crate_text(&text.content)),
        url: feed_link,
        ..Author::default()
    };
    let fallback_time = feed.updated.or(feed.published);
    let items: Vec<Parsed> = feed
        .entries
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            let link = entry.links.first().map(|link| link.href.clone());
            let id = if entry.id.trim().is_empty() { link.clone() } else { Some(entry.id.clone()) };
            let pointer = format!("item {}", index + 1);
            let Some(id) = id else {
                return Err(Rejected {
                    location: Location::pointer(pointer),
                    reason: "the item has neither an id (guid) nor a link".into(),
                    excerpt: entry.title.map(|title| title.content),
                });
            };
            let Some(time) = entry.published.or(entry.updated).or(fallback_time) else {
                return Err(Rejected {
                    location: Location::pointer(pointer),
                    reason: "the item has no date (pubDate, published or updated)".into(),
                    excerpt: Some(id),
                });
            };
            let created_at = jiff::Timestamp::from_second(time.timestamp())
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
            let title = entry.title.as_ref().map(|title| crate_text(&title.content));
            let body = entry
                .summary
                .as_ref()
                .map(|summary| summary.content.clone())
                .or_else(|| entry.content.as_ref().and_then(|content| content.body.clone()))
                .map(|html| crate_text(&html))
                .unwrap_or_default();
            let mut author = publication.clone();
            if let Some(name) = entry.authors.iter().find_map(|person| person.name.clone()) {
                author.display_name = Some(match &feed_title {
                    Some(feed_title) => format!("{name} ({feed_title})"),
                    None => name,
                });
            }
            let raw = serde_json::json!({
                "id": id,
                "title": title,
                "link": link,
                "published": entry.published.map(|time| time.to_rfc3339()),
                "updated": entry.updated.map(|time| time.to_rfc3339()),
                "authors": entry.authors.iter().filter_map(|person| person.name.clone()).collect::<Vec<_>>(),
                "categories": entry.categories.iter().map(|category| category.term.clone()).collect::<Vec<_>>(),
                "summary": body,
            });
            let mut post = Post::new(Network::News, id, author, body, created_at);
            post.title = title;
            post.url = link.clone();
            post.links = link.into_iter().collect();
            post.hashtags = entry.categories.into_iter().map(|category| category.term).collect();
            post.lang = feed.language.clone();
            post.edited_at = match (entry.published, entry.updated) {
                (Some(published), Some(updated)) if updated > published => {
                    jiff::Timestamp::from_second(updated.timestamp()).ok()
                }
                _ => None,
            };
            post.raw = raw.to_string();
            Ok(Record::Change(Change::Upsert(Box::new(post))))
        })
        .collect();
    Box::new(items.into_iter())
}

fn one_rejection(reason: String) -> Records {
    Box::new(std::iter::once(Err(Rejected {
        location: Location::default(),
        reason,
        excerpt: None,
    })))
}

/// The host of a web address, without `www.`.
fn host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = rest
        .split(['/', '?', '#'])
        .next()?
        .trim_start_matches("www.");
    (!host.is_empty()).then(|| host.to_owned())
}

/// Feed text may hold HTML: reduce it to plain text.
fn crate_text(html: &str) -> String {
    crate::html::to_text(html).text
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    const RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>Northgate Gazette: Health</title><link>https://www.northgate-gazette.example/health</link>
<description>Health news</description><language>en-gb</language>
<item><title>A&amp;E waits at record high</title><link>https://www.northgate-gazette.example/health/1</link>
<guid>gazette-1</guid><pubDate>Mon, 06 May 2024 09:30:00 +0100</pubDate>
<description>&lt;p&gt;Patients waited &lt;b&gt;nine hours&lt;/b&gt; at the hospital.&lt;/p&gt;</description>
<category>NHS</category></item>
<item><title>No date here</title><guid>gazette-2</guid></item>
</channel></rss>"#;

    const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Trust news</title><id>urn:trust</id>
<updated>2024-05-07T10:00:00Z</updated><link href="https://northgate.example/news"/>
<entry><title>New maternity unit opens</title><id>urn:trust:1</id>
<link href="https://northgate.example/news/1"/><published>2024-05-07T08:00:00Z</published>
<updated>2024-05-07T09:00:00Z</updated><author><name>Press Office</name></author>
<summary>The new unit opened today.</summary></entry></feed>"#;

    fn run(text: &str) -> Vec<Parsed> {
        parse(Box::new(Cursor::new(text.to_owned()))).collect()
    }

    #[test]
    fn rss_items_become_news_posts_and_undated_items_are_rejected() {
        let items = run(RSS);
        assert_eq!(items.len(), 2);
        let Ok(Record::Change(Change::Upsert(post))) = &items[0] else {
            panic!("{items:?}")
        };
        assert_eq!(post.network, Network::News);
        assert_eq!(post.id, "gazette-1");
        assert_eq!(post.title.as_deref(), Some("A&E waits at record high"));
        assert_eq!(post.text, "Patients waited nine hours at the hospital.");
        assert_eq!(post.created_at.to_string(), "2024-05-06T08:30:00Z");
        assert_eq!(post.author.handle, "northgate-gazette.example");
        assert_eq!(post.hashtags, vec!["NHS"]);
        assert_eq!(post.lang.as_deref(), Some("en-gb"));
        let rejected = items[1].as_ref().unwrap_err();
        assert_eq!(rejected.location.pointer.as_deref(), Some("item 2"));
    }

    #[test]
    fn atom_entries_keep_author_and_update_time() {
        let items = run(ATOM);
        let Ok(Record::Change(Change::Upsert(post))) = &items[0] else {
            panic!("{items:?}")
        };
        assert_eq!(post.id, "urn:trust:1");
        assert_eq!(
            post.author.display_name.as_deref(),
            Some("Press Office (Trust news)")
        );
        assert_eq!(post.edited_at.unwrap().to_string(), "2024-05-07T09:00:00Z");
        assert_eq!(
            post.url.as_deref(),
            Some("https://northgate.example/news/1")
        );
    }

    #[test]
    fn a_broken_feed_is_one_clear_rejection() {
        let items = run("<rss><channel><item>");
        assert_eq!(items.len(), 1);
        assert!(
            items[0]
                .as_ref()
                .unwrap_err()
                .reason
                .contains("not a valid RSS")
        );
    }
}
