"""The examples of docs/reference/sdk.md run, in order, against the real app."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lockgate.sdk import Client

SDK_DOC = Path(__file__).resolve().parents[2] / "docs" / "reference" / "sdk.md"


def _examples() -> list[str]:
    blocks = re.findall(
        r"^```python\n(.*?)^```", SDK_DOC.read_text(), flags=re.DOTALL | re.MULTILINE
    )
    return [block for block in blocks if not block.startswith("# not run")]


def test_the_sdk_reference_examples_run(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.csv").write_text("tenure_months,churned\n3,true\n40,false\n")
    (tmp_path / "model.json").write_text('{"trees": 100}')
    namespace: dict[str, object] = {"client": client}
    examples = _examples()
    assert len(examples) >= 5
    for example in examples:
        exec(compile(example, str(SDK_DOC), "exec"), namespace)  # noqa: S102 - our own docs
    assert (tmp_path / "downloaded.json").read_text() == '{"trees": 100}'
