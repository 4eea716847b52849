"""A synthetic estate: N namespaces, M deployments spread over the three profiles, three environments.

Deterministic: the same arguments always write byte-for-byte the same files (no randomness, no
timestamps). The baseline, the profiles and the environments are the shipped example's. Every
namespace is the example's namespace file with the team renamed; every deployment is the example's
deployment of the same profile with its own name, labels, artifact, job shape and, now and then, a
Flink option of its own, so that no two deployments render the same. Deriving from the example
keeps the estate valid as the example grows new required settings.

    python -m benchmarks.estate DIR --namespaces 10 --deployments 300
"""

from __future__ import annotations

import argparse
import copy
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from generator.config.layers import example_config_dir

PROFILES = ("small", "stateful-heavy", "high-throughput")
TEAMS = ("payments", "search", "ads", "risk", "logistics", "identity", "growth", "platform", "media", "retail")


@dataclass(frozen=True)
class Deployment:
    namespace: str
    name: str
    profile: str


def namespace_names(count: int) -> list[str]:
    return [TEAMS[i % len(TEAMS)] + (f"-{i // len(TEAMS)}" if i >= len(TEAMS) else "") for i in range(count)]


def plan(namespaces: int, deployments: int) -> list[Deployment]:
    """Which deployments the estate holds: round-robin over namespaces and profiles."""
    spaces = namespace_names(namespaces)
    return [
        Deployment(spaces[i % len(spaces)], f"job-{i:04d}", PROFILES[i % len(PROFILES)]) for i in range(deployments)
    ]


def _example_namespace() -> tuple[str, str]:
    """(name, text) of the example's first namespace defaults file."""
    path = sorted((example_config_dir() / "namespaces").glob("*.yaml"))[0]
    return path.stem, path.read_text("utf-8")


def _example_deployments() -> dict[str, dict[str, Any]]:
    """profile -> the data of the example's first deployment of that profile."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted((example_config_dir() / "deployments").rglob("*.yaml")):
        data = yaml.safe_load(path.read_text("utf-8"))
        found.setdefault(str(data["profile"]), data)
    missing = set(PROFILES) - set(found)
    if missing:
        raise SystemExit(f"the example has no deployment of profile(s) {', '.join(sorted(missing))}")
    return found


def namespace_text(namespace: str, example: tuple[str, str]) -> str:
    name, text = example
    return re.sub(rf"\b{re.escape(name)}\b", namespace, text)


def deployment_data(index: int, d: Deployment, template: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(template)
    metadata = data.setdefault("metadata", {})
    metadata["displayName"] = f"Job {index} of {d.namespace}"
    metadata["labels"] = {
        **metadata.get("labels", {}),
        "criticality": ("low", "medium", "high")[index % 3],
        "cost-center": f"cc-{index % 17:02d}",
    }
    spec = data.setdefault("spec", {}).setdefault("template", {}).setdefault("spec", {})
    artifact = spec.setdefault("artifact", {})
    artifact["jarUri"] = f"s3://acme-artifacts/{d.name}/{d.name}-1.{index % 9}.{index % 4}.jar"
    artifact["entryClass"] = f"com.acme.{d.namespace.replace('-', '')}.Job{index}"
    artifact["mainArgs"] = f"--source-topic in-{index} --sink-topic out-{index}"
    # scale the example's job shape by 1 or 2: parallelism and TaskManagers together keep the slots right
    factor = 1 + (index // len(PROFILES)) % 2
    for key in ("parallelism", "numberOfTaskManagers"):
        if isinstance(spec.get(key), int):
            spec[key] = spec[key] * factor
    if index % 5 == 0:
        spec.setdefault("flinkConfiguration", {})["execution.checkpointing.interval"] = f"{30 + index % 4 * 15}s"
    return data


def write(root: Path, namespaces: int, deployments: int) -> list[Deployment]:
    """Write the estate into ``root`` (replacing it) and return its deployments."""
    if root.exists():
        shutil.rmtree(root)
    example = example_config_dir()
    root.mkdir(parents=True)
    shutil.copyfile(example / "baseline.yaml", root / "baseline.yaml")
    for folder in ("profiles", "environments"):
        shutil.copytree(example / folder, root / folder)
    estate = plan(namespaces, deployments)
    example_ns = _example_namespace()
    templates = _example_deployments()
    (root / "namespaces").mkdir()
    for namespace in namespace_names(namespaces):
        (root / "namespaces" / f"{namespace}.yaml").write_text(namespace_text(namespace, example_ns), "utf-8")
        (root / "deployments" / namespace).mkdir(parents=True)
    for index, d in enumerate(estate):
        data = deployment_data(index, d, templates[d.profile])
        text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=1 << 16)
        (root / "deployments" / d.namespace / f"{d.name}.yaml").write_text(text, "utf-8")
    return estate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--namespaces", type=int, default=10)
    parser.add_argument("--deployments", type=int, default=300)
    args = parser.parse_args(argv)
    estate = write(args.directory, args.namespaces, args.deployments)
    print(f"wrote {len(estate)} deployments in {args.namespaces} namespaces to {args.directory}")


if __name__ == "__main__":
    main()
