"""The local Prometheus: its scrape configuration, its rule file and what its HTTP API says.

Targets carry the labels the PodMonitor adds in the cluster (``namespace``, ``flink_deployment``,
``component``, ``pod``), so the rendered rules select the local series exactly as they select the
cluster's. Scraping and rule evaluation run every second so that a run takes seconds.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from generator.smoke import http

__all__ = [
    "NOT_EVALUATED",
    "RuleState",
    "ScrapeTarget",
    "TargetState",
    "config_document",
    "query_vector",
    "rule_states",
    "rules_document",
    "target_states",
]

SCRAPE_INTERVAL = "1s"
NOT_EVALUATED = "0001-01-01T00:00:00Z"
JOB = "flink"


@dataclass(frozen=True)
class ScrapeTarget:
    address: str  # 127.0.0.1:port
    labels: Mapping[str, str]


@dataclass(frozen=True)
class TargetState:
    address: str
    health: str  # up | down | unknown
    error: str


@dataclass(frozen=True)
class RuleState:
    group: str
    name: str
    kind: str  # alerting | recording
    health: str  # ok | err | unknown
    state: str  # inactive | pending | firing ("" for recording rules)
    last_evaluation: str
    error: str

    @property
    def evaluated(self) -> bool:
        return bool(self.last_evaluation) and not self.last_evaluation.startswith("0001-")


def config_document(targets: Sequence[ScrapeTarget], rule_file: str) -> dict[str, Any]:
    return {
        "global": {
            "scrape_interval": SCRAPE_INTERVAL,
            "scrape_timeout": SCRAPE_INTERVAL,
            "evaluation_interval": SCRAPE_INTERVAL,
        },
        "rule_files": [rule_file],
        "scrape_configs": [
            {
                "job_name": JOB,
                "metrics_path": "/metrics",
                "static_configs": [{"targets": [t.address], "labels": dict(t.labels)} for t in targets],
            }
        ],
    }


def rules_document(groups: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"groups": [dict(g) for g in groups]}


def dump(document: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True, width=1_000_000)


def _api(base: str, path: str) -> Any:
    answer = http.get_json(f"{base}{path}")
    if not isinstance(answer, dict) or answer.get("status") != "success":
        raise http.HttpError(f"{base}{path}", f"unexpected answer: {str(answer)[:200]}")
    return answer.get("data")


def target_states(base: str) -> list[TargetState]:
    data = _api(base, "/api/v1/targets?state=active")
    found = []
    for target in data.get("activeTargets", []):
        address = str(target.get("labels", {}).get("instance") or target.get("discoveredLabels", {}).get("__address__"))
        found.append(TargetState(address, str(target.get("health", "unknown")), str(target.get("lastError", ""))))
    return found


def rule_states(base: str) -> dict[str, list[RuleState]]:
    """Group name -> its rules, as loaded (an empty dict before the rule file is loaded)."""
    data = _api(base, "/api/v1/rules")
    groups: dict[str, list[RuleState]] = {}
    for group in data.get("groups", []):
        name = str(group.get("name"))
        groups[name] = [
            RuleState(
                group=name,
                name=str(rule.get("name")),
                kind=str(rule.get("type")),
                health=str(rule.get("health", "unknown")),
                state=str(rule.get("state", "")),
                last_evaluation=str(rule.get("lastEvaluation", "")),
                error=str(rule.get("lastError", "")),
            )
            for rule in group.get("rules", [])
        ]
    return groups


def query_vector(base: str, expr: str) -> list[tuple[dict[str, str], float]]:
    """An instant query; the samples of the resulting vector."""
    data = _api(base, "/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    if data.get("resultType") != "vector":
        raise http.HttpError(base, f"query {expr!r} did not give a vector")
    return [(dict(s.get("metric", {})), float(s["value"][1])) for s in data.get("result", [])]
