"""S3 hardening (issue 17): holes an outside review found, each driven on the wire.

- Repeated headers: the policy context and the operation see the same values.
- Keys that are not UTF-8 are refused (InvalidURI), so distinct keys never collide.
- Get/Put/DeleteBucketPolicy by another account's identity: 405 MethodNotAllowed.
- Encrypted objects: no plaintext MD5 as ETag; GetObjectAttributes of SSE-C needs the key.
- SSE-C only over HTTPS unless `serve --allow-sse-c-over-http`.
"""

import base64
import hashlib
import http.client
import json
import os
import uuid

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import REGION, client
from server import running_server
from test_tls import s3_of, tls_server  # noqa: F401 (the module's HTTPS server fixture)


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def error_of(fn, **kwargs):
    with pytest.raises(ClientError) as e:
        fn(**kwargs)
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Code"), r["Error"].get("Message", "")


def raw_signed(server, method, path, headers=(), body=b"", query=""):
    """Sends a SigV4-signed request whose headers may repeat (botocore signs every
    value of a repeated header, joined by commas, as SigV4 specifies) over a plain
    socket, so that the server sees each header line as sent. Returns (status, body)."""
    url = f"{server.endpoint}{path}" + (f"?{query}" if query else "")
    req = AWSRequest(method=method, url=url, data=body)
    for name, value in headers:
        req.headers[name] = value  # HTTPHeaders appends: repeated names stay repeated
    S3SigV4Auth(Credentials(server.access_key, server.secret_key), "s3", REGION).add_auth(req)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.putrequest(method, path + (f"?{query}" if query else ""), skip_accept_encoding=True)
        for name, value in req.headers.items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def acl_bucket(s3):
    """A bucket with ACLs enabled (ObjectWriter), so grant headers are used."""
    name = f"hard-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    return name


def canonical_id(s3_client):
    return s3_client.list_buckets()["Owner"]["ID"]


# --- 6. repeated headers -------------------------------------------------------


def test_repeated_grant_header_cannot_slip_past_a_deny(server, s3, member):
    """A Deny on s3:x-amz-grant-full-control must see every repeated grant header, as
    the ACL is built from all of them; before the fix only the first one reached the
    condition key and a second, denied grant was stored."""
    bucket = acl_bucket(s3)
    own = canonical_id(s3)
    evil = canonical_id(client(server, "s3", **member.kw))
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Sid": "NoGrantsToEvil", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/*",
         "Condition": {"StringLike": {"s3:x-amz-grant-full-control": f"*id={evil}*"}}}))
    good = ("x-amz-grant-full-control", f"id={own}")
    bad = ("x-amz-grant-full-control", f"id={evil}")
    status, body = raw_signed(server, "PUT", f"/{bucket}/one-grant", [good], b"x")
    assert status == 200, body
    status, body = raw_signed(server, "PUT", f"/{bucket}/evil-first", [bad, good], b"x")
    assert status == 403 and b"AccessDenied" in body, body
    status, body = raw_signed(server, "PUT", f"/{bucket}/evil-second", [good, bad], b"x")
    assert status == 403 and b"AccessDenied" in body, body
    status, _, _ = error_of(s3.head_object, Bucket=bucket, Key="evil-second")
    assert status == 404
    # Repeated grants that the policy allows still all land in the ACL.
    other = ("x-amz-grant-read", f"id={own}")
    status, body = raw_signed(server, "PUT", f"/{bucket}/two-reads", [good, other, other], b"x")
    assert status == 200, body
    grants = s3.get_object_acl(Bucket=bucket, Key="two-reads")["Grants"]
    assert sorted(g["Permission"] for g in grants) == ["FULL_CONTROL", "READ", "READ"]


