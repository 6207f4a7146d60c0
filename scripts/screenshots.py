#!/usr/bin/env python3
"""Screenshots of the desk as a person sees it: Debian's headless Chromium (default settings)
logged in, every page of the navigation (and any extra paths given) at 1366x900 and, emulated,
at 390x844, saved as PNG files to look at (and the README's, from the stream at 1366x900).

Usage: screenshots.py BASE_URL NAME PASSWORD OUTDIR [PATH...]
Needs chromium and chromedriver on PATH."""

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

base, name, password, out = sys.argv[1:5]
extra = sys.argv[5:]
os.makedirs(out, exist_ok=True)


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
        return json.loads(response.read())["value"]


for _ in range(200):
    try:
        call("GET", "/status")
        break
    except OSError:
        time.sleep(0.05)
profile = tempfile.mkdtemp(prefix="desk-shots-")
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


def viewport(width, height, mobile):
    call("POST", s + "/goog/cdp/execute", {"cmd": "Emulation.setDeviceMetricsOverride", "params": {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}})


def shoot(path, file):
    call("POST", s + "/url", {"url": base + path})
    time.sleep(0.3)
    with open(os.path.join(out, file), "wb") as f:
        f.write(base64.b64decode(call("GET", s + "/screenshot")))


try:
    call("POST", s + "/url", {"url": base + "/login?next=/stream"})
    call("POST", s + f"/element/{find('#name')}/value", {"text": name})
    call("POST", s + f"/element/{find('#password')}/value", {"text": password})
    call("POST", s + f"/element/{find('form.form button[type=submit]')}/click", {})
    links = script("return Array.from(document.querySelectorAll('nav[aria-label=Main] a'))"
                   ".map(function (a) { return a.getAttribute('href'); });")
    for width, height, mobile, prefix in [(1366, 900, False, "desk"), (390, 844, True, "phone")]:
        viewport(width, height, mobile)
        for path in links + extra:
            label = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-") or "home"
            shoot(path, f"{prefix}-{label}.png")
    print(f"screenshots of {len(links) + len(extra)} pages at two widths in {out}")
finally:
    try:
        call("DELETE", s)
    finally:
        driver.terminate()
        shutil.rmtree(profile, ignore_errors=True)
