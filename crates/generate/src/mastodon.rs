//! Mastodon `GET /api/v1/timelines/tag/:hashtag` pages: JSON arrays of statuses.

use crate::json::{self, num, string};
use crate::people::Account;
use crate::text::SpanKind;
use crate::{Generator, Post};

/// The server the timeline is read from; accounts without an instance are local to it.
pub(crate) const LOCAL: &str = "social.northgate.example";

fn host(a: &Account) -> &'static str {
    a.instance.unwrap_or(LOCAL)
}

fn acct(o: &mut String, a: &Account) {
    o.push('"');
    json::escape_into(o, &a.username);
    if let Some(i) = a.instance {
        o.push('@');
        o.push_str(i);
    }
    o.push('"');
}

/// Appends `s` HTML-escaped as Mastodon does, then JSON-escaped.
fn html_text(o: &mut String, s: &str) {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' if chars.peek() == Some(&'\n') => {
                chars.next();
                o.push_str("</p><p>");
            }
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            '\n' => o.push_str("<br />"),
            '\\' => o.push_str("\\\\"),
            _ => o.push(c),
        }
    }
}

/// The account object, precomputed once per account.
pub(crate) fn account_json(a: &Account) -> String {
    let mut o = String::with_capacity(1200);
    let h = host(a);
    o.push_str("{\"id\":\"");
    num(&mut o, a.masto_id);
    o.push_str("\",\"username\":");
    string(&mut o, &a.username);
    o.push_str(",\"acct\":");
    acct(&mut o, a);
    o.push_str(",\"display_name\":");
    string(&mut o, &a.name);
    o.push_str(",\"locked\":false,\"bot\":false,\"discoverable\":true,\"indexable\":true,\"group\":false,\"created_at\":\"");
    json::date(&mut o, a.created_ms);
    o.push_str("T00:00:00.000Z\",\"note\":\"");
    if !a.bio.is_empty() {
        o.push_str("<p>");
        html_text(&mut o, &a.bio.replace('"', "'"));
        o.push_str("</p>");
    }
    o.push_str("\",\"url\":\"https://");
    o.push_str(h);
    o.push_str("/@");
    json::escape_into(&mut o, &a.username);
    o.push_str("\",\"uri\":\"https://");
    o.push_str(h);
    o.push_str("/users/");
    json::escape_into(&mut o, &a.username);
    o.push_str("\",\"avatar\":\"https://");
    o.push_str(h);
    o.push_str("/system/accounts/avatars/");
    num(&mut o, a.masto_id);
    o.push_str("/original/avatar.png\",\"avatar_static\":\"https://");
    o.push_str(h);
    o.push_str("/system/accounts/avatars/");
    num(&mut o, a.masto_id);
    o.push_str("/original/avatar.png\",\"header\":\"https://");
    o.push_str(h);
    o.push_str("/headers/original/missing.png\",\"header_static\":\"https://");
    o.push_str(h);
    o.push_str("/headers/original/missing.png\",\"followers_count\":");
    num(&mut o, a.followers);
    o.push_str(",\"following_count\":");
    num(&mut o, a.following);
    o.push_str(",\"statuses_count\":");
    num(&mut o, a.statuses);
    o.push_str(",\"last_status_at\":\"");
    json::date(&mut o, a.created_ms + 86_400_000);
    o.push_str("\",\"emojis\":[],\"fields\":[]}");
    o
}

fn status_url(o: &mut String, g: &Generator, p: &Post) {
    let a = g.cast.accounts.get(p.author);
    o.push_str("\"https://");
    o.push_str(a.map_or(LOCAL, host));
    o.push_str("/@");
    json::escape_into(o, a.map_or("", |a| a.username.as_str()));
    o.push('/');
    num(o, p.id);
    o.push('"');
}

