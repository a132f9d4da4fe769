"""Rego modules as the engine sees them: a named source, its package, the gate it defines,
the test rules it holds, and the digest of a set of modules.

Reading a package or a rule name needs no parser: comments and string contents are blanked
first (`code_only`), so a `package` or `test_` inside a string or a comment is never taken for
code. Everything else about a module is left to the engine.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "GATE_PACKAGE_PREFIX",
    "PolicyModule",
    "code_only",
    "find_test_rules",
    "gate_name",
    "module_package",
    "policy_digest",
    "unsupported_constructs",
]

GATE_PACKAGE_PREFIX = "lockgate.gates."

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_PACKAGE = re.compile(rf"^[ \t]*package[ \t]+({_NAME}(?:\.{_NAME})*)[ \t]*$", re.MULTILINE)
_GATE = re.compile(r"[a-z][a-z0-9_]*")
_TEST_RULE = re.compile(r"^((?:todo_)?test_[A-Za-z0-9_]*)\b", re.MULTILINE)
# Replacing the whole input (`with input as x`) crashes rego-cpp 1.5 when the rule under test
# is a set, an object or a comprehension (see the package docstring); fields are fine.
_WHOLE_INPUT_WITH = re.compile(r"\bwith\s+input\s+as\b")
# `with input.<field> as <value>` sees an undefined value when <value> is a reference to a
# rule or an import (rego-cpp 1.5); literals, local variables and function arguments work.
_INPUT_FIELD_WITH = re.compile(rf"\bwith\s+input\.[^\s]+\s+as\s+({_NAME}(?:\.{_NAME})*)(?![\w(])")
_RULE_HEAD = re.compile(
    rf"^(?:default\s+)?({_NAME})\s*(?::=|=|\bif\b|\bcontains\b|\{{|\[|\()", re.MULTILINE
)
_IMPORT = re.compile(
    rf"^[ \t]*import[ \t]+((?:data|input)(?:\.{_NAME})*)(?:[ \t]+as[ \t]+({_NAME}))?", re.MULTILINE
)


@dataclass(frozen=True, slots=True)
class PolicyModule:
    """One Rego module.

    `name` is unique within a policy set and appears in error locations (`name:line:col`);
    `origin` is what a gate result names as its source: `builtin` or
    `project:<policy>@<version>`.
    """

    name: str
    source: str
    origin: str = "builtin"


def code_only(source: str) -> str:
    """The source with comments and the contents of string literals blanked (newlines kept),
    so that line-based patterns only ever match code."""
    out: list[str] = []
    index, length = 0, len(source)
    while index < length:
        char = source[index]
        if char == "#":
            end = source.find("\n", index)
            end = length if end == -1 else end
            out.append(" " * (end - index))
            index = end
        elif char in '"`':
            end = _string_end(source, index)
            out.append(char + "".join("\n" if c == "\n" else " " for c in source[index + 1 : end]))
            index = end
        else:
            out.append(char)
            index += 1
    return "".join(out)


def _string_end(source: str, start: int) -> int:
    """The index just past the string literal opening at `start` (or the end of the line for
    an unterminated double-quoted string, which the engine reports as a parse error)."""
    quote = source[start]
    index = start + 1
    while index < len(source):
        char = source[index]
        if quote == '"' and char == "\\":
            index += 2
            continue
        if char == quote:
            return index + 1
        if quote == '"' and char == "\n":
            return index
        index += 1
    return len(source)


def module_package(source: str) -> str | None:
    """The dotted package a module declares, or None when it declares none (or an unusual
    one, such as a quoted path segment)."""
    match = _PACKAGE.search(code_only(source))
    return match.group(1) if match else None


def gate_name(package: str | None) -> str | None:
    """The gate a package defines: `lockgate.gates.<gate>`, lower case; `<gate>_test`
    packages hold tests, not a gate."""
    if package is None or not package.startswith(GATE_PACKAGE_PREFIX):
        return None
    gate = package.removeprefix(GATE_PACKAGE_PREFIX)
    if not _GATE.fullmatch(gate) or gate.endswith("_test"):
        return None
    return gate


def find_test_rules(source: str) -> list[str]:
    """The test rules a module defines (`test_*`, and `todo_test_*` for skipped ones), in
    order of first definition; a rule defined in several bodies is one test."""
    names: list[str] = []
    for match in _TEST_RULE.finditer(code_only(source)):
        if match.group(1) not in names:
            names.append(match.group(1))
    return names


def unsupported_constructs(source: str) -> list[str]:
    """Why the engine refuses a module before running it (empty when it does not): the uses
    of `with` that rego-cpp 1.5 gets wrong (see the package docstring)."""
    problems: list[str] = []
    code = code_only(source)
    for match in _WHOLE_INPUT_WITH.finditer(code):
        problems.append(
            f"line {_line(code, match.start())}: `with input as ...` (replacing the whole "
            "input) crashes the Rego engine; replace fields instead, e.g. "
            "`with input.request as {...}`"
        )
    globals_ = _global_names(code)
    for match in _INPUT_FIELD_WITH.finditer(code):
        value = match.group(1)
        if value.split(".")[0] in globals_:
            problems.append(
                f"line {_line(code, match.start())}: `with input.<field> as {value}`: the Rego "
                "engine reads a rule or an import there as undefined; bind it to a local "
                f"variable first (`x := {value}`, then `with ... as x`)"
            )
    return problems


def _line(code: str, offset: int) -> int:
    return code.count("\n", 0, offset) + 1


def _global_names(code: str) -> set[str]:
    """Names a module defines or imports at its top level (rules, functions, imports)."""
    names = {"data", "input"}
    names.update(match.group(1) for match in _RULE_HEAD.finditer(code))
    for match in _IMPORT.finditer(code):
        names.add(match.group(2) or match.group(1).split(".")[-1])
    names.discard("package")
    names.discard("import")
    return names


def policy_digest(modules: Iterable[PolicyModule]) -> str:
    """sha256 of the canonical JSON of `[[name, source], ...]` sorted by name: names and
    sources, nothing else, so the same policies always give the same digest."""
    pairs = sorted([module.name, module.source] for module in modules)
    text = json.dumps(pairs, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
