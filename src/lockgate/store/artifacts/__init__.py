"""store/artifacts."""

__all__: list[str] = []
