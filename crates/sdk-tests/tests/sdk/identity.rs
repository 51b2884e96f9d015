//! STS and IAM through their SDKs: caller identity, and a policy-less IAM user
//! being denied by S3.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;

use crate::clients::{bucket_name, root_config, s3, sdk_config};
use crate::server::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_identity_of_root_and_user() {
    let server = Server::start();
    let root = root_config(&server).await;
    let sts = aws_sdk_sts::Client::new(&root);
    let me = sts.get_caller_identity().send().await.unwrap();
    let account = me.account().expect("Account").to_string();
    assert_eq!(account.len(), 12, "12-digit account id: {account}");
    assert!(account.bytes().all(|b| b.is_ascii_digit()), "{account}");
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:iam::{account}:root").as_str())
    );

    let iam = aws_sdk_iam::Client::new(&root);
    let name = bucket_name("user");
    let created = iam.create_user().user_name(&name).send().await.unwrap();
    let user = created.user().expect("User");
    assert_eq!(user.arn(), format!("arn:aws:iam::{account}:user/{name}"));
    let key = iam
        .create_access_key()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    let key = key.access_key().expect("AccessKey");

    let user_sts = aws_sdk_sts::Client::new(
        &sdk_config(&server, key.access_key_id(), key.secret_access_key(), None).await,
    );
    let ident = user_sts.get_caller_identity().send().await.unwrap();
    assert_eq!(ident.account(), Some(account.as_str()));
    assert_eq!(ident.arn(), Some(user.arn()));
    assert_eq!(ident.user_id(), Some(user.user_id()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_without_policies_is_denied_put_object() {
    let server = Server::start();
    let root = root_config(&server).await;
    let root_s3 = s3(&root);
    let bucket = bucket_name("deny");
    root_s3
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();

    let iam = aws_sdk_iam::Client::new(&root);
    let name = bucket_name("nopolicy");
    iam.create_user().user_name(&name).send().await.unwrap();
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
        .put_object()
        .bucket(&bucket)
        .key("forbidden")
        .body(ByteStream::from_static(b"nope"))
        .send()
        .await
        .expect_err("no policy allows s3:PutObject");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
    assert_eq!(err.code(), Some("AccessDenied"), "{err:?}");
    let message = err.message().unwrap_or_default().to_string();
    assert!(
        message.contains("s3:PutObject") && message.contains(&name),
        "denial names the action and the user: {message}"
    );

    // IAM itself denies the user too.
    let user_iam = aws_sdk_iam::Client::new(
        &sdk_config(&server, key.access_key_id(), key.secret_access_key(), None).await,
    );
    let err = user_iam
        .create_user()
        .user_name("should-not-exist")
        .send()
        .await
        .expect_err("no policy allows iam:CreateUser");
    assert_eq!(err.code(), Some("AccessDenied"), "{err:?}");

    // Granting s3:PutObject on the bucket with an inline policy lets the upload through.
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
    );
    iam.put_user_policy()
        .user_name(&name)
        .policy_name("put-only")
        .policy_document(policy)
        .send()
        .await
        .unwrap();
    user_s3
        .put_object()
        .bucket(&bucket)
        .key("allowed")
        .body(ByteStream::from_static(b"yes"))
        .send()
        .await
        .unwrap();
    // ...but still not GetObject.
    let err = user_s3
        .get_object()
        .bucket(&bucket)
        .key("allowed")
        .send()
        .await
        .expect_err("GetObject not granted");
    assert_eq!(err.code(), Some("AccessDenied"), "{err:?}");
    let got = root_s3
        .get_object()
        .bucket(&bucket)
        .key("allowed")
        .send()
        .await
        .unwrap();
    assert_eq!(&got.body.collect().await.unwrap().into_bytes()[..], b"yes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assumed_role_session_credentials_drive_s3() {
    let server = Server::start();
    let root = root_config(&server).await;
    let account = aws_sdk_sts::Client::new(&root)
        .get_caller_identity()
        .send()
        .await
        .unwrap()
        .account()
        .expect("Account")
        .to_string();
    let iam = aws_sdk_iam::Client::new(&root);

    // Root cannot assume roles (as on AWS), so a user with sts:AssumeRole does.
    let user = bucket_name("assumer");
    iam.create_user().user_name(&user).send().await.unwrap();
    iam.put_user_policy()
        .user_name(&user)
        .policy_name("assume")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name(&user)
        .send()
        .await
        .unwrap();
    let key = key.access_key().expect("AccessKey");

    let role = bucket_name("role");
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let role_arn = iam
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap()
        .role()
        .expect("Role")
        .arn()
        .to_string();
    iam.put_role_policy()
        .role_name(&role)
        .policy_name("s3")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();

    let user_sts = aws_sdk_sts::Client::new(
        &sdk_config(&server, key.access_key_id(), key.secret_access_key(), None).await,
    );
    let assumed = user_sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("sdk-session")
        .send()
        .await
        .unwrap();
    let creds = assumed.credentials().expect("Credentials");
    assert!(
        creds.access_key_id().starts_with("ASIA"),
        "{}",
        creds.access_key_id()
    );
    let session = sdk_config(
        &server,
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(creds.session_token()),
    )
    .await;
    let ident = aws_sdk_sts::Client::new(&session)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        ident.arn(),
        Some(format!("arn:aws:sts::{account}:assumed-role/{role}/sdk-session").as_str())
    );

    // The session's credentials (with x-amz-security-token) sign streaming uploads.
    let session_s3 = s3(&session);
    let bucket = bucket_name("session");
    session_s3
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    session_s3
        .put_object()
        .bucket(&bucket)
        .key("k")
        .body(ByteStream::from_static(b"from a role session"))
        .send()
        .await
        .unwrap();
    let got = session_s3
        .get_object()
        .bucket(&bucket)
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(
        &got.body.collect().await.unwrap().into_bytes()[..],
        b"from a role session"
    );

    // A session policy narrows the role's permissions.
    let limited = user_sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("read-only")
        .policy(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let creds = limited.credentials().expect("Credentials");
    let limited_s3 = s3(&sdk_config(
        &server,
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(creds.session_token()),
    )
    .await);
    limited_s3
        .get_object()
        .bucket(&bucket)
        .key("k")
        .send()
        .await
        .unwrap();
    let err = limited_s3
        .put_object()
        .bucket(&bucket)
        .key("k2")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect_err("session policy does not allow PutObject");
    assert_eq!(err.code(), Some("AccessDenied"), "{err:?}");
}
