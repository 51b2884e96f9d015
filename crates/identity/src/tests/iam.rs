use std::sync::Arc;

use strongbox_core::db::Db;
use strongbox_core::{Caller, CallerKind};

use crate::testutil::*;
use crate::{Identity, IdentityError, RootKey};

fn iam(id: &Identity, caller: &Caller, pairs: &[(&str, &str)]) -> crate::IamReply {
    id.handle_iam(caller, &meta(), &TestAuthz::default(), &params(pairs))
}

fn ok(id: &Identity, caller: &Caller, pairs: &[(&str, &str)]) -> String {
    let r = iam(id, caller, pairs);
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

fn err(id: &Identity, caller: &Caller, pairs: &[(&str, &str)]) -> (u16, String) {
    let r = iam(id, caller, pairs);
    assert_ne!(r.status, 200, "{}", r.body);
    (r.status, xml_value(&r.body, "Code").unwrap_or_default())
}

const S3_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;

/// Creates user `name` with one access key; returns its caller.
fn user_with_key(id: &Identity, root: &Caller, name: &str) -> Caller {
    ok(id, root, &[("Action", "CreateUser"), ("UserName", name)]);
    let body = ok(
        id,
        root,
        &[("Action", "CreateAccessKey"), ("UserName", name)],
    );
    let key = xml_value(&body, "AccessKeyId").unwrap();
    let secret = xml_value(&body, "SecretAccessKey").unwrap();
    let found = id.lookup_key(&key, None, jiff::Timestamp::now()).unwrap();
    assert_eq!(found.secret, secret);
    found.caller
}

#[test]
fn management_account_is_created_once_and_persists() {
    let path = std::env::temp_dir().join(format!(
        "sb-identity-{}.db",
        strongbox_core::ids::random_hex(6)
    ));
    let key = RootKey {
        access_key_id: ROOT_KEY.into(),
        secret: ROOT_SECRET.into(),
    };
    let (account, canonical, session) = {
        let id = Identity::open(
            Arc::new(Db::open(&path).unwrap()),
            "us-east-1",
            key.clone(),
            &test_master_key(),
        )
        .unwrap();
        let account = id.management_account_id();
        assert_eq!(account.len(), 12);
        let root = root(&id);
        assert_eq!(root.kind, CallerKind::Root);
        assert_eq!(root.arn, format!("arn:aws:iam::{account}:root"));
        ok(
            &id,
            &root,
            &[("Action", "CreateUser"), ("UserName", "alice")],
        );
        let r = id.handle_sts(
            &root,
            &meta(),
            &TestAuthz::default(),
            &params(&[("Action", "GetSessionToken")]),
        );
        let session = (
            xml_value(&r.body, "AccessKeyId").unwrap(),
            xml_value(&r.body, "SessionToken").unwrap(),
        );
        let canonical = id.canonical_user_id(&account).unwrap();
        (account, canonical, session)
    };
    let id = Identity::open(
        Arc::new(Db::open(&path).unwrap()),
        "us-east-1",
        key,
        &test_master_key(),
    )
    .unwrap();
    assert_eq!(id.management_account_id(), account);
    assert_eq!(id.canonical_user_id(&account).unwrap(), canonical);
    assert_eq!(canonical.len(), 64);
    assert_eq!(
        id.account_for_canonical_id(&canonical),
        Some(account.clone())
    );
    assert!(id.principal_exists(&format!("arn:aws:iam::{account}:user/alice")));
    assert_eq!(id.list_accounts().len(), 1);
    let restored = id
        .lookup_key(&session.0, Some(&session.1), jiff::Timestamp::now())
        .unwrap();
    assert!(restored.caller.is_root() && restored.caller.token_issue_time.is_some());
    let _ = std::fs::remove_file(&path);
}

#[test]
fn unknown_and_reset_root_keys() {
    let id = identity();
    let e = id
        .lookup_key("AKIANOPE", None, jiff::Timestamp::now())
        .unwrap_err();
    assert!(matches!(e, IdentityError::InvalidAccessKeyId(_)));
    assert_eq!(e.query_code(), "InvalidClientTokenId");
    let account = id.management_account_id();
    let (key, secret) = id.reset_root_key(&account).unwrap();
    assert!(id
        .lookup_key(ROOT_KEY, None, jiff::Timestamp::now())
        .is_err());
    assert_eq!(
        id.lookup_key(&key, None, jiff::Timestamp::now())
            .unwrap()
            .secret,
        secret
    );
    assert_eq!(id.list_accounts()[0].root_access_key_ids, vec![key]);
}

#[test]
fn users_keys_and_caller() {
    let id = identity();
    let root = root(&id);
    let body = ok(
        &id,
        &root,
        &[
            ("Action", "CreateUser"),
            ("UserName", "alice"),
            ("Path", "/eng/"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
        ],
    );
    let user_id = xml_value(&body, "UserId").unwrap();
    assert!(user_id.starts_with("AIDA") && user_id.len() == 21);
    assert!(body.contains("<Arn>arn:aws:iam::") && body.contains(":user/eng/alice</Arn>"));
    assert_eq!(
        err(
            &id,
            &root,
            &[("Action", "CreateUser"), ("UserName", "ALICE")]
        ),
        (409, "EntityAlreadyExists".into())
    );
    assert_eq!(
        err(
            &id,
            &root,
            &[("Action", "CreateUser"), ("UserName", "bad name")]
        )
        .1,
        "ValidationError"
    );
    assert_eq!(
        err(&id, &root, &[("Action", "GetUser"), ("UserName", "bob")]),
        (404, "NoSuchEntity".into())
    );

    let k1 = ok(
        &id,
        &root,
        &[("Action", "CreateAccessKey"), ("UserName", "alice")],
    );
    ok(
        &id,
        &root,
        &[("Action", "CreateAccessKey"), ("UserName", "alice")],
    );
    assert_eq!(
        err(
            &id,
            &root,
            &[("Action", "CreateAccessKey"), ("UserName", "alice")]
        ),
        (409, "LimitExceeded".into())
    );
    let key = xml_value(&k1, "AccessKeyId").unwrap();
    let caller = id
        .lookup_key(&key, None, jiff::Timestamp::now())
        .unwrap()
        .caller;
    assert_eq!(caller.kind, CallerKind::User);
    assert_eq!(caller.user_id, user_id);
    assert_eq!(caller.user_name.as_deref(), Some("alice"));
    assert_eq!(caller.tags.get("team").map(String::as_str), Some("blue"));

    // GetUser without UserName answers for the caller.
    let me = ok(&id, &caller, &[("Action", "GetUser")]);
    assert_eq!(xml_value(&me, "UserName").as_deref(), Some("alice"));
    let listed = ok(&id, &caller, &[("Action", "ListAccessKeys")]);
    assert_eq!(listed.matches("<AccessKeyId>").count(), 2);

    ok(
        &id,
        &root,
        &[
            ("Action", "UpdateAccessKey"),
            ("UserName", "alice"),
            ("AccessKeyId", &key),
            ("Status", "Inactive"),
        ],
    );
    assert!(matches!(
        id.lookup_key(&key, None, jiff::Timestamp::now()),
        Err(IdentityError::InvalidAccessKeyId(_))
    ));
    assert!(ok(
        &id,
        &root,
        &[("Action", "ListAccessKeys"), ("UserName", "alice")]
    )
    .contains("<Status>Inactive</Status>"));

    assert_eq!(
        err(
            &id,
            &root,
            &[("Action", "DeleteUser"), ("UserName", "alice")]
        ),
        (409, "DeleteConflict".into())
    );
    let ids: Vec<String> = listed
        .split("<AccessKeyId>")
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .map(str::to_string)
        .collect();
    assert_eq!(ids.len(), 2);
    for k in ids {
        ok(
            &id,
            &root,
            &[
                ("Action", "DeleteAccessKey"),
                ("UserName", "alice"),
                ("AccessKeyId", &k),
            ],
        );
    }
    assert_eq!(
        err(
            &id,
            &root,
            &[
                ("Action", "DeleteAccessKey"),
                ("UserName", "alice"),
                ("AccessKeyId", &key)
            ]
        ),
        (404, "NoSuchEntity".into())
    );
    assert!(
        ok(
            &id,
            &root,
            &[("Action", "ListAccessKeys"), ("UserName", "alice")]
        )
        .matches("<AccessKeyId>")
        .count()
            == 0
    );
    ok(
        &id,
        &root,
        &[("Action", "DeleteUser"), ("UserName", "alice")],
    );
    assert!(!ok(&id, &root, &[("Action", "ListUsers")]).contains("alice"));
}

#[test]
fn inline_managed_group_policies_reach_policies_for() {
    let id = identity();
    let root = root(&id);
    let alice = user_with_key(&id, &root, "alice");
    ok(
        &id,
        &root,
        &[
            ("Action", "PutUserPolicy"),
            ("UserName", "alice"),
            ("PolicyName", "s3"),
            ("PolicyDocument", S3_ALL),
        ],
    );
    let got = ok(
        &id,
        &root,
        &[
            ("Action", "GetUserPolicy"),
            ("UserName", "alice"),
            ("PolicyName", "s3"),
        ],
    );
    assert_eq!(
        xml_value(&got, "PolicyDocument").unwrap(),
        crate::query::url_encode(S3_ALL)
    );
    assert_eq!(
        err(
            &id,
            &root,
            &[
                ("Action", "PutUserPolicy"),
                ("UserName", "alice"),
                ("PolicyName", "x"),
                ("PolicyDocument", "{oops")
            ]
        ),
        (400, "MalformedPolicyDocument".into())
    );
    ok(
        &id,
        &root,
        &[
            ("Action", "AttachUserPolicy"),
            ("UserName", "alice"),
            (
                "PolicyArn",
                "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
            ),
        ],
    );
    assert_eq!(
        err(
            &id,
            &root,
            &[
                ("Action", "AttachUserPolicy"),
                ("UserName", "alice"),
                ("PolicyArn", "arn:aws:iam::aws:policy/Nope")
            ]
        ),
        (404, "NoSuchEntity".into())
    );
    ok(
        &id,
        &root,
        &[("Action", "CreateGroup"), ("GroupName", "devs")],
    );
    ok(
        &id,
        &root,
        &[
            ("Action", "AddUserToGroup"),
            ("GroupName", "devs"),
            ("UserName", "alice"),
        ],
    );
    ok(
        &id,
        &root,
        &[
            ("Action", "PutGroupPolicy"),
            ("GroupName", "devs"),
            ("PolicyName", "g"),
            ("PolicyDocument", S3_ALL),
        ],
    );
    ok(
        &id,
        &root,
        &[
            ("Action", "AttachGroupPolicy"),
            ("GroupName", "devs"),
            ("PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess"),
        ],
    );
    let group = ok(&id, &root, &[("Action", "GetGroup"), ("GroupName", "devs")]);
    assert!(
        group.contains("<UserName>alice</UserName>")
            && xml_value(&group, "GroupId").unwrap().starts_with("AGPA")
    );
    assert!(ok(
        &id,
        &root,
        &[("Action", "ListGroupsForUser"), ("UserName", "alice")]
    )
    .contains("<GroupName>devs</GroupName>"));

    let pols = id.policies_for(&alice);
    let names: Vec<&str> = pols.identity.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "user/alice/inline/s3",
            "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
            "group/devs/inline/g",
            "arn:aws:iam::aws:policy/AdministratorAccess"
        ]
    );
    assert!(pols.boundary.is_none() && pols.scps.is_none() && pols.org_id.is_none());
    assert!(pols.identity[3].document.contains("\"Action\": \"*\""));

    assert_eq!(
        err(
            &id,
            &root,
            &[("Action", "DeleteGroup"), ("GroupName", "devs")]
        ),
        (409, "DeleteConflict".into())
    );
    ok(
        &id,
        &root,
        &[
            ("Action", "RemoveUserFromGroup"),
            ("GroupName", "devs"),
            ("UserName", "alice"),
        ],
    );
    assert_eq!(id.policies_for(&alice).identity.len(), 2);
    ok(
        &id,
        &root,
        &[
            ("Action", "DetachUserPolicy"),
            ("UserName", "alice"),
            (
                "PolicyArn",
                "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
            ),
        ],
    );
    ok(
        &id,
        &root,
        &[
            ("Action", "DeleteUserPolicy"),
            ("UserName", "alice"),
            ("PolicyName", "s3"),
        ],
    );
    assert!(id.policies_for(&alice).identity.is_empty());
}

