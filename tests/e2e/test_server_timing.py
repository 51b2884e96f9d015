"""`serve --server-timing`: each answer says where the request's time went
(W3C Server-Timing: authn, authz, queue, db, flush, kms, total in ms); off by default."""

import uuid

from conftest import client
from server import running_server


def timings(response):
    value = response["ResponseMetadata"]["HTTPHeaders"]["server-timing"]
    out = {}
    for part in value.split(","):
        name, dur = part.strip().split(";dur=")
        out[name] = float(dur)
    return out


def test_put_reports_its_steps():
    with running_server(extra_args=("--server-timing",)) as srv:
        s3 = client(srv, "s3")
        bucket = f"timing-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=bucket)
        put = s3.put_object(Bucket=bucket, Key="k", Body=b"x" * 4096)
        t = timings(put)
        assert set(t) == {"authn", "authz", "queue", "db", "flush", "kms", "total"}
        assert t["kms"] == 0  # SSE-S3: no KMS call
        # A signed, authorized, durably committed PUT spends time in every step.
        for step in ("authn", "authz", "db", "flush"):
            assert t[step] > 0, (step, t)
        # One client: nobody else holds the writer long.
        assert t["queue"] >= 0
        steps = t["authn"] + t["authz"] + t["queue"] + t["db"] + t["flush"]
        assert t["total"] >= steps - 0.01
        # A GET writes nothing.
        get = s3.get_object(Bucket=bucket, Key="k")
        g = timings(get)
        assert g["authn"] > 0 and g["authz"] > 0
        assert g["flush"] == 0
        # SSE-KMS: the GenerateDataKey and Decrypt calls made as the caller are timed.
        key = client(srv, "kms").create_key()["KeyMetadata"]["Arn"]
        put = s3.put_object(Bucket=bucket, Key="kms", Body=b"x" * 4096, ServerSideEncryption="aws:kms",
                            SSEKMSKeyId=key)
        assert timings(put)["kms"] > 0
        assert timings(s3.get_object(Bucket=bucket, Key="kms"))["kms"] > 0
        # Failures are timed too: an unknown key fails in authentication.
        bad = client(srv, "s3", key="AKIANOSUCHKEY0000000", secret="x" * 40)
        try:
            bad.head_bucket(Bucket=bucket)
        except Exception as err:  # ClientError with the response headers
            headers = err.response["ResponseMetadata"]["HTTPHeaders"]
            assert "server-timing" in headers
        else:
            raise AssertionError("an unknown access key was accepted")


def test_off_by_default(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert "server-timing" not in put["ResponseMetadata"]["HTTPHeaders"]
