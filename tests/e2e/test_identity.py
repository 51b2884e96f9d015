"""Identity plane end to end: IAM, STS and Organizations with boto3 and the aws CLI (issue 4)."""

import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import client


def code_of(exc):
    return exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"]


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def new_user(iam, doc=None):
    name = f"u-{uuid.uuid4().hex[:10]}"
    iam.create_user(UserName=name)
    if doc:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, key["AccessKeyId"], key["SecretAccessKey"]


def test_caller_identity_of_root(sts):
    ident = sts.get_caller_identity()
    assert len(ident["Account"]) == 12 and ident["Arn"] == f"arn:aws:iam::{ident['Account']}:root"


def test_user_keys_and_policies(server, iam):
    name, key, secret = new_user(iam, policy({"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}))
    user = iam.get_user(UserName=name)["User"]
    assert user["UserId"].startswith("AIDA") and user["Arn"].endswith(f":user/{name}")
    s3 = client(server, "s3", key=key, secret=secret)
    s3.list_buckets()
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=f"b-{uuid.uuid4().hex[:8]}")
    assert code_of(e.value) == ("AccessDenied", 403)
    own_iam = client(server, "iam", key=key, secret=secret)
    with pytest.raises(ClientError) as e:
        own_iam.create_user(UserName="nope")
    assert code_of(e.value) == ("AccessDenied", 403)
    assert "is not authorized to perform: iam:CreateUser" in e.value.response["Error"]["Message"]
    # Second key ok, third refused.
    iam.create_access_key(UserName=name)
    with pytest.raises(ClientError) as e:
        iam.create_access_key(UserName=name)
    assert code_of(e.value) == ("LimitExceeded", 409)
    # Deleting a user that still has keys and policies conflicts.
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName=name)
    assert code_of(e.value) == ("DeleteConflict", 409)
    # An inactive key stops working.
    iam.update_access_key(UserName=name, AccessKeyId=key, Status="Inactive")
    with pytest.raises(ClientError) as e:
        s3.list_buckets()
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_malformed_and_missing(iam):
    with pytest.raises(ClientError) as e:
        iam.create_policy(PolicyName=f"bad-{uuid.uuid4().hex[:6]}", PolicyDocument='{"Version": "2012-10-17"')
    assert code_of(e.value) == ("MalformedPolicyDocument", 400)
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName="does-not-exist")
    assert code_of(e.value) == ("NoSuchEntity", 404)
    name, _, _ = new_user(iam)
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName=name)
    assert code_of(e.value) == ("EntityAlreadyExists", 409)


def test_managed_policy_versions_and_groups(server, iam):
    doc1 = policy({"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"})
    arn = iam.create_policy(PolicyName=f"mp-{uuid.uuid4().hex[:6]}", PolicyDocument=doc1)["Policy"]["Arn"]
    for _ in range(4):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc1)
    with pytest.raises(ClientError) as e:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc1)
    assert code_of(e.value) == ("LimitExceeded", 409)
    group = f"g-{uuid.uuid4().hex[:6]}"
    iam.create_group(GroupName=group)
    iam.attach_group_policy(GroupName=group, PolicyArn=arn)
    name, key, secret = new_user(iam)
    s3 = client(server, "s3", key=key, secret=secret)
    with pytest.raises(ClientError):
        s3.list_buckets()
    iam.add_user_to_group(GroupName=group, UserName=name)
    s3.list_buckets()
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == [group]


def test_aws_managed_policies_exist(iam):
    for name in ("AdministratorAccess", "AmazonS3FullAccess", "AmazonS3ReadOnlyAccess", "ReadOnlyAccess",
                 "PowerUserAccess"):
        p = iam.get_policy(PolicyArn=f"arn:aws:iam::aws:policy/{name}")["Policy"]
        v = iam.get_policy_version(PolicyArn=p["Arn"], VersionId=p["DefaultVersionId"])["PolicyVersion"]
        assert v["Document"]


def test_assume_role_and_session_policy(server, iam, sts):
    account = sts.get_caller_identity()["Account"]
    name, key, secret = new_user(iam, policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))
    role = f"r-{uuid.uuid4().hex[:6]}"
    trust = policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"})
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.put_role_policy(RoleName=role, PolicyName="s3", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
    user_sts = client(server, "sts", key=key, secret=secret)
    creds = user_sts.assume_role(RoleArn=role_arn, RoleSessionName="sess1")["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    sess = client(server, "sts", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"])
    assert sess.get_caller_identity()["Arn"] == f"arn:aws:sts::{account}:assumed-role/{role}/sess1"
    s3 = client(server, "s3", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"])
    bucket = f"b-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    limited = user_sts.assume_role(RoleArn=role_arn, RoleSessionName="sess2", Policy=policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))["Credentials"]
    s3l = client(server, "s3", key=limited["AccessKeyId"], secret=limited["SecretAccessKey"],
                 token=limited["SessionToken"])
    with pytest.raises(ClientError) as e:
        s3l.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert code_of(e.value) == ("AccessDenied", 403)
    # A bad session token is refused.
    bad = client(server, "s3", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token="garbage")
    with pytest.raises(ClientError) as e:
        bad.list_buckets()
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403)


