"""Fixtures for Strongbox's own end-to-end tests: one real server per session,
driven with boto3 and the aws CLI exactly as users drive AWS."""

import os
import shutil
import subprocess
import time
import uuid

import boto3
import pytest
from botocore.config import Config

from server import binary as server_binary, running_server, scratch_dir

REGION = "us-east-1"


@pytest.fixture(scope="session")
def server():
    # test_sse.py's SSE-C tests run over plain HTTP, which Strongbox refuses by default
    # as S3 does; the shared server allows it (`serve --allow-sse-c-over-http`, set here
    # through its environment variable). test_s3_hardening.py checks the default.
    with running_server(extra_env={"STRONGBOX_ALLOW_SSE_C_OVER_HTTP": "true"}) as srv:
        yield srv


def client(srv, service, key=None, secret=None, token=None, **config):
    cfg = Config(region_name=REGION, retries={"max_attempts": 1}, **config)
    return boto3.client(
        service,
        endpoint_url=srv.endpoint,
        aws_access_key_id=key or srv.access_key,
        aws_secret_access_key=secret or srv.secret_key,
        aws_session_token=token,
        config=cfg,
    )


@pytest.fixture(scope="session")
def s3(server):
    """boto3 S3 client of the root user, default settings (CRC trailers, SigV4)."""
    return client(server, "s3")


@pytest.fixture(scope="session")
def iam(server):
    return client(server, "iam")


@pytest.fixture(scope="session")
def kms(server):
    return client(server, "kms")


@pytest.fixture(scope="session")
def sts(server):
    return client(server, "sts")


@pytest.fixture(scope="session")
def member(server, iam):
    """A member account made as on AWS: `organizations create-account`, then a session
    of its OrganizationAccountAccessRole (AdministratorAccess) assumed by a management
    account user (a root user may not call AssumeRole). `kw` holds the session's
    credentials for `client(server, service, **member.kw)`."""
    import json
    from types import SimpleNamespace

    from botocore.exceptions import ClientError

    org = client(server, "organizations")
    try:
        org.create_organization(FeatureSet="ALL")
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "AlreadyInOrganizationException"
    status = org.create_account(Email=f"m-{uuid.uuid4().hex[:6]}@example.com",
                                AccountName="e2e-member")["CreateAccountStatus"]
    while status["State"] == "IN_PROGRESS":
        time.sleep(0.2)
        status = org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
    account = status["AccountId"]
    name = f"assumer-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="assume", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    creds = client(server, "sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"]).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="e2e-admin",
        DurationSeconds=3600)["Credentials"]
    kw = dict(key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"])
    return SimpleNamespace(account=account, kw=kw)


@pytest.fixture
def bucket(s3):
    name = f"e2e-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    yield name
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
            for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
                s3.delete_object(Bucket=name, Key=v["Key"], VersionId=v["VersionId"])
        s3.delete_bucket(Bucket=name)
    except Exception:
        pass


@pytest.fixture(scope="session")
def aws(server, tmp_path_factory):
    """aws(*args, key=..., secret=..., token=...) runs the aws CLI against the server."""
    exe = shutil.which("aws")
    if not exe:
        pytest.skip("aws CLI not installed")
    home = tmp_path_factory.mktemp("awscli")

    def run(*args, key=None, secret=None, token=None, check=True, input=None, endpoint=None):
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(home),
            "AWS_ACCESS_KEY_ID": key or server.access_key,
            "AWS_SECRET_ACCESS_KEY": secret or server.secret_key,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            "AWS_PAGER": "",
        }
        if token:
            env["AWS_SESSION_TOKEN"] = token
        result = subprocess.run([exe, "--endpoint-url", endpoint or server.endpoint, *map(str, args)],
                                env=env, capture_output=True, text=True, input=input, timeout=300)
        if check and result.returncode != 0:
            raise AssertionError(f"aws {' '.join(map(str, args))} failed: {result.stderr}")
        return result

    return run


def enable_scps(server):
    """Turns on service control policies in the organization (idempotent); returns
    the Organizations client."""
    from botocore.exceptions import ClientError

    org = client(server, "organizations")
    root_id = org.list_roots()["Roots"][0]["Id"]
    try:
        org.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "PolicyTypeAlreadyEnabledException"
    return org


@pytest.fixture
def scratch():
    """A temporary directory for a test's own server data dirs."""
    with scratch_dir() as tmp:
        yield tmp


def new_user(iam, doc=None):
    """A new IAM user with inline policy `doc` (JSON text): (arn, access key id, secret)."""
    name = f"u-{uuid.uuid4().hex[:10]}"
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    if doc:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return arn, key["AccessKeyId"], key["SecretAccessKey"]


def explain(server, request_id):
    """The text `strongbox explain REQUEST_ID` prints."""
    time.sleep(0.3)  # the decision log is written in the background
    out = subprocess.run([server_binary(), "explain", request_id, "--data-dir", server.data_dir],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout
