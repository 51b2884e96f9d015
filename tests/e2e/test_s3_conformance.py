"""S3 conformance bugs of issue 19, each reproduced with boto3 (or the aws CLI)
against the real binary. Every test here failed before its fix."""

import base64
import hashlib
import json
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import client, explain
from server import running_server

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def srv():
    # SSE-C is used over plain HTTP here (bug 6): allowed for local development only.
    with running_server(extra_env={"STRONGBOX_ALLOW_SSE_C_OVER_HTTP": "1"}) as s:
        yield s


@pytest.fixture(scope="module")
def s3(srv):
    return client(srv, "s3")


@pytest.fixture(scope="module")
def iam(srv):
    return client(srv, "iam")


@pytest.fixture
def bucket(s3):
    name = f"conf-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def new_user(srv, iam, doc=None, managed=None):
    name = f"u-{uuid.uuid4().hex[:10]}"
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    if doc:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc)
    if managed:
        iam.attach_user_policy(UserName=name, PolicyArn=managed)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return arn, client(srv, "s3", key=key["AccessKeyId"], secret=key["SecretAccessKey"]), key


def error_of(fn, **kwargs):
    with pytest.raises(ClientError) as e:
        fn(**kwargs)
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r


def two_part_upload(s3, bucket, key, algorithm="SHA256", complete=True):
    """A two-part upload (5 MiB + 1 KiB) with a composite checksum; returns (upload id, parts)."""
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm=algorithm)
    parts = []
    for n, body in ((1, b"a" * (5 * MIB)), (2, b"b" * 1024)):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up["UploadId"], PartNumber=n, Body=body,
                           ChecksumAlgorithm=algorithm)
        parts.append({"PartNumber": n, "ETag": r["ETag"], f"Checksum{algorithm}": r[f"Checksum{algorithm}"]})
    if complete:
        s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up["UploadId"],
                                     MultipartUpload={"Parts": parts})
    return up["UploadId"], parts


def test_part_number_reads_answer_the_part_checksum(s3, bucket):
    """Bug 2: GetObject/HeadObject ?partNumber=N with checksum mode answer the part's
    stored checksum and x-amz-checksum-type."""
    _, parts = two_part_upload(s3, bucket, "mp")
    for fn in (s3.head_object, s3.get_object):
        got = fn(Bucket=bucket, Key="mp", PartNumber=2, ChecksumMode="ENABLED")
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["ChecksumSHA256"] == parts[1]["ChecksumSHA256"]
        assert got["ChecksumType"] == "COMPOSITE"
        assert got["PartsCount"] == 2
    body = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2, ChecksumMode="ENABLED")["Body"].read()
    assert base64.b64encode(hashlib.sha256(body).digest()).decode() == parts[1]["ChecksumSHA256"]


def test_get_object_attributes_lists_the_parts(s3, bucket):
    """Bug 3: ObjectParts carries Parts, MaxParts, IsTruncated and the part number markers."""
    _, parts = two_part_upload(s3, bucket, "mp")
    first = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"], MaxParts=1)
    op = first["ObjectParts"]
    assert op["TotalPartsCount"] == 2
    assert op["MaxParts"] == 1 and op["IsTruncated"] is True
    assert op["PartNumberMarker"] == 0 and op["NextPartNumberMarker"] == 1
    assert [(p["PartNumber"], p["Size"], p["ChecksumSHA256"]) for p in op["Parts"]] == \
        [(1, 5 * MIB, parts[0]["ChecksumSHA256"])]
    rest = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"],
                                    PartNumberMarker=1)["ObjectParts"]
    assert rest["IsTruncated"] is False and rest["MaxParts"] == 1000
    assert [(p["PartNumber"], p["Size"]) for p in rest["Parts"]] == [(2, 1024)]


