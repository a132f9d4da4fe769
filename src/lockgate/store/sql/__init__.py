"""store/sql."""

__all__: list[str] = []
