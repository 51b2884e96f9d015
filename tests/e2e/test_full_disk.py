"""A full disk can be freed through the API (issue 17, item 12).

The data dir lives on a 24 MiB tmpfs. Uploads fill it until they fail — with S3's
generic server error, `500 InternalError` ("We encountered an internal error.
Please try again.", https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html;
S3 documents no error of its own for a full disk) and never a dropped connection —
then DeleteObject still succeeds (the server releases its disk reserve so SQLite can
commit the delete), uploads work again, and the decision records that could not be
written are counted in the server log and noted for `strongbox explain`.
"""

import os
import shutil
import subprocess
import tempfile

import pytest
from botocore.exceptions import ClientError

from conftest import client
from server import binary, start, unsigned_get

MiB = 1024 * 1024


@pytest.fixture
def small_fs():
    tmp = tempfile.mkdtemp(prefix="strongbox-fulldisk-")
    mount = os.path.join(tmp, "fs")
    os.makedirs(mount)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mount],
                          capture_output=True, text=True)
    if done.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        pytest.skip(f"cannot mount a small tmpfs here (needs root / CAP_SYS_ADMIN): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", mount], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


def anonymous_get(srv, path):
    """An unsigned GET (its denial is a decision record); returns the request id."""
    status, request_id = unsigned_get(srv, path, {"User-Agent": "f" * 1000})
    assert status == 403 and request_id
    return request_id


def fill(s3, bucket, prefix, size, limit):
    """Uploads objects of `size` until one fails; returns (stored keys, the failure)."""
    keys = []
    for i in range(limit):
        key = f"{prefix}{i}"
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=os.urandom(size))
        except ClientError as exc:
            return keys, exc
        keys.append(key)
    raise AssertionError(f"{limit} uploads of {size} bytes did not fill the disk")


def test_a_full_disk_can_be_freed_through_the_api(small_fs):
    data_dir = os.path.join(small_fs, "data")
    srv = start(data_dir)
    try:
        s3 = client(srv, "s3")
        s3.create_bucket(Bucket="full")
        big, failure = fill(s3, "full", "big", MiB, 64)
        assert len(big) > 4, "some uploads fit"
        # Then small objects (kept in the database's WAL) until the disk is full to the byte.
        _, failure = fill(s3, "full", "small", 30000, 400)
        assert failure.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert failure.response["Error"]["Code"] == "InternalError"

        s3.delete_object(Bucket="full", Key=big[0])
        assert big[0] not in [o["Key"] for o in s3.list_objects_v2(Bucket="full").get("Contents", [])]
        s3.put_object(Bucket="full", Key="after", Body=b"room again")
        assert s3.get_object(Bucket="full", Key="after")["Body"].read() == b"room again"

        # Full again: the decisions taken now cannot be written (counted, not silently dropped)…
        fill(s3, "full", "again", 30000, 400)
        denied = [anonymous_get(srv, f"/full/k{i}") for i in range(100)]
        # …and a delete still frees it.
        s3.delete_object(Bucket="full", Key=big[1])
        for key in big[2:4]:
            s3.delete_object(Bucket="full", Key=key)
        s3.put_object(Bucket="full", Key="after-big", Body=os.urandom(MiB))
    finally:
        srv.stop()
    log = open(srv.log_path).read()
    # Whether a delete needed the reserve depends on where SQLite's WAL stood when the
    # disk filled (a checkpointed WAL reuses its own pages); either way it committed.
    # The release-and-retry path itself: crates/store sqlite::tests::
    # freeing_writes_release_the_reserve_and_retry_once_when_the_disk_is_full.
    assert "decision log: records could not be written" in log, log[-3000:]
    assert "records lost since start" in log, log[-3000:]
    logged = "".join(open(os.path.join(data_dir, n), errors="replace").read()
                     for n in os.listdir(data_dir) if n.startswith("decisions"))
    lost = [request_id for request_id in denied if request_id not in logged]
    assert lost, "the decisions taken on the full disk were not all written"
    explained = subprocess.run([binary(), "explain", lost[0], "--data-dir", data_dir],
                               capture_output=True, text=True, timeout=60)
    assert explained.returncode != 0
    assert "could not be written" in explained.stderr, explained.stderr
