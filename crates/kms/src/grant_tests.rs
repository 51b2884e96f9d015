//! Grant tests: grants allow their grantee in addition to the key policy.

use base64::Engine as _;
use serde_json::json;
use strongbox_core::Caller;

use crate::testing::{user, Harness, A, B, REGION};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn grant_allows_grantee_then_retire_and_revoke() {
    let h = Harness::new();
    let root = Caller::root(A, None);
    let bob = user(A, "bob");
    let id = h.create_key(&root);
    let (code, _) = h.err(
        &bob,
        "Encrypt",
        json!({"KeyId": id, "Plaintext": b64(b"x")}),
    );
    assert_eq!(code, "AccessDeniedException");

    let g = h.ok(
        &root,
        "CreateGrant",
        json!({"KeyId": id, "GranteePrincipal": bob.arn, "Operations": ["Encrypt", "Decrypt"], "Name": "g1", "RetiringPrincipal": format!("arn:aws:iam::{A}:root")}),
    );
    let grant_id = g["GrantId"].as_str().unwrap().to_string();
    assert!(!g["GrantToken"].as_str().unwrap().is_empty());
    let check = h.authz.last("kms:CreateGrant");
    assert_eq!(
        check.value("kms:GrantOperations"),
        Some(vec!["Encrypt".to_string(), "Decrypt".to_string()])
    );
    assert_eq!(
        check.value("kms:GranteePrincipal"),
        Some(vec![bob.arn.clone()])
    );

    let e = h.ok(
        &bob,
        "Encrypt",
        json!({"KeyId": id, "Plaintext": b64(b"x")}),
    );
    h.ok(
        &bob,
        "Decrypt",
        json!({"CiphertextBlob": e["CiphertextBlob"]}),
    );
    // Not granted: GenerateDataKey, DescribeKey.
    let (code, _) = h.err(
        &bob,
        "GenerateDataKey",
        json!({"KeyId": id, "KeySpec": "AES_256"}),
    );
    assert_eq!(code, "AccessDeniedException");
    let (code, _) = h.err(&bob, "DescribeKey", json!({"KeyId": id}));
    assert_eq!(code, "AccessDeniedException");

    // Same name and parameters: the same grant comes back.
    let again = h.ok(
        &root,
        "CreateGrant",
        json!({"KeyId": id, "GranteePrincipal": bob.arn, "Operations": ["Encrypt", "Decrypt"], "Name": "g1", "RetiringPrincipal": format!("arn:aws:iam::{A}:root")}),
    );
    assert_eq!(again["GrantId"], grant_id.as_str());

    let list = h.ok(&root, "ListGrants", json!({"KeyId": id}));
    let grants = list["Grants"].as_array().unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0]["GrantId"], grant_id.as_str());
    assert_eq!(grants[0]["GranteePrincipal"], bob.arn.as_str());
    assert_eq!(
        grants[0]["IssuingAccount"],
        format!("arn:aws:iam::{A}:root")
    );
    assert_eq!(
        grants[0]["KeyId"],
        format!("arn:aws:kms:{REGION}:{A}:key/{id}")
    );
    assert_eq!(grants[0]["Name"], "g1");
    let retirable = h.ok(
        &root,
        "ListRetirableGrants",
        json!({"RetiringPrincipal": format!("arn:aws:iam::{A}:root")}),
    );
    assert_eq!(retirable["Grants"].as_array().unwrap().len(), 1);

    // Bob is neither retiring principal nor holder of RetireGrant; with no IAM permission he cannot retire.
    let (code, _) = h.err(&bob, "RetireGrant", json!({"GrantToken": g["GrantToken"]}));
    assert_eq!(code, "AccessDeniedException");
    h.ok(&root, "RetireGrant", json!({"GrantToken": g["GrantToken"]}));
    let (code, _) = h.err(
        &bob,
        "Encrypt",
        json!({"KeyId": id, "Plaintext": b64(b"x")}),
    );
    assert_eq!(code, "AccessDeniedException");
    let (code, _) = h.err(&root, "RetireGrant", json!({"GrantToken": g["GrantToken"]}));
    assert_eq!(code, "InvalidGrantTokenException");

    let g2 = h.ok(
        &root,
        "CreateGrant",
        json!({"KeyId": id, "GranteePrincipal": bob.arn, "Operations": ["DescribeKey"]}),
    );
    h.ok(&bob, "DescribeKey", json!({"KeyId": id}));
    h.ok(
        &root,
        "RevokeGrant",
        json!({"KeyId": id, "GrantId": g2["GrantId"]}),
    );
    let (code, _) = h.err(&bob, "DescribeKey", json!({"KeyId": id}));
    assert_eq!(code, "AccessDeniedException");
    let (code, _) = h.err(
        &root,
        "RevokeGrant",
        json!({"KeyId": id, "GrantId": g2["GrantId"]}),
    );
    assert_eq!(code, "NotFoundException");
}

