use serde_json::{json, Value};
use strongbox_core::{Caller, CallerKind};

use crate::testutil::*;
use crate::{Identity, IdentityError};

fn orgs(id: &Identity, caller: &Caller, op: &str, body: Value) -> (u16, Value) {
    let r = id.handle_organizations(
        caller,
        &meta(),
        &TestAuthz::default(),
        &format!("AWSOrganizationsV20161128.{op}"),
        body.to_string().as_bytes(),
    );
    assert_eq!(r.content_type, "application/x-amz-json-1.1");
    (r.status, serde_json::from_str(&r.body).unwrap())
}

fn ok(id: &Identity, caller: &Caller, op: &str, body: Value) -> Value {
    let (status, v) = orgs(id, caller, op, body);
    assert_eq!(status, 200, "{op}: {v}");
    v
}

fn fails(id: &Identity, caller: &Caller, op: &str, body: Value) -> String {
    let (status, v) = orgs(id, caller, op, body);
    assert_eq!(status, 400, "{op}: {v}");
    assert!(v["Message"].is_string());
    v["__type"].as_str().unwrap().to_string()
}

fn iam(id: &Identity, caller: &Caller, pairs: &[(&str, &str)]) -> String {
    let r = id.handle_iam(caller, &meta(), &TestAuthz::default(), &params(pairs));
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

fn sts(id: &Identity, caller: &Caller, pairs: &[(&str, &str)]) -> crate::IamReply {
    id.handle_sts(caller, &meta(), &TestAuthz::default(), &params(pairs))
}

/// An admin user of the management account (roots cannot assume roles).
fn admin(id: &Identity, root: &Caller) -> Caller {
    iam(id, root, &[("Action", "CreateUser"), ("UserName", "admin")]);
    let body = iam(
        id,
        root,
        &[("Action", "CreateAccessKey"), ("UserName", "admin")],
    );
    id.lookup_key(
        &xml_value(&body, "AccessKeyId").unwrap(),
        None,
        jiff::Timestamp::now(),
    )
    .unwrap()
    .caller
}

fn session(id: &Identity, body: &str) -> Caller {
    let key = xml_value(body, "AccessKeyId").unwrap();
    let token = xml_value(body, "SessionToken").unwrap();
    id.lookup_key(&key, Some(&token), jiff::Timestamp::now())
        .unwrap()
        .caller
}

#[test]
fn organization_accounts_and_scps() {
    let id = identity();
    let root = root(&id);
    let management = id.management_account_id();
    assert_eq!(
        fails(&id, &root, "DescribeOrganization", json!({})),
        "AWSOrganizationsNotInUseException"
    );
    let org = ok(
        &id,
        &root,
        "CreateOrganization",
        json!({"FeatureSet": "ALL"}),
    );
    let org_id = org["Organization"]["Id"].as_str().unwrap().to_string();
    assert!(org_id.starts_with("o-") && org_id.len() == 12);
    assert_eq!(org["Organization"]["MasterAccountId"], json!(management));
    assert_eq!(
        fails(&id, &root, "CreateOrganization", json!({})),
        "AlreadyInOrganizationException"
    );

    let roots = ok(&id, &root, "ListRoots", json!({}));
    let root_id = roots["Roots"][0]["Id"].as_str().unwrap().to_string();
    assert!(root_id.starts_with("r-") && root_id.len() == 6);
    let ou = ok(
        &id,
        &root,
        "CreateOrganizationalUnit",
        json!({"ParentId": root_id, "Name": "prod"}),
    );
    let ou_id = ou["OrganizationalUnit"]["Id"].as_str().unwrap().to_string();
    assert!(ou_id.starts_with(&format!("ou-{}-", &root_id[2..])));
    assert_eq!(
        fails(
            &id,
            &root,
            "CreateOrganizationalUnit",
            json!({"ParentId": root_id, "Name": "prod"})
        ),
        "DuplicateOrganizationalUnitException"
    );
    assert_eq!(
        fails(
            &id,
            &root,
            "CreateOrganizationalUnit",
            json!({"ParentId": "r-nope", "Name": "x"})
        ),
        "ParentNotFoundException"
    );
    let ous = ok(
        &id,
        &root,
        "ListOrganizationalUnitsForParent",
        json!({"ParentId": root_id}),
    );
    assert_eq!(ous["OrganizationalUnits"].as_array().unwrap().len(), 1);

    let created = ok(
        &id,
        &root,
        "CreateAccount",
        json!({"Email": "dev@example.com", "AccountName": "dev"}),
    );
    let status = &created["CreateAccountStatus"];
    assert_eq!(status["State"], "SUCCEEDED");
    let member = status["AccountId"].as_str().unwrap().to_string();
    assert_eq!(member.len(), 12);
    let again = ok(
        &id,
        &root,
        "DescribeCreateAccountStatus",
        json!({"CreateAccountRequestId": status["Id"]}),
    );
    assert_eq!(again["CreateAccountStatus"]["AccountId"], json!(member));
    let dup = ok(
        &id,
        &root,
        "CreateAccount",
        json!({"Email": "dev@example.com", "AccountName": "dev2"}),
    );
    assert_eq!(
        dup["CreateAccountStatus"]["FailureReason"],
        "EMAIL_ALREADY_EXISTS"
    );
    assert_eq!(
        ok(&id, &root, "ListAccounts", json!({}))["Accounts"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let described = ok(&id, &root, "DescribeAccount", json!({"AccountId": member}));
    assert_eq!(described["Account"]["Name"], "dev");
    assert!(id.account_exists(&member));
    assert_eq!(id.canonical_user_id(&member).unwrap().len(), 64);
    assert_eq!(id.org_id_for_account(&member), Some(org_id.clone()));
    assert_eq!(id.org_id_for_account(&management), Some(org_id.clone()));
    assert_eq!(
        fails(
            &id,
            &root,
            "DescribeAccount",
            json!({"AccountId": "111111111111"})
        ),
        "AccountNotFoundException"
    );

    // The management account reaches the member through OrganizationAccountAccessRole.
    let admin = admin(&id, &root);
    let role_arn = format!("arn:aws:iam::{member}:role/OrganizationAccountAccessRole");
    assert!(id.principal_exists(&role_arn));
    let r = sts(
        &id,
        &admin,
        &[
            ("Action", "AssumeRole"),
            ("RoleArn", &role_arn),
            ("RoleSessionName", "ops"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let in_member = session(&id, &r.body);
    assert_eq!(in_member.account_id, member);
    let pols = id.policies_for(&in_member);
    assert_eq!(
        pols.identity[0].name,
        "arn:aws:iam::aws:policy/AdministratorAccess"
    );
    assert_eq!(pols.scps, None, "SCPs are not enabled yet");
    assert_eq!(pols.org_id, Some(org_id.clone()));

    // A member account cannot manage the organization.
    assert_eq!(
        fails(&id, &in_member, "ListAccounts", json!({})),
        "AccessDeniedException"
    );
    assert_eq!(
        ok(&id, &in_member, "DescribeOrganization", json!({}))["Organization"]["Id"],
        json!(org_id)
    );

    // SCPs.
    assert_eq!(
        fails(
            &id,
            &root,
            "AttachPolicy",
            json!({"PolicyId": "p-FullAWSAccess", "TargetId": member})
        ),
        "PolicyTypeNotEnabledException"
    );
    let enabled = ok(
        &id,
        &root,
        "EnablePolicyType",
        json!({"RootId": root_id, "PolicyType": "SERVICE_CONTROL_POLICY"}),
    );
    assert_eq!(enabled["Root"]["PolicyTypes"][0]["Status"], "ENABLED");
    assert_eq!(
        fails(
            &id,
            &root,
            "EnablePolicyType",
            json!({"RootId": root_id, "PolicyType": "SERVICE_CONTROL_POLICY"})
        ),
        "PolicyTypeAlreadyEnabledException"
    );
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}"#;
    assert_eq!(
        fails(
            &id,
            &root,
            "CreatePolicy",
            json!({"Content": "{", "Name": "bad", "Description": "", "Type": "SERVICE_CONTROL_POLICY"})
        ),
        "MalformedPolicyDocumentException"
    );
    let p = ok(
        &id,
        &root,
        "CreatePolicy",
        json!({"Content": deny, "Name": "no-delete", "Description": "d", "Type": "SERVICE_CONTROL_POLICY"}),
    );
    let policy_id = p["Policy"]["PolicySummary"]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(policy_id.starts_with("p-") && policy_id.len() == 10);
    ok(
        &id,
        &root,
        "AttachPolicy",
        json!({"PolicyId": policy_id, "TargetId": ou_id}),
    );
    assert_eq!(
        fails(
            &id,
            &root,
            "AttachPolicy",
            json!({"PolicyId": policy_id, "TargetId": ou_id})
        ),
        "DuplicatePolicyAttachmentException"
    );
    assert_eq!(
        fails(
            &id,
            &root,
            "MoveAccount",
            json!({"AccountId": member, "SourceParentId": ou_id, "DestinationParentId": root_id})
        ),
        "AccountNotFoundException"
    );
    ok(
        &id,
        &root,
        "MoveAccount",
        json!({"AccountId": member, "SourceParentId": root_id, "DestinationParentId": ou_id}),
    );
    assert_eq!(
        id.policies_for(&in_member).org_path,
        Some(format!("{org_id}/{root_id}/{ou_id}/"))
    );
    let parents = ok(&id, &root, "ListParents", json!({"ChildId": member}));
    assert_eq!(
        parents["Parents"][0],
        json!({"Id": ou_id, "Type": "ORGANIZATIONAL_UNIT"})
    );

    let chain = id.policies_for(&in_member).scps.unwrap();
    let names: Vec<Vec<String>> = chain
        .iter()
        .map(|level| {
            let mut ids: Vec<String> = level
                .iter()
                .map(|d| d.name.rsplit('/').next().unwrap().to_string())
                .collect();
            ids.sort();
            ids
        })
        .collect();
    let mut ou_level = vec!["p-FullAWSAccess".to_string(), policy_id.clone()];
    ou_level.sort();
    assert_eq!(
        names,
        vec![
            vec!["p-FullAWSAccess".to_string()],
            ou_level,
            vec!["p-FullAWSAccess".to_string()]
        ]
    );
    assert!(chain[0][0].document.contains("\"Action\": \"*\""));
    assert_eq!(
        id.policies_for(&root).scps,
        None,
        "the management account is not subject to SCPs"
    );
    assert_eq!(id.policies_for(&admin).scps, None);

    let for_target = ok(
        &id,
        &root,
        "ListPoliciesForTarget",
        json!({"TargetId": ou_id, "Filter": "SERVICE_CONTROL_POLICY"}),
    );
    assert_eq!(for_target["Policies"].as_array().unwrap().len(), 2);
    let targets = ok(
        &id,
        &root,
        "ListTargetsForPolicy",
        json!({"PolicyId": "p-FullAWSAccess"}),
    );
    assert_eq!(targets["Targets"].as_array().unwrap().len(), 4, "{targets}");
    assert_eq!(
        fails(&id, &root, "DeletePolicy", json!({"PolicyId": policy_id})),
        "PolicyInUseException"
    );
    assert_eq!(
        fails(
            &id,
            &root,
            "DetachPolicy",
            json!({"PolicyId": "p-FullAWSAccess", "TargetId": member})
        ),
        "ConstraintViolationException"
    );
    ok(
        &id,
        &root,
        "UpdatePolicy",
        json!({"PolicyId": policy_id, "Description": "changed"}),
    );
    assert_eq!(
        ok(&id, &root, "DescribePolicy", json!({"PolicyId": policy_id}))["Policy"]["PolicySummary"]
            ["Description"],
        "changed"
    );
    ok(
        &id,
        &root,
        "DetachPolicy",
        json!({"PolicyId": policy_id, "TargetId": ou_id}),
    );
    ok(&id, &root, "DeletePolicy", json!({"PolicyId": policy_id}));
    // A removed account leaves the organization and its SCPs.
    assert_eq!(
        fails(
            &id,
            &root,
            "RemoveAccountFromOrganization",
            json!({"AccountId": management})
        ),
        "MasterCannotLeaveOrganizationException"
    );
    ok(
        &id,
        &root,
        "RemoveAccountFromOrganization",
        json!({"AccountId": member}),
    );
    assert_eq!(id.org_id_for_account(&member), None);
    assert_eq!(id.policies_for(&in_member).scps, None);
    assert_eq!(
        ok(&id, &root, "ListAccounts", json!({}))["Accounts"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        ok(
            &id,
            &root,
            "ListPolicies",
            json!({"Filter": "SERVICE_CONTROL_POLICY"})
        )["Policies"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn assume_root_requires_centralized_root_access() {
    let id = identity();
    let root = root(&id);
    ok(&id, &root, "CreateOrganization", json!({}));
    let member = ok(
        &id,
        &root,
        "CreateAccount",
        json!({"Email": "m@example.com", "AccountName": "m"}),
    )["CreateAccountStatus"]["AccountId"]
        .as_str()
        .unwrap()
        .to_string();
    let admin = admin(&id, &root);
    let assume = |caller: &Caller| {
        sts(
            &id,
            caller,
            &[
                ("Action", "AssumeRoot"),
                ("TargetPrincipal", &member),
                (
                    "TaskPolicyArn.arn",
                    "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy",
                ),
            ],
        )
    };
    assert_eq!(assume(&admin).status, 403);
    let r = id.handle_iam(
        &root,
        &meta(),
        &TestAuthz::default(),
        &params(&[("Action", "EnableOrganizationsRootSessions")]),
    );
    assert_eq!(
        xml_value(&r.body, "Code").as_deref(),
        Some("ServiceAccessNotEnabled")
    );
    ok(
        &id,
        &root,
        "EnableAWSServiceAccess",
        json!({"ServicePrincipal": "iam.amazonaws.com"}),
    );
    let listed = ok(&id, &root, "ListAWSServiceAccessForOrganization", json!({}));
    assert_eq!(
        listed["EnabledServicePrincipals"][0]["ServicePrincipal"],
        "iam.amazonaws.com"
    );
    let body = iam(&id, &root, &[("Action", "EnableOrganizationsRootSessions")]);
    assert!(body.contains("<member>RootSessions</member>"));

    assert_eq!(
        assume(&root).status,
        403,
        "root credentials cannot call AssumeRoot"
    );
    let r = assume(&admin);
    assert_eq!(r.status, 200, "{}", r.body);
    let c = session(&id, &r.body);
    assert_eq!(c.kind, CallerKind::Root);
    assert_eq!(c.account_id, member);
    assert_eq!(c.arn, format!("arn:aws:iam::{member}:root"));
    let task = c.session_policies.clone().unwrap();
    assert_eq!(
        task[0].name,
        "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy"
    );
    assert!(task[0].document.contains("s3:DeleteBucketPolicy"));
    let r = sts(
        &id,
        &admin,
        &[
            ("Action", "AssumeRoot"),
            ("TargetPrincipal", &member),
            (
                "TaskPolicyArn.arn",
                "arn:aws:iam::aws:policy/AdministratorAccess",
            ),
        ],
    );
    assert_eq!(
        xml_value(&r.body, "Code").as_deref(),
        Some("ValidationError")
    );
    let r = sts(
        &id,
        &admin,
        &[
            ("Action", "AssumeRoot"),
            ("TargetPrincipal", &member),
            (
                "TaskPolicyArn.arn",
                "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy",
            ),
            ("DurationSeconds", "901"),
        ],
    );
    assert_eq!(
        xml_value(&r.body, "Code").as_deref(),
        Some("ValidationError")
    );
    // Disabling root sessions stops AssumeRoot again.
    let body = iam(
        &id,
        &root,
        &[("Action", "DisableOrganizationsRootSessions")],
    );
    assert!(!body.contains("<member>RootSessions</member>"));
    assert_eq!(assume(&admin).status, 403);
    iam(&id, &root, &[("Action", "EnableOrganizationsRootSessions")]);
    let statuses = ok(
        &id,
        &root,
        "ListCreateAccountStatus",
        json!({"States": ["SUCCEEDED"]}),
    );
    assert_eq!(
        statuses["CreateAccountStatuses"][0]["AccountId"],
        json!(member)
    );
    let mgmt = id.management_account_id();
    let r = sts(
        &id,
        &admin,
        &[
            ("Action", "AssumeRoot"),
            ("TargetPrincipal", &mgmt),
            (
                "TaskPolicyArn.arn",
                "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy",
            ),
        ],
    );
    assert_eq!(r.status, 403, "the management account is not a target");
}

#[test]
fn bad_requests() {
    let id = identity();
    let root = root(&id);
    let r = id.handle_organizations(
        &root,
        &meta(),
        &TestAuthz::default(),
        "AWSOrganizationsV20161128.ListRoots",
        b"{",
    );
    assert_eq!(r.status, 400);
    let r = id.handle_organizations(
        &root,
        &meta(),
        &TestAuthz::default(),
        "AWSOrganizationsV20161128.Nope",
        b"",
    );
    assert!(r.body.contains("UnknownOperationException"));
    let e = IdentityError::orgs("X", "y");
    assert_eq!(
        crate::json_error_reply(&e).body,
        r#"{"Message":"y","__type":"X"}"#
    );
}

#[test]
fn organization_state_survives_restart() {
    use std::sync::Arc;
    let path =
        std::env::temp_dir().join(format!("sb-orgs-{}.db", strongbox_core::ids::random_hex(6)));
    let key = crate::RootKey {
        access_key_id: ROOT_KEY.into(),
        secret: ROOT_SECRET.into(),
    };
    let open = || {
        Identity::open(
            Arc::new(strongbox_core::db::Db::open(&path).unwrap()),
            "us-east-1",
            key.clone(),
            &crate::testutil::test_master_key(),
        )
        .unwrap()
    };
    let (member, org_id, chain) = {
        let id = open();
        let root = root(&id);
        let org_id = ok(&id, &root, "CreateOrganization", json!({}))["Organization"]["Id"]
            .as_str()
            .unwrap()
            .to_string();
        let root_id = ok(&id, &root, "ListRoots", json!({}))["Roots"][0]["Id"]
            .as_str()
            .unwrap()
            .to_string();
        ok(
            &id,
            &root,
            "EnablePolicyType",
            json!({"RootId": root_id, "PolicyType": "SERVICE_CONTROL_POLICY"}),
        );
        let member = ok(
            &id,
            &root,
            "CreateAccount",
            json!({"Email": "p@example.com", "AccountName": "p"}),
        )["CreateAccountStatus"]["AccountId"]
            .as_str()
            .unwrap()
            .to_string();
        let chain = crate::resolve::scp_chain(&id.store.snapshot(), &member);
        (member, org_id, chain)
    };
    let id = open();
    assert!(chain.is_some());
    assert_eq!(
        crate::resolve::scp_chain(&id.store.snapshot(), &member),
        chain
    );
    assert_eq!(id.org_id_for_account(&member), Some(org_id));
    assert!(id.principal_exists(&format!(
        "arn:aws:iam::{member}:role/OrganizationAccountAccessRole"
    )));
    let accounts = id.list_accounts();
    assert_eq!(accounts.len(), 2);
    assert!(accounts[0].management && accounts[0].root_access_key_ids == [ROOT_KEY.to_string()]);
    assert!(accounts[1].root_access_key_ids.is_empty());
    let (new_key, _) = id.reset_root_key(&member).unwrap();
    let c = id
        .lookup_key(&new_key, None, jiff::Timestamp::now())
        .unwrap()
        .caller;
    assert!(c.is_root() && c.account_id == member);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn organization_tags() {
    let id = identity();
    let root = root(&id);
    ok(&id, &root, "CreateOrganization", json!({}));
    let root_id = ok(&id, &root, "ListRoots", json!({}))["Roots"][0]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let ou = ok(
        &id,
        &root,
        "CreateOrganizationalUnit",
        json!({"ParentId": root_id, "Name": "t", "Tags": [{"Key": "env", "Value": "prod"}]}),
    );
    let ou_id = ou["OrganizationalUnit"]["Id"].as_str().unwrap().to_string();
    let tags = ok(
        &id,
        &root,
        "ListTagsForResource",
        json!({"ResourceId": ou_id}),
    );
    assert_eq!(tags["Tags"], json!([{"Key": "env", "Value": "prod"}]));
    ok(
        &id,
        &root,
        "TagResource",
        json!({"ResourceId": ou_id, "Tags": [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "a"}]}),
    );
    ok(
        &id,
        &root,
        "UntagResource",
        json!({"ResourceId": ou_id, "TagKeys": ["team"]}),
    );
    let tags = ok(
        &id,
        &root,
        "ListTagsForResource",
        json!({"ResourceId": ou_id}),
    );
    assert_eq!(tags["Tags"], json!([{"Key": "env", "Value": "dev"}]));
    assert_eq!(
        fails(
            &id,
            &root,
            "ListTagsForResource",
            json!({"ResourceId": "ou-none-none"})
        ),
        "TargetNotFoundException"
    );
    assert_eq!(
        fails(
            &id,
            &root,
            "TagResource",
            json!({"ResourceId": "p-FullAWSAccess", "Tags": []})
        ),
        "TargetNotFoundException"
    );
    ok(
        &id,
        &root,
        "DeleteOrganizationalUnit",
        json!({"OrganizationalUnitId": ou_id}),
    );
}
