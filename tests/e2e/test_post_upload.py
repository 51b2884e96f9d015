"""POST Object (browser-based uploads, issue 19): boto3's generate_presigned_post with
forms sent by `requests` (and hand-built multipart bodies where the field order matters),
every POST policy condition kind, expiration, SigV2 and SigV4, ACLs with object ownership,
the same authorization as PutObject (explained by `strongbox explain`), and the answers
S3 documents: https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html,
https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html."""

import json
import os
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

import boto3
import pytest
import requests
from botocore.config import Config

from conftest import client, explain, new_user
from server import running_server


def _v4(srv, key=None, secret=None):
    """An S3 client whose presigned POST forms use SigV4 (boto3's default form is SigV2)."""
    return boto3.client("s3", endpoint_url=srv.endpoint, aws_access_key_id=key or srv.access_key,
                        aws_secret_access_key=secret or srv.secret_key,
                        config=Config(region_name="us-east-1", signature_version="s3v4",
                                      retries={"max_attempts": 1}))


def error_of(resp):
    root = ET.fromstring(resp.content)
    return root.findtext("Code"), root.findtext("Message") or ""


def post(url, fields, body=b"hello", filename="cat.txt"):
    """The form as a browser sends it (fields first, `file` last), through `requests`."""
    return requests.post(url, data=fields, files={"file": (filename, body)}, allow_redirects=False, timeout=60)


def multipart(parts, boundary="----strongbox-form-boundary"):
    """A hand-built multipart/form-data body from ordered (name, value, filename) parts."""
    out = b""
    for name, value, filename in parts:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disp}\r\n\r\n".encode()
        out += (value if isinstance(value, bytes) else value.encode()) + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def post_raw(url, parts):
    body, ctype = multipart(parts)
    return requests.post(url, data=body, headers={"Content-Type": ctype}, allow_redirects=False, timeout=60)


def test_sigv4_presigned_post_201_with_post_response(server, s3, bucket):
    form = _v4(server).generate_presigned_post(
        bucket, "up/${filename}",
        Fields={"success_action_status": "201", "Content-Type": "text/plain", "x-amz-meta-owner": "eric"},
        Conditions=[{"success_action_status": "201"}, ["starts-with", "$Content-Type", "text/"],
                    {"x-amz-meta-owner": "eric"}, ["content-length-range", 1, 1024]])
    assert form["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    r = post(form["url"], form["fields"], b"hello", filename="cat.txt")
    assert r.status_code == 201, r.text
    doc = ET.fromstring(r.content)
    ns = {"s": "http://s3.amazonaws.com/doc/2006-03-01/"}
    assert doc.findtext("s:Bucket", namespaces=ns) == bucket
    assert doc.findtext("s:Key", namespaces=ns) == "up/cat.txt"
    assert doc.findtext("s:ETag", namespaces=ns) == r.headers["ETag"]
    assert doc.findtext("s:Location", namespaces=ns).endswith(f"/{bucket}/up/cat.txt")
    got = s3.get_object(Bucket=bucket, Key="up/cat.txt")
    assert got["Body"].read() == b"hello"
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"owner": "eric"}


def test_sigv2_presigned_post_default_204_with_location(server, s3, bucket):
    form = s3.generate_presigned_post(bucket, "a.txt")
    assert "AWSAccessKeyId" in form["fields"] and "signature" in form["fields"]
    r = post(form["url"], form["fields"], b"abc")
    assert r.status_code == 204, r.text
    assert r.headers["Location"] == f"{server.endpoint}/{bucket}/a.txt"
    assert r.headers["ETag"] == '"900150983cd24fb0d6963f7d28e17f72"'
    assert s3.get_object(Bucket=bucket, Key="a.txt")["Body"].read() == b"abc"


def test_success_action_status_200_and_redirect_303(server, s3, bucket):
    form = s3.generate_presigned_post(bucket, "s.txt", Fields={"success_action_status": "200"},
                                      Conditions=[{"success_action_status": "200"}])
    r = post(form["url"], form["fields"])
    assert r.status_code == 200 and r.content == b""
    target = "https://example.com/done?from=form"
    form = s3.generate_presigned_post(bucket, "r.txt", Fields={"success_action_redirect": target},
                                      Conditions=[{"success_action_redirect": target}])
    r = post(form["url"], form["fields"], b"abc")
    assert r.status_code == 303, r.text
    loc = urllib.parse.urlparse(r.headers["Location"])
    q = urllib.parse.parse_qs(loc.query)
    assert loc.netloc == "example.com" and q["from"] == ["form"]
    assert q["bucket"] == [bucket] and q["key"] == ["r.txt"]
    assert q["etag"] == ['"900150983cd24fb0d6963f7d28e17f72"']


@pytest.mark.parametrize("conditions,fields,expected", [
    ([{"acl": "private"}], {"acl": "public-read"}, '["eq", "$acl", "private"]'),
    ([["eq", "$x-amz-meta-a", "1"]], {"x-amz-meta-a": "2"}, '["eq", "$x-amz-meta-a", "1"]'),
    ([["starts-with", "$Content-Type", "image/"]], {"Content-Type": "image/png, text/html"},
     '["starts-with", "$content-type", "image/"]'),
    ([["starts-with", "$Cache-Control", "max-age"]], {"Cache-Control": "no-cache"},
     '["starts-with", "$cache-control", "max-age"]'),
])
def test_policy_condition_failures(server, s3, bucket, conditions, fields, expected):
    form = _v4(server).generate_presigned_post(bucket, "c.txt", Fields=fields, Conditions=conditions)
    r = post(form["url"], form["fields"])
    assert r.status_code == 403, r.text
    assert error_of(r) == ("AccessDenied", f"Invalid according to Policy: Policy Condition failed: {expected}")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_policy_conditions_that_hold(server, s3, bucket):
    tagging = "<Tagging><TagSet><Tag><Key>team</Key><Value>blue</Value></Tag></TagSet></Tagging>"
    fields = {"Content-Type": "image/png, image/gif", "Cache-Control": "max-age=60", "tagging": tagging,
              "x-amz-server-side-encryption": "AES256", "x-ignore-note": "not covered"}
    form = _v4(server).generate_presigned_post(
        bucket, "user/eric/${filename}", Fields=fields,
        Conditions=[["starts-with", "$Content-Type", "image/"], ["starts-with", "$Cache-Control", ""],
                    {"tagging": tagging}, {"x-amz-server-side-encryption": "AES256"},
                    ["starts-with", "$key", "user/eric/"]])
    r = post(form["url"], form["fields"], b"png", filename="p.png")
    assert r.status_code == 204, r.text
    head = s3.head_object(Bucket=bucket, Key="user/eric/p.png")
    assert head["CacheControl"] == "max-age=60" and head["ServerSideEncryption"] == "AES256"
    tags = s3.get_object_tagging(Bucket=bucket, Key="user/eric/p.png")["TagSet"]
    assert tags == [{"Key": "team", "Value": "blue"}]


def test_key_prefix_and_bucket_conditions(server, s3, bucket):
    form = _v4(server).generate_presigned_post(bucket, "user/eric/x.txt",
                                                Conditions=[["starts-with", "$key", "user/eric/"]])
    fields = dict(form["fields"], key="user/mallory/x.txt")
    r = post(form["url"], fields)
    assert r.status_code == 403
    assert error_of(r)[1] == 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "user/eric/"]'
    other = f"e2e-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=other)
    r = post(f"{server.endpoint}/{other}", form["fields"])
    assert r.status_code == 403
    assert error_of(r)[1] == f'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "{bucket}"]'


