#!/usr/bin/env python3
"""Checks of the sweep's HTML page and Prometheus textfile, run by Tests/SweepTests/SweepPageTests.swift.

  recorder   --port-file F --log L        (standard library only)
      An HTTP server on 127.0.0.1 that answers 404 to everything and appends "METHOD PATH" to L for each
      request. Hostile strings planted in the swept images point at it: the page must never reach it.
  browser    --page HTML --screenshot PNG --runs N --rows JSON --markup TEXT --log L   (needs selenium)
      Opens the page from file:// in headless Chromium (Debian's chromium and chromium-driver) and checks:
      no console error; one point per run on the trend chart; the rows per severity (JSON {"high": 2, ...}),
      and that unticking a severity hides exactly its rows and ticking it shows them again; TEXT (markup from
      a file name) is shown as text and no injected script ran (window.__stowawayPwned stays undefined); with
      script disabled every row is shown and the filters are not; the recorder's log L stays empty.
      Saves a screenshot of the page at PNG.
  prometheus --file PROM --open N --failed N   (needs prometheus_client)
      Parses the textfile with prometheus_client's parser; the open findings add up to N, images failed is N,
      and the run's duration and last success time are there.

Exits 0 when every check holds, else 1 with one line per failed check on stderr.
"""

import argparse
import http.server
import json
import os
import signal
import sys
import threading
import time

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what, file=sys.stderr)


def recorder(args):
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, fmt, *a):
            pass

        def answer(self):
            with open(args.log, "a") as f:
                f.write(f"{self.command} {self.path}\n")
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_HEAD = do_OPTIONS = answer

    open(args.log, "a").close()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    server.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    # The test runner may hand down SIGTERM ignored: answer it anyway, and stop by itself after max_seconds.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    t = threading.Timer(args.max_seconds, server.shutdown)
    t.daemon = True
    t.start()
    server.serve_forever()


def chrome(script):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    o = Options()
    o.binary_location = "/usr/bin/chromium"
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
              "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]:
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if not script:
        o.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def sev_of(row):
    from selenium.webdriver.common.by import By
    return row.find_element(By.TAG_NAME, "td").get_attribute("textContent")


def browser(args):
    from selenium.webdriver.common.by import By

    url = "file://" + os.path.abspath(args.page)
    rows = json.loads(args.rows)
    total = sum(rows.values())

    d = chrome(script=True)
    try:
        d.get(url)
        errors = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
        check(not errors, f"console errors: {errors}")
        points = d.find_elements(By.CSS_SELECTOR, "#trend-open circle.pt")
        check(len(points) == args.runs, f"trend chart has {len(points)} points, expected {args.runs}")
        all_rows = d.find_elements(By.CSS_SELECTOR, "tr.f")
        check(len(all_rows) == total, f"{len(all_rows)} finding rows, expected {total}")
        for sev, n in rows.items():
            got = len([r for r in all_rows if sev_of(r) == sev])
            check(got == n, f"{got} {sev} rows, expected {n}")
        check(d.find_element(By.ID, "filters").is_displayed(), "the filters are not shown with script on")
        for sev, n in rows.items():
            if n == 0:
                continue
            d.find_element(By.ID, f"f-sev-{sev}").click()
            shown = [r for r in d.find_elements(By.CSS_SELECTOR, "tr.f") if r.is_displayed()]
            check(len(shown) == total - n, f"with {sev} unticked {len(shown)} rows shown, expected {total - n}")
            check(all(sev_of(r) != sev for r in shown), f"a {sev} row is still shown with {sev} unticked")
            d.find_element(By.ID, f"f-sev-{sev}").click()
            shown = [r for r in d.find_elements(By.CSS_SELECTOR, "tr.f") if r.is_displayed()]
            check(len(shown) == total, f"with {sev} ticked again {len(shown)} rows shown, expected {total}")
        # Sorting by severity puts the most severe first (clicks twice: descending, then ascending).
        d.find_element(By.CSS_SELECTOR, 'thead button[data-k="0"]').click()
        check(d.find_element(By.TAG_NAME, "body").text.find(args.markup) >= 0, "the markup file name is not shown as text")
        check(d.execute_script("return typeof window.__stowawayPwned") == "undefined", "an injected script ran")
        check(len(d.find_elements(By.CSS_SELECTOR, "img, iframe, object, embed, link, main script")) == 0,
              "markup from the image became an element")
        errors = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
        check(not errors, f"console errors after filtering: {errors}")
        height = d.execute_script("return document.documentElement.scrollHeight")
        d.set_window_size(1400, max(800, min(int(height) + 40, 6000)))
        os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
        d.save_screenshot(args.screenshot)
    finally:
        d.quit()

    d = chrome(script=False)
    try:
        d.get(url)
        shown = [r for r in d.find_elements(By.CSS_SELECTOR, "tr.f") if r.is_displayed()]
        check(len(shown) == total, f"without script {len(shown)} rows shown, expected {total}")
        check(not d.find_element(By.ID, "filters").is_displayed(), "without script the (useless) filters are shown")
        points = d.find_elements(By.CSS_SELECTOR, "#trend-open circle.pt")
        check(len(points) == args.runs, f"without script the trend chart has {len(points)} points")
        check(args.markup in d.find_element(By.TAG_NAME, "body").text, "without script the markup file name is not shown")
    finally:
        d.quit()

    time.sleep(1)  # a request the page started would have reached the recorder by now
    with open(args.log) as f:
        hits = f.read().strip()
    check(hits == "", f"the page made network requests: {hits!r}")


def prometheus(args):
    from prometheus_client.parser import text_string_to_metric_families

    with open(args.file) as f:
        text = f.read()
    families = {fam.name: fam for fam in text_string_to_metric_families(text)}
    open_f = families.get("stowaway_sweep_open_findings")
    check(open_f is not None, "no stowaway_sweep_open_findings")
    if open_f:
        s = sum(x.value for x in open_f.samples)
        check(s == args.open, f"open findings add up to {s}, expected {args.open}")
        check(all(set(x.labels) == {"registry", "app", "severity"} for x in open_f.samples), "open findings labels")
    failed = families.get("stowaway_sweep_images_failed")
    check(failed is not None and failed.samples[0].value == args.failed, f"images failed: {failed}")
    for name in ["stowaway_sweep_run_duration_seconds", "stowaway_sweep_last_success_timestamp_seconds"]:
        check(name in families and families[name].samples[0].value > 0, f"no {name}")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("recorder")
    r.add_argument("--port-file", required=True)
    r.add_argument("--log", required=True)
    r.add_argument("--max-seconds", type=float, default=600)
    b = sub.add_parser("browser")
    b.add_argument("--page", required=True)
    b.add_argument("--screenshot", required=True)
    b.add_argument("--runs", type=int, required=True)
    b.add_argument("--rows", required=True)
    b.add_argument("--markup", required=True)
    b.add_argument("--log", required=True)
    m = sub.add_parser("prometheus")
    m.add_argument("--file", required=True)
    m.add_argument("--open", type=float, required=True)
    m.add_argument("--failed", type=float, required=True)
    a = p.parse_args()
    {"recorder": recorder, "browser": browser, "prometheus": prometheus}[a.cmd](a)
    if failures:
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