fn content(g: &Generator, o: &mut String, p: &Post) {
    let text = &p.text.text;
    o.push_str("\"<p>");
    let mut at = 0;
    for span in &p.text.spans {
        html_text(o, text.get(at..span.start).unwrap_or_default());
        let body = text.get(span.start..span.end).unwrap_or_default();
        match span.kind {
            SpanKind::Tag => {
                let tag = body.get(1..).unwrap_or_default();
                o.push_str("<a href=\\\"https://");
                o.push_str(LOCAL);
                o.push_str("/tags/");
                o.push_str(tag);
                o.push_str("\\\" class=\\\"mention hashtag\\\" rel=\\\"tag\\\">#<span>");
                o.push_str(tag);
                o.push_str("</span></a>");
            }
            SpanKind::Mention(who) => {
                let a = g.cast.accounts.get(who);
                o.push_str("<span class=\\\"h-card\\\" translate=\\\"no\\\"><a href=\\\"https://");
                o.push_str(a.map_or(LOCAL, host));
                o.push_str("/@");
                let name = a.map_or("", |a| a.username.as_str());
                o.push_str(name);
                o.push_str("\\\" class=\\\"u-url mention\\\">@<span>");
                o.push_str(name);
                o.push_str("</span></a></span>");
            }
            SpanKind::Url => {
                let rest = body.trim_start_matches("https://");
                o.push_str("<a href=\\\"");
                o.push_str(body);
                o.push_str("\\\" target=\\\"_blank\\\" rel=\\\"nofollow noopener\\\" translate=\\\"no\\\"><span class=\\\"invisible\\\">https://</span><span class=\\\"\\\">");
                o.push_str(rest);
                o.push_str("</span><span class=\\\"invisible\\\"></span></a>");
            }
        }
        at = span.end;
    }
    html_text(o, text.get(at..).unwrap_or_default());
    o.push_str("</p>\"");
}

