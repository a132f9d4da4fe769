"""`run.log_model` against the real app: the package is saved by its flavor, uploaded under the
run, registered with its flavor and signature, and loads back from the downloaded files."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from lockgate.domain.errors import InvalidInputError, NotFoundError
from lockgate.sdk import Client, ColumnSpecIO, SignatureIO
from lockgate.serving.flavors import load_model_directory
from lockgate.serving.loader import fetch_package, load_package
from lockgate.serving.signature import columns_from_example

RNG = np.random.default_rng(29)
X = RNG.normal(size=(40, 3))
Y = (X[:, 0] > 0).astype(np.int64)


@pytest.fixture(scope="module")
def model() -> LogisticRegression:
    return LogisticRegression().fit(X, Y)


def test_a_logged_model_is_uploaded_registered_and_loads_back(
    client: Client, project: str, model: LogisticRegression, tmp_path: Path
) -> None:
    client.models.create("churn-clf", project=project, owner="retention", description="churn")
    with client.start_run(project, "train", capture_environment=False) as run:
        logged = run.log_model(
            model,
            "classifier",
            input_example=X[:5],
            registered_model_name="churn-clf",
            method="predict_proba",
        )
    assert logged.flavor == "sklearn"
    assert logged.artifact_path == "classifier"
    assert sorted(f.path for f in logged.files) == [
        "classifier/lockgate-model.json",
        "classifier/model.skops",
    ]
    assert logged.signature == SignatureIO(
        inputs=[ColumnSpecIO(name="input", type="float64", shape=[-1, 3])],
        outputs=[ColumnSpecIO(name="prediction", type="float64", shape=[-1, 2])],
    )
    assert logged.version is not None
    assert logged.version.version == 1
    assert logged.version.signature == logged.signature
    assert client.models.manifest("churn-clf", 1).manifest["flavor"] == "sklearn"

    client.artifacts.download_dir(run.id, "classifier", tmp_path / "package")
    signature = logged.signature.to_domain()
    predictor = load_model_directory(tmp_path / "package", signature, verified=False)
    answer = predictor.predict(columns_from_example(X, signature))
    np.testing.assert_allclose(answer["prediction"], model.predict_proba(X))


def test_a_given_signature_is_kept_and_nothing_is_registered_unless_asked(
    client: Client, project: str, model: LogisticRegression
) -> None:
    signature = SignatureIO(
        inputs=[ColumnSpecIO(name="input", type="float64", shape=[-1, 3])],
        outputs=[ColumnSpecIO(name="churned", type="int64")],
    )
    client.models.create("churn-clf", project=project, owner="retention", description="churn")
    with client.start_run(project, capture_environment=False) as run:
        logged = run.log_model(model, signature=signature, input_example=X[:2])
        assert logged.version is None
        assert logged.signature == signature
        assert [a.path for a in client.artifacts.list(run.id)] == [
            "model/lockgate-model.json",
            "model/model.skops",
        ]
        version = run.register_model("churn-clf", "model", signature, flavor="sklearn")
    assert client.models.manifest("churn-clf", version.version).manifest["flavor"] == "sklearn"


def test_a_bad_option_uploads_nothing_and_an_unknown_model_uploads_first(
    client: Client, project: str, model: LogisticRegression
) -> None:
    with client.start_run(project, capture_environment=False) as run:
        with pytest.raises(InvalidInputError) as refused:
            run.log_model(model, input_example=X[:2], compress=True)
        assert refused.value.field == "options.compress"
        assert client.artifacts.list(run.id) == []
        with pytest.raises(NotFoundError):
            run.log_model(model, input_example=X[:2], registered_model_name="nobody")
        assert len(client.artifacts.list(run.id)) == 2


def test_without_the_flavors_log_model_names_the_extras(
    client: Client, project: str, model: LogisticRegression, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "lockgate.serving.flavors", None)
    with client.start_run(project, capture_environment=False) as run:
        with pytest.raises(ImportError, match=r"lockgate\[serving,sklearn\]"):
            run.log_model(model, input_example=X[:2])
        assert client.artifacts.list(run.id) == []


def test_the_serving_loader_loads_a_logged_model_after_verifying_it(
    client: Client, project: str, model: LogisticRegression, tmp_path: Path
) -> None:
    client.models.create("churn-clf", project=project, owner="retention", description="churn")
    with client.start_run(project, capture_environment=False) as run:
        run.log_model(
            model, input_example=X[:2], registered_model_name="churn-clf", format="pickle"
        )
    loaded = load_package(fetch_package(client, "churn-clf/1", tmp_path / "cache"))
    signature = loaded.package.model_signature
    assert signature is not None
    answer = loaded.predictor.predict(columns_from_example(X, signature))
    np.testing.assert_array_equal(answer["prediction"], model.predict(X))
