"""Shared test support: real external services (moto's S3) started for the test session."""
