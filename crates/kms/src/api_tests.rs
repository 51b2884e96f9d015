//! Handler tests over an in-memory database and the test authorizer.

use base64::Engine as _;
use serde_json::json;
use strongbox_core::Caller;

use crate::testing::{user, Harness, A, B, REGION};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(v: &serde_json::Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap())
        .unwrap()
}

#[test]
fn create_describe_list_with_default_policy() {
    let h = Harness::new();
    let root = Caller::root(A, None);
    let v = h.ok(
        &root,
        "CreateKey",
        json!({"Description": "my key", "Tags": [{"TagKey": "team", "TagValue": "x"}]}),
    );
    let meta = &v["KeyMetadata"];
    let id = meta["KeyId"].as_str().unwrap();
    assert_eq!(meta["Arn"], format!("arn:aws:kms:{REGION}:{A}:key/{id}"));
    assert_eq!(meta["AWSAccountId"], A);
    assert_eq!(meta["KeyState"], "Enabled");
    assert_eq!(meta["Enabled"], true);
    assert_eq!(meta["KeyManager"], "CUSTOMER");
    assert_eq!(meta["KeySpec"], "SYMMETRIC_DEFAULT");
    assert_eq!(meta["KeyUsage"], "ENCRYPT_DECRYPT");
    assert_eq!(meta["Description"], "my key");
    assert!(meta["CreationDate"].as_f64().unwrap() > 1.6e9);
    // CreateKey is authorized on "*" with the request tags.
    let check = h.authz.last("kms:CreateKey");
    assert_eq!(check.resource, "*");
    assert_eq!(
        check.value("aws:RequestTag/team"),
        Some(vec!["x".to_string()])
    );

    let d = h.ok(&root, "DescribeKey", json!({"KeyId": id}));
    assert_eq!(d["KeyMetadata"]["KeyId"], id);
    let policy = h.ok(
        &root,
        "GetKeyPolicy",
        json!({"KeyId": id, "PolicyName": "default"}),
    );
    let doc: serde_json::Value = serde_json::from_str(policy["Policy"].as_str().unwrap()).unwrap();
    assert_eq!(doc["Statement"][0]["Sid"], "Enable IAM User Permissions");
    assert_eq!(
        doc["Statement"][0]["Principal"]["AWS"],
        format!("arn:aws:iam::{A}:root")
    );
    assert_eq!(
        h.ok(&root, "ListKeyPolicies", json!({"KeyId": id}))["PolicyNames"],
        json!(["default"])
    );
    let (code, _) = h.err(
        &root,
        "GetKeyPolicy",
        json!({"KeyId": id, "PolicyName": "other"}),
    );
    assert_eq!(code, "NotFoundException");

    h.create_key(&root);
    let list = h.ok(&root, "ListKeys", json!({}));
    assert_eq!(list["Keys"].as_array().unwrap().len(), 2);
    assert_eq!(list["Truncated"], false);
    let page = h.ok(&root, "ListKeys", json!({"Limit": 1}));
    assert_eq!(page["Truncated"], true);
    let page2 = h.ok(
        &root,
        "ListKeys",
        json!({"Limit": 1, "Marker": page["NextMarker"]}),
    );
    assert_ne!(page["Keys"][0]["KeyId"], page2["Keys"][0]["KeyId"]);
    // Another account sees none of them.
    assert!(h.ok(&Caller::root(B, None), "ListKeys", json!({}))["Keys"]
        .as_array()
        .unwrap()
        .is_empty());
    let tags = h.ok(&root, "ListResourceTags", json!({"KeyId": id}));
    assert_eq!(tags["Tags"], json!([{"TagKey": "team", "TagValue": "x"}]));
}

