"""Signature hardening (issue 17 items 1, 9, 10, 13; issue 19 bugs 1 and 9), on the wire.

Attacks an SDK will not make are sent with http.client, which sends the request line
exactly as given; valid signatures come from botocore's own signers.
"""

import base64
import hashlib
import hmac
import http.client
import time
import uuid
from email.utils import formatdate

import boto3
import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import REGION, client
from server import running_server


def raw(srv, method, target, headers=None, body=b""):
    """Sends `method target` verbatim (no re-encoding); returns (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        headers = dict(headers or {})
        headers.setdefault("Host", f"127.0.0.1:{srv.port}")
        for name, value in headers.items():
            conn.putheader(name, value)
        if body or method in ("PUT", "POST"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def path_of(url):
    """The path and query of an absolute URL, as it will be sent."""
    return "/" + url.split("/", 3)[3]


def error_code(body):
    text = body.decode(errors="replace")
    if "<Code>" not in text:
        return None
    return text.split("<Code>", 1)[1].split("</Code>", 1)[0]


def s3v2_client(srv, **s3_config):
    return boto3.client(
        "s3", endpoint_url=srv.endpoint, region_name=REGION,
        aws_access_key_id=srv.access_key, aws_secret_access_key=srv.secret_key,
        config=Config(signature_version="s3", retries={"max_attempts": 1},
                      s3={"addressing_style": "path", **s3_config}),
    )


def creds(srv):
    return Credentials(srv.access_key, srv.secret_key)


@pytest.fixture
def versioned(s3, bucket):
    """A versioned bucket with two versions of `k`: (bucket, old version id)."""
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    old = s3.put_object(Bucket=bucket, Key="k", Body=b"old secret")["VersionId"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"current")
    return bucket, old


# --- issue 17 item 1: sub-resources outside the SigV2 signature -------------------------

def test_sigv2_presigned_url_cannot_gain_an_encoded_sub_resource(server, versioned):
    """A SigV2 presigned GET of an object, with a sub-resource name spelt with escapes
    appended, must not reach GetObjectAcl, GetObjectTagging, another version, or override
    the response's Content-Type: the name is decoded for the signature as for the router."""
    bucket, old = versioned
    url = s3v2_client(server).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=600)
    target = path_of(url)
    status, _, body = raw(server, "GET", target)
    assert (status, body) == (200, b"current")
    for extra in ["&%61cl", "&%74agging", f"&%76ersionId={old}",
                  "&%72esponse-content-type=text%2Fhtml", "&ac%6C="]:
        status, headers, body = raw(server, "GET", target + extra)
        assert status == 403, (extra, status, body)
        assert error_code(body) == "SignatureDoesNotMatch", (extra, body)
        assert b"old secret" not in body and b"AccessControlPolicy" not in body
        assert headers.get("content-type") != "text/html"
    # Parameters that are not sub-resources are outside SigV2 on AWS too.
    assert raw(server, "GET", target + "&x-id=GetObject")[0] == 200


