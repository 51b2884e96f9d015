"""S3 data plane through boto3 with default settings (issue 2)."""

import hashlib
import os
import urllib.error
import urllib.request

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from conftest import client


def code_of(exc):
    return exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"]


def test_bucket_lifecycle(s3):
    name = "e2e-lifecycle-bucket"
    s3.create_bucket(Bucket=name)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.head_bucket(Bucket=name)
    assert s3.get_bucket_location(Bucket=name).get("LocationConstraint") in (None, "")
    s3.put_object(Bucket=name, Key="x", Body=b"1")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=name)
    assert code_of(e.value) == ("BucketNotEmpty", 409)
    s3.delete_object(Bucket=name, Key="x")
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_invalid_bucket_name(s3):
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="Bad_Name")
    assert code_of(e.value) == ("InvalidBucketName", 400)


def test_put_get_with_metadata_and_headers(s3, bucket):
    body = os.urandom(10_000)
    put = s3.put_object(Bucket=bucket, Key="dir/obj.bin", Body=body, ContentType="application/x-test",
                        Metadata={"color": "blue"}, CacheControl="no-cache", ContentDisposition="inline")
    assert put["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
    got = s3.get_object(Bucket=bucket, Key="dir/obj.bin")
    assert got["Body"].read() == body
    assert got["ContentType"] == "application/x-test"
    assert got["Metadata"] == {"color": "blue"}
    assert got["CacheControl"] == "no-cache"
    assert got["ContentDisposition"] == "inline"
    assert got["ResponseMetadata"]["HTTPHeaders"].get("x-amz-request-id")


def test_ranges_and_conditions(s3, bucket):
    body = bytes(range(256)) * 4
    etag = s3.put_object(Bucket=bucket, Key="r", Body=body)["ETag"]
    part = s3.get_object(Bucket=bucket, Key="r", Range="bytes=10-19")
    assert part["Body"].read() == body[10:20]
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert part["ContentRange"] == f"bytes 10-19/{len(body)}"
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=-5")["Body"].read() == body[-5:]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="r", Range=f"bytes={len(body)}-")
    assert code_of(e.value) == ("InvalidRange", 416)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="r", IfNoneMatch=etag)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="r", IfMatch='"nope"')
    assert code_of(e.value) == ("PreconditionFailed", 412)
    got = s3.get_object(Bucket=bucket, Key="r", ResponseContentType="text/plain")
    assert got["ContentType"] == "text/plain"


def test_missing_key_is_404_for_owner(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="missing")
    assert code_of(e.value) == ("NoSuchKey", 404)


def test_odd_keys_round_trip(s3, bucket):
    keys = ["../escape", "a//b", "sp ace+plus%25", "ünïcødé/日本語", "x" * 1024, "./dot", "q?x=1&y", "tab\tkey"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(listed, key=lambda s: s.encode()) == listed
    assert set(listed) == set(keys)
    for k in keys:
        assert s3.get_object(Bucket=bucket, Key=k)["Body"].read() == k.encode()


def test_listing_delimiter_and_pagination(s3, bucket):
    for i in range(7):
        s3.put_object(Bucket=bucket, Key=f"p/{i}", Body=b"")
    s3.put_object(Bucket=bucket, Key="q/1", Body=b"")
    s3.put_object(Bucket=bucket, Key="top", Body=b"")
    r = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [c["Prefix"] for c in r["CommonPrefixes"]] == ["p/", "q/"]
    assert [o["Key"] for o in r["Contents"]] == ["top"]
    keys, token = [], None
    while True:
        kw = {"ContinuationToken": token} if token else {}
        r = s3.list_objects_v2(Bucket=bucket, Prefix="p/", MaxKeys=3, **kw)
        keys += [o["Key"] for o in r.get("Contents", [])]
        if not r["IsTruncated"]:
            break
        token = r["NextContinuationToken"]
    assert keys == [f"p/{i}" for i in range(7)]
    v1 = s3.list_objects(Bucket=bucket, Marker="p/5")
    assert [o["Key"] for o in v1["Contents"]] == ["p/6", "q/1", "top"]


def test_multipart_upload_and_download(s3, bucket, tmp_path):
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(17 * 1024 * 1024 + 123))
    cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    s3.upload_file(str(src), bucket, "big.bin", Config=cfg)
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == src.stat().st_size
    assert head["ETag"].endswith('-4"')
    dst = tmp_path / "back.bin"
    s3.download_file(bucket, "big.bin", str(dst), Config=cfg)
    assert dst.read_bytes() == src.read_bytes()


def test_multipart_rules(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    p1 = s3.upload_part(Bucket=bucket, Key="m", UploadId=up, PartNumber=1, Body=b"small")
    p2 = s3.upload_part(Bucket=bucket, Key="m", UploadId=up, PartNumber=2, Body=b"tail")
    parts = s3.list_parts(Bucket=bucket, Key="m", UploadId=up)["Parts"]
    assert [p["PartNumber"] for p in parts] == [1, 2]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=up, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]})
    assert code_of(e.value) == ("EntityTooSmall", 400)
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=up, MultipartUpload={"Parts": [
            {"PartNumber": 2, "ETag": p2["ETag"]}, {"PartNumber": 1, "ETag": p1["ETag"]}]})
    assert code_of(e.value) == ("InvalidPartOrder", 400)
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])] == [up]
    s3.abort_multipart_upload(Bucket=bucket, Key="m", UploadId=up)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_copy_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"hello", Metadata={"a": "1"}, ContentType="text/x")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert got["Body"].read() == b"hello" and got["Metadata"] == {"a": "1"}
    s3.copy_object(Bucket=bucket, Key="dst2", CopySource=f"{bucket}/src", MetadataDirective="REPLACE",
                   Metadata={"b": "2"}, ContentType="text/y")
    got = s3.head_object(Bucket=bucket, Key="dst2")
    assert got["Metadata"] == {"b": "2"} and got["ContentType"] == "text/y"


