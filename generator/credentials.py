"""The one credential detector: what in a configuration value is a credential written as text.

Every string gen renders comes from a resolved configuration, so every string leaf of every
resolved configuration passes through :func:`finding` (see :mod:`generator.config.secrets`, which
turns findings into located problems). A value is a credential when

- its key says so: a Flink option, environment variable or setting whose name holds a credential
  word (password, passwd, pwd, passphrase, secret, token, credential, oauth, api/access/private/
  account/secret key ...) in any case and separator (``fs.oss.accessKeySecret``, ``MYSQL_PWD``,
  ``containerized.taskmanager.env.DB_PASSWORD``), unless the name describes the credential instead
  of holding it (``...provider``, ``...enabled``, ``...secretKeyRef``); or
- its text holds one, whatever the key: a password in a URI's user information or query
  (``https://user:pw@host``, ``jdbc:...?sslpassword=``), a known key or token format (AWS, Azure,
  GitHub, GitLab, Slack, Stripe, JWT, private-key PEM headers and more), a ``key=value``
  assignment of a credential inside a larger string (``-Dkafka.password=...``, JAAS options), or
  a command-line flag naming a credential followed by its value (``--aws-secret-key VALUE``).

The formats and keyword assignments are recognised by detect-secrets' plugins (its entropy
heuristics are left out: image digests and checksums are high-entropy and not secrets).
References are never credentials: ``${secret_values.NAME}`` and ``${NAME}`` are blanked out
before the text is scanned. Findings name what was found, never the value.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import signal
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:  # detect-secrets is imported on the first scan: most commands never scan
    from detect_secrets.plugins.base import BasePlugin

#: ``${secret_values.NAME}`` or ``${NAME}``: how a value refers to a credential instead of holding it.
REFERENCE = re.compile(r"^\$\{(?:secret_values\.(?P<secret>[0-9A-Za-z_-]{1,250})|(?P<env>[A-Za-z_][A-Za-z0-9_]*))\}$")
_ANY_REFERENCE = re.compile(r"\$\{(?:secret_values\.[0-9A-Za-z_-]{1,250}|[A-Za-z_][A-Za-z0-9_]*)\}")

# Words of a key name (split at dots, dashes, underscores, slashes and camelCase) that say it holds
# a credential, and pairs of words that do together ("access key", "client secret" ...).
_WORDS = frozenset(
    {"password", "passwd", "pwd", "passphrase", "secret", "token", "credential", "credentials", "oauth", "apikey"}
)
_JOINED = frozenset({"secretkey", "accesskey", "privatekey", "apikey", "clientsecret", "sessiontoken", "accountkey"})
_KEY_QUALIFIERS = frozenset(
    {"access", "api", "private", "account", "secret", "client", "master", "signing", "encryption"}
)
# Last words of names that describe a credential rather than hold one.
_DESCRIBES = frozenset(
    {
        "provider", "providers", "enabled", "type", "class", "factory", "file", "path", "location", "dir",
        "ref", "refs", "mode", "expiration", "renewal", "interval", "timeout", "name", "names", "id", "ids",
        "algorithm", "format", "store", "keystore", "truststore", "endpoint", "url", "uri", "length", "size",
        "count", "duration", "ttl", "scope", "scopes", "header", "issuer", "audience",
    }
)  # fmt: skip
# Names of settings that hold names of Secrets, not their contents.
_NAMES_OF_SECRETS = frozenset({"kubernetes.secrets", "kubernetes.env.secretkeyref"})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@cache
def words(name: str) -> tuple[str, ...]:
    return tuple(w for w in re.split(r"[.\-_/\s]+", _CAMEL.sub("_", name).lower()) if w)


@cache
def is_credential_key(name: str) -> bool:
    """Whether a key name says its value is a credential."""
    if name.lower() in _NAMES_OF_SECRETS:
        return False
    parts = words(name)
    if not parts or parts[-1] in _DESCRIBES:
        return False
    lowered = name.lower()
    if ".account.key." in lowered or lowered.endswith("jaas.config"):  # Azure account keys; JAAS options
        return True
    for i, word in enumerate(parts):
        if word in _WORDS or word in _JOINED or word.endswith(("password", "passwd")):
            return True
        if word == "key" and i > 0 and parts[i - 1] in _KEY_QUALIFIERS:
            return True
    return False


def is_reference(value: str) -> bool:
    return REFERENCE.match(value.strip()) is not None


def blank_references(text: str) -> str:
    return _ANY_REFERENCE.sub("", text)


# detect-secrets plugins: every format and keyword detector, not the entropy heuristics (digests
# and checksums are high-entropy) nor public IP addresses (not secrets).
_LEFT_OUT = frozenset({"Base64HighEntropyString", "HexHighEntropyString", "IPPublicDetector"})


@cache
def _plugins() -> tuple[BasePlugin, ...]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.settings import default_settings

    with default_settings():
        classes: list[type[BasePlugin]] = list(get_mapping_from_secret_type_to_class().values())
        return tuple(cls() for cls in sorted(classes, key=lambda c: c.__name__) if cls.__name__ not in _LEFT_OUT)


_DESCRIPTIONS = {
    "BasicAuthDetector": "a password in a URI",
    "KeywordDetector": "a credential assignment",
    "AWSKeyDetector": "an AWS access key",
    "PrivateKeyDetector": "a private key",
}
_FLAG = re.compile(r"^--?(?P<name>[A-Za-z][\w.-]*)$")
# key=value (or key: value) inside a larger string: -Dname=value, JAAS options, query strings, env files
_ASSIGNMENT = re.compile(
    r"(?:^|[\s;,&?\"'(])(?:-D|--?)?(?P<name>[A-Za-z_][\w.-]*)"  # -Dname, --name, name
    r"(?:[ \t]*=[ \t]*(?=[^\s-])|:[ \t]+)"  # = value, or ": value"
    r"(?P<value>\"[^\"]*\"|'[^']*'|[^\s;,&\"')]+)"
)


def _assignment(text: str) -> bool:
    """An assignment of a value to a name that says credential (``-Dssl.truststore.password=...``)."""
    for match in _ASSIGNMENT.finditer(text):
        value = match["value"].strip("\"'")
        if value and is_credential_key(match["name"]) and not value.startswith("//"):
            return True
    return False


def _flag_value(text: str) -> bool:
    """A command-line flag naming a credential followed by a value (``--db-password VALUE``)."""
    tokens = text.split()
    for flag, value in itertools.pairwise(tokens):
        match = _FLAG.match(flag)
        if match and is_credential_key(match["name"]) and not value.startswith("-"):
            return True
    return False


@cache
def _enter_default_settings() -> None:
    """detect-secrets' default settings, entered once for the rest of the process: entering and
    leaving them around every scan cleared detect-secrets' caches twice per distinct string (an
    eighth of the CPU of a cold render). gen is the only user of detect-secrets in its process,
    and every scan ran with these same settings."""
    from detect_secrets.settings import default_settings

    default_settings().__enter__()


def _plugin_finding(blanked: str) -> str | None:
    """What detect-secrets' plugins find in ``blanked``, in this process."""
    _enter_default_settings()
    for plugin in _plugins():
        if any(True for _ in plugin.analyze_line(filename="value", line=blanked, line_number=1)):
            name = type(plugin).__name__
            return _DESCRIPTIONS.get(name, f"a {plugin.secret_type}")
    return None