@pytest.mark.parametrize("name,first,second", [
    ("x-amz-acl", "private", "public-read"),
    ("x-amz-server-side-encryption", "AES256", "aws:kms"),
    ("x-amz-storage-class", "STANDARD", "GLACIER"),
    ("x-amz-object-lock-legal-hold", "OFF", "ON"),
    ("x-amz-tagging", "a=1", "b=2"),
])
def test_repeated_single_valued_header_is_refused(server, s3, bucket, name, first, second):
    """A header that carries one value (and feeds a condition key) must not repeat:
    400 InvalidArgument naming it, and nothing is stored."""
    status, body = raw_signed(server, "PUT", f"/{bucket}/dup", [(name, first), (name, second)], b"x")
    assert status == 400, body
    assert b"<Code>InvalidArgument</Code>" in body and f"<ArgumentName>{name}</ArgumentName>".encode() in body
    status, _, _ = error_of(s3.head_object, Bucket=bucket, Key="dup")
    assert status == 404
    status, body = raw_signed(server, "PUT", f"/{bucket}/single", [(name, first)], b"x")
    assert status in (200, 400), body  # the single header is judged on its own merits


def test_repeated_copy_source_is_refused(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"a")
    s3.put_object(Bucket=bucket, Key="b", Body=b"b")
    status, body = raw_signed(server, "PUT", f"/{bucket}/c", [
        ("x-amz-copy-source", f"/{bucket}/a"), ("x-amz-copy-source", f"/{bucket}/b")])
    assert status == 400 and b"<ArgumentName>x-amz-copy-source</ArgumentName>" in body, body


# --- 11. keys that are not UTF-8 -----------------------------------------------


def test_keys_that_are_not_utf8_are_refused_and_never_collide(server, s3, bucket):
    """`x%FF` and `x%FE` decoded lossily were one key: the second upload replaced the
    first. S3 answers 400 InvalidURI for them."""
    for raw in ("x%FF", "x%FE", "a/%C3", "%ED%A0%80"):
        status, body = raw_signed(server, "PUT", f"/{bucket}/{raw}", [], raw.encode())
        assert status == 400, (raw, body)
        assert b"<Code>InvalidURI</Code>" in body and b"parse the specified URI." in body
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    # Valid UTF-8 neighbours (U+00FF, U+00FE) stay distinct.
    for raw in ("x%C3%BF", "x%C3%BE"):
        status, body = raw_signed(server, "PUT", f"/{bucket}/{raw}", [], raw.encode())
        assert status == 200, body
    assert s3.get_object(Bucket=bucket, Key="x\u00ff")["Body"].read() == b"x%C3%BF"
    assert s3.get_object(Bucket=bucket, Key="x\u00fe")["Body"].read() == b"x%C3%BE"


def test_query_values_that_are_not_utf8_are_refused(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="x\ufffd", Body=b"x")
    for query in ("list-type=2&prefix=x%FF", "marker=%FE", "versions&key-marker=%FF"):
        status, body = raw_signed(server, "GET", f"/{bucket}", query=query)
        assert status == 400 and b"<Code>InvalidURI</Code>" in body, (query, body)
    status, body = raw_signed(server, "GET", f"/{bucket}", query="list-type=2&prefix=x%EF%BF%BD")
    assert status == 200 and "x\ufffd".encode() in body


def test_copy_source_that_is_not_utf8_is_refused(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="x\ufffd", Body=b"x")
    status, body = raw_signed(server, "PUT", f"/{bucket}/dst", [("x-amz-copy-source", f"/{bucket}/x%FF")])
    assert status == 400, body
    status, _, _ = error_of(s3.head_object, Bucket=bucket, Key="dst")
    assert status == 404


# --- 17. bucket policy operations of other accounts -----------------------------


