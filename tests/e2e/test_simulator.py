"""IAM's policy simulator over IAM's own API, with the stock aws CLI and boto3:
SimulatePrincipalPolicy, SimulateCustomPolicy, GetContextKeysFor{Principal,Custom}Policy
and GetAccountAuthorizationDetails.

Shapes: IAM API Reference (API_SimulatePrincipalPolicy, API_SimulateCustomPolicy,
API_EvaluationResult, API_GetAccountAuthorizationDetails); examples: AWS CLI Command
Reference (iam simulate-custom-policy, get-context-keys-for-custom-policy)."""

import glob
import json
import os
import re
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import client, enable_scps

CASES = os.path.join(os.path.dirname(__file__), "..", "policy-eval", "cases")

# The policy of the AWS CLI Command Reference example for simulate-custom-policy.
DYNAMO = ('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*",'
          '"Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}')


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def code(exc):
    return exc.value.response["Error"]["Code"]


@pytest.fixture
def user(iam):
    """A fresh user with its own access key; yields (name, arn, key)."""
    name = f"sim-{uuid.uuid4().hex[:8]}"
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, arn, key


def test_custom_policy_cli_example_positions_and_decisions(aws):
    """The CLI reference example: allowed with the statement at 1:38-1:167; an earlier
    aws:CurrentTime gives implicitDeny with no matched statement."""
    out = json.loads(aws("iam", "simulate-custom-policy", "--policy-input-list", DYNAMO,
                         "--action-names", "dynamodb:CreateBackup", "--context-entries",
                         "ContextKeyName='aws:CurrentTime',ContextKeyValues='2019-04-25T11:00:00Z',"
                         "ContextKeyType=date").stdout)
    [r] = out["EvaluationResults"]
    assert (r["EvalActionName"], r["EvalResourceName"], r["EvalDecision"]) == \
        ("dynamodb:CreateBackup", "*", "allowed")
    assert r["MatchedStatements"] == [{
        "SourcePolicyId": "PolicyInputList.1", "SourcePolicyType": "none",
        "StartPosition": {"Line": 1, "Column": 38}, "EndPosition": {"Line": 1, "Column": 167}}]
    assert r["MissingContextValues"] == []
    out = json.loads(aws("iam", "simulate-custom-policy", "--policy-input-list", DYNAMO,
                         "--action-names", "dynamodb:CreateBackup", "--context-entries",
                         "ContextKeyName='aws:CurrentTime',ContextKeyValues='2014-04-25T11:00:00Z',"
                         "ContextKeyType=date").stdout)
    [r] = out["EvaluationResults"]
    assert r["EvalDecision"] == "implicitDeny" and r["MatchedStatements"] == []


def test_custom_policy_missing_context_and_multiline_positions(iam):
    text = ('{\n  "Version": "2012-10-17",\n  "Statement": [\n    {\n      "Sid": "Get",\n'
            '      "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",\n'
            '      "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}\n    },\n'
            '    {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}\n  ]\n}')
    r = iam.simulate_custom_policy(PolicyInputList=[text],
                                   ActionNames=["s3:GetObject", "s3:DeleteObject", "s3:PutObject"])
    get, delete, put = r["EvaluationResults"]
    assert get["EvalDecision"] == "implicitDeny"
    assert get["MissingContextValues"] == ["aws:SourceIp"]
    assert delete["EvalDecision"] == "explicitDeny"
    assert delete["MatchedStatements"][0]["StartPosition"] == {"Line": 9, "Column": 6}
    assert delete["MatchedStatements"][0]["EndPosition"] == {"Line": 9, "Column": 69}
    assert put["EvalDecision"] == "implicitDeny" and put["MissingContextValues"] == []
    r = iam.simulate_custom_policy(
        PolicyInputList=[text], ActionNames=["s3:GetObject"],
        ContextEntries=[{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["10.1.2.3"],
                         "ContextKeyType": "ip"}])
    [get] = r["EvaluationResults"]
    assert get["EvalDecision"] == "allowed"
    assert get["MatchedStatements"][0]["StartPosition"] == {"Line": 4, "Column": 6}
    assert get["MatchedStatements"][0]["EndPosition"] == {"Line": 8, "Column": 6}


