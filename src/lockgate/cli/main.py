"""The `lockgate` command: one group per area, and the one place where a Lockgate error becomes
a one-line red message and exit code 1 (usage errors exit 2)."""

from __future__ import annotations

from typing import Any

import click

from lockgate.cli.admin import admin
from lockgate.cli.artifacts import artifacts
from lockgate.cli.audit import audit
from lockgate.cli.context import CliState, settings_options, token_option
from lockgate.cli.decommission import retention, retire
from lockgate.cli.demo import demo
from lockgate.cli.evaluation import evaluation_group
from lockgate.cli.evaluation_run import compare_command, run_command
from lockgate.cli.evidence import compliance, evidence
from lockgate.cli.identity import grants, principals, teams, tokens, whoami
from lockgate.cli.lineage import lineage
from lockgate.cli.model_cards import card
from lockgate.cli.policies import policy
from lockgate.cli.promotions import (
    environments,
    exceptions,
    promote,
    promotions,
    tier_command,
)
from lockgate.cli.registry import models
from lockgate.cli.scoring import score
from lockgate.cli.server import db, server
from lockgate.cli.serving import serve
from lockgate.cli.tracking import projects, runs
from lockgate.domain.errors import LockgateError
from lockgate.version import __version__

__all__ = ["CommandFailedError", "cli", "main"]


class CommandFailedError(click.ClickException):
    """A LockgateError on its way out of the CLI: printed as one red line, exit code 1."""

    exit_code = 1

    def __init__(self, error: LockgateError) -> None:
        field = f" (field: {error.field})" if error.field else ""
        super().__init__(f"{error.message}{field}")
        self.error = error

    def show(self, file: Any = None) -> None:
        click.secho(f"error: {self.message}", fg="red", err=True)


class LockgateGroup(click.Group):
    """The root group: turns any LockgateError a command raises into a CommandFailedError."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LockgateError as error:
            raise CommandFailedError(error) from error


@click.group(cls=LockgateGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lockgate")
@settings_options
@token_option
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Lockgate: track runs, register models, control who may do what, and audit every
    change."""
    ctx.ensure_object(CliState)


evaluation_group.add_command(run_command)
admin.add_command(retention)
evaluation_group.add_command(compare_command)
models.add_command(tier_command)

for command in (
    projects,
    runs,
    models,
    retire,
    evaluation_group,
    promote,
    promotions,
    environments,
    exceptions,
    policy,
    card,
    lineage,
    artifacts,
    audit,
    evidence,
    compliance,
    whoami,
    principals,
    teams,
    tokens,
    grants,
    admin,
    server,
    serve,
    score,
    db,
    demo,
):
    cli.add_command(command)


def main() -> None:
    """The console script `lockgate`."""
    cli.main(prog_name="lockgate")
