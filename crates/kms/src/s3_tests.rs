//! Tests of the S3 hooks: SSE-KMS as the caller via S3, aws/s3 creation, SSE-S3.

use serde_json::json;
use strongbox_core::Caller;

use crate::object_crypto::{
    decrypt_all, encrypt_all, random_base_nonce, ChunkLayout, ObjectCipher,
};
use crate::testing::{user, Harness, A, B, REGION};
use crate::KmsError;

fn ctx(arn: &str) -> Vec<(String, String)> {
    vec![("aws:s3:arn".to_string(), arn.to_string())]
}

#[test]
fn aws_s3_key_created_on_first_use_with_aws_policy() {
    let h = Harness::new();
    let root = Caller::root(A, None);
    let alice = user(A, "alice");
    let obj = "arn:aws:s3:::bucket/obj";
    let dk = h
        .kms
        .s3_generate_data_key(&alice, &h.meta, &h.authz, None, A, &ctx(obj))
        .unwrap();
    let check = h.authz.last("kms:GenerateDataKey");
    assert_eq!(
        check.value("kms:ViaService"),
        Some(vec![format!("s3.{REGION}.amazonaws.com")])
    );
    assert_eq!(check.value("kms:CallerAccount"), Some(vec![A.to_string()]));
    assert_eq!(
        check.value("kms:EncryptionContext:aws:s3:arn"),
        Some(vec![obj.to_string()])
    );
    assert_eq!(check.caller, alice.arn);

    // The key exists now, AWS managed, under alias/aws/s3, with AWS's policy.
    let meta = h.ok(&root, "DescribeKey", json!({"KeyId": "alias/aws/s3"}))["KeyMetadata"].clone();
    assert_eq!(meta["KeyManager"], "AWS");
    assert_eq!(meta["Arn"], dk.key_arn.as_str());
    let policy = h.ok(&root, "GetKeyPolicy", json!({"KeyId": "alias/aws/s3"}))["Policy"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        policy.contains("kms:ViaService") && policy.contains(&format!("s3.{REGION}.amazonaws.com"))
    );
    // Created once per account.
    let again = h
        .kms
        .s3_generate_data_key(&alice, &h.meta, &h.authz, None, A, &ctx(obj))
        .unwrap();
    assert_eq!(again.key_arn, dk.key_arn);
    assert_eq!(
        h.ok(&root, "ListAliases", json!({}))["Aliases"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Decrypt through S3 with the same context; a different object ARN fails.
    let back = h
        .kms
        .s3_decrypt_data_key(&alice, &h.meta, &h.authz, &dk.ciphertext, &ctx(obj))
        .unwrap();
    assert_eq!(back.plaintext, dk.plaintext);
    assert!(matches!(
        h.kms.s3_decrypt_data_key(
            &alice,
            &h.meta,
            &h.authz,
            &dk.ciphertext,
            &ctx("arn:aws:s3:::bucket/other")
        ),
        Err(KmsError::InvalidCiphertext(_))
    ));

    // Direct use of the AWS managed key (not via S3) is denied by its policy,
    // and so is managing it.
    let (code, _) = h.err(
        &root,
        "Encrypt",
        json!({"KeyId": "alias/aws/s3", "Plaintext": "eA=="}),
    );
    assert_eq!(code, "AccessDeniedException");
    let (code, _) = h.err(
        &root,
        "ScheduleKeyDeletion",
        json!({"KeyId": "alias/aws/s3"}),
    );
    assert_eq!(code, "AccessDeniedException");
    let (code, _) = h.err(&root, "DeleteAlias", json!({"AliasName": "alias/aws/s3"}));
    assert_eq!(code, "NotAuthorizedException");
}

#[test]
fn another_account_cannot_use_the_bucket_owners_aws_s3_key() {
    let h = Harness::new();
    let outsider = Caller::root(B, None);
    let err = h
        .kms
        .s3_generate_data_key(
            &outsider,
            &h.meta,
            &h.authz,
            None,
            A,
            &ctx("arn:aws:s3:::a-bucket/k"),
        )
        .unwrap_err();
    assert!(matches!(err, KmsError::AccessDenied(_)), "{err:?}");
    let check = h.authz.last("kms:GenerateDataKey");
    assert_eq!(check.value("kms:CallerAccount"), Some(vec![B.to_string()]));
    assert!(check.resource.contains(&format!(":{A}:key/")));
}

#[test]
fn sse_kms_with_customer_key_uses_callers_permissions() {
    let h = Harness::new();
    let root = Caller::root(A, None);
    let alice = user(A, "alice");
    let id = h.create_key(&root);
    h.ok(
        &root,
        "CreateAlias",
        json!({"AliasName": "alias/objects", "TargetKeyId": id}),
    );
    let err = h
        .kms
        .s3_generate_data_key(
            &alice,
            &h.meta,
            &h.authz,
            Some("alias/objects"),
            A,
            &ctx("arn:aws:s3:::b/k"),
        )
        .unwrap_err();
    assert!(matches!(err, KmsError::AccessDenied(_)));
    h.authz
        .allow_iam(&alice.arn, &["kms:GenerateDataKey", "kms:Decrypt"]);
    let dk = h
        .kms
        .s3_generate_data_key(
            &alice,
            &h.meta,
            &h.authz,
            Some("alias/objects"),
            A,
            &ctx("arn:aws:s3:::b/k"),
        )
        .unwrap();
    assert!(dk.key_arn.ends_with(&id));
    assert_eq!(
        h.kms.resolve_key_arn("alias/objects", A).as_deref(),
        Some(dk.key_arn.as_str())
    );
    assert_eq!(
        h.kms.resolve_key_arn(&id, A).as_deref(),
        Some(dk.key_arn.as_str())
    );
    assert!(h.kms.resolve_key_arn("alias/objects", B).is_none());
    h.ok(&root, "DisableKey", json!({"KeyId": id}));
    let err = h
        .kms
        .s3_decrypt_data_key(
            &alice,
            &h.meta,
            &h.authz,
            &dk.ciphertext,
            &ctx("arn:aws:s3:::b/k"),
        )
        .unwrap_err();
    assert!(matches!(err, KmsError::Disabled(_)));
}

#[test]
fn sse_s3_wrap_and_object_roundtrip() {
    let h = Harness::new();
    let (wrapped, key) = h.kms.sse_s3_data_key().unwrap();
    assert_eq!(h.kms.sse_s3_unwrap(&wrapped).unwrap(), key);
    let mut bad = wrapped.clone();
    bad[10] ^= 1;
    assert!(h.kms.sse_s3_unwrap(&bad).is_err());
    assert!(h.kms.sse_s3_unwrap(&[]).is_err());
    // A data key encrypts an object in the chunked format.
    let layout = ChunkLayout::default();
    let nonce = random_base_nonce();
    let body = vec![9u8; 200_000];
    let ct = encrypt_all(
        ObjectCipher::new(&key, nonce, b"b/k/null").unwrap(),
        layout,
        &body,
    )
    .unwrap();
    let unwrapped = h.kms.sse_s3_unwrap(&wrapped).unwrap();
    assert_eq!(
        decrypt_all(
            ObjectCipher::new(&unwrapped, nonce, b"b/k/null").unwrap(),
            layout,
            &ct
        )
        .unwrap(),
        body
    );
}

#[test]
fn describe_key_on_predefined_alias_creates_aws_s3_key() {
    let h = Harness::new();
    let root = Caller::root(A, None);
    let meta = h.ok(&root, "DescribeKey", json!({"KeyId": "alias/aws/s3"}))["KeyMetadata"].clone();
    assert_eq!(meta["KeyManager"], "AWS");
    assert_eq!(
        meta["Description"],
        "Default master key that protects my S3 objects when no other key is defined"
    );
    assert_eq!(
        h.kms.aws_managed_s3_key_arn(A).unwrap(),
        meta["Arn"].as_str().unwrap()
    );
    // Other predefined-looking aliases are not invented.
    let (code, _) = h.err(&root, "DescribeKey", json!({"KeyId": "alias/aws/ebs"}));
    assert_eq!(code, "NotFoundException");
}

#[test]
fn bindings_and_encryption_context() {
    use crate::s3::{object_binding, part_binding, s3_encryption_context};
    assert_eq!(object_binding("b", "k", None), b"b\0k\0null");
    assert_ne!(
        object_binding("b", "k", Some("v1")),
        object_binding("b", "k", Some("v2"))
    );
    // Separators keep ("ab", "c") apart from ("a", "bc").
    assert_ne!(
        object_binding("ab", "c", None),
        object_binding("a", "bc", None)
    );
    assert_ne!(part_binding("u", 1), part_binding("u", 2));
    let ctx = s3_encryption_context(None, "arn:aws:s3:::b/k").unwrap();
    assert_eq!(
        ctx,
        vec![("aws:s3:arn".to_string(), "arn:aws:s3:::b/k".to_string())]
    );
    use base64::Engine as _;
    let header = base64::engine::general_purpose::STANDARD
        .encode(r#"{"project":"x","aws:s3:arn":"spoofed"}"#);
    let ctx = s3_encryption_context(Some(&header), "arn:aws:s3:::b/k").unwrap();
    assert_eq!(
        ctx,
        vec![
            ("aws:s3:arn".to_string(), "arn:aws:s3:::b/k".to_string()),
            ("project".to_string(), "x".to_string())
        ]
    );
    assert!(matches!(
        s3_encryption_context(Some("!!"), "x"),
        Err(KmsError::Validation(_))
    ));
    let not_strings = base64::engine::general_purpose::STANDARD.encode(r#"{"n":1}"#);
    assert!(s3_encryption_context(Some(&not_strings), "x").is_err());
}

#[test]
fn naming_alias_aws_s3_creates_it() {
    let h = Harness::new();
    let alice = user(A, "alice");
    let dk = h
        .kms
        .s3_generate_data_key(
            &alice,
            &h.meta,
            &h.authz,
            Some("alias/aws/s3"),
            A,
            &ctx("arn:aws:s3:::b/k"),
        )
        .unwrap();
    assert_eq!(
        h.kms.resolve_key_arn("alias/aws/s3", A).unwrap(),
        dk.key_arn
    );
}
