"""``gen smoke``: boot the rendered Flink configuration on this machine and prove it works.

One JobManager and the configured TaskManagers (capped) run from a local Flink distribution with
the deployment's effective Flink configuration, adapted only where a laptop differs from a
Kubernetes cluster (memory, addresses, ports, storage, HA). A local Prometheus scrapes every
Flink process and loads the rendered alert rules. The modules:

- ``tools``: find Flink, Java, Prometheus (and javac for ``--job``); say how to install them.
- ``adapt``: the effective configuration -> a local configuration plus the list of adaptations.
- ``ports``: free ports on 127.0.0.1.
- ``supervise``: start processes in their own process groups and always stop them.
- ``target``: which deployment to boot and the rule groups to load.
- ``prometheus``: the scrape configuration and Prometheus' HTTP API.
- ``job``: the optional tiny job that must complete a checkpoint.
- ``diagnose``: the errors the processes report in their output.
- ``session``: the state one run shares between its steps; how a step waits, passes, fails.
- ``prepare``: the local configuration of a run and the files its processes read.
- ``boot``: start the processes of a run and stop them.
- ``verify_flink``, ``verify_prometheus``, ``verify_job``: the checks.
- ``alert_watch``: every alert pending or firing during the run, from Prometheus' ``ALERTS`` record.
- ``scenario``, ``lifecycle``, ``faults``: ``--lifecycle`` (a job's healthy life fires no alert)
  and ``--faults`` (each alert fires in time), on the rules' compressed clock.
- ``report``: the go/no-go report and its text.
- ``run``: the whole run.

Only the ``run`` entry point starts anything; nothing here prints.
"""
