"""The `lockgate` command line: one command group per area over the SDK; admin commands
(`server`, `db`, `demo`, local `audit verify`) go through the composition root."""

__all__: list[str] = []
