"""The local scoring engine: DuckDB batches in, the model, one Parquet file out."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lockgate.compute.scoring import (
    DEFAULT_BATCH_SIZE,
    ScoringProgress,
    resolve_input,
    score_local,
)
from lockgate.compute.scoring.local import PREFETCH_DEPTH, read_ahead
from lockgate.compute.scoring.sources import hash_parquet_footer
from lockgate.domain.errors import InvalidInputError, UserCodeError
from lockgate.domain.registry import ColumnSpec, Signature
from tests.compute.data import column, table, write_csv, write_parquet
from tests.compute.predictors import (
    SIGNATURE,
    Echo,
    FailingAt,
    Watching,
    WeightedSum,
    expected_scores,
)


def _only_output(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_scores_every_row_group_in_order_with_keep_columns_and_casts(tmp_path: Path) -> None:
    data = table(5_000)
    source = write_parquet(tmp_path / "in" / "data.parquet", data, row_group_size=1_200)
    seen: list[ScoringProgress] = []

    result = score_local(
        WeightedSum,
        source,
        tmp_path / "out" / "scores.parquet",
        signature=SIGNATURE,
        keep=["id", "tag"],
        batch_size=1_000,
        progress=seen.append,
    )

    scored = pq.read_table(result.output.path)
    assert scored.schema == pa.schema(
        [
            ("id", pa.int64()),
            ("tag", pa.uint32()),
            ("score", pa.float64()),
            ("doubled", pa.list_(pa.float32(), 3)),
        ]
    )
    assert scored.column("id").to_pylist() == list(range(5_000))
    assert scored.column("tag").equals(data.column("tag"))
    want = expected_scores(column(data, "a"), column(data, "b"), column(data, "v"))
    np.testing.assert_allclose(column(scored, "score"), want, rtol=1e-6)
    np.testing.assert_array_equal(column(scored, "doubled"), column(data, "v") * 2)
    # Batches never cross a row group: 1,200-row groups give a batch of 1,000 and one of 200.
    assert (result.rows, result.batches) == (5_000, 9)
    assert result.engine == "local"
    assert result.input.total_rows == 5_000
    assert result.output.rows == 5_000
    assert result.output.files == (tmp_path / "out" / "scores.parquet",)
    assert result.output.sha256 == hashlib.sha256(result.output.path.read_bytes()).hexdigest()
    assert result.output.schema == {
        "id": "int64",
        "tag": "uint32",
        "score": "double",
        "doubled": "fixed_size_list<element: float>[3]",
    }
    assert result.rows_per_second > 0
    assert [p.rows for p in seen] == [1_000, 1_200, 2_200, 2_400, 3_400, 3_600, 4_600, 4_800, 5_000]
    assert {p.total_rows for p in seen} == {5_000}
    assert _only_output(tmp_path / "out") == ["scores.parquet"]


def test_with_read_ahead_the_output_is_the_same_file(tmp_path: Path) -> None:
    source = write_parquet(tmp_path / "data.parquet", table(3_000))
    first = score_local(WeightedSum, source, tmp_path / "a.parquet", signature=SIGNATURE)
    second = score_local(
        WeightedSum, source, tmp_path / "b.parquet", signature=SIGNATURE, prefetch=True
    )
    assert first.output.sha256 == second.output.sha256
    assert DEFAULT_BATCH_SIZE == 65_536
    assert first.batches == 3  # one per row group of 1,000 rows


def test_a_missing_column_fails_before_the_model_is_made(tmp_path: Path) -> None:
    source = write_parquet(tmp_path / "data.parquet", table(100).drop_columns(["b"]))
    made: list[int] = []

    def factory() -> WeightedSum:
        made.append(1)
        return WeightedSum()

    with pytest.raises(InvalidInputError, match="no column b") as caught:
        score_local(factory, source, tmp_path / "out.parquet", signature=SIGNATURE)
    assert caught.value.field == "input.b"
    assert not made
    assert _only_output(tmp_path) == ["data.parquet"]


@pytest.mark.parametrize(
    ("keep", "message"),
    [(["nope"], "no column nope to keep"), (["score"], "name of a model output")],
)
def test_keep_names_an_input_column_that_is_not_an_output(
    tmp_path: Path, keep: list[str], message: str
) -> None:
    data = table(10)
    source = write_parquet(tmp_path / "data.parquet", data.append_column("score", data["a"]))
    with pytest.raises(InvalidInputError, match=message) as caught:
        score_local(WeightedSum, source, tmp_path / "out.parquet", signature=SIGNATURE, keep=keep)
    assert caught.value.field == "keep"


def test_a_tensor_of_the_wrong_width_fails_before_scoring(tmp_path: Path) -> None:
    signature = Signature((ColumnSpec("v", "float32", (-1, 4)),), SIGNATURE.outputs)
    source = write_parquet(tmp_path / "data.parquet", table(10))
    with pytest.raises(InvalidInputError, match=r"does not hold the signature's shape") as caught:
        score_local(WeightedSum, source, tmp_path / "out.parquet", signature=signature)
    assert caught.value.field == "input.v"


def test_an_existing_output_is_never_overwritten(tmp_path: Path) -> None:
    source = write_parquet(tmp_path / "data.parquet", table(10))
    (tmp_path / "out.parquet").write_bytes(b"precious")
    with pytest.raises(InvalidInputError, match="exists") as caught:
        score_local(WeightedSum, source, tmp_path / "out.parquet", signature=SIGNATURE)
    assert caught.value.field == "output"
    assert (tmp_path / "out.parquet").read_bytes() == b"precious"


def test_a_model_failing_midway_leaves_no_output(tmp_path: Path) -> None:
    source = write_parquet(tmp_path / "in" / "data.parquet", table(5_000))
    failing = FailingAt(fail_at=3)
    with pytest.raises(UserCodeError, match="ran out of coffee") as caught:
        score_local(
            lambda: failing,
            source,
            tmp_path / "out" / "scores.parquet",
            signature=SIGNATURE,
            batch_size=500,
        )
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert failing.calls == 3
    assert _only_output(tmp_path / "out") == []


def test_a_wrong_answer_from_the_model_is_its_fault(tmp_path: Path) -> None:
    source = write_parquet(tmp_path / "data.parquet", table(10))

    class Short:
        def predict(self, inputs: object) -> dict[str, np.ndarray]:
            return {"score": np.zeros(3), "doubled": np.zeros((3, 3))}

    with pytest.raises(UserCodeError, match="returned 3 rows of score for a batch of 10 rows"):
        score_local(Short, source, tmp_path / "out.parquet", signature=SIGNATURE)
    assert _only_output(tmp_path) == ["data.parquet"]


@pytest.mark.parametrize("prefetch", [False, True])
def test_memory_holds_a_few_batches_whatever_the_input_size(tmp_path: Path, prefetch: bool) -> None:
    batch_size, batches = 2_000, 100
    source = write_parquet(
        tmp_path / "data.parquet", table(batches * batch_size), row_group_size=batch_size
    )
    watching = Watching()

    result = score_local(
        lambda: watching,
        source,
        tmp_path / "out.parquet",
        signature=SIGNATURE,
        batch_size=batch_size,
        prefetch=prefetch,
    )

    assert result.batches == watching.calls == batches
    # Each call hands over 3 input arrays and gets 2 back. Arrays of earlier batches still
    # alive are what the engine holds on to; a leak would keep all 500.
    assert watching.most_alive <= 5 * 2
    # Arrow's pool (casts, tensor values, the writer's buffers) holds a few batches' worth: a
    # batch is 2,000 rows x 24 bytes of inputs; a leak would reach 100 of them.
    assert watching.most_arrow_bytes < 16 * batch_size * 24


def test_read_ahead_holds_at_most_its_depth_plus_two() -> None:
    produced = 0
    most_ahead = 0
    consumed = 0
    lock = threading.Lock()

    def items() -> Iterator[int]:
        nonlocal produced
        for index in range(100):
            with lock:
                produced += 1
            yield index

    for item in read_ahead(items()):
        with lock:
            most_ahead = max(most_ahead, produced - consumed)
        consumed += 1
        assert item == consumed - 1
    assert consumed == 100
    assert most_ahead <= PREFETCH_DEPTH + 2


def test_read_ahead_stops_its_thread_when_the_consumer_stops() -> None:
    stopped = threading.Event()

    def endless() -> Iterator[int]:
        try:
            index = 0
            while True:
                yield index
                index += 1
        finally:
            stopped.set()

    batches = read_ahead(endless())
    assert [next(batches) for _ in range(5)] == [0, 1, 2, 3, 4]
    batches.close()
    assert not any(t.name == "lockgate-scoring-reader" for t in threading.enumerate())


def test_read_ahead_hands_errors_to_the_consumer() -> None:
    def broken() -> Iterator[int]:
        yield 1
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        list(read_ahead(broken()))


def test_csv_input_is_read_and_cast(tmp_path: Path) -> None:
    data = table(1_500)
    source = write_csv(tmp_path / "data.csv", data)
    signature = Signature(
        (ColumnSpec("a", "float64"), ColumnSpec("b", "float32")), (ColumnSpec("total", "float64"),)
    )

    class Sum:
        def predict(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
            assert inputs["a"].dtype == np.float64
            assert inputs["b"].dtype == np.float32
            return {"total": inputs["a"] + inputs["b"]}

    result = score_local(Sum, source, tmp_path / "out.parquet", signature=signature, keep=["id"])

    scored = pq.read_table(result.output.path)
    assert result.input.format == "csv"
    assert result.input.total_rows is None
    assert scored.column("id").to_pylist() == list(range(1_500))
    np.testing.assert_allclose(
        column(scored, "total"), column(data, "a") + column(data, "b"), rtol=1e-6
    )


def test_a_tensor_input_cannot_come_from_csv(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "data.csv", table(10))
    with pytest.raises(InvalidInputError, match="no column v") as caught:
        score_local(WeightedSum, source, tmp_path / "out.parquet", signature=SIGNATURE)
    assert caught.value.field == "input.v"


def test_a_directory_or_a_glob_reads_every_data_file(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write_parquet(folder / "part=1" / "a.parquet", table(700))
    write_parquet(folder / "part=2" / "b.parquet", table(300, start=700, seed=1))
    (folder / "_SUCCESS").write_text("")
    (folder / ".a.parquet.crc").write_text("")

    from_directory = score_local(
        WeightedSum, folder, tmp_path / "d.parquet", signature=SIGNATURE, keep=["id"]
    )
    from_glob = score_local(
        WeightedSum,
        f"{folder}/**/*.parquet",
        tmp_path / "g.parquet",
        signature=SIGNATURE,
        keep=["id"],
    )

    for result in (from_directory, from_glob):
        assert result.rows == result.input.total_rows == 1_000
        assert pq.read_table(result.output.path).column("id").to_pylist() == list(range(1_000))
    assert from_directory.input.files == from_glob.input.files
    assert from_directory.input.fingerprint() == from_glob.input.fingerprint()


@pytest.mark.parametrize("content", [True, False])
def test_fingerprints_follow_content(tmp_path: Path, content: bool) -> None:
    single = write_parquet(tmp_path / "one" / "data.parquet", table(10))
    digest = resolve_input(single).fingerprint(content=content)
    if content:
        assert digest == hashlib.sha256(single.read_bytes()).hexdigest()
    folder = tmp_path / "many"
    write_parquet(folder / "a.parquet", table(10))
    write_parquet(folder / "b.parquet", table(10, seed=2))
    before = resolve_input(folder).fingerprint(content=content)
    assert resolve_input(folder).fingerprint(content=content) == before
    write_parquet(folder / "b.parquet", table(10, seed=3))
    assert resolve_input(folder).fingerprint(content=content) != before


def test_a_parquet_footer_fingerprint_reads_only_the_footer(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "data.parquet", table(1000))
    footer = resolve_input(path).fingerprint()
    data = bytearray(path.read_bytes())
    data[4] ^= 0xFF  # a byte of the first data page: the footer cannot see it
    path.write_bytes(bytes(data))
    assert resolve_input(path).fingerprint() == footer
    assert resolve_input(path).fingerprint(content=True) != footer
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(InvalidInputError, match="footer"):
        hash_parquet_footer(path)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda root: root / "missing.parquet", "no such file"),
        (lambda root: root, "holds no .parquet or .csv file"),
    ],
)
def test_an_input_with_no_data_files_is_refused(tmp_path: Path, make: object, message: str) -> None:
    assert callable(make)
    with pytest.raises(InvalidInputError, match=message) as caught:
        score_local(WeightedSum, make(tmp_path), tmp_path / "out.parquet", signature=SIGNATURE)
    assert caught.value.field == "input"


def test_missing_values_become_nan_in_floats_and_are_refused_elsewhere(tmp_path: Path) -> None:
    data = table(4)
    with_nan_b = data.set_column(2, "b", pa.array([1.0, None, 3.0, 4.0], pa.float32()))
    source = write_parquet(tmp_path / "nan.parquet", with_nan_b)
    result = score_local(WeightedSum, source, tmp_path / "nan-out.parquet", signature=SIGNATURE)
    assert np.isnan(column(pq.read_table(result.output.path), "score")[1])

    with_null_a = data.set_column(1, "a", pa.array([1, None, 3, 4], pa.int32()))
    signature = Signature((ColumnSpec("a", "int64"),), (ColumnSpec("total", "float64"),))
    source = write_parquet(tmp_path / "null.parquet", with_null_a)
    with pytest.raises(InvalidInputError, match="1 missing values") as caught:
        score_local(Echo, source, tmp_path / "null-out.parquet", signature=signature)
    assert caught.value.field == "input.a"
    assert not (tmp_path / "null-out.parquet").exists()


def test_without_a_signature_the_model_gets_every_column_as_read(tmp_path: Path) -> None:
    data = table(50).drop_columns(["note", "tag"])
    source = write_parquet(tmp_path / "data.parquet", data)

    result = score_local(Echo, source, tmp_path / "out.parquet", keep=["id"])

    scored = pq.read_table(result.output.path)
    assert scored.schema == pa.schema(
        [("id", pa.int64()), ("total", pa.float64()), ("rows", pa.list_(pa.int64(), 2))]
    )
    want = (
        column(data, "id") + column(data, "a") + column(data, "b") + column(data, "v").sum(axis=1)
    )
    np.testing.assert_allclose(column(scored, "total"), want, rtol=1e-5)


def test_an_empty_input_gives_an_empty_output_with_the_signature_schema(tmp_path: Path) -> None:
    source = write_parquet(tmp_path / "data.parquet", table(0))
    result = score_local(WeightedSum, source, tmp_path / "out.parquet", signature=SIGNATURE)
    scored = pq.read_table(result.output.path)
    assert scored.num_rows == result.rows == 0
    assert scored.schema.names == ["score", "doubled"]

    with pytest.raises(InvalidInputError, match="has no rows"):
        score_local(Echo, source, tmp_path / "unknown.parquet")
    assert not (tmp_path / "unknown.parquet").exists()


def test_datetime_and_string_columns_round_trip(tmp_path: Path) -> None:
    stamps = pa.array([0, 1_500_000, 2_000_000_000], pa.timestamp("ns", tz="Europe/Paris"))
    data = pa.table({"when": stamps, "name": ["a", "bb", "ccc"]})
    source = write_parquet(tmp_path / "data.parquet", data)
    signature = Signature(
        (ColumnSpec("when", "datetime"), ColumnSpec("name", "string")),
        (ColumnSpec("later", "datetime"), ColumnSpec("shout", "string")),
    )

    class Shout:
        def predict(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
            assert inputs["when"].dtype == np.dtype("datetime64[us]")
            later = inputs["when"] + np.timedelta64(1, "s")
            return {"later": later, "shout": np.array([s.upper() for s in inputs["name"]])}

    result = score_local(Shout, source, tmp_path / "out.parquet", signature=signature)

    scored = pq.read_table(result.output.path)
    assert scored.schema.field("later").type == pa.timestamp("us", tz="UTC")
    assert scored.column("shout").to_pylist() == ["A", "BB", "CCC"]
    assert scored.column("later").to_pylist()[2].timestamp() == pytest.approx(3.0, abs=1e-6)


def test_a_batch_size_below_one_is_refused(tmp_path: Path) -> None:
    source = write_parquet(tmp_path / "data.parquet", table(10))
    with pytest.raises(InvalidInputError, match="at least 1") as caught:
        score_local(WeightedSum, source, tmp_path / "out.parquet", batch_size=0)
    assert caught.value.field == "batch_size"
