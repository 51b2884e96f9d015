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

from conftest import new_user
from server import binary


def strongbox(*args):
    out = subprocess.run([binary(), *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def user_with(iam, statements=()):
    """A new IAM user allowed `statements`: (name, aws-fixture credentials)."""
    doc = json.dumps({"Version": "2012-10-17", "Statement": list(statements)}) if statements else None
    arn, key, secret = new_user(iam, doc)
    return arn.rsplit("/", 1)[1], dict(key=key, secret=secret)


def last_denial(server, *filters):
    """The newest denial passing `strongbox denials` FILTERS, explained
    (`denials` for its request id, then `explain --json`): its Deny record."""
    listed = strongbox("denials", "--data-dir", server.data_dir, "--json", "--limit", "1", *filters)
    request_id = json.loads(listed.splitlines()[0])["request_id"]
    records = [json.loads(line) for line in
               strongbox("explain", request_id, "--data-dir", server.data_dir, "--json").splitlines()]
    return [r for r in records if r["decision"] == "Deny"][-1]


def last_denial_of(server, name):
    """The newest denial of user NAME, explained."""
    return last_denial(server, "--principal", f"user/{name}")


def refused(result):
    assert result.returncode != 0 and "AccessDenied" in result.stderr, result.stderr


def first_fix(denial, kind):
    assert denial["fixes"], denial
    fix = denial["fixes"][0]
    assert fix["kind"] == kind and fix["verified"] is True, fix
    assert fix["reevaluation"] == "Allow (allowed)", fix
    assert fix["argv"] and ("aws " + fix["argv"][0]) in fix["command"], fix
    return fix


def put(aws, bucket, tmp_path, *extra, creds):
    body = tmp_path / "body.txt"
    body.write_text("hello")
    return aws("s3api", "put-object", "--bucket", bucket, "--key", "k", "--body", body, *extra,
               check=False, **creds)


def test_missing_s3_put_object(server, aws, iam, bucket, tmp_path):
    name, creds = user_with(iam)
    refused(put(aws, bucket, tmp_path, creds=creds))
    denial = last_denial_of(server, name)
    assert denial["action"] == "s3:PutObject" and denial["reason"] == "no_allow_identity_policy"
    fix = first_fix(denial, "identity-policy")
    assert fix["widens"] is None and "admin of account" in fix["who"]
    aws(*fix["argv"])  # as an admin of the caller's account: the root user here
    assert put(aws, bucket, tmp_path, creds=creds).returncode == 0


def test_missing_kms_generate_data_key(server, aws, iam, kms, bucket, tmp_path):
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    name, creds = user_with(iam, [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}])
    sse = ("--server-side-encryption", "aws:kms", "--ssekms-key-id", key_arn)
    refused(put(aws, bucket, tmp_path, *sse, creds=creds))
    denial = last_denial_of(server, name)
    assert denial["action"] == "kms:GenerateDataKey" and denial["resource"] == key_arn
    assert denial["why_checked"].startswith("the request asked for SSE-KMS"), denial
    fix = first_fix(denial, "identity-policy")
    aws(*fix["argv"])
    assert put(aws, bucket, tmp_path, *sse, creds=creds).returncode == 0


def test_a_fix_that_would_not_allow_is_not_offered(server, aws, iam, bucket, tmp_path):
    """An explicit Deny in the caller's own policy: adding an Allow cannot help, so no
    identity-policy fix is shown (re-evaluation refuses it)."""
    name, creds = user_with(iam, [{"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"}])
    refused(put(aws, bucket, tmp_path, creds=creds))
    denial = last_denial_of(server, name)
    assert denial["reason"] == "explicit_deny_identity_policy"
    assert all(f["kind"] != "identity-policy" for f in denial.get("fixes", [])), denial


def test_cross_account_upload(server, aws, iam, member, bucket, tmp_path):
    """A user of a member account, allowed s3:PutObject by its own account, uploads
    into a bucket of the management account: the bucket policy must grant it."""
    from conftest import client
    member_iam = client(server, "iam", **member.kw)
    name, creds = user_with(member_iam, [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}])
    refused(put(aws, bucket, tmp_path, creds=creds))
    denial = last_denial_of(server, name)
    assert denial["reason"] == "no_allow_resource_policy", denial
    fix = first_fix(denial, "bucket-policy")
    owner = client(server, "sts").get_caller_identity()["Account"]
    assert owner in fix["who"] and fix["widens"] is None
    assert f"arn:aws:iam::{member.account}:user/{name}" in fix["command"]
    aws(*fix["argv"])  # as the bucket owner (the management account's root user)
    assert put(aws, bucket, tmp_path, creds=creds).returncode == 0


