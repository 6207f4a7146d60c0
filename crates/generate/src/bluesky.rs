//! Bluesky Jetstream events: post commits with facets and replies, plus likes, reposts,
//! follows, deletes, profile updates and identity events around them.

use crate::json::{self, num, string};
use crate::text::SpanKind;
use crate::{Generator, Post};

fn did(g: &Generator, author: usize) -> &str {
    g.cast
        .accounts
        .get(author)
        .map_or("did:plc:unknown", |a| a.did.as_str())
}

fn rkey(o: &mut String, us: u64, seq: u64) {
    json::tid(o, us as i64, json::mix(seq));
}

fn strong_ref(o: &mut String, g: &Generator, author: usize, us: u64, seq: u64) {
    o.push_str("{\"cid\":\"");
    json::cid(o, seq);
    o.push_str("\",\"uri\":\"at://");
    o.push_str(did(g, author));
    o.push_str("/app.bsky.feed.post/");
    rkey(o, us, seq);
    o.push_str("\"}");
}

fn head(
    o: &mut String,
    did: &str,
    time_us: i64,
    collection: &str,
    op: &str,
    rkey_us: i64,
    rkey_seed: u64,
) {
    o.push_str("{\"did\":\"");
    o.push_str(did);
    o.push_str("\",\"time_us\":");
    num(o, time_us);
    o.push_str(",\"kind\":\"commit\",\"commit\":{\"rev\":\"");
    json::tid(o, time_us, rkey_seed ^ 0x55);
    o.push_str("\",\"operation\":\"");
    o.push_str(op);
    o.push_str("\",\"collection\":\"");
    o.push_str(collection);
    o.push_str("\",\"rkey\":\"");
    if collection == "app.bsky.actor.profile" {
        o.push_str("self");
    } else {
        json::tid(o, rkey_us, json::mix(rkey_seed));
    }
    o.push('"');
}

fn post_event(g: &Generator, o: &mut String, p: &Post, time_us: i64) {
    head(
        o,
        did(g, p.author),
        time_us,
        "app.bsky.feed.post",
        "create",
        p.id as i64,
        p.seq,
    );
    o.push_str(",\"record\":{\"$type\":\"app.bsky.feed.post\",\"createdAt\":\"");
    json::time_ms(o, p.ms);
    o.push('"');
    if !p.text.spans.is_empty() {
        o.push_str(",\"facets\":[");
        for (i, s) in p.text.spans.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            let body = p.text.text.get(s.start..s.end).unwrap_or_default();
            o.push_str("{\"features\":[{\"$type\":\"app.bsky.richtext.facet#");
            match s.kind {
                SpanKind::Tag => {
                    o.push_str("tag\",\"tag\":");
                    string(o, body.get(1..).unwrap_or_default());
                }
                SpanKind::Mention(who) => {
                    o.push_str("mention\",\"did\":\"");
                    o.push_str(did(g, who));
                    o.push('"');
                }
                SpanKind::Url => {
                    o.push_str("link\",\"uri\":");
                    string(o, body);
                }
            }
            o.push_str("}],\"index\":{\"byteEnd\":");
            num(o, s.end);
            o.push_str(",\"byteStart\":");
            num(o, s.start);
            o.push_str("}}");
        }
        o.push(']');
    }
    o.push_str(",\"langs\":[");
    string(o, p.text.lang);
    o.push(']');
    if let Some(parent) = p.reply_to.and_then(|s| g.post(s)) {
        o.push_str(",\"reply\":{\"parent\":");
        strong_ref(o, g, parent.author, parent.id, parent.seq);
        o.push_str(",\"root\":");
        strong_ref(o, g, p.root_author, p.root_id, p.root);
        o.push('}');
    }
    o.push_str(",\"text\":");
    string(o, &p.text.text);
    o.push_str("},\"cid\":\"");
    json::cid(o, p.seq);
    o.push_str("\"}}");
}

/// Generates one post and returns its event line, queueing the other events around it.
pub(crate) fn next_line(g: &mut Generator) -> String {
    let seq = g.make_post();
    let mut o = String::with_capacity(900);
    let delay = g.rng.i64(200_000..2_500_000);
    let Some(p) = g.post(seq) else { return o };
    let time_us = (p.id as i64 + delay).max(g.last_us + 1);
    post_event(g, &mut o, p, time_us);
    let uri = {
        let mut u = String::from("at://");
        u.push_str(did(g, p.author));
        u.push_str("/app.bsky.feed.post/");
        rkey(&mut u, p.id, p.seq);
        u
    };
    if let Some(l) = g.label(seq, uri) {
        g.labels.push(l);
    }
    g.last_us = time_us;
    extras(g, time_us);
    o
}

