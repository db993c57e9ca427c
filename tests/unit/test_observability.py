"""The alert rules and the dashboard name only metric families Eterna exports.

Prometheus's own checker (``promtool check rules``) is used when it is installed; the
expressions are also read here, so a renamed family fails this test on any machine.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from eterna.adapters.metrics import Metrics, PoolUse

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "eterna.json"
COMPOSE = ROOT / "docker-compose.yml"
OBSERVABILITY = {"prometheus", "grafana", "otel-collector", "jaeger"}

# PromQL words that are not metric names: operators, modifiers, and aggregation clauses.
KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "offset", "inf", "nan",
}  # fmt: skip
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_CLAUSE = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_WORD = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?[smhdwy]?")


def metric_names(expr: str) -> set[str]:
    """Return the metric names an expression selects (functions and keywords left out)."""
    bare = _CLAUSE.sub(" ", _RANGE.sub(" ", _MATCHERS.sub(" ", _STRING.sub(" ", expr))))
    bare = _NUMBER.sub(" ", bare)
    names = set()
    for match in _WORD.finditer(bare):
        word = match.group(0)
        # A function or aggregation is followed by "(".
        rest = bare[match.end() :].lstrip()
        if rest.startswith("(") or word.lower() in KEYWORDS:
            continue
        names.add(word)
    return names


def exported_names() -> set[str]:
    """Return every sample name a fully watched Metrics exposes, series made or not."""
    metrics = Metrics(role="api", mode="distributed", version="test")
    metrics.watch_subscriptions(dict)
    metrics.watch_engine(lambda: 0)
    metrics.watch_watcher(lambda: False, lambda: 0)
    metrics.watch_websockets(lambda: 0)
    metrics.watch_pools({"database": lambda: PoolUse(1, 0)})
    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_count", "_sum"),
        "info": ("_info",),
    }
    names = set()
    for family in metrics.registry.collect():
        for suffix in suffixes.get(family.type, ("",)):
            names.add(family.name + suffix)
    return names


def alert_expressions() -> dict[str, str]:
    rules = yaml.safe_load(ALERTS.read_text())
    return {r["alert"]: r["expr"] for g in rules["groups"] for r in g["rules"]}


def dashboard_expressions() -> dict[str, str]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return {
        f"{p['title']} {t['refId']}": t["expr"] for p in dashboard["panels"] for t in p["targets"]
    }


def test_the_reader_finds_metric_names_and_skips_functions_labels_and_clauses() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, op) (rate(foo_bucket{code="x"}[5m]))) '
        "/ on() max(bar) > 0.5 and absent(baz_total)"
    )
    assert metric_names(expr) == {"foo_bucket", "bar", "baz_total"}


@pytest.mark.parametrize(
    ("source", "expressions"),
    [("alerts", alert_expressions()), ("dashboard", dashboard_expressions())],
)
def test_every_expression_names_only_exported_families(
    source: str, expressions: dict[str, str]
) -> None:
    exported = exported_names()
    assert expressions, source
    for where, expr in expressions.items():
        names = metric_names(expr)
        assert names, f"{source} {where}: no metric in {expr!r}"
        unknown = names - exported
        assert not unknown, f"{source} {where}: {sorted(unknown)} is not exported by Eterna"


def test_the_alerts_cover_what_operators_asked_for() -> None:
    alerts = alert_expressions()
    wanted = {
        "EternaOrdersStuck": "eterna_orders",
        "EternaQueueBacklogGrowing": "eterna_queue_lag_messages",
        "EternaOrderFailureRateHigh": "eterna_order_failures_total",
        "EternaOrderRetryRateHigh": "eterna_order_retries_total",
        "EternaNoTriggerWatcher": "eterna_watcher_active",
        "EternaVenueErrors": "eterna_order_retries_total",
    }
    for alert, family in wanted.items():
        assert family in metric_names(alerts[alert]), alert


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_accepts_the_rules_and_the_dashboards_queries(tmp_path: Path) -> None:
    # The panels' queries, written as recording rules, so promtool parses them too.
    panels = [
        {"record": f"eterna:panel_{i}", "expr": expr}
        for i, expr in enumerate(dashboard_expressions().values())
    ]
    queries = tmp_path / "panels.yml"
    queries.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": panels}]}))
    for rules in (ALERTS, queries):
        done = subprocess.run(
            ["promtool", "check", "rules", str(rules)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_observability_profile_is_optional_and_its_files_exist() -> None:
    services: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
    for name in OBSERVABILITY:
        assert services[name]["profiles"] == ["observability"], name
        for volume in services[name].get("volumes", []):
            source = volume.split(":")[0]
            assert (ROOT / source).exists(), f"{name} mounts {source}, which is missing"
    for name in set(services) - OBSERVABILITY:
        assert "profiles" not in services[name], name
