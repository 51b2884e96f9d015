"""The decision log cannot fill the disk (issue 17, item 4).

Records keep bounded values and say when they were cut (CloudTrail: "If a field is
truncated, omitted is present with a value of true",
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html);
the user agent and referer are written once; the log rotates by size and keeps
`--decision-log-keep` old files; `strongbox explain` finds records in rotated files.

`test_bytes_per_request` measures what one request costs in the log (run with -s to
see the figures; docs/security.md quotes them).
"""

import json
import os
import subprocess

from conftest import client
from server import binary, start, unsigned_get

POLICY = {"Version": "2012-10-17",
          "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::*/*"}]}


def log_lines(data_dir):
    lines = []
    names = sorted(n for n in os.listdir(data_dir) if n.startswith("decisions"))
    for name in names:
        with open(os.path.join(data_dir, name), "rb") as f:
            lines += f.read().splitlines()
    return lines


def bytes_for(data_dir, request_id):
    """Bytes (with newlines) the log holds for one request."""
    needle = f'"request_id":"{request_id}"'.encode()
    return sum(len(line) + 1 for line in log_lines(data_dir) if needle in line)


def flush(srv):
    """Stops the server so every record is on disk (the writer batches them)."""
    srv.stop()


def explain(data_dir, request_id):
    return subprocess.run([binary(), "explain", request_id, "--data-dir", data_dir, "--json"],
                          capture_output=True, text=True, timeout=60)


def test_long_headers_are_cut_and_written_once(scratch):
    data_dir = os.path.join(scratch, "data")
    srv = start(data_dir)
    try:
        client(srv, "s3").create_bucket(Bucket="cut-headers")
        agent = "A" * (400 * 1024)
        referer = "R" * (400 * 1024)
        status, request_id = unsigned_get(srv, "/cut-headers/k", {"User-Agent": agent, "Referer": referer})
        assert status == 403 and request_id
    finally:
        flush(srv)
    size = bytes_for(data_dir, request_id)
    # 0.8 MB of headers used to cost 1.6 MB of log; now a few KB.
    assert 0 < size < 8 * 1024, size
    out = explain(data_dir, request_id)
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout.splitlines()[0])
    assert record["omitted"] is True
    assert "context:aws:UserAgent" in record["truncated"] and "context:aws:Referer" in record["truncated"]
    assert record["context"]["aws:UserAgent"] == ["A" * 1024]
    # Written once: the trace does not repeat the request context.
    line = [l for l in log_lines(data_dir) if request_id.encode() in l][0]
    assert line.count(b"A" * 1024) == 1 and line.count(b"R" * 1024) == 1


def test_the_log_rotates_keeps_n_files_and_explain_finds_rotated_records(scratch):
    data_dir = os.path.join(scratch, "data")
    srv = start(data_dir, extra_args=["--decision-log-keep", "2"],
                extra_env={"STRONGBOX_DECISION_LOG_MAX_BYTES": "8KiB"})
    ids = []
    try:
        client(srv, "s3").create_bucket(Bucket="rotating")
        for i in range(60):
            status, request_id = unsigned_get(srv, f"/rotating/k{i}", {"User-Agent": "rotation-test"})
            assert status == 403
            ids.append(request_id)
    finally:
        flush(srv)
    names = sorted(n for n in os.listdir(data_dir) if n.startswith("decisions"))
    assert names == ["decisions.1.jsonl", "decisions.2.jsonl", "decisions.jsonl"], names
    for name in names:
        assert os.path.getsize(os.path.join(data_dir, name)) <= 8 * 1024
    # The newest request is in the current file; an older one kept in decisions.2.jsonl.
    in_oldest = json.loads(open(os.path.join(data_dir, "decisions.2.jsonl")).readline())["request_id"]
    for request_id in (ids[-1], in_oldest):
        out = explain(data_dir, request_id)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout.splitlines()[0])["request_id"] == request_id
    # The first requests were rotated away.
    assert explain(data_dir, ids[0]).returncode != 0


def test_bytes_per_request(scratch):
    data_dir = os.path.join(scratch, "data")
    srv = start(data_dir)
    try:
        s3 = client(srv, "s3")
        s3.create_bucket(Bucket="measure")
        status, anonymous_id = unsigned_get(srv, "/measure/k", {"User-Agent": "curl/8.5.0"})
        assert status == 403
        root_put = s3.put_object(Bucket="measure", Key="root", Body=b"x")
        iam = client(srv, "iam")
        iam.create_user(UserName="measured")
        for i in range(5):
            iam.put_user_policy(UserName="measured", PolicyName=f"p{i}", PolicyDocument=json.dumps(POLICY))
        key = iam.create_access_key(UserName="measured")["AccessKey"]
        user_s3 = client(srv, "s3", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
        user_put = None
        for _ in range(50):  # new IAM keys take effect at once, but be tolerant
            try:
                user_put = user_s3.put_object(Bucket="measure", Key="user", Body=b"x")
                break
            except Exception:  # noqa: BLE001
                continue
        assert user_put is not None
    finally:
        flush(srv)
    figures = {
        "anonymous denial": bytes_for(data_dir, anonymous_id),
        "root PutObject": bytes_for(data_dir, root_put["ResponseMetadata"]["RequestId"]),
        "IAM user PutObject (5 inline policies)": bytes_for(data_dir, user_put["ResponseMetadata"]["RequestId"]),
    }
    print("\ndecision log bytes per request:", json.dumps(figures, indent=1))
    for what, size in figures.items():
        assert 0 < size < 4096, (what, size)
