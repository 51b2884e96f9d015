#!/usr/bin/env python3
"""Capture real signed requests from boto3 and the aws CLI (v1) for the interop test.

Starts a throw-away HTTP and HTTPS listener that records every request (method, raw target,
headers in order, body) and answers with a minimal canned response, points the clients at
it, and writes ../data/captured.jsonl. Run it again to refresh the fixtures:

    python3 crates/sigv4/tests/capture/capture.py
"""
import base64
import http.server
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading

import boto3
import botocore.config
import urllib3

urllib3.disable_warnings()

AKID = "AKIDCAPTURE000000001"
SECRET = "capture/Secret+Key/0123456789abcdefghijk"
TOKEN = "FQoGZXIvYXdzEXAMPLEtoken/with+chars=="
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "captured.jsonl")

captured = []
label = ["none"]

CANNED = {
    "uploads": b"<InitiateMultipartUploadResult><Bucket>bkt</Bucket><Key>k</Key>"
               b"<UploadId>up1</UploadId></InitiateMultipartUploadResult>",
    "uploadId": b"<CompleteMultipartUploadResult><Bucket>bkt</Bucket><Key>k</Key>"
                b"<ETag>\"e\"</ETag></CompleteMultipartUploadResult>",
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def handle_any(self):
        body = self.read_body()
        path, _, query = self.path.partition("?")
        captured.append({
            "label": label[0],
            "method": self.command,
            "path": path,
            "query": query,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_b64": base64.b64encode(body).decode() if len(body) <= 300_000 else None,
        })
        reply = b""
        if self.command == "POST" and query.startswith("uploads"):
            reply = CANNED["uploads"]
        elif self.command == "POST" and "uploadId" in query:
            reply = CANNED["uploadId"]
        self.send_response(200)
        self.send_header("ETag", '"0123456789abcdef0123456789abcdef"')
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


def serve(tls):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls:
        d = tempfile.mkdtemp()
        key, cert = os.path.join(d, "k.pem"), os.path.join(d, "c.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]


def client(service, endpoint, token=None, **cfg):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=AKID,
                        aws_secret_access_key=SECRET, aws_session_token=token, verify=False,
                        config=botocore.config.Config(retries={"max_attempts": 1}, **cfg))


def cli(endpoint, *args, data=None):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    env.pop("AWS_SESSION_TOKEN", None)
    subprocess.run(["aws", "--endpoint-url", endpoint, "--no-verify-ssl", *args], env=env, capture_output=True)


def case(name, fn):
    label[0] = name
    try:
        fn()
    except Exception as e:  # responses are canned; client-side parse errors are expected
        print(f"{name}: {type(e).__name__}", file=sys.stderr)


def main():
    http_ep = f"http://127.0.0.1:{serve(False)}"
    https_ep = f"https://localhost:{serve(True)}"
    tmp = tempfile.mkdtemp()
    small = os.path.join(tmp, "small.txt")
    with open(small, "wb") as f:
        f.write(b"hello from the aws cli\n" * 100)

    s3 = client("s3", http_ep)
    s3s = client("s3", https_ep)
    case("boto3-put-http", lambda: s3.put_object(Bucket="bkt", Key="dir/a b+c=d&e.txt", Body=b"payload " * 50))
    case("boto3-put-https-trailer", lambda: s3s.put_object(Bucket="bkt", Key="ключ/x", Body=b"z" * 20000))
    case("boto3-put-https-sha256", lambda: client("s3", https_ep, request_checksum_calculation="when_required")
         .put_object(Bucket="bkt", Key="k2", Body=b"abc", ChecksumAlgorithm="SHA256"))
    case("boto3-get-range", lambda: s3.get_object(Bucket="bkt", Key="a~b/c", Range="bytes=0-9"))
    case("boto3-list-v2", lambda: s3.list_objects_v2(Bucket="bkt", Prefix="a b/", Delimiter="/", MaxKeys=7))
    case("boto3-put-acl-tagging", lambda: s3.put_object(Bucket="bkt", Key="t", Body=b"", ACL="public-read",
                                                         Tagging="a=1&b=two words", Metadata={"m": "v  v"}))
    case("boto3-session-token", lambda: client("s3", http_ep, token=TOKEN).head_object(Bucket="bkt", Key="k"))
    case("boto3-sigv2-put", lambda: client("s3", http_ep, signature_version="s3").put_object(
        Bucket="bkt", Key="v2/key", Body=b"v2 body", ContentType="text/plain"))
    case("boto3-sigv2-get-acl", lambda: client("s3", http_ep, signature_version="s3").get_object_acl(
        Bucket="bkt", Key="v2/key"))
    case("boto3-multipart", lambda: (
        s3.create_multipart_upload(Bucket="bkt", Key="mp"),
        s3.upload_part(Bucket="bkt", Key="mp", UploadId="up1", PartNumber=1, Body=b"p" * 1000),
        s3.complete_multipart_upload(Bucket="bkt", Key="mp", UploadId="up1",
                                     MultipartUpload={"Parts": [{"ETag": '"e"', "PartNumber": 1}]})))
    case("boto3-delete-objects", lambda: s3.delete_objects(Bucket="bkt", Delete={"Objects": [{"Key": "a"}]}))
    case("boto3-iam", lambda: client("iam", http_ep).list_users(PathPrefix="/a/"))
    case("boto3-sts", lambda: client("sts", http_ep, token=TOKEN).get_caller_identity())
    case("boto3-kms", lambda: client("kms", http_ep).describe_key(KeyId="alias/x"))
    case("cli-s3-cp", lambda: cli(http_ep, "s3", "cp", small, "s3://bkt/cli/small file.txt"))
    case("cli-s3api-put-https", lambda: cli(https_ep, "s3api", "put-object", "--bucket", "bkt", "--key", "cli/k",
                                            "--body", small))
    case("cli-s3-ls", lambda: cli(http_ep, "s3", "ls", "s3://bkt/pre fix/"))
    case("cli-iam-create-user", lambda: cli(http_ep, "iam", "create-user", "--user-name", "alice"))

    offline_virtual_host()
    with open(OUT, "w") as f:
        for c in captured:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
        for name, url in presigned(http_ep):
            f.write(json.dumps({"label": name, "presigned_url": url}) + "\n")
    print(f"{len(captured)} requests captured to {OUT}", file=sys.stderr)


def offline_virtual_host():
    """Virtual-hosted requests, signed without sending (bkt.localhost does not resolve)."""
    from botocore.auth import HmacV1Auth, S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    creds = Credentials(AKID, SECRET)
    for name, auth in [("offline-virtual-host-v4", S3SigV4Auth(creds, "s3", "us-east-1")),
                       ("offline-virtual-host-v2", HmacV1Auth(creds))]:
        req = AWSRequest(method="GET", url="http://bkt.s3.localhost:9000/some%20key?versionId=v1",
                         headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
        # What botocore's S3 addressing customization sets for virtual-hosted requests.
        req.auth_path = "/bkt/some%20key"
        auth.add_auth(req)
        prepared = req.prepare()
        path, _, query = prepared.url.split("9000", 1)[1].partition("?")
        headers = [["Host", "bkt.s3.localhost:9000"]] + [[k, v] for k, v in prepared.headers.items()]
        captured.append({"label": name, "method": "GET", "path": path, "query": query, "headers": headers,
                         "body_b64": "", "virtual_host_bucket": "bkt"})


def presigned(ep):
    out = []
    v4 = client("s3", ep, signature_version="s3v4")
    out.append(("presign-v4-get", v4.generate_presigned_url("get_object", Params={"Bucket": "bkt", "Key": "p/q r"},
                                                           ExpiresIn=3600)))
    out.append(("presign-v4-put-token", client("s3", ep, token=TOKEN, signature_version="s3v4").generate_presigned_url(
        "put_object", Params={"Bucket": "bkt", "Key": "up"}, ExpiresIn=600)))
    out.append(("presign-default", client("s3", ep).generate_presigned_url(
        "get_object", Params={"Bucket": "bkt", "Key": "d"}, ExpiresIn=60)))
    v2 = client("s3", ep, signature_version="s3")
    out.append(("presign-v2-get", v2.generate_presigned_url(
        "get_object", Params={"Bucket": "bkt", "Key": "p/q r", "ResponseContentType": "text/plain"}, ExpiresIn=3600)))
    env = dict(os.environ, AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    r = subprocess.run(["aws", "--endpoint-url", ep, "s3", "presign", "s3://bkt/cli presign.txt"], env=env,
                       capture_output=True, text=True)
    out.append(("presign-cli", r.stdout.strip()))
    return out


if __name__ == "__main__":
    main()
