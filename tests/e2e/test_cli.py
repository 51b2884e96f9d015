"""The aws CLI against the real binary (issue 2)."""

import json
import os
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
