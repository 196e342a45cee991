"""The monitoring files in deploy/: the alerting rules, the example Prometheus configuration and
the Grafana dashboard.

Checked at three depths: the files name only metrics the service exports (no tool needed);
`promtool` accepts the rules and the configuration and its unit tests
(scenefit-alerts.test.yml) hold the alerts' logic; a real Prometheus scraping a real scenefit
server on loopback raises the empty-results alert from real matches.

Needs Debian's prometheus package (/usr/bin/prometheus and /usr/bin/promtool; `.ci/run`
installs it). Outside CI those tests skip, with the reason, where it is missing; in CI they
fail instead.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml

from scenefit._settings import Settings
from scenefit.api import Service
from scenefit.api._metrics import Metrics

from ..api.conftest import KEY, png_bytes, serving

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "scenefit-alerts.yml"
CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "scenefit-dashboard.json"
RULE_TESTS = Path(__file__).with_name("scenefit-alerts.test.yml")
PROMETHEUS = os.environ.get("PROMETHEUS", "/usr/bin/prometheus")
PROMTOOL = os.environ.get("PROMTOOL", "/usr/bin/promtool")
SEVERITIES = {"critical", "warning", "info"}


def _tool(path: str) -> str:
    """The tool's path; skips (fails in CI, where `.ci/run` installs it) when it is missing."""
    if not Path(path).is_file():
        why = f"no {Path(path).name} at {path} (apt-get install prometheus)"
        if os.environ.get("CI"):
            pytest.fail(f"Prometheus test cannot run in CI: {why}")
        pytest.skip(why)
    return path


def _promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([_tool(PROMTOOL), *args], check=False, capture_output=True, text=True, timeout=60)


def _alert_rules() -> list[dict]:
    return [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"] if "alert" in r]


def _dashboard_exprs() -> list[str]:
    dash = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]


def _exported_names() -> set[str]:
    """Every series name /metrics can show: counters end in _total, histograms add their parts
    (prose may name a histogram by its family name)."""
    suffixes = {"counter": ("_total",), "histogram": ("", "_bucket", "_count", "_sum"), "gauge": ("",)}
    return {f.name + s for f in Metrics().registry.collect() for s in suffixes[f.type]}


# -- the files alone ----------------------------------------------------------------------

def test_rules_and_dashboard_name_only_exported_metrics():
    texts = [json.dumps(r) for r in _alert_rules()] + _dashboard_exprs()  # queries and what operators read
    used = {n for text in texts for n in re.findall(r"\bscenefit_\w+", text)}
    assert used and used <= _exported_names(), used - _exported_names()


def test_every_alert_says_how_bad_and_what_to_check():
    rules = _alert_rules()
    assert len(rules) >= 7
    for rule in rules:
        assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
        assert rule.get("for"), rule["alert"]  # one bad evaluation never pages anyone
        assert rule["annotations"]["summary"] and len(rule["annotations"]["description"]) > 80, rule["alert"]


def test_dashboard_is_templated_on_the_datasource_and_the_variant():
    dash = json.loads(DASHBOARD.read_text())
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    assert variables["variant"]["definition"] == "label_values(scenefit_matches_total, variant)"
    assert dash["schemaVersion"] >= 39
    panels = [p for p in dash["panels"] if p["type"] != "row"]
    for panel in panels:
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]
        assert panel["targets"] and all(t["datasource"]["uid"] == "${DS_PROMETHEUS}" for t in panel["targets"])
    # Every per-variant series follows the variant picker.
    variant_series = r"scenefit_(matches|match_(empty|top|shown)|feedback_events)"
    per_variant = [e for e in _dashboard_exprs() if re.search(variant_series, e)]
    assert per_variant and all('variant=~"$variant"' in e for e in per_variant)


# -- promtool -------------------------------------------------------------------------------

@pytest.mark.server
def test_rules_pass_promtool_check():
    run = _promtool("check", "rules", str(RULES))
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{len(_alert_rules())} rules found" in run.stdout


@pytest.mark.server
def test_example_config_and_its_rules_pass_promtool_check():
    run = _promtool("check", "config", str(CONFIG))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 rule files found" in run.stdout  # the relative rule_files path resolves


