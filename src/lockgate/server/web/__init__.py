"""The web UI, served by the API server. For now: the sign-in page."""
