"""What a command about one configuration looks at: a deployment, or a namespace (with a profile)."""

from __future__ import annotations

from dataclasses import dataclass

from generator.config.layers import ConfigRepo
from generator.config.resolve import Effective, Resolver
from generator.errors import UsageError


@dataclass(frozen=True)
class Scope:
    effective: Effective
    home: str  # the file to blame when a finding has no better location

    @property
    def description(self) -> str:
        eff = self.effective
        if eff.deployment:
            return f"deployment {eff.namespace}/{eff.deployment}"
        return f"namespace {eff.namespace}" + (f", profile {eff.profile}" if eff.profile else "")


def select_scope(
    repo: ConfigRepo,
    resolver: Resolver,
    env: str,
    profile: str | None,
    namespace: str | None,
    deployment: str | None,
    *,
    command: str,
    require_profile: bool = False,
) -> Scope:
    """The effective configuration of ``--deployment``, else of the namespace (and ``--profile``)."""
    repo.require("environment", env)
    if deployment is not None:
        pairs = [p for p in repo.deployments() if p[1] == deployment and namespace in (None, p[0])]
        if not pairs:
            available = ", ".join(sorted(d for _, d in repo.deployments()))
            raise UsageError(f"unknown deployment '{deployment}'", hint=f"available: {available}")
        ns = pairs[0][0]
        eff = resolver.deployment(env, ns, deployment)
        if profile is not None and eff.profile != profile:
            raise UsageError(f"deployment '{deployment}' has profile '{eff.profile}', not '{profile}'")
        return Scope(eff, repo.layer("deployment", deployment, ns).doc.file)
    if profile is None and require_profile:
        raise UsageError(
            "name a --profile or a --deployment", hint=f"e.g. gen {command} --profile stateful-heavy --env prod"
        )
    if profile is not None:
        repo.require("profile", profile)
    names = repo.names("namespace")
    chosen = namespace or (names[0] if len(names) == 1 else None)
    if chosen is None:
        raise UsageError("more than one namespace: name one with --namespace", hint=", ".join(names))
    if chosen not in names:
        raise UsageError(f"unknown namespace '{chosen}'", hint=f"available: {', '.join(names)}")
    eff = resolver.namespace(env, chosen, profile or "")
    return Scope(eff, repo.layer("namespace", chosen).doc.file)


def select_scopes(
    repo: ConfigRepo,
    resolver: Resolver,
    env: str,
    profile: str | None,
    namespace: str | None,
    deployment: str | None,
    *,
    command: str,
    require_profile: bool = False,
) -> list[Scope]:
    """:func:`select_scope`, except that a profile's view (no ``--namespace``, no ``--deployment``)
    in a repository of several namespaces is one scope per namespace: the namespaces whose
    deployments use the profile, else every namespace. The command shows what they share once."""
    names = repo.names("namespace")
    if deployment is not None or namespace is not None or len(names) <= 1:
        return [
            select_scope(
                repo, resolver, env, profile, namespace, deployment, command=command, require_profile=require_profile
            )
        ]
    chosen = names
    if profile is not None:
        repo.require("profile", profile)
        using = sorted({ns for ns, name in repo.deployments() if resolver.profile_of(ns, name) == profile})
        chosen = [ns for ns in names if ns in using] or names
    return [
        select_scope(repo, resolver, env, profile, ns, None, command=command, require_profile=require_profile)
        for ns in chosen
    ]