@pytest.mark.server
def test_alert_logic_passes_promtool_unit_tests(tmp_path):
    # The descriptions are prose for operators, not repeated in the unit tests: promtool
    # compares every annotation, so it runs against a copy without them.
    rules = yaml.safe_load(RULES.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule.get("annotations", {}).pop("description", None)
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
    cases = yaml.safe_load(RULE_TESTS.read_text())
    assert cases["rule_files"] == [os.path.relpath(RULES, RULE_TESTS.parent)]
    cases["rule_files"] = [str(tmp_path / "rules.yml")]
    (tmp_path / "cases.yml").write_text(yaml.safe_dump(cases, sort_keys=False))
    run = _promtool("test", "rules", str(tmp_path / "cases.yml"))
    assert run.returncode == 0, run.stdout + run.stderr
    tested = {t["alertname"] for case in cases["tests"] for t in case["alert_rule_test"]}
    assert {"ScenefitEmptyResultsHigh", "ScenefitFeedbackMissing"} <= tested


# -- a real Prometheus scraping a real server -----------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _match(base: str, **form) -> list[dict]:
    files = {"image": ("scene.png", png_bytes(), "image/png")}
    resp = httpx.post(f"{base}/v1/match", files=files, data=form, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()["recommendations"]


def _wait_ready(url: str, timeout_s: float, proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
            raise AssertionError(f"{url} not ready" + (f":\n{log.read_text()[-3000:]}" if log else ""))
        time.sleep(0.1)


@pytest.fixture
def prometheus(tmp_path):
    """``start(target)``: a real Prometheus on a free loopback port scraping ``target`` every
    second with the shipped rules, evaluated every second; gives its base URL."""
    binary = _tool(PROMETHEUS)
    procs, logs = [], []

    def start(target: str) -> str:
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(RULES)],
            "scrape_configs": [{"job_name": "scenefit", "static_configs": [{"targets": [target]}]}],
        }
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
        port = _free_port()
        log = tmp_path / "prometheus.log"
        logs.append(log.open("w"))
        proc = subprocess.Popen(
            [binary, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=logs[-1], stderr=subprocess.STDOUT)
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        _wait_ready(f"{base}/-/ready", 30, proc, log)
        return base

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    for log in logs:
        log.close()


#: the variant series, shown when the alert does not come
SCRAPED = '{__name__=~"scenefit_match(es|_empty)_total"}'


def _query(prom: str, expr: str) -> dict:
    body = httpx.get(f"{prom}/api/v1/query", params={"query": expr}, timeout=10).json()
    assert body["status"] == "success", (expr, body)
    return body["data"]


@pytest.mark.server
@pytest.mark.timeout(180)
def test_prometheus_raises_the_empty_results_alert_from_real_matches(prometheus, index_dir):
    service = Service(index_dir, Settings(api_key=KEY))
    with serving(service) as port:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(f"{base}/readyz", 30)
        # No product is free: a price ceiling of 0 leaves nothing to recommend.
        assert _match(base, filters='{"price_max": 0}') == []
        assert _match(base)
        prom = prometheus(f"127.0.0.1:{port}")

        # Half of the matches come back empty, a match at a time, until the rule (evaluated
        # every second) holds: pending, since its `for:` is minutes.
        deadline, alert = time.monotonic() + 60, None
        while alert is None:
            assert time.monotonic() < deadline, (
                f"ScenefitEmptyResultsHigh not raised within 60 s; scraped: {_query(prom, SCRAPED)['result']}")
            _match(base, filters='{"price_max": 0}')
            _match(base)
            alerts = httpx.get(f"{prom}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
            alert = next((a for a in alerts if a["labels"]["alertname"] == "ScenefitEmptyResultsHigh"), None)
            time.sleep(0.2)

        assert alert["state"] in ("pending", "firing")
        assert alert["labels"] == {"alertname": "ScenefitEmptyResultsHigh", "severity": "warning", "variant": "default"}
        assert alert["annotations"]["summary"].startswith("Variant default: ")
        scraped = _query(prom, 'scenefit_match_empty_total{job="scenefit"}')["result"]
        assert [r["metric"]["variant"] for r in scraped] == ["default"] and float(scraped[0]["value"][1]) >= 2

        # Every shipped rule loaded and evaluates; no other alert holds on this traffic (but
        # matches without feedback, on a slow machine sending many, are what that one is for).
        groups = httpx.get(f"{prom}/api/v1/rules", timeout=10).json()["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        assert len(rules) == len(_alert_rules()) and all(r["health"] == "ok" for r in rules), rules
        assert {a["labels"]["alertname"] for a in alerts} - {"ScenefitFeedbackMissing"} == {"ScenefitEmptyResultsHigh"}
        # Every dashboard query parses and runs against the scraped series.
        for expr in _dashboard_exprs():
            _query(prom, expr.replace("$variant", ".*").replace("$__rate_interval", "1m"))
