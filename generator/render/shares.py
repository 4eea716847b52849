"""What the namespace renderers compute for each deployment, kept for the unit's next render.

A namespace's own documents summarise every deployment of the namespace: the NetworkPolicies of each
deployment's pods, its group in the PrometheusRule, and the target's documents per profile. After one
deployment changed, an incremental render reuses the others as they were
(:func:`generator.render.parallel.render_one`), and with them what was computed for each of them
here: a *share*. :func:`share` returns the kept value instead of computing it when

- the deployment it was computed for is reused unchanged (the same layer files, so the same
  configuration), or it is a share of the namespace alone (``deployment=""``); and
- every layer file read to resolve the namespace's own configuration, or while computing the share,
  is unchanged (its ``reads``).

Everything else a share may depend on is in the unit's identity, which the kept shares are stored
under with the unit's parts: gen itself, the selection (``--target``), ``--set``, the listing of the
configuration (:mod:`generator.render.incremental`). So a share must be a pure function of its
deployment's configuration and of the namespace's: it must not read another deployment. Outside
:func:`keeping` (a cold render), :func:`share` computes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from generator.config.layers import ConfigRepo

T = TypeVar("T")

Reads = tuple[tuple[tuple[str, str], str], ...]  # (kind, where) and the digest of the text read


@dataclass(frozen=True)
class Share:
    reads: Reads  # the namespace's own reads and the share's
    value: Any


Kept = Mapping[str, Mapping[str, Share]]  # deployment ("" for the namespace alone) -> tag -> share


class _Keeping:
    def __init__(self, repo: ConfigRepo, before: Kept, reused: frozenset[str], base: Mapping[tuple[str, str], str]):
        self.repo, self.before, self.reused, self.base = repo, before, reused, base
        self.now: dict[str, dict[str, Share]] = {}

    def share(self, tag: str, deployment: str, compute: Callable[[], T]) -> T:
        if not deployment or deployment in self.reused:
            found = self.before.get(deployment, {}).get(tag)
            if isinstance(found, Share) and self.repo.unchanged(found.reads):
                self.repo.note_reads(found.reads)  # what it read is read by the unit
                self.now.setdefault(deployment, {})[tag] = found
                return found.value  # type: ignore[no-any-return]
        with self.repo.recording() as reads:
            value = compute()
        self.now.setdefault(deployment, {})[tag] = Share(tuple(sorted({**self.base, **reads}.items())), value)
        return value


_KEEPING: list[_Keeping] = []


@contextmanager
def keeping(
    repo: ConfigRepo, before: Kept, reused: frozenset[str], base: Mapping[tuple[str, str], str]
) -> Iterator[dict[str, dict[str, Share]]]:
    """Inside the block, :func:`share` reuses the shares of ``before`` (those of the deployments in
    ``reused``, and the namespace's own) whose reads are unchanged; ``base``: the layer files read to
    resolve the namespace's configuration. Yields the shares of this render, for the next."""
    keeping = _Keeping(repo, before, reused, base)
    _KEEPING.append(keeping)
    try:
        yield keeping.now
    finally:
        _KEEPING.remove(keeping)


def share(tag: str, deployment: str, compute: Callable[[], T]) -> T:
    """``compute()``, or what it returned in the unit's last render when nothing it depends on changed
    (see the module). ``tag`` names what is computed, unique per deployment."""
    if not _KEEPING:
        return compute()
    return _KEEPING[-1].share(tag, deployment, compute)


__all__ = ["Kept", "Share", "keeping", "share"]