def test_custom_policy_resources_resource_policy_and_boundary(iam, user):
    name, arn, _ = user
    account = arn.split(":")[4]
    bucket_policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": arn}, "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::sim-bucket/public/*"}]})
    r = iam.simulate_custom_policy(
        PolicyInputList=[doc(allow("s3:ListBucket"))],
        PermissionsBoundaryPolicyInputList=[doc(allow("s3:*"))],
        ActionNames=["s3:GetObject"], CallerArn=arn, ResourcePolicy=bucket_policy,
        ResourceArns=["arn:aws:s3:::sim-bucket/public/a", "arn:aws:s3:::sim-bucket/private/b"])
    [res] = r["EvaluationResults"]
    # The most restrictive decision over the resources; each resource on its own.
    assert res["EvalDecision"] == "implicitDeny"
    assert res["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": True}
    per = {x["EvalResourceName"]: x for x in res["ResourceSpecificResults"]}
    public = per["arn:aws:s3:::sim-bucket/public/a"]
    assert public["EvalResourceDecision"] == "allowed"
    assert public["MatchedStatements"][0]["SourcePolicyId"] == "ResourcePolicy"
    assert public["MatchedStatements"][0]["SourcePolicyType"] == "resource"
    assert per["arn:aws:s3:::sim-bucket/private/b"]["EvalResourceDecision"] == "implicitDeny"
    # Same account with resources: EvalDecisionDetails present but empty.
    assert res.get("EvalDecisionDetails", {}) == {}
    # Cross-account (ResourceOwner): both sides must allow, and the details say so.
    other = "999988887777" if account != "999988887777" else "111122223333"
    r = iam.simulate_custom_policy(
        PolicyInputList=[doc(allow("s3:GetObject"))], ActionNames=["s3:GetObject"], CallerArn=arn,
        ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": "s3:PutObject", "Resource": "arn:aws:s3:::x/*"}]}),
        ResourceOwner=f"arn:aws:iam::{other}:root", ResourceArns=["arn:aws:s3:::x/k"])
    [res] = r["EvaluationResults"]
    assert res["EvalDecision"] == "implicitDeny"
    assert res["EvalDecisionDetails"] == {"IAM Policy": "allowed", "Resource Policy": "implicitDeny"}
    # A resource policy of another service (an SQS queue policy).
    queue = f"arn:aws:sqs:us-east-1:{account}:q"
    r = iam.simulate_custom_policy(
        PolicyInputList=[doc(allow("s3:ListBucket"))], ActionNames=["sqs:SendMessage"], CallerArn=arn,
        ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": arn}, "Action": "sqs:SendMessage", "Resource": queue}]}),
        ResourceArns=[queue])
    assert r["EvaluationResults"][0]["EvalDecision"] == "allowed"
    # A boundary that does not allow.
    r = iam.simulate_custom_policy(PolicyInputList=[doc(allow("s3:*"))],
                                   PermissionsBoundaryPolicyInputList=[doc(allow("sqs:*"))],
                                   ActionNames=["s3:GetObject"])
    [res] = r["EvaluationResults"]
    assert res["EvalDecision"] == "implicitDeny"
    assert res["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}


def test_custom_policy_validation_errors(iam, user):
    _, arn, _ = user
    with pytest.raises(ClientError) as e:
        iam.simulate_custom_policy(PolicyInputList=["{not json"], ActionNames=["s3:GetObject"])
    assert code(e) == "InvalidInput"
    with pytest.raises(ClientError) as e:
        iam.simulate_custom_policy(PolicyInputList=[doc(allow("s3:*"))], ActionNames=["s3:Get*"])
    assert code(e) == "InvalidInput"
    with pytest.raises(ClientError) as e:
        iam.simulate_custom_policy(PolicyInputList=[doc(allow("s3:*"))], ActionNames=["GetObject"])
    assert code(e) == "InvalidInput"
    with pytest.raises(ClientError) as e:  # a resource policy needs a caller
        iam.simulate_custom_policy(PolicyInputList=[doc(allow("s3:*"))], ActionNames=["s3:GetObject"],
                                   ResourcePolicy=doc(allow("s3:*")))
    assert code(e) == "InvalidInput"
    with pytest.raises(ClientError) as e:  # CallerArn must be an IAM user
        iam.simulate_custom_policy(PolicyInputList=[doc(allow("s3:*"))], ActionNames=["s3:GetObject"],
                                   CallerArn=arn.replace(":user/", ":role/"))
    assert code(e) == "InvalidInput"
    with pytest.raises(ClientError) as e:
        iam.simulate_custom_policy(PolicyInputList=[doc(allow("s3:*"))], ActionNames=["s3:GetObject"],
                                   PermissionsBoundaryPolicyInputList=[doc(allow("s3:*"))] * 2)
    assert code(e) == "InvalidInput"
    with pytest.raises(ClientError) as e:
        iam.simulate_custom_policy(PolicyInputList=[doc(allow("ec2:*"))], ActionNames=["ec2:RunInstances"],
                                   ResourceHandlingOption="EC2-Classic")
    assert code(e) == "InvalidInput"
    with pytest.raises(ClientError) as e:  # the EC2 scenario needs its resources
        iam.simulate_custom_policy(PolicyInputList=[doc(allow("ec2:*"))], ActionNames=["ec2:RunInstances"],
                                   ResourceHandlingOption="EC2-VPC-InstanceStore",
                                   ResourceArns=["arn:aws:ec2:us-east-1:123456789012:instance/i-1"])
    assert code(e) == "InvalidInput"
    with pytest.raises(ClientError) as e:
        iam.simulate_custom_policy(PolicyInputList=[doc(allow("s3:*"))], ActionNames=["s3:GetObject"],
                                   ContextEntries=[{"ContextKeyName": "aws:SourceIp", "ContextKeyType": "ip",
                                                    "ContextKeyValues": ["10.0.0.1", "10.0.0.2"]}])
    assert code(e) == "InvalidInput"
    with pytest.raises(ClientError) as e:
        iam.simulate_principal_policy(PolicySourceArn=arn + "-missing", ActionNames=["s3:GetObject"])
    assert code(e) == "NoSuchEntity"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as e:
        iam.simulate_principal_policy(PolicySourceArn="arn:aws:iam::123:nonsense",
                                      ActionNames=["s3:GetObject"])
    assert code(e) == "InvalidInput"


def test_principal_policy_gathers_user_group_managed_and_boundary(iam, aws, user):
    name, arn, _ = user
    group = f"simg-{uuid.uuid4().hex[:8]}"
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=name)
    inline = ('{\n    "Version": "2012-10-17",\n    "Statement": {\n        "Sid": "Read",\n'
              '        "Effect": "Allow",\n        "Action": "s3:GetObject",\n        "Resource": "*"\n    }\n}')
    iam.put_user_policy(UserName=name, PolicyName="Grant-Read", PolicyDocument=inline)
    iam.put_group_policy(GroupName=group, PolicyName="NoDelete", PolicyDocument=doc(deny("s3:DeleteObject")))
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    out = json.loads(aws("iam", "simulate-principal-policy", "--policy-source-arn", arn, "--action-names",
                         "s3:GetObject", "s3:DeleteObject", "s3:ListBucket", "s3:PutObject").stdout)
    get, delete, lst, put = out["EvaluationResults"]
    assert get["EvalDecision"] == "allowed"
    assert {"SourcePolicyId": "Grant-Read", "SourcePolicyType": "user",
            "StartPosition": {"Line": 3, "Column": 19},
            "EndPosition": {"Line": 8, "Column": 6}} in get["MatchedStatements"]
    assert delete["EvalDecision"] == "explicitDeny"
    assert [(m["SourcePolicyId"], m["SourcePolicyType"]) for m in delete["MatchedStatements"]] == \
        [("NoDelete", "group")]
    assert lst["EvalDecision"] == "allowed"
    assert lst["MatchedStatements"][0]["SourcePolicyType"] == "aws-managed"
    assert lst["MatchedStatements"][0]["SourcePolicyId"] == "AmazonS3ReadOnlyAccess"
    assert put["EvalDecision"] == "implicitDeny"
    assert "PermissionsBoundaryDecisionDetail" not in put
    # A stored boundary applies; PolicyInputList adds policies.
    boundary = iam.create_policy(PolicyName=f"simb-{uuid.uuid4().hex[:8]}",
                                 PolicyDocument=doc(allow("s3:Get*")))["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=boundary)
    r = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["s3:GetObject", "s3:PutObject"],
                                      PolicyInputList=[doc(allow("s3:PutObject"))])
    get, put = r["EvaluationResults"]
    assert get["EvalDecision"] == "allowed"
    assert get["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": True}
    assert put["EvalDecision"] == "implicitDeny"
    assert put["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    # A boundary passed in replaces the stored one.
    r = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["s3:PutObject"],
                                      PolicyInputList=[doc(allow("s3:PutObject"))],
                                      PermissionsBoundaryPolicyInputList=[doc(allow("s3:*"))])
    assert r["EvaluationResults"][0]["EvalDecision"] == "allowed"
    # The group alone: its own policies, no caller identity.
    r = iam.simulate_principal_policy(
        PolicySourceArn=arn.replace(f":user/{name}", f":group/{group}"),
        ActionNames=["s3:DeleteObject", "s3:GetObject"])
    assert [x["EvalDecision"] for x in r["EvaluationResults"]] == ["explicitDeny", "implicitDeny"]
    iam.remove_user_from_group(GroupName=group, UserName=name)


def test_principal_policy_role_pagination_and_caller_arn(iam, user):
    _, user_arn, _ = user
    role = f"simr-{uuid.uuid4().hex[:8]}"
    trust = doc({"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"})
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.put_role_policy(RoleName=role, PolicyName="own-prefix", PolicyDocument=doc(
        allow("s3:GetObject", "arn:aws:s3:::b/${aws:username}/*"),
        allow("s3:ListBucket", "*", Condition={"ArnLike": {"aws:PrincipalArn": role_arn}})))
    actions = [f"s3:Action{i}" for i in range(5)] + ["s3:ListBucket"]
    pages = list(iam.get_paginator("simulate_principal_policy").paginate(
        PolicySourceArn=role_arn, ActionNames=actions, PaginationConfig={"PageSize": 2}))
    assert [len(p["EvaluationResults"]) for p in pages] == [2, 2, 2]
    assert pages[0]["IsTruncated"] and not pages[-1]["IsTruncated"]
    results = [r for p in pages for r in p["EvaluationResults"]]
    assert [r["EvalActionName"] for r in results] == actions
    # aws:PrincipalArn of a role is the role's ARN.
    assert results[-1]["EvalDecision"] == "allowed"
    # A role has no aws:username: the resource grant cannot match.
    r = iam.simulate_principal_policy(PolicySourceArn=role_arn, ActionNames=["s3:GetObject"],
                                      ResourceArns=["arn:aws:s3:::b/alice/k"])
    assert r["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"
    assert r["EvaluationResults"][0]["ResourceSpecificResults"][0]["MissingContextValues"] == ["aws:username"]
    # CallerArn: the user calls with the role's policies.
    name = user_arn.rsplit("/", 1)[1]
    r = iam.simulate_principal_policy(PolicySourceArn=role_arn, CallerArn=user_arn,
                                      ActionNames=["s3:GetObject"],
                                      ResourceArns=[f"arn:aws:s3:::b/{name}/k"])
    assert r["EvaluationResults"][0]["EvalDecision"] == "allowed"
    # A resource policy with a role source needs CallerArn.
    with pytest.raises(ClientError) as e:
        iam.simulate_principal_policy(PolicySourceArn=role_arn, ActionNames=["s3:GetObject"],
                                      ResourcePolicy=doc({"Effect": "Allow", "Principal": "*",
                                                          "Action": "s3:GetObject", "Resource": "*"}))
    assert code(e) == "InvalidInput"


def test_context_keys_cli_example_and_principal(aws, iam, user):
    example = ('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*",'
               '"Resource":"arn:aws:dynamodb:us-west-2:123456789012:table/${aws:username}",'
               '"Condition":{"DateGreaterThan":{"aws:CurrentTime":"2015-08-16T12:00:00Z"}}}}')
    out = json.loads(aws("iam", "get-context-keys-for-custom-policy", "--policy-input-list", example).stdout)
    assert out["ContextKeyNames"] == ["aws:username", "aws:CurrentTime"]
    name, arn, _ = user
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=example)
    iam.put_user_policy(UserName=name, PolicyName="q", PolicyDocument=doc(
        allow("s3:*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"},
                                 "StringEquals": {"AWS:USERNAME": "x"}})))
    out = json.loads(aws("iam", "get-context-keys-for-principal-policy", "--policy-source-arn", arn,
                         "--policy-input-list", doc(allow("s3:*", Condition={
                             "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))).stdout)
    keys = out["ContextKeyNames"]
    assert sorted(k.lower() for k in keys) == sorted(
        ["aws:username", "aws:currenttime", "aws:multifactorauthpresent", "aws:sourceip"])
    with pytest.raises(ClientError) as e:
        iam.get_context_keys_for_principal_policy(PolicySourceArn=arn.replace(name, name + "-gone"))
    assert code(e) == "NoSuchEntity"


def test_authorized_as_aws_authorizes(server, iam, user):
    """Each operation checks its own action; SimulatePrincipalPolicy and
    GetContextKeysForPrincipalPolicy on the entity's ARN."""
    name, arn, key = user
    other = iam.create_user(UserName=f"simo-{uuid.uuid4().hex[:8]}")["User"]["Arn"]
    iam.put_user_policy(UserName=name, PolicyName="sim", PolicyDocument=doc(
        allow(["iam:SimulatePrincipalPolicy", "iam:GetContextKeysForPrincipalPolicy"], arn)))
    mine = client(server, "iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    mine.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["s3:GetObject"])
    mine.get_context_keys_for_principal_policy(PolicySourceArn=arn)
    calls = [
        lambda: mine.simulate_principal_policy(PolicySourceArn=other, ActionNames=["s3:GetObject"]),
        lambda: mine.get_context_keys_for_principal_policy(PolicySourceArn=other),
        lambda: mine.simulate_custom_policy(PolicyInputList=[doc(allow("s3:*"))], ActionNames=["s3:GetObject"]),
        lambda: mine.get_context_keys_for_custom_policy(PolicyInputList=[doc(allow("s3:*"))]),
        lambda: mine.get_account_authorization_details(),
    ]
    for call in calls:
        with pytest.raises(ClientError) as e:
            call()
        assert code(e) == "AccessDenied"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    message = str(e.value)
    assert "iam:GetAccountAuthorizationDetails" in message
    iam.put_user_policy(UserName=name, PolicyName="sim", PolicyDocument=doc(allow([
        "iam:SimulateCustomPolicy", "iam:GetContextKeysForCustomPolicy",
        "iam:GetAccountAuthorizationDetails"])))
    mine.simulate_custom_policy(PolicyInputList=[doc(allow("s3:*"))], ActionNames=["s3:GetObject"])
    mine.get_context_keys_for_custom_policy(PolicyInputList=[doc(allow("s3:*"))])
    mine.get_account_authorization_details(MaxItems=1)


def test_account_authorization_details(aws, iam, user):
    name, arn, _ = user
    group = f"gaad-{uuid.uuid4().hex[:8]}"
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=name)
    iam.put_group_policy(GroupName=group, PolicyName="g", PolicyDocument=doc(allow("s3:ListBucket")))
    iam.attach_group_policy(GroupName=group, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    local = iam.create_policy(PolicyName=f"gaadp-{uuid.uuid4().hex[:8]}",
                              PolicyDocument=doc(allow("s3:GetObject")))["Policy"]
    iam.create_policy_version(PolicyArn=local["Arn"], PolicyDocument=doc(allow("s3:PutObject")),
                              SetAsDefault=True)
    iam.attach_user_policy(UserName=name, PolicyArn=local["Arn"])
    iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=local["Arn"])
    role = f"gaadr-{uuid.uuid4().hex[:8]}"
    trust = doc({"Effect": "Allow", "Principal": {"AWS": arn}, "Action": "sts:AssumeRole"})
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
    # The CLI follows the pages itself (MaxItems/Marker) with --page-size.
    out = json.loads(aws("iam", "get-account-authorization-details", "--page-size", "1").stdout)
    users = {u["UserName"]: u for u in out["UserDetailList"]}
    u = users[name]
    assert u["Arn"] == arn and u["GroupList"] == [group]
    assert u["AttachedManagedPolicies"] == [{"PolicyName": local["PolicyName"], "PolicyArn": local["Arn"]}]
    assert u["PermissionsBoundary"]["PermissionsBoundaryArn"] == local["Arn"]
    g = {x["GroupName"]: x for x in out["GroupDetailList"]}[group]
    assert g["GroupPolicyList"][0]["PolicyName"] == "g"
    assert g["GroupPolicyList"][0]["PolicyDocument"]["Statement"][0]["Action"] == "s3:ListBucket"
    assert {"PolicyName": "AmazonS3ReadOnlyAccess",
            "PolicyArn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"} in g["AttachedManagedPolicies"]
    r = {x["RoleName"]: x for x in out["RoleDetailList"]}[role]
    assert r["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"AWS": arn}
    assert r["InstanceProfileList"] == []
    policies = {p["Arn"]: p for p in out["Policies"]}
    p = policies[local["Arn"]]
    assert p["DefaultVersionId"] == "v2"
    assert p["AttachmentCount"] == 1 and p["PermissionsBoundaryUsageCount"] == 1
    versions = {v["VersionId"]: v for v in p["PolicyVersionList"]}
    assert versions["v2"]["IsDefaultVersion"] and not versions["v1"]["IsDefaultVersion"]
    assert versions["v1"]["Document"]["Statement"][0]["Action"] == "s3:GetObject"
    assert "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess" in policies
    # AWS managed policies are listed only when the account uses them.
    for arn_, p in policies.items():
        if arn_.startswith("arn:aws:iam::aws:"):
            assert p["AttachmentCount"] + p["PermissionsBoundaryUsageCount"] > 0, arn_
    # Filter, and boto3 pagination across the four lists.
    only = iam.get_account_authorization_details(Filter=["Role"])
    assert only["UserDetailList"] == [] and only["Policies"] == [] and only["RoleDetailList"]
    pages = list(iam.get_paginator("get_account_authorization_details").paginate(
        Filter=["User", "LocalManagedPolicy"], PaginationConfig={"PageSize": 1}))
    assert all(len(p["UserDetailList"]) + len(p["Policies"]) == 1 for p in pages)
    assert name in [u["UserName"] for p in pages for u in p["UserDetailList"]]
    with pytest.raises(ClientError) as e:
        iam.get_account_authorization_details(Filter=["Users"])
    assert code(e) == "ValidationError"
    iam.remove_user_from_group(GroupName=group, UserName=name)


def test_organizations_decision_detail(server, member):
    """A user of a member account under an SCP that denies: explicitDeny and
    AllowedByOrganizations false; other actions allowed by the SCPs."""
    org = enable_scps(server)
    scp = org.create_policy(Name=f"sim-{uuid.uuid4().hex[:8]}", Description="d",
                            Type="SERVICE_CONTROL_POLICY",
                            Content=doc(deny("s3:DeleteBucket")))["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=scp, TargetId=member.account)
    try:
        miam = client(server, "iam", **member.kw)
        name = f"simm-{uuid.uuid4().hex[:8]}"
        arn = miam.create_user(UserName=name)["User"]["Arn"]
        miam.put_user_policy(UserName=name, PolicyName="all", PolicyDocument=doc(allow("s3:*")))
        r = miam.simulate_principal_policy(PolicySourceArn=arn,
                                           ActionNames=["s3:DeleteBucket", "s3:GetObject"])
        delete, get = r["EvaluationResults"]
        assert delete["EvalDecision"] == "explicitDeny"
        assert delete["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": False}
        assert delete["MatchedStatements"][0]["SourcePolicyId"] == scp
        assert get["EvalDecision"] == "allowed"
        assert get["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": True}
    finally:
        org.detach_policy(PolicyId=scp, TargetId=member.account)
        org.delete_policy(PolicyId=scp)


def expressible(case):
    """Whether a conformance case can be put to SimulateCustomPolicy: an IAM user
    caller (CallerArn), identity policies, an optional resource policy and boundary, a
    context; no SCPs or session policies; no resource whose own policy is required
    without one being given (roles' trust policies are not simulated on AWS)."""
    if "validate" in case:
        return False
    req, pol = case["request"], case["policies"]
    if not re.match(r"^arn:aws:iam::\d{12}:user/", req["principal"]):
        return False
    if pol.get("scp") is not None or pol.get("session") is not None:
        return False
    if req["resource"].startswith("arn:aws:iam:"):
        return False
    return not (req["resource"].startswith("arn:aws:kms:") and pol.get("resource") is None)


def context_entries(req):
    entries = {}
    for k, v in (req.get("context") or {}).items():
        values = v if isinstance(v, list) else [v]
        values = [x if isinstance(x, str) else json.dumps(x) for x in values]
        entries[k.lower()] = {"ContextKeyName": k, "ContextKeyValues": values,
                              "ContextKeyType": "stringList" if isinstance(v, list) else "string"}
    for k, v in (req.get("principal_tags") or {}).items():
        key = f"aws:PrincipalTag/{k}"
        entries.setdefault(key.lower(), {"ContextKeyName": key, "ContextKeyValues": [str(v)],
                                         "ContextKeyType": "string"})
    return list(entries.values())


def test_simulator_matches_the_policy_eval_conformance_cases(iam):
    """Every conformance case expressible as SimulateCustomPolicy gets the case's
    decision (allowed vs denied) from the server."""
    files = sorted(glob.glob(os.path.join(CASES, "*.json")))
    cases = [(os.path.basename(f), json.load(open(f))) for f in files]
    chosen = [(f, c) for f, c in cases if expressible(c)]
    assert len(chosen) >= 100, len(chosen)
    mismatches = []
    for f, case in chosen:
        req, pol = case["request"], case["policies"]
        kw = dict(PolicyInputList=[json.dumps(p) for p in pol.get("identity") or []],
                  ActionNames=[req["action"]], ResourceArns=[req["resource"]],
                  CallerArn=req["principal"], ContextEntries=context_entries(req))
        if pol.get("resource") is not None:
            kw["ResourcePolicy"] = json.dumps(pol["resource"])
        if pol.get("permissions_boundary") is not None:
            kw["PermissionsBoundaryPolicyInputList"] = [json.dumps(pol["permissions_boundary"])]
        if req.get("resource_account"):
            kw["ResourceOwner"] = f"arn:aws:iam::{req['resource_account']}:root"
        try:
            result = iam.simulate_custom_policy(**kw)["EvaluationResults"][0]
        except ClientError as exc:
            mismatches.append((f, f"error {exc}"))
            continue
        got = "Allow" if result["EvalDecision"] == "allowed" else "Deny"
        want = case["expect"]["decision"]
        if got != want:
            mismatches.append((f, f"expected {want}, got {result['EvalDecision']}"))
        elif want == "Deny":
            explicit = case["expect"]["reason"]
            reasons = explicit if isinstance(explicit, list) else [explicit]
            is_explicit = result["EvalDecision"] == "explicitDeny"
            if is_explicit != any(r.startswith("explicit_deny") for r in reasons):
                mismatches.append((f, f"expected {reasons}, got {result['EvalDecision']}"))
    print(f"conformance: {len(chosen)} of {len(cases)} cases expressible as SimulateCustomPolicy; "
          f"{len(chosen) - len(mismatches)} match")
    assert mismatches == []