def test_sigv4_presigned_plus_is_not_a_second_reading(server, s3, bucket):
    """`+` in a query is a space for the router; a URL signed with a literal plus (`%2B`)
    must not be accepted with `+` in its place (which would change the value acted on)."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "k", "ResponseContentType": "text/a+b"},
        ExpiresIn=600)
    target = path_of(url)
    assert "text%2Fa%2Bb" in target
    status, headers, _ = raw(server, "GET", target)
    assert (status, headers["content-type"]) == (200, "text/a+b")
    status, headers, body = raw(server, "GET", target.replace("%2B", "+"))
    assert status == 403 and error_code(body) == "SignatureDoesNotMatch", body
    assert headers.get("content-type") != "text/a b"


def presign_v4_pairs(srv, method, path, pairs, expires=600):
    """A SigV4 presigned target for `path` with the query `pairs` in the order given
    (botocore's presigner folds repeated names into one, so this one is by hand, after
    <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>)."""
    from urllib.parse import quote
    now = time.gmtime()
    amz_date, day = time.strftime("%Y%m%dT%H%M%SZ", now), time.strftime("%Y%m%d", now)
    scope = f"{day}/{REGION}/s3/aws4_request"
    pairs = list(pairs) + [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", f"{srv.access_key}/{scope}"),
        ("X-Amz-Date", amz_date), ("X-Amz-Expires", str(expires)), ("X-Amz-SignedHeaders", "host")]
    enc = [(quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs]
    canonical_query = "&".join(f"{k}={v}" for k, v in sorted(enc))
    host = f"127.0.0.1:{srv.port}"
    creq = f"{method}\n{path}\n{canonical_query}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD"
    sts = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(creq.encode()).hexdigest()}"
    key = f"AWS4{srv.secret_key}".encode()
    for part in (day, REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    query = "&".join(f"{k}={v}" for k, v in enc)
    return f"{path}?{query}&X-Amz-Signature={signature}"


def test_sigv4_repeated_query_names_are_refused(server, versioned):
    """SigV4 sorts a repeated parameter's values, so their order is not signed; the router
    reads the first. A presigned URL naming versionId twice is refused in either order."""
    bucket, old = versioned
    ok = presign_v4_pairs(server, "GET", f"/{bucket}/k", [])
    assert raw(server, "GET", ok)[:3:2] == (200, b"current")
    signed = presign_v4_pairs(server, "GET", f"/{bucket}/k", [("versionId", "null"), ("versionId", old)])
    swapped = signed.replace(f"versionId=null&versionId={old}", f"versionId={old}&versionId=null")
    assert swapped != signed
    for target in (signed, swapped):
        status, _, body = raw(server, "GET", target)
        assert status == 400 and error_code(body) == "InvalidArgument", body
        assert b"old secret" not in body


# --- issue 17 item 9: only S3 accepts unsigned and streaming payloads --------------------

class UnsignedPayloadSigV4(SigV4Auth):
    """botocore's SigV4 signer, signing the payload hash `claim` instead of the body's."""

    def __init__(self, credentials, service, region, claim):
        super().__init__(credentials, service, region)
        self.claim = claim

    def payload(self, request):
        return self.claim


@pytest.mark.parametrize("claim", ["UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"])
def test_iam_body_cannot_be_swapped_under_an_unsigned_payload(server, iam, claim):
    """A ListUsers request signed with x-amz-content-sha256 UNSIGNED-PAYLOAD whose body was
    swapped for CreateUser must not create the user: IAM signs the body's SHA-256."""
    name = f"swapped-{uuid.uuid4().hex[:8]}"
    request = AWSRequest(
        method="POST", url=f"{server.endpoint}/",
        data=b"Action=ListUsers&Version=2010-05-08",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                 "X-Amz-Content-SHA256": claim})
    UnsignedPayloadSigV4(creds(server), "iam", REGION, claim).add_auth(request)
    headers = {k: v for k, v in request.headers.items()}
    headers["Host"] = request.headers.get("Host", f"127.0.0.1:{server.port}")
    swapped = f"Action=CreateUser&UserName={name}&Version=2010-05-08".encode()
    status, _, body = raw(server, "POST", "/", headers, swapped)
    assert status == 403, body
    assert error_code(body) == "SignatureDoesNotMatch", body
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName=name)
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"


# --- issue 17 item 10: host must be signed ------------------------------------------------

class NoHostS3SigV4(S3SigV4Auth):
    """botocore's S3 signer with `host` left out of SignedHeaders."""

    def headers_to_sign(self, request):
        headers = super().headers_to_sign(request)
        del headers["host"]
        return headers


def test_sigv4_without_signed_host_is_refused(server, s3):
    """A signature made for one virtual-hosted bucket must not work on another: S3
    answers AccessDenied with <HeadersNotSigned>host</HeadersNotSigned>."""
    alpha, beta = f"alpha-{uuid.uuid4().hex[:8]}", f"beta-{uuid.uuid4().hex[:8]}"
    for name in (alpha, beta):
        s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=name, Key="k", Body=f"in {name}".encode())
    request = AWSRequest(method="GET", url=f"http://{alpha}.localhost:{server.port}/k")
    NoHostS3SigV4(creds(server), "s3", REGION).add_auth(request)
    assert "host" not in request.headers["Authorization"].split("SignedHeaders=")[1].split(",")[0]
    headers = dict(request.headers.items())
    for target_bucket in (alpha, beta):
        headers["Host"] = f"{target_bucket}.localhost:{server.port}"
        status, _, body = raw(server, "GET", "/k", headers)
        assert status == 403, (target_bucket, status, body)
        assert error_code(body) == "AccessDenied", body
        assert b"<HeadersNotSigned>host</HeadersNotSigned>" in body
    # The same request with host signed works on its own bucket only.
    request = AWSRequest(method="GET", url=f"http://{alpha}.localhost:{server.port}/k")
    S3SigV4Auth(creds(server), "s3", REGION).add_auth(request)
    headers = dict(request.headers.items())
    headers["Host"] = f"{alpha}.localhost:{server.port}"
    assert raw(server, "GET", "/k", headers)[:3:2] == (200, f"in {alpha}".encode())
    headers["Host"] = f"{beta}.localhost:{server.port}"
    status, _, body = raw(server, "GET", "/k", headers)
    assert status == 403 and error_code(body) == "SignatureDoesNotMatch"


def test_sts_without_signed_host_is_refused(server):
    request = AWSRequest(
        method="POST", url=f"{server.endpoint}/", data=b"Action=GetCallerIdentity&Version=2011-06-15",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})

    class NoHost(SigV4Auth):
        def headers_to_sign(self, request):
            headers = super().headers_to_sign(request)
            del headers["host"]
            return headers

    NoHost(creds(server), "sts", REGION).add_auth(request)
    status, _, body = raw(server, "POST", "/", dict(request.headers.items()), request.body)
    assert status == 400, body
    assert error_code(body) == "IncompleteSignature", body


