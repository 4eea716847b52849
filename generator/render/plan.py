"""Which deployments a command selects, and rendering them into output files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from generator.config.layers import ConfigRepo
from generator.config.resolve import Effective, Resolver
from generator.errors import InputError, Problem, UsageError
from generator.output import OutFile, Owner, Scope, dump_yaml
from generator.validate import outputs

TARGETS = ("vvp", "vvp-operator", "flink-operator")


@dataclass(frozen=True)
class Selection:
    env: str | None = None
    profile: str | None = None
    namespace: str | None = None
    deployment: str | None = None
    target: str | None = None  # overrides platform.target

    def scope(self, repo: ConfigRepo) -> Scope:
        return Scope(self.env, self.namespace, self.profile, self.deployment, frozenset(repo.deployments()))


@dataclass(frozen=True)
class Unit:
    env: str
    namespace: str
    deployment: str
    profile: str


def environments(repo: ConfigRepo, selection: Selection) -> list[str]:
    if selection.env is not None:
        repo.require("environment", selection.env)
        return [selection.env]
    names = repo.names("environment")
    if not names:
        raise UsageError("the configuration has no environments/*.yaml")
    return names


def select(repo: ConfigRepo, resolver: Resolver, selection: Selection) -> list[Unit]:
    """Every (env, namespace, deployment) the selection names, validated against the config."""
    if selection.profile is not None:
        repo.require("profile", selection.profile)
    if selection.target is not None and selection.target not in TARGETS:
        raise UsageError(f"unknown target '{selection.target}'", hint=f"available: {', '.join(TARGETS)}")
    pairs = repo.deployments()
    if selection.namespace is not None:
        namespaces = sorted(repo.names("namespace") + [ns for ns, _ in pairs])
        if selection.namespace not in namespaces:
            raise UsageError(
                f"unknown namespace '{selection.namespace}'", hint=f"available: {', '.join(sorted(set(namespaces)))}"
            )
        pairs = [p for p in pairs if p[0] == selection.namespace]
    if selection.deployment is not None:
        matching = [p for p in pairs if p[1] == selection.deployment]
        if not matching:
            available = sorted({d for _, d in pairs})
            raise UsageError(f"unknown deployment '{selection.deployment}'", hint=f"available: {', '.join(available)}")
        pairs = matching
    problems: list[Problem] = []
    units: list[Unit] = []
    for env in environments(repo, selection):
        for namespace, name in pairs:
            try:
                profile = resolver.profile_of(namespace, name)
            except InputError as exc:
                problems.extend(exc.problems)
                continue
            if selection.profile is None or profile == selection.profile:
                units.append(Unit(env, namespace, name, profile))
    if problems:
        raise InputError(problems)
    return units


def file_path(env: str, namespace: str, doc: dict[str, Any]) -> str:
    kind = str(doc["kind"]).lower()
    name = str(doc["metadata"]["name"])
    folder = "vvp/" if outputs.is_vvp_rest(doc) else ""
    return f"{env}/{namespace}/{folder}{kind}-{name}.yaml"


def deployment_documents(eff: Effective, target: str) -> list[dict[str, Any]]:
    from generator.render import vvp

    if target == "vvp":
        return [vvp.deployment(eff)]
    raise UsageError(
        f"target '{target}' is not available yet", hint="use --target vvp (the other targets are on the roadmap)"
    )


def render(
    repo: ConfigRepo,
    resolver: Resolver,
    selection: Selection,
    progress: Callable[[int, int], None] | None = None,
) -> list[OutFile]:
    """Render every selected deployment; all input problems of the run are reported together."""
    units = select(repo, resolver, selection)
    problems: list[Problem] = []
    files: list[OutFile] = []
    for done, unit in enumerate(units, 1):
        try:
            eff = resolver.deployment(unit.env, unit.namespace, unit.deployment)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        target = selection.target or eff.target
        owner = Owner(unit.env, unit.namespace, unit.deployment, unit.profile)
        for doc in deployment_documents(eff, target):
            outputs.check(doc, f"{unit.env}/{unit.namespace}/{unit.deployment}")
            files.append(OutFile(file_path(unit.env, unit.namespace, doc), dump_yaml(doc), owner))
        if progress is not None:
            progress(done, len(units))
    if problems:
        raise InputError(problems)
    return sorted(files, key=lambda f: f.path)


def iter_effective(repo: ConfigRepo, resolver: Resolver, selection: Selection) -> Iterator[Effective]:
    problems: list[Problem] = []
    for unit in select(repo, resolver, selection):
        try:
            yield resolver.deployment(unit.env, unit.namespace, unit.deployment)
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
