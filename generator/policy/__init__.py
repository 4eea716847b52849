"""`gen check`: the production readiness checklist as rules with stable IDs.

- ``registry``: the rules (``all_rules()``), each implementing one checklist item;
  ``rules_flink``, ``rules_platform``, ``rules_memory``, ``rules_exceptions`` define them.
- ``model``: rules, subjects, violations, findings and the grading by tolerance.
- ``engine``: renders a selection in memory, runs every rule on every subject, applies waivers.
- ``exceptions``: profile bounds, exceptions and waivers (reading, locating, checking).
- ``sizing``: Flink's memory model applied to an effective configuration (also ``gen memory``).
- ``report``: plain text, rich table, JSON and JUnit XML.
"""
