#!/usr/bin/env python3
"""Time from a post being committed to the store (by a separate `switchboard import` process)
to its arrival on an open Server-Sent Events stream of the live page.

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


def listen():
    conn = http.client.HTTPConnection(url.hostname, url.port)
    conn.request("GET", "/stream/events", headers={"Cookie": f"sb_session={session}"})
    response = conn.getresponse()
    assert response.status == 200, response.status
    while True:
        line = response.fp.readline()
        if not line:
            return
        line = line.decode("utf-8", "replace").rstrip("\n")
        if line.startswith("id: "):
            arrivals.setdefault(line[4:].split("/", 1)[1], time.monotonic())


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
