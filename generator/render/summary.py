"""The summary of a run: the files it produced (path, owner, SHA-256), kept in the render cache under
a key of everything the run read. ``gen render --check`` with nothing changed answers from it, the
inputs' digests and the output folder alone: no renderer is loaded and no cached document is read.

The key is a digest of the gen that runs (:func:`generator.render.identity.code_identity`), every
input of the configuration (:meth:`ConfigRepo.inputs_digest`: which layer files exist, the text of
each, and the folders read other than as layers), the configuration folder as messages name it, and
the selection. The same key means the same inputs, so a render would produce the same files, byte
for byte. Only a successful run stores a summary, and only a run without ``--set``: the values given
on the command line are not files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from generator.config.layers import ConfigRepo, _shown
from generator.errors import GenError
from generator.output.cache import Cache
from generator.output.index import FileDigest, OutFile, Owner
from generator.render import identity
from generator.render.selection import Selection


def _key(repo: ConfigRepo, selection: Selection) -> str:
    text = repr(("run summary", identity.code_identity(), repo.inputs_digest(), _shown(repo.root), selection))
    return "s" + hashlib.sha256(text.encode()).hexdigest()


def lookup(store: Cache, repo: ConfigRepo, selection: Selection) -> list[FileDigest] | None:
    """The files a run of ``selection`` produces from the configuration as it is now, if a run
    stored them (:func:`keep`); ``None`` otherwise (also when the configuration cannot be listed:
    the render reports that)."""
    try:
        found = store.get(_key(repo, selection))
    except GenError:  # a layer folder that cannot be listed: the render reports it as it always does
        return None
    if not isinstance(found, list):
        return None
    try:
        return [FileDigest(path, digest, Owner(*owner)) for path, digest, *owner in found]
    except (TypeError, ValueError):
        return None


def keep(store: Cache, repo: ConfigRepo, selection: Selection, files: Sequence[OutFile]) -> None:
    """Store the files of a successful run of ``selection`` without ``--set`` (``repo`` the one it
    rendered from: the digests of the layer files it read are those it recorded while reading)."""
    rows = [(f.path, f.sha256, f.owner.env, f.owner.namespace, f.owner.deployment, f.owner.profile) for f in files]
    store.put(_key(repo, selection), rows)  # plain tuples: pickled in a third of the time of the objects


__all__ = ["keep", "lookup"]
