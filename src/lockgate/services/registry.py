"""Registry use cases: registered models, immutable versions and aliases with history."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from lockgate.domain.access import Caller, Permission
from lockgate.domain.errors import ConflictError, InvalidInputError, NotFoundError
from lockgate.domain.governance.lineage import LineageEdge, LineageNode, LineageRelation
from lockgate.domain.identity import check_id
from lockgate.domain.names import check_alias, check_artifact_path, check_name, check_text
from lockgate.domain.packaging import FLAVORS, Signer, build_manifest
from lockgate.domain.pagination import Page, check_page_size
from lockgate.domain.registry import (
    AliasMove,
    ModelId,
    ModelRef,
    ModelVersion,
    RegisteredModel,
    Signature,
    VersionFile,
    check_metadata,
)
from lockgate.domain.tracking import ProjectId, RunId, RunStatus
from lockgate.services.context import ServiceContext
from lockgate.store.protocols import UnitOfWork

__all__ = ["RegistryService"]

MAX_VERSION_FILES = 10_000


class RegistryService:
    """Registered models, their versions, and aliases with a queryable history."""

    def __init__(self, context: ServiceContext, signer: Signer) -> None:
        self._ctx = context
        self._signer = signer

    def create_model(
        self,
        caller: Caller,
        project_name: str,
        name: str,
        owner: str,
        description: str,
        metadata: dict[str, str],
    ) -> RegisteredModel:
        """Register a model name in a project; owner and description are required."""
        RegisteredModel.check(name, owner, description, metadata)
        with self._ctx.uow() as uow:
            project = uow.projects.get_by_name(project_name)
            self._ctx.authorize(uow, caller, Permission.MODEL_WRITE, project_id=project.id)
            model = RegisteredModel(
                ModelId(self._ctx.ids.new_id()),
                project.id,
                name,
                owner.strip(),
                description,
                dict(metadata),
                self._ctx.clock.now(),
                caller.actor,
                project.name,
            )
            uow.models.add_model(model)
            self._ctx.record(
                uow,
                "model.created",
                caller,
                ("model", name),
                {"project": project.name, "owner": model.owner},
            )
            uow.commit()
        return model

    def get_model(self, caller: Caller, name: str) -> RegisteredModel:
        """Raises NotFoundError."""
        check_name(name, field="name")
        with self._ctx.uow(read_only=True) as uow:
            model = self._ctx.authorized_model(uow, caller, name, Permission.PROJECT_READ)
            return self._named(uow, model)

    def list_models(
        self,
        caller: Caller,
        project_name: str | None,
        page_size: int,
        cursor: str | None,
        *,
        include_archived: bool = False,
    ) -> Page[RegisteredModel]:
        """The models the caller may see, ordered by name, of one project or all; retired
        (archived) models only when `include_archived`."""
        check_page_size(page_size)
        with self._ctx.uow(read_only=True) as uow:
            project_id = uow.projects.get_by_name(project_name).id if project_name else None
            visible = caller.project_filter()
            page = uow.models.list_models(
                project_id, page_size, cursor, visible, include_archived=include_archived
            )
            return Page([self._named(uow, m) for m in page.items], page.next_cursor)

    def create_version(
        self,
        caller: Caller,
        model_name: str,
        run_id: str,
        artifact_path: str,
        signature: Signature | None,
        description: str,
        metadata: dict[str, str],
        flavor: str = "unknown",
    ) -> ModelVersion:
        """Freeze the files a run logged under `artifact_path` into a new, immutable version,
        with a manifest signed by the registry's key.

        The run must belong to the model's project and must not have failed or been killed.
        Version numbers are allocated atomically, so concurrent registrations never collide.
        """
        if flavor not in FLAVORS:
            raise InvalidInputError(f"flavor must be one of {', '.join(FLAVORS)}", field="flavor")
        check_id(run_id, field="run_id")
        check_artifact_path(artifact_path, field="artifact_path")
        check_text(description, field="description")
        check_metadata(metadata)
        if signature is not None:
            signature.check()
        with self._ctx.uow() as uow:
            model = self._ctx.authorized_model(uow, caller, model_name, Permission.MODEL_WRITE)
            if model.archive is not None:
                raise ConflictError(f"model {model.name} is retired; it takes no new versions")
            run = uow.runs.get(RunId(run_id))
            if run.project_id != model.project_id:
                raise InvalidInputError(
                    "the run belongs to another project than the model", field="run_id"
                )
            if run.status in {RunStatus.FAILED, RunStatus.KILLED}:
                raise ConflictError(f"run {run.id} {run.status}; register from a good run")
            files = self._files_under(uow, run.id, artifact_path)
            number = uow.models.allocate_version(model.id)
            version = ModelVersion(
                model.id,
                model.name,
                number,
                run.id,
                artifact_path,
                files,
                signature,
                description,
                dict(metadata),
                self._ctx.clock.now(),
                caller.actor,
            )
            uow.models.add_version(version)
            uow.lineage.add_edge(
                LineageEdge(
                    LineageNode.run(run.id),
                    LineageNode.model_version(model.id, number),
                    LineageRelation.PRODUCED,
                    version.created_at,
                    model.project_id,
                )
            )
            manifest = build_manifest(version, run.environment, flavor)
            sealed = self._signer.sign(manifest.canonical())
            uow.packages.add(model.id, manifest, sealed)
            self._ctx.record(
                uow,
                "model_version.created",
                caller,
                ("model_version", f"{model.name}/{number}"),
                {
                    "run_id": run.id,
                    "artifact_path": artifact_path,
                    "manifest_sha256": manifest.digest,
                    "key_id": sealed.key_id,
                    "files": {f.path: f.digest for f in files},
                },
            )
            uow.commit()
        return version

    def get_version(self, caller: Caller, model_name: str, version: int) -> ModelVersion:
        """Raises NotFoundError."""
        with self._ctx.uow(read_only=True) as uow:
            model = self._ctx.authorized_model(uow, caller, model_name, Permission.PROJECT_READ)
            return uow.models.get_version(model.name, version)

    def list_versions(
        self,
        caller: Caller,
        model_name: str,
        page_size: int,
        cursor: str | None,
        *,
        include_archived: bool = False,
    ) -> Page[ModelVersion]:
        """Versions of a model, newest first; retired (archived) ones only when
        `include_archived`."""
        check_page_size(page_size)
        with self._ctx.uow(read_only=True) as uow:
            model = self._ctx.authorized_model(uow, caller, model_name, Permission.PROJECT_READ)
            return uow.models.list_versions(
                model.name, page_size, cursor, include_archived=include_archived
            )

    def resolve(self, caller: Caller, ref: str) -> ModelVersion:
        """The version a reference names: `churn/3`, `churn@champion` or `churn` (latest)."""
        parsed = ModelRef.parse(ref)
        with self._ctx.uow(read_only=True) as uow:
            model = self._ctx.authorized_model(uow, caller, parsed.name, Permission.PROJECT_READ)
            if parsed.version is not None:
                return uow.models.get_version(model.name, parsed.version)
            if parsed.alias is not None:
                number = uow.models.current_alias(model.id, parsed.alias)
                if number is None:
                    raise NotFoundError(f"model {model.name} has no alias {parsed.alias!r}")
                return uow.models.get_version(model.name, number)
            return uow.models.latest_version(model.name)

    def set_alias(self, caller: Caller, model_name: str, alias: str, version: int) -> AliasMove:
        """Point an alias at a version, recording the move in the alias history."""
        check_alias(alias)
        with self._ctx.uow() as uow:
            model = self._ctx.authorized_model(uow, caller, model_name, Permission.ALIAS_MOVE)
            _refuse_environment_alias(uow, alias)
            if uow.models.get_version(model.name, version).archive is not None:
                raise ConflictError(f"{model.name}/{version} is retired; it takes no aliases")
            return self._move(uow, caller, model, alias, version)

    def delete_alias(self, caller: Caller, model_name: str, alias: str) -> AliasMove:
        """Remove an alias; the removal stays in its history."""
        check_alias(alias)
        with self._ctx.uow() as uow:
            model = self._ctx.authorized_model(uow, caller, model_name, Permission.ALIAS_MOVE)
            _refuse_environment_alias(uow, alias)
            if uow.models.current_alias(model.id, alias) is None:
                raise NotFoundError(f"model {model.name} has no alias {alias!r}")
            return self._move(uow, caller, model, alias, None)

    def alias_at(self, caller: Caller, model_name: str, alias: str, at: datetime) -> ModelVersion:
        """The version an alias pointed to at a moment; NotFoundError if it pointed nowhere."""
        check_alias(alias)
        if at.tzinfo is None:
            raise InvalidInputError("at must carry a timezone", field="at")
        with self._ctx.uow(read_only=True) as uow:
            model = self._ctx.authorized_model(uow, caller, model_name, Permission.PROJECT_READ)
            number = uow.models.alias_at(model.id, alias, at)
            if number is None:
                raise NotFoundError(
                    f"alias {alias!r} of model {model.name} pointed to no version at "
                    f"{at.isoformat()}"
                )
            return uow.models.get_version(model.name, number)

    def alias_history(self, caller: Caller, model_name: str, alias: str | None) -> list[AliasMove]:
        """Every move of an alias (or of all aliases), oldest first."""
        if alias is not None:
            check_alias(alias)
        with self._ctx.uow(read_only=True) as uow:
            model = self._ctx.authorized_model(uow, caller, model_name, Permission.PROJECT_READ)
            return uow.models.alias_history(model.id, alias)

    def _move(
        self,
        uow: UnitOfWork,
        caller: Caller,
        model: RegisteredModel,
        alias: str,
        version: int | None,
    ) -> AliasMove:
        previous = uow.models.current_alias(model.id, alias)
        move = AliasMove(model.name, alias, version, previous, self._ctx.clock.now(), caller.actor)
        uow.models.move_alias(model.id, move)
        action = "alias.deleted" if version is None else "alias.moved"
        self._ctx.record(
            uow,
            action,
            caller,
            ("model", model.name),
            {"alias": alias, "version": version, "previous_version": previous},
        )
        uow.commit()
        return move

    @staticmethod
    def _files_under(uow: UnitOfWork, run_id: RunId, artifact_path: str) -> tuple[VersionFile, ...]:
        try:
            below = [uow.artifacts.get_run_artifact(run_id, artifact_path)]
        except NotFoundError:
            below = uow.artifacts.list_run_artifacts(run_id, artifact_path)
        if not below:
            raise InvalidInputError(
                f"run {run_id} logged no artifacts under {artifact_path!r}", field="artifact_path"
            )
        if len(below) > MAX_VERSION_FILES:
            raise InvalidInputError(
                f"a version holds at most {MAX_VERSION_FILES} files", field="artifact_path"
            )
        prefix = artifact_path.rstrip("/") + "/"
        return tuple(
            VersionFile(
                a.path.removeprefix(prefix)
                if a.path != artifact_path
                else a.path.rsplit("/", 1)[-1],
                a.digest,
                a.size,
            )
            for a in below
        )

    @staticmethod
    def _named(uow: UnitOfWork, model: RegisteredModel) -> RegisteredModel:
        if model.project_name:
            return model
        project = uow.projects.get(ProjectId(model.project_id))
        return replace(model, project_name=project.name)


def _refuse_environment_alias(uow: UnitOfWork, alias: str) -> None:
    """An alias named after an environment points at the version current there: only a
    promotion moves it (so `churn@production` is always what the gates let in)."""
    if any(e.name == alias for e in uow.environments.list_environments()):
        raise ConflictError(
            f"alias {alias!r} names an environment; it is moved only by promotion "
            f"(lockgate promote MODEL/VERSION --to {alias} --reason ...)"
        )
