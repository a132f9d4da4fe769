"""The version of Lockgate, in one place (importable without pulling in any layer)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