fn status(g: &Generator, o: &mut String, p: &Post) {
    let orig = p.repost_of.and_then(|s| g.post(s));
    let a = g.cast.accounts.get(p.author);
    o.push_str("{\"id\":\"");
    num(o, p.id);
    o.push_str("\",\"created_at\":\"");
    json::time_ms(o, p.ms);
    o.push_str("\",\"in_reply_to_id\":");
    let parent = p.reply_to.and_then(|s| g.post(s));
    match parent {
        Some(pp) => {
            o.push('"');
            num(o, pp.id);
            o.push_str("\",\"in_reply_to_account_id\":\"");
            num(o, g.cast.accounts.get(pp.author).map_or(0, |a| a.masto_id));
            o.push('"');
        }
        None => o.push_str("null,\"in_reply_to_account_id\":null"),
    }
    let base = orig.unwrap_or(p);
    o.push_str(",\"sensitive\":");
    o.push_str(if orig.is_none() && p.text.sensitive {
        "true"
    } else {
        "false"
    });
    o.push_str(",\"spoiler_text\":");
    string(
        o,
        if orig.is_none() && p.text.sensitive {
            "CW: mental health, distress"
        } else {
            ""
        },
    );
    o.push_str(",\"visibility\":\"public\",\"language\":");
    if orig.is_some() {
        o.push_str("null");
    } else {
        string(o, base.text.lang);
    }
    o.push_str(",\"uri\":\"https://");
    o.push_str(a.map_or(LOCAL, host));
    o.push_str("/users/");
    json::escape_into(o, a.map_or("", |a| a.username.as_str()));
    o.push_str("/statuses/");
    num(o, p.id);
    if orig.is_some() {
        o.push_str("/activity");
    }
    o.push_str("\",\"url\":");
    status_url(o, g, p);
    let [reblogs, replies, favs, quotes] = if orig.is_some() { [0; 4] } else { p.metrics };
    o.push_str(",\"replies_count\":");
    num(o, replies);
    o.push_str(",\"reblogs_count\":");
    num(o, reblogs);
    o.push_str(",\"favourites_count\":");
    num(o, favs);
    o.push_str(",\"quotes_count\":");
    num(o, quotes);
    o.push_str(",\"edited_at\":null,\"favourited\":false,\"reblogged\":false,\"muted\":false,\"bookmarked\":false,\"content\":");
    if orig.is_some() {
        o.push_str("\"\"");
    } else {
        content(g, o, p);
    }
    o.push_str(",\"filtered\":[],\"reblog\":");
    match orig {
        Some(op) => status(g, o, op),
        None => o.push_str("null"),
    }
    o.push_str(",\"application\":null,\"account\":");
    o.push_str(g.account_json.get(p.author).map_or("{}", String::as_str));
    o.push_str(",\"media_attachments\":[");
    if p.media && orig.is_none() {
        let mid = p.id + 7;
        o.push_str("{\"id\":\"");
        num(o, mid);
        o.push_str("\",\"type\":\"image\",\"url\":\"https://");
        o.push_str(LOCAL);
        o.push_str("/system/media_attachments/files/");
        num(o, mid);
        o.push_str("/original/photo.jpg\",\"preview_url\":\"https://");
        o.push_str(LOCAL);
        o.push_str("/system/media_attachments/files/");
        num(o, mid);
        o.push_str("/small/photo.jpg\",\"remote_url\":null,\"preview_remote_url\":null,\"text_url\":null,\"meta\":{\"original\":{\"width\":1200,\"height\":900,\"size\":\"1200x900\",\"aspect\":1.3333333333333333},\"small\":{\"width\":640,\"height\":480,\"size\":\"640x480\",\"aspect\":1.3333333333333333}},\"description\":");
        string(
            o,
            "Members of the team smiling on the ward, holding a thank you card",
        );
        o.push_str(",\"blurhash\":\"UCF~~[9F00of~qRjM{of00t7~qWB%MayRjof\"}");
    }
    o.push_str("],\"mentions\":[");
    let mut first = true;
    let mut tags = String::new();
    if orig.is_none() {
        for span in &p.text.spans {
            match span.kind {
                SpanKind::Mention(who) => {
                    let Some(m) = g.cast.accounts.get(who) else {
                        continue;
                    };
                    if !first {
                        o.push(',');
                    }
                    first = false;
                    o.push_str("{\"id\":\"");
                    num(o, m.masto_id);
                    o.push_str("\",\"username\":");
                    string(o, &m.username);
                    o.push_str(",\"url\":\"https://");
                    o.push_str(host(m));
                    o.push_str("/@");
                    json::escape_into(o, &m.username);
                    o.push_str("\",\"acct\":");
                    acct(o, m);
                    o.push('}');
                }
                SpanKind::Tag => {
                    let tag = p
                        .text
                        .text
                        .get(span.start + 1..span.end)
                        .unwrap_or_default();
                    if !tags.is_empty() {
                        tags.push(',');
                    }
                    tags.push_str("{\"name\":");
                    string(&mut tags, &tag.to_lowercase());
                    tags.push_str(",\"url\":\"https://");
                    tags.push_str(LOCAL);
                    tags.push_str("/tags/");
                    json::escape_into(&mut tags, &tag.to_lowercase());
                    tags.push_str("\"}");
                }
                SpanKind::Url => {}
            }
        }
    }
    o.push_str("],\"tags\":[");
    o.push_str(&tags);
    o.push_str("],\"emojis\":[],\"card\":null,\"poll\":null}");
}

/// Generates and writes one timeline page of up to 40 statuses, newest first.
pub(crate) fn page(g: &mut Generator) -> String {
    let n = (g.config.posts - g.made).min(40) as usize;
    let mut seqs = Vec::with_capacity(n);
    for _ in 0..n {
        seqs.push(g.make_post());
    }
    seqs.reverse();
    let mut o = String::with_capacity(n * 3000);
    o.push('[');
    for (i, seq) in seqs.iter().enumerate() {
        let Some(p) = g.post(*seq) else { continue };
        if i > 0 {
            o.push(',');
        }
        status(g, &mut o, p);
        let id = p.id.to_string();
        if let Some(l) = g.label(*seq, id) {
            g.labels.push(l);
        }
    }
    o.push(']');
    o
}
