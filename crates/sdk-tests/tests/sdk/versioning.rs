//! Bucket versioning and bucket policies through the SDK.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};

use crate::clients::{bucket_name, root_config, s3, sdk_config};
use crate::server::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_and_delete_markers() {
    let server = Server::start();
    let s3 = s3(&root_config(&server).await);
    let bucket = bucket_name("versions");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    s3.put_bucket_versioning()
        .bucket(&bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let status = s3
        .get_bucket_versioning()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), Some(&BucketVersioningStatus::Enabled));

    let mut versions = Vec::new();
    for body in ["one", "two"] {
        let put = s3
            .put_object()
            .bucket(&bucket)
            .key("k")
            .body(ByteStream::from(body.as_bytes().to_vec()))
            .send()
            .await
            .unwrap();
        versions.push(put.version_id().expect("VersionId").to_string());
    }
    assert_ne!(versions[0], versions[1]);
    let old = s3
        .get_object()
        .bucket(&bucket)
        .key("k")
        .version_id(&versions[0])
        .send()
        .await
        .unwrap();
    assert_eq!(old.version_id(), Some(versions[0].as_str()));
    assert_eq!(&old.body.collect().await.unwrap().into_bytes()[..], b"one");

    let marker = s3
        .delete_object()
        .bucket(&bucket)
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(marker.delete_marker(), Some(true));
    let marker_id = marker
        .version_id()
        .expect("delete marker VersionId")
        .to_string();
    let err = s3
        .get_object()
        .bucket(&bucket)
        .key("k")
        .send()
        .await
        .expect_err("latest is a delete marker");
    assert_eq!(err.code(), Some("NoSuchKey"));

    let listed = s3
        .list_object_versions()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let mut ids: Vec<&str> = listed
        .versions()
        .iter()
        .filter_map(|v| v.version_id())
        .collect();
    ids.sort();
    let mut expected: Vec<&str> = versions.iter().map(String::as_str).collect();
    expected.sort();
    assert_eq!(ids, expected);
    let markers: Vec<&str> = listed
        .delete_markers()
        .iter()
        .filter_map(|m| m.version_id())
        .collect();
    assert_eq!(markers, [marker_id.as_str()]);

    s3.delete_object()
        .bucket(&bucket)
        .key("k")
        .version_id(&marker_id)
        .send()
        .await
        .unwrap();
    let latest = s3
        .get_object()
        .bucket(&bucket)
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(latest.version_id(), Some(versions[1].as_str()));
    assert_eq!(
        &latest.body.collect().await.unwrap().into_bytes()[..],
        b"two"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucket_policy_grants_a_user_without_identity_policies() {
    let server = Server::start();
    let root = root_config(&server).await;
    let root_s3 = s3(&root);
    let bucket = bucket_name("policy");
    root_s3
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    root_s3
        .put_object()
        .bucket(&bucket)
        .key("shared")
        .body(ByteStream::from_static(b"shared data"))
        .send()
        .await
        .unwrap();

    let iam = aws_sdk_iam::Client::new(&root);
    let name = bucket_name("reader");
    let user_arn = iam
        .create_user()
        .user_name(&name)
        .send()
        .await
        .unwrap()
        .user()
        .expect("User")
        .arn()
        .to_string();
    let key = iam
        .create_access_key()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    let key = key.access_key().expect("AccessKey");
    let user_s3 =
        s3(&sdk_config(&server, key.access_key_id(), key.secret_access_key(), None).await);

    let err = user_s3
        .get_object()
        .bucket(&bucket)
        .key("shared")
        .send()
        .await
        .expect_err("no policy yet");
    assert_eq!(err.code(), Some("AccessDenied"), "{err:?}");

    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"ReadShared","Effect":"Allow","Principal":{{"AWS":"{user_arn}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/shared"}}]}}"#
    );
    root_s3
        .put_bucket_policy()
        .bucket(&bucket)
        .policy(&policy)
        .send()
        .await
        .unwrap();
    let stored = root_s3
        .get_bucket_policy()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert!(stored.policy().is_some_and(|p| p.contains("ReadShared")));

    let got = user_s3
        .get_object()
        .bucket(&bucket)
        .key("shared")
        .send()
        .await
        .unwrap();
    assert_eq!(
        &got.body.collect().await.unwrap().into_bytes()[..],
        b"shared data"
    );
    // The grant is for GetObject on that key only.
    let err = user_s3
        .put_object()
        .bucket(&bucket)
        .key("shared")
        .body(ByteStream::from_static(b"overwrite"))
        .send()
        .await
        .expect_err("PutObject not granted");
    assert_eq!(err.code(), Some("AccessDenied"), "{err:?}");

    root_s3
        .delete_bucket_policy()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let err = user_s3
        .get_object()
        .bucket(&bucket)
        .key("shared")
        .send()
        .await
        .expect_err("policy removed");
    assert_eq!(err.code(), Some("AccessDenied"), "{err:?}");
    let err = root_s3
        .get_bucket_policy()
        .bucket(&bucket)
        .send()
        .await
        .expect_err("no policy");
    assert_eq!(err.code(), Some("NoSuchBucketPolicy"));
}
