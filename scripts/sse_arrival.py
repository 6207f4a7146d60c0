#!/usr/bin/env python3
"""Time from a post being committed to the store (by a separate `switchboard import` process)
to its arrival on an open stream page: the `posts` event of the live connection (`/live`)
announces it and the page's fetch of `/live/posts?list=stream&after=N` returns it, as the
page's script does.

Usage: sse_arrival.py BASE_URL SESSION DB SWITCHBOARD_BIN WORKDIR [TRIALS]
The commit time is found by polling the database for the post's row (unique index lookup)."""

import json
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import http.client

base, session, db, binary, work = sys.argv[1:6]
trials = int(sys.argv[6]) if len(sys.argv) > 6 else 5
url = urllib.parse.urlparse(base)

arrivals = {}


def new_posts(after):
    """The ids of the stream's posts numbered after `after`, and the newest number."""
    conn = http.client.HTTPConnection(url.hostname, url.port)
    conn.request("GET", f"/live/posts?list=stream&after={after}",
                 headers={"Cookie": f"sb_session={session}"})
    page = json.loads(conn.getresponse().read())
    return [item["id"].split("/", 1)[1] for item in page["items"]], page["seq"]


def listen():
    conn = http.client.HTTPConnection(url.hostname, url.port)
    conn.request("GET", "/live", headers={"Cookie": f"sb_session={session}"})
    response = conn.getresponse()
    assert response.status == 200, response.status
    seq = None
    kind = None
    while True:
        line = response.fp.readline()
        if not line:
            return
        line = line.decode("utf-8", "replace").rstrip("\n")
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: ") and kind == "posts":
            newest = int(line[6:])
            if seq is None:
                seq = newest
                continue
            ids, seq = new_posts(seq)
            now = time.monotonic()
            for post_id in ids:
                arrivals.setdefault(post_id, now)


threading.Thread(target=listen, daemon=True).start()
time.sleep(1.0)
reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
results = []
for trial in range(trials):
    path = f"{work}/arrival-{trial}.jsonl"
    seed = int(time.time()) * 10 + trial
    subprocess.run([binary, "generate", "--format", "mastodon", "--posts", "1", "--seed", str(seed),
                    "--start", "5m", "--days", "1", "--out", path], check=True, capture_output=True)
    with open(path) as f:
        first = json.loads(f.readline())
    post_id = first[0]["id"]
    importer = subprocess.Popen([binary, "import", "--db", db, path], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    committed = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = reader.execute("SELECT 1 FROM posts WHERE network = 'mastodon' AND id = ?",
                             (post_id,)).fetchone()
        if row:
            committed = time.monotonic()
            break
        time.sleep(0.002)
    importer.wait()
    while post_id not in arrivals and time.monotonic() < deadline:
        time.sleep(0.002)
    if committed is None or post_id not in arrivals:
        print(f"trial {trial}: post {post_id} did not arrive")
        continue
    results.append((arrivals[post_id] - committed) * 1000)
    print(f"trial {trial}: post {post_id} on the open stream {results[-1]:.0f} ms after its commit")
if results:
    print(f"live arrival: median {statistics.median(results):.0f} ms, max {max(results):.0f} ms "
          f"over {len(results)} posts")
