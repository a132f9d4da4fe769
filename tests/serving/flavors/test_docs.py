"""docs/reference/flavors.md keeps up with the code: every flavor, option and public function is
documented, and its examples run against the real app."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

import lockgate.serving.signature as signature_module
from lockgate.sdk import Client
from lockgate.serving.flavors import FLAVOR_REGISTRY

DOC = Path(__file__).resolve().parents[3] / "docs" / "reference" / "flavors.md"


def test_every_flavor_and_option_is_documented() -> None:
    text = DOC.read_text()
    for name, flavor in FLAVOR_REGISTRY.items():
        assert f"### `{name}`" in text, f"document the {name} flavor in {DOC.name}"
        options = [f.name for f in dataclasses.fields(flavor)]  # type: ignore[arg-type]
        missing = [option for option in options if f"`{option}`" not in text]
        assert not missing, f"document the options of {name} in {DOC.name}: {missing}"


def test_every_public_function_is_documented() -> None:
    text = DOC.read_text()
    names = ["save_model", "load_model_directory", "flavor_for", "get_flavor", "FLAVOR_REGISTRY"]
    names += [n for n in signature_module.__all__ if not n.isupper()]
    missing = [name for name in names if f"`{name}" not in text]
    assert not missing, f"document these in {DOC.name}: {missing}"


def test_the_examples_run(client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"^```python\n(.*?)^```", DOC.read_text(), flags=re.DOTALL | re.MULTILINE)
    examples = [block for block in blocks if not block.startswith("# not run")]
    assert len(examples) >= 3
    namespace: dict[str, object] = {"client": client}
    for example in examples:
        exec(compile(example, str(DOC), "exec"), namespace)  # noqa: S102 - our own docs