def test_bucket_policy_operations_of_another_account_answer_405(server, s3, member):
    """API Reference, PutBucketPolicy / GetBucketPolicy / DeleteBucketPolicy: "If you
    have the correct permissions, but you're not using an identity that belongs to the
    bucket owner's account, Amazon S3 returns a 405 Method Not Allowed error."
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html)"""
    bucket = f"hard-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    other = client(server, "s3", **member.kw)
    # Without permission from the bucket: 403.
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Sid": "Reads", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{member.account}:root"},
         "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"}))
    status, code, _ = error_of(other.get_bucket_policy, Bucket=bucket)
    assert (status, code) == (403, "AccessDenied")
    # Allowed by both sides (AdministratorAccess and the bucket policy): 405.
    allow_all = policy(
        {"Sid": "PolicyOps", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{member.account}:root"},
         "Action": ["s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"],
         "Resource": f"arn:aws:s3:::{bucket}"})
    s3.put_bucket_policy(Bucket=bucket, Policy=allow_all)
    status, code, _ = error_of(other.get_bucket_policy, Bucket=bucket)
    assert (status, code) == (405, "MethodNotAllowed")
    status, code, _ = error_of(other.put_bucket_policy, Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}))
    assert (status, code) == (405, "MethodNotAllowed")
    status, code, _ = error_of(other.delete_bucket_policy, Bucket=bucket)
    assert (status, code) == (405, "MethodNotAllowed")
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(allow_all)
    s3.delete_bucket_policy(Bucket=bucket)
    s3.delete_bucket(Bucket=bucket)


# --- 8. SSE-C only over HTTPS ----------------------------------------------------

SSE_C_OVER_HTTP = ("Requests specifying Server Side Encryption with Customer provided keys must be made "
                   "over a secure connection.")


def sse_c(key_bytes, prefix="SSECustomer"):
    return {
        f"{prefix}Algorithm": "AES256",
        f"{prefix}Key": base64.b64encode(key_bytes).decode(),
        f"{prefix}KeyMD5": base64.b64encode(hashlib.md5(key_bytes).digest()).decode(),
    }


@pytest.fixture(scope="module")
def default_server():
    """A server with default settings (no --allow-sse-c-over-http), over plain HTTP."""
    with running_server() as srv:
        yield srv


def test_sse_c_over_plain_http_is_refused_by_default(default_server):
    """User Guide, "Using server-side encryption with customer-provided keys (SSE-C)":
    Amazon S3 rejects any request made over HTTP when using SSE-C
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerSideEncryptionCustomerKeys.html):
    400 InvalidRequest, for writes, reads, copy sources and multipart uploads alike."""
    s3 = client(default_server, "s3")
    bucket = f"hard-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    customer = sse_c(os.urandom(32))

    def refused(fn, **kwargs):
        status, code, message = error_of(fn, Bucket=bucket, **kwargs)
        assert (status, code, message) == (400, "InvalidRequest", SSE_C_OVER_HTTP)

    refused(s3.put_object, Key="c", Body=b"secret", **customer)
    status, _, _ = error_of(s3.head_object, Bucket=bucket, Key="c")
    assert status == 404  # nothing was stored
    s3.put_object(Bucket=bucket, Key="plain", Body=b"plain")
    refused(s3.get_object, Key="plain", **customer)
    status, _, _ = error_of(s3.head_object, Bucket=bucket, Key="plain", **customer)
    assert status == 400
    refused(s3.get_object_attributes, Key="plain", ObjectAttributes=["ETag"], **customer)
    refused(s3.copy_object, Key="copy", CopySource={"Bucket": bucket, "Key": "plain"},
            **sse_c(os.urandom(32), "CopySourceSSECustomer"))
    refused(s3.create_multipart_upload, Key="mp", **customer)
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    refused(s3.upload_part, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"x", **customer)


def test_allow_sse_c_over_http_flag_is_for_local_development():
    with running_server(extra_args=["--allow-sse-c-over-http"]) as srv:
        s3 = client(srv, "s3")
        bucket = f"hard-{uuid.uuid4().hex[:10]}"
        s3.create_bucket(Bucket=bucket)
        customer = sse_c(os.urandom(32))
        s3.put_object(Bucket=bucket, Key="c", Body=b"dev", **customer)
        assert s3.get_object(Bucket=bucket, Key="c", **customer)["Body"].read() == b"dev"


