"""From layer files to the effective configuration of one deployment (or one namespace).

baseline < namespace < profile (and what it extends) < environment < deployment < --set; a
namespace's or deployment's ``environments.<env>`` section sits right above its file.
After the merge, string values that hold Jinja2 expressions are rendered in a sandbox (context:
``env``, ``namespace``, ``platform``), values are normalised (sizes, CPU, durations, Flink keys),
and the result is validated against the effective schema plus the rules a schema cannot say.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import jinja2

from generator import units
from generator.config import integers, paths, schema, secrets, verbatim
from generator.config.effective import ARTIFACT, RESOURCES, Effective
from generator.config.layers import FLINK_CONF, ConfigRepo, Layer
from generator.config.merge import DELETED, Merged, Origin, Provenance, merge_layer, nearest_origin
from generator.config.sandbox import ConfigSandbox
from generator.config.sets import CLI_FILE, SetsFor, name_set_problems, parse_set
from generator.config.yamlload import Document, Mark, Path_, dotted
from generator.errors import InputError, Problem, UsageError
from generator.flink import catalogue, options

__all__ = [
    "ARTIFACT",
    "CLI_FILE",
    "RESOURCES",
    "Effective",
    "Resolver",
    "SetsFor",
    "explain_chain",
    "iter_leaves",
    "name_set_problems",
    "parse_set",
]


# -- templates -----------------------------------------------------------------------------------
class _Templates:
    """User templates: Jinja2's sandbox, StrictUndefined, each source compiled once per process."""

    def __init__(self) -> None:
        self.env = ConfigSandbox()  # immutable sandbox, StrictUndefined, bounded size and time
        self._compiled: dict[str, jinja2.Template] = {}

    def render(self, source: str, context: Mapping[str, Any]) -> str:
        template = self._compiled.get(source)
        if template is None:
            template = self.env.compile_checked(source)
            self._compiled[source] = template
        return self.env.render_bounded(template, dict(context))


_TEMPLATES = _Templates()
_HAS_TEMPLATE = re.compile(r"\{\{|\{%")


@functools.cache
def template_inputs(source: str) -> tuple[Path_, ...]:
    """The configuration values a template reads (``platform.storage.baseUri``), from its syntax."""
    try:
        tree = _TEMPLATES.env.parse(source)
    except jinja2.TemplateSyntaxError:
        return ()
    found: set[Path_] = set()
    for node in tree.find_all((jinja2.nodes.Getattr, jinja2.nodes.Getitem)):
        chain: list[str] = []
        current: jinja2.nodes.Node = node
        while isinstance(current, jinja2.nodes.Getattr | jinja2.nodes.Getitem):
            if isinstance(current, jinja2.nodes.Getattr):
                chain.append(current.attr)
            elif isinstance(current.arg, jinja2.nodes.Const) and isinstance(current.arg.value, str):
                chain.append(current.arg.value)
            else:
                chain.clear()
                break
            current = current.node
        if chain and isinstance(current, jinja2.nodes.Name) and current.name == "platform":
            found.add(("platform", *reversed(chain)))
    # a chain inside a longer one (platform.storage in platform.storage.baseUri) is not an input of its own
    return tuple(sorted(p for p in found if not any(q != p and q[: len(p)] == p for q in found)))


# values no template can be in: skipped without a call (a template needs "{{" or "{%")
_NO_TEMPLATE_TYPES = frozenset({int, float, bool, type(None)})