#[test]
fn managed_policy_versions() {
    let id = identity();
    let root = root(&id);
    let body = ok(
        &id,
        &root,
        &[
            ("Action", "CreatePolicy"),
            ("PolicyName", "p"),
            ("PolicyDocument", S3_ALL),
        ],
    );
    let arn = xml_value(&body, "Arn").unwrap();
    assert!(xml_value(&body, "PolicyId").unwrap().starts_with("ANPA"));
    assert_eq!(
        err(
            &id,
            &root,
            &[
                ("Action", "CreatePolicy"),
                ("PolicyName", "P"),
                ("PolicyDocument", S3_ALL)
            ]
        )
        .1,
        "EntityAlreadyExists"
    );
    for _ in 0..4 {
        ok(
            &id,
            &root,
            &[
                ("Action", "CreatePolicyVersion"),
                ("PolicyArn", &arn),
                ("PolicyDocument", S3_ALL),
            ],
        );
    }
    assert_eq!(
        err(
            &id,
            &root,
            &[
                ("Action", "CreatePolicyVersion"),
                ("PolicyArn", &arn),
                ("PolicyDocument", S3_ALL)
            ]
        ),
        (409, "LimitExceeded".into())
    );
    assert_eq!(
        err(
            &id,
            &root,
            &[
                ("Action", "DeletePolicyVersion"),
                ("PolicyArn", &arn),
                ("VersionId", "v1")
            ]
        )
        .1,
        "DeleteConflict"
    );
    ok(
        &id,
        &root,
        &[
            ("Action", "SetDefaultPolicyVersion"),
            ("PolicyArn", &arn),
            ("VersionId", "v3"),
        ],
    );
    let got = ok(&id, &root, &[("Action", "GetPolicy"), ("PolicyArn", &arn)]);
    assert_eq!(xml_value(&got, "DefaultVersionId").as_deref(), Some("v3"));
    let v = ok(
        &id,
        &root,
        &[
            ("Action", "GetPolicyVersion"),
            ("PolicyArn", &arn),
            ("VersionId", "v3"),
        ],
    );
    assert_eq!(xml_value(&v, "IsDefaultVersion").as_deref(), Some("true"));
    assert_eq!(
        ok(
            &id,
            &root,
            &[("Action", "ListPolicyVersions"), ("PolicyArn", &arn)]
        )
        .matches("<VersionId>")
        .count(),
        5
    );

    ok(&id, &root, &[("Action", "CreateUser"), ("UserName", "u")]);
    ok(
        &id,
        &root,
        &[
            ("Action", "AttachUserPolicy"),
            ("UserName", "u"),
            ("PolicyArn", &arn),
        ],
    );
    let ents = ok(
        &id,
        &root,
        &[("Action", "ListEntitiesForPolicy"), ("PolicyArn", &arn)],
    );
    assert!(ents.contains("<UserName>u</UserName>"));
    assert_eq!(
        err(
            &id,
            &root,
            &[("Action", "DeletePolicy"), ("PolicyArn", &arn)]
        )
        .1,
        "DeleteConflict"
    );
    let local = ok(
        &id,
        &root,
        &[("Action", "ListPolicies"), ("Scope", "Local")],
    );
    assert!(local.contains("<AttachmentCount>1</AttachmentCount>"));
    let all = ok(&id, &root, &[("Action", "ListPolicies")]);
    assert!(all.contains("<PolicyName>AdministratorAccess</PolicyName>"));
    let aws = ok(
        &id,
        &root,
        &[
            ("Action", "GetPolicyVersion"),
            ("PolicyArn", "arn:aws:iam::aws:policy/AmazonS3FullAccess"),
            ("VersionId", "v2"),
        ],
    );
    assert!(aws.contains("s3-object-lambda"));
}

