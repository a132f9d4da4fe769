"""Model references, signatures and model metadata are checked in the domain."""

from __future__ import annotations

import pytest

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.registry import (
    ColumnSpec,
    ModelRef,
    RegisteredModel,
    Signature,
    check_metadata,
)


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("churn", ModelRef("churn")),
        ("churn/3", ModelRef("churn", version=3)),
        ("churn@champion", ModelRef("churn", alias="champion")),
    ],
)
def test_references_parse_and_print_back(text: str, ref: ModelRef) -> None:
    assert ModelRef.parse(text) == ref
    assert str(ref) == text


@pytest.mark.parametrize("text", ["", "churn/x", "a@b@c", "Churn", "churn@latest", "churn/3/4"])
def test_bad_references_are_refused(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        ModelRef.parse(text, field="source")
    assert caught.value.field == "source"


def test_signatures_are_checked() -> None:
    good = Signature((ColumnSpec("x", "float32", (-1, 3)),), (ColumnSpec("y", "int64"),))
    good.check()
    cases = [
        (Signature((ColumnSpec("x", "float32"), ColumnSpec("x", "int8")), ()), "repeat a name"),
        (Signature((ColumnSpec("x", "complex"),), ()), "is not one of"),
        (Signature((), (ColumnSpec("y", "int8", (0,)),)), "positive or -1"),
        (Signature((ColumnSpec("", "int8"),), ()), "needs a name"),
    ]
    for signature, message in cases:
        with pytest.raises(InvalidInputError, match=message):
            signature.check()


def test_models_need_an_owner_and_a_description() -> None:
    RegisteredModel.check("churn", "team-a", "predicts churn", {"tier": "1"})
    with pytest.raises(InvalidInputError, match="owner is required"):
        RegisteredModel.check("churn", " ", "d", {})
    with pytest.raises(InvalidInputError, match="description is required"):
        RegisteredModel.check("churn", "o", "", {})
    with pytest.raises(InvalidInputError, match="at most 200 metadata entries"):
        check_metadata({f"k{i}": "v" for i in range(201)})
