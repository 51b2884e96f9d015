"""Every denial is findable (issue 18): `strongbox explain --last` explains the newest
denied request, and `strongbox denials` lists recent denials newest first, filtered by
time, principal, account, bucket and action, across rotated decision logs."""

import json
import os
import subprocess
import time

import pytest
from botocore.exceptions import ClientError

from conftest import client, new_user
from server import binary, start, unsigned_get


def run(*args):
    return subprocess.run([binary(), *args], capture_output=True, text=True, timeout=60)


def denied(call, **kw):
    """Runs a boto3 call that must be refused; returns its request id."""
    with pytest.raises(ClientError) as exc:
        call(**kw)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return exc.value.response["ResponseMetadata"]["RequestId"]


def listed(data_dir, *filters):
    out = run("denials", "--data-dir", data_dir, "--json", *filters)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def user(srv, iam):
    """A new IAM user without policies: (its name, an S3 client of it)."""
    arn, key, secret = new_user(iam)
    return arn.rsplit("/", 1)[1], client(srv, "s3", key=key, secret=secret)


def settle(data_dir, request_id):
    """Waits until the server's decision log writer has written `request_id`."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for name in os.listdir(data_dir):
            if name.startswith("decisions") and request_id in open(os.path.join(data_dir, name)).read():
                return
        time.sleep(0.05)
    raise AssertionError(f"{request_id} never reached the decision log")


@pytest.fixture
def srv(scratch):
    data_dir = os.path.join(scratch, "data")
    server = start(data_dir, extra_env={"STRONGBOX_DECISION_LOG_MAX_BYTES": "16KiB"})
    yield server
    server.stop()


def test_explain_last_and_denials_filters(srv):
    data_dir = srv.data_dir
    root_s3, iam = client(srv, "s3"), client(srv, "iam")
    account = client(srv, "sts").get_caller_identity()["Account"]
    for b in ("den-a", "den-b"):
        root_s3.create_bucket(Bucket=b)
    (alice_name, alice), (bob_name, bob) = user(srv, iam), user(srv, iam)

    alice_id = denied(alice.put_object, Bucket="den-a", Key="k", Body=b"x")
    bob_id = denied(bob.get_object, Bucket="den-b", Key="k")
    root_s3.put_object(Bucket="den-a", Key="allowed", Body=b"x")  # an Allow after them
    settle(data_dir, bob_id)

    # explain --last: the newest *denied* request, explained in full.
    out = run("explain", "--last", "--data-dir", data_dir, "--json")
    assert out.returncode == 0, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert {r["request_id"] for r in records} == {bob_id}
    assert records[-1]["decision"] == "Deny" and records[-1]["action"] == "s3:GetObject"
    text = run("explain", "--last", "--data-dir", data_dir)
    assert text.returncode == 0 and bob_id in text.stdout and "s3:GetObject" in text.stdout
    # A one-line verdict heads the explanation.
    head = text.stdout.splitlines()[0]
    assert head.startswith(f"Denied: no identity-based policy allows s3:GetObject for user/{bob_name}; fix: "), head

    # denials: newest first, with what was refused and why.
    every = listed(data_dir)
    assert [d["request_id"] for d in every] == [bob_id, alice_id]
    assert every[1] == every[1] | {
        "principal": f"arn:aws:iam::{account}:user/{alice_name}", "action": "s3:PutObject",
        "resource": "arn:aws:s3:::den-a/k", "reason": "no_allow_identity_policy"}
    assert every[1]["time"] and every[1]["message"]

    def ids(*filters):
        return [d["request_id"] for d in listed(data_dir, *filters)]

    assert ids("--principal", f"user/{alice_name}") == [alice_id]
    assert ids("--principal", f"arn:aws:iam::{account}:user/{bob_name}") == [bob_id]
    assert ids("--bucket", "den-a") == [alice_id]
    assert ids("--bucket", "den") == []
    assert ids("--action", "s3:GetObject") == [bob_id]
    assert ids("--account", account) == [bob_id, alice_id]
    assert ids("--account", "999999999999") == []
    assert ids("--since", "10m") == [bob_id, alice_id]
    assert ids("--since", "2999-01-01T00:00:00Z") == []
    assert ids("--limit", "1") == [bob_id]

    table = run("denials", "--data-dir", data_dir, "--principal", alice_name.upper())
    assert table.returncode == 0
    assert alice_id in table.stdout and "s3:PutObject" in table.stdout and bob_id not in table.stdout
    bad = run("denials", "--data-dir", data_dir, "--since", "soon")
    assert bad.returncode != 0 and "--since" in bad.stderr


def test_denials_and_explain_last_reach_rotated_logs(srv):
    data_dir = srv.data_dir
    root_s3, iam = client(srv, "s3"), client(srv, "iam")
    root_s3.create_bucket(Bucket="den-rot")
    carol_name, carol = user(srv, iam)
    carol_id = denied(carol.put_object, Bucket="den-rot", Key="old", Body=b"x")
    # Enough anonymous denials to push carol's into a rotated file.
    last = None
    while not os.path.exists(os.path.join(data_dir, "decisions.2.jsonl")):
        status, last = unsigned_get(srv, "/den-rot/k", {})
        assert status == 403
    settle(data_dir, last)
    assert carol_id not in open(os.path.join(data_dir, "decisions.jsonl")).read()

    assert [d["request_id"] for d in listed(data_dir, "--principal", f"user/{carol_name}")] == [carol_id]
    anonymous = listed(data_dir, "--principal", "anonymous", "--limit", "3")
    assert len(anonymous) == 3 and anonymous[0]["request_id"] == last
    out = run("explain", "--last", "--data-dir", data_dir, "--json")
    assert out.returncode == 0 and json.loads(out.stdout.splitlines()[-1])["request_id"] == last


def test_explain_last_with_no_denial_says_so(scratch):
    data_dir = os.path.join(scratch, "data")
    srv = start(data_dir)
    try:
        client(srv, "s3").list_buckets()
    finally:
        srv.stop()
    out = run("explain", "--last", "--data-dir", data_dir)
    assert out.returncode != 0 and "no denied request" in out.stderr
    assert listed(data_dir) == []
