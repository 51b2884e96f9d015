"""Server-side encryption end to end (issue 6): SSE-S3 by default, SSE-KMS with
keys made by `aws kms create-key` and authorized as the caller, SSE-C, bucket
default encryption, multipart and copies, and no plaintext on disk."""

import base64
import hashlib
import json
import os
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import client

MIB = 1024 * 1024


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture(scope="module")
def account(server):
    return client(server, "sts").get_caller_identity()["Account"]


def new_user(server, iam, doc=None):
    name = f"u-{uuid.uuid4().hex[:10]}"
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    if doc:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, arn, client(server, "s3", key=key["AccessKeyId"], secret=key["SecretAccessKey"])


def error_of(fn, **kwargs):
    with pytest.raises(ClientError) as e:
        fn(**kwargs)
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Code"), r["Error"].get("Message", "")


def sse_c(key_bytes):
    return {
        "SSECustomerAlgorithm": "AES256",
        "SSECustomerKey": base64.b64encode(key_bytes).decode(),
        "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(key_bytes).digest()).decode(),
    }


def test_sse_s3_is_the_default(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="a", Body=b"hello default encryption")
    assert put["ServerSideEncryption"] == "AES256"
    assert put["ETag"] == '"%s"' % hashlib.md5(b"hello default encryption").hexdigest()
    head = s3.head_object(Bucket=bucket, Key="a")
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentLength"] == 24
    got = s3.get_object(Bucket=bucket, Key="a", Range="bytes=6-12")
    assert got["Body"].read() == b"default"
    assert got["ServerSideEncryption"] == "AES256"


def test_sse_kms_with_a_key_from_the_cli(s3, aws, bucket, tmp_path):
    key = json.loads(aws("kms", "create-key", "--description", "e2e").stdout)["KeyMetadata"]
    f = tmp_path / "f.txt"
    f.write_bytes(b"kms protected")
    aws("s3", "cp", f, f"s3://{bucket}/k.txt", "--sse", "aws:kms", "--sse-kms-key-id", key["KeyId"])
    head = s3.head_object(Bucket=bucket, Key="k.txt")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == key["Arn"]
    assert s3.get_object(Bucket=bucket, Key="k.txt")["Body"].read() == b"kms protected"
    # Without a key id, the account's AWS managed key aws/s3 is used.
    put = s3.put_object(Bucket=bucket, Key="m", Body=b"x", ServerSideEncryption="aws:kms")
    aliases = json.loads(aws("kms", "list-aliases").stdout)["Aliases"]
    managed = [a for a in aliases if a["AliasName"] == "alias/aws/s3"]
    assert managed and put["SSEKMSKeyId"].endswith(managed[0]["TargetKeyId"])