#[test]
fn roles_and_boundaries() {
    let id = identity();
    let root = root(&id);
    let account = id.management_account_id();
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let body = ok(
        &id,
        &root,
        &[
            ("Action", "CreateRole"),
            ("RoleName", "r"),
            ("AssumeRolePolicyDocument", &trust),
            ("MaxSessionDuration", "7200"),
        ],
    );
    assert!(xml_value(&body, "RoleId").unwrap().starts_with("AROA"));
    assert_eq!(
        xml_value(&body, "MaxSessionDuration").as_deref(),
        Some("7200")
    );
    let bad_trust = trust.replace(":root", ":user/ghost");
    let (status, code) = err(
        &id,
        &root,
        &[
            ("Action", "CreateRole"),
            ("RoleName", "r2"),
            ("AssumeRolePolicyDocument", &bad_trust),
        ],
    );
    assert_eq!((status, code.as_str()), (400, "MalformedPolicyDocument"));
    assert_eq!(
        err(
            &id,
            &root,
            &[
                ("Action", "CreateRole"),
                ("RoleName", "r3"),
                ("AssumeRolePolicyDocument", S3_ALL)
            ]
        )
        .1,
        "MalformedPolicyDocument"
    );

    ok(
        &id,
        &root,
        &[
            ("Action", "PutRolePermissionsBoundary"),
            ("RoleName", "r"),
            (
                "PermissionsBoundary",
                "arn:aws:iam::aws:policy/AmazonS3FullAccess",
            ),
        ],
    );
    let got = ok(&id, &root, &[("Action", "GetRole"), ("RoleName", "r")]);
    assert_eq!(
        xml_value(&got, "PermissionsBoundaryArn").as_deref(),
        Some("arn:aws:iam::aws:policy/AmazonS3FullAccess")
    );
    assert_eq!(
        xml_value(&got, "AssumeRolePolicyDocument").unwrap(),
        crate::query::url_encode(&trust)
    );
    ok(
        &id,
        &root,
        &[
            ("Action", "TagRole"),
            ("RoleName", "r"),
            ("Tags.member.1.Key", "env"),
            ("Tags.member.1.Value", "prod"),
        ],
    );
    assert!(
        ok(&id, &root, &[("Action", "ListRoleTags"), ("RoleName", "r")])
            .contains("<Key>env</Key><Value>prod</Value>")
    );
    ok(
        &id,
        &root,
        &[
            ("Action", "AttachRolePolicy"),
            ("RoleName", "r"),
            ("PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess"),
        ],
    );
    assert_eq!(
        err(&id, &root, &[("Action", "DeleteRole"), ("RoleName", "r")]).1,
        "DeleteConflict"
    );

    ok(
        &id,
        &root,
        &[
            ("Action", "CreateUser"),
            ("UserName", "b"),
            (
                "PermissionsBoundary",
                "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
            ),
        ],
    );
    let bob = user_with_key(&id, &root, "bob");
    ok(
        &id,
        &root,
        &[
            ("Action", "PutUserPermissionsBoundary"),
            ("UserName", "bob"),
            (
                "PermissionsBoundary",
                "arn:aws:iam::aws:policy/PowerUserAccess",
            ),
        ],
    );
    assert_eq!(
        id.policies_for(&bob).boundary.unwrap().name,
        "arn:aws:iam::aws:policy/PowerUserAccess"
    );
    ok(
        &id,
        &root,
        &[
            ("Action", "DeleteUserPermissionsBoundary"),
            ("UserName", "bob"),
        ],
    );
    assert!(id.policies_for(&bob).boundary.is_none());
}

