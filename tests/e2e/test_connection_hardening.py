"""What a client can hold before it is authenticated (issue 17, items 2 and 5), on the wire
with raw sockets: unknown keys are refused from the request head without reading the body,
a body that stops arriving ends with S3's RequestTimeout and a closed connection, the caps
on unauthenticated requests and on connections hold, and an early answer to
`Expect: 100-continue` closes the connection instead of reading the next request as the body.

RequestTimeout: https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
("Your socket connection to the server was not read from or written to within the timeout
period. Idle connections will be closed.", 400). SlowDown: the same page (503).
"""

import hashlib
import io
import socket
import time
import uuid

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import REGION, client
from server import running_server

# A body this large is never sent: the server must answer from the head alone.
HUGE = 200 * 1024 * 1024
MADE_UP_KEY = "AKIAMADEUPKEY0000001"
MADE_UP_SECRET = "madeUpSecretKey00000000000000000000000000"


def signed_head(srv, method, path, service, headers, key=None, secret=None):
    """The bytes of a SigV4-signed request head (no body). `headers` must include
    Content-Length; X-Amz-Content-SHA256 is signed as given when present."""
    url = f"{srv.endpoint}{path}"
    request = AWSRequest(method=method, url=url, headers=dict(headers))
    request.headers["Host"] = f"127.0.0.1:{srv.port}"
    creds = Credentials(key or srv.access_key, secret or srv.secret_key)
    SigV4Auth(creds, service, REGION).add_auth(request)
    return raw_head(method, path, request.headers.items())


