"""The data directory is private to the server's user (issue 17, item 3).

The data dir is 0700 and every file in it 0600 — metadata.db with its -wal and
-shm, objects/ and its files, the decision log, master.key, root-credentials.json —
whatever the umask of whoever started the server; an existing lax data dir is
reported and tightened at start-up; and secret access keys (root, IAM users, STS
sessions) are stored wrapped by the master key, so the database files do not
hold them in clear.
"""

import json
import os
import stat

from conftest import client
from server import start

WALKED_NAMES = {"metadata.db", "metadata.db-wal", "metadata.db-shm", "decisions.jsonl",
                "master.key", "root-credentials.json", "reserve"}


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def exercise(srv, key, secret):
    """Makes the server create every kind of file it keeps; returns the secrets it handed out."""
    s3 = client(srv, "s3", key=key, secret=secret)
    s3.create_bucket(Bucket="private-files")
    s3.put_object(Bucket="private-files", Key="small", Body=b"x" * 100)
    s3.put_object(Bucket="private-files", Key="large", Body=os.urandom(300 * 1024))
    iam = client(srv, "iam", key=key, secret=secret)
    iam.create_user(UserName="carol")
    user_secret = iam.create_access_key(UserName="carol")["AccessKey"]["SecretAccessKey"]
    sts = client(srv, "sts", key=key, secret=secret)
    session_secret = sts.get_session_token()["Credentials"]["SecretAccessKey"]
    client(srv, "kms", key=key, secret=secret).create_key()
    return [user_secret, session_secret]


def test_a_fresh_data_dir_and_every_file_in_it_are_owner_only(scratch):
    data_dir = os.path.join(scratch, "data")  # does not exist yet: the server creates it
    old = os.umask(0o022)  # the usual umask: would give 0755 / 0644
    try:
        # No configured root key: the server generates root-credentials.json.
        srv = start(data_dir, extra_env={"STRONGBOX_ROOT_ACCESS_KEY_ID": "",
                                         "STRONGBOX_ROOT_SECRET_ACCESS_KEY": ""})
    finally:
        os.umask(old)
    try:
        creds = json.loads(open(os.path.join(data_dir, "root-credentials.json")).read())
        exercise(srv, creds["access_key_id"], creds["secret_access_key"])
        seen = set()
        lax = []
        for root, dirs, files in os.walk(data_dir):
            for d in dirs:
                if mode(os.path.join(root, d)) != 0o700:
                    lax.append((os.path.join(root, d), oct(mode(os.path.join(root, d)))))
            for f in files:
                path = os.path.join(root, f)
                seen.add(f)
                if mode(path) != 0o600:
                    lax.append((path, oct(mode(path))))
        assert mode(data_dir) == 0o700, oct(mode(data_dir))
        assert not lax, lax
        # Every kind of file was there to be checked (-wal/-shm exist while the server runs).
        assert WALKED_NAMES <= seen, WALKED_NAMES - seen
        object_files = [f for _, _, fs in os.walk(os.path.join(data_dir, "objects")) for f in fs]
        assert object_files, "the large object has a data file"
    finally:
        srv.stop()


def test_an_existing_lax_data_dir_is_reported_and_tightened(scratch):
    data_dir = os.path.join(scratch, "data")
    os.makedirs(data_dir)
    os.chmod(data_dir, 0o755)
    srv = start(data_dir)
    srv.stop()
    leaked = os.path.join(data_dir, "metadata.db")
    os.chmod(leaked, 0o644)
    os.chmod(data_dir, 0o755)
    srv = start(data_dir)
    try:
        assert mode(data_dir) == 0o700
        assert mode(leaked) == 0o600
    finally:
        srv.stop()
    log = open(srv.log_path).read()
    assert "tightened to owner-only" in log and "metadata.db" in log, log[-2000:]


def test_secret_access_keys_are_not_stored_in_clear(scratch):
    data_dir = os.path.join(scratch, "data")
    srv = start(data_dir)
    try:
        secrets = exercise(srv, srv.access_key, srv.secret_key) + [srv.secret_key]
        # While running (WAL not checkpointed) and after a clean stop.
        for phase in ("running", "stopped"):
            if phase == "stopped":
                srv.stop()
            for name in ("metadata.db", "metadata.db-wal"):
                path = os.path.join(data_dir, name)
                if not os.path.exists(path):
                    continue
                data = open(path, "rb").read()
                for secret in secrets:
                    assert secret.encode() not in data, f"{phase}: a secret is in clear in {name}"
    finally:
        srv.stop()
