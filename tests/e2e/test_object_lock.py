"""S3 Object Lock end to end: buckets created with Object Lock, default retention,
GOVERNANCE and COMPLIANCE retention, legal holds, the bypass permission, the
permissions and condition key Object Lock adds, and the aws CLI. Written from
AWS's documentation; every error is asserted by code and HTTP status."""

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from conftest import client


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def new_user(server, iam, doc=None):
    name = f"u-{uuid.uuid4().hex[:10]}"
    iam.create_user(UserName=name)
    if doc:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, client(server, "s3", key=key["AccessKeyId"], secret=key["SecretAccessKey"])


def error_of(fn, **kwargs):
    with pytest.raises(ClientError) as e:
        fn(**kwargs)
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Code"), r["Error"].get("Message", "")


def ahead(days=0, seconds=0):
    """A timezone-aware UTC instant in the future, whole seconds so it round-trips exactly."""
    return (datetime.now(timezone.utc) + timedelta(days=days, seconds=seconds)).replace(microsecond=0)


def key():
    return f"k-{uuid.uuid4().hex[:10]}"


def put_locked(s3, bucket, name, mode="GOVERNANCE", until=None, body=b"locked"):
    """Puts a version with a retention period; returns its version id."""
    return s3.put_object(Bucket=bucket, Key=name, Body=body, ObjectLockMode=mode,
                         ObjectLockRetainUntilDate=until or ahead(days=1))["VersionId"]


def version_ids(s3, bucket, name):
    out = s3.list_object_versions(Bucket=bucket, Prefix=name)
    return {v["VersionId"] for v in out.get("Versions", []) if v["Key"] == name}


def empty_and_delete(s3, name):
    """Best effort: legal holds off, every version deleted bypassing GOVERNANCE, bucket
    deleted. COMPLIANCE versions still inside their retention period stay (and so does
    the bucket)."""
    try:
        versions, markers = [], []
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
            versions += page.get("Versions", [])
            markers += page.get("DeleteMarkers", [])
        for v in versions:
            try:
                s3.put_object_legal_hold(Bucket=name, Key=v["Key"], VersionId=v["VersionId"],
                                         LegalHold={"Status": "OFF"})
            except ClientError:
                pass
        for v in versions + markers:
            try:
                s3.delete_object(Bucket=name, Key=v["Key"], VersionId=v["VersionId"],
                                 BypassGovernanceRetention=True)
            except ClientError:
                pass
        s3.delete_bucket(Bucket=name)
    except Exception:
        pass


@pytest.fixture(scope="module")
def new_lock_bucket(s3):
    """A factory of fresh Object Lock buckets, for tests that change the bucket's
    configuration or leave COMPLIANCE versions behind; all cleaned up at the end."""
    made = []

    def make():
        name = f"e2e-lock-{uuid.uuid4().hex[:10]}"
        s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
        made.append(name)
        return name

    yield make
    for name in made:
        empty_and_delete(s3, name)


@pytest.fixture(scope="module")
def lock_bucket(new_lock_bucket):
    """One shared Object Lock bucket without a default retention rule; tests use
    their own keys."""
    return new_lock_bucket()


def test_create_bucket_with_object_lock_enables_versioning(s3, lock_bucket, bucket):
    """S3 User Guide, "Configuring S3 Object Lock"
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html):
    enabling Object Lock when creating a bucket enables S3 Versioning too.
    GetObjectLockConfiguration
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectLockConfiguration.html)
    returns ObjectLockEnabled; on a bucket without Object Lock it is
    ObjectLockConfigurationNotFoundError, 404 (Error responses,
    https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html)."""
    assert s3.get_bucket_versioning(Bucket=lock_bucket)["Status"] == "Enabled"
    conf = s3.get_object_lock_configuration(Bucket=lock_bucket)["ObjectLockConfiguration"]
    assert conf["ObjectLockEnabled"] == "Enabled"
    assert "Rule" not in conf  # no default retention until one is put
    status, code, _ = error_of(s3.get_object_lock_configuration, Bucket=bucket)
    assert (status, code) == (404, "ObjectLockConfigurationNotFoundError")