# --- issue 17 item 13: SigV2 expiry cap and switch -----------------------------------------

def test_sigv2_presigned_url_lifetime_is_capped(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    v2 = s3v2_client(server)
    week = v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"},
                                     ExpiresIn=7 * 24 * 3600 - 60)
    assert raw(server, "GET", path_of(week))[0] == 200
    year_2100 = 4102444800
    far = v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"},
                                    ExpiresIn=year_2100 - int(time.time()))
    assert "Expires=41024448" in far
    status, _, body = raw(server, "GET", path_of(far))
    assert status == 400, body
    assert error_code(body) == "AuthorizationQueryParametersError", body


@pytest.mark.parametrize("how", ["flag", "env"])
def test_sigv2_can_be_turned_off(how):
    args, env = ((("--sigv2", "off"), None) if how == "flag" else ((), {"STRONGBOX_SIGV2": "off"}))
    with running_server(extra_env=env, extra_args=args) as srv:
        s3 = client(srv, "s3")
        s3.create_bucket(Bucket="still-sigv4")
        s3.put_object(Bucket="still-sigv4", Key="k", Body=b"x")
        v2 = s3v2_client(srv)
        with pytest.raises(ClientError) as e:
            v2.list_objects(Bucket="still-sigv4")
        assert e.value.response["Error"]["Code"] == "InvalidRequest"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert "authorization mechanism you have provided is not supported" in \
            e.value.response["Error"]["Message"]
        url = v2.generate_presigned_url("get_object", Params={"Bucket": "still-sigv4", "Key": "k"})
        status, _, body = raw(srv, "GET", path_of(url))
        assert (status, error_code(body)) == (400, "InvalidRequest")
        # An unknown key is refused the same way: SigV2 is refused before the key is looked up.
        bad = boto3.client("s3", endpoint_url=srv.endpoint, region_name=REGION,
                           aws_access_key_id="AKIANOSUCHKEY0000001", aws_secret_access_key="x" * 40,
                           config=Config(signature_version="s3", s3={"addressing_style": "path"}))
        with pytest.raises(ClientError) as e:
            bad.list_objects(Bucket="still-sigv4")
        assert e.value.response["Error"]["Code"] == "InvalidRequest"
        assert s3.get_object(Bucket="still-sigv4", Key="k")["Body"].read() == b"x"


# --- issue 19 bug 1: SigV2 bucket requests, path-style ---------------------------------------

def test_sigv2_bucket_requests_path_style(server, s3, bucket):
    """botocore (s3v2) sends `/bucket` and signs `/bucket/`; bucket operations must work."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    v2 = s3v2_client(server)
    assert [o["Key"] for o in v2.list_objects(Bucket=bucket)["Contents"]] == ["k"]
    v2.head_bucket(Bucket=bucket)
    assert v2.get_bucket_acl(Bucket=bucket)["Owner"]
    v2.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    assert v2.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "a", "Value": "b"}]
    assert v2.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


# --- issue 19 bug 9: a wrong weekday is not an invalid date ---------------------------------

def sigv2_authorization(srv, method, resource, date):
    string_to_sign = f"{method}\n\n\n{date}\n{resource}"
    digest = hmac.new(srv.secret_key.encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return f"AWS {srv.access_key}:{base64.b64encode(digest).decode()}"


def test_sigv2_date_with_wrong_weekday_is_accepted(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"weekday")
    now = time.time()
    date = formatdate(now, usegmt=True)
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    wrong = days[(days.index(date[:3]) + 3) % 7] + date[3:]
    for header in ("Date", "x-amz-date"):
        headers = {header: wrong}
        amz = f"x-amz-date:{wrong}\n" if header == "x-amz-date" else ""
        sts_date = "" if header == "x-amz-date" else wrong
        string_to_sign = f"GET\n\n\n{sts_date}\n{amz}/{bucket}/k"
        digest = hmac.new(server.secret_key.encode(), string_to_sign.encode(), hashlib.sha1).digest()
        headers["Authorization"] = f"AWS {server.access_key}:{base64.b64encode(digest).decode()}"
        status, _, body = raw(server, "GET", f"/{bucket}/k", headers)
        assert (status, body) == (200, b"weekday"), (header, body)
    # Skew is still refused, with RequestTimeTooSkewed.
    old = formatdate(now - 3600, usegmt=True)
    headers = {"Date": old, "Authorization": sigv2_authorization(server, "GET", f"/{bucket}/k", old)}
    status, _, body = raw(server, "GET", f"/{bucket}/k", headers)
    assert (status, error_code(body)) == (403, "RequestTimeTooSkewed")
