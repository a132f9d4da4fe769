"""The policy engine's sandbox: a short-lived process that loads Rego modules into one regopy
interpreter and answers queries, one JSON line per answer.

It runs as a script (`python -I worker.py`), never imported by the server, because rego-cpp can
crash the whole process on some valid policies (see the package docstring) and a policy can
loop for a long time; the parent (`sandbox.py`) survives both and fails closed. Only the
standard library and regopy are imported here.

Protocol: one JSON request on stdin `{"modules": [[name, source], ...], "input": doc|null,
"queries": [[key, query], ...]}`; on the original stdout, JSON lines
`{"kind": "module", "name", "error"}` for each module that failed to load, `{"kind":
"ready"}`, then one `{"kind": "answer", "key", "status": "value"|"undefined"|"error",
"value"|"error"}` per query in order, then `{"kind": "done"}`. File descriptor 1 is pointed at
/dev/null first, so the library's own printing and Rego's `print()` never corrupt the stream.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import IO, Any

# rego-cpp reports errors as length-prefixed s-expressions, e.g.
# `(error 8:bad.rego|58|1 (errormsg 24:Invalid boolean operator) ... (rego-errorcode))`.
_ERROR_AT = re.compile(r"\(error (\d+):")
_MESSAGE_AT = re.compile(r"\(errormsg (\d+):")
_ERROR_NODE = 1800
_ERROR_MESSAGE_NODE = 1801
_ERROR_CODE_NODE = 1803
_ERROR_SEQ_NODE = 1804


def _length_prefixed(text: str, start: int) -> tuple[str, int]:
    """The `N:` prefixed string at `start` (just after the digits' match) and its end."""
    match = re.match(r"(\d+):", text[start:])
    if match is None:
        return "", start
    begin = start + match.end()
    end = begin + int(match.group(1))
    return text[begin:end], end


def _location(sources: dict[str, str], where: str) -> str:
    """`file:line:col` from rego-cpp's `file|offset|length` (the offset counts UTF-8 bytes)."""
    name, _, rest = where.partition("|")
    offset_text = rest.partition("|")[0]
    source = sources.get(name)
    if source is None or not offset_text.isdigit():
        return name
    prefix = source.encode()[: int(offset_text)].decode(errors="replace")
    line = prefix.count("\n") + 1
    column = len(prefix) - (prefix.rfind("\n") + 1) + 1
    return f"{name}:{line}:{column}"


def parse_error_text(text: str, sources: dict[str, str]) -> str:
    """Human messages (`file:line:col: message`) from rego-cpp's s-expression error text."""
    messages: list[str] = []
    for match in _ERROR_AT.finditer(text):
        where, end = _length_prefixed(text, match.start() + len("(error "))
        # The location is `name|offset|length` with the name's length prefixed.
        tail = text[end:]
        location_match = re.match(r"\|(\d+)\|(\d+)", tail)
        message_match = _MESSAGE_AT.search(text, end)
        message = ""
        if message_match is not None:
            message, _ = _length_prefixed(text, message_match.start() + len("(errormsg "))
        if location_match is not None:
            where = _location(sources, f"{where}|{location_match.group(1)}|")
        messages.append(f"{where}: {message}" if where else message)
    return "; ".join(messages) if messages else text.strip()


def _error_messages(rego: Any, node: Any) -> list[str]:
    """Every `errormsg (errorcode)` under an error node of a query's output."""
    kind = rego.regoNodeType(node)
    if kind == _ERROR_NODE:
        message = code = ""
        for index in range(rego.regoNodeSize(node)):
            child = rego.regoNodeGet(node, index)
            child_kind = rego.regoNodeType(child)
            if child_kind == _ERROR_MESSAGE_NODE:
                message = _node_value(node=child)
            elif child_kind == _ERROR_CODE_NODE:
                code = _node_value(node=child)
        return [f"{message} ({code})" if code else message]
    messages: list[str] = []
    for index in range(rego.regoNodeSize(node)):
        messages.extend(_error_messages(rego, rego.regoNodeGet(node, index)))
    return messages


def _node_value(node: Any) -> str:
    from regopy.rego_shared import rego_node_value

    return str(rego_node_value(node))


def _answer(interpreter: Any, query: str) -> dict[str, Any]:
    from regopy.rego_shared import (
        rego,
        rego_free_output,
        rego_output_node,
        rego_output_string,
        rego_query,
    )

    output = rego_query(interpreter._impl, query)
    try:
        root = rego_output_node(output)
        if rego.regoNodeType(root) in (_ERROR_NODE, _ERROR_SEQ_NODE):
            messages = _error_messages(rego, root) or ["evaluation failed"]
            return {"status": "error", "error": "; ".join(messages)}
        text = rego_output_string(output)
    finally:
        rego_free_output(output)
    if text == "undefined":
        return {"status": "undefined"}
    try:
        decoded = json.loads(text)
    except ValueError:
        return {"status": "error", "error": f"unreadable result: {text[:200]}"}
    results = decoded if isinstance(decoded, list) else [decoded]
    if len(results) != 1 or len(results[0].get("expressions", [])) != 1:
        return {"status": "error", "error": f"unexpected result shape: {text[:200]}"}
    return {"status": "value", "value": results[0]["expressions"][0]}


def _emit(stream: IO[str], message: dict[str, Any]) -> None:
    stream.write(json.dumps(message) + "\n")
    stream.flush()


def main() -> int:
    """Serve one request from stdin; the exit status is 0 unless the request was unreadable."""
    stream = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    request = json.loads(sys.stdin.buffer.read())
    try:
        import regopy
    except ImportError:
        _emit(
            stream, {"kind": "fatal", "error": "regopy is not installed (install lockgate[server])"}
        )
        return 2
    interpreter = regopy.Interpreter()
    interpreter.log_level = regopy.LogLevel.NONE
    # A built-in called with bad arguments is an error, not `undefined`: an undefined deny
    # condition would let a gate pass.
    interpreter.strict_built_in_errors = True
    sources = {str(name): str(source) for name, source in request["modules"]}
    for name, source in request["modules"]:
        try:
            interpreter.add_module(name, source)
        except regopy.RegoError as error:
            _emit(
                stream,
                {"kind": "module", "name": name, "error": parse_error_text(str(error), sources)},
            )
    if request.get("input") is not None:
        interpreter.set_input_term(json.dumps(request["input"]))
    _emit(stream, {"kind": "ready"})
    for key, query in request["queries"]:
        _emit(stream, {"kind": "answer", "key": key, **_answer(interpreter, query)})
    _emit(stream, {"kind": "done"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