def test_default_retention_applies_to_new_objects(s3, new_lock_bucket):
    """PutObjectLockConfiguration
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectLockConfiguration.html):
    "The rule specified in the Object Lock configuration will be applied by default to
    every new object placed in the specified bucket." DefaultRetention needs a mode and
    Days or Years."""
    b = new_lock_bucket()
    rule = {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}
    s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": rule})
    conf = s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"]
    assert conf == {"ObjectLockEnabled": "Enabled", "Rule": rule}
    name = key()
    before = datetime.now(timezone.utc)
    s3.put_object(Bucket=b, Key=name, Body=b"defaulted")
    head = s3.head_object(Bucket=b, Key=name)
    assert head["ObjectLockMode"] == "GOVERNANCE"
    expected = before + timedelta(days=1)
    assert abs((head["ObjectLockRetainUntilDate"] - expected).total_seconds()) < 300


def test_governance_retention_on_put_protects_the_version(s3, lock_bucket):
    """PutObject (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html)
    x-amz-object-lock-mode / x-amz-object-lock-retain-until-date; HeadObject, GetObject
    and GetObjectRetention
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectRetention.html) return
    them. S3 User Guide, "How S3 Object Lock works"
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-overview.html): a
    locked version can't be deleted, but a delete without a version id only adds a
    delete marker and the locked version stays."""
    name, until = key(), ahead(days=1)
    vid = put_locked(s3, lock_bucket, name, until=until)
    head = s3.head_object(Bucket=lock_bucket, Key=name)
    assert (head["ObjectLockMode"], head["ObjectLockRetainUntilDate"]) == ("GOVERNANCE", until)
    got = s3.get_object(Bucket=lock_bucket, Key=name)
    assert (got["ObjectLockMode"], got["ObjectLockRetainUntilDate"]) == ("GOVERNANCE", until)
    assert got["Body"].read() == b"locked"
    retention = s3.get_object_retention(Bucket=lock_bucket, Key=name, VersionId=vid)["Retention"]
    assert retention == {"Mode": "GOVERNANCE", "RetainUntilDate": until}
    status, code, _ = error_of(s3.delete_object, Bucket=lock_bucket, Key=name, VersionId=vid)
    assert (status, code) == (403, "AccessDenied")
    marker = s3.delete_object(Bucket=lock_bucket, Key=name)
    assert marker["DeleteMarker"] is True and marker["VersionId"] != vid
    assert vid in version_ids(s3, lock_bucket, name)


def test_governance_bypass_needs_the_permission(server, s3, iam, lock_bucket):
    """S3 User Guide, "Managing Object Lock", Bypassing governance mode
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html):
    deleting a GOVERNANCE-locked version needs the s3:BypassGovernanceRetention
    permission and the x-amz-bypass-governance-retention:true header
    (DeleteObject, https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html:
    "To use this header, you must have the s3:BypassGovernanceRetention permission")."""
    objects = f"arn:aws:s3:::{lock_bucket}/*"
    name, user = new_user(server, iam, policy({"Effect": "Allow", "Action": "s3:DeleteObjectVersion",
                                               "Resource": objects}))
    a, b = key(), key()
    va = put_locked(s3, lock_bucket, a)
    vb = put_locked(s3, lock_bucket, b)
    status, code, _ = error_of(user.delete_object, Bucket=lock_bucket, Key=a, VersionId=va,
                               BypassGovernanceRetention=True)
    assert (status, code) == (403, "AccessDenied")
    assert va in version_ids(s3, lock_bucket, a)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(
        {"Effect": "Allow", "Action": ["s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"],
         "Resource": objects}))
    user.delete_object(Bucket=lock_bucket, Key=a, VersionId=va, BypassGovernanceRetention=True)
    assert va not in version_ids(s3, lock_bucket, a)
    s3.delete_object(Bucket=lock_bucket, Key=b, VersionId=vb, BypassGovernanceRetention=True)
    assert vb not in version_ids(s3, lock_bucket, b)