def test_sse_c_over_https(tls_server):
    """With TLS, SSE-C works without any flag: put, get, head, copy, multipart, attributes."""
    s3 = s3_of(tls_server)
    bucket = f"hard-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    customer = sse_c(os.urandom(32))
    put = s3.put_object(Bucket=bucket, Key="c", Body=b"over tls", **customer)
    assert put["SSECustomerKeyMD5"] == customer["SSECustomerKeyMD5"]
    assert s3.get_object(Bucket=bucket, Key="c", **customer)["Body"].read() == b"over tls"
    assert s3.head_object(Bucket=bucket, Key="c", **customer)["ContentLength"] == 8
    source = {k.replace("SSECustomer", "CopySourceSSECustomer"): v for k, v in customer.items()}
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "c"}, **source, **customer)
    assert s3.get_object(Bucket=bucket, Key="copy", **customer)["Body"].read() == b"over tls"
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", **customer)
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"part", **customer)
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="mp", **customer)["Body"].read() == b"part"
    attrs = s3.get_object_attributes(Bucket=bucket, Key="c", ObjectAttributes=["ETag", "ObjectSize"], **customer)
    assert attrs["ObjectSize"] == 8


# --- 7. no plaintext fingerprints of encrypted objects ----------------------------


def md5_etag(data):
    return '"%s"' % hashlib.md5(data).hexdigest()


