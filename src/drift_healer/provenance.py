"""Which property values of a stack come from secrets: NoEcho parameters and dynamic references.

A value can be secret whatever its name and shape: ``Value: !Ref DbPassword`` where the parameter
``DbPassword`` is ``NoEcho``, or ``Pwd: '{{resolve:secretsmanager:db:SecretString:pw}}'``.
Only the stack's template says so. ``secret_paths`` reads it and answers with ``SecretPaths``:
(logical id, property path) pairs whose values, and every value below them, must be hidden.
The answer holds names only, never a value: it is safe to checkpoint (``to_json``/``from_json``).

Where the template comes from: ``GetTemplate`` (``TemplateStage="Processed"``, the default)
returns the template as it was submitted when it has no transforms, so a YAML template comes back
as YAML text; boto3 decodes a JSON body into a dict by itself and leaves any other body a string.
The Lambda has no YAML parser, and a tag-tolerant one (``!Ref``, ``!Sub``) is not worth writing
for this: a template given as text that is not JSON is read conservatively by ``_text_paths``
(every value of a resource whose block mentions a NoEcho parameter or a secret dynamic reference
is hidden). Pure: no I/O, standard library only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ALL",
    "SECRET_DYNAMIC_REFERENCES",
    "SecretPaths",
    "no_echo_parameters",
    "secret_paths",
]

#: Stands for "every resource" (as a logical id) or "every index of a list" (as a path segment).
ALL = "*"
#: Dynamic references whose resolved value is a secret. ``{{resolve:ssm:...}}`` (plain String
#: parameters) is not one: CloudFormation shows those values itself.
SECRET_DYNAMIC_REFERENCES = ("{{resolve:ssm-secure:", "{{resolve:secretsmanager:")
#: How DescribeStacks shows the value of a NoEcho parameter.
NO_ECHO_VALUE = "****"


@dataclass(frozen=True)
class SecretPaths:
    """Property paths whose values come from secrets, per resource.

    ``paths`` holds (logical id, path) pairs. A path is ``/``-separated and relative to the
    resource's ``Properties`` (``/MasterUserPassword``, ``/Tags/*/Value``), the form of
    DescribeStackResourceDrifts' ``PropertyPath``; ``*`` matches any list index (templates and
    drift reports need not list a tag or an environment entry at the same index); the empty path
    means every value of the resource, and the logical id ``*`` every resource. ``parameters``
    names the NoEcho parameters (a change set's ``CausingEntity`` can be one).
    """

    paths: frozenset[tuple[str, str]] = frozenset()
    parameters: frozenset[str] = frozenset()

    def covers(self, logical_id: str, path: str) -> bool:
        """Whether the value at ``path`` of the resource comes from a secret (it is at or below
        a secret path)."""
        segments = _segments(path)
        return any(
            len(pattern) <= len(segments) and _match(pattern, segments)
            for pattern in self._patterns(logical_id)
        )

    def below(self, logical_id: str, path: str) -> bool:
        """Whether a secret value lies strictly inside the value at ``path`` (the value is an
        object or a list holding one, e.g. a change's whole ``/Environment``)."""
        segments = _segments(path)
        return any(
            len(pattern) > len(segments) and _match(pattern, segments)
            for pattern in self._patterns(logical_id)
        )

    def _patterns(self, logical_id: str) -> list[tuple[str, ...]]:
        return [_segments(p) for lid, p in self.paths if lid in (logical_id, ALL)]

    def to_json(self) -> dict[str, list[Any]]:
        """Plain JSON (names only, no value), to checkpoint."""
        return {
            "Paths": [list(pair) for pair in sorted(self.paths)],
            "Parameters": sorted(self.parameters),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SecretPaths:
        """The inverse of ``to_json``."""
        return cls(
            paths=frozenset((str(lid), str(path)) for lid, path in data.get("Paths", [])),
            parameters=frozenset(str(p) for p in data.get("Parameters", [])),
        )


def no_echo_parameters(parameters: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """Names of the NoEcho parameters among DescribeStacks' ``Parameters``: CloudFormation shows
    their value as ``****``. (A parameter whose real value is ``****`` counts too: harmless.)"""
    return frozenset(
        str(p["ParameterKey"])
        for p in parameters
        if p.get("ParameterKey") and p.get("ParameterValue") == NO_ECHO_VALUE
    )


def secret_paths(
    template: Mapping[str, Any] | str | None, no_echo: Iterable[str] = ()
) -> SecretPaths:
    """The properties of ``template`` whose values come from a NoEcho parameter (``Ref``, a
    ``${Name}`` in ``Fn::Sub``, anywhere inside an intrinsic function) or from a secret dynamic
    reference. ``no_echo`` names NoEcho parameters (``no_echo_parameters``); the template's own
    ``NoEcho: true`` declarations are added.

    ``template`` is the parsed template (a dict), or its body as text: JSON text is parsed, any
    other text (YAML) is read conservatively (``_text_paths``). Without a template nothing can be
    located: if NoEcho parameters exist every value of every resource is then hidden, else nothing
    is (names and shapes still are; dynamic references cannot be seen without the template).
    """
    names = set(no_echo)
    if isinstance(template, str):
        try:
            parsed = json.loads(template)
        except ValueError:
            return _text_paths(template, names)
        template = parsed if isinstance(parsed, Mapping) else None
    if template is None:
        return SecretPaths(frozenset({(ALL, "")}) if names else frozenset(), frozenset(names))

    parameters = template.get("Parameters")
    if isinstance(parameters, Mapping):
        names |= {
            str(name)
            for name, declaration in parameters.items()
            if isinstance(declaration, Mapping) and _true(declaration.get("NoEcho"))
        }
    found: set[tuple[str, str]] = set()
    resources = template.get("Resources")
    if isinstance(resources, Mapping):
        for logical_id, resource in resources.items():
            if not isinstance(resource, Mapping):
                continue
            properties = resource.get("Properties")
            if _intrinsic(properties) and _mentions(properties, names):
                found.add((str(logical_id), ""))  # the whole property set is computed
            elif isinstance(properties, Mapping):
                for path in _walk(properties, (), names):
                    found.add((str(logical_id), "/" + "/".join(path)))
    return SecretPaths(frozenset(found), frozenset(names))


# --------------------------------------------------------------------------- parsed templates
def _walk(node: Any, path: tuple[str, ...], names: set[str]) -> Iterable[tuple[str, ...]]:
    """The paths under ``node`` whose value comes from a secret. An intrinsic function is not
    followed inside (``Fn::If`` branches, ``Fn::Join`` lists do not map to property paths): the
    path where it stands is secret as a whole. List indices become ``*``."""
    if _intrinsic(node) or isinstance(node, str):
        if _mentions(node, names):
            yield path
    elif isinstance(node, Mapping):
        for key, child in node.items():
            yield from _walk(child, (*path, str(key)), names)
    elif isinstance(node, list):
        for child in node:
            yield from _walk(child, (*path, ALL), names)


def _intrinsic(node: Any) -> bool:
    return (
        isinstance(node, Mapping)
        and len(node) == 1
        and any(str(k) == "Ref" or str(k).startswith("Fn::") for k in node)
    )


def _mentions(node: Any, names: set[str]) -> bool:
    """Whether ``node`` (anything in a template) refers to a NoEcho parameter or holds a secret
    dynamic reference: a ``Ref`` to one, a ``${Name}`` in any string (``Fn::Sub``), or
    ``{{resolve:ssm-secure:`` / ``{{resolve:secretsmanager:`` in any string."""
    if isinstance(node, str):
        return any(ref in node for ref in SECRET_DYNAMIC_REFERENCES) or any(
            re.search(r"\$\{\s*" + re.escape(name) + r"\s*\}", node) for name in names
        )
    if isinstance(node, Mapping):
        ref = node.get("Ref")
        if isinstance(ref, str) and ref in names:
            return True
        return any(_mentions(child, names) for child in node.values())
    if isinstance(node, list):
        return any(_mentions(child, names) for child in node)
    return False


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


# --------------------------------------------------------------------------- text templates
_TOP_KEY = re.compile(r"""^(["']?)([A-Za-z][\w:]*)\1\s*:""")
_NO_ECHO = re.compile(r"""["']?NoEcho["']?\s*:\s*["']?true\b""", re.IGNORECASE)


def _text_paths(body: str, no_echo: set[str]) -> SecretPaths:
    """A template given as text we cannot parse (YAML): find the blocks of ``Parameters`` and
    ``Resources`` by indentation, take the parameters whose block says ``NoEcho: true``, and hide
    every value of each resource whose block mentions a NoEcho parameter's name (as a whole word:
    ``!Ref DbPassword``, ``${DbPassword}``) or a secret dynamic reference. If the resources cannot
    be told apart (flow style, an unusual layout) and the text holds such a mention anywhere, every
    resource is hidden. Coarse on purpose: it never shows a value it should have hidden; it may hide
    a few it need not."""
    sections = _sections(body)
    names = set(no_echo)
    parameters = sections.get("Parameters", "")
    declarations = _blocks(parameters)
    names |= {name for name, text in declarations.items() if _NO_ECHO.search(text)}
    placed = sum(len(_NO_ECHO.findall(text)) for text in declarations.values())
    if len(_NO_ECHO.findall(parameters)) > placed:
        # A NoEcho parameter we cannot name (flow style, an unusual layout): hide everything.
        return SecretPaths(frozenset({(ALL, "")}), frozenset(names))

    def mentions(text: str) -> bool:
        return any(ref in text for ref in SECRET_DYNAMIC_REFERENCES) or any(
            re.search(r"(?<![A-Za-z0-9])" + re.escape(name) + r"(?![A-Za-z0-9])", text)
            for name in names
        )

    resources = sections.get("Resources")
    blocks = _blocks(resources) if resources is not None else {}
    if not blocks:
        everywhere = frozenset({(ALL, "")}) if mentions(body) or names else frozenset()
        return SecretPaths(everywhere, frozenset(names))
    found = frozenset((logical_id, "") for logical_id, text in blocks.items() if mentions(text))
    return SecretPaths(found, frozenset(names))


def _sections(body: str) -> dict[str, str]:
    """The top-level sections of a YAML document: key at column 0 → the text under it."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in body.splitlines():
        top = _TOP_KEY.match(line)
        if top:
            current = sections.setdefault(top.group(2), [])
            current.append(line[top.end() :])  # a flow-style value on the key's own line
        elif current is not None:
            current.append(line)
    return {name: "\n".join(lines) for name, lines in sections.items()}


def _blocks(section: str) -> dict[str, str]:
    """The entries of a block mapping: key (at the first entry's indentation) → its text."""
    blocks: dict[str, list[str]] = {}
    indent: int | None = None
    current: list[str] | None = None
    for line in section.splitlines():
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        depth = len(line) - len(stripped)
        if indent is None:
            if depth == 0:
                continue  # text on the section key's own line (flow style): no blocks
            indent = depth
        if depth == indent:
            entry = _TOP_KEY.match(stripped)
            if entry is None:
                return {}  # not a block mapping (a sequence, a flow mapping): unknown layout
            current = blocks.setdefault(entry.group(2), [])
            current.append(stripped[entry.end() :])
        elif depth > indent and current is not None:
            current.append(line)
        elif depth < indent:
            return {}  # less indented than the first entry: unknown layout
    return {name: "\n".join(lines) for name, lines in blocks.items()}


def _segments(path: str) -> tuple[str, ...]:
    return tuple(s for s in path.split("/") if s)


def _match(pattern: tuple[str, ...], segments: tuple[str, ...]) -> bool:
    return all(p in (ALL, s) for p, s in zip(pattern, segments, strict=False))