#[test]
fn authorization_is_asked_and_denials_are_access_denied() {
    let id = identity();
    let root = root(&id);
    let authz = TestAuthz {
        deny: vec!["iam:CreateUser".into()],
        ..Default::default()
    };
    let r = id.handle_iam(
        &root,
        &meta(),
        &authz,
        &params(&[("Action", "CreateUser"), ("UserName", "x")]),
    );
    assert_eq!(r.status, 403);
    assert!(
        r.body.contains("<Code>AccessDenied</Code>")
            && r.body
                .contains("is not authorized to perform: iam:CreateUser")
    );
    let account = id.management_account_id();
    let checks = authz.checks.lock().unwrap().clone();
    assert_eq!(
        checks,
        [format!("iam:CreateUser arn:aws:iam::{account}:user/x")]
    );
    let r = iam(&id, &root, &[("Action", "Frobnicate")]);
    assert_eq!(xml_value(&r.body, "Code").as_deref(), Some("InvalidAction"));
    assert!(r.body.contains("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>"));
}

#[test]
fn update_user_moves_keys_groups_and_sessions() {
    let id = identity();
    let root = root(&id);
    let alice = user_with_key(&id, &root, "alice");
    ok(&id, &root, &[("Action", "CreateGroup"), ("GroupName", "g")]);
    ok(
        &id,
        &root,
        &[
            ("Action", "AddUserToGroup"),
            ("GroupName", "g"),
            ("UserName", "alice"),
        ],
    );
    let key = alice.access_key_id.clone().unwrap();
    ok(&id, &root, &[("Action", "CreateUser"), ("UserName", "bob")]);
    assert_eq!(
        err(
            &id,
            &root,
            &[
                ("Action", "UpdateUser"),
                ("UserName", "alice"),
                ("NewUserName", "Bob")
            ]
        )
        .1,
        "EntityAlreadyExists"
    );
    ok(
        &id,
        &root,
        &[
            ("Action", "UpdateUser"),
            ("UserName", "alice"),
            ("NewUserName", "carol"),
            ("NewPath", "/x/"),
        ],
    );
    let c = id
        .lookup_key(&key, None, jiff::Timestamp::now())
        .unwrap()
        .caller;
    assert_eq!(c.user_name.as_deref(), Some("carol"));
    assert!(c.arn.ends_with(":user/x/carol"));
    assert_eq!(c.user_id, alice.user_id);
    assert!(
        ok(&id, &root, &[("Action", "GetGroup"), ("GroupName", "g")])
            .contains("<UserName>carol</UserName>")
    );
    assert_eq!(
        err(&id, &root, &[("Action", "GetUser"), ("UserName", "alice")]).1,
        "NoSuchEntity"
    );
    let used = ok(
        &id,
        &root,
        &[("Action", "GetAccessKeyLastUsed"), ("AccessKeyId", &key)],
    );
    assert_eq!(xml_value(&used, "UserName").as_deref(), Some("carol"));
    assert_eq!(xml_value(&used, "ServiceName").as_deref(), Some("N/A"));
}