def test_kms_denial_names_the_action_then_succeeds_once_granted(server, s3, iam, kms, bucket):
    key = kms.create_key()["KeyMetadata"]  # default key policy: delegates to the account's IAM
    name, arn, user = new_user(server, iam, policy(
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": f"arn:aws:s3:::{bucket}/*"}))
    status, code, message = error_of(user.put_object, Bucket=bucket, Key="secret", Body=b"x",
                                     ServerSideEncryption="aws:kms", SSEKMSKeyId=key["Arn"])
    assert (status, code) == (403, "AccessDenied")
    assert f"User: {arn} is not authorized to perform: kms:GenerateDataKey on resource: {key['Arn']}" in message
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="secret")  # nothing stored
    iam.put_user_policy(UserName=name, PolicyName="kms", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "kms:GenerateDataKey", "Resource": key["Arn"]}))
    put = user.put_object(Bucket=bucket, Key="secret", Body=b"granted", ServerSideEncryption="aws:kms",
                          SSEKMSKeyId=key["Arn"])
    assert put["SSEKMSKeyId"] == key["Arn"]
    status, code, message = error_of(user.get_object, Bucket=bucket, Key="secret")
    assert (status, code) == (403, "AccessDenied") and "kms:Decrypt" in message
    iam.put_user_policy(UserName=name, PolicyName="kms", PolicyDocument=policy(
        {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": key["Arn"]}))
    assert user.get_object(Bucket=bucket, Key="secret")["Body"].read() == b"granted"


def test_key_policy_without_account_delegation(server, s3, iam, kms, account, bucket):
    s3_allow = {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": f"arn:aws:s3:::{bucket}/*"}
    _, named_arn, named = new_user(server, iam, policy(s3_allow))
    _, _, other = new_user(server, iam, policy(s3_allow, {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}))
    key_policy = policy(
        {"Sid": "admin", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
         "Action": ["kms:Describe*", "kms:Put*", "kms:Get*", "kms:List*", "kms:ScheduleKeyDeletion",
                    "kms:DisableKey", "kms:EnableKey"], "Resource": "*"},
        {"Sid": "user", "Effect": "Allow", "Principal": {"AWS": named_arn},
         "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*"})
    key = kms.create_key(Policy=key_policy, BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]
    # The key policy alone lets the named user in (no IAM kms permission needed).
    named.put_object(Bucket=bucket, Key="n", Body=b"named", ServerSideEncryption="aws:kms", SSEKMSKeyId=key["Arn"])
    assert named.get_object(Bucket=bucket, Key="n")["Body"].read() == b"named"
    # Without delegation to the account, IAM permissions are not enough.
    status, code, message = error_of(other.put_object, Bucket=bucket, Key="o", Body=b"x",
                                     ServerSideEncryption="aws:kms", SSEKMSKeyId=key["Arn"])
    assert (status, code) == (403, "AccessDenied") and "kms:GenerateDataKey" in message
    status, code, _ = error_of(other.get_object, Bucket=bucket, Key="n")
    assert (status, code) == (403, "AccessDenied")


def test_aws_managed_key_serves_only_its_own_account(server, s3, member, bucket):
    """S3 User Guide, "Troubleshoot Access Denied (403 Forbidden) errors in Amazon S3":
    with SSE-KMS and the AWS managed key, "the requester must be from the same account
    that owns the aws/s3 KMS key". The key policy of aws/s3 admits only its own account
    (kms:CallerAccount) through S3 (kms:ViaService), and it cannot be changed, so no
    bucket policy or IAM policy lets another account read such an object."""
    s3.put_object(Bucket=bucket, Key="managed.txt", Body=b"managed", ServerSideEncryption="aws:kms")
    s3.put_object(Bucket=bucket, Key="sse-s3.txt", Body=b"sse-s3")
    head = s3.head_object(Bucket=bucket, Key="managed.txt")
    managed_key = head["SSEKMSKeyId"]
    assert head["ServerSideEncryption"] == "aws:kms"
    kms = client(server, "kms")
    assert kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["Arn"] == managed_key
    assert kms.describe_key(KeyId=managed_key)["KeyMetadata"]["KeyManager"] == "AWS"
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Sid": "MemberReads", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{member.account}:root"},
         "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}))
    reader = client(server, "s3", **member.kw)  # AdministratorAccess: s3:* and kms:* on its side
    assert reader.get_object(Bucket=bucket, Key="sse-s3.txt")["Body"].read() == b"sse-s3"
    status, code, _ = error_of(reader.get_object, Bucket=bucket, Key="managed.txt")
    assert (status, code) == (403, "AccessDenied")
    # The owner's own reads still work: only the other account is refused.
    assert s3.get_object(Bucket=bucket, Key="managed.txt")["Body"].read() == b"managed"
    # A key policy cannot be put on an AWS managed key, not even by its account.
    with pytest.raises(ClientError) as e:
        kms.put_key_policy(KeyId=managed_key, PolicyName="default", Policy=policy(
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}))
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"


def test_disabled_key_is_refused_and_nothing_is_stored(s3, kms, bucket):
    key = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=key["KeyId"])
    status, code, _ = error_of(s3.put_object, Bucket=bucket, Key="d", Body=b"x",
                               ServerSideEncryption="aws:kms", SSEKMSKeyId=key["KeyId"])
    assert (status, code) == (400, "KMS.DisabledException")
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="d")


def test_bucket_default_kms_encryption(s3, kms, bucket):
    key = kms.create_key()["KeyMetadata"]
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["KeyId"]},
         "BucketKeyEnabled": True}]})
    put = s3.put_object(Bucket=bucket, Key="b", Body=b"bucket default")
    assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"] == key["Arn"]
    assert put.get("BucketKeyEnabled") is True
    # A request header still wins over the default.
    assert s3.put_object(Bucket=bucket, Key="c", Body=b"x", ServerSideEncryption="AES256")["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="b")["Body"].read() == b"bucket default"


def multipart(s3, bucket, key, parts, **extra):
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, **extra)
    part_extra = {k: v for k, v in extra.items() if k.startswith("SSECustomer")}
    etags = []
    for n, data in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up["UploadId"], PartNumber=n, Body=data, **part_extra)
        etags.append({"PartNumber": n, "ETag": r["ETag"]})
    done = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": etags})
    return up, done


def ranged_reads(s3, bucket, key, data, **extra):
    size = len(data)
    for start, end in [(0, size - 1), (0, 0), (65535, 65537), (5 * MIB - 3, 5 * MIB + 3),
                       (10 * MIB - 1, size - 1), (size - 1, size - 1), (123457, 7 * MIB)]:
        got = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end}", **extra)["Body"].read()
        assert got == data[start:end + 1], (start, end)
    got = s3.get_object(Bucket=bucket, Key=key, PartNumber=2, **extra)["Body"].read()
    assert got == data[5 * MIB:10 * MIB]


def test_ranged_gets_of_encrypted_multipart_objects(s3, kms, bucket):
    data = os.urandom(10 * MIB + 12345)
    parts = [data[:5 * MIB], data[5 * MIB:10 * MIB], data[10 * MIB:]]
    key = kms.create_key()["KeyMetadata"]
    up, done = multipart(s3, bucket, "mp-kms", parts, ServerSideEncryption="aws:kms", SSEKMSKeyId=key["KeyId"])
    assert up["ServerSideEncryption"] == "aws:kms" and up["SSEKMSKeyId"] == key["Arn"]
    assert done["ServerSideEncryption"] == "aws:kms"
    assert done["ETag"].endswith('-3"')
    ranged_reads(s3, bucket, "mp-kms", data)
    multipart(s3, bucket, "mp-s3", parts)
    ranged_reads(s3, bucket, "mp-s3", data)
    customer = sse_c(os.urandom(32))
    up, done = multipart(s3, bucket, "mp-c", parts, **customer)
    assert up["SSECustomerAlgorithm"] == "AES256"
    ranged_reads(s3, bucket, "mp-c", data, **customer)


def test_sse_c_round_trip(s3, bucket):
    customer = sse_c(os.urandom(32))
    put = s3.put_object(Bucket=bucket, Key="c", Body=b"customer keyed", **customer)
    assert put["SSECustomerKeyMD5"] == customer["SSECustomerKeyMD5"]
    assert "ServerSideEncryption" not in put
    got = s3.get_object(Bucket=bucket, Key="c", **customer)
    assert got["Body"].read() == b"customer keyed"
    assert got["SSECustomerAlgorithm"] == "AES256"
    status, code, message = error_of(s3.get_object, Bucket=bucket, Key="c")
    assert (status, code) == (400, "InvalidRequest")
    assert "Server Side Encryption" in message
    status, _, _ = error_of(s3.get_object, Bucket=bucket, Key="c", **sse_c(os.urandom(32)))
    assert status == 403
    bad = dict(customer, SSECustomerKeyMD5=base64.b64encode(b"0" * 16).decode())
    status, code, _ = error_of(s3.put_object, Bucket=bucket, Key="c2", Body=b"x", **bad)
    assert (status, code) == (400, "InvalidArgument")
    assert s3.head_object(Bucket=bucket, Key="c", **customer)["ContentLength"] == 14
    # Copy out of SSE-C (source key headers) into SSE-S3, and into SSE-KMS.
    src = {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": customer["SSECustomerKey"],
           "CopySourceSSECustomerKeyMD5": customer["SSECustomerKeyMD5"]}
    s3.copy_object(Bucket=bucket, Key="plain", CopySource={"Bucket": bucket, "Key": "c"}, **src)
    assert s3.get_object(Bucket=bucket, Key="plain")["Body"].read() == b"customer keyed"
    copy = s3.copy_object(Bucket=bucket, Key="kms", CopySource={"Bucket": bucket, "Key": "c"},
                          ServerSideEncryption="aws:kms", **src)
    assert copy["ServerSideEncryption"] == "aws:kms"
    assert s3.get_object(Bucket=bucket, Key="kms")["Body"].read() == b"customer keyed"
    status, _, _ = error_of(s3.copy_object, Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "c"})
    assert status == 400


def test_upload_part_copy_re_encrypts(s3, kms, bucket):
    data = os.urandom(6 * MIB)
    s3.put_object(Bucket=bucket, Key="src", Body=data)
    key = kms.create_key()["KeyMetadata"]
    up = s3.create_multipart_upload(Bucket=bucket, Key="dst", ServerSideEncryption="aws:kms", SSEKMSKeyId=key["KeyId"])
    p1 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=up["UploadId"], PartNumber=1,
                             CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange=f"bytes=0-{5 * MIB - 1}")
    p2 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=up["UploadId"], PartNumber=2,
                             CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange=f"bytes={5 * MIB}-{6 * MIB - 1}")
    s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=up["UploadId"], MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]}, {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"]}]})
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert got["ServerSideEncryption"] == "aws:kms" and got["Body"].read() == data


def test_no_plaintext_on_disk(server, s3, kms, bucket):
    marker = b"STRONGBOX-PLAINTEXT-MARKER-" + uuid.uuid4().hex.encode()
    body = marker * 4000  # spans several 64 KiB chunks
    key = kms.create_key()["KeyMetadata"]
    s3.put_object(Bucket=bucket, Key="s3", Body=body)
    s3.put_object(Bucket=bucket, Key="kms", Body=body, ServerSideEncryption="aws:kms", SSEKMSKeyId=key["KeyId"])
    customer_key = os.urandom(32)
    s3.put_object(Bucket=bucket, Key="c", Body=body, **sse_c(customer_key))
    multipart(s3, bucket, "mp", [body * 60, body])
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "s3"})
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == body
    needle = marker[:32]
    checked = 0
    for root, _, files in os.walk(server.data_dir):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                content = f.read()
            assert needle not in content, os.path.join(root, name)
            # SSE-C: neither the key nor its base64 is ever stored.
            assert customer_key not in content and base64.b64encode(customer_key) not in content
            checked += 1
    assert checked > 5


def test_cli_multipart_kms_and_sse_c_round_trips(s3, aws, kms, bucket, tmp_path):
    """The aws CLI uploads and downloads large files in parts and ranges."""
    key = kms.create_key()["KeyMetadata"]
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(17 * MIB + 333))
    aws("s3", "cp", big, f"s3://{bucket}/big", "--sse", "aws:kms", "--sse-kms-key-id", key["Arn"])
    head = s3.head_object(Bucket=bucket, Key="big")
    assert head["ServerSideEncryption"] == "aws:kms" and "-" in head["ETag"]
    back = tmp_path / "back.bin"
    aws("s3", "cp", f"s3://{bucket}/big", back)
    assert back.read_bytes() == big.read_bytes()
    customer = "k" * 32
    aws("s3", "cp", big, f"s3://{bucket}/big-c", "--sse-c", "AES256", "--sse-c-key", customer)
    assert aws("s3", "cp", f"s3://{bucket}/big-c", tmp_path / "nokey", check=False).returncode != 0
    aws("s3", "cp", f"s3://{bucket}/big-c", tmp_path / "c.bin", "--sse-c", "AES256", "--sse-c-key", customer)
    assert (tmp_path / "c.bin").read_bytes() == big.read_bytes()