def test_every_field_must_be_covered(server, bucket):
    form = _v4(server).generate_presigned_post(bucket, "e.txt")
    r = post(form["url"], dict(form["fields"], **{"x-amz-meta-sneaky": "1"}))
    assert r.status_code == 403
    assert error_of(r) == ("AccessDenied", "Invalid according to Policy: Extra input fields: x-amz-meta-sneaky")


def test_content_length_range(server, s3, bucket):
    form = _v4(server).generate_presigned_post(bucket, "len.bin", Conditions=[["content-length-range", 10, 20]])
    r = post(form["url"], form["fields"], b"x" * 21)
    assert r.status_code == 400 and error_of(r)[0] == "EntityTooLarge"
    r = post(form["url"], form["fields"], b"x" * 9)
    assert r.status_code == 400 and error_of(r)[0] == "EntityTooSmall"
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    assert post(form["url"], form["fields"], b"x" * 15).status_code == 204


def test_expired_policy(server, bucket):
    form = _v4(server).generate_presigned_post(bucket, "old.txt", ExpiresIn=-60)
    r = post(form["url"], form["fields"])
    assert r.status_code == 403
    assert error_of(r) == ("AccessDenied", "Invalid according to Policy: Policy expired.")


def test_signature_must_cover_the_policy(server, bucket):
    form = _v4(server).generate_presigned_post(bucket, "sig.txt")
    other = _v4(server).generate_presigned_post(bucket, "sig.txt", Conditions=[["content-length-range", 0, 10**9]])
    r = post(form["url"], dict(form["fields"], policy=other["fields"]["policy"]))
    assert r.status_code == 403 and error_of(r)[0] == "SignatureDoesNotMatch"
    r = post(form["url"], dict(form["fields"], **{"x-amz-credential": "AKIANOSUCHKEY0000000/20260101/us-east-1/s3/aws4_request"}))
    assert r.status_code == 403 and error_of(r)[0] == "InvalidAccessKeyId"


def test_file_must_be_the_last_field(server, s3, bucket):
    form = s3.generate_presigned_post(bucket, "order.txt")
    f = form["fields"]
    # The policy after the file is not read: the form lacks it.
    r = post_raw(form["url"], [("key", f["key"], None), ("AWSAccessKeyId", f["AWSAccessKeyId"], None),
                               ("signature", f["signature"], None), ("file", b"data", "a.txt"),
                               ("policy", f["policy"], None)])
    assert r.status_code == 400
    code, message = error_of(r)
    assert code == "InvalidArgument" and "'policy'" in message
    r = post_raw(form["url"], [(k, v, None) for k, v in f.items()])
    assert r.status_code == 400
    assert error_of(r) == ("InvalidArgument", "POST requires exactly one file upload per request.")
    # Field names are case-insensitive.
    r = post_raw(form["url"], [(k.upper(), v, None) for k, v in f.items()] + [("FILE", b"data", "a.txt")])
    assert r.status_code == 204, r.text


