"""The demo data set, seeded through the SDK: a churn project with a hyperparameter grid of runs,
metric curves, inputs and artifacts, and two registered models with an alias history.

Everything is drawn from one seeded `random.Random`, so two seedings hold the same numbers.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lockgate.api.evaluation import ComparisonOut
from lockgate.api.tracking import EnvironmentIn
from lockgate.cli.demo_governance import GovernedDemo, ReviewerClient, seed_governance
from lockgate.sdk import ActiveRun, Client, ColumnSpecIO, MetricPoint, SignatureIO

__all__ = ["PROJECT", "DemoSummary", "seed_demo"]

PROJECT = "churn"
EPOCHS = 30
LEARNING_RATES = (0.03, 0.1, 0.3)
MAX_DEPTHS = (3, 6, 9)
N_ESTIMATORS = (200, 400)
SUBSAMPLES = (0.8, 1.0)
FEATURES = {
    "customer_id": "string",
    "tenure_months": "int64",
    "monthly_charges": "float64",
    "total_charges": "float64",
    "contract_type": "string",
    "payment_method": "string",
    "internet_service": "string",
    "num_support_tickets": "int64",
    "last_login_days": "int64",
    "senior_citizen": "bool",
    "region": "string",
    "churned": "bool",
}
DATASETS = (("customers-train", 48_210), ("customers-valid", 12_052))
BRANCHES = ("main", "feature/tune-depth", "exp/subsample", "main")
PACKAGES = ("lightgbm==4.5.0", "numpy==2.1.3", "pandas==2.2.3", "scikit-learn==1.5.2")
DIVERGES = frozenset({(0.3, 9, 200, 1.0), (0.3, 9, 400, 1.0), (0.3, 9, 400, 0.8)})
STOPPED = frozenset({(0.03, 3, 200, 0.8), (0.03, 3, 400, 1.0)})
STOP_EPOCH = 14


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What a seeding created."""

    runs: int
    failed: int
    killed: int
    models: tuple[str, ...]
    verdict: str | None = None
    """The demo comparison's verdict in one line, when scikit-learn is installed."""
    governed: GovernedDemo | None = None
    """The promoted and the blocked promotion, when reviewers could act (scikit-learn
    installed and a reviewer client given)."""


@dataclass(frozen=True, slots=True)
class _Trial:
    learning_rate: float
    max_depth: int
    n_estimators: int
    subsample: float

    @property
    def key(self) -> tuple[float, int, int, float]:
        return (self.learning_rate, self.max_depth, self.n_estimators, self.subsample)

    @property
    def name(self) -> str:
        return (
            f"gbm-lr{self.learning_rate}-d{self.max_depth}-n{self.n_estimators}-s{self.subsample}"
        )

    def params(self) -> dict[str, str | int | float]:
        return {
            "learning_rate": self.learning_rate,
            "max_depth": self.max_depth,
            "n_estimators": self.n_estimators,
            "subsample": self.subsample,
            "objective": "binary",
            "early_stopping_rounds": 20,
        }

    def plateau(self, rng: random.Random) -> float:
        """The validation AUC this configuration converges to."""
        lr = {0.03: -0.012, 0.1: 0.0, 0.3: -0.02}[self.learning_rate]
        depth = {3: -0.025, 6: 0.0, 9: -0.01}[self.max_depth]
        trees = 0.006 if self.n_estimators == 400 else 0.0
        sampling = 0.004 if self.subsample == 0.8 else 0.0
        return 0.865 + lr + depth + trees + sampling + rng.gauss(0, 0.003)


