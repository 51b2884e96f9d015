use strongbox_core::{Caller, CallerKind};

use crate::testutil::*;
use crate::{Identity, IdentityError};

fn call(id: &Identity, caller: &Caller, pairs: &[(&str, &str)]) -> crate::IamReply {
    id.handle_sts(caller, &meta(), &TestAuthz::default(), &params(pairs))
}

fn setup() -> (Identity, Caller, Caller, String) {
    let id = identity();
    let root = root(&id);
    let account = id.management_account_id();
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":["sts:AssumeRole","sts:TagSession"]}}]}}"#
    );
    let authz = TestAuthz::default();
    let iam = |pairs: &[(&str, &str)]| {
        let r = id.handle_iam(&root, &meta(), &authz, &params(pairs));
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
    };
    iam(&[
        ("Action", "CreateRole"),
        ("RoleName", "reader"),
        ("Path", "/app/"),
        ("AssumeRolePolicyDocument", &trust),
        ("Tags.member.1.Key", "dept"),
        ("Tags.member.1.Value", "ops"),
    ]);
    iam(&[
        ("Action", "PutRolePolicy"),
        ("RoleName", "reader"),
        ("PolicyName", "p"),
        (
            "PolicyDocument",
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
        ),
    ]);
    iam(&[("Action", "CreateUser"), ("UserName", "alice")]);
    let key = iam(&[("Action", "CreateAccessKey"), ("UserName", "alice")]);
    let alice = id
        .lookup_key(
            &xml_value(&key, "AccessKeyId").unwrap(),
            None,
            jiff::Timestamp::now(),
        )
        .unwrap()
        .caller;
    let role_arn = format!("arn:aws:iam::{account}:role/app/reader");
    (id, root, alice, role_arn)
}

#[test]
fn get_caller_identity() {
    let (id, root, alice, _) = setup();
    let r = call(&id, &alice, &[("Action", "GetCallerIdentity")]);
    assert_eq!(r.status, 200);
    assert!(r.body.starts_with("<?xml") && r.body.contains("<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>"));
    assert_eq!(xml_value(&r.body, "Arn"), Some(alice.arn.clone()));
    assert_eq!(xml_value(&r.body, "UserId"), Some(alice.user_id.clone()));
    let r = call(&id, &root, &[("Action", "GetCallerIdentity")]);
    assert_eq!(
        xml_value(&r.body, "UserId"),
        Some(id.management_account_id())
    );
}

