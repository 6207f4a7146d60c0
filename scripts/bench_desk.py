#!/usr/bin/env python3
"""Page-change times of the desk as a person sees them: Debian's headless Chromium (default
settings, 1366x900) logged in, clicking through every item of the navigation ROUNDS times.
Each page change is read from the browser's Navigation Timing: from the click's navigation
start to the end of the new page's load event (and, separately, to its first byte).

Usage: bench_desk.py BASE_URL NAME PASSWORD [ROUNDS]
Needs chromium and chromedriver on PATH (apt-get install chromium chromium-driver)."""

import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

base, name, password = sys.argv[1:4]
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 10


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


port = free_port()
driver = subprocess.Popen([shutil.which("chromedriver"), f"--port={port}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
webdriver = f"http://127.0.0.1:{port}"


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(webdriver + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        value = json.loads(response.read())["value"]
    return value


for _ in range(200):
    try:
        call("GET", "/status")
        break
    except OSError:
        time.sleep(0.05)
profile = tempfile.mkdtemp(prefix="bench-desk-")
session = call("POST", "/session", {"capabilities": {"alwaysMatch": {
    "browserName": "chrome",
    "goog:chromeOptions": {"binary": shutil.which("chromium"), "args": [
        "--headless", "--no-sandbox", "--window-size=1366,900", f"--user-data-dir={profile}"]},
}}})["sessionId"]
s = f"/session/{session}"


def script(code):
    return call("POST", s + "/execute/sync", {"script": code, "args": []})


def find(css):
    return list(call("POST", s + "/element", {"using": "css selector", "value": css}).values())[0]


def timing():
    """The navigation timing of the page shown, once its load event has ended."""
    for _ in range(500):
        entry = script("var e = performance.getEntriesByType('navigation')[0];"
                       "return e && e.loadEventEnd > 0 ? [e.responseStart - e.startTime,"
                       " e.loadEventEnd - e.startTime] : null;")
        if entry:
            return entry
        time.sleep(0.01)
    raise SystemExit("a page did not finish loading within 5 s")


try:
    call("POST", s + "/url", {"url": base + "/login?next=/stream"})
    call("POST", s + f"/element/{find('#name')}/value", {"text": name})
    call("POST", s + f"/element/{find('#password')}/value", {"text": password})
    call("POST", s + f"/element/{find('form.form button[type=submit]')}/click", {})
    links = script("return Array.from(document.querySelectorAll('nav[aria-label=Main] a'))"
                   ".map(function (a) { return a.getAttribute('href'); });")
    changes, first_bytes, per_page = [], [], {}
    for _ in range(rounds):
        for href in links:
            link = find(f"nav[aria-label=Main] a[href='{href}']")
            call("POST", s + f"/element/{link}/click", {})
            first_byte, loaded = timing()
            changes.append(loaded)
            first_bytes.append(first_byte)
            per_page.setdefault(href, []).append(loaded)
    print("page | median page change (ms) | slowest")
    for href, times in per_page.items():
        print(f"{href} | {statistics.median(times):.0f} | {max(times):.0f}")
    changes.sort()
    print(f"page changes: {len(changes)} over {rounds} rounds of {len(links)} items; "
          f"median {statistics.median(changes):.0f} ms, "
          f"p95 {changes[int(len(changes) * 0.95) - 1]:.0f} ms, slowest {changes[-1]:.0f} ms; "
          f"first byte median {statistics.median(first_bytes):.0f} ms")
finally:
    try:
        call("DELETE", s)
    finally:
        driver.terminate()
        shutil.rmtree(profile, ignore_errors=True)
