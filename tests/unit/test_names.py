"""Name rules: what users may call things, and the artifact paths that could escape."""

from __future__ import annotations

import pytest

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.names import check_alias, check_artifact_path, check_key, check_name

TRAVERSAL = [
    "..",
    "../x",
    "a/../../x",
    "/etc/passwd",
    "a\\b",
    "..\\x",
    "C:/x",
    "c:x",
    "file:/etc/passwd",
    "file:///etc/passwd",
    "s3://bucket/key",
    "%2e%2e/x",
    "%252e%252e/x",
    "a/%00",
    "a\x00b",
    "a//b",
    "./a",
    "a/./b",
    "a/",
    "",
    "a\nb",
    "x" * 2000,
]


@pytest.mark.parametrize("path", TRAVERSAL)
def test_paths_that_could_escape_are_refused(path: str) -> None:
    with pytest.raises(InvalidInputError, match="path") as caught:
        check_artifact_path(path)
    assert caught.value.field == "path"


@pytest.mark.parametrize(
    "path", ["model.pkl", "model/model.onnx", "plots/roc curve.svg", "a/b/c/d.e.f", "v1.2/x+y=z@w"]
)
def test_ordinary_paths_pass(path: str) -> None:
    assert check_artifact_path(path) == path


@pytest.mark.parametrize("name", ["", "Churn", "-x", ".", "..", "a b", "a/b", "x" * 129, "é"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInputError, match="lowercase"):
        check_name(name, field="name")


def test_latest_is_not_an_alias() -> None:
    assert check_alias("champion") == "champion"
    with pytest.raises(InvalidInputError, match="reserved"):
        check_alias("latest")


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "tab\tkey", "x" * 251])
def test_bad_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidInputError):
        check_key(key, field="key")