# --- detect-secrets loaded beside the run ------------------------------------------------------
#
# Loading detect-secrets (and the HTTP library its plugins import for verification, which gen never
# asks for) takes about 70 ms: a sixth of a render after one deployment changed, spent before the
# first value can be scanned. A render starts it in a process forked at its beginning
# (:func:`loading_beside`), on the other CPU, while this one loads gen and reads the configuration;
# the values are then scanned there, a deployment's values in one exchange (:func:`prefetch`).
# Before a render forks its workers, :func:`load_here` loads it in this process instead, so that
# the workers inherit it (a worker never uses the process beside the one that started it).

_found: dict[str, str | None] = {}  # blanked text -> what the plugins found in it (None: nothing)


class _Beside:
    """The process beside this one: a JSON list of texts per line in, the list of findings out."""

    def __init__(self, pid: int, ask: BinaryIO, answers: BinaryIO) -> None:
        self.pid = pid
        self.owner = os.getpid()
        self._ask = ask
        self._answers = answers

    def ask(self, texts: list[str]) -> list[str | None] | None:
        """The findings of ``texts``; ``None`` when the process cannot answer (it failed, or was
        killed): this process then scans them itself."""
        try:
            self._ask.write(json.dumps(texts).encode() + b"\n")
            self._ask.flush()
            answers = json.loads(self._answers.readline())
        except (OSError, ValueError):
            return None
        if (
            isinstance(answers, list)
            and len(answers) == len(texts)
            and all(a is None or isinstance(a, str) for a in answers)
        ):
            return answers
        return None

    def stop(self) -> None:
        """End the process (it holds nothing: a kill loses no work) and reap it."""
        for stream in (self._ask, self._answers):
            with contextlib.suppress(OSError):
                stream.close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