#[test]
fn errors_for_unknown_keys_and_bad_requests() {
    let h = Harness::new();
    let root = Caller::root(A, None);
    let missing = "1234abcd-12ab-34cd-56ef-1234567890ab";
    let (code, msg) = h.err(&root, "DescribeKey", json!({"KeyId": missing}));
    assert_eq!(code, "NotFoundException");
    assert_eq!(
        msg,
        format!("Key 'arn:aws:kms:{REGION}:{A}:key/{missing}' does not exist")
    );
    let (code, msg) = h.err(&root, "DescribeKey", json!({"KeyId": "alias/nope"}));
    assert_eq!(
        (code.as_str(), msg),
        (
            "NotFoundException",
            format!("Alias arn:aws:kms:{REGION}:{A}:alias/nope is not found.")
        )
    );
    let (code, _) = h.err(&root, "DescribeKey", json!({}));
    assert_eq!(code, "ValidationException");
    let r = h.kms.handle(
        &root,
        &h.meta,
        &h.authz,
        "TrentService.DescribeKey",
        b"{not json",
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("SerializationException"));
    let r = h
        .kms
        .handle(&root, &h.meta, &h.authz, "TrentService.Nope", b"{}");
    assert!(r.body.contains("UnknownOperationException"));
    let (code, _) = h.err(&root, "Sign", json!({}));
    assert_eq!(code, "UnsupportedOperationException");
    let (code, _) = h.err(
        &root,
        "DescribeKey",
        json!({"KeyId": "alias/x", "GrantTokens": [""]}),
    );
    assert_eq!(code, "InvalidGrantTokenException");
    let (code, _) = h.err(&root, "CreateKey", json!({"KeySpec": "RSA_2048"}));
    assert_eq!(code, "UnsupportedOperationException");
    let (code, _) = h.err(
        &root,
        "CreateKey",
        json!({"Tags": [{"TagKey": "aws:x", "TagValue": "y"}]}),
    );
    assert_eq!(code, "TagException");
}

