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

import itertools
import re
from functools import cache
from typing import TYPE_CHECKING

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


@cache
def scan_text(text: str) -> str | None:
    """What credential ``text`` holds (references blanked out first), or None."""
    blanked = blank_references(text)
    if len(blanked.strip()) < 4:
        return None
    _enter_default_settings()
    for plugin in _plugins():
        if any(True for _ in plugin.analyze_line(filename="value", line=blanked, line_number=1)):
            name = type(plugin).__name__
            return _DESCRIPTIONS.get(name, f"a {plugin.secret_type}")
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
