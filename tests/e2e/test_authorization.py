"""The causes of "403 Forbidden on upload", each reproduced with the aws CLI and
explained by `strongbox explain` (issue 5)."""

import contextlib
import json
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import client, enable_scps, explain, new_user


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@contextlib.contextmanager
def bucket_policy(s3, bucket, *statements):
    """The bucket carries a policy of `statements` inside the block, none after it."""
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(*statements))
    try:
        yield
    finally:
        s3.delete_bucket_policy(Bucket=bucket)


def denied(fn, **kwargs):
    with pytest.raises(ClientError) as e:
        fn(**kwargs)
    err = e.value.response
    assert err["Error"]["Code"] == "AccessDenied" and err["ResponseMetadata"]["HTTPStatusCode"] == 403
    return err["Error"].get("Message", ""), err["ResponseMetadata"]["RequestId"]


def test_missing_put_object(server, s3, iam, aws, bucket, tmp_path):
    arn, key, secret = new_user(iam)
    f = tmp_path / "f.txt"
    f.write_text("x")
    out = aws("s3", "cp", f, f"s3://{bucket}/f.txt", key=key, secret=secret, check=False)
    assert out.returncode != 0
    assert "AccessDenied" in out.stderr
    assert f"User: {arn} is not authorized to perform: s3:PutObject" in out.stderr
    assert "because no identity-based policy allows the s3:PutObject action" in out.stderr
    user_s3 = client(server, "s3", key=key, secret=secret)
    _, rid = denied(user_s3.put_object, Bucket=bucket, Key="f.txt", Body=b"x")
    text = explain(server, rid)
    assert "no_allow_identity_policy" in text and "s3:PutObject" in text
    assert "identity-based policy" in text  # the fix names the policy kind to add


def test_missing_put_object_acl(server, s3, iam, aws, bucket, tmp_path):
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    _, key, secret = new_user(iam, policy({"Effect": "Allow", "Action": "s3:PutObject",
                                           "Resource": f"arn:aws:s3:::{bucket}/*"}))
    f = tmp_path / "f.txt"
    f.write_text("x")
    ok = aws("s3", "cp", f, f"s3://{bucket}/plain.txt", key=key, secret=secret, check=False)
    assert ok.returncode == 0, ok.stderr
    out = aws("s3", "cp", f, f"s3://{bucket}/acl.txt", "--acl", "bucket-owner-full-control", key=key, secret=secret,
              check=False)
    assert out.returncode != 0 and "s3:PutObjectAcl" in out.stderr


def test_explicit_deny_in_bucket_policy(server, s3, iam, aws, bucket, tmp_path):
    _, key, secret = new_user(iam, policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
    s3.put_bucket_policy(Bucket=bucket, Policy=policy({
        "Sid": "DenyUnencrypted", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "true"}}}))
    f = tmp_path / "f.txt"
    f.write_text("x")
    out = aws("s3", "cp", f, f"s3://{bucket}/f.txt", key=key, secret=secret, check=False)
    assert out.returncode != 0
    assert "with an explicit deny in a resource-based policy" in out.stderr
    user_s3 = client(server, "s3", key=key, secret=secret)
    _, rid = denied(user_s3.put_object, Bucket=bucket, Key="f.txt", Body=b"x")
    text = explain(server, rid)
    assert "explicit_deny_resource_policy" in text and "DenyUnencrypted" in text
    assert "s3:x-amz-server-side-encryption-aws-kms-key-id" in text or "Null" in text
    s3.delete_bucket_policy(Bucket=bucket)


def test_block_public_access_refuses_public_acl(server, s3, aws, bucket, tmp_path):
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    f = tmp_path / "f.txt"
    f.write_text("x")
    out = aws("s3", "cp", f, f"s3://{bucket}/f.txt", "--acl", "public-read", check=False)
    assert out.returncode != 0 and "AccessDenied" in out.stderr
    assert "public" in out.stderr.lower()
    out = aws("s3", "cp", f, f"s3://{bucket}/f.txt", "--acl", "private", check=False)
    assert out.returncode == 0, out.stderr


def test_anonymous_gets_plain_access_denied(server, s3, bucket):
    import urllib.error
    import urllib.request
    s3.put_object(Bucket=bucket, Key="private.txt", Body=b"x")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{server.endpoint}/{bucket}/private.txt")
    assert e.value.code == 403
    body = e.value.read().decode()
    assert "<Code>AccessDenied</Code>" in body and "<Message>Access Denied</Message>" in body


