"""A real S3 endpoint for tests: moto's server on 127.0.0.1 on a free port, with one bucket.

It fails loudly (never skips) when the server cannot start: S3 tests must run.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import boto3
import pytest
from moto.server import ThreadedMotoServer

__all__ = ["FAKE_CREDENTIALS", "S3Endpoint", "moto_s3_server", "use_fake_credentials"]

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "lockgate-fake-key-id",
    "AWS_SECRET_ACCESS_KEY": "lockgate-fake-secret-never-logged",
    "AWS_SESSION_TOKEN": "lockgate-fake-session-token",
    "AWS_DEFAULT_REGION": "us-east-1",
}
_START_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True, slots=True)
class S3Endpoint:
    """A running S3 server and the bucket created on it."""

    endpoint_url: str
    bucket: str


def use_fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the AWS credential chain at fake keys only, away from any real config."""
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/lockgate-test-aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/lockgate-test-aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@contextmanager
def moto_s3_server(bucket: str = "lockgate-test") -> Iterator[S3Endpoint]:
    """Start moto's S3 server in this process on a free loopback port, create `bucket`, and
    stop the server on exit.

    Raises:
        RuntimeError: The server did not start in time (the caller's tests then fail).
    """
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    # start() waits without a timeout and never returns if binding fails, so wait on it here.
    starter = threading.Thread(target=server.start, daemon=True)
    starter.start()
    starter.join(_START_TIMEOUT_SECONDS)
    if starter.is_alive():
        raise RuntimeError(f"moto S3 server did not start within {_START_TIMEOUT_SECONDS}s")
    try:
        host, port = server.get_host_and_port()
        endpoint = S3Endpoint(endpoint_url=f"http://{host}:{port}", bucket=bucket)
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint.endpoint_url,
            region_name=FAKE_CREDENTIALS["AWS_DEFAULT_REGION"],
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        client.create_bucket(Bucket=bucket)
        client.close()
        yield endpoint
    finally:
        server.stop()
