"""The pure model of Lockgate: entities, value objects, state machines, events and errors."""

__all__: list[str] = []
