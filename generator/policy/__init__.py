"""`gen check`: the production readiness checklist as rules with stable IDs.

- ``registry``: the rules (``all_rules()``), each implementing one checklist item;
  ``rules_flink`` (the Flink configuration), ``rules_identity`` (TLS, accounts, network),
  ``rules_images``, ``rules_observability``, ``rules_resources``, ``rules_memory`` and
  ``rules_exceptions`` (the exception process, waiver expiry) define them.
- ``model``: rules, subjects, violations, findings and the grading by tolerance.
- ``facts``: what several rules read from a configuration (HA on, slots, state backend, ...), once each;
  ``documents``: the rendered documents as the rules read them (pods, kinds, quantities).
- ``engine``: renders a selection in memory, runs every rule on every subject, applies waivers.
- ``exceptions``: profile bounds, exceptions and waivers (reading, locating, checking).
- ``sizing``: Flink's memory model applied to an effective configuration (also ``gen memory``).
- ``report``: plain text, rich table, JSON and JUnit XML.
"""
