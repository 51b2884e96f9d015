"""Server access logging end to end: Put/GetBucketLogging with boto3 (round trip,
disabling, validation as S3 answers it) and log delivery: after a PUT, a GET, a denied
anonymous GET and a 404, a log object appears in the target bucket under the prefix,
with one line per request in S3's documented field order.

References: S3 API Reference PutBucketLogging
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLogging.html),
GetBucketLogging (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLogging.html);
S3 User Guide "Amazon S3 server access log format"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/LogFormat.html), "Logging requests
with server access logging" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html)
and "Permissions for log delivery"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html)."""

import json
import re
import time
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import client
from server import running_server, unsigned_get

WAIT = 20  # seconds to wait for a delivery at most

# The documented fields, in order, as log-parsing tools match them.
LINE = re.compile(
    r'^(?P<owner>\S+) (?P<bucket>\S+) \[(?P<time>[^\]]+)\] (?P<ip>\S+) (?P<requester>\S+) '
    r'(?P<request_id>\S+) (?P<operation>\S+) (?P<key>\S+) "(?P<uri>[^"]*)" (?P<status>\d{3}) '
    r'(?P<error>\S+) (?P<bytes_sent>\S+) (?P<object_size>\S+) (?P<total_time>\S+) '
    r'(?P<turnaround>\S+) "(?P<referer>[^"]*)" "(?P<user_agent>[^"]*)" (?P<version_id>\S+) '
    r'(?P<host_id>\S+) (?P<sig>\S+) (?P<cipher>\S+) (?P<auth>\S+) (?P<host>\S+) (?P<tls>\S+) '
    r'(?P<access_point>\S+) (?P<acl_required>\S+)$'
)


@pytest.fixture(scope="module")
def srv():
    with running_server(extra_args=("--access-log-interval", "300ms")) as s:
        yield s


@pytest.fixture(scope="module")
def s3(srv):
    return client(srv, "s3")


def name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def delivery_policy(target, source, account, prefix="logs/"):
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{target}/{prefix}*",
            "Condition": {
                "ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{source}"},
                "StringEquals": {"aws:SourceAccount": account},
            },
        }],
    })


def account_of(srv):
    return client(srv, "sts").get_caller_identity()["Account"]


def enable(s3, source, target, prefix="logs/", key_format=None):
    enabled = {"TargetBucket": target, "TargetPrefix": prefix}
    if key_format:
        enabled["TargetObjectKeyFormat"] = key_format
    s3.put_bucket_logging(Bucket=source, BucketLoggingStatus={"LoggingEnabled": enabled})


@pytest.fixture
def pair(srv, s3):
    source, target = name("src"), name("logs")
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=target)
    s3.put_bucket_policy(Bucket=target, Policy=delivery_policy(target, source, account_of(srv)))
    return source, target


def test_config_round_trip_and_disable(s3, pair):
    source, target = pair
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=source)
    enable(s3, source, target)
    got = s3.get_bucket_logging(Bucket=source)["LoggingEnabled"]
    assert got["TargetBucket"] == target and got["TargetPrefix"] == "logs/"
    assert "SimplePrefix" in got["TargetObjectKeyFormat"]
    enable(s3, source, target,
           key_format={"PartitionedPrefix": {"PartitionDateSource": "DeliveryTime"}})
    got = s3.get_bucket_logging(Bucket=source)["LoggingEnabled"]
    assert got["TargetObjectKeyFormat"]["PartitionedPrefix"]["PartitionDateSource"] == "DeliveryTime"
    s3.put_bucket_logging(Bucket=source, BucketLoggingStatus={})
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=source)


