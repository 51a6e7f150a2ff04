"""Secrets stay secret: no secret value reaches a checkpoint, the result, a log line or an email.

A property value is hidden (replaced by ``****``) when any of three independent rules says so:

- **By name** (``name_verdict``): the property path, or the name a value is filed under (the
  ``Key`` of a tag, the ``Name`` of an ECS environment entry), or the resource's own name for its
  ``/Value``, says it holds a secret: ``/MasterUserPassword``, ``/Environment/Variables/DB_PWD``,
  ``/Tags/3/Value`` whose key is ``api-token``, ``/Value`` of ``/app/db-password``.
- **By value shape** (``looks_secret``): AWS access key ids, PEM private keys, JWTs, ``Bearer``
  credentials, well-known token formats, URLs with a password, ``Password=`` pairs, long random
  strings, long hex strings.
- **By provenance** (``provenance.SecretPaths``): the template feeds the property from a NoEcho
  parameter or a ``{{resolve:ssm-secure:...}}``/``{{resolve:secretsmanager:...}}`` reference.

Values that are JSON (a change's whole ``/Properties/Tags``, a drift report's ``/Tags/2`` added
as ``{"Key": ..., "Value": ...}``) are parsed, redacted inside, and written back; paths and keys
stay, so a reviewer still sees *what* changed. ``Redactor(hide_all=True)`` hides every value and
keeps only paths (the ``HIDE_VALUES`` setting). Free text (status reasons, error messages, log
lines) is redacted by value shape only: ``redact_text``, and ``RedactingFilter`` for logging.

Every rule leans towards hiding: a false positive costs a reviewer one value, a false negative
leaks a credential into a mailbox. The choices that keep emails useful are explained where they
are made. Pure: standard library only (it sits on the ground floor of the layers).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from .provenance import SecretPaths

__all__ = [
    "REDACTED",
    "RedactingFilter",
    "Redactor",
    "ResourceRef",
    "Verdict",
    "change_path",
    "drift_path",
    "is_sensitive",
    "looks_secret",
    "name_verdict",
    "redact",
    "redact_text",
]

#: What a hidden value becomes (tests and reviewers look for it).
REDACTED = "****"


# =========================================================================== by name
class Verdict(IntEnum):
    """What a name says of the values under it, in increasing order of secrecy."""

    #: Says nothing (``/Environment``, ``/KmsKeyId``, ``/KeySchema``).
    NEUTRAL = 0
    #: Describes a secret without holding it (``/TokenValidityUnits``, ``/PasswordPolicy``,
    #: ``/AuthorizationType``, ``/SecretArn``): everything below it is shown.
    ABOUT = 1
    #: May hold a credential, or an enum (``/Authorization``, ``/Cookies/Forward``): hidden unless
    #: the value is a plain enum word (``NONE``, ``AWS_IAM``, ``none``).
    WEAK = 2
    #: Holds a secret (``/MasterUserPassword``, ``/SecretString``, ``API_KEY``): hidden.
    SECRET = 3


#: Words that name a secret on their own. ``key`` is not one (``KeyName``, ``KmsKeyId``,
#: ``KeySchema``, ``PublicKey``): only qualified keys are (``_KEY_QUALIFIERS``).
_STRONG = frozenset(
    {
        "password", "passwords", "passwd", "pwd", "pw", "pass", "passphrase",
        "secret", "secrets", "token", "tokens", "apikey", "apikeys", "privatekey", "privkey",
        "credential", "credentials", "creds", "cred", "connstr", "connectionstring", "dsn",
        "jwt", "bearer", "otp",
    }
)  # fmt: skip
#: Words that often name a secret but also name enums: ``Authorization`` (``Bearer x``) beside
#: ``AuthorizationType`` (``NONE``), CloudFront's ``Cookies`` ``Forward: none``, a ``Session``.
#: Their values are hidden unless they are a plain enum word (``_enum_like``); a real credential
#: is never one (it has digits, symbols, a scheme and a space, or is long and random).
_WEAK = frozenset(
    {"auth", "authorization", "session", "cookie", "cookies", "signature", "sig", "sas"}
)
#: Secret words found inside a single run of lowercase letters (``dbpassword``,
#: ``mysqlsecret``), where no case or separator splits words.
_INFIXES = (
    "password", "passwd", "passphrase", "secret", "credential", "apikey", "privatekey",
    "privkey", "accesstoken", "authtoken", "refreshtoken", "connectionstring", "connstr",
)  # fmt: skip
#: Words holding an infix that are not secrets.
_NOT_SECRET = frozenset({"secretsmanager", "secretary", "secretariat"})
#: ``<qualifier> key`` names a secret key: ``API_KEY``, ``PrivateKey``, ``SigningKey``,
#: ``AccountKey`` (Azure), ``SharedAccessKey``. ``PublicKey`` is not one: a public key is meant
#: to be shared (EC2 ``PublicKeyMaterial``, CloudFront ``EncodedKey``), and showing it helps the
#: review; a private key pasted there by mistake is still caught by its PEM shape.
_KEY_QUALIFIERS = frozenset(
    {
        "api", "private", "priv", "secret", "access", "signing", "license", "client", "app",
        "auth", "session", "hmac", "shared", "account", "master",
    }
)  # fmt: skip
#: Other word pairs that make one secret word.
_PAIRS = {
    ("connection", "string"): "connstr",
    ("conn", "string"): "connstr",
    ("conn", "str"): "connstr",
    ("pass", "word"): "password",
    ("pass", "phrase"): "passphrase",
}
#: Last words that make a name hold its secret word's value: ``SecretString``,
#: ``ApiKeyValue``, ``AuthHeader``, ``PasswordHash`` (a hash of a password is sensitive too).
_HOLDERS = frozenset(
    {
        "value", "values", "string", "str", "data", "text", "json", "header", "headers",
        "binary", "blob", "body", "content", "contents", "b64", "base64", "hash", "plaintext",
        "bytes", "material", "raw",
    }
)  # fmt: skip
#: Last words that make a name a container of settings: not decided here, the names below it
#: decide (``AuthParameters/BasicAuthParameters/Password`` is secret,
#: ``AuthParameters/OAuthParameters/ClientParameters/ClientID`` is not).
_CONTAINERS = frozenset(
    {
        "parameters", "params", "config", "configuration", "configurations", "settings",
        "options", "properties", "props", "details", "info", "spec", "specification",
        "variables", "vars", "entries", "map", "block", "list", "set", "environment", "env",
    }
)  # fmt: skip
#: Last words that make a name describe a secret rather than hold it: ``TokenValidityUnits``
#: (``hours``), ``PasswordPolicy``, ``AuthorizationType`` (``NONE``), ``SecretArn``,
#: ``ApiKeyRequired``, ``ApiKeySource`` (``HEADER``), ``SessionDuration``. A name whose last
#: word is in none of these lists and that holds a secret word counts as a secret (fail closed).
_ABOUT = frozenset(
    {
        "arn", "arns", "id", "ids", "name", "names", "type", "types", "kind", "class",
        "policy", "policies", "length", "units", "unit", "validity", "required", "enabled",
        "disabled", "version", "versions", "schema", "rotation", "ttl", "expiry",
        "expiration", "expires", "duration", "count", "format", "location", "locations",
        "path", "paths", "file", "files", "prefix", "suffix", "mode", "status", "source",
        "sources", "algorithm", "algorithms", "size", "age", "reuse", "prevention", "field",
        "fields", "template", "templates", "selection", "expression", "scope", "scopes",
        "flow", "flows", "provider", "providers", "issuer", "audience", "audiences",
        "endpoint", "endpoints", "url", "urls", "uri", "uris", "timeout", "interval",
        "period", "days", "hours", "minutes", "seconds", "time", "date", "timestamp", "level",
        "strategy", "role", "roles", "revocation", "method", "methods", "region", "account",
        "owner", "group", "groups", "protocol", "port", "host", "identifier", "identifiers",
        "reference", "ref", "refs", "max", "min", "minimum", "maximum", "limit", "threshold",
        "rule", "rules", "lifetime", "pattern", "label", "description", "index", "number",
        "order", "priority", "state", "attribute", "attributes", "usage", "store", "vault",
        "manager", "service", "behavior", "behaviour", "forward", "arguments", "signer",
        "characters", "chars", "whitelist", "allowlist", "blocklist", "denylist",
        "username", "user", "users", "authorizer", "authorizers", "lambda", "function",
        "kms", "cache", "caching", "check", "checks",
    }
)  # fmt: skip
#: First words that make a name a predicate or a setting about a secret:
#: ``ManageMasterUserPassword`` (RDS, a boolean), ``GenerateSecretString`` (the recipe of a
#: secret, not the secret), ``EnableTokenRevocation``, ``IsValueSecret``, ``ExcludePunctuation``.
_PREDICATES = frozenset(
    {
        "is", "has", "enable", "enabled", "disable", "disabled", "use", "uses", "require",
        "requires", "allow", "allowed", "generate", "rotate", "manage", "exclude", "include",
        "auto", "skip", "should", "must", "can", "force", "prevent", "reset", "validate",
    }
)  # fmt: skip

#: The name of a list element's ``Value`` that cannot be looked up: judged WEAK (shown only when
#: it is a plain enum word).
_UNKNOWN_NAME = "\x00unknown name"
_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def _words(name: str) -> list[str]:
    """``MasterUserPassword`` → master user password; ``DB_PASSWORD`` → db password;
    ``/app/db-password`` → app db password; ``APIKey`` → api key. Numbers are dropped."""
    words = [w.lower() for part in _SEPARATORS.split(name) for w in _CAMEL.findall(part)]
    words = [w for w in words if not w.isdigit()]
    merged: list[str] = []
    for word in words:
        previous = merged[-1] if merged else ""
        if word in ("key", "keys") and previous in _KEY_QUALIFIERS:
            merged[-1] = previous + "key"
        elif (previous, word) in _PAIRS:
            merged[-1] = _PAIRS[(previous, word)]
        else:
            merged.append(word)
    return merged


def _sensitive(word: str) -> Verdict:
    if word in _STRONG:
        return Verdict.SECRET
    if word in _WEAK:
        return Verdict.WEAK
    if word.endswith("key") and word[:-3] in _KEY_QUALIFIERS:
        return Verdict.SECRET
    if word not in _NOT_SECRET and any(infix in word for infix in _INFIXES):
        return Verdict.SECRET
    return Verdict.NEUTRAL


def _segment_verdict(segment: str) -> Verdict:
    """What one name (a path segment, a tag key, a variable name) says, by its head word: the
    last word decides what the name holds (English compounds put the head last):
    ``MasterUserPassword`` holds a password, ``TokenValidityUnits`` holds units."""
    if segment == _UNKNOWN_NAME:
        return Verdict.WEAK
    words = _words(segment)
    found = [(i, _sensitive(w)) for i, w in enumerate(words)]
    found = [(i, v) for i, v in found if v is not Verdict.NEUTRAL]
    if not found:
        return Verdict.NEUTRAL
    if words[0] in _PREDICATES and found[0][0] > 0:
        return Verdict.ABOUT
    head = words[-1]
    last_index, last_verdict = found[-1]
    if last_index == len(words) - 1 or head in _HOLDERS:
        return max(v for _, v in found)
    if head in _CONTAINERS:
        return Verdict.NEUTRAL
    if head in _ABOUT:
        return Verdict.ABOUT
    return max(last_verdict, Verdict.WEAK)  # an unknown head: fail closed


def name_verdict(segments: Iterable[str]) -> Verdict:
    """What a property path says, segment by segment from the root: the first segment that says
    something decides (``/PasswordPolicy/MinimumLength`` is ABOUT, ``/TokenValidityUnits/
    AccessToken`` too), except that a WEAK segment lets a later SECRET or ABOUT one decide."""
    weak = False
    for segment in segments:
        verdict = _segment_verdict(segment)
        if verdict in (Verdict.SECRET, Verdict.ABOUT):
            return (
                Verdict.SECRET
                if verdict is Verdict.SECRET
                else (Verdict.WEAK if weak else Verdict.ABOUT)
            )
        weak = weak or verdict is Verdict.WEAK
    return Verdict.WEAK if weak else Verdict.NEUTRAL


_ENUM = re.compile(
    r"(?:[A-Z][A-Z0-9_]{0,39}"  # NONE, AWS_IAM, COGNITO_USER_POOLS
    r"|[a-z]{1,20}(?:[-_][a-z]{1,20}){0,3}"  # none, all, whitelist, session-id
    r"|[a-z]{1,20}(?:[A-Z][a-z]{1,20}){1,3}"  # allExcept
    r"|[A-Z][a-z]{1,20}(?:[A-Z][a-z]{1,20}){0,3}"  # Enabled, MonkeyTest
    r"|-?\d{1,12}(?:\.\d+)?"  # 0, 3600
    r"|(?:method|integration|context|stageVariables)\.[\w.$-]{1,200})"  # API Gateway mappings
)


def _enum_like(value: str) -> bool:
    """A plain enum word, a number or an API Gateway mapping expression: what a WEAK name holds
    when it is not a credential (a credential has digits among letters, symbols, a scheme and a
    space, or is long and random)."""
    return _ENUM.fullmatch(value) is not None


# =========================================================================== by value shape
_PEM = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?"
    r"(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.DOTALL,
)
#: Formats that are secrets whatever surrounds them.
_TOKENS = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}"  # AWS access key id
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"  # JWT (signed or not)
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"  # GitHub
    r"|glpat-[A-Za-z0-9_-]{20,}"  # GitLab
    r"|xox[abposr]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,}"  # Slack
    r"|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}"  # Stripe secret and restricted keys
    r"|sk-(?:proj-|ant-[a-z0-9]+-)?[A-Za-z0-9_-]{20,}"  # OpenAI, Anthropic
    r"|AIza[0-9A-Za-z_-]{35}"  # Google API key
    r"|npm_[A-Za-z0-9]{36}"  # npm
    r"|SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"  # SendGrid
    r"|hooks\.slack\.com/services/[A-Za-z0-9/_-]+"  # Slack webhook
    r")"
)
#: ``Bearer <credential>`` / ``Basic <credential>`` (the credential only).
_SCHEME = re.compile(r"(?i)\b(?:bearer|basic)\s+([A-Za-z0-9\-._~+/]{8,}=*)")
#: The secret access key shape: 40 characters of base64 with both cases and a digit, not made of
#: words (``AwsS3BucketServerSideEncryptionByDefault`` is 40 characters too).
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
#: ``scheme://user:password@host`` (the password only; the last ``@`` of the authority ends it).
_URL_PASSWORD = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s/:@]*:([^\s/?#]+)@")
#: ``user:password@host.domain`` without a scheme (not ``mailto:``).
_BARE_PASSWORD = re.compile(
    r"(?<![\w:/.@%+-])(?!mailto:)[\w.%+-]{1,64}:([^\s/:@]{3,})@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
)
#: ``name = value``, ``name: value``, ``"name": "value"`` (the name judged by ``name_verdict``):
#: connection strings (``Password=x;``), query strings (``?token=x&``), env files, headers, YAML.
#: Only the name and the separator: ``_pair_value`` finds the value, so a pair with a neutral
#: name never swallows the secret pair after it.
_PAIR = re.compile(
    r"""(?<![A-Za-z0-9_.\-])(?P<key>[A-Za-z_][A-Za-z0-9_.\-]{0,63})"""
    r"""(?:(?P<eq>["']?[ \t]*=[ \t]*)|(?P<json>["'][ \t]*:[ \t]*)|(?P<colon>:[ \t]+))"""
)
_BARE_EQ = re.compile(r"[^\s;&,}\]\"']{1,4096}")
_BARE_JSON = re.compile(r"[^\s,}\]]{1,4096}")
_BARE_LINE = re.compile(r"[^\n]*[^\s]")
#: Runs of characters that random secrets are made of (base64, base64url).
_RUN = re.compile(r"[A-Za-z0-9+/=_-]{24,}")
#: Public material, shown: certificates, public keys (PEM) and SSH public keys. Masked before the
#: other shapes are looked for, so their base64 bodies do not pass for random secrets.
_PUBLIC = re.compile(
    r"-----BEGIN (?P<kind>CERTIFICATE|PUBLIC KEY|RSA PUBLIC KEY|X509 CRL|CERTIFICATE REQUEST"
    r"|PGP PUBLIC KEY BLOCK|SSH2 PUBLIC KEY)-----[A-Za-z0-9+/=\s\\]*?-----END (?P=kind)-----"
    r"|\b(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp(?:256|384|521)"
    r"|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) AAAA[A-Za-z0-9+/]+={0,3}"
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_DIGEST_PREFIX = re.compile(r"(?i)(?:sha(?:1|224|256|384|512)|md5)[:=-]$")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")

#: The longest random suffix a generated name carries (CloudFormation's are 12-13 characters).
_SUFFIX = 13
#: A run is random when this share of its letter pairs (or more) is uncommon ...
_RANDOM_SHARE = 0.35
#: ... over at least this many pairs ...
_MIN_PAIRS = 5
#: ... and it carries at least this much Shannon entropy per character (excludes ``aAaAaA``).
_MIN_ENTROPY = 3.0
_SEGMENT_SEPARATORS = re.compile(r"[/_+=-]")
#: Letter pairs common in English and in AWS names: the 220 most frequent in the documentation
#: and shape names of botocore's service models (about 95% of their letter pairs), plus a few of
#: AWS's own (web, api, log, db, sqs, aws, kms, dns, vpc, eks...). Random text hits them about one
#: time in three, names made of words nine times in ten.
_COMMON_PAIRS_TEXT = """
    ab ac ad ag ai al am an ap ar as at au av ay az ba be bl bo bu by ca cc cd ce ch ci ck
    cl co cr ct cu cy da db dd de di dn do ds du ea eb ec ed ee ef eg ek el em en ep eq er
    es et ev ew ex ey fa fe fi fl fn fo fr fy ga gb ge gi gr gs gu ha he hi ho ia ib ic id
    ie if ig il im in io ip ir is it iv iz je jo kb ke km ks la ld le li ll lo ls lt lu ly
    ma mb me mi mm mo mp ms na nc nd ne nf ng ni nn no np ns nt nv ob oc od of og oi ok ol
    om on oo op or os ot ou ov ow pa pc pd pe pi pl po pp pr ps pt pu qu ra rc rd re rg ri
    rk rm rn ro rr rs rt ru rv ry sa sc se sh si so sp sq ss st su ta tc te th ti to tp tr
    ts tt tu ty ua ub uc ud ue ui ul um un up ur us ut va ve vi vp wa we wh wi wo ws xc yo
    yp zo
"""
_COMMON_PAIRS = frozenset(_COMMON_PAIRS_TEXT.split())
#: Hex strings this long are keys (``secrets.token_hex``, HMAC keys, 32-hex API keys).
_HEX_SECRET = 32


def looks_secret(text: str) -> bool:
    """Whether ``text`` holds anything shaped like a secret (see ``redact_text``)."""
    return next(_spans(text), None) is not None


def redact_text(text: str) -> str:
    """``text`` with every secret-shaped part replaced by ``****``: for free text (status
    reasons, error messages, log lines), where there is no property name to go by.

    Shapes: AWS access key ids (``AKIA``/``ASIA`` + 16), 40-character secret access keys, PEM
    private keys (public keys and certificates are shown), JWTs, ``Bearer``/``Basic``
    credentials, GitHub/GitLab/Slack/Stripe/OpenAI/Google/npm/SendGrid tokens and Slack webhooks,
    URLs with ``user:password@``, ``Password=``/``pwd=``/``token=``-like pairs (the name is judged
    by ``name_verdict``), long random strings and long hex strings (``_random_runs``).
    """
    spans = sorted(_spans(text))
    if not spans:
        return text
    out, position = [], 0
    for start, end in spans:
        if end <= position:
            continue
        out.append(text[position : max(start, position)])
        out.append(REDACTED)
        position = end
    out.append(text[position:])
    return "".join(out)


def _spans(text: str, depth: int = 0) -> Iterator[tuple[int, int]]:
    """Where the secret shapes are. Private keys first; then public material and UUIDs are masked
    (by dots of the same length, so spans still point into ``text``)."""
    for match in _PEM.finditer(text):
        yield match.span()
    text = _UUID.sub(_dots, _PUBLIC.sub(_dots, text))
    for match in _TOKENS.finditer(text):
        yield match.span()
    for pattern in (_SCHEME, _URL_PASSWORD, _BARE_PASSWORD):
        for match in pattern.finditer(text):
            value = match.group(1)
            if pattern is not _SCHEME or not value.isalpha() or not value.islower():
                yield match.span(1)
    for match in _AWS_SECRET.finditer(text):
        value = match.group()
        if _has_classes(value, upper=True, lower=True, digit=True) and _mostly_uncommon(
            _SEGMENT_SEPARATORS.split(value)
        ):
            yield match.span()
    for match in _PAIR.finditer(text):
        verdict = name_verdict([match.group("key")])
        if verdict < Verdict.WEAK:
            continue
        span = _pair_value(text, match)
        if span is None:
            continue
        value = text[span[0] : span[1]]
        if value[:1] in ("{", "["):
            continue  # an object or a list: its own pairs are judged
        if verdict is Verdict.SECRET or not _enum_like(value):
            yield span
    yield from _random_runs(text, depth)


def _pair_value(text: str, match: re.Match[str]) -> tuple[int, int] | None:
    """Where the value of a ``name=value`` pair is: inside its quotes; else up to ``;&,}]`` or a
    space after ``=`` (connection and query strings), up to ``,}]`` or a space after a JSON
    ``":``, and to the end of the line after ``: `` (headers, YAML: a value may have spaces)."""
    start = match.end()
    if text[start : start + 1] in ("'", '"'):
        quote = text[start]
        end = start + 1
        while end < len(text) and text[end] != quote and text[end] != "\n":
            end += 2 if text[end] == "\\" else 1
        return (start + 1, min(end, len(text))) if end > start + 1 else None
    bare = _BARE_EQ if match.group("eq") else _BARE_JSON if match.group("json") else _BARE_LINE
    value = bare.match(text, start)
    return value.span() if value else None


def _random_runs(text: str, depth: int) -> Iterator[tuple[int, int]]:
    """Long runs of base64-ish characters that look random: secrets nobody named.

    A run is ``[A-Za-z0-9+/=_-]{24,}`` (dots and colons cut ARNs, hostnames and timestamps into
    parts), cut at ``/ _ + = -`` into segments. It is a secret when it cannot be read as a name:
    with or without one segment of up to 13 characters set aside (CloudFormation's generated names
    end in such a random suffix: ``app-Queue-1XQ4KLJ2M3N4O``, ``checkout-receipts-znzrzytvm2qx``),
    at least 35% of the letter pairs left are uncommon in English and AWS names (``_COMMON_PAIRS``;
    a digit next to a letter is uncommon, a CamelCase boundary is not judged), over 5 pairs or
    more; and the run has 3 bits of entropy per character or more (not ``aAaAaA...``).
    Names made of words sit far below 35%, random text near 70%. Measured over 10,000 keys each:
    random 24-character keys (base64, base64url, ``secrets.token_urlsafe(18)``) are caught 99
    times in 100, base62 and base36 ones 999 in 1,000, 32-character keys 999 in 1,000, 40+ all;
    what slips through reads like words by chance. Over 25,000 generated names (AWS shape names and
    words, with and without a generated suffix) about one in 25,000 is hidden.
    (``test_recall_of_random_keys`` keeps these numbers honest with fixed seeds.)

    Not secrets: UUIDs (resource ids everywhere; a UUID-shaped secret needs a secret name), hex
    segments of 8-31 characters (``sg-0a1b2c3d4e5f6a7b8``), and base64 that decodes to text with
    whitespace (EC2 ``UserData``, inline scripts): that text is judged instead, so a script holding
    ``DB_PASSWORD=...`` is still hidden. Hex strings of 32+ characters are secrets
    (``secrets.token_hex``, HMAC keys, 32-hex API keys), except digests (``sha256:...``) and file
    names (CDK asset ``<sha256>.zip``); so a bare git SHA or SAM's bare-md5 artifact key is hidden:
    a cost accepted to never show a hex key.
    """
    for match in _RUN.finditer(text):
        run, start, end = match.group(), match.start(), match.end()
        segments = [s for s in _SEGMENT_SEPARATORS.split(run) if s]
        hexes = any(len(s) >= _HEX_SECRET and _HEX.fullmatch(s) for s in segments)
        if hexes and not _digest(text, start, end):
            yield start, end
            continue
        if (
            _unreadable(segments)
            and _entropy(run) >= _MIN_ENTROPY
            and not _encoded_text(run, depth)
        ):
            yield start, end


def _dots(match: re.Match[str]) -> str:
    return "." * len(match.group())


def _unreadable(segments: list[str]) -> bool:
    """No reading as a name: neither the whole run nor the run without one short segment (a
    generated suffix) is made of common letter pairs."""
    counts = [_pair_counts(s) for s in segments]
    uncommon, judged = sum(u for u, _ in counts), sum(j for _, j in counts)
    readings = [(uncommon, judged)] + [
        (uncommon - u, judged - j)
        for s, (u, j) in zip(segments, counts, strict=True)
        if len(s) <= _SUFFIX
    ]
    return all(j >= _MIN_PAIRS and u >= _RANDOM_SHARE * j for u, j in readings)


def _mostly_uncommon(segments: list[str]) -> bool:
    counts = [_pair_counts(s) for s in segments]
    uncommon, judged = sum(u for u, _ in counts), sum(j for _, j in counts)
    return judged >= _MIN_PAIRS and uncommon >= _RANDOM_SHARE * judged


def _pair_counts(segment: str) -> tuple[int, int]:
    """(uncommon, judged) letter pairs of a segment."""
    if len(segment) >= 8 and _HEX.fullmatch(segment):
        return 0, 0  # a resource id (sg-0a1b2c3d4e5f6a7b8); 32+ hex is the hex rule's
    uncommon = judged = 0
    for a, b in itertools.pairwise(segment):
        if a.islower() and b.isupper():
            continue  # a CamelCase word boundary: any pair of letters meets there
        judged += 1
        if a.isdigit() and b.isdigit():
            continue  # numbers: account ids, dates
        if a.isdigit() != b.isdigit() or (a + b).lower() not in _COMMON_PAIRS:
            uncommon += 1
    return uncommon, judged


def _entropy(text: str) -> float:
    counts, total = Counter(text), len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def _digest(text: str, start: int, end: int) -> bool:
    """A hex run that is a digest: ``sha256:<hex>``, ``@sha256:<hex>``, or a file name
    ``<hex>.zip``."""
    return bool(_DIGEST_PREFIX.search(text[max(0, start - 8) : start])) or bool(
        re.match(r"\.[A-Za-z][A-Za-z0-9]{0,5}\b", text[end : end + 8])
    )


def _encoded_text(run: str, depth: int) -> bool:
    """Whether ``run`` is base64 of readable text with whitespace (a script, a document) that
    holds no secret itself. Base64 of a single word (``dXNlcjpwYXNz`` = ``user:pass``) is not
    text: it is how credentials get encoded."""
    if depth >= 2 or not _BASE64.fullmatch(run):
        return False
    padded = run + "=" * (-len(run) % 4)
    try:
        decoded = base64.b64decode(padded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    printable = sum(c.isprintable() or c in "\n\r\t" for c in decoded)
    if printable < len(decoded) or not any(c.isspace() for c in decoded.strip()):
        return False
    return next(_spans(decoded, depth + 1), None) is None


def _has_classes(value: str, *, upper: bool, lower: bool, digit: bool) -> bool:
    return (
        (not upper or any(c.isupper() for c in value))
        and (not lower or any(c.islower() for c in value))
        and (not digit or any(c.isdigit() for c in value))
    )


# =========================================================================== the redactor
#: Fields that carry the name of their sibling ``Value``: tags (``Key``), ECS, CodeBuild and
#: Batch environment entries (``Name``), RDS and ElastiCache parameters, Beanstalk options.
_LABELS = ("Key", "Name", "ParameterName", "OptionName", "key", "name")
_VALUES = ("Value", "value", "ParameterValue")
#: The properties that hold the value of a resource named like a secret (``/Value`` of the SSM
#: parameter ``/app/db-password``, of an ``AWS::ApiGateway::ApiKey``).
_RESOURCE_VALUES = frozenset({"Value", "SecretString", "SecretBinary", "SecureStringValue"})
#: Resource types whose ``/Value`` is a secret whatever their name.
_SECRET_TYPES = frozenset({"AWS::ApiGateway::ApiKey"})
_MAX_DEPTH = 4


@dataclass(frozen=True)
class ResourceRef:
    """The resource a value belongs to: its names (judged by ``name_verdict`` for its
    ``/Value``), its type, and its whole property documents, where a value that comes without its
    name finds it (``/Tags/1/Value`` → the ``Key`` of ``Tags[1]``)."""

    logical_id: str
    physical_id: str | None = None
    resource_type: str = ""
    #: DescribeStackResourceDrifts' ``ExpectedProperties`` and ``ActualProperties``, parsed.
    properties: tuple[Mapping[str, Any], ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def from_drift(cls, drift: Mapping[str, Any]) -> ResourceRef:
        """From one ``StackResourceDrifts`` entry (its property documents included)."""
        documents = []
        for key in ("ExpectedProperties", "ActualProperties"):
            try:
                document = json.loads(drift.get(key) or "null")
            except ValueError:
                continue
            if isinstance(document, Mapping):
                documents.append(document)
        return cls(
            logical_id=str(drift.get("LogicalResourceId", "")),
            physical_id=drift.get("PhysicalResourceId"),
            resource_type=str(drift.get("ResourceType", "")),
            properties=tuple(documents),
        )

    @classmethod
    def from_change(
        cls, resource_change: Mapping[str, Any], properties: Iterable[Mapping[str, Any]] = ()
    ) -> ResourceRef:
        """From a change set's ``ResourceChange``. A change carries no property documents: pass
        the drift report's for the same logical id (``ResourceRef.from_drift(...).properties``)
        if the change's paths go into list elements (``/Tags/1/Value``); without them, such a
        value's name is unknown and it is shown only if it is a plain enum word."""
        return cls(
            logical_id=str(resource_change.get("LogicalResourceId", "")),
            physical_id=resource_change.get("PhysicalResourceId"),
            resource_type=str(resource_change.get("ResourceType", "")),
            properties=tuple(properties),
        )

    def name_verdict(self) -> Verdict:
        """What the resource's names say (logical id; physical id cut at ``/`` and ``:``)."""
        names = [self.logical_id, *re.split(r"[/:]", self.physical_id or "")]
        return max((_segment_verdict(n) for n in names if n), default=Verdict.NEUTRAL)


def drift_path(property_path: str) -> str:
    """A drift report's ``PropertyPath`` (``/Tags/1/Value``) in the Redactor's form: the same,
    with a leading ``/``."""
    path = property_path.strip()
    return path if path.startswith("/") else "/" + path


def change_path(target: Mapping[str, Any]) -> str:
    """A change's ``Target`` as a property path: its ``Path`` without ``/Properties``
    (``/Properties/Value`` → ``/Value``). ``Name`` is only the top-level property: the fallback
    when ``Path`` is missing (``/`` + Name; ``/Tags`` for the Tags attribute)."""
    path = str(target.get("Path") or "")
    if path:
        if path == "/Properties" or path.startswith("/Properties/"):
            path = path[len("/Properties") :]
        return drift_path(path) if path else ""
    if target.get("Name"):
        return "/" + str(target["Name"])
    return "/Tags" if target.get("Attribute") == "Tags" else ""


@dataclass(frozen=True)
class Redactor:
    """Hides secret values, by name, by value shape and by provenance.

    ``hide_all`` (the ``HIDE_VALUES`` setting) hides every value and keeps only paths.
    ``secrets`` (``provenance.secret_paths``) says which properties come from NoEcho parameters
    and secret dynamic references. Frozen and pure: build one per heal, use it everywhere.
    """

    hide_all: bool = False
    secrets: SecretPaths = field(default_factory=SecretPaths)

    # ----------------------------------------------------------------------- public
    def value(self, value: str | None, path: str, resource: ResourceRef) -> str | None:
        """A property value as it may be shown: itself, ``****``, or its JSON with the secrets
        inside replaced by ``****``. ``path`` is relative to ``Properties`` (``drift_path`` /
        ``change_path``). None stays None, so "(none)" still says a value is missing."""
        if value is None:
            return None
        if self.hide_all:
            return REDACTED
        real = _split(path)
        names = self._names(real, resource)
        result = self._string(value, _Site(resource, real, names), 0)
        return result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)

    def change_detail(self, detail: Mapping[str, Any], resource: ResourceRef) -> dict[str, Any]:
        """A change set's ``Details[]`` entry with ``Target.BeforeValue``, ``AfterValue`` and
        ``Drift.PreviousValue``/``ActualValue`` redacted (by ``Target.Path``, not ``Name``).
        Every value is hidden when the change comes from a NoEcho parameter
        (``ChangeSource: ParameterReference``, ``CausingEntity`` one of them)."""
        target = dict(detail.get("Target") or {})
        path = change_path(target)
        caused = str(detail.get("CausingEntity") or "") in self.secrets.parameters
        redactor = Redactor(hide_all=True) if caused else self
        for key in ("BeforeValue", "AfterValue"):
            if key in target:
                target[key] = redactor.value(target[key], path, resource)
        drift = target.get("Drift")
        if isinstance(drift, Mapping):
            target["Drift"] = {
                k: redactor.value(v, path, resource)
                if k in ("PreviousValue", "ActualValue") and isinstance(v, str | None)
                else v
                for k, v in drift.items()
            }
        return {**detail, "Target": target}

    def text(self, text: str) -> str:
        """Free text by value shape (``redact_text``): names and paths are not known there."""
        return redact_text(text)

    # ----------------------------------------------------------------------- inside
    def _names(self, real: tuple[str, ...], resource: ResourceRef) -> tuple[tuple[str, ...], ...]:
        """The path's names: the path itself and, for each property document, the path with each
        ``Value`` segment replaced by its sibling label (``/Tags/1/Value`` → ``/Tags/1/api-token``
        when ``Tags[1].Key`` is ``api-token``). Documents disagree when tags moved: all count."""
        variants = {real}
        labelled: set[int] = set()
        for document in resource.properties:
            node: Any = document
            variant = list(real)
            for i, segment in enumerate(real):
                if isinstance(node, Mapping):
                    label = _label(node)
                    if label is not None and segment in _VALUES:
                        variant[i] = label
                        labelled.add(i)
                    node = node.get(segment)
                elif isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
                    node = node[int(segment)]
                else:
                    break
            variants.add(tuple(variant))
        # A list element's Value whose name (its sibling Key/Name) no document gave: unknown.
        for i, segment in enumerate(real):
            if segment in _VALUES and i > 0 and real[i - 1].isdigit() and i not in labelled:
                variants.add((*real[:i], _UNKNOWN_NAME, *real[i + 1 :]))
        return tuple(sorted(variants))

    def _verdict(self, site: _Site) -> Verdict:
        resource = site.resource
        if self.secrets.covers(resource.logical_id, "/".join(site.real)):
            return Verdict.SECRET
        verdict = max(name_verdict(n) for n in site.names)
        if not site.real or site.real[0] in _RESOURCE_VALUES:  # no path known: as for /Value
            if resource.resource_type in _SECRET_TYPES:
                return Verdict.SECRET
            owner = resource.name_verdict()
            if owner in (Verdict.SECRET, Verdict.WEAK):
                verdict = max(verdict, owner)
        return verdict

    def _string(self, value: str, site: _Site, depth: int) -> Any:
        """A string value: JSON inside it is walked; else it is judged as a whole."""
        stripped = value.strip()
        if stripped[:1] in ("{", "[") and depth < _MAX_DEPTH:
            try:
                parsed = json.loads(stripped)
            except (ValueError, RecursionError):
                parsed = None
            if isinstance(parsed, dict | list):
                try:
                    walked, changed = self._node(parsed, site, depth + 1)
                except RecursionError:
                    return REDACTED  # nested too deep to walk: hidden rather than unread
                if not changed:
                    return value
                return json.dumps(walked, ensure_ascii=False, separators=(",", ":"))
            # JSON-looking but not JSON (CloudFormation truncates large values): names cannot be
            # placed, so any secret word or shape in it hides all of it.
            if self._leaf_hidden(value, site) or _any_secret_word(value):
                return REDACTED
            return value
        return REDACTED if self._leaf_hidden(value, site) else value

    def _leaf_hidden(self, value: str, site: _Site) -> bool:
        if value == "":
            return False  # no secret is empty
        if self.secrets.covers(site.resource.logical_id, "/".join(site.real)):
            return True  # from a NoEcho parameter or a secret reference, whatever it looks like
        if value.lower() in ("true", "false"):
            return False  # a boolean under a secret name is a setting (IsValueSecret: true)
        verdict = self._verdict(site)
        if verdict is Verdict.SECRET:
            return True
        if verdict is Verdict.WEAK and not _enum_like(value):
            return True
        if self.secrets.below(site.resource.logical_id, "/".join(site.real)):
            return True  # a secret lies inside this value, and it is not JSON we can walk
        return looks_secret(value)

    def _node(self, node: Any, site: _Site, depth: int) -> tuple[Any, bool]:
        """Walk parsed JSON: (the node with its secret leaves replaced, whether any was)."""
        if isinstance(node, dict):
            if any(looks_secret(str(k)) for k in node):
                return REDACTED, True
            label = _label(node)
            out: dict[str, Any] = {}
            changed = False
            for key, child in node.items():
                shown = label if label is not None and key in _VALUES else key
                out[key], hit = self._node(child, site.child(key, shown), depth)
                changed = changed or hit
            return out, changed
        if isinstance(node, list):
            items = [self._node(c, site.child(str(i), str(i)), depth) for i, c in enumerate(node)]
            return [item for item, _ in items], any(hit for _, hit in items)
        if isinstance(node, str):
            result = self._string(node, site, depth)
            return result, result != node
        if node is None or isinstance(node, bool):
            covered = node is not None and self.secrets.covers(
                site.resource.logical_id, "/".join(site.real)
            )
            return (REDACTED, True) if covered else (node, False)
        hidden = self._verdict(site) is Verdict.SECRET  # numbers: a PIN, a port of a secret
        return (REDACTED, True) if hidden else (node, False)


@dataclass(frozen=True)
class _Site:
    """Where a value sits: its resource, its real path (for provenance), its name paths."""

    resource: ResourceRef
    real: tuple[str, ...]
    names: tuple[tuple[str, ...], ...]

    def child(self, real: str, shown: str) -> _Site:
        return _Site(self.resource, (*self.real, real), tuple((*n, shown) for n in self.names))


def _label(node: Mapping[str, Any]) -> str | None:
    if not any(v in node for v in _VALUES):
        return None
    return next((str(node[k]) for k in _LABELS if isinstance(node.get(k), str)), None)


def _split(path: str) -> tuple[str, ...]:
    return tuple(s.replace("~1", "/").replace("~0", "~") for s in path.split("/") if s)


_WORDISH = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*")


def _any_secret_word(text: str) -> bool:
    return any(
        _segment_verdict(w) in (Verdict.SECRET, Verdict.WEAK) for w in _WORDISH.findall(text)
    )


# =========================================================================== logging
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({})))


class RedactingFilter(logging.Filter):
    """A logging filter that runs ``redact_text`` over a record's message, arguments and extra
    fields (strings, and strings inside dicts and lists), so no log line carries a secret shape.
    Add it to a logger (``logger.addFilter(RedactingFilter())``) or to a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_scrub(a) for a in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {k: _scrub(v) for k, v in record.args.items()}
        for key, value in list(vars(record).items()):
            if key not in _RECORD_FIELDS:
                setattr(record, key, _scrub(value))
        return True


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v) for v in value)
    return value


# =========================================================================== the old API
def is_sensitive(property_path: str, resource_name: str = "") -> bool:
    """Whether a property's values are hidden by name alone: its path
    (``/MasterUserPassword``), or, for ``/Value``, the resource's names (``/app/db-password``;
    ``resource_name`` may hold several, separated by spaces). Kept for existing callers; new code
    uses ``Redactor``."""
    if name_verdict(_split(property_path)) >= Verdict.WEAK:
        return True
    if not property_path.startswith("/Value"):
        return False
    return any(
        ResourceRef(logical_id="", physical_id=name).name_verdict() >= Verdict.WEAK
        for name in resource_name.split()
    )


def redact(value: str | None, property_path: str, resource_name: str = "") -> str | None:
    """``value`` as it may be shown (kept for existing callers; new code uses ``Redactor``):
    hidden by name and by shape, JSON redacted inside. ``resource_name`` is
    ``"<logical id> <physical id>"``."""
    logical, _, physical = resource_name.partition(" ")
    resource = ResourceRef(logical_id=logical, physical_id=physical or None)
    return Redactor().value(value, drift_path(property_path), resource)
