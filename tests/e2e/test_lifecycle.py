"""S3 Lifecycle end to end: Put/Get/DeleteBucketLifecycleConfiguration with boto3, the
aws CLI and raw signed requests (validation errors as S3 answers them), authorization,
and the background worker with a scaled clock (one lifecycle day = DAY seconds):
expiration (unversioned and versioned), noncurrent expiration with
NewerNoncurrentVersions, expired delete markers, aborting incomplete uploads, filters,
Object Lock, and x-amz-expiration.

References: S3 API Reference PutBucketLifecycleConfiguration
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html),
LifecycleRuleFilter, LifecycleExpiration; S3 User Guide "Lifecycle configuration elements"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html)."""

import base64
import hashlib
import json
import time
import urllib.error
import urllib.request
import uuid
from xml.etree import ElementTree
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import REGION, client
from server import running_server

DAY = 2  # seconds per lifecycle day on the test server
WAIT = 20  # seconds to wait for the worker at most


@pytest.fixture(scope="module")
def lc_server():
    with running_server(extra_args=("--lifecycle-day-seconds", str(DAY),
                                    "--lifecycle-interval", "300ms")) as srv:
        yield srv


@pytest.fixture(scope="module")
def s3(lc_server):
    return client(lc_server, "s3")


@pytest.fixture
def bkt(s3):
    name = f"lc-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def versioned(s3):
    name = f"lcv-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def rule(rule_id="r1", prefix="", **actions):
    return {"ID": rule_id, "Status": "Enabled", "Filter": {"Prefix": prefix}, **actions}


def put_rules(s3, bucket, *rules):
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": list(rules)})


def error_of(fn, **kwargs):
    with pytest.raises(ClientError) as e:
        fn(**kwargs)
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Code"), r["Error"].get("Message", "")