def raw_head(method, path, headers):
    lines = [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def connect(srv, timeout=10):
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_response(sock):
    """One HTTP/1.1 response: (status, lower-case headers, body). Raises on timeout."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a full response head: {data!r}")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, value = line.split(":", 1)
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:length]


def closed_by_server(sock, within):
    """True when the server closes the connection (EOF or reset) within `within` seconds."""
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


@pytest.fixture(scope="module")
def guarded():
    """A server with small limits, so that the tests can reach them."""
    args = ["--body-idle-timeout", "1s", "--max-unauthenticated", "2"]
    with running_server(extra_args=args) as srv:
        yield srv


# --- unknown keys and missing signatures: refused from the head, body never read ---


@pytest.mark.parametrize(
    "service,path,headers,status,code",
    [
        ("iam", "/", {"Content-Type": "application/x-www-form-urlencoded"}, 403, b"InvalidClientTokenId"),
        ("sts", "/", {"Content-Type": "application/x-www-form-urlencoded"}, 403, b"InvalidClientTokenId"),
        ("kms", "/", {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.ListKeys"},
         400, b"UnrecognizedClientException"),
        ("s3", "/some-bucket/key", {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}, 403, b"InvalidAccessKeyId"),
    ],
)
def test_unknown_key_refused_before_the_body_is_sent(guarded, service, path, headers, status, code):
    method = "PUT" if service == "s3" else "POST"
    head = signed_head(guarded, method, path, service, {**headers, "Content-Length": str(HUGE)},
                       key=MADE_UP_KEY, secret=MADE_UP_SECRET)
    with connect(guarded, timeout=5) as sock:
        sock.sendall(head)  # the head only: the answer cannot wait for the body
        got_status, got_headers, body = read_response(sock)
        assert got_status == status, body
        assert code in body
        # The body was left unread, so the connection is closed rather than reused.
        assert got_headers.get("connection") == "close"
        assert closed_by_server(sock, 5)


def test_iam_wrong_region_refused_before_the_body_is_sent(guarded):
    """The credential scope and the clock are checked from the head, before the body."""
    url = f"{guarded.endpoint}/"
    request = AWSRequest(method="POST", url=url, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(HUGE),
        "Host": f"127.0.0.1:{guarded.port}"})
    SigV4Auth(Credentials(guarded.access_key, guarded.secret_key), "iam", "eu-west-3").add_auth(request)
    with connect(guarded, timeout=5) as sock:
        sock.sendall(raw_head("POST", "/", request.headers.items()))
        status, _, body = read_response(sock)
    assert status in (400, 403), body
    assert b"eu-west-3" in body


def test_iam_bad_signature_with_content_sha256_refused_before_the_body(guarded):
    """A client that sends x-amz-content-sha256 to IAM is verified from the head: a
    wrong signature is refused without reading the (announced, never sent) body."""
    body_hash = "a" * 64
    head = signed_head(guarded, "POST", "/", "iam", {
        "Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(HUGE),
        "X-Amz-Content-SHA256": body_hash}, secret="not-the-secret-key-0000000000000000000000")
    with connect(guarded, timeout=5) as sock:
        sock.sendall(head)
        status, headers, body = read_response(sock)
    assert status == 403, body
    assert b"SignatureDoesNotMatch" in body
    assert headers.get("connection") == "close"


def iam_call_with_content_sha256(srv, body, signed_hash):
    head = signed_head(srv, "POST", "/", "iam", {
        "Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(len(body)),
        "X-Amz-Content-SHA256": signed_hash})
    with connect(srv, timeout=5) as sock:
        sock.sendall(head + body)
        return read_response(sock)


def test_iam_body_checked_against_the_signed_content_sha256(guarded):
    body = b"Action=ListUsers&Version=2010-05-08"
    status, _, answer = iam_call_with_content_sha256(guarded, body, hashlib.sha256(body).hexdigest())
    assert status == 200, answer
    assert b"ListUsersResponse" in answer
    swapped = b"Action=CreateUser&UserName=mallory&Version=2010-05-08"
    status, _, answer = iam_call_with_content_sha256(guarded, swapped, hashlib.sha256(body).hexdigest())
    assert status == 400, answer
    assert b"XAmzContentSHA256Mismatch" in answer
    with pytest.raises(client(guarded, "iam").exceptions.NoSuchEntityException):
        client(guarded, "iam").get_user(UserName="mallory")


def test_idle_keep_alive_and_slow_heads_are_closed():
    with running_server(extra_args=["--header-timeout", "1s"]) as srv:
        with connect(srv) as sock:
            sock.sendall(raw_head("GET", "/", [("Host", f"127.0.0.1:{srv.port}")]))
            status, _, _ = read_response(sock)
            assert status == 403
            started = time.monotonic()
            assert closed_by_server(sock, 5), "an idle keep-alive connection was kept"
            assert time.monotonic() - started < 4
        with connect(srv) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # the head never ends
            assert closed_by_server(sock, 5), "a slow request head was waited for"


# --- a body that stops arriving ---


def assert_request_timeout(sock, started, timeout_s):
    status, headers, body = read_response(sock)
    elapsed = time.monotonic() - started
    assert status == 400, body
    assert b"<Code>RequestTimeout</Code>" in body or b"RequestTimeout" in body
    assert b"Idle connections will be closed." in body
    assert elapsed < timeout_s + 4, elapsed
    assert headers.get("connection") == "close"
    assert closed_by_server(sock, 5)


def test_stalled_s3_body_gets_request_timeout_and_the_connection_closes(guarded, s3_bucket_on):
    bucket = s3_bucket_on(guarded)
    head = signed_head(guarded, "PUT", f"/{bucket}/stalled", "s3",
                       {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD", "Content-Length": "1000"})
    with connect(guarded) as sock:
        sock.sendall(head + b"x" * 10)  # then nothing
        assert_request_timeout(sock, time.monotonic(), 1)


def test_stalled_iam_body_gets_request_timeout(guarded):
    head = signed_head(guarded, "POST", "/", "iam",
                       {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "100"})
    with connect(guarded) as sock:
        sock.sendall(head + b"Action=ListUsers")  # 16 of 100 bytes
        assert_request_timeout(sock, time.monotonic(), 1)


# --- the cap on requests reading a body before their signature is verified ---


def assert_anonymous_body_slowed_down(srv, path):
    """An anonymous S3 PUT with a body is answered 503 SlowDown from its head."""
    head = raw_head("PUT", path, [("Host", f"127.0.0.1:{srv.port}"), ("Content-Length", "5")])
    with connect(srv, timeout=5) as sock:
        sock.sendall(head)
        status, _, body = read_response(sock)
        assert status == 503, body
        assert b"<Code>SlowDown</Code>" in body


def test_unauthenticated_cap_answers_503_and_signed_s3_still_works(guarded, s3_bucket_on):
    bucket = s3_bucket_on(guarded)
    iam_head = signed_head(guarded, "POST", "/", "iam",
                           {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "100"})
    held = [connect(guarded) for _ in range(2)]
    try:
        for sock in held:
            sock.sendall(iam_head)  # a known key: the body is awaited under a permit
        time.sleep(0.3)
        with connect(guarded, timeout=5) as sock:
            sock.sendall(iam_head)
            status, _, body = read_response(sock)
            assert status == 503, body
            assert b"ServiceUnavailable" in body
        assert_anonymous_body_slowed_down(guarded, f"/{bucket}/anon")
        # Signed S3 requests are verified from the head and need no permit.
        s3 = client(guarded, "s3")
        s3.put_object(Bucket=bucket, Key="while-held", Body=b"hello")
        assert s3.get_object(Bucket=bucket, Key="while-held")["Body"].read() == b"hello"
    finally:
        for sock in held:
            sock.close()
    # The permits come back once the stalled requests are gone.
    time.sleep(0.3)
    client(guarded, "iam").list_users()


def test_unauthenticated_body_budget_answers_503():
    """One anonymous 4 MiB XML body takes the whole 4 MiB budget: the next unauthenticated
    body waits for nothing and is answered 503, while a signed request is served."""
    args = ["--unauthenticated-body-budget", "4MiB", "--body-idle-timeout", "5s"]
    with running_server(extra_args=args) as srv:
        big = raw_head("PUT", "/budget-bucket", [
            ("Host", f"127.0.0.1:{srv.port}"), ("Content-Length", str(4 * 1024 * 1024))])
        with connect(srv) as holder:
            holder.sendall(big)
            time.sleep(0.3)
            assert_anonymous_body_slowed_down(srv, "/budget-bucket-2")
            client(srv, "s3").list_buckets()


# --- the cap on connections ---


def served_connection(srv, attempts=50):
    """A connection the server serves (a request answered on it, kept alive). Retries
    while connections that just closed (the start-up probe) still hold their places."""
    for _ in range(attempts):
        sock = connect(srv, timeout=5)
        try:
            sock.sendall(raw_head("GET", "/", [("Host", f"127.0.0.1:{srv.port}")]))
            status, headers, _ = read_response(sock)
            assert status == 403 and headers.get("connection") != "close"
            return sock
        except (ConnectionError, OSError):
            sock.close()
            time.sleep(0.1)
    raise AssertionError("no connection was served")


def test_connection_cap_holds():
    with running_server(extra_args=["--max-connections", "3"]) as srv:
        held = [served_connection(srv) for _ in range(3)]
        try:
            with connect(srv, timeout=5) as extra:
                assert closed_by_server(extra, 3), "a connection past the cap was kept open"
            # The held connections are still served.
            held[0].sendall(raw_head("GET", "/", [("Host", f"127.0.0.1:{srv.port}")]))
            status, _, _ = read_response(held[0])
            assert status == 403
        finally:
            for sock in held:
                sock.close()
        # Closing connections frees their places.
        served_connection(srv).close()


# --- Expect: 100-continue answered early ---


def test_early_answer_to_expect_100_continue_closes_the_connection(guarded):
    """RFC 9110 §10.1.1: a server that answers before reading the whole body must say
    whether it will close the connection or read and discard the rest; the client of an
    unanswered 100-continue never sends that body, so reading on would take the next
    request's bytes for it. The server says `Connection: close` and closes."""
    missing = f"no-such-bucket-{uuid.uuid4().hex[:8]}"
    head = signed_head(guarded, "PUT", f"/{missing}/key", "s3", {
        "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD", "Content-Length": "10",
        "Expect": "100-continue"})
    with connect(guarded, timeout=5) as sock:
        sock.sendall(head)  # waits for 100 Continue; the answer comes first
        status, headers, body = read_response(sock)
        assert status == 404, body
        assert headers.get("connection") == "close"
        assert closed_by_server(sock, 2)


def test_a_fully_read_body_keeps_the_connection(guarded, s3_bucket_on):
    """Keep-alive is kept when the body was read: the close is only for unread bodies."""
    bucket = s3_bucket_on(guarded)
    head = signed_head(guarded, "PUT", f"/{bucket}/kept", "s3", {
        "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD", "Content-Length": "10",
        "Expect": "100-continue"})
    with connect(guarded, timeout=5) as sock:
        sock.sendall(head)
        status, _, _ = read_response(sock)
        assert status == 100
        sock.sendall(b"0123456789")
        status, headers, body = read_response(sock)
        assert status == 200, body
        assert headers.get("connection") != "close"
        sock.sendall(signed_head(guarded, "GET", f"/{bucket}/kept", "s3", {
            "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD", "Content-Length": "0"}))
        status, _, body = read_response(sock)
        assert (status, body) == (200, b"0123456789")


def test_boto3_two_calls_after_an_early_answer_to_expect_100_continue(guarded, s3_bucket_on):
    bucket = s3_bucket_on(guarded)
    s3 = client(guarded, "s3")
    missing = f"no-such-bucket-{uuid.uuid4().hex[:8]}"
    # A file-like body makes botocore send Expect: 100-continue.
    with pytest.raises(s3.exceptions.NoSuchBucket):
        s3.put_object(Bucket=missing, Key="k", Body=io.BytesIO(b"0123456789"))
    # The next call on the same pooled connection must not be desynchronized.
    s3.put_object(Bucket=bucket, Key="after-early-answer", Body=io.BytesIO(b"payload"))
    assert s3.get_object(Bucket=bucket, Key="after-early-answer")["Body"].read() == b"payload"


@pytest.fixture(scope="module")
def s3_bucket_on():
    made = {}

    def make(srv):
        if srv.port not in made:
            name = f"conn-{uuid.uuid4().hex[:12]}"
            client(srv, "s3").create_bucket(Bucket=name)
            made[srv.port] = name
        return made[srv.port]

    return make