_beside: _Beside | None = None


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _start_beside() -> _Beside | None:
    """Fork the process that loads detect-secrets and answers scans; ``None`` where it would not
    help: detect-secrets is loaded here already, this process may use one CPU only, or cannot fork."""
    if "detect_secrets" in sys.modules or not hasattr(os, "fork") or _cpus() < 2:
        return None
    pipes: list[int] = []
    try:
        pipes += os.pipe()
        pipes += os.pipe()
        pid = os.fork()
    except OSError:  # no descriptors or processes left: the run scans itself
        for fd in pipes:
            os.close(fd)
        return None
    ask_r, ask_w, answers_r, answers_w = pipes
    if pid == 0:  # the process beside: never returns
        status = 1
        try:
            os.close(ask_w)
            os.close(answers_r)
            quiet = os.open(os.devnull, os.O_WRONLY)
            os.dup2(quiet, 1)
            os.dup2(quiet, 2)
            _serve(ask_r, answers_w)
            status = 0
        finally:
            os._exit(status)
    os.close(ask_r)
    os.close(answers_w)
    return _Beside(pid, os.fdopen(ask_w, "wb"), os.fdopen(answers_r, "rb"))


def _serve(ask: int, answers: int) -> None:
    """The process beside: load detect-secrets, then answer every line until the run closes the pipe."""
    _enter_default_settings()
    _plugins()
    with os.fdopen(ask, "rb") as requests, os.fdopen(answers, "wb") as replies:
        for line in requests:
            texts = json.loads(line)
            replies.write(json.dumps([_plugin_finding(text) for text in texts]).encode() + b"\n")
            replies.flush()


@contextmanager
def loading_beside() -> Iterator[None]:
    """Inside the block, detect-secrets loads in a forked process and scans there (see above); the
    process is ended when the block ends. Nested blocks use the process of the outermost one."""
    global _beside
    started = _start_beside() if _beside is None else None
    if started is not None:
        _beside = started
    try:
        yield
    finally:
        if started is not None:
            if _beside is started:
                _beside = None
            started.stop()


def load_here() -> None:
    """Load detect-secrets in this process (and stop using the process beside it): before forking
    workers, which then inherit it instead of each loading it."""
    global _beside
    beside = _using_beside()
    if beside is not None:
        _beside = None
        beside.stop()
    _enter_default_settings()
    _plugins()


def _using_beside() -> _Beside | None:
    beside = _beside
    return beside if beside is not None and beside.owner == os.getpid() else None


def _detect(texts: list[str]) -> None:
    """Find what the plugins find in each of ``texts`` (into ``_found``): beside, else here."""
    global _beside
    beside = _using_beside()
    if beside is not None:
        answers = beside.ask(texts)
        if answers is not None:
            _found.update(zip(texts, answers, strict=True))
            return
        _beside = None  # it failed: this process scans from now on
        beside.stop()
    for text in texts:
        _found[text] = _plugin_finding(text)


def prefetch(values: Iterable[str]) -> None:
    """Scan ``values`` in one exchange with the process beside, if a render started one (else
    nothing: each value is scanned here when asked for)."""
    if _using_beside() is None:
        return
    texts = {b for v in values if len((b := blank_references(v)).strip()) >= 4 and b not in _found}
    if texts:
        _detect(sorted(texts))


@cache
def scan_text(text: str) -> str | None:
    """What credential ``text`` holds (references blanked out first), or None."""
    blanked = blank_references(text)
    if len(blanked.strip()) < 4:
        return None
    if blanked not in _found:
        _detect([blanked])
    found = _found[blanked]
    if found is not None:
        return found
    if "://" in blanked and re.search(r"://[^/@\s:]*:[^/@\s]+@", blanked):  # user:password@ in any URI
        return "a password in a URI"
    if re.search(r"[?&;](password|pwd|sslpassword|secret|token)=[^&;\s]+", blanked, re.IGNORECASE):
        return "a password in a URI"
    if _assignment(blanked):
        return "a credential assignment"
    if _flag_value(blanked):
        return "a credential given to a command-line flag"
    return None


@cache  # pure; an estate asks about the same (key, value) pairs for every deployment
def finding(key: str, value: str) -> str | None:
    """What is wrong with ``value`` under the key name ``key`` (a Flink option, an environment
    variable, a setting), or None when it holds no credential as text."""
    if is_reference(value):
        return None
    if is_credential_key(key) and blank_references(value).strip() and not key.lower().endswith("jaas.config"):
        return "a credential"
    return scan_text(value)


_QUOTED = re.compile(r"""'([^']{4,})'|"([^"]{4,})\"""")
NOT_SHOWN = "(a value not shown: it may be a credential)"


def redact(text: str, known: frozenset[str] = frozenset()) -> str:
    """``text`` (a message gen prints) with every quoted value or word that holds a credential
    replaced: the last line of defence, so that no message repeats a refused credential. Words in
    ``known`` (paths the command line named) are printed as they are, without a scan."""
    if len(text) < 4:
        return text

    def quoted(match: re.Match[str]) -> str:
        inner = match.group(1) if match.group(1) is not None else match.group(2)
        return NOT_SHOWN if scan_text(inner) else match.group(0)

    text = _QUOTED.sub(quoted, text)
    return " ".join(
        NOT_SHOWN if len(word) >= 8 and word not in known and scan_text(word) else word for word in text.split(" ")
    )