def _curves(trial: _Trial, rng: random.Random, epochs: int) -> list[MetricPoint]:
    plateau = trial.plateau(rng)
    tau = {0.03: 9.0, 0.1: 4.0, 0.3: 2.0}[trial.learning_rate]
    overfit = 0.03 * (trial.max_depth == 9) + 0.012 * (trial.subsample == 1.0)
    diverge_at = 8 + rng.randrange(5) if trial.key in DIVERGES else None
    points = []
    for epoch in range(epochs):
        decay = math.exp(-(epoch + 1) / tau)
        train_loss = 0.24 + 0.45 * decay - 0.003 * trial.max_depth * epoch / epochs
        val_loss = 0.29 + 0.40 * decay + overfit * max(0, epoch - 15) / epochs
        val_auc = 0.5 + (plateau - 0.5) * (1 - decay)
        if diverge_at is not None and epoch >= diverge_at:
            # The loss explodes for two epochs, then turns NaN and training stops.
            blowup = 3.0 ** (epoch - diverge_at + 1)
            train_loss, val_loss, val_auc = train_loss * blowup, val_loss * blowup, 0.5
            if epoch == diverge_at + 2:
                train_loss = val_loss = math.nan
        points += [
            MetricPoint("train_loss", train_loss + rng.gauss(0, 0.005), epoch),
            MetricPoint("val_loss", val_loss + rng.gauss(0, 0.006), epoch),
            MetricPoint("val_auc", min(val_auc + rng.gauss(0, 0.004), 0.999), epoch),
            MetricPoint("val_accuracy", 0.55 + 0.5 * (val_auc - 0.5) + rng.gauss(0, 0.004), epoch),
        ]
        if diverge_at is not None and epoch == diverge_at + 2:
            break
    return points


def _plot_svg(values: list[float]) -> str:
    finite = [v for v in values if math.isfinite(v)] or [0.5]
    low, high = min(finite), max(finite)
    span = (high - low) or 1.0
    coords = " ".join(
        f"{20 + i * 360 / max(len(values) - 1, 1):.1f},{180 - (v - low) / span * 160:.1f}"
        for i, v in enumerate(values)
        if math.isfinite(v)
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200" viewBox="0 0 400 200">\n'
        '  <rect width="400" height="200" fill="white"/>\n'
        f'  <text x="20" y="14" font-size="12" font-family="sans-serif">val_auc by epoch '
        f"({low:.3f} to {high:.3f})</text>\n"
        f'  <polyline fill="none" stroke="#2563eb" stroke-width="2" points="{coords}"/>\n'
        "</svg>\n"
    )


def _write_artifacts(
    folder: Path, trial: _Trial, points: list[MetricPoint], rng: random.Random
) -> None:
    (folder / "model").mkdir(parents=True, exist_ok=True)
    (folder / "plots").mkdir(exist_ok=True)
    importance = {
        name: round(rng.random(), 4) for name in FEATURES if name not in {"customer_id", "churned"}
    }
    model = {
        "format": "lockgate-demo-gbm/1",
        "params": trial.params(),
        "trees": trial.n_estimators,
        "feature_importance": dict(sorted(importance.items(), key=lambda kv: -kv[1])),
    }
    (folder / "model" / "model.json").write_text(json.dumps(model, indent=2) + "\n")
    (folder / "model" / "requirements.txt").write_text("\n".join(PACKAGES) + "\n")
    curve = [p.value for p in points if p.key == "val_auc"]
    (folder / "plots" / "val_auc.svg").write_text(_plot_svg(curve))


def _environment(rng: random.Random, seed: int) -> EnvironmentIn:
    sha = hashlib.sha1(f"demo-commit-{rng.randrange(6)}".encode(), usedforsecurity=False)
    return EnvironmentIn(
        git_sha=sha.hexdigest(),
        git_dirty=rng.random() < 0.2,
        python_version="3.11.9",
        packages=list(PACKAGES),
        seed=seed,
    )


def _seed_run(
    client: Client, trial: _Trial, rng: random.Random, workdir: Path
) -> tuple[ActiveRun, float]:
    seed = rng.randrange(10_000)
    run = client.start_run(
        PROJECT,
        trial.name,
        tags={"team": "retention", "git.branch": rng.choice(BRANCHES), "model_family": "gbm"},
        environment=_environment(rng, seed),
    )
    run.log_params(trial.params())
    for name, rows in DATASETS:
        fingerprint = hashlib.sha256(f"{name}-v3".encode()).hexdigest()
        source = f"s3://lockgate-demo/churn/{name}/v3.parquet"
        run.log_input(name, fingerprint=fingerprint, schema=FEATURES, row_count=rows, source=source)
    epochs = STOP_EPOCH if trial.key in STOPPED else EPOCHS
    points = _curves(trial, rng, epochs)
    run.log_metrics(points)
    folder = workdir / run.id
    _write_artifacts(folder, trial, points, rng)
    run.log_artifacts(folder)
    if trial.key in DIVERGES:
        run.set_tag("failure_reason", "training diverged: val_loss is NaN")
        run.end("failed")
    elif trial.key in STOPPED:
        run.set_tag("stopped_by", "local:analyst")
        run.end("killed")
    else:
        run.end("finished")
    final_auc = max((p.value for p in points if p.key == "val_auc"), default=0.0)
    return run, final_auc