def test_compliance_mode_cannot_be_bypassed_or_shortened(s3, new_lock_bucket):
    """S3 User Guide, "How S3 Object Lock works", Retention modes
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-overview.html#object-lock-retention-modes):
    in compliance mode a protected version can't be overwritten or deleted by any user,
    including the root user, and its retention period can't be shortened; it can be
    extended. (A bucket of its own, left to expire: the version is locked ~90 s.)"""
    b, name = new_lock_bucket(), key()
    vid = put_locked(s3, b, name, mode="COMPLIANCE", until=ahead(seconds=60))
    assert s3.head_object(Bucket=b, Key=name, VersionId=vid)["ObjectLockMode"] == "COMPLIANCE"
    status, code, _ = error_of(s3.delete_object, Bucket=b, Key=name, VersionId=vid, BypassGovernanceRetention=True)
    assert (status, code) == (403, "AccessDenied")
    shorter = {"Mode": "COMPLIANCE", "RetainUntilDate": ahead(seconds=30)}
    status, code, _ = error_of(s3.put_object_retention, Bucket=b, Key=name, VersionId=vid, Retention=shorter)
    assert (status, code) == (403, "AccessDenied")
    status, code, _ = error_of(s3.put_object_retention, Bucket=b, Key=name, VersionId=vid, Retention=shorter,
                               BypassGovernanceRetention=True)
    assert (status, code) == (403, "AccessDenied")
    longer = {"Mode": "COMPLIANCE", "RetainUntilDate": ahead(seconds=90)}
    s3.put_object_retention(Bucket=b, Key=name, VersionId=vid, Retention=longer)
    assert s3.get_object_retention(Bucket=b, Key=name, VersionId=vid)["Retention"] == longer
    assert vid in version_ids(s3, b, name)


def test_shortening_governance_retention_needs_bypass(s3, lock_bucket):
    """PutObjectRetention
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectRetention.html):
    "Bypassing a Governance Retention configuration requires the
    s3:BypassGovernanceRetention permission"; S3 User Guide, "Managing Object Lock"
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html):
    shortening a governance-mode period needs x-amz-bypass-governance-retention:true."""
    name = key()
    vid = put_locked(s3, lock_bucket, name, until=ahead(days=2))
    shorter = {"Mode": "GOVERNANCE", "RetainUntilDate": ahead(days=1)}
    status, code, _ = error_of(s3.put_object_retention, Bucket=lock_bucket, Key=name, VersionId=vid,
                               Retention=shorter)
    assert (status, code) == (403, "AccessDenied")
    s3.put_object_retention(Bucket=lock_bucket, Key=name, VersionId=vid, Retention=shorter,
                            BypassGovernanceRetention=True)
    assert s3.get_object_retention(Bucket=lock_bucket, Key=name, VersionId=vid)["Retention"] == shorter


def test_legal_hold_blocks_delete_until_removed(s3, lock_bucket):
    """S3 User Guide, "How S3 Object Lock works", Legal holds
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-overview.html#object-lock-legal-holds):
    a legal hold prevents a version from being deleted, has no retention period, is
    independent of retention modes (so no bypass applies) and stays until removed.
    GetObjectLegalHold / PutObjectLegalHold
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectLegalHold.html)."""
    name = key()
    vid = s3.put_object(Bucket=lock_bucket, Key=name, Body=b"held", ObjectLockLegalHoldStatus="ON")["VersionId"]
    assert s3.get_object_legal_hold(Bucket=lock_bucket, Key=name, VersionId=vid)["LegalHold"] == {"Status": "ON"}
    assert s3.head_object(Bucket=lock_bucket, Key=name)["ObjectLockLegalHoldStatus"] == "ON"
    for bypass in ({}, {"BypassGovernanceRetention": True}):
        status, code, _ = error_of(s3.delete_object, Bucket=lock_bucket, Key=name, VersionId=vid, **bypass)
        assert (status, code) == (403, "AccessDenied")
    s3.put_object_legal_hold(Bucket=lock_bucket, Key=name, VersionId=vid, LegalHold={"Status": "OFF"})
    assert s3.get_object_legal_hold(Bucket=lock_bucket, Key=name, VersionId=vid)["LegalHold"] == {"Status": "OFF"}
    s3.delete_object(Bucket=lock_bucket, Key=name, VersionId=vid)
    assert vid not in version_ids(s3, lock_bucket, name)


