"""deploy/prometheus and deploy/grafana: checked by Debian's promtool, every rule unit-tested firing and
quiet, every runbook link resolving, and every metric the rules and the dashboard use really exported."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.files import ROOT, compose, tool
from tests.docs.test_doc_links import anchors_of

PROM = ROOT / "deploy" / "prometheus"
TEST_FILES = ("alerts_test.yml", "alerts_billing_day_test.yml")
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "blu-omie.json"


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load((PROM / "alerts.yml").read_text())["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    return [t["expr"] for p in json.loads(DASHBOARD.read_text())["panels"] for t in p.get("targets", [])]


def test_promtool_checks_the_rules():
    result = subprocess.run([tool("promtool"), "check", "rules", str(PROM / "alerts.yml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules())} rules found" in result.stdout


def test_promtool_unit_tests_pass_for_every_rule():
    result = subprocess.run([tool("promtool"), "test", "rules", *TEST_FILES], cwd=PROM, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_rule_is_tested_once_firing_and_once_quiet():
    fired: set[str] = set()
    quiet: set[str] = set()
    cases = [case for name in TEST_FILES for case in yaml.safe_load((PROM / name).read_text())["tests"]]
    for case in cases:
        for check in case["alert_rule_test"]:
            (fired if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in rules()}
    assert names - fired == set(), "rules never tested firing"
    assert names - quiet == set(), "rules never tested quiet"


def test_promtool_checks_the_scrape_config(tmp_path):
    shutil.copy(PROM / "alerts.yml", tmp_path / "alerts.yml")
    (tmp_path / "metrics_token").write_text("token")
    config = (PROM / "prometheus.yml").read_text().replace("/etc/prometheus/blu/", f"{tmp_path}/")
    config = config.replace("/run/secrets/metrics_token", str(tmp_path / "metrics_token"))
    (tmp_path / "prometheus.yml").write_text(config)
    result = subprocess.run([tool("promtool"), "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_has_a_portuguese_summary_a_severity_and_a_runbook_section_that_exists():
    anchors = anchors_of(ROOT / "docs" / "observability.md")
    for rule in rules():
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        assert rule["annotations"]["summary"].strip(), rule["alert"]
        path, _, anchor = rule["annotations"]["runbook_url"].partition("#")
        assert path == "docs/observability.md" and anchor in anchors, (rule["alert"], anchor)


def test_compose_mounts_what_prometheus_and_grafana_read():
    services = compose()["services"]
    assert "./deploy/prometheus:/etc/prometheus/blu:ro" in services["prometheus"]["volumes"]
    assert "metrics_token" in services["prometheus"]["secrets"]
    config = yaml.safe_load((PROM / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/blu/alerts.yml"]
    web = next(job for job in config["scrape_configs"] if job["job_name"] == "blu-web")
    assert web["authorization"]["credentials_file"] == "/run/secrets/metrics_token"
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro" in services["grafana"]["volumes"]
    provider = yaml.safe_load((ROOT / "deploy/grafana/provisioning/dashboards/blu-omie.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def test_the_dashboard_has_the_business_integration_and_platform_rows():
    panels = json.loads(DASHBOARD.read_text())["panels"]
    assert [p["title"] for p in panels if p["type"] == "row"] == ["Negócio", "Integrações", "Plataforma"]
    datasource = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())["datasources"][0]
    for panel in panels:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == datasource["uid"], panel["title"]
            assert panel["targets"], panel["title"]


_FUNCTIONS = {"sum", "max", "min", "rate", "increase", "time", "vector", "hour", "absent", "clamp_min", "histogram_quantile", "by",
              "on", "and", "or", "le"}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (identifiers outside braces and strings, not functions or labels)."""
    bare = re.sub(r"\{[^}]*\}", "", re.sub(r'"[^"]*"', "", expr))
    bare = re.sub(r"\b(by|on)\s*\([^)]*\)", "", bare)
    bare = re.sub(r"\[[^\]]*\]", "", bare)
    return {n for n in re.findall(r"\b[a-z_][a-z0-9_]*\b", bare) if n not in _FUNCTIONS and "_" in n}


def test_metric_names_finds_what_an_expression_reads():
    expr = 'sum by (task) (rate(flower_events_total{type="task-failed"}[10m])) / on () hour(vector(time() - 10800))'
    assert metric_names(expr) == {"flower_events_total"}


def _flower_metric_names() -> set[str]:
    """Flower's exporter, read from its source (it registers on import into the global registry)."""
    import flower.events

    source = Path(flower.events.__file__).read_text()
    names: set[str] = set()
    for kind, name in re.findall(r"(PrometheusCounter|Counter|Histogram|Gauge)\(\s*'(flower_[a-z_]+)'", source):
        names |= {name if name.endswith("_total") else f"{name}_total"} if kind.endswith("Counter") else {name}
        if kind == "Histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return names


@pytest.mark.django_db
def test_every_metric_the_rules_and_the_dashboard_use_is_exported(client, settings, redis_client):
    from prometheus_client.parser import text_string_to_metric_families

    from backoffice.metrics.snapshot import domain_snapshot_write
    from billing.tests.factories import order_in_state
    from common.health import record_beat_heartbeat
    from common.metrics.counters import counter_add
    from orders.statuses import BillingStatus

    settings.METRICS_TOKEN = "catalog-test-token"
    order_in_state(BillingStatus.FAILED)  # a city-hall rejection, so its series exist
    record_beat_heartbeat()
    from common.metrics.periodic_runs import on_task_end, on_task_start

    on_task_start("billing.tasks.invoices_dispatch", "x")
    on_task_end("billing.tasks.invoices_dispatch", "x", ok=True)
    from backoffice.metrics.collectors import REDIS_COUNTERS

    for name, (_help, labels) in REDIS_COUNTERS.items():
        counter_add(name, dict.fromkeys(labels, "x"))
    domain_snapshot_write(client=redis_client)
    client.get("/health/live")  # one request through the middleware and the cache
    body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer catalog-test-token").content.decode()
    exported = {s.name for f in text_string_to_metric_families(body) for s in f.samples} | _flower_metric_names() | {"up"}
    # django-prometheus' histograms and counters only have samples once something was observed; their TYPE line is enough.
    exported |= {n for n in re.findall(r"^# TYPE (\S+) (?:counter|histogram)", body, flags=re.M) for n in (n, f"{n}_total", f"{n}_bucket")}

    used = {name for rule in rules() for name in metric_names(rule["expr"])} | {n for e in dashboard_exprs() for n in metric_names(e)}
    assert len(used) > 30
    assert used - exported == set()
