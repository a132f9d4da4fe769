"""The policy engine: gate policies in Rego, evaluated with regopy (rego-cpp) over a promotion
request's input document, the built-in bundle per risk tier, and OPA-style policy unit tests.

A gate is a package `lockgate.gates.<gate>`; its `deny` set holds the reasons it refuses.
`evaluate_gates(modules, document)` answers every gate's `deny` in one interpreter and returns
a `PolicyDecision`; `builtin_modules(tier)` is the bundle the platform ships;
`check_module(source)` is the compile check of a proposed policy; `run_policy_tests(paths)`
runs `test_*` rules.

What regopy 1.5.2 (rego-cpp 1.5.2) does, as explored for this engine
--------------------------------------------------------------------
* API: `Interpreter()`, `add_module(name, source)`, `add_data(obj)` / `add_data_json(text)`,
  `set_input(value)` / `set_input_term(json_text)`, `query(text) -> Output`. The module name
  is free text used in error locations. Rego v1 syntax (`if`, `contains`) needs no import;
  `import rego.v1` is accepted. v0 syntax is NOT rejected but misread: `deny[msg] { ... }`
  becomes an object rule, so the engine insists that `deny` is a set of strings.
* Parse errors raise `RegoError` from `add_module`, as an s-expression
  (`(error 8:bad.rego|58|1 (errormsg 24:Invalid boolean operator) ...)`, strings
  length-prefixed, offsets in UTF-8 bytes); the interpreter stays usable without that module.
  rego-cpp also prints a human version to stdout unless `log_level = LogLevel.NONE`.
* Compile errors (an unknown function, recursion) and runtime errors (a complete rule or a
  function with conflicting values: `eval_conflict_error`; a built-in type error or division
  by zero with `strict_built_in_errors = True`) do not raise: the query's output node has kind
  Error (1800) or ErrorSeq (1804) with `errormsg`/`errorcode` children, and `Output.__init__`
  may even fail to parse it. They only affect queries that depend on the broken rule, so each
  gate's error stays its own. Without strict built-in errors a bad built-in call is
  *undefined*, which in a deny rule means "allow": the engine always turns strictness on.
* Unsafe variables are not reported (the rule is just undefined); `http.send` is not built in;
  `opa.runtime()` returns the process's environment variables (so the child gets none).
* `with`: `with input.<field> as <literal or local variable>` and `with data.<path> as <any>`
  work, also on rules of other packages. Two forms are broken and refused before evaluation
  (`modules.unsupported_constructs`): `with input as <anything>` (replacing the whole
  input) crashes the process with SIGSEGV as soon as the module is compiled, even for
  unrelated queries, when the tested rule is a set, an object or a comprehension; and
  `with input.<field> as <rule or import reference>` reads the value as undefined. Tests
  therefore bind fixtures to locals or pass them as function arguments.
* `object.union` is shallow (OPA merges nested objects); `sprintf("%s", [concat(...)])`
  keeps JSON quotes around the concatenated string (compose messages with `concat` instead).
* Speed: a query over the built-in bundle takes about a millisecond; an 8-second
  comprehension is possible, so evaluation has a time limit.
* RLIMIT_AS cannot bound memory: rego-cpp's allocator (snmalloc) reserves address space up
  front and aborts under any such limit.

Hence the sandbox: every evaluation runs in a short-lived child process (`worker.py`, with an
empty environment), one interpreter per decision; a crash or a time-out becomes an error on
the query at fault, and the remaining queries run in a fresh child. The built-in bundle for
one decision takes about 0.1 s on a busy two-core machine, about half of it starting the
child.
"""

from lockgate.compute.policy.builtin import (
    BUILTIN_GATES,
    builtin_modules,
    builtin_test_modules,
    tier_requirements,
)
from lockgate.compute.policy.engine import (
    INPUT_SCHEMA_VERSION,
    check_module,
    evaluate_gates,
    input_schema,
)
from lockgate.compute.policy.modules import (
    GATE_PACKAGE_PREFIX,
    PolicyModule,
    gate_name,
    module_package,
    policy_digest,
)
from lockgate.compute.policy.sandbox import DEFAULT_TIMEOUT, is_engine_available
from lockgate.compute.policy.testing import (
    PolicyTestOutcome,
    PolicyTestReport,
    PolicyTestResult,
    run_module_tests,
    run_policy_tests,
)

__all__ = [
    "BUILTIN_GATES",
    "DEFAULT_TIMEOUT",
    "GATE_PACKAGE_PREFIX",
    "INPUT_SCHEMA_VERSION",
    "PolicyModule",
    "PolicyTestOutcome",
    "PolicyTestReport",
    "PolicyTestResult",
    "builtin_modules",
    "builtin_test_modules",
    "check_module",
    "evaluate_gates",
    "gate_name",
    "input_schema",
    "is_engine_available",
    "module_package",
    "policy_digest",
    "run_module_tests",
    "run_policy_tests",
    "tier_requirements",
]
