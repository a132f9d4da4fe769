"""Storage: the ports (protocols.py) and their adapters (sql/, artifacts/)."""

__all__: list[str] = []