def test_delete_objects_quiet(s3, bucket):
    for k in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}], "Quiet": True})
    assert not r.get("Deleted") and not r.get("Errors")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["c"]


def test_versioning(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    assert v1 != v2
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"one"
    marker = s3.delete_object(Bucket=bucket, Key="k")
    assert marker["DeleteMarker"] is True
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k")
    assert code_of(e.value) == ("NoSuchKey", 404)
    versions = s3.list_object_versions(Bucket=bucket)
    assert {v["VersionId"] for v in versions["Versions"]} == {v1, v2}
    assert len(versions["DeleteMarkers"]) == 1
    s3.delete_object(Bucket=bucket, Key="k", VersionId=marker["VersionId"])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"


def test_tagging(s3, bucket):
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="a=1&b=2")
    tags = s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("a", "1"), ("b", "2")]
    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "c", "Value": "3"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "c", "Value": "3"}]
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [
            {"Key": f"k{i}", "Value": "v"} for i in range(11)]})
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "x"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "x"}]


def test_checksums_are_verified_and_returned(s3, bucket):
    for algo in ("CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"):
        s3.put_object(Bucket=bucket, Key=f"c-{algo}", Body=b"checksum me", ChecksumAlgorithm=algo)
        head = s3.head_object(Bucket=bucket, Key=f"c-{algo}", ChecksumMode="ENABLED")
        assert head.get(f"Checksum{algo}"), head
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"data", ChecksumCRC32="AAAAAA==")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="bad")


def test_presigned_urls_v4_and_v2(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="shared.txt", Body=b"presigned body")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "shared.txt"}, ExpiresIn=60)
    assert urllib.request.urlopen(url).read() == b"presigned body"
    v2 = client(server, "s3", signature_version="s3")
    url2 = v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "shared.txt"}, ExpiresIn=60)
    assert "AWSAccessKeyId=" in url2
    assert urllib.request.urlopen(url2).read() == b"presigned body"
    expired = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "shared.txt"}, ExpiresIn=-10)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(expired)
    assert e.value.code == 403


def test_sigv2_header_auth(server, bucket):
    v2 = client(server, "s3", signature_version="s3")
    v2.put_object(Bucket=bucket, Key="v2", Body=b"signed v2")
    assert v2.get_object(Bucket=bucket, Key="v2")["Body"].read() == b"signed v2"


def test_bad_signature_and_unknown_key(server, bucket):
    bad = client(server, "s3", secret="wrong-secret-wrong-secret-wrong-secret-00")
    with pytest.raises(ClientError) as e:
        bad.list_objects_v2(Bucket=bucket)
    assert code_of(e.value) == ("SignatureDoesNotMatch", 403)
    unknown = client(server, "s3", key="AKIAUNKNOWNUNKNOWN00")
    with pytest.raises(ClientError) as e:
        unknown.list_objects_v2(Bucket=bucket)
    assert code_of(e.value) == ("InvalidAccessKeyId", 403)


def test_virtual_hosted_style(server, s3, bucket):
    from botocore.config import Config
    import boto3
    vh = boto3.client("s3", endpoint_url=f"http://localhost:{server.port}", region_name="us-east-1",
                      aws_access_key_id=server.access_key, aws_secret_access_key=server.secret_key,
                      config=Config(s3={"addressing_style": "virtual"}))
    # bucket.localhost resolves to 127.0.0.1 on Linux (RFC 6761); skip where it does not.
    import socket
    try:
        socket.gethostbyname(f"{bucket}.localhost")
    except OSError:
        pytest.skip("*.localhost does not resolve here")
    vh.put_object(Bucket=bucket, Key="vh", Body=b"virtual")
    assert s3.get_object(Bucket=bucket, Key="vh")["Body"].read() == b"virtual"


def test_error_bodies_name_what_is_missing(server, s3):
    """S3's error bodies carry the element that names the missing thing
    (<BucketName> for NoSuchBucket, <AWSAccessKeyId> for InvalidAccessKeyId), and
    <HostId> is the response's x-amz-id-2."""
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="no-such-bucket-here-1", Key="k")
    err = e.value.response
    assert err["Error"]["Code"] == "NoSuchBucket"
    assert err["Error"]["BucketName"] == "no-such-bucket-here-1"
    # An unsigned request shows the raw body: its HostId is the x-amz-id-2 header.
    with pytest.raises(urllib.error.HTTPError) as raw:
        urllib.request.urlopen(f"{server.endpoint}/no-such-bucket-here-1/k", timeout=10)
    body = raw.value.read().decode()
    assert raw.value.code == 404 and "<BucketName>no-such-bucket-here-1</BucketName>" in body
    assert f"<HostId>{raw.value.headers['x-amz-id-2']}</HostId>" in body
    bad = client(server, "s3", key="AKIANOSUCHKEY0000001", secret="x" * 40)
    with pytest.raises(ClientError) as e:
        bad.list_buckets()
    err = e.value.response
    assert err["Error"]["Code"] == "InvalidAccessKeyId"
    assert err["Error"]["AWSAccessKeyId"] == "AKIANOSUCHKEY0000001"
