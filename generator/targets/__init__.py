"""The platforms gen renders for: one package per target (``vvp``, ``vvp_operator``,
``flink_operator``), each with an object implementing :class:`generator.render.target.Target`.

The protocol and the registry live in :mod:`generator.render.target`, below the targets, so the
shared renderers can ask a target what they need without importing any target package; this
package re-exports them as its public interface.
"""

from generator.render.target import Target, get, names, register, sharing, unregister

__all__ = ["Target", "get", "names", "register", "sharing", "unregister"]