#[test]
fn list_operations_are_authorized_on_aws_resources() {
    let id = identity();
    let root = root(&id);
    let authz = TestAuthz::default();
    let account = id.management_account_id();
    for action in ["ListUsers", "ListRoles", "ListGroups", "ListPolicies"] {
        let r = id.handle_iam(&root, &meta(), &authz, &params(&[("Action", action)]));
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let checks = authz.checks.lock().unwrap().clone();
    assert_eq!(
        checks,
        [
            format!("iam:ListUsers arn:aws:iam::{account}:user/"),
            format!("iam:ListRoles arn:aws:iam::{account}:role/"),
            format!("iam:ListGroups arn:aws:iam::{account}:group/"),
            format!("iam:ListPolicies arn:aws:iam::{account}:policy/"),
        ]
    );
}

#[test]
fn identity_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Identity>();
}

#[test]
fn account_summary_policy_tags_and_mfa() {
    let id = identity();
    let root = root(&id);
    ok(&id, &root, &[("Action", "CreateUser"), ("UserName", "u")]);
    let body = ok(
        &id,
        &root,
        &[
            ("Action", "CreatePolicy"),
            ("PolicyName", "p"),
            ("PolicyDocument", S3_ALL),
        ],
    );
    let arn = xml_value(&body, "Arn").unwrap();
    let summary = ok(&id, &root, &[("Action", "GetAccountSummary")]);
    assert!(summary.contains("<entry><key>Users</key><value>1</value></entry>"));
    assert!(summary.contains("<entry><key>Policies</key><value>1</value></entry>"));
    assert!(summary.contains("<entry><key>AccountAccessKeysPresent</key><value>1</value></entry>"));
    ok(
        &id,
        &root,
        &[
            ("Action", "TagPolicy"),
            ("PolicyArn", &arn),
            ("Tags.member.1.Key", "k"),
            ("Tags.member.1.Value", "v"),
        ],
    );
    assert!(ok(
        &id,
        &root,
        &[("Action", "ListPolicyTags"), ("PolicyArn", &arn)]
    )
    .contains("<Key>k</Key><Value>v</Value>"));
    ok(
        &id,
        &root,
        &[
            ("Action", "UntagPolicy"),
            ("PolicyArn", &arn),
            ("TagKeys.member.1", "K"),
        ],
    );
    assert!(!ok(
        &id,
        &root,
        &[("Action", "ListPolicyTags"), ("PolicyArn", &arn)]
    )
    .contains("<Key>"));
    assert!(ok(
        &id,
        &root,
        &[("Action", "ListMFADevices"), ("UserName", "u")]
    )
    .contains("<MFADevices/>"));
    assert!(ok(&id, &root, &[("Action", "ListAccountAliases")]).contains("<AccountAliases/>"));
}

