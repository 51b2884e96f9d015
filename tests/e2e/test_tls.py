"""HTTPS: `serve --tls-cert --tls-key`. Requests over TLS carry aws:SecureTransport =
true and s3:TlsVersion, so AWS's usual bucket policies (deny when aws:SecureTransport
is false; deny old TLS versions) decide here as on AWS.

IAM User Guide, "AWS global condition context keys", aws:SecureTransport; Amazon S3
User Guide, "Enforcing a minimum version of TLS" (s3:TlsVersion, compared with
Numeric operators)."""

import json
import os
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
import uuid

import pytest

from conftest import REGION
from server import binary, running_server


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    with running_server(extra_args=["--tls-cert", str(cert), "--tls-key", str(key)]) as srv:
        srv.endpoint = f"https://127.0.0.1:{srv.port}"
        srv.ca = str(cert)
        yield srv


def s3_of(srv):
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=srv.endpoint, aws_access_key_id=srv.access_key,
                        aws_secret_access_key=srv.secret_key, verify=srv.ca,
                        config=Config(region_name=REGION, retries={"max_attempts": 1}))


def fetch(url, ca, max_tls=None):
    ctx = ssl.create_default_context(cafile=ca)
    if max_tls:
        ctx.maximum_version = max_tls
    try:
        with urllib.request.urlopen(url, context=ctx, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_https_round_trip_with_boto3_and_the_cli(tls_server, tmp_path):
    s3 = s3_of(tls_server)
    bucket = f"tls-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"over tls")
    assert s3.get_object(Bucket=bucket, Key="a.txt")["Body"].read() == b"over tls"
    exe = shutil.which("aws")
    if exe:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path),
               "AWS_ACCESS_KEY_ID": tls_server.access_key, "AWS_SECRET_ACCESS_KEY": tls_server.secret_key,
               "AWS_DEFAULT_REGION": REGION, "AWS_CONFIG_FILE": str(tmp_path / "config"),
               "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"), "AWS_PAGER": ""}
        out = subprocess.run([exe, "--endpoint-url", tls_server.endpoint, "--ca-bundle", tls_server.ca,
                              "s3", "ls", f"s3://{bucket}"], env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert "a.txt" in out.stdout


def test_secure_transport_and_tls_version_conditions(tls_server):
    s3 = s3_of(tls_server)
    bucket = f"tls-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="open/x", Body=b"x")
    s3.put_object(Bucket=bucket, Key="modern/x", Body=b"x")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "ModernTlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/modern/*",
         "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.3"}}},
    ]}))
    # Over HTTPS the DenyInsecureTransport statement does not apply.
    assert s3.get_object(Bucket=bucket, Key="open/x")["Body"].read() == b"x"
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "modern/x"})
    assert fetch(url, tls_server.ca)[0] == 200  # TLS 1.3 negotiated by default
    status, body = fetch(url, tls_server.ca, max_tls=ssl.TLSVersion.TLSv1_2)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body
    assert b"explicit deny in a resource-based policy" in body
    request_id = body.split(b"<RequestId>")[1].split(b"</RequestId>")[0].decode()
    out = subprocess.run([binary(), "explain", request_id, "--data-dir", tls_server.data_dir, "--json"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout.splitlines()[0])
    assert record["context"]["aws:SecureTransport"] == ["true"]
    assert record["context"]["s3:TlsVersion"] == ["1.2"]
    assert record["deciding_statement"] == '"ModernTlsOnly"'
    assert fetch(s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "open/x"}),
                 tls_server.ca, max_tls=ssl.TLSVersion.TLSv1_2)[0] == 200


def test_bad_certificate_files_stop_the_server(tmp_path):
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate\n")
    out = subprocess.run([binary(), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d"),
                          "--tls-cert", str(bogus), "--tls-key", str(bogus)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    assert "cannot set up TLS" in out.stderr