def test_scp_denies_member_account_upload(server, s3, iam, aws, member, tmp_path):
    """The fifth cause: an Organizations SCP. A member account's administrator role
    is denied s3:PutObject by an SCP; the message and `explain` name the SCP."""
    org = enable_scps(server)
    kw = member.kw
    bucket = f"scp-{uuid.uuid4().hex[:8]}"
    client(server, "s3", **kw).create_bucket(Bucket=bucket)
    scp = org.create_policy(Name=f"deny-put-{uuid.uuid4().hex[:6]}", Type="SERVICE_CONTROL_POLICY", Description="d",
                            Content=policy({"Sid": "NoUploads", "Effect": "Deny", "Action": "s3:PutObject",
                                            "Resource": "*"}))["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=scp, TargetId=member.account)
    try:
        f = tmp_path / "f.txt"
        f.write_text("x")
        out = aws("s3", "cp", f, f"s3://{bucket}/f.txt", check=False, **kw)
        assert out.returncode != 0
        assert "with an explicit deny in a service control policy" in out.stderr
        _, rid = denied(client(server, "s3", **kw).put_object, Bucket=bucket, Key="f.txt", Body=b"x")
        text = explain(server, rid)
        assert "explicit_deny_scp" in text and "NoUploads" in text
    finally:
        org.detach_policy(PolicyId=scp, TargetId=member.account)


def test_canonical_user_principal_names_the_account(server, s3, iam, bucket):
    """S3 User Guide, "Policies and permissions in Amazon S3", The Principal: a
    canonical user id names the account ("Amazon S3 might change the canonical ID to
    the corresponding AWS account ID"); an id of no account is an invalid principal."""
    owner_id = s3.get_bucket_acl(Bucket=bucket)["Owner"]["ID"]
    s3.put_object(Bucket=bucket, Key="doc", Body=b"x")
    _, key, secret = new_user(iam, policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}))
    user_s3 = client(server, "s3", key=key, secret=secret)
    assert user_s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"x"
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Sid": "NoReads", "Effect": "Deny", "Principal": {"CanonicalUser": owner_id},
         "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}))
    try:
        message, _ = denied(user_s3.get_object, Bucket=bucket, Key="doc")
        assert "explicit deny in a resource-based policy" in message
        stored = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        assert stored["Statement"][0]["Principal"]["AWS"].endswith(":root")
    finally:
        s3.delete_bucket_policy(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=bucket, Policy=policy(
            {"Effect": "Allow", "Principal": {"CanonicalUser": "0" * 64},
             "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}))
    assert e.value.response["Error"]["Code"] == "MalformedPolicy"
    assert e.value.response["Error"]["Message"] == "Invalid principal in policy"


def test_same_organization_caller_gets_the_detailed_message(server, s3, member, bucket):
    """S3 User Guide, "Troubleshoot access denied (403 Forbidden) errors in Amazon S3": S3
    adds the context (policy type, reason, principal) to denials of requests made in the
    same account or the same AWS Organizations organization as the resource owner.
    The member account's admin role reads a bucket of the management account that no
    bucket policy opens to it."""
    s3.put_object(Bucket=bucket, Key="org.txt", Body=b"x")
    reader = client(server, "s3", **member.kw)
    with pytest.raises(ClientError) as e:
        reader.get_object(Bucket=bucket, Key="org.txt")
    message = e.value.response["Error"]["Message"]
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert message.startswith(f"User: arn:aws:sts::{member.account}:assumed-role/OrganizationAccountAccessRole/"), message
    assert f'perform: s3:GetObject on resource: "arn:aws:s3:::{bucket}/org.txt"' in message
    assert "because no resource-based policy allows the s3:GetObject action" in message


def test_deny_with_principal_tag_variable_hits_untagged_caller(server, s3, iam, bucket):
    """IAM User Guide, "IAM policy elements: Variables and tags", Policy variables with
    no value (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html):
    StringNotEquals matches against a variable with no value, so the guide's own Deny
    (object tag Team must equal the caller's Team tag) refuses a caller without the tag."""
    s3.put_object(Bucket=bucket, Key="plan.txt", Body=b"x", Tagging="Team=blue")
    reader = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"})
    untagged_arn, key, secret = new_user(iam, reader)
    tagged_arn, tkey, tsecret = new_user(iam, reader)
    iam.tag_user(UserName=tagged_arn.rsplit("/", 1)[1], Tags=[{"Key": "Team", "Value": "blue"}])
    with bucket_policy(s3, bucket, {
            "Sid": "SameTeamOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {"StringNotEquals": {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"}}}):
        tagged = client(server, "s3", key=tkey, secret=tsecret)
        assert tagged.get_object(Bucket=bucket, Key="plan.txt")["Body"].read() == b"x"
        untagged = client(server, "s3", key=key, secret=secret)
        message, rid = denied(untagged.get_object, Bucket=bucket, Key="plan.txt")
        assert "explicit deny in a resource-based policy" in message
        assert "explicit_deny_resource_policy" in explain(server, rid)


def test_not_principal_allow_naming_the_caller_only_delegates_to_its_account(server, s3, iam, bucket):
    """IAM User Guide, "AWS JSON policy elements: NotPrincipal"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html):
    AWS checks the account, then the user; an Allow with NotPrincipal naming the user but
    not its account applies to the account only, which delegates to the account's IAM
    policies, so the named user without an identity-policy allow stays denied."""
    s3.put_object(Bucket=bucket, Key="doc", Body=b"x")
    named_arn, key, secret = new_user(iam)
    _, okey, osecret = new_user(iam)
    s3.delete_public_access_block(Bucket=bucket)  # a NotPrincipal Allow is a public policy
    with bucket_policy(s3, bucket, {
            "Sid": "AllButNamed", "Effect": "Allow", "NotPrincipal": {"AWS": named_arn},
            "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}):
        other = client(server, "s3", key=okey, secret=osecret)
        assert other.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"x"
        named = client(server, "s3", key=key, secret=secret)
        message, _ = denied(named.get_object, Bucket=bucket, Key="doc")
        assert "because no identity-based policy allows the s3:GetObject action" in message