#[test]
fn assume_role_issues_session_credentials() {
    let (id, root, alice, role_arn) = setup();
    let session_policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
    let r = call(
        &id,
        &alice,
        &[
            ("Action", "AssumeRole"),
            ("RoleArn", &role_arn),
            ("RoleSessionName", "s1"),
            ("DurationSeconds", "900"),
            ("Policy", session_policy),
            (
                "PolicyArns.member.1.arn",
                "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
            ),
            ("Tags.member.1.Key", "project"),
            ("Tags.member.1.Value", "x"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let key = xml_value(&r.body, "AccessKeyId").unwrap();
    assert!(key.starts_with("ASIA"));
    let secret = xml_value(&r.body, "SecretAccessKey").unwrap();
    let token = xml_value(&r.body, "SessionToken").unwrap();
    let account = id.management_account_id();
    assert_eq!(
        xml_value(&r.body, "Arn"),
        Some(format!("arn:aws:sts::{account}:assumed-role/reader/s1"))
    );
    let assumed_id = xml_value(&r.body, "AssumedRoleId").unwrap();
    assert!(assumed_id.starts_with("AROA") && assumed_id.ends_with(":s1"));

    let now = jiff::Timestamp::now();
    let found = id.lookup_key(&key, Some(&token), now).unwrap();
    assert_eq!(found.secret, secret);
    let c = found.caller;
    assert_eq!(c.kind, CallerKind::AssumedRole);
    assert_eq!(c.principal_arn, role_arn);
    assert_eq!(c.user_id, assumed_id);
    assert_eq!(c.tags.get("dept").map(String::as_str), Some("ops"));
    assert_eq!(c.tags.get("project").map(String::as_str), Some("x"));
    let sp = c.session_policies.clone().unwrap();
    assert_eq!(sp.len(), 2);
    assert!(c.token_issue_time.is_some());
    let pols = id.policies_for(&c);
    assert_eq!(pols.identity.len(), 1);
    assert_eq!(pols.identity[0].name, "role/reader/inline/p");

    assert!(matches!(
        id.lookup_key(&key, Some("wrong"), now),
        Err(IdentityError::InvalidToken(_))
    ));
    // Same length, last byte changed: still refused (compared in constant time).
    let mut near = token.clone().into_bytes();
    if let Some(last) = near.last_mut() {
        *last = if *last == b'A' { b'B' } else { b'A' };
    }
    let near = String::from_utf8(near).unwrap();
    assert!(matches!(
        id.lookup_key(&key, Some(&near), now),
        Err(IdentityError::InvalidToken(_))
    ));
    assert!(matches!(
        id.lookup_key(&key, None, now),
        Err(IdentityError::InvalidAccessKeyId(_))
    ));
    let later = jiff::Timestamp::from_second(now.as_second() + 901).unwrap();
    assert!(matches!(
        id.lookup_key(&key, Some(&token), later),
        Err(IdentityError::ExpiredToken(_))
    ));

    // Role chaining is limited to one hour; root may not assume roles.
    let r = call(
        &id,
        &c,
        &[
            ("Action", "AssumeRole"),
            ("RoleArn", &role_arn),
            ("RoleSessionName", "s2"),
            ("DurationSeconds", "7200"),
        ],
    );
    assert_eq!(
        xml_value(&r.body, "Code").as_deref(),
        Some("ValidationError")
    );
    let r = call(
        &id,
        &root,
        &[
            ("Action", "AssumeRole"),
            ("RoleArn", &role_arn),
            ("RoleSessionName", "s3"),
        ],
    );
    assert_eq!(r.status, 403);
    assert!(r
        .body
        .contains("Roles may not be assumed by root accounts."));
}

#[test]
fn assume_role_failures() {
    let (id, _root, alice, role_arn) = setup();
    let missing = role_arn.replace("reader", "ghost");
    let r = call(
        &id,
        &alice,
        &[
            ("Action", "AssumeRole"),
            ("RoleArn", &missing),
            ("RoleSessionName", "s0"),
        ],
    );
    assert_eq!(
        (r.status, xml_value(&r.body, "Code").as_deref()),
        (403, Some("AccessDenied"))
    );
    let r = call(
        &id,
        &alice,
        &[
            ("Action", "AssumeRole"),
            ("RoleArn", &role_arn),
            ("RoleSessionName", "s0"),
            ("DurationSeconds", "7200"),
        ],
    );
    assert!(r.body.contains("MaxSessionDuration"));
    let r = call(
        &id,
        &alice,
        &[
            ("Action", "AssumeRole"),
            ("RoleArn", &role_arn),
            ("RoleSessionName", "bad name"),
        ],
    );
    assert_eq!(
        xml_value(&r.body, "Code").as_deref(),
        Some("ValidationError")
    );
    let r = call(
        &id,
        &alice,
        &[
            ("Action", "AssumeRole"),
            ("RoleArn", &role_arn),
            ("RoleSessionName", "s0"),
            ("Policy", "{"),
        ],
    );
    assert_eq!(
        xml_value(&r.body, "Code").as_deref(),
        Some("MalformedPolicyDocument")
    );
    // A role in another account whose trust policy does not name us.
    let other = "arn:aws:iam::999999999999:role/x";
    let r = call(
        &id,
        &alice,
        &[
            ("Action", "AssumeRole"),
            ("RoleArn", other),
            ("RoleSessionName", "s0"),
        ],
    );
    assert_eq!(r.status, 403);
}

#[test]
fn get_session_token() {
    let (id, root, alice, _) = setup();
    let r = call(
        &id,
        &alice,
        &[("Action", "GetSessionToken"), ("DurationSeconds", "900")],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let key = xml_value(&r.body, "AccessKeyId").unwrap();
    let token = xml_value(&r.body, "SessionToken").unwrap();
    let c = id
        .lookup_key(&key, Some(&token), jiff::Timestamp::now())
        .unwrap()
        .caller;
    assert_eq!(c.kind, CallerKind::User);
    assert_eq!(c.arn, alice.arn);
    assert!(c.token_issue_time.is_some());
    // GetSessionToken credentials cannot call IAM without MFA, nor most of STS.
    let r = id.handle_iam(
        &c,
        &meta(),
        &TestAuthz::default(),
        &params(&[("Action", "ListUsers")]),
    );
    assert_eq!(
        (r.status, xml_value(&r.body, "Code").as_deref()),
        (403, Some("InvalidClientTokenId"))
    );
    let r = call(
        &id,
        &c,
        &[("Action", "GetAccessKeyInfo"), ("AccessKeyId", &key)],
    );
    assert_eq!(r.status, 403);
    assert_eq!(
        call(&id, &c, &[("Action", "GetCallerIdentity")]).status,
        200
    );
    let again = call(&id, &c, &[("Action", "GetSessionToken")]);
    assert_eq!(again.status, 403);
    let r = call(&id, &root, &[("Action", "GetSessionToken")]);
    let key = xml_value(&r.body, "AccessKeyId").unwrap();
    let token = xml_value(&r.body, "SessionToken").unwrap();
    assert!(id
        .lookup_key(&key, Some(&token), jiff::Timestamp::now())
        .unwrap()
        .caller
        .is_root());
}

#[test]
fn transitive_tags_follow_role_chains() {
    let (id, _root, alice, role_arn) = setup();
    let r = call(
        &id,
        &alice,
        &[
            ("Action", "AssumeRole"),
            ("RoleArn", &role_arn),
            ("RoleSessionName", "first"),
            ("Tags.member.1.Key", "project"),
            ("Tags.member.1.Value", "apollo"),
            ("Tags.member.2.Key", "temp"),
            ("Tags.member.2.Value", "t"),
            ("TransitiveTagKeys.member.1", "project"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let key = xml_value(&r.body, "AccessKeyId").unwrap();
    let token = xml_value(&r.body, "SessionToken").unwrap();
    let first = id
        .lookup_key(&key, Some(&token), jiff::Timestamp::now())
        .unwrap()
        .caller;
    let r = call(
        &id,
        &first,
        &[
            ("Action", "AssumeRole"),
            ("RoleArn", &role_arn),
            ("RoleSessionName", "second"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let key = xml_value(&r.body, "AccessKeyId").unwrap();
    let token = xml_value(&r.body, "SessionToken").unwrap();
    let second = id
        .lookup_key(&key, Some(&token), jiff::Timestamp::now())
        .unwrap()
        .caller;
    assert_eq!(
        second.tags.get("project").map(String::as_str),
        Some("apollo")
    );
    assert!(!second.tags.contains_key("temp"));
    let r = call(
        &id,
        &first,
        &[
            ("Action", "AssumeRole"),
            ("RoleArn", &role_arn),
            ("RoleSessionName", "third"),
            ("Tags.member.1.Key", "project"),
            ("Tags.member.1.Value", "x"),
        ],
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let r = call(
        &id,
        &alice,
        &[
            ("Action", "AssumeRole"),
            ("RoleArn", &role_arn),
            ("RoleSessionName", "fourth"),
            ("TransitiveTagKeys.member.1", "nope"),
        ],
    );
    assert_eq!(r.status, 400, "{}", r.body);
}

#[test]
fn get_access_key_info() {
    let (id, root, alice, _) = setup();
    let key = alice.access_key_id.clone().unwrap();
    let r = call(
        &id,
        &root,
        &[("Action", "GetAccessKeyInfo"), ("AccessKeyId", &key)],
    );
    assert_eq!(
        xml_value(&r.body, "Account"),
        Some(id.management_account_id())
    );
    let r = call(
        &id,
        &root,
        &[("Action", "GetAccessKeyInfo"), ("AccessKeyId", "AKIANOPE")],
    );
    assert_eq!(r.status, 400);
}

fn federate(id: &Identity, caller: &Caller, extra: &[(&str, &str)]) -> Caller {
    let mut pairs = vec![("Action", "GetFederationToken"), ("Name", "bob")];
    pairs.extend_from_slice(extra);
    let r = call(id, caller, &pairs);
    assert_eq!(r.status, 200, "{}", r.body);
    let account = id.management_account_id();
    assert_eq!(
        xml_value(&r.body, "Arn"),
        Some(format!("arn:aws:sts::{account}:federated-user/bob"))
    );
    assert_eq!(
        xml_value(&r.body, "FederatedUserId"),
        Some(format!("{account}:bob"))
    );
    id.lookup_key(
        &xml_value(&r.body, "AccessKeyId").unwrap(),
        xml_value(&r.body, "SessionToken").as_deref(),
        jiff::Timestamp::now(),
    )
    .unwrap()
    .caller
}

#[test]
fn get_federation_token_of_a_user() {
    let (id, _, alice, _) = setup();
    let account = id.management_account_id();
    let doc = r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    let bob = federate(
        &id,
        &alice,
        &[
            ("Policy", doc),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
        ],
    );
    assert_eq!(bob.kind, CallerKind::FederatedUser);
    assert_eq!(
        bob.arn,
        format!("arn:aws:sts::{account}:federated-user/bob")
    );
    assert_eq!(bob.principal_arn, bob.arn);
    assert_eq!(bob.user_id, format!("{account}:bob"));
    assert_eq!(
        bob.user_name, None,
        "aws:username is absent for federated users"
    );
    assert_eq!(bob.tags.get("team").map(String::as_str), Some("blue"));
    let by = bob.federated_by.clone().unwrap();
    assert_eq!(
        (by.name.as_str(), by.id.as_str()),
        ("alice", alice.user_id.as_str())
    );
    let policies = bob.session_policies.clone().unwrap();
    assert_eq!(policies.len(), 1);
    assert_eq!(policies[0].document, doc);

    // Only GetCallerIdentity in STS; no IAM at all.
    let r = call(&id, &bob, &[("Action", "GetCallerIdentity")]);
    assert_eq!(xml_value(&r.body, "UserId"), Some(format!("{account}:bob")));
    let r = call(&id, &bob, &[("Action", "GetSessionToken")]);
    assert_eq!(r.status, 403, "{}", r.body);
    let r = call(
        &id,
        &bob,
        &[("Action", "GetFederationToken"), ("Name", "carol")],
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let r = id.handle_iam(
        &bob,
        &meta(),
        &TestAuthz::default(),
        &params(&[("Action", "GetUser")]),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("InvalidClientTokenId"), "{}", r.body);
}

#[test]
fn get_federation_token_without_policy_has_no_session_permissions() {
    let (id, root, _, _) = setup();
    let bob = federate(&id, &root, &[]);
    assert!(bob.federated_by.is_none());
    // An empty list, not None: the session policy step then allows nothing.
    assert_eq!(bob.session_policies.as_deref().map(Vec::len), Some(0));
}

#[test]
fn get_federation_token_validation() {
    let (id, root, alice, _) = setup();
    for (name, code) in [("b", "ValidationError"), ("bad name", "ValidationError")] {
        let r = call(
            &id,
            &alice,
            &[("Action", "GetFederationToken"), ("Name", name)],
        );
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.body.contains(code), "{}", r.body);
    }
    let r = call(
        &id,
        &alice,
        &[
            ("Action", "GetFederationToken"),
            ("Name", "bob"),
            ("DurationSeconds", "899"),
        ],
    );
    assert_eq!(r.status, 400, "{}", r.body);
    // Root sessions are capped at an hour.
    let r = call(
        &id,
        &root,
        &[
            ("Action", "GetFederationToken"),
            ("Name", "bob"),
            ("DurationSeconds", "7200"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let key = xml_value(&r.body, "AccessKeyId").unwrap();
    let session = id.store.session(&key).unwrap();
    assert_eq!(
        session.expires.as_second() - session.issued.as_second(),
        3600
    );
    let r = call(
        &id,
        &alice,
        &[
            ("Action", "GetFederationToken"),
            ("Name", "bob"),
            ("Policy", "{not json"),
        ],
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("MalformedPolicyDocument"), "{}", r.body);
}