def test_get_federation_token(server, iam, sts):
    """GetFederationToken: the session has the user's permissions intersected
    with the session policy; none without one, except resource policies that
    name the federated user (IAM User Guide, "Permissions for GetFederationToken")."""
    account = sts.get_caller_identity()["Account"]
    root_s3 = client(server, "s3")
    bucket = f"fed-{uuid.uuid4().hex[:8]}"
    root_s3.create_bucket(Bucket=bucket)
    root_s3.put_object(Bucket=bucket, Key="report.csv", Body=b"q1")
    name, key, secret = new_user(iam, policy(
        {"Effect": "Allow", "Action": "sts:GetFederationToken", "Resource": "*"},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"arn:aws:s3:::{bucket}/*"}))
    user_sts = client(server, "sts", key=key, secret=secret)

    def session(**kwargs):
        out = user_sts.get_federation_token(**kwargs)
        c = out["Credentials"]
        assert c["AccessKeyId"].startswith("ASIA")
        return out, {svc: client(server, svc, key=c["AccessKeyId"], secret=c["SecretAccessKey"],
                                 token=c["SessionToken"]) for svc in ("s3", "sts", "iam")}

    out, fed = session(Name="bob", DurationSeconds=900, Policy=policy(
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListAllMyBuckets"], "Resource": "*"}))
    arn = f"arn:aws:sts::{account}:federated-user/bob"
    assert out["FederatedUser"] == {"Arn": arn, "FederatedUserId": f"{account}:bob"}
    assert "PackedPolicySize" in out
    me = fed["sts"].get_caller_identity()
    assert (me["Arn"], me["UserId"], me["Account"]) == (arn, f"{account}:bob", account)
    assert fed["s3"].get_object(Bucket=bucket, Key="report.csv")["Body"].read() == b"q1"
    # The user may PutObject, the session policy does not let the session.
    with pytest.raises(ClientError) as e:
        fed["s3"].put_object(Bucket=bucket, Key="new", Body=b"x")
    assert code_of(e.value) == ("AccessDenied", 403)
    # The session policy allows ListAllMyBuckets, the user does not.
    with pytest.raises(ClientError) as e:
        fed["s3"].list_buckets()
    assert code_of(e.value) == ("AccessDenied", 403)
    # No IAM and no STS beyond GetCallerIdentity.
    with pytest.raises(ClientError) as e:
        fed["iam"].list_users()
    assert code_of(e.value)[1] == 403
    with pytest.raises(ClientError) as e:
        fed["sts"].get_session_token()
    assert code_of(e.value) == ("AccessDenied", 403)

    # Without a session policy: no permissions...
    _, bare = session(Name="carol")
    with pytest.raises(ClientError) as e:
        bare["s3"].get_object(Bucket=bucket, Key="report.csv")
    assert code_of(e.value) == ("AccessDenied", 403)
    # ...except where a resource policy names the federated user.
    root_s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:sts::{account}:federated-user/carol"},
         "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}))
    assert bare["s3"].get_object(Bucket=bucket, Key="report.csv")["Body"].read() == b"q1"

    # The user needs sts:GetFederationToken; temporary credentials cannot call it.
    _, k2, s2 = new_user(iam)
    with pytest.raises(ClientError) as e:
        client(server, "sts", key=k2, secret=s2).get_federation_token(Name="dave")
    assert code_of(e.value) == ("AccessDenied", 403)
    assert "sts:GetFederationToken" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        user_sts.get_federation_token(Name="bad name")
    assert code_of(e.value) == ("ValidationError", 400)
    root_s3.delete_bucket_policy(Bucket=bucket)
    root_s3.delete_object(Bucket=bucket, Key="report.csv")
    root_s3.delete_bucket(Bucket=bucket)


def test_root_cannot_assume_role(iam, sts):
    account = sts.get_caller_identity()["Account"]
    role = f"r-{uuid.uuid4().hex[:6]}"
    trust = policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"})
    arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=arn, RoleSessionName="xx")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_organization_member_account_and_scp(server, iam, sts, aws):
    org = client(server, "organizations")
    try:
        org.create_organization(FeatureSet="ALL")
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "AlreadyInOrganizationException"
    root_id = org.list_roots()["Roots"][0]["Id"]
    status = org.create_account(Email="m@example.com", AccountName="member")["CreateAccountStatus"]
    while status["State"] == "IN_PROGRESS":
        time.sleep(0.2)
        status = org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
    assert status["State"] == "SUCCEEDED"
    member = status["AccountId"]
    # Reach the member through OrganizationAccountAccessRole, as on AWS (root cannot assume roles).
    _, key, secret = new_user(iam, policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))
    op_sts = client(server, "sts", key=key, secret=secret)
    creds = op_sts.assume_role(RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
                               RoleSessionName="admin")["Credentials"]
    kw = dict(key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"])
    m_s3 = client(server, "s3", **kw)
    m_iam = client(server, "iam", **kw)
    bucket = f"m-{uuid.uuid4().hex[:8]}"
    m_s3.create_bucket(Bucket=bucket)
    m_iam.create_user(UserName=f"mu-{uuid.uuid4().hex[:6]}")
    try:
        org.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "PolicyTypeAlreadyEnabledException"
    scp = org.create_policy(Name=f"deny-{uuid.uuid4().hex[:6]}", Type="SERVICE_CONTROL_POLICY", Description="d",
                            Content=policy({"Effect": "Deny", "Action": ["s3:PutObject", "iam:CreateUser"],
                                            "Resource": "*"}))["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=scp, TargetId=root_id)
    try:
        with pytest.raises(ClientError) as e:
            m_s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        assert code_of(e.value) == ("AccessDenied", 403)
        with pytest.raises(ClientError) as e:
            m_iam.create_user(UserName=f"mu-{uuid.uuid4().hex[:6]}")
        assert code_of(e.value) == ("AccessDenied", 403)
        # The management account is never restricted by SCPs.
        s3 = client(server, "s3")
        mb = f"mg-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=mb)
        s3.put_object(Bucket=mb, Key="k", Body=b"x")
        iam.create_user(UserName=f"mg-{uuid.uuid4().hex[:6]}")
    finally:
        org.detach_policy(PolicyId=scp, TargetId=root_id)
    m_s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    accounts = [a["Id"] for a in org.list_accounts()["Accounts"]]
    assert member in accounts
    out = aws("organizations", "list-accounts")
    assert member in out.stdout


def test_aws_managed_policy_counts_only_the_callers_account(server, iam, member):
    """An AWS managed policy is shared by every account; GetPolicy and ListPolicies
    count its attachments in the caller's account only (AttachmentCount, IAM API
    Reference, ManagedPolicy), so another account's use of it stays private."""
    arn = "arn:aws:iam::aws:policy/AWSOrganizationsReadOnlyAccess"
    before = iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"]
    member_iam = client(server, "iam", **member.kw)
    name = f"counted-{uuid.uuid4().hex[:8]}"
    member_iam.create_user(UserName=name)
    member_iam.attach_user_policy(UserName=name, PolicyArn=arn)
    assert member_iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] >= 1
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == before
    listed = iam.list_policies(Scope="AWS", OnlyAttached=True)["Policies"]
    assert (arn in [p["Arn"] for p in listed]) == (before > 0)


def test_sts_refusals_outside_policy_evaluation_are_explained(server, sts, iam):
    """Issue 18: STS refusals that no policy decides ("Roles may not be assumed by root
    accounts", AssumeRoot by a root user) are recorded, so `strongbox explain` names the
    rule, AWS's message and the fix instead of "No decision recorded"."""
    import subprocess
    from server import binary

    def explained(call, **kwargs):
        with pytest.raises(ClientError) as e:
            call(**kwargs)
        assert e.value.response["Error"]["Code"] == "AccessDenied"
        request_id = e.value.response["ResponseMetadata"]["RequestId"]
        time.sleep(0.3)  # the decision log is written in the background
        out = subprocess.run([binary(), "explain", request_id, "--data-dir", server.data_dir, "--json"],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        return [json.loads(line) for line in out.stdout.splitlines()][-1]

    account = sts.get_caller_identity()["Account"]
    record = explained(sts.assume_role, RoleArn=f"arn:aws:iam::{account}:role/any", RoleSessionName="root-try")
    assert record["decision"] == "Deny" and record["reason"] == "assume_role_by_root"
    assert record["message"] == "Roles may not be assumed by root accounts."
    assert "IAM user or role" in record["fix"]
    record = explained(sts.assume_root, TargetPrincipal=account,
                       TaskPolicyArn={"arn": "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy"})
    assert record["reason"] == "assume_root_by_root" and record["action"] == "sts:AssumeRoot"