#[test]
fn lists_paginate_with_max_items_and_marker() {
    let id = identity();
    let root = root(&id);
    for name in ["a", "b", "c", "d", "e"] {
        ok(&id, &root, &[("Action", "CreateUser"), ("UserName", name)]);
    }
    let first = ok(&id, &root, &[("Action", "ListUsers"), ("MaxItems", "2")]);
    assert_eq!(first.matches("<UserName>").count(), 2);
    assert_eq!(xml_value(&first, "IsTruncated").as_deref(), Some("true"));
    let mut marker = xml_value(&first, "Marker").unwrap();
    let mut seen = first.matches("<UserName>").count();
    loop {
        let page = ok(
            &id,
            &root,
            &[
                ("Action", "ListUsers"),
                ("MaxItems", "2"),
                ("Marker", &marker),
            ],
        );
        seen += page.matches("<UserName>").count();
        match xml_value(&page, "Marker") {
            Some(m) => marker = m,
            None => {
                assert_eq!(xml_value(&page, "IsTruncated").as_deref(), Some("false"));
                break;
            }
        }
    }
    assert_eq!(seen, 5);
    assert_eq!(
        err(&id, &root, &[("Action", "ListUsers"), ("MaxItems", "0")]).1,
        "ValidationError"
    );
    let all = ok(
        &id,
        &root,
        &[
            ("Action", "ListPolicies"),
            ("Scope", "AWS"),
            ("MaxItems", "3"),
        ],
    );
    assert_eq!(all.matches("<PolicyName>").count(), 3);
}

