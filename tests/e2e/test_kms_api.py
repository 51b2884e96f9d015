"""The KMS API end to end (issue 6), driven with boto3 as users drive AWS KMS:
grants with constraints and grant tokens, tags, ReEncrypt with encryption
context, and the key states (disabled, pending deletion) as KMS and S3 report
them.

References:
https://docs.aws.amazon.com/kms/latest/developerguide/grants.html
https://docs.aws.amazon.com/kms/latest/APIReference/API_GrantConstraints.html
https://docs.aws.amazon.com/kms/latest/APIReference/API_ReEncrypt.html
https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html
"""

import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import client


def new_user_kms(server, iam):
    """A user with no IAM policy at all: only grants or key policies can let it in."""
    name = f"k-{uuid.uuid4().hex[:10]}"
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return arn, client(server, "kms", key=key["AccessKeyId"], secret=key["SecretAccessKey"])


def error_of(fn, **kwargs):
    with pytest.raises(ClientError) as e:
        fn(**kwargs)
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Code"), r["Error"].get("Message", "")


def test_grant_with_encryption_context_constraint(server, iam, kms):
    key = kms.create_key()["KeyMetadata"]
    arn, user = new_user_kms(server, iam)
    status, code, message = error_of(user.encrypt, KeyId=key["Arn"], Plaintext=b"x",
                                     EncryptionContext={"dept": "eng"})
    assert (status, code) == (400, "AccessDeniedException")
    assert f"User: {arn} is not authorized to perform: kms:Encrypt on resource: {key['Arn']}" in message

    grant = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=arn,
                             Operations=["Encrypt", "Decrypt"],
                             Constraints={"EncryptionContextEquals": {"dept": "eng"}})
    # The grant token makes the grant usable at once, as on AWS.
    blob = user.encrypt(KeyId=key["Arn"], Plaintext=b"grant", EncryptionContext={"dept": "eng"},
                        GrantTokens=[grant["GrantToken"]])["CiphertextBlob"]
    assert user.decrypt(CiphertextBlob=blob, EncryptionContext={"dept": "eng"})["Plaintext"] == b"grant"
    # Another context, or none, is outside the constraint.
    for context in ({"dept": "ops"}, {"dept": "eng", "extra": "1"}, {}):
        status, code, _ = error_of(user.encrypt, KeyId=key["Arn"], Plaintext=b"x", EncryptionContext=context)
        assert (status, code) == (400, "AccessDeniedException"), context
    # The grant does not cover operations it does not name.
    status, code, _ = error_of(user.generate_data_key, KeyId=key["Arn"], KeySpec="AES_256",
                               EncryptionContext={"dept": "eng"})
    assert (status, code) == (400, "AccessDeniedException")

    listed = kms.list_grants(KeyId=key["KeyId"])["Grants"]
    assert [g["GrantId"] for g in listed] == [grant["GrantId"]]
    assert listed[0]["Constraints"] == {"EncryptionContextEquals": {"dept": "eng"}}
    kms.revoke_grant(KeyId=key["KeyId"], GrantId=grant["GrantId"])
    assert kms.list_grants(KeyId=key["KeyId"])["Grants"] == []
    status, code, _ = error_of(user.decrypt, CiphertextBlob=blob, EncryptionContext={"dept": "eng"})
    assert (status, code) == (400, "AccessDeniedException")


def test_subset_constraint_and_retiring_principal(server, iam, kms):
    key = kms.create_key()["KeyMetadata"]
    arn, user = new_user_kms(server, iam)
    grant = kms.create_grant(KeyId=key["Arn"], GranteePrincipal=arn, RetiringPrincipal=arn,
                             Operations=["GenerateDataKey"],
                             Constraints={"EncryptionContextSubset": {"app": "billing"}})
    data = user.generate_data_key(KeyId=key["Arn"], KeySpec="AES_256",
                                  EncryptionContext={"app": "billing", "run": "7"},
                                  GrantTokens=[grant["GrantToken"]])
    assert len(data["Plaintext"]) == 32
    status, code, _ = error_of(user.generate_data_key, KeyId=key["Arn"], KeySpec="AES_256",
                               EncryptionContext={"app": "payroll"})
    assert (status, code) == (400, "AccessDeniedException")
    # The retiring principal may retire it by key and grant id.
    user.retire_grant(KeyId=key["Arn"], GrantId=grant["GrantId"])
    assert kms.list_grants(KeyId=key["Arn"])["Grants"] == []
    status, code, _ = error_of(kms.revoke_grant, KeyId=key["Arn"], GrantId=grant["GrantId"])
    assert code == "NotFoundException"


