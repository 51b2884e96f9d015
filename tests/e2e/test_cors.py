"""CORS (issue 19): Put/Get/DeleteBucketCors with boto3, preflight and actual
responses checked on the wire, and a real headless Chromium fetching
cross-origin from a page on another loopback port.

AWS references:
- https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html
- https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketCors.html
- https://docs.aws.amazon.com/AmazonS3/latest/userguide/ManageCorsUsing.html
- https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors-troubleshooting.html
"""

import base64
import hashlib
import http.client
import http.server
import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import REGION, client, explain, new_user
from server import raw_request

NOT_ALLOWED = ("CORSResponse: This CORS request is not allowed. This is usually because the evalution "
               "of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers "
               "are not whitelisted by the resource&apos;s CORS spec.")
NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."
APP = "http://app.example.test"

RULES = {"CORSRules": [
    {"ID": "app", "AllowedOrigins": ["http://*.example.test"], "AllowedMethods": ["PUT", "GET"],
     "AllowedHeaders": ["x-amz-*", "Content-Type"], "ExposeHeaders": ["ETag", "x-amz-request-id"],
     "MaxAgeSeconds": 600},
    {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"]},
]}


def code_of(exc):
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def raw(server, method, path, headers=()):
    """An unsigned request, as a browser sends a preflight. Returns (status, headers, body)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    status, answer_headers, body = raw_request(server, lines)
    return status, answer_headers, body.decode()


def signed(server, method, path, query="", headers=None, body=b""):
    """A SigV4-signed request with exactly these headers (no Content-MD5 unless given)."""
    url = f"{server.endpoint}{path}" + (f"?{query}" if query else "")
    req = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    S3SigV4Auth(Credentials(server.access_key, server.secret_key), "s3", REGION).add_auth(req)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, path + (f"?{query}" if query else ""), body=body, headers=dict(req.headers))
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


# --- the configuration API ------------------------------------------------------------


def test_cors_configuration_round_trip(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert code_of(e) == ("NoSuchCORSConfiguration", "The CORS configuration does not exist")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES)
    got = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert got == RULES["CORSRules"]
    replaced = {"CORSRules": [{"AllowedOrigins": ["https://one.test"], "AllowedMethods": ["DELETE"]}]}
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=replaced)
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == replaced["CORSRules"]
    assert s3.delete_bucket_cors(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert code_of(e)[0] == "NoSuchCORSConfiguration"


@pytest.mark.parametrize("rule,code,message", [
    ({"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}, "InvalidRequest",
     "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"),
    ({"AllowedOrigins": ["*"], "AllowedMethods": ["get"]}, "InvalidRequest",
     "Found unsupported HTTP method in CORS config. Unsupported method is get"),
    ({"AllowedOrigins": ["http://*.*.test"], "AllowedMethods": ["GET"]}, "InvalidRequest",
     'AllowedOrigin "http://*.*.test" can not have more than one wildcard.'),
    ({"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["x-*-*"]}, "InvalidRequest",
     'AllowedHeader "x-*-*" can not have more than one wildcard.'),
    ({"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "ExposeHeaders": ["x-amz-*"]}, "InvalidRequest",
     'ExposeHeader "x-amz-*" contains wildcard. We currently do not support wildcard for ExposeHeader.'),
])
def test_invalid_rules_are_refused(s3, bucket, rule, code, message):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})
    assert code_of(e) == (code, message)
    with pytest.raises(ClientError):
        s3.get_bucket_cors(Bucket=bucket)


def put_cors_xml(server, bucket, doc, md5=True):
    body = doc.encode()
    headers = {"Content-Type": "application/xml"}
    if md5:
        headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    return signed(server, "PUT", f"/{bucket}", "cors", headers, body)


def test_malformed_documents_and_limits(server, bucket):
    one = "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"
    cases = [
        "<CORSConfiguration></CORSConfiguration>",
        "<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
        "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>",
        f"<CORSConfiguration>{one * 101}</CORSConfiguration>",
        "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
        "<MaxAgeSeconds>soon</MaxAgeSeconds></CORSRule></CORSConfiguration>",
        "<CORSConfiguration><CORSRule>",
    ]
    for doc in cases:
        status, body = put_cors_xml(server, bucket, doc)
        assert status == 400 and "<Code>MalformedXML</Code>" in body, (doc[:80], body)
    status, body = put_cors_xml(server, bucket, f"<CORSConfiguration>{one * 100}</CORSConfiguration>")
    assert status == 200, body
    big = "<CORSConfiguration>" + one.replace("*", "http://" + "a" * 70000) + "</CORSConfiguration>"
    status, body = put_cors_xml(server, bucket, big)
    assert status == 400 and "<Code>MaxMessageLengthExceeded</Code>" in body, body


def test_content_md5_is_required_and_checked(server, bucket):
    doc = ("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
           "<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>")
    status, body = put_cors_xml(server, bucket, doc, md5=False)
    assert status == 400, body
    assert "<Code>InvalidRequest</Code>" in body
    assert "Missing required header for this request: Content-MD5" in body
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    status, body = signed(server, "PUT", f"/{bucket}", "cors",
                          {"Content-MD5": wrong}, doc.encode())
    assert status == 400 and "<Code>BadDigest</Code>" in body, body


def test_cors_actions_are_authorized_and_recorded(server, s3, iam, bucket):
    from test_authorization import policy
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES)
    _, key_id, secret = new_user(iam, policy({
        "Effect": "Allow", "Action": "s3:GetBucketCORS", "Resource": f"arn:aws:s3:::{bucket}"}))
    user = client(server, "s3", key=key_id, secret=secret)
    deadline = time.monotonic() + 10
    while True:  # IAM changes are visible at once; the new key needs no propagation, but be safe
        try:
            assert user.get_bucket_cors(Bucket=bucket)["CORSRules"] == RULES["CORSRules"]
            break
        except ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    for call in (lambda: user.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES),
                 lambda: user.delete_bucket_cors(Bucket=bucket)):
        with pytest.raises(ClientError) as e:
            call()
        assert code_of(e)[0] == "AccessDenied"
        rid = e.value.response["ResponseMetadata"]["RequestId"]
        assert "s3:PutBucketCORS" in explain(server, rid)
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == RULES["CORSRules"]


# --- preflight and actual responses on the wire ---------------------------------------


def preflight(server, path, origin=APP, method="PUT", request_headers=None):
    headers = []
    if origin is not None:
        headers.append(("Origin", origin))
    if method is not None:
        headers.append(("Access-Control-Request-Method", method))
    if request_headers is not None:
        headers.append(("Access-Control-Request-Headers", request_headers))
    return raw(server, "OPTIONS", path, headers)


def test_preflight_matches_the_first_rule(server, s3, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES)
    status, h, body = preflight(server, f"/{bucket}/photos/cat.jpg",
                                request_headers="Content-Type, X-Amz-Meta-Note")
    assert status == 200, body
    assert h["access-control-allow-origin"] == APP
    assert h["access-control-allow-credentials"] == "true"
    assert h["access-control-allow-methods"] == "PUT, GET"
    assert h["access-control-allow-headers"] == "content-type, x-amz-meta-note"
    assert h["access-control-expose-headers"] == "ETag, x-amz-request-id"
    assert h["access-control-max-age"] == "600"
    assert h["vary"] == "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
    assert h.get("x-amz-request-id")
    # The second rule: any origin, GET only, answered with `*`.
    status, h, _ = preflight(server, f"/{bucket}/k", origin="https://elsewhere.test", method="GET")
    assert status == 200
    assert h["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in h
    assert h["access-control-allow-methods"] == "GET, HEAD"


def test_preflight_ignores_credentials_and_presigned_queries(server, s3, bucket):
    """A browser's preflight of a presigned PUT carries the URL's query, signed for PUT:
    it is answered from the CORS configuration alone."""
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES)
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60)
    path = url[len(server.endpoint):]
    status, h, body = preflight(server, path)
    assert status == 200, body
    assert h["access-control-allow-origin"] == APP


@pytest.mark.parametrize("origin,method,req_headers", [
    ("http://example.test", "PUT", None),              # origin outside the wildcard
    (APP, "DELETE", None),                             # method no rule allows
    (APP, "PUT", "authorization"),                     # a header the rule does not allow
    ("https://elsewhere.test", "PUT", None),           # `*` rule allows GET/HEAD only
    (APP, "PUT", ",".join(f"x-amz-meta-{i}" for i in range(101))),  # more headers than allowed
])
def test_preflight_not_allowed(server, s3, bucket, origin, method, req_headers):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES)
    status, h, body = preflight(server, f"/{bucket}/k", origin, method, req_headers)
    assert status == 403, body
    assert "<Code>AccessForbidden</Code>" in body
    assert NOT_ALLOWED in body
    assert f"<Method>{method}</Method><ResourceType>OBJECT</ResourceType>" in body
    assert "access-control-allow-origin" not in h


def test_preflight_errors(server, s3, bucket):
    status, _, body = preflight(server, f"/{bucket}/k")
    assert status == 403 and "<Code>AccessForbidden</Code>" in body and NOT_ENABLED in body, body
    assert "<ResourceType>OBJECT</ResourceType>" in body
    status, _, body = preflight(server, f"/{bucket}")
    assert status == 403 and NOT_ENABLED in body and "<ResourceType>BUCKET</ResourceType>" in body
    status, _, body = preflight(server, f"/{bucket}/k", origin=None)
    assert status == 400 and "<Code>BadRequest</Code>" in body, body
    assert "Insufficient information. Origin request header needed." in body
    status, _, body = preflight(server, f"/{bucket}/k", method=None)
    assert status == 400 and "Invalid Access-Control-Request-Method: null" in body, body
    status, _, body = preflight(server, f"/{bucket}/k", method="PATCH")
    assert status == 400 and "Invalid Access-Control-Request-Method: PATCH" in body, body
    status, _, body = preflight(server, f"/nonexistent-{uuid.uuid4().hex[:8]}/k")
    assert status == 403 and "<Code>AccessForbidden</Code>" in body, body


def test_actual_responses_carry_cors_headers_errors_included(server, s3, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES)
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    get = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60)
    path = get[len(server.endpoint):]
    status, h, body = raw(server, "GET", path, [("Origin", APP)])
    assert (status, body) == (200, "hello")
    assert h["access-control-allow-origin"] == APP
    assert h["access-control-allow-methods"] == "PUT, GET"
    assert h["access-control-expose-headers"] == "ETag, x-amz-request-id"
    assert h["vary"].startswith("Origin")
    # 404 NoSuchKey and 403 (a bad signature; anonymous AccessDenied) carry them too.
    missing = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "nope"},
                                        ExpiresIn=60)
    status, h, body = raw(server, "GET", missing[len(server.endpoint):], [("Origin", APP)])
    assert status == 404 and "NoSuchKey" in body
    assert h["access-control-allow-origin"] == APP
    tampered = re.sub(r"Signature=[^&]+", "Signature=AAAAAAAAAAAAAAAAAAAAAAAAAAA%3D", path)
    assert tampered != path
    status, h, body = raw(server, "GET", tampered, [("Origin", APP)])
    assert status == 403 and "SignatureDoesNotMatch" in body
    assert h["access-control-allow-origin"] == APP
    status, h, body = raw(server, "GET", f"/{bucket}/k", [("Origin", "https://elsewhere.test")])
    assert status == 403 and "AccessDenied" in body
    assert h["access-control-allow-origin"] == "*"
    # HEAD is allowed by the second rule only; DELETE by none: no Allow-Origin, but Vary.
    status, h, _ = raw(server, "DELETE", f"/{bucket}/k", [("Origin", APP)])
    assert status == 403
    assert "access-control-allow-origin" not in h
    assert h["vary"].startswith("Origin")
    # Without an Origin, no CORS headers at all.
    status, h, _ = raw(server, "GET", path)
    assert status == 200 and not any(k.startswith("access-control-") for k in h)


def test_bucket_without_cors_answers_no_cors_headers(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    get = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60)
    status, h, _ = raw(server, "GET", get[len(server.endpoint):], [("Origin", APP)])
    assert status == 200
    assert not any(k.startswith("access-control-") for k in h) and "vary" not in h


# --- a real browser ---------------------------------------------------------------------

PAGE = """<!doctype html><html><body><pre id="result">pending</pre><script>
(async () => {
  const out = {};
  try {
    const r = await fetch(%(get)s);
    out.get = r.status + ":" + (await r.text());
  } catch (e) { out.get = "error:" + e.name; }
  try {
    const r = await fetch(%(put)s, {method: "PUT", body: "from the browser",
                                     headers: {"x-amz-meta-note": "cors"}});
    out.put = r.status + ":" + (r.headers.get("ETag") || "no-etag");
  } catch (e) { out.put = "error:" + e.name; }
  document.getElementById("result").textContent = JSON.stringify(out);
})();
</script></body></html>"""


class _Page(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browser_result(page_html):
    """Serves `page_html` from another loopback port, loads it in headless Chromium and
    returns what its script wrote into the DOM (one retry if the browser hiccups)."""
    handler = type("Page", (_Page,), {"body": page_html.encode()})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    profile = tempfile.mkdtemp(prefix="strongbox-chromium-")
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/page.html"
        cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--no-first-run", "--no-default-browser-check", f"--user-data-dir={profile}",
               "--virtual-time-budget=20000", "--dump-dom", url]
        for attempt in range(2):
            try:
                out = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
            except subprocess.TimeoutExpired:
                continue
            m = re.search(r'<pre id="result">(.*?)</pre>', out.stdout, re.S)
            if m and m.group(1) != "pending":
                return json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
            if attempt == 1:
                raise AssertionError(f"no result from chromium: {out.stdout[-2000:]} {out.stderr[-2000:]}")
        raise AssertionError("chromium timed out twice")
    finally:
        httpd.shutdown()
        httpd.server_close()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.mark.skipif(chromium() is None, reason="needs Debian's chromium (scripts/test-all installs it)")
def test_headless_chromium_fetches_cross_origin(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="hello.txt", Body=b"hello browser")
    signer = client(server, "s3", signature_version="s3v4")

    def page(put_key):
        get = signer.generate_presigned_url("get_object", ExpiresIn=300,
                                            Params={"Bucket": bucket, "Key": "hello.txt"})
        put = signer.generate_presigned_url("put_object", ExpiresIn=300, Params={
            "Bucket": bucket, "Key": put_key, "Metadata": {"note": "cors"}})
        return PAGE % {"get": json.dumps(get), "put": json.dumps(put)}

    # Without a CORS configuration the browser refuses both: the GET's response has no
    # Allow-Origin, the PUT's preflight is refused so the PUT is never sent.
    result = browser_result(page("blocked.txt"))
    assert result == {"get": "error:TypeError", "put": "error:TypeError"}, result
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="blocked.txt")

    # With a rule for the page's origin (a loopback port): both succeed, and the
    # exposed ETag is readable by the script.
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": ["http://127.0.0.1:*"], "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["x-amz-meta-*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 5}]})
    result = browser_result(page("uploaded.txt"))
    assert result["get"] == "200:hello browser", result
    etag = s3.head_object(Bucket=bucket, Key="uploaded.txt")["ETag"]
    assert result["put"] == f"200:{etag}", result
    got = s3.get_object(Bucket=bucket, Key="uploaded.txt")
    assert got["Body"].read() == b"from the browser"
    assert got["Metadata"] == {"note": "cors"}
