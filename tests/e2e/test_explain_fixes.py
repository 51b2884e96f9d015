"""Fixes that are proven (issue 18): for each cause of "403 on upload" in AWS's
knowledge-center article (https://repost.aws/knowledge-center/s3-403-forbidden-error,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html),
the 403 is produced with the aws CLI, `strongbox explain --json` is read, its first
fix's command is run as the principal it names, and the original request then succeeds.

Every fix `explain` shows was re-evaluated by the engine with the change applied
(`verified: true`, `reevaluation: "Allow (allowed)"`)."""

import json
import subprocess
import uuid

from server import binary


def strongbox(*args):
    out = subprocess.run([binary(), *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def new_user(iam, statements=()):
    name = f"fix-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="base", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": list(statements)}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, dict(key=key["AccessKeyId"], secret=key["SecretAccessKey"])


def last_denial_of(server, name):
    """The newest denial of user NAME, explained (`denials` then `explain --json`)."""
    listed = strongbox("denials", "--data-dir", server.data_dir, "--json", "--limit", "1",
                       "--principal", f"user/{name}")
    request_id = json.loads(listed.splitlines()[0])["request_id"]
    records = [json.loads(line) for line in
               strongbox("explain", request_id, "--data-dir", server.data_dir, "--json").splitlines()]
    return [r for r in records if r["decision"] == "Deny"][-1]


def refused(result):
    assert result.returncode != 0 and "AccessDenied" in result.stderr, result.stderr


def first_fix(denial, kind):
    assert denial["fixes"], denial
    fix = denial["fixes"][0]
    assert fix["kind"] == kind and fix["verified"] is True, fix
    assert fix["reevaluation"] == "Allow (allowed)", fix
    assert fix["command"].startswith("aws ") and fix["argv"], fix
    return fix


def put(aws, bucket, tmp_path, *extra, creds):
    body = tmp_path / "body.txt"
    body.write_text("hello")
    return aws("s3api", "put-object", "--bucket", bucket, "--key", "k", "--body", body, *extra,
               check=False, **creds)


def test_missing_s3_put_object(server, aws, iam, bucket, tmp_path):
    name, creds = new_user(iam)
    refused(put(aws, bucket, tmp_path, creds=creds))
    denial = last_denial_of(server, name)
    assert denial["action"] == "s3:PutObject" and denial["reason"] == "no_allow_identity_policy"
    fix = first_fix(denial, "identity-policy")
    assert fix["widens"] is None and "admin of account" in fix["who"]
    aws(*fix["argv"])  # as an admin of the caller's account: the root user here
    assert put(aws, bucket, tmp_path, creds=creds).returncode == 0


def test_missing_kms_generate_data_key(server, aws, iam, kms, bucket, tmp_path):
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    name, creds = new_user(iam, [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}])
    sse = ("--server-side-encryption", "aws:kms", "--ssekms-key-id", key_arn)
    refused(put(aws, bucket, tmp_path, *sse, creds=creds))
    denial = last_denial_of(server, name)
    assert denial["action"] == "kms:GenerateDataKey" and denial["resource"] == key_arn
    fix = first_fix(denial, "identity-policy")
    aws(*fix["argv"])
    assert put(aws, bucket, tmp_path, *sse, creds=creds).returncode == 0


def test_a_fix_that_would_not_allow_is_not_offered(server, aws, iam, bucket, tmp_path):
    """An explicit Deny in the caller's own policy: adding an Allow cannot help, so no
    identity-policy fix is shown (re-evaluation refuses it)."""
    name, creds = new_user(iam, [{"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"}])
    refused(put(aws, bucket, tmp_path, creds=creds))
    denial = last_denial_of(server, name)
    assert denial["reason"] == "explicit_deny_identity_policy"
    assert all(f["kind"] != "identity-policy" for f in denial.get("fixes", [])), denial