fn extras(g: &mut Generator, mut t: i64) {
    let count = match g.rng.u8(..100) {
        0..=39 => 0,
        40..=74 => 1,
        75..=92 => 2,
        _ => 3,
    };
    for _ in 0..count {
        t += g.rng.i64(1_000..400_000);
        let mut o = String::with_capacity(400);
        let roll = g.rng.u16(..1000);
        let actor = g.rng.usize(..g.cast.accounts.len().max(1));
        let seed = g.rng.u64(..);
        let target = crate::recent(&mut g.rng, &g.ring, g.made, usize::MAX, 300, &[]);
        let target = target
            .and_then(|s| g.post(s))
            .map(|p| (p.author, p.id, p.seq, p.ms));
        let ms = t / 1000 - g.rng.i64(0..900);
        match (roll, target) {
            (0..=699, Some((author, id, tseq, _))) | (700..=849, Some((author, id, tseq, _))) => {
                let collection = if roll < 700 {
                    "app.bsky.feed.like"
                } else {
                    "app.bsky.feed.repost"
                };
                head(
                    &mut o,
                    did(g, actor),
                    t,
                    collection,
                    "create",
                    ms * 1000,
                    seed,
                );
                o.push_str(",\"record\":{\"$type\":\"");
                o.push_str(collection);
                o.push_str("\",\"createdAt\":\"");
                json::time_ms(&mut o, ms);
                o.push_str("\",\"subject\":");
                strong_ref(&mut o, g, author, id, tseq);
                o.push_str("},\"cid\":\"");
                json::cid(&mut o, seed);
                o.push_str("\"}}");
            }
            (850..=929, _) => {
                let subject = g.rng.usize(..g.cast.accounts.len().max(1));
                head(
                    &mut o,
                    did(g, actor),
                    t,
                    "app.bsky.graph.follow",
                    "create",
                    ms * 1000,
                    seed,
                );
                o.push_str(",\"record\":{\"$type\":\"app.bsky.graph.follow\",\"createdAt\":\"");
                json::time_ms(&mut o, ms);
                o.push_str("\",\"subject\":\"");
                o.push_str(did(g, subject));
                o.push_str("\"},\"cid\":\"");
                json::cid(&mut o, seed);
                o.push_str("\"}}");
            }
            (930..=949, _) => {
                head(
                    &mut o,
                    did(g, actor),
                    t,
                    "app.bsky.graph.follow",
                    "delete",
                    ms * 1000 - 86_400_000_000 * 30,
                    seed,
                );
                o.push_str("}}");
            }
            (950..=964, Some((author, id, tseq, _))) => {
                o.push_str("{\"did\":\"");
                o.push_str(did(g, author));
                o.push_str("\",\"time_us\":");
                num(&mut o, t);
                o.push_str(",\"kind\":\"commit\",\"commit\":{\"rev\":\"");
                json::tid(&mut o, t, seed);
                o.push_str(
                    "\",\"operation\":\"delete\",\"collection\":\"app.bsky.feed.post\",\"rkey\":\"",
                );
                rkey(&mut o, id, tseq);
                o.push_str("\"}}");
            }
            (965..=984, _) => {
                let (name, bio) = g
                    .cast
                    .accounts
                    .get(actor)
                    .map_or(("", ""), |a| (a.name.as_str(), a.bio.as_str()));
                head(
                    &mut o,
                    did(g, actor),
                    t,
                    "app.bsky.actor.profile",
                    "update",
                    0,
                    seed,
                );
                o.push_str(",\"record\":{\"$type\":\"app.bsky.actor.profile\",\"createdAt\":\"");
                json::time_ms(&mut o, ms);
                o.push_str("\",\"description\":");
                string(&mut o, bio);
                o.push_str(",\"displayName\":");
                string(&mut o, name);
                o.push_str("},\"cid\":\"");
                json::cid(&mut o, seed);
                o.push_str("\"}}");
            }
            _ => {
                let (d, handle) = g
                    .cast
                    .accounts
                    .get(actor)
                    .map_or(("", ""), |a| (a.did.as_str(), a.bsky_handle.as_str()));
                o.push_str("{\"did\":\"");
                o.push_str(d);
                o.push_str("\",\"time_us\":");
                num(&mut o, t);
                o.push_str(",\"kind\":\"identity\",\"identity\":{\"did\":\"");
                o.push_str(d);
                o.push_str("\",\"handle\":");
                string(&mut o, handle);
                o.push_str(",\"seq\":");
                num(&mut o, 31_000_000_000 + g.made * 3 + g.rng.u64(..3));
                o.push_str(",\"time\":\"");
                json::time_ms(&mut o, ms);
                o.push_str("\"}}");
            }
        }
        g.pending.push_back(o);
        g.last_us = t;
    }
}