#[test]
fn grant_constraints_bind_encryption_context() {
    let h = Harness::new();
    let root = Caller::root(A, None);
    let bob = user(A, "bob");
    let id = h.create_key(&root);
    h.ok(
        &root,
        "CreateGrant",
        json!({"KeyId": id, "GranteePrincipal": bob.arn, "Operations": ["GenerateDataKey", "Decrypt"],
               "Constraints": {"EncryptionContextSubset": {"project": "alpha"}}}),
    );
    let (code, _) = h.err(
        &bob,
        "GenerateDataKey",
        json!({"KeyId": id, "KeySpec": "AES_256"}),
    );
    assert_eq!(code, "AccessDeniedException");
    let (code, _) = h.err(
        &bob,
        "GenerateDataKey",
        json!({"KeyId": id, "KeySpec": "AES_256", "EncryptionContext": {"project": "beta"}}),
    );
    assert_eq!(code, "AccessDeniedException");
    let g = h.ok(&bob, "GenerateDataKey", json!({"KeyId": id, "KeySpec": "AES_256", "EncryptionContext": {"project": "alpha", "x": "y"}}));
    h.ok(&bob, "Decrypt", json!({"CiphertextBlob": g["CiphertextBlob"], "EncryptionContext": {"project": "alpha", "x": "y"}}));

    h.ok(
        &root,
        "CreateGrant",
        json!({"KeyId": id, "GranteePrincipal": user(A, "carol").arn, "Operations": ["Encrypt"],
               "Constraints": {"EncryptionContextEquals": {"project": "alpha"}}}),
    );
    let carol = user(A, "carol");
    let (code, _) = h.err(&carol, "Encrypt", json!({"KeyId": id, "Plaintext": b64(b"x"), "EncryptionContext": {"project": "alpha", "x": "y"}}));
    assert_eq!(code, "AccessDeniedException");
    h.ok(
        &carol,
        "Encrypt",
        json!({"KeyId": id, "Plaintext": b64(b"x"), "EncryptionContext": {"project": "alpha"}}),
    );

    // Constraints cannot go with operations that take no encryption context.
    let (code, _) = h.err(
        &root,
        "CreateGrant",
        json!({"KeyId": id, "GranteePrincipal": bob.arn, "Operations": ["DescribeKey"], "Constraints": {"EncryptionContextEquals": {"a": "b"}}}),
    );
    assert_eq!(code, "ValidationException");
    let (code, _) = h.err(
        &root,
        "CreateGrant",
        json!({"KeyId": id, "GranteePrincipal": bob.arn, "Operations": ["Sign"]}),
    );
    assert_eq!(code, "ValidationException");
}

#[test]
fn grants_do_not_override_explicit_deny_and_work_cross_account() {
    let h = Harness::new();
    let root = Caller::root(A, None);
    let bob = user(A, "bob");
    let id = h.create_key(&root);
    h.ok(
        &root,
        "CreateGrant",
        json!({"KeyId": id, "GranteePrincipal": bob.arn, "Operations": ["Encrypt"]}),
    );
    let policy = json!({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{A}:root")}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": bob.arn}, "Action": "kms:Encrypt", "Resource": "*"}
    ]})
    .to_string();
    h.ok(
        &root,
        "PutKeyPolicy",
        json!({"KeyId": id, "Policy": policy}),
    );
    let (code, _) = h.err(
        &bob,
        "Encrypt",
        json!({"KeyId": id, "Plaintext": b64(b"x")}),
    );
    assert_eq!(code, "AccessDeniedException");

    // A grant to another account's principal lets it use the key by ARN.
    let id2 = h.create_key(&root);
    let zed = user(B, "zed");
    h.ok(&root, "CreateGrant", json!({"KeyId": id2, "GranteePrincipal": zed.arn, "Operations": ["Encrypt", "CreateGrant"]}));
    let arn = format!("arn:aws:kms:{REGION}:{A}:key/{id2}");
    h.ok(
        &zed,
        "Encrypt",
        json!({"KeyId": arn, "Plaintext": b64(b"x")}),
    );
    // CreateGrant through a grant: only a subset of the grant's operations.
    h.ok(
        &zed,
        "CreateGrant",
        json!({"KeyId": arn, "GranteePrincipal": user(B, "y").arn, "Operations": ["Encrypt"]}),
    );
    let (code, _) = h.err(
        &zed,
        "CreateGrant",
        json!({"KeyId": arn, "GranteePrincipal": user(B, "y").arn, "Operations": ["Decrypt"]}),
    );
    assert_eq!(code, "AccessDeniedException");
    h.ok(
        &user(B, "y"),
        "Encrypt",
        json!({"KeyId": arn, "Plaintext": b64(b"x")}),
    );
}

#[test]
fn retiring_principal_and_retire_by_id() {
    let h = Harness::new();
    let root = Caller::root(A, None);
    let bob = user(A, "bob");
    let ops_user = user(A, "ops");
    let id = h.create_key(&root);
    let g = h.ok(&root, "CreateGrant", json!({"KeyId": id, "GranteePrincipal": bob.arn, "Operations": ["Encrypt", "RetireGrant"], "RetiringPrincipal": ops_user.arn}));
    // The retiring principal retires without any policy.
    let g_other = h.ok(&root, "CreateGrant", json!({"KeyId": id, "GranteePrincipal": bob.arn, "Operations": ["Decrypt"], "RetiringPrincipal": ops_user.arn}));
    h.ok(
        &ops_user,
        "RetireGrant",
        json!({"KeyId": id, "GrantId": g_other["GrantId"]}),
    );
    // The grantee holding RetireGrant retires its own grant.
    h.ok(
        &bob,
        "RetireGrant",
        json!({"KeyId": format!("arn:aws:kms:{REGION}:{A}:key/{id}"), "GrantId": g["GrantId"]}),
    );
    assert!(h.ok(&root, "ListGrants", json!({"KeyId": id}))["Grants"]
        .as_array()
        .unwrap()
        .is_empty());
    let (code, _) = h.err(
        &root,
        "RetireGrant",
        json!({"KeyId": id, "GrantId": "0".repeat(64)}),
    );
    assert_eq!(code, "InvalidGrantIdException");
    let (code, _) = h.err(&root, "RetireGrant", json!({}));
    assert_eq!(code, "ValidationException");
}