def test_object_lock_on_a_bucket_without_it_is_invalid_request(s3, bucket):
    """PutObject (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html)
    and PutObjectRetention
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectRetention.html) with
    Object Lock settings need a bucket with Object Lock; S3 answers 400 InvalidRequest
    (Error responses, https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html)."""
    status, code, _ = error_of(s3.put_object, Bucket=bucket, Key="l", Body=b"x", ObjectLockMode="GOVERNANCE",
                               ObjectLockRetainUntilDate=ahead(days=1))
    assert (status, code) == (400, "InvalidRequest")
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    status, code, _ = error_of(s3.put_object_retention, Bucket=bucket, Key="plain",
                               Retention={"Mode": "GOVERNANCE", "RetainUntilDate": ahead(days=1)})
    assert (status, code) == (400, "InvalidRequest")


def test_retention_headers_are_validated(s3, lock_bucket):
    """PutObject (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html):
    the mode and the retain-until date go together, and the date must be in the
    future; otherwise 400 InvalidArgument (Error responses,
    https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html)."""
    name = key()
    status, code, _ = error_of(s3.put_object, Bucket=lock_bucket, Key=name, Body=b"x", ObjectLockMode="GOVERNANCE")
    assert (status, code) == (400, "InvalidArgument")
    past = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)
    status, code, _ = error_of(s3.put_object, Bucket=lock_bucket, Key=name, Body=b"x", ObjectLockMode="GOVERNANCE",
                               ObjectLockRetainUntilDate=past)
    assert (status, code) == (400, "InvalidArgument")
    assert not version_ids(s3, lock_bucket, name)  # nothing stored


def test_get_retention_of_an_unlocked_object(s3, lock_bucket):
    """GetObjectRetention
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectRetention.html) of a
    version that has no retention: 404 NoSuchObjectLockConfiguration (Error responses,
    https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html)."""
    name = key()
    s3.put_object(Bucket=lock_bucket, Key=name, Body=b"free")
    status, code, _ = error_of(s3.get_object_retention, Bucket=lock_bucket, Key=name)
    assert (status, code) == (404, "NoSuchObjectLockConfiguration")
    assert "ObjectLockMode" not in s3.head_object(Bucket=lock_bucket, Key=name)


def test_versioning_cannot_be_suspended(s3, lock_bucket):
    """S3 User Guide, "Configuring S3 Object Lock"
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html):
    "After you enable Object Lock on a bucket, you can't disable Object Lock or suspend
    versioning for that bucket." PutBucketVersioning answers 409 InvalidBucketState."""
    status, code, _ = error_of(s3.put_bucket_versioning, Bucket=lock_bucket,
                               VersioningConfiguration={"Status": "Suspended"})
    assert (status, code) == (409, "InvalidBucketState")
    assert s3.get_bucket_versioning(Bucket=lock_bucket)["Status"] == "Enabled"


def test_put_with_lock_settings_needs_their_permissions(server, s3, iam, lock_bucket):
    """S3 User Guide, "Locking objects with Object Lock", Required permissions
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html#object-lock-permissions):
    putting an object with a retention period needs s3:PutObjectRetention, with a legal
    hold s3:PutObjectLegalHold, besides s3:PutObject (PutObject,
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html)."""
    objects = f"arn:aws:s3:::{lock_bucket}/*"
    name, user = new_user(server, iam, policy({"Effect": "Allow", "Action": "s3:PutObject", "Resource": objects}))
    retained, held = key(), key()
    lock = dict(ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=ahead(days=1))
    status, code, _ = error_of(user.put_object, Bucket=lock_bucket, Key=retained, Body=b"x", **lock)
    assert (status, code) == (403, "AccessDenied")
    status, code, _ = error_of(user.put_object, Bucket=lock_bucket, Key=held, Body=b"x",
                               ObjectLockLegalHoldStatus="ON")
    assert (status, code) == (403, "AccessDenied")
    assert not version_ids(s3, lock_bucket, retained) and not version_ids(s3, lock_bucket, held)
    user.put_object(Bucket=lock_bucket, Key=key(), Body=b"plain")  # s3:PutObject alone is enough without lock
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:PutObjectRetention"], "Resource": objects}))
    user.put_object(Bucket=lock_bucket, Key=retained, Body=b"x", **lock)
    assert s3.head_object(Bucket=lock_bucket, Key=retained)["ObjectLockMode"] == "GOVERNANCE"
    status, code, _ = error_of(user.put_object, Bucket=lock_bucket, Key=held, Body=b"x",
                               ObjectLockLegalHoldStatus="ON")
    assert (status, code) == (403, "AccessDenied")
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:PutObjectLegalHold"], "Resource": objects}))
    user.put_object(Bucket=lock_bucket, Key=held, Body=b"x", ObjectLockLegalHoldStatus="ON")
    assert s3.get_object_legal_hold(Bucket=lock_bucket, Key=held)["LegalHold"] == {"Status": "ON"}