def test_target_without_delivery_policy_is_refused(s3):
    source, target = name("src"), name("nopol")
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=target)
    with pytest.raises(ClientError) as e:
        enable(s3, source, target)
    assert e.value.response["Error"]["Code"] == "InvalidTargetBucketForLogging"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_policy_for_another_prefix_or_source_is_refused(srv, s3):
    source, target = name("src"), name("other")
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=target)
    s3.put_bucket_policy(Bucket=target,
                         Policy=delivery_policy(target, "some-other-bucket", account_of(srv)))
    with pytest.raises(ClientError) as e:
        enable(s3, source, target)
    assert e.value.response["Error"]["Code"] == "InvalidTargetBucketForLogging"
    s3.put_bucket_policy(Bucket=target, Policy=delivery_policy(target, source, account_of(srv),
                                                               prefix="elsewhere/"))
    with pytest.raises(ClientError) as e:
        enable(s3, source, target)
    assert e.value.response["Error"]["Code"] == "InvalidTargetBucketForLogging"


def test_target_of_another_account_is_refused(server, member):
    """The target must be owned by the source's account, even when its policy allows
    delivery: AWS answers InvalidTargetBucketForLogging "The owner for the bucket to be
    logged and the target bucket must be the same." (shared server: the member account)."""
    root = client(server, "s3")
    other = client(server, "s3", **member.kw)
    source, target = name("src"), name("xacct")
    root.create_bucket(Bucket=source)
    other.create_bucket(Bucket=target)
    other.put_bucket_policy(Bucket=target,
                            Policy=delivery_policy(target, source, account_of(server)))
    with pytest.raises(ClientError) as e:
        enable(root, source, target)
    err = e.value.response["Error"]
    assert err["Code"] == "InvalidTargetBucketForLogging"
    assert err["Message"] == ("The owner for the bucket to be logged and the target bucket "
                              "must be the same.")
    assert err["TargetBucket"] == target


def test_missing_target_is_refused(s3):
    source = name("src")
    s3.create_bucket(Bucket=source)
    with pytest.raises(ClientError) as e:
        enable(s3, source, name("missing"))
    assert e.value.response["Error"]["Code"] == "InvalidTargetBucketForLogging"


