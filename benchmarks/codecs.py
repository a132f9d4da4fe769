"""Wire-codec micro-benchmark: the cost of decoding one request and encoding its response.

The model has 30 float64 scalar input columns and one float64 output. For every request form
of the Open Inference Protocol (one tensor per column, one [1, 30] tensor, each in JSON and in
binary tensor data) and of MLflow's /invocations (dataframe_split, dataframe_records,
instances, inputs as rows and as columns, CSV) it times `decode_*` on a one-row body, then the
response encoders. Each figure is the best of `--repeat` runs of `--loops` calls, in
microseconds of CPU time per call (CPU time, so that other load on the machine skews it less
than wall time would). Not part of `make bench`; run it directly:

    .venv/bin/python benchmarks/codecs.py [--loops 20000] [--repeat 5] [--rows 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable

import numpy as np
import orjson
import tritonclient.http as triton

from lockgate.domain.registry import ColumnSpec, Signature
from lockgate.serving.protocol import (
    SignaturePlan,
    decode_infer_request,
    decode_invocations,
    encode_infer_response,
    encode_predictions,
)

WIDTH = 30
NAMES = [f"feature_{index}" for index in range(WIDTH)]
SIGNATURE = Signature(
    tuple(ColumnSpec(name, "float64") for name in NAMES), (ColumnSpec("score", "float64"),)
)


def best_microseconds(call: Callable[[], object], loops: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(loops):
            call()
        best = min(best, time.process_time() - start)
    return best / loops * 1e6


def oip_bodies(matrix: np.ndarray) -> dict[str, tuple[bytes, int | None]]:
    rows = matrix.shape[0]
    per_column = {
        "inputs": [
            {"name": name, "shape": [rows], "datatype": "FP64", "data": matrix[:, index].tolist()}
            for index, name in enumerate(NAMES)
        ]
    }
    one_tensor = {
        "inputs": [
            {
                "name": "input-0",
                "shape": [rows, WIDTH],
                "datatype": "FP64",
                "data": matrix.ravel().tolist(),
            }
        ]
    }
    binary_columns = []
    for index, name in enumerate(NAMES):
        tensor = triton.InferInput(name, [rows], "FP64")
        tensor.set_data_from_numpy(np.ascontiguousarray(matrix[:, index]), binary_data=True)
        binary_columns.append(tensor)
    binary_tensor = triton.InferInput("input-0", [rows, WIDTH], "FP64")
    binary_tensor.set_data_from_numpy(matrix, binary_data=True)
    wanted = [triton.InferRequestedOutput("score", binary_data=True)]
    return {
        "oip json, tensor per column": (orjson.dumps(per_column), None),
        "oip json, one [rows, 30] tensor": (orjson.dumps(one_tensor), None),
        "oip binary, tensor per column": triton.InferenceServerClient.generate_request_body(
            binary_columns, outputs=wanted
        ),
        "oip binary, one [rows, 30] tensor": triton.InferenceServerClient.generate_request_body(
            [binary_tensor], outputs=wanted
        ),
    }


def invocation_bodies(matrix: np.ndarray) -> dict[str, tuple[bytes, str]]:
    rows = matrix.tolist()
    records = [dict(zip(NAMES, row, strict=True)) for row in rows]
    csv = ",".join(NAMES) + "\n" + "".join(",".join(map(repr, row)) + "\n" for row in rows)
    json_type = "application/json"
    return {
        "invocations dataframe_split": (
            orjson.dumps({"dataframe_split": {"columns": NAMES, "data": rows}}),
            json_type,
        ),
        "invocations dataframe_records": (orjson.dumps({"dataframe_records": records}), json_type),
        "invocations instances (rows)": (orjson.dumps({"instances": rows}), json_type),
        "invocations inputs (rows)": (orjson.dumps({"inputs": rows}), json_type),
        "invocations inputs (columns)": (
            orjson.dumps({"inputs": {name: matrix[:, i].tolist() for i, name in enumerate(NAMES)}}),
            json_type,
        ),
        "invocations text/csv": (csv.encode(), "text/csv"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rows", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="one JSON line instead of a table")
    args = parser.parse_args(argv)
    plan = SignaturePlan(SIGNATURE)
    matrix = np.random.default_rng(7).normal(size=(args.rows, WIDTH))
    scores = {"score": matrix.sum(axis=1)}
    results: dict[str, float] = {}

    def measure(label: str, call: Callable[[], object]) -> None:
        call()  # a failing call fails before it is timed
        results[label] = best_microseconds(call, args.loops, args.repeat)

    for label, (body, length) in oip_bodies(matrix).items():
        measure(f"decode {label}", lambda b=body, n=length: decode_infer_request(plan, b, n))
    json_request = decode_infer_request(plan, oip_bodies(matrix)["oip json, tensor per column"][0])
    body, length = oip_bodies(matrix)["oip binary, one [rows, 30] tensor"]
    binary_request = decode_infer_request(plan, body, length)
    for label, request in (("json", json_request), ("binary", binary_request)):
        measure(
            f"encode oip response, {label}",
            lambda r=request: encode_infer_response(
                plan, scores, model_name="bench", model_version="1", request=r
            ),
        )
    for label, (body, content_type) in invocation_bodies(matrix).items():
        measure(f"decode {label}", lambda b=body, t=content_type: decode_invocations(plan, b, t))
    measure("encode invocations predictions", lambda: encode_predictions(plan, scores))

    if args.json:
        document = {
            "benchmark": "codecs",
            "rows": args.rows,
            "columns": WIDTH,
            "python": platform.python_version(),
            "microseconds": {label: round(value, 2) for label, value in results.items()},
        }
        print(json.dumps(document))
        return
    print(f"{args.rows} row(s) x {WIDTH} float64 columns, best of {args.repeat} x {args.loops}")
    for label, value in results.items():
        print(f"  {label:<45} {value:8.2f} us")


if __name__ == "__main__":
    main(sys.argv[1:])