def test_remaining_retention_days_condition_key(server, s3, iam, lock_bucket):
    """S3 User Guide, "Locking objects with Object Lock", Retention period
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html): the
    s3:object-lock-remaining-retention-days condition key limits the allowable retention
    period; it applies to s3:PutObjectRetention (Service Authorization Reference,
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html)."""
    objects = f"arn:aws:s3:::{lock_bucket}/*"
    _, user = new_user(server, iam, policy(
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:PutObjectRetention"], "Resource": objects},
        {"Effect": "Deny", "Action": "s3:PutObjectRetention", "Resource": objects,
         "Condition": {"NumericGreaterThan": {"s3:object-lock-remaining-retention-days": "10"}}}))
    name = key()
    vid = s3.put_object(Bucket=lock_bucket, Key=name, Body=b"x")["VersionId"]
    five = {"Mode": "GOVERNANCE", "RetainUntilDate": ahead(days=5)}
    user.put_object_retention(Bucket=lock_bucket, Key=name, VersionId=vid, Retention=five)
    thirty = {"Mode": "GOVERNANCE", "RetainUntilDate": ahead(days=30)}
    status, code, _ = error_of(user.put_object_retention, Bucket=lock_bucket, Key=name, VersionId=vid,
                               Retention=thirty)
    assert (status, code) == (403, "AccessDenied")
    assert s3.get_object_retention(Bucket=lock_bucket, Key=name, VersionId=vid)["Retention"] == five


def test_delete_objects_reports_locked_versions(s3, lock_bucket):
    """DeleteObjects (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html):
    each key is reported in Deleted or in Errors; a locked version (S3 User Guide,
    "How S3 Object Lock works",
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-overview.html) is an
    AccessDenied error while the others are deleted."""
    locked, free = key(), key()
    vl = put_locked(s3, lock_bucket, locked)
    vf = s3.put_object(Bucket=lock_bucket, Key=free, Body=b"free")["VersionId"]
    out = s3.delete_objects(Bucket=lock_bucket, Delete={"Objects": [
        {"Key": locked, "VersionId": vl}, {"Key": free, "VersionId": vf}]})
    assert [(d["Key"], d["VersionId"]) for d in out.get("Deleted", [])] == [(free, vf)]
    errors = out.get("Errors", [])
    assert [(e["Key"], e["VersionId"], e["Code"]) for e in errors] == [(locked, vl, "AccessDenied")]
    assert vl in version_ids(s3, lock_bucket, locked)
    assert vf not in version_ids(s3, lock_bucket, free)


def test_cli_put_and_get_object_lock_configuration(aws, new_lock_bucket):
    """AWS CLI, s3api put-object-lock-configuration
    (https://docs.aws.amazon.com/cli/latest/reference/s3api/put-object-lock-configuration.html)
    and get-object-lock-configuration
    (https://docs.aws.amazon.com/cli/latest/reference/s3api/get-object-lock-configuration.html)."""
    b = new_lock_bucket()
    conf = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 1}}}
    aws("s3api", "put-object-lock-configuration", "--bucket", b, "--object-lock-configuration", json.dumps(conf))
    got = json.loads(aws("s3api", "get-object-lock-configuration", "--bucket", b).stdout)
    assert got["ObjectLockConfiguration"] == conf
    conf["Rule"]["DefaultRetention"] = {"Mode": "GOVERNANCE", "Days": 7}
    aws("s3api", "put-object-lock-configuration", "--bucket", b, "--object-lock-configuration", json.dumps(conf))
    got = json.loads(aws("s3api", "get-object-lock-configuration", "--bucket", b).stdout)
    assert got["ObjectLockConfiguration"] == conf


