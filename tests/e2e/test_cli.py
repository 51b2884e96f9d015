"""The aws CLI against the real binary (issue 2)."""

import json
import os
import socket
import urllib.request


def test_cp_multipart_and_sync(aws, s3, bucket, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * 1024 * 1024))  # above the CLI's 8 MiB multipart threshold
    aws("s3", "cp", big, f"s3://{bucket}/big.bin")
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == big.stat().st_size and "-" in head["ETag"]
    back = tmp_path / "back.bin"
    aws("s3", "cp", f"s3://{bucket}/big.bin", back)
    assert back.read_bytes() == big.read_bytes()

    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    for name in ("a.txt", "b.txt", "sub/c.txt"):
        (tree / name).write_text(name)
    aws("s3", "sync", tree, f"s3://{bucket}/tree")
    listed = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="tree/")["Contents"])
    assert listed == ["tree/a.txt", "tree/b.txt", "tree/sub/c.txt"]
    out = tmp_path / "out"
    aws("s3", "sync", f"s3://{bucket}/tree", out)
    assert (out / "sub" / "c.txt").read_text() == "sub/c.txt"


def test_presign_then_plain_get(aws, s3, bucket):
    s3.put_object(Bucket=bucket, Key="p.txt", Body=b"via presign")
    url = aws("s3", "presign", f"s3://{bucket}/p.txt", "--expires-in", "120").stdout.strip()
    assert urllib.request.urlopen(url).read() == b"via presign"


def test_s3api_calls(aws, bucket):
    aws("s3api", "put-object", "--bucket", bucket, "--key", "k", "--body", __file__)
    out = json.loads(aws("s3api", "list-objects-v2", "--bucket", bucket).stdout)
    assert [o["Key"] for o in out["Contents"]] == ["k"]
    head = json.loads(aws("s3api", "head-object", "--bucket", bucket, "--key", "k").stdout)
    assert head["ContentLength"] == os.path.getsize(__file__)


def test_s3control_with_the_stock_cli(aws, server):
    """Account-level Block Public Access through the stock `aws s3control`. botocore's
    endpoint rules put the account id in front of the endpoint's host
    (`ACCOUNT.127.0.0.1` does not resolve), so the README has s3control use
    `http://localhost:PORT`, with `*.localhost` resolved to loopback by Debian's
    libnss-myhostname (which scripts/test-all installs)."""
    account = json.loads(aws("sts", "get-caller-identity").stdout)["Account"]
    try:
        socket.getaddrinfo(f"{account}.localhost", server.port)
    except socket.gaierror:
        raise AssertionError("ACCOUNT.localhost does not resolve: apt-get install libnss-myhostname")
    endpoint = f"http://localhost:{server.port}"
    config = "BlockPublicAcls=true,IgnorePublicAcls=false,BlockPublicPolicy=true,RestrictPublicBuckets=false"
    aws("s3control", "put-public-access-block", "--account-id", account,
        "--public-access-block-configuration", config, endpoint=endpoint)
    got = json.loads(aws("s3control", "get-public-access-block", "--account-id", account,
                         endpoint=endpoint).stdout)["PublicAccessBlockConfiguration"]
    assert got == {"BlockPublicAcls": True, "IgnorePublicAcls": False,
                   "BlockPublicPolicy": True, "RestrictPublicBuckets": False}
    aws("s3control", "delete-public-access-block", "--account-id", account, endpoint=endpoint)
    gone = aws("s3control", "get-public-access-block", "--account-id", account,
               check=False, endpoint=endpoint)
    assert gone.returncode != 0 and "NoSuchPublicAccessBlockConfiguration" in gone.stderr
