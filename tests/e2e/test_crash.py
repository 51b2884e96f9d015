"""kill -9 during uploads: after a restart every object is whole or absent (issue 2)."""

import hashlib
import os
import shutil
import signal
import tempfile
import threading
import time

import boto3
from botocore.config import Config

import server as srvmod


def make_client(srv):
    return boto3.client("s3", endpoint_url=srv.endpoint, region_name="us-east-1",
                        aws_access_key_id=srv.access_key, aws_secret_access_key=srv.secret_key,
                        config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10))


def test_kill_during_uploads_leaves_whole_or_absent():
    tmp = tempfile.mkdtemp(prefix="strongbox-crash-")
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    srv = srvmod.start(data)
    try:
        s3 = make_client(srv)
        s3.create_bucket(Bucket="crash")
        bodies = {f"obj-{i}": os.urandom(1024 * 1024 * (1 + i % 4)) for i in range(24)}
        digests = {k: hashlib.md5(v).hexdigest() for k, v in bodies.items()}
        s3.put_object(Bucket="crash", Key="obj-0", Body=b"old version")

        def upload(keys):
            c = make_client(srv)
            for k in keys:
                try:
                    c.put_object(Bucket="crash", Key=k, Body=bodies[k])
                except Exception:
                    return

        keys = list(bodies)
        threads = [threading.Thread(target=upload, args=(keys[i::4],)) for i in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.4)
        srv.process.send_signal(signal.SIGKILL)
        srv.process.wait()
        for t in threads:
            t.join(timeout=30)

        srv = srvmod.start(data, port=srv.port)
        s3 = make_client(srv)
        listed = {o["Key"]: o for o in s3.list_objects_v2(Bucket="crash").get("Contents", [])}
        for key, obj in listed.items():
            body = s3.get_object(Bucket="crash", Key=key)["Body"].read()
            if key == "obj-0" and body == b"old version":
                continue
            assert hashlib.md5(body).hexdigest() == digests[key], f"{key} is not whole"
            assert obj["Size"] == len(bodies[key])
        # No temp files are left behind once the server has started again.
        leftovers = [os.path.join(d, f) for d, _, files in os.walk(data) for f in files if ".tmp" in f or f.startswith("tmp")]
        assert leftovers == [], leftovers
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def test_sigterm_lets_in_flight_upload_finish_or_vanish():
    tmp = tempfile.mkdtemp(prefix="strongbox-term-")
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    srv = srvmod.start(data)
    try:
        s3 = make_client(srv)
        s3.create_bucket(Bucket="term")
        body = os.urandom(8 * 1024 * 1024)
        result = {}

        def upload():
            try:
                make_client(srv).put_object(Bucket="term", Key="big", Body=body)
                result["ok"] = True
            except Exception as exc:  # the connection may be closed
                result["error"] = exc

        t = threading.Thread(target=upload)
        t.start()
        time.sleep(0.05)
        srv.process.send_signal(signal.SIGTERM)
        srv.process.wait(timeout=60)
        t.join(timeout=60)
        srv = srvmod.start(data, port=srv.port)
        s3 = make_client(srv)
        listed = [o["Key"] for o in s3.list_objects_v2(Bucket="term").get("Contents", [])]
        if listed:
            assert s3.get_object(Bucket="term", Key="big")["Body"].read() == body
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