def test_malformed_and_oversized_forms(server, bucket):
    url = f"{server.endpoint}/{bucket}"
    r = requests.post(url, data=b"--x\r\nnot a part", headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 400 and error_of(r)[0] == "MalformedPOSTRequest"
    r = post_raw(url, [("key", "k", None), ("x-ignore-big", "a" * 30000, None), ("file", b"d", "f")])
    assert r.status_code == 400 and error_of(r)[0] == "MaxPostPreDataLengthExceeded"
    many = [(f"x-ignore-{i}", "a" * 15000, None) for i in range(5)]
    r = post_raw(url, [("key", "k", None), *many, ("file", b"d", "f")])
    assert r.status_code == 400 and error_of(r)[0] == "MaxPostPreDataLengthExceeded"
    # Part headers count too: multipart parsers buffer them whole.
    junk = b"--x\r\nContent-Disposition: form-data; name=\"key\"\r\nX-Junk: " + b"a" * 400_000 + b"\r\n\r\nk\r\n"
    junk += b'--x\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\nd\r\n--x--\r\n'
    r = requests.post(url, data=junk, headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 400 and error_of(r)[0] == "MaxPostPreDataLengthExceeded"


def test_anonymous_form_needs_public_write(server, s3, bucket):
    r = post_raw(f"{server.endpoint}/{bucket}", [("key", "anon.txt", None), ("file", b"d", "f")])
    assert r.status_code == 403 and error_of(r) == ("AccessDenied", "Access Denied")


def test_user_without_put_object_denied_and_explained(server, s3, iam, bucket):
    arn, key, secret = new_user(iam)
    form = _v4(server, key=key, secret=secret).generate_presigned_post(bucket, "u.txt")
    r = post(form["url"], form["fields"])
    assert r.status_code == 403
    code, message = error_of(r)
    assert code == "AccessDenied"
    assert message.startswith(f"User: {arn} is not authorized to perform: s3:PutObject")
    text = explain(server, r.headers["x-amz-request-id"])
    assert "no_allow_identity_policy" in text and "s3:PutObject" in text


def test_acl_field_needs_put_object_acl(server, s3, iam, bucket):
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject",
                                                   "Resource": f"arn:aws:s3:::{bucket}/*"}]}
    arn, key, secret = new_user(iam, json.dumps(doc))
    user = _v4(server, key=key, secret=secret)
    form = user.generate_presigned_post(bucket, "acl.txt", Fields={"acl": "private"}, Conditions=[{"acl": "private"}])
    r = post(form["url"], form["fields"])
    assert r.status_code == 403
    assert "s3:PutObjectAcl" in error_of(r)[1]
    form = user.generate_presigned_post(bucket, "acl.txt")
    assert post(form["url"], form["fields"]).status_code == 204


def test_acl_with_object_ownership(server, s3, bucket):
    # BucketOwnerEnforced (the default): ACLs other than bucket-owner-full-control are refused.
    form = _v4(server).generate_presigned_post(bucket, "o.txt", Fields={"acl": "public-read"},
                                                Conditions=[{"acl": "public-read"}])
    r = post(form["url"], form["fields"])
    assert r.status_code == 400 and error_of(r)[0] == "AccessControlListNotSupported"
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    # Block Public Access refuses the public ACL (a rule denial, explained).
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    r = post(form["url"], form["fields"])
    assert r.status_code == 403 and error_of(r)[0] == "AccessDenied"
    assert "block_public_acls" in explain(server, r.headers["x-amz-request-id"])
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    r = post(form["url"], form["fields"])
    assert r.status_code == 204, r.text
    grants = s3.get_object_acl(Bucket=bucket, Key="o.txt")["Grants"]
    assert any(g["Grantee"].get("URI", "").endswith("/global/AllUsers") and g["Permission"] == "READ" for g in grants)


def test_policy_refusal_is_recorded_and_explained(server, bucket):
    form = _v4(server).generate_presigned_post(bucket, "x.txt", Conditions=[["starts-with", "$key", "ok/"]])
    r = post(form["url"], form["fields"])
    assert r.status_code == 403
    text = explain(server, r.headers["x-amz-request-id"])
    assert "post_policy" in text and '["starts-with", "$key", "ok/"]' in text


def test_sigv2_form_refused_when_sigv2_is_off(s3):
    with running_server(extra_args=("--sigv2", "off")) as srv:
        s3v4 = _v4(srv)
        name = f"e2e-{uuid.uuid4().hex[:12]}"
        s3v4.create_bucket(Bucket=name)
        form = client(srv, "s3").generate_presigned_post(name, "v2.txt")
        assert "signature" in form["fields"]
        r = post(form["url"], form["fields"])
        assert r.status_code == 400 and error_of(r)[0] == "InvalidRequest"
        form = s3v4.generate_presigned_post(name, "v4.txt")
        assert post(form["url"], form["fields"]).status_code == 204


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(field)