def test_root_lock_out(server, aws, s3, bucket, tmp_path):
    """A bucket policy that denies everything to everyone locks out the account's root
    user too; the fix is the root user deleting the policy (or AssumeRoot with
    S3UnlockBucketPolicy): https://repost.aws/knowledge-center/s3-accidentally-denied-access"""
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyAll", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}]}))
    refused(put(aws, bucket, tmp_path, creds={}))
    denial = last_denial(server, "--principal", client_root_arn(server), "--bucket", bucket)
    assert denial["reason"] == "explicit_deny_resource_policy", denial
    fix = first_fix(denial, "unlock")
    assert fix["argv"][:2] == ["s3api", "delete-bucket-policy"]
    assert "root user" in fix["who"] and "S3UnlockBucketPolicy" in fix["who"] and fix["widens"]
    aws(*fix["argv"])  # as the root user of the bucket's account
    assert put(aws, bucket, tmp_path, creds={}).returncode == 0


def client_root_arn(server):
    from conftest import client
    return client(server, "sts").get_caller_identity()["Arn"]


def test_explicit_deny_on_the_kms_key_id_header(server, aws, s3, kms, bucket, tmp_path):
    """A bucket policy that denies uploads not naming a given KMS key
    (StringNotLikeIfExists on s3:x-amz-server-side-encryption-aws-kms-key-id): the fix
    is to send the header (a request-side fix), not to remove the guard."""
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "RequireKey", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/*",
         "Condition": {"StringNotLikeIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn}}}]}))
    refused(put(aws, bucket, tmp_path, "--server-side-encryption", "aws:kms", creds={}))
    denial = last_denial(server, "--bucket", bucket)
    assert denial["reason"] == "explicit_deny_resource_policy", denial
    fix = first_fix(denial, "request")
    assert fix["argv"][:2] == ["s3api", "put-object"] and key_arn in fix["argv"], fix
    assert fix["widens"] is None and "caller" in fix["who"]
    assert aws(*fix["argv"], "--body", tmp_path / "body.txt").returncode == 0


def test_scp_denies_the_upload(server, aws, member, tmp_path):
    """An SCP attached to a member account denies s3:PutObject: the fix detaches it
    (from the management account), and says whom that widens."""
    from conftest import client, enable_scps
    org = enable_scps(server)
    member_s3 = client(server, "s3", **member.kw)
    bucket = f"scp-{uuid.uuid4().hex[:8]}"
    member_s3.create_bucket(Bucket=bucket)
    policy_id = org.create_policy(Name=f"deny-put-{uuid.uuid4().hex[:6]}", Type="SERVICE_CONTROL_POLICY",
                                  Description="e2e", Content=json.dumps({"Version": "2012-10-17", "Statement": [
                                      {"Sid": "NoUploads", "Effect": "Deny", "Action": "s3:PutObject",
                                       "Resource": "*"}]}))["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=policy_id, TargetId=member.account)
    try:
        refused(put(aws, bucket, tmp_path, creds=member.kw))
        denial = last_denial(server, "--bucket", bucket)
        assert denial["reason"] == "explicit_deny_scp", denial
        fix = first_fix(denial, "scp")
        assert fix["argv"] == ["organizations", "detach-policy", "--policy-id", policy_id,
                               "--target-id", member.account], fix
        assert "management account" in fix["who"] and member.account in fix["widens"]
        aws(*fix["argv"])  # as the management account's root user
        assert put(aws, bucket, tmp_path, creds=member.kw).returncode == 0
    finally:
        try:
            org.detach_policy(PolicyId=policy_id, TargetId=member.account)
        except Exception:
            pass


def test_missing_s3_put_object_acl_with_acl(server, aws, s3, iam, tmp_path):
    """`--acl` makes S3 check s3:PutObjectAcl too; a user allowed only s3:PutObject is
    refused, and the fix grants s3:PutObjectAcl."""
    bucket = f"acl-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket, ObjectOwnership="BucketOwnerPreferred")
    name, creds = user_with(iam, [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}])
    acl = ("--acl", "bucket-owner-full-control")
    refused(put(aws, bucket, tmp_path, *acl, creds=creds))
    denial = last_denial_of(server, name)
    assert denial["action"] == "s3:PutObjectAcl", denial
    # Why that check ran: the header --acl sent.
    assert "x-amz-acl" in denial["why_checked"] and "--acl" in denial["why_checked"], denial
    fix = first_fix(denial, "identity-policy")
    assert '"Action":"s3:PutObjectAcl"' in fix["command"]
    aws(*fix["argv"])
    assert put(aws, bucket, tmp_path, *acl, creds=creds).returncode == 0


def test_aws_managed_key_across_accounts(server, aws, iam, member, bucket, s3, tmp_path):
    """SSE-KMS with the AWS managed key aws/s3 into another account's bucket: that key's
    policy cannot be changed, so the fix is never to edit it; it is to encrypt with a
    customer managed key of the caller's account (a request-side fix)."""
    from conftest import client
    member_iam = client(server, "iam", **member.kw)
    name, creds = user_with(member_iam, [{"Effect": "Allow", "Action": ["s3:PutObject", "kms:*"], "Resource": "*"}])
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{member.account}:root"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    sse = ("--server-side-encryption", "aws:kms")
    refused(put(aws, bucket, tmp_path, *sse, creds=creds))
    denial = last_denial_of(server, name)
    assert denial["action"] == "kms:GenerateDataKey" and denial["reason"] == "no_allow_resource_policy"
    assert all(f["kind"] != "key-policy" for f in denial["fixes"])
    assert "key policy" not in denial["fix"].split(";")[0].lower() or "cannot be changed" in denial["fix"]
    fix = first_fix(denial, "request")
    assert "customer managed key" in fix["change"] and "aws/s3" in fix["change"]
    key_arn = aws(*fix["first"], **creds).stdout.strip()  # as the caller
    assert key_arn.startswith(f"arn:aws:kms:") and f":{member.account}:key/" in key_arn
    argv = [key_arn if a == "$KEY_ARN" else a for a in fix["argv"]]
    assert aws(*argv, "--body", tmp_path / "body.txt", **creds).returncode == 0


def test_anonymous_list_buckets_is_told_to_sign(server, aws):
    """Anonymous ListAllMyBuckets: no resource-based policy exists that could grant it,
    so explain proposes none; it says to sign the request, which then succeeds."""
    refused(aws("s3api", "list-buckets", "--no-sign-request", check=False))
    denial = last_denial(server, "--principal", "anonymous", "--action", "s3:ListAllMyBuckets")
    assert not denial.get("fixes"), denial  # no policy change can allow it
    assert denial["fix"].startswith("Sign the request") and "resource-based" in denial["fix"], denial
    assert aws("s3api", "list-buckets").returncode == 0  # signed


def test_bucket_default_encryption_causes_the_kms_check(server, aws, s3, iam, kms, bucket, tmp_path):
    """No encryption header, but the bucket's default encryption is SSE-KMS: explain says
    that default is why kms:GenerateDataKey was checked, and the proven fix works."""
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}}]})
    name, creds = user_with(iam, [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}])
    refused(put(aws, bucket, tmp_path, creds=creds))
    denial = last_denial_of(server, name)
    assert denial["action"] == "kms:GenerateDataKey", denial
    assert "the bucket's default encryption is SSE-KMS" in denial["why_checked"], denial
    text = strongbox("explain", denial["request_id"], "--data-dir", server.data_dir)
    assert "checked because: the bucket's default encryption" in text
    aws(*first_fix(denial, "identity-policy")["argv"])
    assert put(aws, bucket, tmp_path, creds=creds).returncode == 0


def test_cross_account_upload_must_give_the_bucket_owner_full_control(server, aws, s3, iam, member, bucket,
                                                                      tmp_path):
    """The bucket policy requires `x-amz-acl: bucket-owner-full-control` of uploads from
    another account (the documented pattern): the fix is the request-side
    `--acl bucket-owner-full-control`, not an ACL JSON nor removing the guard."""
    from conftest import client
    member_iam = client(server, "iam", **member.kw)
    name, creds = user_with(member_iam, [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])
    objects = f"arn:aws:s3:::{bucket}/*"
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Uploads", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{member.account}:root"},
         "Action": ["s3:PutObject", "s3:PutObjectAcl"], "Resource": objects},
        {"Sid": "OwnerFullControl", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": objects,
         "Condition": {"StringNotEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}]}))
    refused(put(aws, bucket, tmp_path, creds=creds))
    denial = last_denial_of(server, name)
    assert denial["reason"] == "explicit_deny_resource_policy", denial
    fix = first_fix(denial, "request")
    assert fix["argv"][-2:] == ["--acl", "bucket-owner-full-control"], fix
    assert fix["widens"] is None and "caller" in fix["who"]
    assert aws(*fix["argv"], "--body", tmp_path / "body.txt", **creds).returncode == 0


def test_missing_kms_decrypt(server, aws, s3, iam, kms, bucket, tmp_path):
    """Reading an SSE-KMS object needs kms:Decrypt on its key: explain says the object's
    encryption is why KMS was checked, and the proven fix grants kms:Decrypt."""
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret", ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn)
    name, creds = user_with(iam, [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}])
    out = tmp_path / "out.txt"
    refused(aws("s3api", "get-object", "--bucket", bucket, "--key", "k", out, check=False, **creds))
    denial = last_denial_of(server, name)
    assert denial["action"] == "kms:Decrypt" and denial["resource"] == key_arn, denial
    assert denial["why_checked"].startswith("the object is encrypted with SSE-KMS"), denial
    aws(*first_fix(denial, "identity-policy")["argv"])
    assert aws("s3api", "get-object", "--bucket", bucket, "--key", "k", out, **creds).returncode == 0
    assert out.read_bytes() == b"secret"


def test_explicit_deny_in_an_inline_identity_policy(server, aws, iam, bucket, tmp_path):
    """A user allowed s3:PutObject by one inline policy and denied by another: the fix
    deletes the denying policy (proven: the other still allows)."""
    name, creds = user_with(iam, [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}])
    iam.put_user_policy(UserName=name, PolicyName="no-uploads", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"}]}))
    refused(put(aws, bucket, tmp_path, creds=creds))
    denial = last_denial_of(server, name)
    assert denial["reason"] == "explicit_deny_identity_policy", denial
    fix = first_fix(denial, "identity-policy")
    assert fix["argv"] == ["iam", "delete-user-policy", "--user-name", name, "--policy-name", "no-uploads"]
    aws(*fix["argv"])
    assert put(aws, bucket, tmp_path, creds=creds).returncode == 0


def test_customer_managed_key_of_another_account(server, aws, s3, kms, member, bucket, tmp_path):
    """Uploading with the bucket owner's customer managed key from another account: the
    key policy must allow the caller; the proven fix extends it (run by the key owner)."""
    from conftest import client
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    member_iam = client(server, "iam", **member.kw)
    name, creds = user_with(member_iam, [{"Effect": "Allow", "Action": ["s3:PutObject", "kms:*"], "Resource": "*"}])
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{member.account}:root"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    sse = ("--server-side-encryption", "aws:kms", "--ssekms-key-id", key_arn)
    refused(put(aws, bucket, tmp_path, *sse, creds=creds))
    denial = last_denial_of(server, name)
    assert denial["action"] == "kms:GenerateDataKey" and denial["reason"] == "no_allow_resource_policy"
    fix = first_fix(denial, "key-policy")
    assert fix["argv"][:4] == ["kms", "put-key-policy", "--key-id", key_arn] and "key owner" in fix["who"]
    aws(*fix["argv"])  # as the key owner (the management account's root user)
    assert put(aws, bucket, tmp_path, *sse, creds=creds).returncode == 0


def bpa_denial(server):
    """The newest denial of the root user, explained: its Block Public Access record."""
    denial = last_denial(server, "--principal", ":root")
    assert denial["reason"] == "block_public_acls", denial
    return denial


def test_block_public_access_names_the_level_that_refused(server, aws, s3, tmp_path):
    """Issue 18: a public ACL refused by Block Public Access says which level (the
    bucket's or the account's) refused, and the fix is the exact command that turns off
    that one setting at that level, keeping the other three as they are."""
    import re
    account = json.loads(aws("sts", "get-caller-identity").stdout)["Account"]
    bucket = f"bpa-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    root = dict(key=server.access_key, secret=server.secret_key)

    # Bucket level (a new bucket blocks everything).
    out = put(aws, bucket, tmp_path, "--acl", "public-read", creds=root)
    refused(out)
    assert "BlockPublicAcls setting of the bucket in S3 Block Public Access" in out.stderr, out.stderr
    fix = bpa_denial(server)["fix"]
    commands = re.findall(r"aws s3api put-public-access-block [^ ]+ [^ ]+ [^ ]+ \S+", fix)
    assert commands == [f"aws s3api put-public-access-block --bucket {bucket} --public-access-block-configuration "
                        "BlockPublicAcls=false,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true"]
    aws(*commands[0].split()[1:])
    assert put(aws, bucket, tmp_path, "--acl", "public-read", creds=root).returncode == 0

    # Account level: the bucket no longer blocks, the account does.
    endpoint = f"http://localhost:{server.port}"
    aws("s3control", "put-public-access-block", "--account-id", account, "--public-access-block-configuration",
        "BlockPublicAcls=true,IgnorePublicAcls=false,BlockPublicPolicy=false,RestrictPublicBuckets=false",
        endpoint=endpoint)
    try:
        out = put(aws, bucket, tmp_path, "--acl", "public-read", creds=root)
        refused(out)
        assert "BlockPublicAcls setting of the account in S3 Block Public Access" in out.stderr, out.stderr
        fix = bpa_denial(server)["fix"]
        commands = re.findall(r"aws s3control put-public-access-block [^ ]+ [^ ]+ [^ ]+ \S+", fix)
        assert commands == [f"aws s3control put-public-access-block --account-id {account} "
                            "--public-access-block-configuration BlockPublicAcls=false,IgnorePublicAcls=false,"
                            "BlockPublicPolicy=false,RestrictPublicBuckets=false"]
        aws(*commands[0].split()[1:], endpoint=endpoint)
        assert put(aws, bucket, tmp_path, "--acl", "public-read", creds=root).returncode == 0
    finally:
        aws("s3control", "delete-public-access-block", "--account-id", account, endpoint=endpoint)
