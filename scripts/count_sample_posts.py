#!/usr/bin/env python3
"""Counts the distinct posts in the recorded API payloads (../shared/data/api-samples), walking
each network's documented shapes on its own, without Switchboard's importers.

The import test over the whole samples folder checks the store against these figures:
`python3 scripts/count_sample_posts.py` prints them, per network and in total.

What counts as a post, per network (each distinct by the network's own id):
- X: every tweet object (an `id` with `text`) in `data` (object or list) and `includes.tweets`;
  the versions of an edited tweet are one post (the first id of `edit_history_tweet_ids`).
- Mastodon: every status (an `id`, an `account` object and `content` or `text`) anywhere in a
  response, a JSON Lines line or a streaming event's data, boosted and quoted ones included; the
  answer to a deletion (the status with `text` and no `content`) is not a post.
- Bluesky: every post view or record view (an `at://…/app.bsky.feed.post/…` uri with its record
  or value), including quoted posts with text; a repost for every `reasonRepost` of a feed; and
  the post created or updated by every Jetstream commit of `app.bsky.feed.post`.
- Facebook: every post or comment (an `id` with `created_time`, `message` or `story`) anywhere in
  a response; a comment read without its `id` is named `{post}_{comment}` from its permalink.
"""

import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "api-samples")


def documents(path):
    """The JSON documents of a file: the whole file, or one per line, or SSE event data."""
    with open(path, "rb") as handle:
        raw = handle.read().decode("utf-8", "replace")
    if path.endswith(".sse"):
        event, data = None, []
        for line in raw.splitlines() + [""]:
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
            elif line == "":
                if event in ("update", "status.update", "notification", "conversation") and data:
                    try:
                        yield json.loads("\n".join(data))
                    except ValueError:
                        pass
                event, data = None, []
        return
    try:
        yield json.loads(raw)
        return
    except ValueError:
        pass
    for line in raw.splitlines():
        try:
            yield json.loads(line)
        except ValueError:
            pass


def walk(value):
    if isinstance(value, dict):
        yield value
        for inner in value.values():
            yield from walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from walk(inner)


def x_posts(doc):
    if not isinstance(doc, dict):
        return
    data = doc.get("data")
    tweets = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    tweets = tweets + (doc.get("includes") or {}).get("tweets", [])
    for tweet in tweets:
        if isinstance(tweet, dict) and isinstance(tweet.get("id"), str) and "text" in tweet:
            history = tweet.get("edit_history_tweet_ids") or [tweet["id"]]
            yield history[0]


def mastodon_posts(doc):
    # `DELETE /api/v1/statuses/:id` answers with the deleted status, its source in `text` and no
    # `content`: a deletion, not a post.
    if isinstance(doc, dict) and "text" in doc and "content" not in doc:
        return
    for obj in walk(doc):
        if "id" in obj and isinstance(obj.get("account"), dict) and ("content" in obj or "text" in obj):
            yield str(obj["id"])


def bluesky_posts(doc):
    if isinstance(doc, dict) and doc.get("kind") == "commit":
        commit = doc.get("commit") or {}
        if commit.get("collection") == "app.bsky.feed.post" and commit.get("operation") in ("create", "update"):
            yield "at://%s/app.bsky.feed.post/%s" % (doc["did"], commit["rkey"])
        return
    for obj in walk(doc):
        uri = obj.get("uri")
        if isinstance(uri, str) and "/app.bsky.feed.post/" in uri:
            body = obj.get("record") if "record" in obj else obj.get("value")
            if isinstance(body, dict) and "text" in body:
                embedded = obj.get("$type") == "app.bsky.embed.record#viewRecord"
                if not embedded or body["text"].strip():
                    yield uri
        reason = obj.get("reason")
        if isinstance(reason, dict) and str(reason.get("$type", "")).endswith("#reasonRepost"):
            post = obj.get("post") or {}
            rkey = post.get("uri", "").rsplit("/", 1)[-1]
            yield reason.get("uri") or "at://%s/app.bsky.feed.repost/%s" % (reason["by"]["did"], rkey)


def facebook_posts(doc):
    for obj in walk(doc):
        if not any(key in obj for key in ("created_time", "message", "story")):
            continue
        if isinstance(obj.get("id"), str):
            yield obj["id"]
            continue
        # A comment read without `fields=id` is named by its permalink: .../posts/{post}/?comment_id=
        link = obj.get("permalink_url", "")
        if "comment_id=" in link and "/posts/" in link:
            post = link.split("/posts/", 1)[1].split("/", 1)[0].split("?", 1)[0]
            query = dict(pair.split("=", 1) for pair in link.split("?", 1)[1].split("&") if "=" in pair)
            yield "%s_%s" % (post, query.get("reply_comment_id") or query["comment_id"])


COUNTERS = {
    "x-twitter": ("x", x_posts),
    "mastodon": ("mastodon", mastodon_posts),
    "bluesky": ("bluesky", bluesky_posts),
    "facebook": ("facebook", facebook_posts),
}


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else ROOT
    total = 0
    for folder, (network, counter) in COUNTERS.items():
        found = set()
        directory = os.path.join(root, folder)
        for name in sorted(os.listdir(directory)):
            for doc in documents(os.path.join(directory, name)):
                found.update(counter(doc))
        print("%-9s %5d" % (network, len(found)))
        total += len(found)
    print("%-9s %5d" % ("total", total))


if __name__ == "__main__":
    main()