def test_streamed_200_mb_upload_keeps_memory_bounded():
    """The file part streams to disk: the server's peak RSS stays far below the upload's size."""
    size = 200 * 1024 * 1024
    with running_server() as srv:
        s3v4 = _v4(srv)
        name = f"e2e-{uuid.uuid4().hex[:12]}"
        s3v4.create_bucket(Bucket=name)
        form = s3v4.generate_presigned_post(name, "big.bin", Conditions=[["content-length-range", 0, size]])
        boundary = "----strongbox-big"
        head = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in form["fields"].items())
        head += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'.encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        chunk = os.urandom(1024 * 1024)

        def body():
            yield head
            for _ in range(size // len(chunk)):
                yield chunk
            yield tail

        r = requests.post(form["url"], data=body(), timeout=600,
                          headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert r.status_code == 204, r.text
        assert s3v4.head_object(Bucket=name, Key="big.bin")["ContentLength"] == size
        peak = rss_kib(srv.process.pid, "VmHWM")
        assert peak < 120 * 1024, f"peak RSS {peak} KiB for a {size >> 20} MiB upload"


def test_temporary_credentials_sign_a_form(server, s3, bucket):
    creds = client(server, "sts").get_session_token()["Credentials"]
    import boto3
    session_s3 = boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=creds["AccessKeyId"],
                              aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"],
                              config=Config(region_name="us-east-1", signature_version="s3v4"))
    form = session_s3.generate_presigned_post(bucket, "tmp.txt")
    assert form["fields"]["x-amz-security-token"] == creds["SessionToken"]
    assert post(form["url"], form["fields"]).status_code == 204
    r = post(form["url"], dict(form["fields"], **{"x-amz-security-token": "bogus"}))
    assert r.status_code in (400, 403) and error_of(r)[0] != "AccessDenied"


def test_sse_kms_form_needs_key_permissions(server, s3, iam, kms, bucket):
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    fields = {"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": key_arn}
    conditions = [{k: v} for k, v in fields.items()]
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject",
                                                   "Resource": f"arn:aws:s3:::{bucket}/*"}]}
    _, key, secret = new_user(iam, json.dumps(doc))
    form = _v4(server, key=key, secret=secret).generate_presigned_post(bucket, "k.txt", Fields=fields,
                                                                        Conditions=conditions)
    r = post(form["url"], form["fields"])
    assert r.status_code == 403 and "kms:GenerateDataKey" in error_of(r)[1]
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    form = _v4(server).generate_presigned_post(bucket, "k.txt", Fields=fields, Conditions=conditions)
    r = post(form["url"], form["fields"])
    assert r.status_code == 204, r.text
    head = s3.head_object(Bucket=bucket, Key="k.txt")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key_arn


def test_bucket_policy_sees_post_auth_type_and_anonymous_forms(server, s3, bucket):
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/public/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/no-forms/*",
         "Condition": {"StringEquals": {"s3:authType": "POST"}}}]}))
    # An anonymous form (no policy, no signature) is an anonymous PutObject.
    r = post_raw(f"{server.endpoint}/{bucket}", [("key", "public/${filename}", None),
                                                 ("redirect", "http://example.com/ok", None),
                                                 ("file", b"anon", "a.txt")])
    assert r.status_code == 303, r.text
    assert r.headers["Location"].startswith("http://example.com/ok?bucket=")
    assert s3.get_object(Bucket=bucket, Key="public/a.txt")["Body"].read() == b"anon"
    # s3:authType is POST for a signed form, so the Deny applies to forms and not to PUT.
    form = _v4(server).generate_presigned_post(bucket, "no-forms/f.txt")
    r = post(form["url"], form["fields"])
    assert r.status_code == 403 and error_of(r)[0] == "AccessDenied"
    s3.put_object(Bucket=bucket, Key="no-forms/f.txt", Body=b"put")