def _collect_templated(value: Any, path: Path_, found: list[tuple[Path_, str]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            kind = type(item)
            if kind not in _NO_TEMPLATE_TYPES and not (kind is str and "{" not in item):
                _collect_templated(item, (*path, key), found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _collect_templated(item, (*path, index), found)
    elif isinstance(value, str) and _HAS_TEMPLATE.search(value) and not verbatim.is_verbatim(path):
        found.append((path, value))


def _template_reads(raw: Mapping[str, Any], provenance: Provenance) -> dict[Path_, tuple[tuple[Path_, Origin], ...]]:
    """For every templated value, the written values its template read and where each was written."""
    found: dict[Path_, tuple[tuple[Path_, Origin], ...]] = {}
    templated: list[tuple[Path_, str]] = []
    _collect_templated(raw, (), templated)
    for path, source in templated:
        reads: list[tuple[Path_, Origin]] = []
        for read in template_inputs(source):
            origin = nearest_origin(provenance, read)
            if origin is not None:
                reads.append((read, origin))
        if reads:
            found[path] = tuple(reads)
    return found


def _explained(problems: list[Problem], eff: Effective, resolving: str, home: str) -> list[Problem]:
    """Each problem about a templated value says where the value came from; a problem blamed on a
    shared layer's line names what was being resolved (the same line can be wrong for one namespace
    or deployment and right for another)."""
    notes = {dotted(path): eff.read_note(path) for path in eff.template_reads}
    result: list[Problem] = []
    for problem in problems:
        message = problem.message
        note = notes.get(problem.key)
        if note:
            message += f" ({note})"
        names = (resolving,) if problem.file != home and resolving else ()
        result.append(Problem(problem.file, problem.line, problem.col, problem.key, message, problem.hint, names))
    return result


def _render_strings(
    value: Any, path: Path_, context: Mapping[str, Any], provenance: Provenance, problems: list[Problem]
) -> Any:
    if isinstance(value, dict):
        skip, go = _NO_TEMPLATE_TYPES, _render_strings
        return {
            k: v
            if type(v) in skip or (type(v) is str and "{" not in v)
            else go(v, (*path, k), context, provenance, problems)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_render_strings(v, (*path, i), context, provenance, problems) for i, v in enumerate(value)]
    if isinstance(value, str) and _HAS_TEMPLATE.search(value) and not verbatim.is_verbatim(path):
        try:
            return _TEMPLATES.render(value, context)
        except jinja2.TemplateSyntaxError as exc:
            problems.append(_problem_at(provenance, path, f"template syntax error: {exc.message}"))
        except jinja2.UndefinedError as exc:
            problems.append(_undefined(provenance, path, value, context, exc))
        except jinja2.exceptions.SecurityError as exc:
            problems.append(_problem_at(provenance, path, f"template blocked by the sandbox: {exc}"))
        except Exception as exc:  # a user template failing in any other way is still bad input
            problems.append(_problem_at(provenance, path, f"template failed: {type(exc).__name__}: {exc}"))
        return value
    return value


def _undefined(
    provenance: Provenance, path: Path_, source: str, context: Mapping[str, Any], exc: jinja2.UndefinedError
) -> Problem:
    """A template read something undefined: a misspelt setting (the closest one named), a setting no
    layer writes (a new namespace's storage: where to set it), or another undefined variable."""
    unset = [read for read in template_inputs(source) if not paths.is_set(context, read)]
    unknown, hint = schema.unknown_setting(unset[0]) if unset else ("", "")
    reads = f"the template reads {', '.join(map(dotted, unset[:1] if unknown else unset))}"
    if unknown:
        return _problem_at(provenance, path, f"{reads}, and {unknown} is not a setting", hint)
    if unset:
        home = f"namespaces/{context.get('namespace')}.yaml"
        hint = f"set {dotted(unset[0])} in {home} (each namespace sets its own), or in the environment or baseline"
        return _problem_at(provenance, path, f"{reads}, which no layer sets", hint)
    available = f"available variables: {', '.join(sorted(context))}"
    return _problem_at(provenance, path, f"template uses an undefined variable: {exc.message}", available)


def _problem_at(provenance: Provenance, path: Path_, message: str, hint: str = "", fallback: str = "") -> Problem:
    return paths.problem(provenance, path, message, hint, fallback)


# -- normalisation -------------------------------------------------------------------------------
def _memory_text(value: object) -> str:
    """A size in g or m, which Flink, Kubernetes and VVP all read (never t, k or bytes)."""
    nbytes = units.parse_memory(value)
    for unit, shift in (("g", 30), ("m", 20)):
        if nbytes % (1 << shift) == 0:
            return f"{nbytes >> shift}{unit}"
    return units.format_memory(nbytes)  # not whole MiB: the effective schema reports it, located


def _normalize(data: dict[str, Any], provenance: Provenance, problems: list[Problem], version: str) -> dict[str, Any]:
    template_spec = data.get("spec", {}).get("template", {}).get("spec", {})
    resources = template_spec.get("resources", {})
    for role, spec in resources.items():
        if not isinstance(spec, dict):
            continue
        for key, fn in (("memory", _memory_text), ("cpu", lambda v: units.format_cpu(units.parse_cpu(v)))):
            if key in spec:
                try:
                    spec[key] = fn(spec[key])
                except units.UnitError as exc:
                    problems.append(_problem_at(provenance, (*RESOURCES, role, key), str(exc)))
    conf = template_spec.get("flinkConfiguration")
    if isinstance(conf, dict):
        major = options.parse_version(version)[0] if version in options.SUPPORTED_VERSIONS else 1
        for key in list(conf):
            path = (*FLINK_CONF, key)
            if major >= 2 and key in options.REMOVED_IN_2:
                problems.append(
                    _problem_at(
                        provenance, path, f"Flink {version} no longer has this option", options.REMOVED_IN_2[key]
                    )
                )
                continue
            try:
                conf[key] = options.normalize_value(key, conf[key])
            except units.UnitError as exc:
                problems.append(_problem_at(provenance, path, str(exc)))
    spec = data.get("spec", {})
    if "jobFailureExpirationTime" in spec:
        try:
            spec["jobFailureExpirationTime"] = units.normalize_duration(spec["jobFailureExpirationTime"])
        except units.UnitError as exc:
            problems.append(_problem_at(provenance, ("spec", "jobFailureExpirationTime"), str(exc)))
    return data


_OWNED_FLINK_KEYS = {
    "taskmanager.memory.process.size": "spec.template.spec.resources.taskmanager.memory",
    "jobmanager.memory.process.size": "spec.template.spec.resources.jobmanager.memory",
}


def _semantic_checks(eff: Effective, problems: list[Problem], fallback: str) -> None:
    spec = eff.data.get("spec", {})
    target, session = spec.get("deploymentTargetName"), spec.get("sessionClusterName")
    if target and session:
        problems.append(
            _problem_at(
                eff.provenance,
                ("spec", "sessionClusterName"),
                "deploymentTargetName and sessionClusterName are mutually exclusive "
                f"(deploymentTargetName '{target}' is set at "
                f"{_where(eff.provenance, ('spec', 'deploymentTargetName'))})",
                "for session mode set deploymentTargetName: null next to sessionClusterName",
                fallback,
            )
        )
    elif not target and not session:
        problems.append(
            Problem(
                fallback,
                1,
                1,
                "spec.deploymentTargetName",
                "neither deploymentTargetName (application mode) nor sessionClusterName (session mode) is set",
                "set one of them, usually deploymentTargetName in the namespace defaults",
            )
        )
    conf = eff.flink_conf
    prefixes = eff.get(("platform", "flinkOptionPrefixes"), ())
    for key, value in conf.items():  # every key an option of the Flink version, every value of its type
        unknown = catalogue.check(key, value, eff.flink_version, prefixes)
        if unknown is not None:
            problems.append(_problem_at(eff.provenance, (*FLINK_CONF, key), *unknown, fallback))
    for key, instead in _OWNED_FLINK_KEYS.items():
        if key in conf:
            problems.append(
                _problem_at(
                    eff.provenance,
                    (*FLINK_CONF, key),
                    "the process size is derived from the resources, not set in flinkConfiguration",
                    f"set {instead} instead",
                    fallback,
                )
            )
    template_spec = spec.get("template", {}).get("spec", {})
    parallelism = template_spec.get("parallelism")
    tms = template_spec.get("numberOfTaskManagers")
    slots_text = conf.get("taskmanager.numberOfTaskSlots", "1")
    # a session-mode job runs on the session cluster's slots: each target checks it against that cluster
    if isinstance(parallelism, int) and isinstance(tms, int) and slots_text.isdigit() and not session:
        slots = int(slots_text)
        if parallelism > tms * slots:
            problems.append(
                _problem_at(
                    eff.provenance,
                    ("spec", "template", "spec", "parallelism"),
                    f"parallelism {parallelism} needs {parallelism} slots, but {tms} TaskManagers x {slots} "
                    f"slots give {tms * slots}",
                    "raise numberOfTaskManagers or taskmanager.numberOfTaskSlots together with parallelism",
                    fallback,
                )
            )
    problems.extend(secrets.problems(eff, fallback))


def _labels(stack: Sequence[Layer | Document]) -> list[str]:
    return [x.label if isinstance(x, Layer) else "command line --set" for x in stack]


def _where(provenance: Provenance, path: Path_) -> str:
    origin = nearest_origin(provenance, path)
    return origin.where() if origin else "?"


def _with_section(layer: Layer, env: str) -> list[Layer]:
    """A deployment or namespace file and, right above it, its ``environments.<env>`` section."""
    section = layer.section(env)
    return [layer] if section is None else [layer, section]


# -- the resolver --------------------------------------------------------------------------------
class Resolver:
    """Resolves effective configurations; merges of shared layer prefixes are computed once."""

    def __init__(self, repo: ConfigRepo, sets: Sequence[str] = ()) -> None:
        self.repo = repo
        self.cli = parse_set(sets)
        self._keyed = schema.keyed_list_paths()
        self._merged: dict[tuple[str, ...], Merged] = {}
        self._sets_for: SetsFor | None = None  # None: --set applies to everything

    def for_selection(self, namespace: str | None, profile: str | None, deployment: str | None) -> Resolver:
        """This resolver, with ``--set`` applied only to what a selection renders (see :class:`SetsFor`).
        It shares the loaded layers and merges with this one."""
        if self.cli is None or namespace is profile is deployment is None:
            return self
        narrowed = copy.copy(self)
        narrowed._sets_for = SetsFor(namespace, profile, deployment)
        return narrowed

    def _merge(self, layers: Sequence[Layer | Document]) -> Merged:
        labels: list[str] = []
        merged = Merged.empty()
        for i, layer in enumerate(layers):
            label = layer.label if isinstance(layer, Layer) else "command line --set"
            labels.append(label + ":" + (layer.doc.file if isinstance(layer, Layer) else CLI_FILE))
            key = tuple(labels)
            cached = self._merged.get(key)
            if cached is not None:
                merged = cached
                continue
            doc = layer.doc if isinstance(layer, Layer) else layer
            merged = merge_layer(merged, label, doc, self._keyed)
            if i < len(layers) - 1:
                self._merged[key] = merged
        return merged

    def deployment_layers(self, env: str, namespace: str, name: str) -> tuple[Layer, list[Layer]]:
        deployment = self.repo.layer("deployment", name, namespace)
        profile_name = str(deployment.meta.get("profile"))
        if profile_name not in self.repo.names("profile"):
            mark = deployment.doc.marks.get(("profile",), Mark(deployment.doc.file, 1, 1))
            raise InputError(
                [
                    Problem(
                        mark.file,
                        mark.line,
                        mark.col,
                        "profile",
                        f"unknown profile '{profile_name}'",
                        f"available: {', '.join(self.repo.names('profile'))}",
                    )
                ]
            )
        layers = [
            self.repo.layer("baseline", "baseline"),
            *_with_section(self.repo.layer("namespace", namespace), env),
            *self.repo.profile_chain(profile_name),
            self.repo.layer("environment", env),
            *_with_section(deployment, env),
        ]
        return deployment, layers

    def profile_of(self, namespace: str, name: str) -> str:
        return str(self.repo.layer("deployment", name, namespace).meta.get("profile"))

    def deployment(self, env: str, namespace: str, name: str) -> Effective:
        self._require_namespace(namespace)
        deployment, layers = self.deployment_layers(env, namespace, name)
        stack: list[Layer | Document] = list(layers)
        profile = str(deployment.meta.get("profile"))
        if self.cli is not None and (self._sets_for is None or self._sets_for.deployment(namespace, name, profile)):
            stack.append(self.cli)
        merged = self._merge(stack)
        try:
            return self._finish(merged, env, namespace, name, profile, deployment.doc.file, _labels(stack))
        except InputError as exc:  # the same --set can be wrong for one deployment and right for another
            raise InputError(name_set_problems(exc.problems, f"deployment {namespace}/{name}")) from None

    def namespace(self, env: str, namespace: str, profile: str = "") -> Effective:
        """Baseline, namespace, (a profile,) environment: what a namespace's defaults say."""
        self._require_namespace(namespace)
        layers: list[Layer | Document] = [
            self.repo.layer("baseline", "baseline"),
            *_with_section(self.repo.layer("namespace", namespace), env),
        ]
        if profile:
            layers.extend(self.repo.profile_chain(profile))
        layers.append(self.repo.layer("environment", env))
        if self.cli is not None and (self._sets_for is None or self._sets_for.namespace(namespace)):
            layers.append(self.cli)  # --set has the highest precedence everywhere it applies
        merged = self._merge(layers)
        file = self.repo.layer("namespace", namespace).doc.file
        try:
            return self._finish(merged, env, namespace, "", profile, file, [], validate=False)
        except InputError as exc:
            view = f"namespace {namespace}" + (f" with profile {profile}" if profile else "")
            raise InputError(name_set_problems(exc.problems, view)) from None

    def _require_namespace(self, namespace: str) -> None:
        if namespace not in self.repo.names("namespace"):
            raise UsageError(
                f"deployments/{namespace}/ has no namespace defaults file namespaces/{namespace}.yaml",
                hint=f"available namespaces: {', '.join(self.repo.names('namespace')) or 'none'}",
            )

    def _finish(
        self,
        merged: Merged,
        env: str,
        namespace: str,
        name: str,
        profile: str,
        file: str,
        layers: list[str],
        *,
        validate: bool = True,
    ) -> Effective:
        problems: list[Problem] = []
        data = dict(merged.data)  # _render_strings below makes every map and list anew: nothing shared is changed
        raw = merged.data
        provenance = merged.provenance
        base_context = {"env": env, "namespace": namespace}
        platform = _render_strings(data.get("platform", {}), ("platform",), base_context, provenance, problems)
        platform.setdefault("kubernetesNamespace", namespace)
        data["platform"] = platform
        context = {**base_context, "platform": platform}
        data = {
            k: (v if k == "platform" else _render_strings(v, (k,), context, provenance, problems))
            for k, v in data.items()
        }
        version = str(
            data.get("spec", {}).get("template", {}).get("spec", {}).get("artifact", {}).get("flinkVersion", "")
        )
        data = _normalize(data, provenance, problems, version or options.DEFAULT_VERSION)
        reads = _template_reads(raw, provenance)
        eff = Effective(env, namespace, name, profile, data, provenance, tuple(layers), template_reads=reads)

        def locate(path: Path_) -> tuple[str, int, int]:
            origin = provenance.get(path)
            if origin:
                return origin[-1].file, origin[-1].line, origin[-1].col
            return file, 1, 1

        def blame(path: Path_) -> tuple[str, int, int]:  # a list item: the list that holds it
            origin = nearest_origin(provenance, path)
            return (origin.file, origin.line, origin.col) if origin else locate(path)

        if not problems:  # also in a namespace's view: it renders the profiles' deployment templates
            problems = integers.integral_float_problems(data, blame)
        if validate and not problems:
            problems = schema.problems_from_errors(schema.fast_validator("effective").iter_errors(data), locate)
            if not problems:
                _semantic_checks(eff, problems, file)
        if problems:
            what = f"deployment {namespace}/{name}" if name else f"namespace {namespace}"
            resolving = f"{what} ({f'profile {profile}, ' if profile and not name else ''}{env})"
            raise InputError(_explained(problems, eff, resolving, file))
        return eff


def explain_chain(eff: Effective, path: Path_) -> tuple[Any, list[Origin]]:
    """The effective value of ``path`` and every origin that set it, most recent first."""
    value = eff.get(path, DELETED)
    chain = list(eff.provenance.get(path, ()))
    if not chain:
        n = len(path)
        below = {k: v for k, v in eff.provenance.items() if k[:n] == path}
        for key in sorted(below, key=str):
            chain.extend(below[key])
    return value, list(reversed(chain))


def iter_leaves(data: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    if isinstance(data, dict) and data:
        for key, value in data.items():
            yield from iter_leaves(value, (*path, key))
    else:
        yield path, data