def _signature(output: str) -> SignatureIO:
    inputs = [
        ColumnSpecIO(name=n, type=t)
        for n, t in FEATURES.items()
        if n not in {"customer_id", "churned"}
    ]
    return SignatureIO(inputs=inputs, outputs=[ColumnSpecIO(name=output, type="float64")])


MODELS = {
    "churn-classifier": (
        "Predicts the probability that a customer cancels within 30 days.",
        {"task": "binary-classification", "risk_tier": "medium"},
    ),
    "churn-ranker": (
        "Ranks at-risk customers for the retention campaign's outreach list.",
        {"task": "ranking", "risk_tier": "low"},
    ),
}


def _register(client: Client, ranked: list[ActiveRun]) -> tuple[str, ...]:
    for name, (description, metadata) in MODELS.items():
        client.models.create(
            name,
            project=PROJECT,
            owner="team-retention",
            description=description,
            metadata=metadata,
        )
    # The classifier's story: v1 from a good early run, v2 from the best run becomes champion,
    # v3 waits as challenger.
    for run, note in (
        (ranked[2], "first grid winner"),
        (ranked[0], "best val_auc"),
        (ranked[1], "runner-up"),
    ):
        run.register_model(
            "churn-classifier", "model", _signature("churn_probability"), description=note
        )
    client.models.set_alias("churn-classifier", "champion", 1)
    client.models.set_alias("churn-classifier", "champion", 2)
    client.models.set_alias("churn-classifier", "challenger", 3)
    for run in (ranked[3], ranked[0]):
        run.register_model(
            "churn-ranker", "model", _signature("rank_score"), metadata={"metric": "ndcg@100"}
        )
    client.models.set_alias("churn-ranker", "champion", 1)
    client.models.set_alias("churn-ranker", "challenger", 2)
    return tuple(MODELS)


def seed_demo(
    client: Client, *, reviewer_client: ReviewerClient | None = None, seed: int = 7
) -> DemoSummary | None:
    """Seed the demo through `client`; None (and nothing written) when project `churn`
    already exists, so seeding twice never duplicates. `reviewer_client` makes the clients
    of the demo reviewers (from their API tokens), who approve the governed promotions."""
    if client.projects.exists(PROJECT):
        return None
    rng = random.Random(seed)  # demo data: determinism matters, not secrecy
    client.projects.create(PROJECT, "Customer churn prediction for the retention team.")
    grid = itertools.product(LEARNING_RATES, MAX_DEPTHS, N_ESTIMATORS, SUBSAMPLES)
    trials = [_Trial(lr, depth, trees, sample) for lr, depth, trees, sample in grid]
    scored: list[tuple[float, ActiveRun]] = []
    with tempfile.TemporaryDirectory(prefix="lockgate-demo-") as workdir:
        for trial in trials:
            run, auc = _seed_run(client, trial, rng, Path(workdir))
            if run.status == "finished":
                scored.append((auc, run))
    ranked = [run for _, run in sorted(scored, key=lambda pair: -pair[0])]
    models = _register(client, ranked)
    from lockgate.cli.demo_serving import SCORER, seed_scorer  # trains with scikit-learn

    served = seed_scorer(client, PROJECT) is not None
    verdict = None
    governed = None
    if served:
        from lockgate.cli.demo_evaluation import seed_comparison

        models = (*models, SCORER)
        comparison = seed_comparison(client, PROJECT)
        if comparison is not None:
            verdict = _verdict_line(comparison)
        if reviewer_client is not None:
            governed = seed_governance(client, PROJECT, reviewer_client)
    return DemoSummary(
        runs=len(trials) + 2 * served,
        failed=len(DIVERGES),
        killed=len(STOPPED),
        models=models,
        verdict=verdict,
        governed=governed,
    )


def _verdict_line(comparison: ComparisonOut) -> str:
    result = "PASS" if comparison.verdict.passed else "FAIL"
    candidate, baseline = comparison.candidate, comparison.baseline
    line = (
        f"{comparison.model} v{candidate.version} vs {comparison.baseline_alias or 'baseline'} "
        f"v{baseline.version} on {candidate.dataset.name}: {result}"
    )
    reasons = comparison.verdict.reasons
    return f"{line} ({reasons[0]})" if reasons else line