def test_multipart_and_copy_keep_the_requested_lock(s3, lock_bucket):
    """CreateMultipartUpload and CopyObject take the same x-amz-object-lock-* headers as
    PutObject (API Reference, CreateMultipartUpload: ObjectLockMode,
    ObjectLockRetainUntilDate, ObjectLockLegalHoldStatus); the lock applies to the
    completed or copied version, and the headers are not echoed as stored metadata."""
    until = ahead(days=2)
    name = key()
    up = s3.create_multipart_upload(Bucket=lock_bucket, Key=name, ObjectLockMode="GOVERNANCE",
                                    ObjectLockRetainUntilDate=until, ObjectLockLegalHoldStatus="ON")
    part = s3.upload_part(Bucket=lock_bucket, Key=name, UploadId=up["UploadId"], PartNumber=1, Body=b"p" * 100)
    done = s3.complete_multipart_upload(Bucket=lock_bucket, Key=name, UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    head = s3.head_object(Bucket=lock_bucket, Key=name, VersionId=done["VersionId"])
    assert head["ObjectLockMode"] == "GOVERNANCE" and head["ObjectLockRetainUntilDate"] == until
    assert head["ObjectLockLegalHoldStatus"] == "ON"
    status, code, message = error_of(s3.delete_object, Bucket=lock_bucket, Key=name,
                                     VersionId=done["VersionId"], BypassGovernanceRetention=True)
    assert (status, code) == (403, "AccessDenied") and "object lock" in message
    s3.put_object_legal_hold(Bucket=lock_bucket, Key=name, VersionId=done["VersionId"], LegalHold={"Status": "OFF"})

    copy_name = key()
    copied = s3.copy_object(Bucket=lock_bucket, Key=copy_name, CopySource={"Bucket": lock_bucket, "Key": name},
                            ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=ahead(seconds=5))
    retention = s3.get_object_retention(Bucket=lock_bucket, Key=copy_name, VersionId=copied["VersionId"])
    assert retention["Retention"]["Mode"] == "COMPLIANCE"
    # The source's lock is not copied: a copy without lock headers has none.
    plain_name = key()
    plain = s3.copy_object(Bucket=lock_bucket, Key=plain_name, CopySource={"Bucket": lock_bucket, "Key": name})
    status, code, _ = error_of(s3.get_object_retention, Bucket=lock_bucket, Key=plain_name,
                               VersionId=plain["VersionId"])
    assert (status, code) == (404, "NoSuchObjectLockConfiguration")
    assert "x-amz-object-lock-mode" not in s3.head_object(Bucket=lock_bucket, Key=plain_name)[
        "ResponseMetadata"]["HTTPHeaders"]


def test_explain_names_the_object_lock_rule(server, s3, lock_bucket):
    """A deletion refused by Object Lock is recorded like any other denial, and
    `strongbox explain` names the rule (compliance, governance or legal hold) and what
    would allow it."""
    import subprocess
    from server import binary
    name = key()
    version = s3.put_object(Bucket=lock_bucket, Key=name, Body=b"x", ObjectLockLegalHoldStatus="ON")["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=lock_bucket, Key=name, VersionId=version)
    request_id = e.value.response["ResponseMetadata"]["RequestId"]
    out = subprocess.run([binary(), "explain", request_id, "--data-dir", server.data_dir],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "object_lock_legal_hold" in out.stdout and "put-object-legal-hold" in out.stdout
    s3.put_object_legal_hold(Bucket=lock_bucket, Key=name, VersionId=version, LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=lock_bucket, Key=name, VersionId=version)


def test_invalid_lock_headers_name_the_argument(s3, lock_bucket):
    """S3 answers an invalid Object Lock header with InvalidArgument and names it:
    <ArgumentName> and <ArgumentValue> (as for "Unknown wormMode directive." and "The
    retain until date must be in the future!")."""
    from datetime import datetime, timezone
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=lock_bucket, Key=key(), Body=b"x", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=datetime(2001, 1, 1, tzinfo=timezone.utc))
    err = e.value.response["Error"]
    assert err["Code"] == "InvalidArgument" and err["Message"] == "The retain until date must be in the future!"
    assert err["ArgumentName"] == "x-amz-object-lock-retain-until-date"
    assert err["ArgumentValue"].startswith("2001-01-01")
