"""A real S3-compatible server for tests: moto's standalone server on a free local port."""
from __future__ import annotations

import uuid

import pytest


@pytest.fixture()
def s3_store(monkeypatch):
    """(storage URL, environment for another process): an empty bucket on a moto server."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {"CRM_S3_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "test-key",
           "AWS_SECRET_ACCESS_KEY": "test-secret", "CRM_S3_REGION": "us-east-1"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    bucket = f"crm-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=env["CRM_S3_ENDPOINT_URL"], region_name="us-east-1").create_bucket(Bucket=bucket)
    try:
        yield f"s3://{bucket}/county", env
    finally:
        server.stop()