def test_tags(kms):
    key = kms.create_key(Tags=[{"TagKey": "team", "TagValue": "storage"}])["KeyMetadata"]
    kms.tag_resource(KeyId=key["KeyId"], Tags=[{"TagKey": "env", "TagValue": "ci"},
                                               {"TagKey": "team", "TagValue": "platform"}])
    tags = {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=key["KeyId"])["Tags"]}
    assert tags == {"team": "platform", "env": "ci"}
    kms.untag_resource(KeyId=key["Arn"], TagKeys=["team"])
    assert kms.list_resource_tags(KeyId=key["Arn"])["Tags"] == [{"TagKey": "env", "TagValue": "ci"}]
    status, code, _ = error_of(kms.tag_resource, KeyId=key["KeyId"],
                               Tags=[{"TagKey": "aws:reserved", "TagValue": "x"}])
    assert (status, code) == (400, "TagException")


def test_re_encrypt_moves_ciphertext_between_keys(kms):
    source = kms.create_key()["KeyMetadata"]
    target = kms.create_key()["KeyMetadata"]
    alias = f"alias/re-{uuid.uuid4().hex[:8]}"
    kms.create_alias(AliasName=alias, TargetKeyId=target["KeyId"])
    blob = kms.encrypt(KeyId=source["KeyId"], Plaintext=b"moving",
                       EncryptionContext={"a": "1"})["CiphertextBlob"]
    status, code, _ = error_of(kms.re_encrypt, CiphertextBlob=blob, DestinationKeyId=alias)
    assert (status, code) == (400, "InvalidCiphertextException")  # source context missing
    moved = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"a": "1"},
                           DestinationKeyId=alias, DestinationEncryptionContext={"b": "2"})
    assert moved["SourceKeyId"] == source["Arn"] and moved["KeyId"] == target["Arn"]
    plain = kms.decrypt(CiphertextBlob=moved["CiphertextBlob"], EncryptionContext={"b": "2"})
    assert plain["Plaintext"] == b"moving" and plain["KeyId"] == target["Arn"]


def test_key_states_in_kms_and_s3(server, kms):
    s3 = client(server, "s3")
    bucket = f"kst-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    key = kms.create_key()["KeyMetadata"]
    s3.put_object(Bucket=bucket, Key="o", Body=b"state", ServerSideEncryption="aws:kms", SSEKMSKeyId=key["Arn"])
    blob = kms.encrypt(KeyId=key["Arn"], Plaintext=b"x")["CiphertextBlob"]

    kms.disable_key(KeyId=key["KeyId"])
    status, code, message = error_of(kms.decrypt, CiphertextBlob=blob)
    assert (status, code) == (400, "DisabledException") and message == f"{key['Arn']} is disabled."
    status, code, _ = error_of(s3.get_object, Bucket=bucket, Key="o")
    assert (status, code) == (400, "KMS.DisabledException")

    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion" and "DeletionDate" in meta
    status, code, message = error_of(kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x")
    assert (status, code) == (400, "KMSInvalidStateException") and message == f"{key['Arn']} is pending deletion."
    status, code, _ = error_of(s3.get_object, Bucket=bucket, Key="o")
    assert (status, code) == (400, "KMS.KMSInvalidStateException")
    status, code, _ = error_of(kms.enable_key, KeyId=key["KeyId"])
    assert code == "KMSInvalidStateException"

    # Cancelling leaves the key disabled; enabling it brings the object back.
    kms.cancel_key_deletion(KeyId=key["KeyId"])
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"
    kms.enable_key(KeyId=key["KeyId"])
    assert s3.get_object(Bucket=bucket, Key="o")["Body"].read() == b"state"
    s3.delete_object(Bucket=bucket, Key="o")
    s3.delete_bucket(Bucket=bucket)