def test_logging_requires_permission(srv, s3, pair):
    source, _ = pair
    iam = client(srv, "iam")
    user = name("u")
    iam.create_user(UserName=user)
    keys = iam.create_access_key(UserName=user)["AccessKey"]
    other = client(srv, "s3", key=keys["AccessKeyId"], secret=keys["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        other.get_bucket_logging(Bucket=source)
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as e:
        other.put_bucket_logging(Bucket=source, BucketLoggingStatus={})
    assert e.value.response["Error"]["Code"] == "AccessDenied"


def wait_for_log_lines(s3, target, prefix, count, containing=None):
    """The delivered log objects and their lines, once there are `count` lines (and a
    line with `containing`, e.g. a request id: records are delivered in batches)."""
    deadline = time.time() + WAIT
    lines = []
    while time.time() < deadline:
        listed = s3.list_objects_v2(Bucket=target, Prefix=prefix).get("Contents", [])
        lines = []
        for obj in listed:
            body = s3.get_object(Bucket=target, Key=obj["Key"])["Body"].read().decode()
            lines += [line for line in body.splitlines() if line]
        if len(lines) >= count and (containing is None or any(containing in line for line in lines)):
            return listed, lines
        time.sleep(0.3)
    return [], lines


def test_records_are_delivered_in_the_documented_format(srv, s3, pair):
    source, target = pair
    enable(s3, source, target)
    put = s3.put_object(Bucket=source, Key="hello world.txt", Body=b"hello")
    get = s3.get_object(Bucket=source, Key="hello world.txt")
    assert get["Body"].read() == b"hello"
    status, denied_id = unsigned_get(srv, f"/{source}/hello%20world.txt", {})
    assert status == 403
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=source, Key="missing")
    missing_id = e.value.response["ResponseMetadata"]["RequestId"]

    listed, lines = wait_for_log_lines(s3, target, "logs/", 4)
    assert listed, "no log object delivered"
    # Log objects are encrypted at rest like every object (SSE-S3).
    head = s3.head_object(Bucket=target, Key=listed[0]["Key"])
    assert head["ServerSideEncryption"] == "AES256"
    for obj in listed:
        assert re.fullmatch(r"logs/\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}", obj["Key"])
    records = {}
    for line in lines:
        m = LINE.match(line)
        assert m, f"unparsable log line: {line!r}"
        records[m["request_id"]] = m
    account = account_of(srv)

    rec = records[put["ResponseMetadata"]["RequestId"]]
    assert rec["bucket"] == source and rec["operation"] == "REST.PUT.OBJECT"
    assert rec["key"] == "hello%20world.txt" and rec["status"] == "200" and rec["error"] == "-"
    assert rec["object_size"] == "5"
    assert rec["requester"] == f"arn:aws:iam::{account}:root"
    assert rec["sig"] == "SigV4" and rec["auth"] == "AuthHeader"
    assert rec["uri"].startswith(f"PUT /{source}/hello%20world.txt")
    assert re.fullmatch(r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000", rec["time"])
    assert rec["owner"] != "-" and rec["ip"] == "127.0.0.1"

    rec = records[get["ResponseMetadata"]["RequestId"]]
    assert rec["operation"] == "REST.GET.OBJECT" and rec["status"] == "200"
    assert rec["bytes_sent"] == "5" and rec["object_size"] == "5"

    rec = records[denied_id]
    assert rec["operation"] == "REST.GET.OBJECT" and rec["status"] == "403"
    assert rec["error"] == "AccessDenied" and rec["requester"] == "-"
    assert rec["sig"] == "-" and rec["auth"] == "-"

    rec = records[missing_id]
    assert rec["status"] == "404" and rec["error"] == "NoSuchKey"


@pytest.mark.parametrize("version,label", [("s3", "SigV2"), ("s3v4", "SigV4")])
def test_presigned_requests_are_logged_without_their_signature(srv, s3, pair, version, label):
    source, target = pair
    enable(s3, source, target)
    s3.put_object(Bucket=source, Key="p", Body=b"abc")
    signer = client(srv, "s3", signature_version=version)
    url = signer.generate_presigned_url("get_object", Params={"Bucket": source, "Key": "p"})
    with urllib.request.urlopen(url) as resp:
        assert resp.read() == b"abc"
        request_id = resp.headers["x-amz-request-id"]
    _, lines = wait_for_log_lines(s3, target, "logs/", 2, containing=request_id)
    records = {m["request_id"]: m for m in map(LINE.match, lines) if m}
    rec = records[request_id]
    assert rec["auth"] == "QueryString" and rec["sig"] == label
    assert rec["uri"].startswith(f"GET /{source}/p") and rec["uri"].endswith(" HTTP/1.1")
    assert not any(secret in line for line in lines
                   for secret in ("Signature", "Credential", "AWSAccessKeyId"))


def test_browser_post_uploads_are_logged(s3, pair):
    import requests
    source, target = pair
    enable(s3, source, target)
    post = s3.generate_presigned_post(Bucket=source, Key="form.txt")
    resp = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"form")})
    assert resp.status_code == 204
    _, lines = wait_for_log_lines(s3, target, "logs/", 1, containing=resp.headers["x-amz-request-id"])
    records = {m["request_id"]: m for m in map(LINE.match, lines) if m}
    rec = records[resp.headers["x-amz-request-id"]]
    assert rec["status"] == "204" and rec["uri"] == f"POST /{source} HTTP/1.1"
    assert rec["operation"] == "REST.POST.BUCKET"
    assert rec["auth"] == "-" and rec["error"] == "-"


def test_delivery_stops_when_the_policy_is_removed(s3, pair):
    source, target = pair
    enable(s3, source, target)
    s3.delete_bucket_policy(Bucket=target)
    s3.put_object(Bucket=source, Key="k", Body=b"x")
    time.sleep(1.5)
    assert not s3.list_objects_v2(Bucket=target).get("Contents")