def eventually(check, timeout=WAIT):
    """Polls `check` until it returns a truthy value; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("the lifecycle worker did not act in time")
        time.sleep(0.2)


def exists(s3, bucket, key):
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as e:
        assert e.response["Error"]["Code"] in ("404", "NoSuchKey"), e.response
        return False


def versions_of(s3, bucket, key):
    out = s3.list_object_versions(Bucket=bucket, Prefix=key)
    vs = [v for v in out.get("Versions", []) if v["Key"] == key]
    ms = [m for m in out.get("DeleteMarkers", []) if m["Key"] == key]
    return vs, ms


def signed_put(srv, bucket, body, headers=None):
    """PUT /bucket?lifecycle with `body` verbatim, SigV4-signed; returns (status, code, message)."""
    request = AWSRequest(method="PUT", url=f"{srv.endpoint}/{bucket}?lifecycle", data=body,
                         headers=dict(headers or {}))
    request.headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
    S3SigV4Auth(Credentials(srv.access_key, srv.secret_key), "s3", REGION).add_auth(request)
    prepared = urllib.request.Request(request.url, data=body, method="PUT",
                                      headers=dict(request.headers.items()))
    try:
        with urllib.request.urlopen(prepared, timeout=30) as resp:
            return resp.status, None, ""
    except urllib.error.HTTPError as e:
        root = ElementTree.fromstring(e.read())
        return e.code, root.findtext("Code"), root.findtext("Message") or ""


def md5_header(body):
    return {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}


def doc(*rules):
    return ('<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            + "".join(f"<Rule>{r}</Rule>" for r in rules) + "</LifecycleConfiguration>").encode()


# --- configuration API ---------------------------------------------------------------------

def test_round_trip_get_and_delete(s3, bkt):
    status, code, _ = error_of(s3.get_bucket_lifecycle_configuration, Bucket=bkt)
    assert (status, code) == (404, "NoSuchLifecycleConfiguration")
    rules = [
        {"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 30}},
        {"ID": "tagged", "Status": "Disabled",
         "Filter": {"And": {"Prefix": "t/", "Tags": [{"Key": "k", "Value": "v"}, {"Key": "k2", "Value": ""}],
                            "ObjectSizeGreaterThan": 10, "ObjectSizeLessThan": 1000}},
         "Expiration": {"Date": datetime(2030, 1, 1, tzinfo=timezone.utc)},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 5, "NewerNoncurrentVersions": 3}},
        {"ID": "markers", "Status": "Enabled", "Filter": {}, "Expiration": {"ExpiredObjectDeleteMarker": True},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
        {"ID": "size", "Status": "Enabled", "Filter": {"ObjectSizeLessThan": 4096},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
    ]
    put_rules(s3, bkt, *rules)
    got = s3.get_bucket_lifecycle_configuration(Bucket=bkt)["Rules"]
    assert [r["ID"] for r in got] == ["logs", "tagged", "markers", "size"]
    assert got[0]["Filter"] == {"Prefix": "logs/"} and got[0]["Expiration"] == {"Days": 30}
    assert got[1]["Status"] == "Disabled"
    assert got[1]["Filter"]["And"]["Tags"] == [{"Key": "k", "Value": "v"}, {"Key": "k2", "Value": ""}]
    assert got[1]["Filter"]["And"]["ObjectSizeGreaterThan"] == 10
    assert got[1]["Expiration"]["Date"] == datetime(2030, 1, 1, tzinfo=timezone.utc)
    assert got[1]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 5, "NewerNoncurrentVersions": 3}
    assert got[2]["Expiration"] == {"ExpiredObjectDeleteMarker": True}
    assert got[2]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert got[3]["Filter"] == {"ObjectSizeLessThan": 4096}
    # A Put replaces the whole configuration.
    put_rules(s3, bkt, rule("only", Expiration={"Days": 1}))
    assert [r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=bkt)["Rules"]] == ["only"]
    resp = s3.delete_bucket_lifecycle(Bucket=bkt)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    status, code, _ = error_of(s3.get_bucket_lifecycle_configuration, Bucket=bkt)
    assert (status, code) == (404, "NoSuchLifecycleConfiguration")


def test_rule_without_id_gets_one_and_legacy_prefix_round_trips(lc_server, s3, bkt):
    body = doc("<Prefix>old/</Prefix><Status>Enabled</Status><Expiration><Days>3</Days></Expiration>")
    assert signed_put(lc_server, bkt, body, md5_header(body))[0] == 200
    got = s3.get_bucket_lifecycle_configuration(Bucket=bkt)["Rules"]
    assert got[0]["Prefix"] == "old/" and "Filter" not in got[0]
    assert len(got[0]["ID"]) > 10


def test_aws_cli_round_trip(lc_server, bkt, tmp_path, aws):
    def aws_cli(*args, check=True):
        # The test server has the same root credentials as the session's.
        return aws(*args, check=check, endpoint=lc_server.endpoint)

    config = {"Rules": [{"ID": "cli", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
                         "Expiration": {"Days": 7},
                         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]}
    path = tmp_path / "lc.json"
    path.write_text(json.dumps(config))
    aws_cli("s3api", "put-bucket-lifecycle-configuration", "--bucket", bkt,
            "--lifecycle-configuration", f"file://{path}")
    out = json.loads(aws_cli("s3api", "get-bucket-lifecycle-configuration", "--bucket", bkt).stdout)
    assert out["Rules"] == config["Rules"]
    aws_cli("s3api", "delete-bucket-lifecycle", "--bucket", bkt)
    missing = aws_cli("s3api", "get-bucket-lifecycle-configuration", "--bucket", bkt, check=False)
    assert missing.returncode != 0 and "NoSuchLifecycleConfiguration" in missing.stderr


EXP = "<ID>{id}</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>"

INVALID = [
    ("days 0", doc(EXP.format(id="a") + "<Expiration><Days>0</Days></Expiration>"),
     400, "InvalidArgument", "'Days' for Expiration action must be a positive integer"),
    ("date not midnight", doc(EXP.format(id="a") + "<Expiration><Date>2030-01-01T10:00:00Z</Date></Expiration>"),
     400, "InvalidArgument", "'Date' must be at midnight GMT"),
    ("days and date", doc(EXP.format(id="a") + "<Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>"),
     400, "MalformedXML", None),
    ("marker with days", doc(EXP.format(id="a") + "<Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>"),
     400, "MalformedXML", None),
    ("duplicate ids", doc(EXP.format(id="a") + "<Expiration><Days>1</Days></Expiration>",
                          EXP.format(id="a") + "<Expiration><Days>2</Days></Expiration>"),
     400, "InvalidArgument", "Rule ID must be unique. Found same ID for more than one rule"),
    ("id too long", doc(EXP.format(id="x" * 256) + "<Expiration><Days>1</Days></Expiration>"),
     400, "InvalidArgument", "ID length should not exceed allowed limit of 255"),
    ("no action", doc(EXP.format(id="a")), 400, "InvalidRequest",
     "At least one action needs to be specified in a rule"),
    ("abort with tags", doc("<ID>a</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status>"
                            "<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>"),
     400, "InvalidRequest", "AbortIncompleteMultipartUpload cannot be specified with Tags."),
    ("abort days 0", doc(EXP.format(id="a") + "<AbortIncompleteMultipartUpload><DaysAfterInitiation>0</DaysAfterInitiation></AbortIncompleteMultipartUpload>"),
     400, "InvalidArgument", "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer"),
    ("noncurrent days 0", doc(EXP.format(id="a") + "<NoncurrentVersionExpiration><NoncurrentDays>0</NoncurrentDays></NoncurrentVersionExpiration>"),
     400, "InvalidArgument", "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"),
    ("transition to glacier", doc(EXP.format(id="a") + "<Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>"),
     400, "InvalidStorageClass", "The storage class you specified is not valid"),
    ("noncurrent transition", doc(EXP.format(id="a") + "<NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays><StorageClass>STANDARD_IA</StorageClass></NoncurrentVersionTransition>"),
     400, "InvalidStorageClass", "The storage class you specified is not valid"),
    ("filter and prefix", doc("<ID>a</ID><Prefix>x</Prefix><Filter><Prefix>y</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>"),
     400, "MalformedXML", None),
    ("two predicates outside And", doc("<ID>a</ID><Filter><Prefix>y</Prefix><ObjectSizeLessThan>5</ObjectSizeLessThan></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>"),
     400, "MalformedXML", None),
    ("bad status", doc("<ID>a</ID><Filter/><Status>On</Status><Expiration><Days>1</Days></Expiration>"),
     400, "MalformedXML", None),
    ("unknown element", doc(EXP.format(id="a") + "<Expiration><Days>1</Days></Expiration><Bogus/>"),
     400, "MalformedXML", None),
    ("no rules", doc(), 400, "MalformedXML", None),
    ("1001 rules", doc(*[EXP.format(id=f"r{i}") + "<Expiration><Days>1</Days></Expiration>" for i in range(1001)]),
     400, "MalformedXML", None),
    ("not xml", b"<LifecycleConfiguration><Rule>", 400, "MalformedXML", None),
]


@pytest.mark.parametrize("case,body,status,code,message", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_configurations_are_refused(lc_server, s3, bkt, case, body, status, code, message):
    got = signed_put(lc_server, bkt, body, md5_header(body))
    assert got[:2] == (status, code), (case, got)
    if message:
        assert got[2] == message
    # Nothing was stored.
    assert error_of(s3.get_bucket_lifecycle_configuration, Bucket=bkt)[1] == "NoSuchLifecycleConfiguration"


def test_put_needs_an_integrity_header(lc_server, s3, bkt):
    body = doc(EXP.format(id="a") + "<Expiration><Days>1</Days></Expiration>")
    assert signed_put(lc_server, bkt, body) == (
        400, "InvalidRequest", "Missing required header for this request: Content-MD5")
    wrong = {"Content-MD5": base64.b64encode(hashlib.md5(b"other").digest()).decode()}
    assert signed_put(lc_server, bkt, body, wrong)[:2] == (400, "BadDigest")
    crc = {"x-amz-checksum-sha256": base64.b64encode(hashlib.sha256(body).digest()).decode()}
    assert signed_put(lc_server, bkt, body, crc)[0] == 200


def test_authorization_uses_the_lifecycle_actions(lc_server, s3, bkt):
    iam = client(lc_server, "iam")
    name = f"lc-user-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:PutLifecycleConfiguration",
                       "Resource": f"arn:aws:s3:::{bkt}"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user = client(lc_server, "s3", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    put_rules(user, bkt, rule(Expiration={"Days": 5}))
    status, code, message = error_of(user.get_bucket_lifecycle_configuration, Bucket=bkt)
    assert (status, code) == (403, "AccessDenied")
    assert "s3:GetLifecycleConfiguration" in message
    # DeleteBucketLifecycle is authorized as s3:PutLifecycleConfiguration.
    user.delete_bucket_lifecycle(Bucket=bkt)
    other = f"lc-other-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=other)
    k2 = iam.create_access_key(UserName=other)["AccessKey"]
    nobody = client(lc_server, "s3", key=k2["AccessKeyId"], secret=k2["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        put_rules(nobody, bkt, rule(Expiration={"Days": 5}))
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    request_id = e.value.response["ResponseMetadata"]["RequestId"]
    assert "s3:PutLifecycleConfiguration" in e.value.response["Error"]["Message"]

    def recorded():
        with open(f"{lc_server.data_dir}/decisions.jsonl") as f:
            return [json.loads(line) for line in f if request_id in line]
    records = eventually(recorded, timeout=5)
    assert any("s3:PutLifecycleConfiguration" in json.dumps(r) for r in records)


# --- the worker ----------------------------------------------------------------------------

def test_expiration_deletes_current_objects_of_an_unversioned_bucket(s3, bkt):
    put_rules(s3, bkt, rule("exp", "exp/", Expiration={"Days": 1}))
    s3.put_object(Bucket=bkt, Key="exp/a", Body=b"a")
    s3.put_object(Bucket=bkt, Key="keep/a", Body=b"a")
    eventually(lambda: not exists(s3, bkt, "exp/a"))
    assert exists(s3, bkt, "keep/a")
    vs, ms = versions_of(s3, bkt, "exp/a")
    assert vs == [] and ms == []


def test_expiration_adds_a_delete_marker_in_a_versioned_bucket(s3):
    b = versioned(s3)
    put_rules(s3, b, rule("exp", Expiration={"Days": 1}))
    vid = s3.put_object(Bucket=b, Key="v", Body=b"v")["VersionId"]
    eventually(lambda: not exists(s3, b, "v"))
    vs, ms = versions_of(s3, b, "v")
    assert [v["VersionId"] for v in vs] == [vid] and not vs[0]["IsLatest"]
    assert len(ms) == 1 and ms[0]["IsLatest"]
    # The marker is not stacked again by later passes.
    time.sleep(2 * DAY)
    assert len(versions_of(s3, b, "v")[1]) == 1


def test_expiration_by_date_in_the_past(s3, bkt):
    put_rules(s3, bkt, rule("date", "d/", Expiration={"Date": datetime(2020, 1, 1, tzinfo=timezone.utc)}))
    s3.put_object(Bucket=bkt, Key="d/x", Body=b"x")
    eventually(lambda: not exists(s3, bkt, "d/x"))


def test_noncurrent_expiration_keeps_newer_noncurrent_versions(s3):
    b = versioned(s3)
    put_rules(s3, b, rule("nc", NoncurrentVersionExpiration={"NoncurrentDays": 1, "NewerNoncurrentVersions": 2}))
    ids = [s3.put_object(Bucket=b, Key="k", Body=f"v{i}".encode())["VersionId"] for i in range(5)]
    eventually(lambda: len(versions_of(s3, b, "k")[0]) == 3)
    vs, _ = versions_of(s3, b, "k")
    # The current version and the two newest noncurrent ones stay.
    assert {v["VersionId"] for v in vs} == set(ids[2:])
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"v4"


def test_expired_delete_markers_are_removed(s3):
    b = versioned(s3)
    put_rules(s3, b, rule("markers", Expiration={"ExpiredObjectDeleteMarker": True},
                          NoncurrentVersionExpiration={"NoncurrentDays": 1}))
    s3.put_object(Bucket=b, Key="gone", Body=b"x")
    s3.delete_object(Bucket=b, Key="gone")
    # A marker with a live version below it is not an expired one; it stays until that is gone.
    s3.put_object(Bucket=b, Key="other", Body=b"y")
    eventually(lambda: versions_of(s3, b, "gone") == ([], []))
    assert exists(s3, b, "other")


def test_incomplete_multipart_uploads_are_aborted(s3, bkt):
    put_rules(s3, bkt, rule("abort", "up/", AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1}))
    doomed = s3.create_multipart_upload(Bucket=bkt, Key="up/big")["UploadId"]
    s3.upload_part(Bucket=bkt, Key="up/big", UploadId=doomed, PartNumber=1, Body=b"p" * 1024)
    kept = s3.create_multipart_upload(Bucket=bkt, Key="other/big")["UploadId"]

    def only_kept_left():
        ups = s3.list_multipart_uploads(Bucket=bkt).get("Uploads", [])
        return [u["UploadId"] for u in ups] == [kept]
    eventually(only_kept_left)
    status, code, _ = error_of(s3.list_parts, Bucket=bkt, Key="up/big", UploadId=doomed)
    assert (status, code) == (404, "NoSuchUpload")


def test_filters_by_prefix_tag_and_size(s3, bkt):
    put_rules(s3, bkt, {"ID": "f", "Status": "Enabled", "Expiration": {"Days": 1},
                        "Filter": {"And": {"Prefix": "f/", "Tags": [{"Key": "tier", "Value": "tmp"}],
                                           "ObjectSizeGreaterThan": 10}}})
    s3.put_object(Bucket=bkt, Key="f/match", Body=b"x" * 20, Tagging="tier=tmp")
    s3.put_object(Bucket=bkt, Key="f/untagged", Body=b"x" * 20)
    s3.put_object(Bucket=bkt, Key="f/wrongtag", Body=b"x" * 20, Tagging="tier=keep")
    s3.put_object(Bucket=bkt, Key="f/small", Body=b"x" * 5, Tagging="tier=tmp")
    s3.put_object(Bucket=bkt, Key="g/match", Body=b"x" * 20, Tagging="tier=tmp")
    eventually(lambda: not exists(s3, bkt, "f/match"))
    for k in ("f/untagged", "f/wrongtag", "f/small", "g/match"):
        assert exists(s3, bkt, k), k


def test_disabled_rules_do_nothing(s3, bkt):
    put_rules(s3, bkt, {**rule("off", Expiration={"Days": 1}), "Status": "Disabled"},
              rule("marker", "m/", Expiration={"Days": 1}))
    s3.put_object(Bucket=bkt, Key="stay", Body=b"x")
    s3.put_object(Bucket=bkt, Key="m/go", Body=b"x")
    eventually(lambda: not exists(s3, bkt, "m/go"))
    assert exists(s3, bkt, "stay")


def test_object_lock_is_respected(s3):
    b = f"lcl-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=b, ObjectLockEnabledForBucket=True)
    put_rules(s3, b, rule("lock", Expiration={"Days": 1}, NoncurrentVersionExpiration={"NoncurrentDays": 1}))
    until = (datetime.now(timezone.utc) + timedelta(days=1)).replace(microsecond=0)
    locked = s3.put_object(Bucket=b, Key="locked", Body=b"x", ObjectLockMode="GOVERNANCE",
                           ObjectLockRetainUntilDate=until)["VersionId"]
    held = s3.put_object(Bucket=b, Key="held", Body=b"x", ObjectLockLegalHoldStatus="ON")["VersionId"]
    free = s3.put_object(Bucket=b, Key="free", Body=b"x")["VersionId"]
    # Expiration adds delete markers over all three (allowed under Object Lock);
    # the free version then expires as noncurrent, the protected ones never do.
    eventually(lambda: versions_of(s3, b, "free")[0] == [])
    time.sleep(3 * DAY)
    assert [v["VersionId"] for v in versions_of(s3, b, "locked")[0]] == [locked]
    assert [v["VersionId"] for v in versions_of(s3, b, "held")[0]] == [held]
    assert versions_of(s3, b, "locked")[1] and versions_of(s3, b, "held")[1]
    assert free
    s3.put_object_legal_hold(Bucket=b, Key="held", VersionId=held, LegalHold={"Status": "OFF"})
    eventually(lambda: versions_of(s3, b, "held")[0] == [])


def test_x_amz_expiration_header(s3, bkt):
    put_rules(s3, bkt, rule("month", "m/", Expiration={"Days": 30}))
    put = s3.put_object(Bucket=bkt, Key="m/x", Body=b"x")
    header = put["ResponseMetadata"]["HTTPHeaders"]["x-amz-expiration"]
    head = s3.head_object(Bucket=bkt, Key="m/x")
    get = s3.get_object(Bucket=bkt, Key="m/x")
    assert head["Expiration"] == header == get["Expiration"]
    assert header.endswith(', rule-id="month"')
    assert header.startswith('expiry-date="') and header.count('"') == 4
    expiry = parsedate_to_datetime(header.split('"')[1])
    # 30 scaled days after creation, rounded up to the next scaled midnight.
    created = int(head["LastModified"].timestamp())
    assert expiry.timestamp() == ((created + 30 * DAY) // DAY) * DAY + DAY
    # Objects no rule expires carry no header.
    other = s3.put_object(Bucket=bkt, Key="n/x", Body=b"x")
    assert "x-amz-expiration" not in other["ResponseMetadata"]["HTTPHeaders"]
    assert "Expiration" not in s3.head_object(Bucket=bkt, Key="n/x")
    # Deleting the configuration removes the header.
    s3.delete_bucket_lifecycle(Bucket=bkt)
    assert "Expiration" not in s3.head_object(Bucket=bkt, Key="m/x")