/// Every stored row's doc, for looking at what is at rest.
fn stored_docs(db: &Db) -> Vec<(String, String)> {
    db.read(|c| {
        let mut s = c.prepare("SELECT kind, doc FROM identity_records")?;
        let rows = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect()
    })
    .unwrap()
}

#[test]
fn secrets_stored_in_clear_are_sealed_on_open_and_keep_working() {
    let path = std::env::temp_dir().join(format!(
        "sb-identity-seal-{}.db",
        strongbox_core::ids::random_hex(6)
    ));
    let key = RootKey {
        access_key_id: ROOT_KEY.into(),
        secret: ROOT_SECRET.into(),
    };
    let open = || {
        let db = Arc::new(Db::open(&path).unwrap());
        let id = Identity::open(db.clone(), "us-east-1", key.clone(), &test_master_key());
        (db, id)
    };
    let (user_key, user_secret, session) = {
        let (db, id) = open();
        let id = id.unwrap();
        let root = root(&id);
        ok(&id, &root, &[("Action", "CreateUser"), ("UserName", "bob")]);
        let body = ok(
            &id,
            &root,
            &[("Action", "CreateAccessKey"), ("UserName", "bob")],
        );
        let user_key = xml_value(&body, "AccessKeyId").unwrap();
        let user_secret = xml_value(&body, "SecretAccessKey").unwrap();
        let r = id.handle_sts(
            &root,
            &meta(),
            &TestAuthz::default(),
            &params(&[("Action", "GetSessionToken")]),
        );
        let session_key = xml_value(&r.body, "AccessKeyId").unwrap();
        let session_secret = xml_value(&r.body, "SecretAccessKey").unwrap();
        let session_token = xml_value(&r.body, "SessionToken").unwrap();
        // Sealed at rest: no secret appears in any stored row.
        for (_, doc) in stored_docs(&db) {
            for secret in [ROOT_SECRET, &user_secret, &session_secret] {
                assert!(!doc.contains(secret), "a secret is stored in clear: {doc}");
            }
        }
        // Turn the rows back into what older versions wrote: secrets in clear.
        db.write(|c| {
            for (kind, k, secret) in [
                ("access_key", user_key.as_str(), user_secret.as_str()),
                ("access_key", ROOT_KEY, ROOT_SECRET),
                ("session", session_key.as_str(), session_secret.as_str()),
            ] {
                let doc: String = c.query_row(
                    "SELECT doc FROM identity_records WHERE kind = ?1 AND key = ?2",
                    [kind, k],
                    |r| r.get(0),
                )?;
                let mut doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
                let fields = doc.as_object_mut().unwrap();
                fields.remove("sealed_secret").unwrap();
                fields.insert("secret".into(), secret.into());
                c.execute(
                    "UPDATE identity_records SET doc = ?3 WHERE kind = ?1 AND key = ?2",
                    [kind, k, &doc.to_string()],
                )?;
            }
            Ok(())
        })
        .unwrap();
        assert!(stored_docs(&db)
            .iter()
            .any(|(_, d)| d.contains(&user_secret)));
        (
            user_key,
            user_secret,
            (session_key, session_secret, session_token),
        )
    };
    // Opening migrates: every secret sealed again, and each still authenticates.
    let (db, id) = open();
    let id = id.unwrap();
    for (kind, doc) in stored_docs(&db) {
        for secret in [ROOT_SECRET, &user_secret, &session.1] {
            assert!(!doc.contains(secret), "still in clear after open: {doc}");
        }
        if kind == "access_key" || kind == "session" {
            assert!(doc.contains("\"sealed_secret\""), "{doc}");
        }
    }
    let now = jiff::Timestamp::now();
    assert_eq!(
        id.lookup_key(&user_key, None, now).unwrap().secret,
        user_secret
    );
    assert_eq!(
        id.lookup_key(ROOT_KEY, None, now).unwrap().secret,
        ROOT_SECRET
    );
    let s = id.lookup_key(&session.0, Some(&session.2), now).unwrap();
    assert_eq!(s.secret, session.1);
    drop((db, id));
    // Another master key cannot open them: the store refuses to start (fails closed).
    let other = strongbox_core::sealing::MasterKey::from_root(&[9u8; 32]);
    let db = Arc::new(Db::open(&path).unwrap());
    assert!(Identity::open(db, "us-east-1", key.clone(), &other).is_err());
    let _ = std::fs::remove_file(&path);
}