#[test]
fn encrypt_decrypt_with_context_binding() {
    let h = Harness::new();
    let root = Caller::root(A, None);
    let id = h.create_key(&root);
    let ctx = json!({"purpose": "test", "dept": "42"});
    let e = h.ok(
        &root,
        "Encrypt",
        json!({"KeyId": id, "Plaintext": b64(b"hello"), "EncryptionContext": ctx}),
    );
    assert_eq!(e["KeyId"], format!("arn:aws:kms:{REGION}:{A}:key/{id}"));
    assert_eq!(e["EncryptionAlgorithm"], "SYMMETRIC_DEFAULT");
    let check = h.authz.last("kms:Encrypt");
    assert_eq!(
        check.value("kms:EncryptionContext:purpose"),
        Some(vec!["test".to_string()])
    );
    assert_eq!(
        check.value("kms:EncryptionContextKeys"),
        Some(vec!["dept".to_string(), "purpose".to_string()])
    );
    assert_eq!(check.value("kms:CallerAccount"), Some(vec![A.to_string()]));
    assert_eq!(check.resource, format!("arn:aws:kms:{REGION}:{A}:key/{id}"));
    assert!(check.policies[0].contains("Enable IAM User Permissions"));

    // Decrypt without KeyId finds the key from the blob.
    let d = h.ok(
        &root,
        "Decrypt",
        json!({"CiphertextBlob": e["CiphertextBlob"], "EncryptionContext": ctx}),
    );
    assert_eq!(unb64(&d["Plaintext"]), b"hello");
    assert_eq!(d["KeyId"], e["KeyId"]);
    // The context must match exactly.
    for wrong in [
        json!({}),
        json!({"purpose": "test"}),
        json!({"purpose": "test", "dept": "43"}),
    ] {
        let (code, _) = h.err(
            &root,
            "Decrypt",
            json!({"CiphertextBlob": e["CiphertextBlob"], "EncryptionContext": wrong}),
        );
        assert_eq!(code, "InvalidCiphertextException");
    }
    // Corrupted blobs.
    let mut blob = unb64(&e["CiphertextBlob"]);
    let last = blob.len() - 1;
    blob[last] ^= 1;
    let (code, _) = h.err(
        &root,
        "Decrypt",
        json!({"CiphertextBlob": b64(&blob), "EncryptionContext": ctx}),
    );
    assert_eq!(code, "InvalidCiphertextException");
    let (code, _) = h.err(&root, "Decrypt", json!({"CiphertextBlob": b64(b"garbage")}));
    assert_eq!(code, "InvalidCiphertextException");
    // A KeyId that names another key.
    let other = h.create_key(&root);
    let (code, _) = h.err(
        &root,
        "Decrypt",
        json!({"CiphertextBlob": e["CiphertextBlob"], "EncryptionContext": ctx, "KeyId": other}),
    );
    assert_eq!(code, "IncorrectKeyException");
    // Plaintext limits.
    let (code, _) = h.err(
        &root,
        "Encrypt",
        json!({"KeyId": id, "Plaintext": b64(&[0u8; 4097])}),
    );
    assert_eq!(code, "ValidationException");
    let (code, _) = h.err(
        &root,
        "Encrypt",
        json!({"KeyId": id, "Plaintext": b64(b"x"), "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}),
    );
    assert_eq!(code, "InvalidKeyUsageException");
    let (code, _) = h.err(
        &root,
        "Encrypt",
        json!({"KeyId": id, "Plaintext": b64(b"x"), "DryRun": true}),
    );
    assert_eq!(code, "DryRunOperationException");
}

#[test]
fn generate_data_key_and_reencrypt() {
    let h = Harness::new();
    let root = Caller::root(A, None);
    let id = h.create_key(&root);
    let g = h.ok(
        &root,
        "GenerateDataKey",
        json!({"KeyId": id, "KeySpec": "AES_256", "EncryptionContext": {"k": "v"}}),
    );
    let plain = unb64(&g["Plaintext"]);
    assert_eq!(plain.len(), 32);
    let d = h.ok(
        &root,
        "Decrypt",
        json!({"CiphertextBlob": g["CiphertextBlob"], "EncryptionContext": {"k": "v"}}),
    );
    assert_eq!(unb64(&d["Plaintext"]), plain);
    let g16 = h.ok(
        &root,
        "GenerateDataKey",
        json!({"KeyId": id, "KeySpec": "AES_128"}),
    );
    assert_eq!(unb64(&g16["Plaintext"]).len(), 16);
    let gn = h.ok(
        &root,
        "GenerateDataKey",
        json!({"KeyId": id, "NumberOfBytes": 7}),
    );
    assert_eq!(unb64(&gn["Plaintext"]).len(), 7);
    let (code, _) = h.err(&root, "GenerateDataKey", json!({"KeyId": id}));
    assert_eq!(code, "ValidationException");
    let w = h.ok(
        &root,
        "GenerateDataKeyWithoutPlaintext",
        json!({"KeyId": id, "KeySpec": "AES_256"}),
    );
    assert!(w.get("Plaintext").is_none());
    assert_eq!(
        unb64(
            &h.ok(
                &root,
                "Decrypt",
                json!({"CiphertextBlob": w["CiphertextBlob"]})
            )["Plaintext"]
        )
        .len(),
        32
    );

    let dest = h.create_key(&root);
    let r = h.ok(
        &root,
        "ReEncrypt",
        json!({"CiphertextBlob": g["CiphertextBlob"], "SourceEncryptionContext": {"k": "v"}, "DestinationKeyId": dest, "DestinationEncryptionContext": {"n": "m"}}),
    );
    assert!(r["SourceKeyId"].as_str().unwrap().ends_with(&id));
    assert!(r["KeyId"].as_str().unwrap().ends_with(&dest));
    assert_eq!(
        h.authz
            .last("kms:ReEncryptFrom")
            .value("kms:EncryptionContext:k"),
        Some(vec!["v".to_string()])
    );
    assert_eq!(
        h.authz
            .last("kms:ReEncryptTo")
            .value("kms:EncryptionContext:n"),
        Some(vec!["m".to_string()])
    );
    let d2 = h.ok(
        &root,
        "Decrypt",
        json!({"CiphertextBlob": r["CiphertextBlob"], "EncryptionContext": {"n": "m"}}),
    );
    assert_eq!(unb64(&d2["Plaintext"]), plain);
    let rnd = h.ok(&root, "GenerateRandom", json!({"NumberOfBytes": 20}));
    assert_eq!(unb64(&rnd["Plaintext"]).len(), 20);
}

#[test]
fn key_states() {
    let h = Harness::new();
    let root = Caller::root(A, None);
    let id = h.create_key(&root);
    let enc = h.ok(
        &root,
        "Encrypt",
        json!({"KeyId": id, "Plaintext": b64(b"x")}),
    );

    h.ok(&root, "DisableKey", json!({"KeyId": id}));
    assert_eq!(
        h.ok(&root, "DescribeKey", json!({"KeyId": id}))["KeyMetadata"]["KeyState"],
        "Disabled"
    );
    let (code, msg) = h.err(
        &root,
        "Encrypt",
        json!({"KeyId": id, "Plaintext": b64(b"x")}),
    );
    assert_eq!(
        (code.as_str(), msg),
        (
            "DisabledException",
            format!("arn:aws:kms:{REGION}:{A}:key/{id} is disabled.")
        )
    );
    let (code, _) = h.err(
        &root,
        "Decrypt",
        json!({"CiphertextBlob": enc["CiphertextBlob"]}),
    );
    assert_eq!(code, "DisabledException");
    h.ok(&root, "EnableKey", json!({"KeyId": id}));
    h.ok(
        &root,
        "Decrypt",
        json!({"CiphertextBlob": enc["CiphertextBlob"]}),
    );

    for bad in [6, 31] {
        let (code, _) = h.err(
            &root,
            "ScheduleKeyDeletion",
            json!({"KeyId": id, "PendingWindowInDays": bad}),
        );
        assert_eq!(code, "ValidationException");
    }
    let s = h.ok(
        &root,
        "ScheduleKeyDeletion",
        json!({"KeyId": id, "PendingWindowInDays": 7}),
    );
    assert_eq!(s["KeyState"], "PendingDeletion");
    assert_eq!(s["PendingWindowInDays"], 7);
    let meta = h.ok(&root, "DescribeKey", json!({"KeyId": id}))["KeyMetadata"].clone();
    assert_eq!(meta["KeyState"], "PendingDeletion");
    assert!(
        meta["DeletionDate"].as_f64().unwrap()
            > meta["CreationDate"].as_f64().unwrap() + 6.9 * 86400.0
    );
    let (code, msg) = h.err(
        &root,
        "Decrypt",
        json!({"CiphertextBlob": enc["CiphertextBlob"]}),
    );
    assert_eq!(
        (code.as_str(), msg),
        (
            "KMSInvalidStateException",
            format!("arn:aws:kms:{REGION}:{A}:key/{id} is pending deletion.")
        )
    );
    let (code, _) = h.err(&root, "EnableKey", json!({"KeyId": id}));
    assert_eq!(code, "KMSInvalidStateException");
    let (code, _) = h.err(&root, "ScheduleKeyDeletion", json!({"KeyId": id}));
    assert_eq!(code, "KMSInvalidStateException");
    h.ok(&root, "CancelKeyDeletion", json!({"KeyId": id}));
    assert_eq!(
        h.ok(&root, "DescribeKey", json!({"KeyId": id}))["KeyMetadata"]["KeyState"],
        "Disabled"
    );
    let (code, _) = h.err(&root, "CancelKeyDeletion", json!({"KeyId": id}));
    assert_eq!(code, "KMSInvalidStateException");
}

#[test]
fn deletion_date_passing_purges_the_key() {
    let h = Harness::new();
    let root = Caller::root(A, None);
    let id = h.create_key(&root);
    h.ok(
        &root,
        "CreateAlias",
        json!({"AliasName": "alias/gone", "TargetKeyId": id}),
    );
    crate::store::set_state(
        &h.kms.db,
        &id,
        crate::store::KeyState::PendingDeletion,
        Some(1),
        Some(7),
    )
    .unwrap();
    let (code, _) = h.err(&root, "DescribeKey", json!({"KeyId": id}));
    assert_eq!(code, "NotFoundException");
    assert!(h.ok(&root, "ListAliases", json!({}))["Aliases"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn aliases() {
    let h = Harness::new();
    let root = Caller::root(A, None);
    let k1 = h.create_key(&root);
    let k2 = h.create_key(&root);
    h.ok(
        &root,
        "CreateAlias",
        json!({"AliasName": "alias/app", "TargetKeyId": k1}),
    );
    let alias_check = h
        .authz
        .checks
        .lock()
        .unwrap()
        .iter()
        .find(|c| c.action == "kms:CreateAlias" && c.policies.is_empty())
        .cloned()
        .unwrap();
    assert_eq!(
        alias_check.resource,
        format!("arn:aws:kms:{REGION}:{A}:alias/app")
    );
    assert!(h.authz.last("kms:CreateAlias").resource.ends_with(&k1));
    let (code, msg) = h.err(
        &root,
        "CreateAlias",
        json!({"AliasName": "alias/app", "TargetKeyId": k2}),
    );
    assert_eq!(
        (code.as_str(), msg),
        (
            "AlreadyExistsException",
            format!("An alias with the name arn:aws:kms:{REGION}:{A}:alias/app already exists")
        )
    );
    let (code, _) = h.err(
        &root,
        "CreateAlias",
        json!({"AliasName": "alias/aws/mine", "TargetKeyId": k2}),
    );
    assert_eq!(code, "NotAuthorizedException");
    let (code, _) = h.err(
        &root,
        "CreateAlias",
        json!({"AliasName": "noprefix", "TargetKeyId": k2}),
    );
    assert_eq!(code, "ValidationException");
    let (code, _) = h.err(
        &root,
        "CreateAlias",
        json!({"AliasName": "alias/x", "TargetKeyId": "alias/app"}),
    );
    assert_eq!(code, "ValidationException");

    // Alias names and alias ARNs work wherever a key id does.
    let e = h.ok(
        &root,
        "Encrypt",
        json!({"KeyId": "alias/app", "Plaintext": b64(b"x")}),
    );
    assert!(e["KeyId"].as_str().unwrap().ends_with(&k1));
    assert_eq!(
        h.authz.last("kms:Encrypt").value("kms:RequestAlias"),
        Some(vec!["alias/app".to_string()])
    );
    assert_eq!(
        h.authz.last("kms:Encrypt").value("kms:ResourceAliases"),
        Some(vec!["alias/app".to_string()])
    );
    let arn = format!("arn:aws:kms:{REGION}:{A}:alias/app");
    assert_eq!(
        h.ok(&root, "DescribeKey", json!({"KeyId": arn}))["KeyMetadata"]["KeyId"],
        k1
    );
    h.ok(
        &root,
        "Decrypt",
        json!({"CiphertextBlob": e["CiphertextBlob"], "KeyId": "alias/app"}),
    );

    let list = h.ok(&root, "ListAliases", json!({}));
    assert_eq!(list["Aliases"][0]["AliasName"], "alias/app");
    assert_eq!(list["Aliases"][0]["AliasArn"], arn);
    assert_eq!(list["Aliases"][0]["TargetKeyId"], k1);
    h.ok(
        &root,
        "UpdateAlias",
        json!({"AliasName": "alias/app", "TargetKeyId": k2}),
    );
    assert_eq!(
        h.ok(&root, "DescribeKey", json!({"KeyId": "alias/app"}))["KeyMetadata"]["KeyId"],
        k2
    );
    assert!(h.ok(&root, "ListAliases", json!({"KeyId": k1}))["Aliases"]
        .as_array()
        .unwrap()
        .is_empty());
    h.ok(&root, "DeleteAlias", json!({"AliasName": "alias/app"}));
    let (code, _) = h.err(&root, "DeleteAlias", json!({"AliasName": "alias/app"}));
    assert_eq!(code, "NotFoundException");
    // Aliases are per account: B cannot name A's key by bare id or alias.
    let (code, _) = h.err(&Caller::root(B, None), "DescribeKey", json!({"KeyId": k1}));
    assert_eq!(code, "NotFoundException");
}

#[test]
fn key_policy_decides_access() {
    let h = Harness::new();
    let root = Caller::root(A, None);
    let alice = user(A, "alice");
    let id = h.create_key(&root);
    // Default policy delegates to IAM: alice without IAM permissions is denied.
    let (code, msg) = h.err(
        &alice,
        "Encrypt",
        json!({"KeyId": id, "Plaintext": b64(b"x")}),
    );
    assert_eq!(code, "AccessDeniedException");
    assert!(msg.starts_with(&format!("User: arn:aws:iam::{A}:user/alice is not authorized to perform: kms:Encrypt on resource: arn:aws:kms:")), "{msg}");
    h.authz.allow_iam(&alice.arn, &["kms:Encrypt"]);
    h.ok(
        &alice,
        "Encrypt",
        json!({"KeyId": id, "Plaintext": b64(b"x")}),
    );

    // A policy naming only alice: root loses access (bypassing the lockout check).
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": alice.arn}, "Action": "kms:*", "Resource": "*"}]}).to_string();
    let (code, msg) = h.err(
        &root,
        "PutKeyPolicy",
        json!({"KeyId": id, "Policy": policy}),
    );
    assert_eq!(code, "MalformedPolicyDocumentException");
    assert!(msg.contains("will not allow you to update the key policy"));
    h.ok(
        &root,
        "PutKeyPolicy",
        json!({"KeyId": id, "Policy": policy, "BypassPolicyLockoutSafetyCheck": true}),
    );
    let (code, _) = h.err(&root, "DescribeKey", json!({"KeyId": id}));
    assert_eq!(code, "AccessDeniedException");
    h.ok(&alice, "DescribeKey", json!({"KeyId": id}));
    let (code, _) = h.err(
        &alice,
        "PutKeyPolicy",
        json!({"KeyId": id, "Policy": "{\"Statement\": []}"}),
    );
    assert_eq!(code, "MalformedPolicyDocumentException");

    // CreateKey with a policy is validated, and locked-out policies refused.
    let (code, _) = h.err(&root, "CreateKey", json!({"Policy": "nope"}));
    assert_eq!(code, "MalformedPolicyDocumentException");
    let (code, _) = h.err(&root, "CreateKey", json!({"Policy": policy}));
    assert_eq!(code, "MalformedPolicyDocumentException");
    let v = h.ok(
        &root,
        "CreateKey",
        json!({"Policy": policy, "BypassPolicyLockoutSafetyCheck": true}),
    );
    let id2 = v["KeyMetadata"]["KeyId"].as_str().unwrap();
    assert!(
        h.ok(&alice, "GetKeyPolicy", json!({"KeyId": id2}))["Policy"]
            .as_str()
            .unwrap()
            .contains("user/alice")
    );
}

#[test]
fn cross_account_use_needs_key_policy_and_full_arn() {
    let h = Harness::new();
    let root_a = Caller::root(A, None);
    let root_b = Caller::root(B, None);
    let id = h.create_key(&root_a);
    let arn = format!("arn:aws:kms:{REGION}:{A}:key/{id}");
    let (code, _) = h.err(
        &root_b,
        "Encrypt",
        json!({"KeyId": arn, "Plaintext": b64(b"x")}),
    );
    assert_eq!(code, "AccessDeniedException");
    let policy = json!({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{A}:root")}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{B}:root")}, "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*"}
    ]})
    .to_string();
    h.ok(
        &root_a,
        "PutKeyPolicy",
        json!({"KeyId": id, "Policy": policy}),
    );
    let e = h.ok(
        &root_b,
        "Encrypt",
        json!({"KeyId": arn, "Plaintext": b64(b"x")}),
    );
    assert_eq!(
        h.authz.last("kms:Encrypt").value("kms:CallerAccount"),
        Some(vec![B.to_string()])
    );
    h.ok(
        &root_b,
        "Decrypt",
        json!({"CiphertextBlob": e["CiphertextBlob"]}),
    );
    let (code, _) = h.err(&root_b, "DescribeKey", json!({"KeyId": arn}));
    assert_eq!(code, "AccessDeniedException");
}

#[test]
fn tags() {
    let h = Harness::new();
    let root = Caller::root(A, None);
    let id = h.create_key(&root);
    h.ok(&root, "TagResource", json!({"KeyId": id, "Tags": [{"TagKey": "a", "TagValue": "1"}, {"TagKey": "b", "TagValue": "2"}]}));
    assert_eq!(
        h.authz.last("kms:TagResource").value("aws:TagKeys"),
        Some(vec!["a".to_string(), "b".to_string()])
    );
    h.ok(
        &root,
        "TagResource",
        json!({"KeyId": id, "Tags": [{"TagKey": "a", "TagValue": "3"}]}),
    );
    h.ok(
        &root,
        "UntagResource",
        json!({"KeyId": id, "TagKeys": ["b"]}),
    );
    assert_eq!(
        h.ok(&root, "ListResourceTags", json!({"KeyId": id}))["Tags"],
        json!([{"TagKey": "a", "TagValue": "3"}])
    );
    // Resource tags reach the authorizer for ABAC.
    h.ok(&root, "DescribeKey", json!({"KeyId": id}));
    assert_eq!(
        h.authz.last("kms:DescribeKey").value("aws:ResourceTag/a"),
        Some(vec!["3".to_string()])
    );
    let (code, _) = h.err(
        &root,
        "TagResource",
        json!({"KeyId": id, "Tags": [{"TagKey": "aws:reserved", "TagValue": "x"}]}),
    );
    assert_eq!(code, "TagException");
}

#[test]
fn key_material_survives_reopen_with_same_master_key() {
    let db = std::sync::Arc::new(strongbox_core::db::Db::open_in_memory().unwrap());
    let dir = std::env::temp_dir().join(format!(
        "sbkms-reopen-{}",
        strongbox_core::ids::random_hex(6)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let authz = crate::testing::TestAuthz::default();
    let meta = strongbox_core::RequestMeta::local("r", REGION);
    let root = Caller::root(A, None);
    let kms1 = crate::Kms::open(db.clone(), &dir, REGION, None).unwrap();
    let create = kms1.handle(&root, &meta, &authz, "TrentService.CreateKey", b"{}");
    let id = serde_json::from_str::<serde_json::Value>(&create.body).unwrap()["KeyMetadata"]
        ["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    let enc = kms1.handle(
        &root,
        &meta,
        &authz,
        "TrentService.Encrypt",
        json!({"KeyId": id, "Plaintext": b64(b"persist")})
            .to_string()
            .as_bytes(),
    );
    let blob =
        serde_json::from_str::<serde_json::Value>(&enc.body).unwrap()["CiphertextBlob"].clone();
    drop(kms1);
    let kms2 = crate::Kms::open(db.clone(), &dir, REGION, None).unwrap();
    let dec = kms2.handle(
        &root,
        &meta,
        &authz,
        "Decrypt",
        json!({"CiphertextBlob": blob}).to_string().as_bytes(),
    );
    assert_eq!(dec.status, 200, "{}", dec.body);
    // A different master key cannot unwrap the stored material.
    let kms3 = crate::Kms::open(
        db,
        &dir,
        REGION,
        Some("a completely different operator secret"),
    )
    .unwrap();
    let dec = kms3.handle(
        &root,
        &meta,
        &authz,
        "Decrypt",
        json!({"CiphertextBlob": blob}).to_string().as_bytes(),
    );
    assert_eq!(dec.status, 500);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rotation_keeps_old_ciphertexts_decryptable() {
    let h = Harness::new();
    let root = Caller::root(A, None);
    let id = h.create_key(&root);
    let before = h.ok(
        &root,
        "Encrypt",
        json!({"KeyId": id, "Plaintext": b64(b"old")}),
    );
    assert_eq!(
        h.ok(&root, "GetKeyRotationStatus", json!({"KeyId": id}))["KeyRotationEnabled"],
        false
    );
    h.ok(&root, "RotateKeyOnDemand", json!({"KeyId": id}));
    let after = h.ok(
        &root,
        "Encrypt",
        json!({"KeyId": id, "Plaintext": b64(b"new")}),
    );
    let header = |v: &serde_json::Value| {
        crate::ciphertext::parse_header(&unb64(&v["CiphertextBlob"]))
            .unwrap()
            .material_version
    };
    assert_eq!((header(&before), header(&after)), (1, 2));
    assert_eq!(
        unb64(
            &h.ok(
                &root,
                "Decrypt",
                json!({"CiphertextBlob": before["CiphertextBlob"]})
            )["Plaintext"]
        ),
        b"old"
    );
    assert_eq!(
        unb64(
            &h.ok(
                &root,
                "Decrypt",
                json!({"CiphertextBlob": after["CiphertextBlob"]})
            )["Plaintext"]
        ),
        b"new"
    );
    let rotations = h.ok(&root, "ListKeyRotations", json!({"KeyId": id}));
    assert_eq!(rotations["Rotations"][0]["RotationType"], "ON_DEMAND");

    let (code, _) = h.err(
        &root,
        "EnableKeyRotation",
        json!({"KeyId": id, "RotationPeriodInDays": 30}),
    );
    assert_eq!(code, "ValidationException");
    h.ok(
        &root,
        "EnableKeyRotation",
        json!({"KeyId": id, "RotationPeriodInDays": 90}),
    );
    let status = h.ok(&root, "GetKeyRotationStatus", json!({"KeyId": id}));
    assert_eq!(
        (
            status["KeyRotationEnabled"].clone(),
            status["RotationPeriodInDays"].clone()
        ),
        (json!(true), json!(90))
    );
    // A due automatic rotation happens before the next encryption.
    crate::store::set_rotation(&h.kms.db, &id, true, Some(90), Some(1)).unwrap();
    let auto = h.ok(
        &root,
        "Encrypt",
        json!({"KeyId": id, "Plaintext": b64(b"auto")}),
    );
    assert_eq!(header(&auto), 3);
    let rotations = h.ok(&root, "ListKeyRotations", json!({"KeyId": id}));
    assert_eq!(rotations["Rotations"][1]["RotationType"], "AUTOMATIC");
    let next = h.ok(&root, "GetKeyRotationStatus", json!({"KeyId": id}))["NextRotationDate"]
        .as_f64()
        .unwrap();
    assert!(next > 80.0 * 86400.0 + jiff::Timestamp::now().as_second() as f64);
    h.ok(&root, "DisableKeyRotation", json!({"KeyId": id}));
    h.ok(&root, "DisableKey", json!({"KeyId": id}));
    let (code, _) = h.err(&root, "RotateKeyOnDemand", json!({"KeyId": id}));
    assert_eq!(code, "DisabledException");
}

#[test]
fn lockout_check_reads_the_key_policy_only() {
    let h = Harness::new();
    let alice = user(A, "alice");
    h.authz.allow_iam(&alice.arn, &["kms:CreateKey"]);
    // Delegating to the account root keeps alice able to manage the key (through IAM).
    let delegating = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{A}:root")}, "Action": "kms:*", "Resource": "*"}]}).to_string();
    h.ok(&alice, "CreateKey", json!({"Policy": delegating}));
    // A policy for someone else only locks her out.
    let other = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{A}:user/bob")}, "Action": "kms:*", "Resource": "*"}]}).to_string();
    let (code, _) = h.err(&alice, "CreateKey", json!({"Policy": other}));
    assert_eq!(code, "MalformedPolicyDocumentException");
    // An explicit deny of PutKeyPolicy for her does too.
    let deny = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{A}:root")}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": alice.arn}, "Action": "kms:PutKeyPolicy", "Resource": "*"}]}).to_string();
    let (code, _) = h.err(&alice, "CreateKey", json!({"Policy": deny}));
    assert_eq!(code, "MalformedPolicyDocumentException");
    // No decision is recorded for the safety check itself.
    assert!(h
        .authz
        .checks
        .lock()
        .unwrap()
        .iter()
        .all(|c| c.action != "kms:PutKeyPolicy"));
}
