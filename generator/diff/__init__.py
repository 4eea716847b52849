"""``gen diff``: what a render would change, per resource, and the input line behind each change.

- :mod:`generator.diff.source`: the one entry to the render pipeline (:func:`render_config`), and a
  configuration at a git revision (:func:`export_revision`).
- :mod:`generator.diff.compare`: the per-file unified diffs and the summary (:func:`compare`).
- :mod:`generator.diff.causes`: which input line each changed output line comes from.
"""

from generator.diff.causes import Cause, Explainer
from generator.diff.compare import Comparison, FileChange, Hunk, Traced, compare
from generator.diff.source import (
    Rendered,
    commit_of,
    export_revision,
    render_config,
    render_revision,
    revision_file,
)

__all__ = [
    "Cause",
    "Comparison",
    "Explainer",
    "FileChange",
    "Hunk",
    "Rendered",
    "Traced",
    "commit_of",
    "compare",
    "export_revision",
    "render_config",
    "render_revision",
    "revision_file",
]
