"""Signing keys: the Ed25519 key that signs model version manifests."""

from lockgate.store.keys.ed25519 import Ed25519Signer

__all__ = ["Ed25519Signer"]
