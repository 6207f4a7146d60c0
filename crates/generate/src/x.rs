//! X API v2 search pages (`GET /2/tweets/search/recent` with user and tweet expansions).

use crate::json::{self, key, num, string};
use crate::people::Account;
use crate::text::SpanKind;
use crate::{Generator, Post};

/// The user object of an account, as returned in `includes.users`.
pub(crate) fn user_json(a: &Account) -> String {
    let mut o = String::with_capacity(512);
    o.push('{');
    key(&mut o, "id");
    o.push('"');
    num(&mut o, a.x_id);
    o.push_str("\",");
    key(&mut o, "username");
    string(&mut o, &a.username);
    o.push(',');
    key(&mut o, "name");
    string(&mut o, &a.name);
    o.push(',');
    key(&mut o, "description");
    string(&mut o, &a.bio);
    o.push(',');
    key(&mut o, "created_at");
    o.push('"');
    json::time_ms(&mut o, a.created_ms / 1000 * 1000);
    o.push_str("\",");
    key(&mut o, "verified");
    o.push_str(if a.verified_type == "none" {
        "false,"
    } else {
        "true,"
    });
    key(&mut o, "verified_type");
    string(&mut o, a.verified_type);
    o.push_str(",\"protected\":false,");
    key(&mut o, "profile_image_url");
    o.push_str("\"https://pbs.twimg.com/profile_images/");
    num(&mut o, json::mix(a.x_id) % 1_000_000_000_000_000_000);
    o.push_str("/avatar_normal.jpg\",\"url\":\"\",");
    key(&mut o, "public_metrics");
    o.push_str("{\"followers_count\":");
    num(&mut o, a.followers);
    o.push_str(",\"following_count\":");
    num(&mut o, a.following);
    o.push_str(",\"tweet_count\":");
    num(&mut o, a.statuses);
    o.push_str(",\"listed_count\":");
    num(&mut o, a.followers / 40);
    o.push_str("}}");
    o
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Writes entities from `spans` of `text`, shifted by `shift` characters, dropping those past `limit` chars.
fn entities(
    g: &Generator,
    o: &mut String,
    prefix_mention: Option<(usize, &Account)>,
    p: &Post,
    shift: usize,
    limit: usize,
) {
    let text = &p.text.text;
    let mut tags = String::new();
    let mut mentions = String::new();
    let mut urls = String::new();
    if let Some((len, a)) = prefix_mention {
        mention(&mut mentions, 3, 3 + len, a);
    }
    let mut chars = 0;
    let mut at = 0;
    for span in &p.text.spans {
        chars += char_len(text.get(at..span.start).unwrap_or_default());
        let body = text.get(span.start..span.end).unwrap_or_default();
        let start = chars + shift;
        let end = start + char_len(body);
        chars = end - shift;
        at = span.end;
        if end > limit {
            break;
        }
        match span.kind {
            SpanKind::Tag => {
                sep(&mut tags);
                tags.push_str("{\"start\":");
                num(&mut tags, start);
                tags.push_str(",\"end\":");
                num(&mut tags, end);
                tags.push_str(",\"tag\":");
                string(&mut tags, body.get(1..).unwrap_or_default());
                tags.push('}');
            }
            SpanKind::Mention(who) => {
                if let Some(a) = g.cast.accounts.get(who) {
                    mention(&mut mentions, start, end, a);
                }
            }
            SpanKind::Url => {
                sep(&mut urls);
                urls.push_str("{\"start\":");
                num(&mut urls, start);
                urls.push_str(",\"end\":");
                num(&mut urls, end);
                urls.push_str(",\"url\":");
                string(&mut urls, body);
                urls.push_str(",\"expanded_url\":");
                string(&mut urls, body);
                urls.push_str(",\"display_url\":");
                string(&mut urls, body.trim_start_matches("https://"));
                urls.push('}');
            }
        }
    }
    if tags.is_empty() && mentions.is_empty() && urls.is_empty() {
        return;
    }
    o.push_str(",\"entities\":{");
    let mut first = true;
    for (name, body) in [
        ("hashtags", &tags),
        ("mentions", &mentions),
        ("urls", &urls),
    ] {
        if body.is_empty() {
            continue;
        }
        if !first {
            o.push(',');
        }
        first = false;
        key(o, name);
        o.push('[');
        o.push_str(body);
        o.push(']');
    }
    o.push('}');
}

fn sep(s: &mut String) {
    if !s.is_empty() {
        s.push(',');
    }
}

fn mention(s: &mut String, start: usize, end: usize, a: &Account) {
    sep(s);
    s.push_str("{\"start\":");
    num(s, start);
    s.push_str(",\"end\":");
    num(s, end);
    s.push_str(",\"username\":");
    string(s, &a.username);
    s.push_str(",\"id\":\"");
    num(s, a.x_id);
    s.push_str("\"}");
}

fn tweet(g: &Generator, o: &mut String, p: &Post) {
    let author = g.cast.accounts.get(p.author);
    let orig = p.repost_of.and_then(|s| g.post(s));
    o.push_str("{\"id\":\"");
    num(o, p.id);
    o.push_str("\",\"text\":");
    let mut limit = usize::MAX;
    let mut prefix = None;
    if let Some(orig) = orig {
        let ou = g.cast.accounts.get(orig.author);
        let uname = ou.map_or("", |a| a.username.as_str());
        let mut t = String::with_capacity(orig.text.text.len() + 20);
        t.push_str("RT @");
        t.push_str(uname);
        t.push_str(": ");
        let head = char_len(&t);
        let total = head + char_len(&orig.text.text);
        if total > 140 {
            t.extend(orig.text.text.chars().take(139 - head.min(139)));
            t.push('…');
            limit = 139;
        } else {
            t.push_str(&orig.text.text);
        }
        string(o, &t);
        if let Some(a) = ou {
            prefix = Some((char_len(uname) + 1, a));
        }
    } else {
        string(o, &p.text.text);
    }
    o.push_str(",\"author_id\":\"");
    num(o, author.map_or(0, |a| a.x_id));
    o.push_str("\",\"created_at\":\"");
    json::time_ms(o, p.ms / 1000 * 1000);
    o.push_str("\",\"conversation_id\":\"");
    num(o, p.root_id);
    o.push_str("\",\"lang\":");
    let base = orig.unwrap_or(p);
    string(o, base.text.lang);
    o.push_str(",\"possibly_sensitive\":");
    o.push_str(if base.text.sensitive { "true" } else { "false" });
    o.push_str(",\"reply_settings\":\"everyone\",\"edit_history_tweet_ids\":[\"");
    num(o, p.id);
    o.push_str("\"],\"public_metrics\":{\"retweet_count\":");
    let m = if orig.is_some() {
        [base.metrics[0], 0, 0, 0]
    } else {
        p.metrics
    };
    let [rt, rep, like, quote] = m;
    num(o, rt);
    o.push_str(",\"reply_count\":");
    num(o, rep);
    o.push_str(",\"like_count\":");
    num(o, like);
    o.push_str(",\"quote_count\":");
    num(o, quote);
    o.push_str(",\"bookmark_count\":");
    num(o, like / 10);
    o.push_str(",\"impression_count\":");
    num(o, like * 37 + rt * 90 + 11);
    o.push('}');
    match orig {
        Some(orig) => entities(g, o, prefix, orig, prefix.map_or(0, |(n, _)| n + 5), limit),
        None => entities(g, o, None, p, 0, limit),
    }
    if let Some(orig) = orig {
        o.push_str(",\"referenced_tweets\":[{\"type\":\"retweeted\",\"id\":\"");
        num(o, orig.id);
        o.push_str("\"}]");
    } else if let Some(parent) = p.reply_to.and_then(|s| g.post(s)) {
        o.push_str(",\"referenced_tweets\":[{\"type\":\"replied_to\",\"id\":\"");
        num(o, parent.id);
        o.push_str("\"}],\"in_reply_to_user_id\":\"");
        num(o, g.cast.accounts.get(parent.author).map_or(0, |a| a.x_id));
        o.push('"');
    }
    o.push('}');
}

/// Generates and writes one search page of up to 100 tweets, newest first as the API returns them.
pub(crate) fn page(g: &mut Generator) -> String {
    let n = (g.config.posts - g.made).min(100) as usize;
    let mut seqs = Vec::with_capacity(n);
    for _ in 0..n {
        seqs.push(g.make_post());
    }
    seqs.reverse();
    let mut o = String::with_capacity(n * 1400);
    o.push_str("{\"data\":[");
    let mut users: Vec<usize> = Vec::new();
    let mut refs: Vec<u64> = Vec::new();
    let stamp = g.page_no;
    let note_user = |g: &mut Generator, users: &mut Vec<usize>, who: usize| {
        if let Some(s) = g.stamp.get_mut(who)
            && *s != stamp
        {
            *s = stamp;
            users.push(who);
        }
    };
    for (i, seq) in seqs.iter().enumerate() {
        let Some(p) = g.post(*seq) else { continue };
        if i > 0 {
            o.push(',');
        }
        tweet(g, &mut o, p);
        let author = p.author;
        let reference = p.repost_of.or(p.reply_to);
        let mentioned: Vec<usize> = p
            .text
            .spans
            .iter()
            .filter_map(|s| {
                if let SpanKind::Mention(w) = s.kind {
                    Some(w)
                } else {
                    None
                }
            })
            .collect();
        let id = p.id.to_string();
        if let Some(l) = g.label(*seq, id) {
            g.labels.push(l);
        }
        note_user(g, &mut users, author);
        for w in mentioned {
            note_user(g, &mut users, w);
        }
        if let Some(r) = reference
            && !refs.contains(&r)
            && g.post(r).is_some()
        {
            refs.push(r);
        }
    }
    o.push_str("],\"includes\":{\"users\":[");
    for r in &refs {
        if let Some(a) = g.post(*r).map(|p| p.author) {
            note_user(g, &mut users, a);
        }
    }
    for (i, u) in users.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        o.push_str(g.account_json.get(*u).map_or("{}", String::as_str));
    }
    o.push(']');
    if !refs.is_empty() {
        o.push_str(",\"tweets\":[");
        for (i, r) in refs.iter().enumerate() {
            if let Some(p) = g.post(*r) {
                if i > 0 {
                    o.push(',');
                }
                tweet(g, &mut o, p);
            }
        }
        o.push(']');
    }
    o.push_str("},\"meta\":{\"newest_id\":\"");
    let first = seqs.first().and_then(|s| g.post(*s)).map_or(0, |p| p.id);
    let last = seqs.last().and_then(|s| g.post(*s)).map_or(0, |p| p.id);
    num(&mut o, first);
    o.push_str("\",\"oldest_id\":\"");
    num(&mut o, last);
    o.push_str("\",\"result_count\":");
    num(&mut o, n);
    if g.made < g.config.posts {
        o.push_str(",\"next_token\":\"");
        json::b32(&mut o, g.config.seed ^ g.page_no, 43);
        o.push('"');
    }
    o.push_str("}}");
    o
}