def test_retried_completion_answers_the_same_result(s3, bucket):
    """Bug 4: CompleteMultipartUpload retried after it succeeded answers 200 and the same
    result; a retry naming other parts is still NoSuchUpload."""
    upload_id, parts = two_part_upload(s3, bucket, "mp", complete=False)
    first = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                         MultipartUpload={"Parts": parts})
    again = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                         MultipartUpload={"Parts": parts})
    for field in ("ETag", "ChecksumSHA256", "Bucket", "Key", "Location"):
        assert again[field] == first[field]
    code, status, _ = error_of(s3.complete_multipart_upload, Bucket=bucket, Key="mp", UploadId=upload_id,
                               MultipartUpload={"Parts": parts[:1]})
    assert (code, status) == ("NoSuchUpload", 404)
    code, status, _ = error_of(s3.complete_multipart_upload, Bucket=bucket, Key="other", UploadId=upload_id,
                               MultipartUpload={"Parts": parts})
    assert (code, status) == ("NoSuchUpload", 404)


def with_header(srv, name, value):
    """An S3 client that adds one header to every request (signed with it)."""
    c = client(srv, "s3")

    def add(request, **_):
        request.headers[name] = value

    c.meta.events.register("before-sign.s3", add)
    return c


@pytest.mark.parametrize("header,value", [
    ("x-amz-server-side-encryption", "AES256"),
    ("x-amz-server-side-encryption", "aws:kms"),
    ("x-amz-server-side-encryption-aws-kms-key-id", "alias/aws/s3"),
])
def test_get_and_head_refuse_sse_headers(srv, s3, bucket, header, value):
    """Bug 5: GET/HEAD carrying SSE-S3/SSE-KMS request headers are 400 InvalidArgument."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    c = with_header(srv, header, value)
    code, status, r = error_of(c.get_object, Bucket=bucket, Key="k")
    assert (code, status) == ("InvalidArgument", 400)
    assert r["Error"]["Message"] == f"{header} header is not supported for this operation."
    _, status, _ = error_of(c.head_object, Bucket=bucket, Key="k")
    assert status == 400


def test_sse_c_algorithm_condition_key_is_set(s3, bucket):
    """Bug 6: the documented "require SSE-C" bucket policy (Deny s3:PutObject when
    s3:x-amz-server-side-encryption-customer-algorithm is Null) lets SSE-C PUTs through."""
    s3.put_bucket_policy(Bucket=bucket, Policy=policy({
        "Sid": "RequireSSEC", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "true"}}}))
    key = b"k" * 32
    customer = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": base64.b64encode(key).decode(),
                "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(key).digest()).decode()}
    s3.put_object(Bucket=bucket, Key="secret", Body=b"x", **customer)
    assert s3.get_object(Bucket=bucket, Key="secret", **customer)["Body"].read() == b"x"
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", **customer)
    s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"y", **customer)
    code, status, _ = error_of(s3.put_object, Bucket=bucket, Key="plain", Body=b"x")
    assert (code, status) == ("AccessDenied", 403)


def test_suspended_versioning_writes_send_no_version_id(s3, bucket):
    """Bug 7: PUT and CompleteMultipartUpload into a Suspended bucket answer no x-amz-version-id."""
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"1")["VersionId"] != "null"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"2")
    assert "x-amz-version-id" not in put["ResponseMetadata"]["HTTPHeaders"]
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"p")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert "x-amz-version-id" not in done["ResponseMetadata"]["HTTPHeaders"]
    versions = s3.list_object_versions(Bucket=bucket, Prefix="k")["Versions"]
    assert {v["VersionId"] for v in versions if v["IsLatest"]} == {"null"}


def test_max_keys_zero_is_not_truncated(s3, bucket):
    """Bug 8: max-keys=0 (and max-uploads/max-parts=0) answer IsTruncated=false in every listing."""
    for k in ("a", "b"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    up = s3.create_multipart_upload(Bucket=bucket, Key="u")
    s3.upload_part(Bucket=bucket, Key="u", UploadId=up["UploadId"], PartNumber=1, Body=b"p")
    assert s3.list_objects(Bucket=bucket, MaxKeys=0)["IsTruncated"] is False
    v2 = s3.list_objects_v2(Bucket=bucket, MaxKeys=0)
    assert v2["IsTruncated"] is False and v2["KeyCount"] == 0 and "NextContinuationToken" not in v2
    assert s3.list_object_versions(Bucket=bucket, MaxKeys=0)["IsTruncated"] is False
    assert s3.list_multipart_uploads(Bucket=bucket, MaxUploads=0)["IsTruncated"] is False
    assert s3.list_parts(Bucket=bucket, Key="u", UploadId=up["UploadId"], MaxParts=0)["IsTruncated"] is False
    # A non-zero page still says when there is more.
    assert s3.list_objects_v2(Bucket=bucket, MaxKeys=1)["IsTruncated"] is True


def test_completion_checks_the_declared_object_checksum(s3, bucket):
    """Bug 10: CompleteMultipartUpload refuses a malformed x-amz-checksum-sha256 (400
    InvalidRequest) and a wrong one (400 BadDigest); the right composite value completes."""
    upload_id, parts = two_part_upload(s3, bucket, "mp", complete=False)
    code, status, _ = error_of(s3.complete_multipart_upload, Bucket=bucket, Key="mp", UploadId=upload_id,
                               MultipartUpload={"Parts": parts}, ChecksumSHA256="ZGVhZGJlZWY=")
    assert (code, status) == ("InvalidRequest", 400)
    wrong = base64.b64encode(hashlib.sha256(b"nope").digest()).decode() + "-2"
    code, status, _ = error_of(s3.complete_multipart_upload, Bucket=bucket, Key="mp", UploadId=upload_id,
                               MultipartUpload={"Parts": parts}, ChecksumSHA256=wrong)
    assert (code, status) == ("BadDigest", 400)
    joined = b"".join(base64.b64decode(p["ChecksumSHA256"]) for p in parts)
    right = base64.b64encode(hashlib.sha256(joined).digest()).decode() + "-2"
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                        MultipartUpload={"Parts": parts}, ChecksumSHA256=right)
    assert done["ChecksumSHA256"] == right


def test_stored_header_values_come_back_as_sent(s3, bucket):
    """Bug 11: Content-Encoding and the other stored headers are returned exactly as sent."""
    sent = {
        "ContentEncoding": "deflate, gzip",
        "ContentType": "text/plain; charset=utf-8",
        "CacheControl": "max-age=60,  must-revalidate",
        "ContentDisposition": 'attachment; filename="a, b.txt"',
        "ContentLanguage": "en-US, de",
    }
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Metadata={"list": "v1, v2"}, **sent)
    for got in (s3.head_object(Bucket=bucket, Key="k"), s3.get_object(Bucket=bucket, Key="k")):
        for field, value in sent.items():
            assert got[field] == value, field
        assert got["Metadata"] == {"list": "v1, v2"}


def test_upload_initiator_may_abort_and_list_parts(srv, s3, iam, bucket):
    """Bug 12: the initiator of a multipart upload may abort it (and list its parts) without
    s3:AbortMultipartUpload; another user may not; explain names the default grant."""
    put_only = policy({"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"})
    _, alice, _ = new_user(srv, iam, put_only)
    _, bob, _ = new_user(srv, iam, put_only)
    up = alice.create_multipart_upload(Bucket=bucket, Key="mp")
    alice.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"p")
    assert len(alice.list_parts(Bucket=bucket, Key="mp", UploadId=up["UploadId"])["Parts"]) == 1
    code, status, _ = error_of(bob.abort_multipart_upload, Bucket=bucket, Key="mp", UploadId=up["UploadId"])
    assert (code, status) == ("AccessDenied", 403)
    done = alice.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"])
    assert done["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert "multipart upload initiator" in explain(srv, done["ResponseMetadata"]["RequestId"])
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_missing_key_is_404_for_a_caller_who_may_list(srv, s3, iam, bucket):
    """Bug 13 (GetObject API reference): the read permission is needed first; a caller
    allowed the read who also has s3:ListBucket gets 404 NoSuchKey for a missing key, one
    without s3:ListBucket gets 403, and a caller denied the read gets 403 either way."""
    s3.put_object(Bucket=bucket, Key="present", Body=b"x")
    list_stmt = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"}
    read_stmt = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    _, read_and_list, _ = new_user(srv, iam, policy(list_stmt, read_stmt))
    _, read_only, _ = new_user(srv, iam, policy(read_stmt))
    _, list_only, _ = new_user(srv, iam, policy(list_stmt))
    _, nothing, _ = new_user(srv, iam)
    _, list_but_deny, _ = new_user(srv, iam, policy(
        list_stmt, read_stmt, {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}))
    assert error_of(read_and_list.get_object, Bucket=bucket, Key="missing")[:2] == ("NoSuchKey", 404)
    assert error_of(read_and_list.head_object, Bucket=bucket, Key="missing")[1] == 404
    assert read_and_list.get_object(Bucket=bucket, Key="present")["Body"].read() == b"x"
    assert error_of(read_only.get_object, Bucket=bucket, Key="missing")[:2] == ("AccessDenied", 403)
    assert error_of(list_only.get_object, Bucket=bucket, Key="missing")[:2] == ("AccessDenied", 403)
    assert error_of(list_only.get_object, Bucket=bucket, Key="present")[:2] == ("AccessDenied", 403)
    assert error_of(nothing.get_object, Bucket=bucket, Key="missing")[:2] == ("AccessDenied", 403)
    assert error_of(list_but_deny.get_object, Bucket=bucket, Key="missing")[:2] == ("AccessDenied", 403)


def test_part_number_past_the_end_is_invalid_part_number(s3, bucket):
    """Bug 14: a partNumber past the last part is 416 InvalidPartNumber, not InvalidRange."""
    two_part_upload(s3, bucket, "mp")
    s3.put_object(Bucket=bucket, Key="single", Body=b"x")
    for key, n in (("mp", 3), ("single", 2)):
        code, status, r = error_of(s3.get_object, Bucket=bucket, Key=key, PartNumber=n)
        assert (code, status) == ("InvalidPartNumber", 416)
        assert r["Error"]["Message"] == "The requested partnumber is not satisfiable"
        assert error_of(s3.head_object, Bucket=bucket, Key=key, PartNumber=n)[1] == 416


@pytest.mark.parametrize("name", [
    "IAMFullAccess", "IAMReadOnlyAccess", "IAMUserChangePassword", "AWSKeyManagementServicePowerUser",
    "AWSOrganizationsFullAccess", "AWSOrganizationsReadOnlyAccess",
])
def test_common_aws_managed_policies_exist(iam, name):
    """The AWS managed policies IAM users attach routinely exist, with AWS's documents
    (AWS Managed Policy Reference, https://docs.aws.amazon.com/aws-managed-policy/latest/reference/)."""
    arn = f"arn:aws:iam::aws:policy/{name}"
    got = iam.get_policy(PolicyArn=arn)["Policy"]
    assert got["PolicyName"] == name and got["Arn"] == arn
    doc = iam.get_policy_version(PolicyArn=arn, VersionId=got["DefaultVersionId"])["PolicyVersion"]["Document"]
    assert doc["Version"] == "2012-10-17" and doc["Statement"]


def test_iam_read_only_access_reads_but_does_not_write(srv, iam):
    """IAMReadOnlyAccess attached to a user lets it list IAM users and nothing more."""
    name = f"ro-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    key = iam.create_access_key(UserName=name)["AccessKey"]
    reader = client(srv, "iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert name in [u["UserName"] for u in reader.list_users()["Users"]]
    code, status, _ = error_of(reader.create_user, UserName=f"x-{uuid.uuid4().hex[:8]}")
    assert (code, status) == ("AccessDenied", 403)