def test_encrypted_objects_do_not_answer_the_plaintext_md5_as_etag(s3, kms, bucket):
    """API Reference, "Object" (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html):
    objects encrypted by SSE-C or SSE-KMS "have ETags that are not an MD5 digest of their
    object data"; plaintext and SSE-S3 objects have the MD5. Content-MD5 is still checked,
    and conditional requests work with the ETag the object has."""
    data = b"a guessable secret " + uuid.uuid4().hex.encode()
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    customer = sse_c(os.urandom(32))
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    assert s3.put_object(Bucket=bucket, Key="s3", Body=data, ContentMD5=md5)["ETag"] == md5_etag(data)
    kms_put = s3.put_object(Bucket=bucket, Key="kms", Body=data, ContentMD5=md5,
                            ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
    c_put = s3.put_object(Bucket=bucket, Key="c", Body=data, ContentMD5=md5, **customer)
    for put in (kms_put, c_put):
        assert put["ETag"] != md5_etag(data) and len(put["ETag"]) == 34
    assert kms_put["ETag"] != c_put["ETag"]
    listed = {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed == {"s3": md5_etag(data), "kms": kms_put["ETag"], "c": c_put["ETag"]}
    assert s3.head_object(Bucket=bucket, Key="kms")["ETag"] == kms_put["ETag"]
    # Content-MD5 of the plaintext is still checked.
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    status, code, _ = error_of(s3.put_object, Bucket=bucket, Key="kms2", Body=data, ContentMD5=wrong,
                               ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
    assert (status, code) == (400, "BadDigest")
    # Conditional requests use the object's ETag.
    assert s3.get_object(Bucket=bucket, Key="kms", IfMatch=kms_put["ETag"])["Body"].read() == data
    status, _, _ = error_of(s3.get_object, Bucket=bucket, Key="kms", IfMatch=md5_etag(data))
    assert status == 412
    status, _, _ = error_of(s3.get_object, Bucket=bucket, Key="c", IfNoneMatch=c_put["ETag"], **customer)
    assert status == 304
    # Copies into SSE-KMS get a fresh ETag, too.
    copy = s3.copy_object(Bucket=bucket, Key="kms-copy", CopySource={"Bucket": bucket, "Key": "s3"},
                          ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
    assert copy["CopyObjectResult"]["ETag"] not in (md5_etag(data), kms_put["ETag"])


def test_encrypted_multipart_parts_do_not_answer_plaintext_md5s(s3, kms, bucket):
    part = os.urandom(5 * 1024 * 1024)
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    for name, extra in (("kms", dict(ServerSideEncryption="aws:kms", SSEKMSKeyId=key)),
                        ("c", sse_c(os.urandom(32)))):
        up = s3.create_multipart_upload(Bucket=bucket, Key=name, **extra)
        part_extra = {k: v for k, v in extra.items() if k.startswith("SSECustomer")}
        etags = []
        for n, body in enumerate([part, b"tail"], 1):
            r = s3.upload_part(Bucket=bucket, Key=name, UploadId=up["UploadId"], PartNumber=n, Body=body,
                               ContentMD5=base64.b64encode(hashlib.md5(body).digest()).decode(), **part_extra)
            assert r["ETag"] != md5_etag(body)
            etags.append({"PartNumber": n, "ETag": r["ETag"]})
        listed = s3.list_parts(Bucket=bucket, Key=name, UploadId=up["UploadId"])["Parts"]
        assert [p["ETag"] for p in listed] == [e["ETag"] for e in etags]
        done = s3.complete_multipart_upload(Bucket=bucket, Key=name, UploadId=up["UploadId"],
                                            MultipartUpload={"Parts": etags})
        plain = hashlib.md5(hashlib.md5(part).digest() + hashlib.md5(b"tail").digest()).hexdigest()
        assert done["ETag"].endswith('-2"') and plain not in done["ETag"]
        assert s3.get_object(Bucket=bucket, Key=name, **part_extra)["Body"].read() == part + b"tail"


def test_get_object_attributes_of_sse_c_object_needs_the_key(s3, bucket):
    """API Reference, GetObjectAttributes: for an SSE-C object the request must carry the
    SSE-C headers, as for GetObject; without them nothing (ETag, checksums) is answered."""
    customer = sse_c(os.urandom(32))
    put = s3.put_object(Bucket=bucket, Key="c", Body=b"customer", ChecksumAlgorithm="CRC32", **customer)
    status, code, message = error_of(s3.get_object_attributes, Bucket=bucket, Key="c",
                                     ObjectAttributes=["ETag", "Checksum"])
    assert (status, code) == (400, "InvalidRequest")
    assert "Server Side Encryption" in message
    status, _, _ = error_of(s3.get_object_attributes, Bucket=bucket, Key="c", ObjectAttributes=["ETag"],
                            **sse_c(os.urandom(32)))
    assert status == 403
    attrs = s3.get_object_attributes(Bucket=bucket, Key="c", ObjectAttributes=["ETag", "Checksum"], **customer)
    assert '"%s"' % attrs["ETag"] == put["ETag"]
    assert attrs["Checksum"]["ChecksumCRC32"] == put["ChecksumCRC32"]


def test_decision_log_does_not_record_body_digests(server, bucket):
    """A signed payload's x-amz-content-sha256 is the SHA-256 of the body: the decision
    log keeps the payload mode only (SIGNED-PAYLOAD), never the digest."""
    import time
    body = b"fingerprint me " + uuid.uuid4().hex.encode()
    key = f"digest-{uuid.uuid4().hex[:8]}"
    status, resp = raw_signed(server, "PUT", f"/{bucket}/{key}", [], body)
    assert status == 200, resp
    digest = hashlib.sha256(body).hexdigest()
    log = os.path.join(server.data_dir, "decisions.jsonl")
    deadline = time.monotonic() + 10
    while True:
        with open(log) as f:
            text = f.read()
        if key in text or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    records = [json.loads(line) for line in text.splitlines() if key in line]
    assert records, "the PutObject decision was recorded"
    assert digest not in text
    assert records[-1]["context"]["s3:x-amz-content-sha256"] == ["SIGNED-PAYLOAD"]
