"""What ``gen init`` writes besides the example configuration: a ``.gitignore``, a pre-commit
configuration running gen's hooks, and a CI workflow example (GitHub Actions). See docs/ci.md."""

from __future__ import annotations

#: The folder names a configuration repository's ``.gitignore`` keeps out of version control: the
#: trees a render builds beside the output folder and removes when it is done (left behind only by
#: a killed run, which the next render cleans up).
GITIGNORE = """\
# gen: the trees a render builds beside the output folder (only a killed run leaves them behind)
.*.gen-tmp-*/
.*.gen-old/
# The rendered output (out/) is committed: it is what Argo CD or Flux apply, and `gen render --check`
# keeps it in step with the configuration. To review pull requests without committing it
# (`gen diff --base`), ignore it instead:
# /out/
__pycache__/
"""

#: gen's hooks, as ``.pre-commit-hooks.yaml`` of gen's repository declares them (ids, commands,
#: arguments, files), run by the gen installed where pre-commit runs (``language: system``).
PRE_COMMIT = """\
# pre-commit (https://pre-commit.com): `pip install pre-commit && pre-commit install`, then every
# commit is validated, its rendered output checked to be up to date, and graded.
# These hooks run the gen installed beside pre-commit. To let pre-commit install gen itself, name
# gen's repository and a release tag instead of `repo: local` (the same hook ids):
#   - repo: <gen's git repository>
#     rev: v{version}
#     hooks: [{{id: gen-validate}}, {{id: gen-render-check}}, {{id: gen-check}}]
repos:
  - repo: local
    hooks:
      - id: gen-validate
        name: gen validate
        entry: gen validate
        language: system
        pass_filenames: false
        files: {inputs}
      - id: gen-render-check
        name: gen render --check
        entry: gen render --check
        language: system
        pass_filenames: false
        files: {inputs_and_out}
      - id: gen-check
        name: gen check
        entry: gen check
        args: [--env, prod]
        language: system
        pass_filenames: false
        files: {inputs}
"""

#: Files whose change can change what gen renders, and with them the rendered output.
INPUTS = r"^(baseline\.yaml|(profiles|namespaces|environments|deployments)/.+\.yaml)$"
INPUTS_AND_OUT = r"^(baseline\.yaml|(profiles|namespaces|environments|deployments)/.+\.yaml|out/.+)$"

#: A CI workflow example (GitHub Actions); docs/ci.md explains each step.
CI_WORKFLOW = """\
# gen in CI (docs/ci.md of gen): validate, keep the committed output in step, grade it, and show
# a pull request's changes per resource with the input line behind each.
name: gen
on:
  pull_request:
  push:
    branches: [main]
env:
  # where your team gets gen: a wheel on your package index, or "git+<gen's repository>@v{version}"
  GEN_PACKAGE: generator=={version}
jobs:
  gen:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0  # gen diff --base renders the pull request's base commit
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - run: pip install "$GEN_PACKAGE"
      - run: gen validate
      - run: gen render --check
      - run: gen check --env prod --format junit --output gen-check.xml
      - name: What the pull request changes
        if: github.event_name == 'pull_request'
        # exit 1 means "changes": expected in a pull request; 2 (bad input) fails the job
        run: gen diff --base "origin/$GITHUB_BASE_REF" || [ $? -eq 1 ]
"""


def pre_commit_config(version: str) -> str:
    return PRE_COMMIT.format(version=version, inputs=f"'{INPUTS}'", inputs_and_out=f"'{INPUTS_AND_OUT}'")


def ci_workflow(version: str) -> str:
    return CI_WORKFLOW.format(version=version)
