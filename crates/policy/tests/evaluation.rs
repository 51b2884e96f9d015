//! One test per evaluation rule, through the public API.

use strongbox_policy::{
    evaluate, Context, Decision, Evaluation, MessageStyle, Policy, PolicyKind, PolicyRef,
    PolicySet, PolicyType, Principal, Reason, Request,
};

const A: &str = "111122223333";
const B: &str = "444455556666";
const OBJ: &str = "arn:aws:s3:::example-bucket/reports/q1.csv";

fn user(account: &str, name: &str) -> Principal {
    Principal::User {
        arn: format!("arn:aws:iam::{account}:user/{name}"),
        account: account.into(),
    }
}

fn session(account: &str, role: &str, name: &str) -> Principal {
    Principal::AssumedRole {
        session_arn: format!("arn:aws:sts::{account}:assumed-role/{role}/{name}"),
        role_arn: format!("arn:aws:iam::{account}:role/{role}"),
        account: account.into(),
    }
}

fn id(statements: &str) -> Policy {
    Policy::parse(
        &PolicyKind::Identity,
        &format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#),
    )
    .unwrap()
}

fn bucket(statements: &str) -> Policy {
    let kind = PolicyKind::Bucket {
        bucket: "example-bucket".into(),
    };
    Policy::parse(
        &kind,
        &format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#),
    )
    .unwrap()
}

fn key(statements: &str) -> Policy {
    Policy::parse(
        &PolicyKind::KeyPolicy,
        &format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#),
    )
    .unwrap()
}

const ALLOW_GET: &str =
    r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::example-bucket/*"}"#;
const ALLOW_ALL: &str = r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#;

fn grant(principal: &str) -> String {
    format!(
        r#"{{"Effect":"Allow","Principal":{principal},"Action":"s3:GetObject","Resource":"arn:aws:s3:::example-bucket/*"}}"#
    )
}

#[derive(Default)]
struct Setup {
    identity: Vec<Policy>,
    resource: Option<Policy>,
    required: bool,
    boundary: Option<Policy>,
    session: Option<Policy>,
    /// Session credentials that carry no session policy at all (a federated
    /// user session made without `Policy`/`PolicyArns`).
    empty_session: bool,
    scp: Option<Vec<Vec<Policy>>>,
}

fn run(
    p: &Principal,
    action: &str,
    resource: &str,
    owner: &str,
    ctx: &Context,
    s: &Setup,
) -> Evaluation {
    let set = PolicySet {
        identity: s
            .identity
            .iter()
            .map(|p| PolicyRef {
                name: "identity",
                policy: p,
            })
            .collect(),
        resource: s
            .resource
            .iter()
            .map(|p| PolicyRef {
                name: "resource",
                policy: p,
            })
            .collect(),
        resource_required: s.required,
        boundary: s.boundary.as_ref().map(|p| PolicyRef {
            name: "boundary",
            policy: p,
        }),
        session: if s.empty_session {
            Some(Vec::new())
        } else {
            s.session.as_ref().map(|p| {
                vec![PolicyRef {
                    name: "session",
                    policy: p,
                }]
            })
        },
        scp: s.scp.as_ref().map(|levels| {
            levels
                .iter()
                .map(|l| {
                    l.iter()
                        .map(|p| PolicyRef {
                            name: "scp",
                            policy: p,
                        })
                        .collect()
                })
                .collect()
        }),
    };
    let req = Request {
        principal: p,
        action,
        resource,
        resource_account: Some(owner),
        context: ctx,
    };
    evaluate(&req, &set)
}

fn get(p: &Principal, s: &Setup) -> (Decision, Reason) {
    let e = run(p, "s3:GetObject", OBJ, A, &Context::new(), s);
    (e.decision, e.reason)
}

const ALLOWED: (Decision, Reason) = (Decision::Allow, Reason::Allowed);

fn denied(r: Reason) -> (Decision, Reason) {
    (Decision::Deny, r)
}

#[test]
fn default_deny_and_identity_allow() {
    let alice = user(A, "alice");
    assert_eq!(
        get(&alice, &Setup::default()),
        denied(Reason::NoAllowIdentityPolicy)
    );
    assert_eq!(
        get(
            &alice,
            &Setup {
                identity: vec![id(ALLOW_GET)],
                ..Default::default()
            }
        ),
        ALLOWED
    );
}

#[test]
fn explicit_deny_beats_allow_and_reports_in_order() {
    let alice = user(A, "alice");
    let deny = r#"{"Effect":"Deny","Action":"s3:*","Resource":"*"}"#;
    let s = Setup {
        identity: vec![id(&format!("{ALLOW_ALL},{deny}"))],
        resource: Some(bucket(
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::example-bucket/*"}"#,
        )),
        ..Default::default()
    };
    let e = run(&alice, "s3:GetObject", OBJ, A, &Context::new(), &s);
    assert_eq!(e.reason, Reason::ExplicitDenyResourcePolicy);
    assert_eq!(e.also, vec![Reason::ExplicitDenyIdentityPolicy]);
    let d = e.deciding.unwrap();
    assert_eq!(
        (d.policy_type, d.statement_index),
        (PolicyType::Resource, 0)
    );
}

#[test]
fn same_account_resource_grants() {
    let alice = user(A, "alice");
    let with = |p: &str, boundary: Option<Policy>| Setup {
        resource: Some(bucket(&grant(p))),
        boundary,
        ..Default::default()
    };
    let cw_only = || {
        Some(id(
            r#"{"Effect":"Allow","Action":"cloudwatch:*","Resource":"*"}"#,
        ))
    };
    // A grant to the user ARN needs no identity policy and ignores the boundary's implicit deny.
    assert_eq!(
        get(
            &alice,
            &with(
                r#"{"AWS":"arn:aws:iam::111122223333:user/alice"}"#,
                cw_only()
            )
        ),
        ALLOWED
    );
    // A grant to the account only delegates to IAM.
    assert_eq!(
        get(&alice, &with(r#"{"AWS":"111122223333"}"#, None)),
        denied(Reason::NoAllowIdentityPolicy)
    );
    // Role ARN: covers the session but is limited by the boundary and the session policy.
    let s1 = session(A, "app", "s1");
    assert_eq!(
        get(
            &s1,
            &with(r#"{"AWS":"arn:aws:iam::111122223333:role/app"}"#, None)
        ),
        ALLOWED
    );
    assert_eq!(
        get(
            &s1,
            &with(r#"{"AWS":"arn:aws:iam::111122223333:role/app"}"#, cw_only())
        ),
        denied(Reason::NoAllowPermissionsBoundary)
    );
    let limited = Setup {
        resource: Some(bucket(&grant(
            r#"{"AWS":"arn:aws:iam::111122223333:role/app"}"#,
        ))),
        session: Some(id(
            r#"{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}"#,
        )),
        ..Default::default()
    };
    assert_eq!(get(&s1, &limited), denied(Reason::NoAllowSessionPolicy));
    // Session ARN: not limited.
    let exact = Setup {
        resource: Some(bucket(&grant(
            r#"{"AWS":"arn:aws:sts::111122223333:assumed-role/app/s1"}"#,
        ))),
        session: Some(id(
            r#"{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}"#,
        )),
        boundary: cw_only(),
        ..Default::default()
    };
    assert_eq!(get(&s1, &exact), ALLOWED);
    assert_eq!(
        get(&session(A, "app", "s2"), &exact),
        denied(Reason::NoAllowIdentityPolicy)
    );
}

fn federated(account: &str, name: &str, by: Option<&str>) -> Principal {
    Principal::FederatedUser {
        arn: format!("arn:aws:sts::{account}:federated-user/{name}"),
        user_arn: by.map(|u| format!("arn:aws:iam::{account}:user/{u}")),
        account: account.into(),
    }
}

#[test]
fn federated_user_sessions() {
    // IAM User Guide, "Permissions for GetFederationToken": the session has
    // the intersection of the user's policies and the session policies; none
    // passed, none granted, except by a resource policy naming the session.
    let bob = federated(A, "bob", Some("alice"));
    let user_allows = || vec![id(ALLOW_GET)];
    let s = |session: Option<Policy>, empty_session: bool| Setup {
        identity: user_allows(),
        session,
        empty_session,
        ..Default::default()
    };
    assert_eq!(get(&bob, &s(Some(id(ALLOW_GET)), false)), ALLOWED);
    assert_eq!(
        get(&bob, &s(None, true)),
        denied(Reason::NoAllowSessionPolicy)
    );
    // The session policy cannot add what the user lacks.
    let broad = Setup {
        identity: vec![id(
            r#"{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}"#,
        )],
        session: Some(id(ALLOW_ALL)),
        ..Default::default()
    };
    assert_eq!(get(&bob, &broad), denied(Reason::NoAllowIdentityPolicy));
    // Federated by the root user: the root's permissions, limited by the session policy.
    let by_root = federated(A, "bob", None);
    let root_session = |session: Option<Policy>, empty_session: bool| Setup {
        session,
        empty_session,
        ..Default::default()
    };
    assert_eq!(
        get(&by_root, &root_session(Some(id(ALLOW_GET)), false)),
        ALLOWED
    );
    assert_eq!(
        get(&by_root, &root_session(None, true)),
        denied(Reason::NoAllowSessionPolicy)
    );
    // A bucket policy naming the federated user grants despite the empty session policy.
    let named = |principal: &str| Setup {
        resource: Some(bucket(&grant(principal))),
        empty_session: true,
        ..Default::default()
    };
    assert_eq!(
        get(
            &bob,
            &named(r#"{"AWS":"arn:aws:sts::111122223333:federated-user/bob"}"#)
        ),
        ALLOWED
    );
    assert_eq!(
        get(
            &federated(A, "eve", Some("alice")),
            &named(r#"{"AWS":"arn:aws:sts::111122223333:federated-user/bob"}"#)
        ),
        denied(Reason::NoAllowIdentityPolicy)
    );
    // Naming the IAM user that federated is limited by the session policy.
    assert_eq!(
        get(
            &bob,
            &named(r#"{"AWS":"arn:aws:iam::111122223333:user/alice"}"#)
        ),
        denied(Reason::NoAllowSessionPolicy)
    );
    let user_grant_with_session = Setup {
        resource: Some(bucket(&grant(
            r#"{"AWS":"arn:aws:iam::111122223333:user/alice"}"#,
        ))),
        session: Some(id(ALLOW_GET)),
        ..Default::default()
    };
    assert_eq!(get(&bob, &user_grant_with_session), ALLOWED);
    // aws:PrincipalArn is the federated-user ARN, and messages name it.
    let e = run(
        &bob,
        "s3:GetObject",
        OBJ,
        A,
        &Context::new(),
        &s(None, true),
    );
    assert!(e
        .message(
            &Request {
                principal: &bob,
                action: "s3:GetObject",
                resource: OBJ,
                resource_account: Some(A),
                context: &Context::new(),
            },
            MessageStyle::Iam,
        )
        .starts_with("User: arn:aws:sts::111122223333:federated-user/bob is not authorized to perform: s3:GetObject"));
    let condition = Setup {
        identity: vec![id(
            r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalArn":"arn:aws:sts::111122223333:federated-user/bob"}}}"#,
        )],
        session: Some(id(ALLOW_GET)),
        ..Default::default()
    };
    assert_eq!(get(&bob, &condition), ALLOWED);
}

#[test]
fn cross_account_needs_both_sides() {
    let dave = user(B, "dave");
    let both = Setup {
        identity: vec![id(ALLOW_GET)],
        resource: Some(bucket(&grant(r#"{"AWS":"444455556666"}"#))),
        ..Default::default()
    };
    assert_eq!(get(&dave, &both), ALLOWED);
    let only_bucket = Setup {
        resource: Some(bucket(&grant(r#"{"AWS":"*"}"#))),
        ..Default::default()
    };
    assert_eq!(
        get(&dave, &only_bucket),
        denied(Reason::NoAllowIdentityPolicy)
    );
    let only_identity = Setup {
        identity: vec![id(ALLOW_GET)],
        ..Default::default()
    };
    assert_eq!(
        get(&dave, &only_identity),
        denied(Reason::NoAllowResourcePolicy)
    );
    let e = run(
        &dave,
        "s3:GetObject",
        OBJ,
        A,
        &Context::new(),
        &Setup::default(),
    );
    assert_eq!(
        (e.reason, e.also),
        (
            Reason::NoAllowResourcePolicy,
            vec![Reason::NoAllowIdentityPolicy]
        )
    );
    // The root user of the other account needs only the grant.
    let root_b = Principal::Root { account: B.into() };
    assert_eq!(
        get(
            &root_b,
            &Setup {
                resource: Some(bucket(&grant(r#"{"AWS":"444455556666"}"#))),
                ..Default::default()
            }
        ),
        ALLOWED
    );
}

#[test]
fn scp_levels_and_root() {
    let alice = user(A, "alice");
    let full = || id(ALLOW_ALL);
    let ec2 = || id(r#"{"Effect":"Allow","Action":"ec2:*","Resource":"*"}"#);
    let s = Setup {
        identity: vec![full()],
        scp: Some(vec![vec![full()], vec![ec2()]]),
        ..Default::default()
    };
    assert_eq!(get(&alice, &s), denied(Reason::NoAllowScp));
    let s = Setup {
        identity: vec![full()],
        scp: Some(vec![vec![full()], vec![ec2(), full()]]),
        ..Default::default()
    };
    assert_eq!(get(&alice, &s), ALLOWED);
    let root = Principal::Root { account: A.into() };
    assert_eq!(get(&root, &Setup::default()), ALLOWED);
    assert_eq!(
        get(
            &root,
            &Setup {
                scp: Some(vec![vec![ec2()]]),
                ..Default::default()
            }
        ),
        denied(Reason::NoAllowScp)
    );
    // The root user derives aws:PrincipalArn.
    let deny_root = id(
        r#"{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}"#,
    );
    assert_eq!(
        get(
            &root,
            &Setup {
                scp: Some(vec![vec![full(), deny_root]]),
                ..Default::default()
            }
        ),
        denied(Reason::ExplicitDenyScp)
    );
}

#[test]
fn bucket_owner_root_can_always_manage_the_bucket_policy() {
    let root = Principal::Root { account: A.into() };
    let lockout = Setup {
        resource: Some(bucket(
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::example-bucket","arn:aws:s3:::example-bucket/*"]}"#,
        )),
        ..Default::default()
    };
    let b = "arn:aws:s3:::example-bucket";
    for action in [
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
        "s3:GetBucketPolicy",
    ] {
        assert_eq!(
            run(&root, action, b, A, &Context::new(), &lockout).decision,
            Decision::Allow,
            "{action}"
        );
    }
    assert_eq!(
        run(&root, "s3:GetObject", OBJ, A, &Context::new(), &lockout).reason,
        Reason::ExplicitDenyResourcePolicy
    );
    // Another account's root user gets no such exception.
    let other = Principal::Root { account: B.into() };
    assert_eq!(
        run(
            &other,
            "s3:PutBucketPolicy",
            b,
            A,
            &Context::new(),
            &lockout
        )
        .decision,
        Decision::Deny
    );
}

#[test]
fn kms_key_policy_must_allow() {
    let alice = user(A, "alice");
    let k = "arn:aws:kms:us-east-1:111122223333:key/1234";
    let iam_kms = || id(r#"{"Effect":"Allow","Action":"kms:*","Resource":"*"}"#);
    let enable_iam = || {
        key(
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}"#,
        )
    };
    let names_bob = || {
        key(
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"kms:*","Resource":"*"}"#,
        )
    };
    let ctx = Context::new();
    let r = |s: &Setup| {
        let e = run(&alice, "kms:Decrypt", k, A, &ctx, s);
        (e.decision, e.reason)
    };
    assert_eq!(
        r(&Setup {
            identity: vec![iam_kms()],
            resource: Some(enable_iam()),
            required: true,
            ..Default::default()
        }),
        ALLOWED
    );
    assert_eq!(
        r(&Setup {
            resource: Some(enable_iam()),
            required: true,
            ..Default::default()
        }),
        denied(Reason::NoAllowIdentityPolicy)
    );
    assert_eq!(
        r(&Setup {
            identity: vec![iam_kms()],
            resource: Some(names_bob()),
            required: true,
            ..Default::default()
        }),
        denied(Reason::NoAllowResourcePolicy)
    );
    // A statement without Resource applies to nothing.
    let no_resource = key(
        r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"kms:*"}"#,
    );
    assert_eq!(
        r(&Setup {
            resource: Some(no_resource),
            required: true,
            ..Default::default()
        }),
        denied(Reason::NoAllowResourcePolicy)
    );
}

#[test]
fn not_principal_deny() {
    let np = r#"{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::444455556666:user/Bob","arn:aws:iam::444455556666:root"]},"Action":"s3:*","Resource":"arn:aws:s3:::example-bucket/*"}"#;
    let s = |boundary: Option<Policy>| Setup {
        identity: vec![id(ALLOW_GET)],
        resource: Some(bucket(&format!(
            "{np},{}",
            grant(r#"{"AWS":"444455556666"}"#)
        ))),
        boundary,
        ..Default::default()
    };
    assert_eq!(get(&user(B, "Bob"), &s(None)), ALLOWED);
    assert_eq!(
        get(&user(B, "Carol"), &s(None)),
        denied(Reason::ExplicitDenyResourcePolicy)
    );
    assert_eq!(
        get(&user(B, "Bob"), &s(Some(id(ALLOW_ALL)))),
        denied(Reason::ExplicitDenyResourcePolicy)
    );
}

/// "AWS JSON policy elements: NotPrincipal": with Allow, the statement covers the
/// unlisted identities of the caller's chain; naming the caller but not its
/// account leaves only a grant to the account, which delegates to IAM.
#[test]
fn not_principal_allow() {
    let np = |listed: &str| {
        bucket(&format!(
            r#"{{"Effect":"Allow","NotPrincipal":{{"AWS":[{listed}]}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::example-bucket/*"}}"#
        ))
    };
    let alice = user(A, "alice");
    let only_user = |identity: Vec<Policy>| Setup {
        identity,
        resource: Some(np(r#""arn:aws:iam::111122223333:user/alice""#)),
        ..Default::default()
    };
    assert_eq!(
        get(&alice, &only_user(Vec::new())),
        denied(Reason::NoAllowIdentityPolicy)
    );
    assert_eq!(get(&alice, &only_user(vec![id(ALLOW_GET)])), ALLOWED);
    assert_eq!(get(&user(A, "carol"), &only_user(Vec::new())), ALLOWED);
    let whole_chain = Setup {
        resource: Some(np(
            r#""arn:aws:iam::111122223333:user/alice","111122223333""#,
        )),
        ..Default::default()
    };
    assert_eq!(
        get(&alice, &whole_chain),
        denied(Reason::NoAllowIdentityPolicy)
    );
    // Session and role listed, account not: delegation again.
    let s1 = session(A, "app", "s1");
    let role_and_session = Setup {
        resource: Some(np(
            r#""arn:aws:sts::111122223333:assumed-role/app/s1","arn:aws:iam::111122223333:role/app""#,
        )),
        ..Default::default()
    };
    assert_eq!(
        get(&s1, &role_and_session),
        denied(Reason::NoAllowIdentityPolicy)
    );
}

#[test]
fn anonymous_and_services() {
    let public = Setup {
        resource: Some(bucket(&grant(r#""*""#))),
        ..Default::default()
    };
    assert_eq!(get(&Principal::Anonymous, &public), ALLOWED);
    let account = Setup {
        resource: Some(bucket(&grant(r#"{"AWS":"111122223333"}"#))),
        ..Default::default()
    };
    assert_eq!(get(&Principal::Anonymous, &account).0, Decision::Deny);
    let svc = Principal::Service {
        name: "logging.s3.amazonaws.com".into(),
    };
    let to_service = Setup {
        resource: Some(bucket(&grant(r#"{"Service":"logging.s3.amazonaws.com"}"#))),
        ..Default::default()
    };
    assert_eq!(get(&svc, &to_service), ALLOWED);
    assert_eq!(get(&svc, &account).0, Decision::Deny);
}

#[test]
fn trust_policy_same_and_cross_account() {
    let trust = |p: &str| {
        Policy::parse(&PolicyKind::Trust, &format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{p},"Action":"sts:AssumeRole"}}]}}"#)).unwrap()
    };
    let role = "arn:aws:iam::111122223333:role/app";
    let ctx = Context::new();
    let assume = |p: &Principal, s: &Setup| run(p, "sts:AssumeRole", role, A, &ctx, s).reason;
    let direct = Setup {
        resource: Some(trust(r#"{"AWS":"arn:aws:iam::111122223333:user/alice"}"#)),
        required: true,
        ..Default::default()
    };
    assert_eq!(assume(&user(A, "alice"), &direct), Reason::Allowed);
    assert_eq!(
        assume(&user(A, "bob"), &direct),
        Reason::NoAllowResourcePolicy
    );
    let account_b = Setup {
        resource: Some(trust(r#"{"AWS":"444455556666"}"#)),
        required: true,
        ..Default::default()
    };
    assert_eq!(
        assume(&user(B, "dave"), &account_b),
        Reason::NoAllowIdentityPolicy
    );
    let with_iam = Setup {
        identity: vec![id(
            r#"{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}"#,
        )],
        resource: Some(trust(r#"{"AWS":"444455556666"}"#)),
        required: true,
        ..Default::default()
    };
    assert_eq!(assume(&user(B, "dave"), &with_iam), Reason::Allowed);
    let svc = Setup {
        resource: Some(trust(r#"{"Service":"ec2.amazonaws.com"}"#)),
        required: true,
        ..Default::default()
    };
    assert_eq!(
        assume(
            &Principal::Service {
                name: "ec2.amazonaws.com".into()
            },
            &svc
        ),
        Reason::Allowed
    );
}

#[test]
fn variables_and_context() {
    let alice = user(A, "alice");
    let home = id(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::example-bucket/home/${aws:username}/*"}"#,
    );
    let s = Setup {
        identity: vec![home],
        ..Default::default()
    };
    let ctx = Context::new();
    assert_eq!(
        run(
            &alice,
            "s3:GetObject",
            "arn:aws:s3:::example-bucket/home/alice/x",
            A,
            &ctx,
            &s
        )
        .decision,
        Decision::Allow
    );
    assert_eq!(
        run(
            &alice,
            "s3:GetObject",
            "arn:aws:s3:::example-bucket/home/bob/x",
            A,
            &ctx,
            &s
        )
        .decision,
        Decision::Deny
    );
    let team = id(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::example-bucket/${aws:PrincipalTag/team, 'shared'}/*"}"#,
    );
    let s = Setup {
        identity: vec![team],
        ..Default::default()
    };
    let tagged = Context::new().with("aws:principaltag/TEAM", "blue");
    assert_eq!(
        run(
            &alice,
            "s3:GetObject",
            "arn:aws:s3:::example-bucket/blue/x",
            A,
            &tagged,
            &s
        )
        .decision,
        Decision::Allow
    );
    assert_eq!(
        run(
            &alice,
            "s3:GetObject",
            "arn:aws:s3:::example-bucket/shared/x",
            A,
            &ctx,
            &s
        )
        .decision,
        Decision::Allow
    );
}

/// IAM User Guide, "IAM policy elements: Variables and tags", Policy variables
/// with no value (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).
#[test]
fn variables_with_no_value() {
    let alice = user(A, "alice");
    let tagged = Context::new()
        .with("s3:ExistingObjectTag/Team", "blue")
        .with("aws:PrincipalTag/Team", "blue");
    let untagged = Context::new().with("s3:ExistingObjectTag/Team", "blue");
    let get_with = |ctx: &Context, s: &Setup| {
        let e = run(&alice, "s3:GetObject", OBJ, A, ctx, s);
        (e.decision, e.reason)
    };
    // The guide's example: the Deny applies to a caller without the tag.
    let same_team = Setup {
        identity: vec![id(ALLOW_GET)],
        resource: Some(bucket(
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::example-bucket/*","Condition":{"StringNotEquals":{"s3:ExistingObjectTag/Team":"${aws:PrincipalTag/Team}"}}}"#,
        )),
        ..Default::default()
    };
    assert_eq!(get_with(&tagged, &same_team), ALLOWED);
    assert_eq!(
        get_with(&untagged, &same_team),
        denied(Reason::ExplicitDenyResourcePolicy)
    );
    // A NotResource entry with no value excludes nothing: the Deny applies.
    let not_resource = Setup {
        identity: vec![id(ALLOW_GET)],
        resource: Some(bucket(
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","NotResource":"arn:aws:s3:::example-bucket/${aws:PrincipalTag/Team}/*"}"#,
        )),
        ..Default::default()
    };
    assert_eq!(
        get_with(&untagged, &not_resource),
        denied(Reason::ExplicitDenyResourcePolicy)
    );
    let blue_obj = run(
        &alice,
        "s3:GetObject",
        "arn:aws:s3:::example-bucket/blue/x",
        A,
        &tagged,
        &not_resource,
    );
    assert_eq!(blue_obj.decision, Decision::Allow);
}

#[test]
fn messages() {
    let alice = user(A, "alice");
    let ctx = Context::new();
    let req = Request {
        principal: &alice,
        action: "s3:PutObject",
        resource: OBJ,
        resource_account: Some(A),
        context: &ctx,
    };
    let e = evaluate(&req, &PolicySet::default());
    assert_eq!(
        e.message(&req, MessageStyle::S3),
        format!("User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:PutObject on resource: \"{OBJ}\" because no identity-based policy allows the s3:PutObject action")
    );
    let deny = id(r#"{"Effect":"Deny","Action":"*","Resource":"*"}"#);
    let set = PolicySet {
        identity: vec![PolicyRef {
            name: "d",
            policy: &deny,
        }],
        ..Default::default()
    };
    let e = evaluate(&req, &set);
    assert_eq!(
        e.message(&req, MessageStyle::Iam),
        format!("User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:PutObject on resource: {OBJ} with an explicit deny in an identity-based policy")
    );
}

#[test]
fn trace_explains_conditions() {
    let alice = user(A, "alice");
    let p = id(
        r#"{"Sid":"OnlyVpce","Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}"#,
    );
    let s = Setup {
        identity: vec![p],
        ..Default::default()
    };
    let ctx = Context::new().with("aws:SourceVpce", "vpce-2");
    let e = run(&alice, "s3:GetObject", OBJ, A, &ctx, &s);
    assert_eq!(e.reason, Reason::NoAllowIdentityPolicy);
    let json = serde_json::to_value(&e.trace).unwrap();
    let c = &json["policies"][0]["statements"][0]["conditions"][0];
    assert_eq!(c["operator"], "StringEquals");
    assert_eq!(c["request_values"][0], "vpce-2");
    assert_eq!(c["policy_values"][0], "vpce-1");
    assert_eq!(c["matched"], false);
    assert_eq!(json["policies"][0]["statements"][0]["sid"], "OnlyVpce");
    assert!(e
        .trace
        .to_text()
        .contains("condition StringEquals aws:SourceVpce"));
}

#[test]
fn explain_and_named_principals() {
    let alice = user(A, "alice");
    let deny = id(r#"{"Sid":"NoDelete","Effect":"Deny","Action":"s3:Delete*","Resource":"*"}"#);
    let s = Setup {
        identity: vec![id(ALLOW_ALL), deny],
        ..Default::default()
    };
    let e = run(&alice, "s3:DeleteObject", OBJ, A, &Context::new(), &s);
    let text = e.explain();
    assert!(
        text.starts_with("DENY (explicit_deny_identity_policy): statement #0 (NoDelete)"),
        "{text}"
    );
    let e = run(
        &alice,
        "s3:GetObject",
        OBJ,
        A,
        &Context::new(),
        &Setup::default(),
    );
    assert!(e
        .explain()
        .contains("no identity-based policy allows s3:GetObject"));
    let p = bucket(&format!(
        "{},{}",
        grant(r#"{"AWS":["111122223333","arn:aws:iam::444455556666:user/dave"]}"#),
        grant(r#""*""#)
    ));
    assert_eq!(
        p.named_aws_principals(),
        vec!["111122223333", "arn:aws:iam::444455556666:user/dave"]
    );
}

#[test]
#[ignore = "prints a sample trace; run with --ignored --nocapture"]
fn print_sample_case() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/policy-eval/cases/seed-kms-key-id-other-account.json");
    let out = strongbox_policy::case::run_case(&std::fs::read_to_string(path).unwrap()).unwrap();
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
    println!("{}", out.message.unwrap_or_default());
}

#[test]
fn variables_in_conditions_and_not_resource() {
    let alice = user(A, "alice");
    let ctx = Context::new().with("s3:prefix", "home/alice/");
    let list = "arn:aws:s3:::example-bucket";
    let p = id(
        r#"{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example-bucket","Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*","shared/${aws:PrincipalTag/team, 'none'}/*"]}}}"#,
    );
    let s = Setup {
        identity: vec![p],
        ..Default::default()
    };
    assert_eq!(
        run(&alice, "s3:ListBucket", list, A, &ctx, &s).decision,
        Decision::Allow
    );
    let shared = Context::new().with("s3:prefix", "shared/none/x");
    assert_eq!(
        run(&alice, "s3:ListBucket", list, A, &shared, &s).decision,
        Decision::Allow
    );
    let other = Context::new().with("s3:prefix", "home/bob/");
    assert_eq!(
        run(&alice, "s3:ListBucket", list, A, &other, &s).decision,
        Decision::Deny
    );
    // A NotResource entry holding a variable with no value (no aws:username for a
    // role session) matches no resource, so it excludes nothing and the Deny
    // applies (IAM User Guide, "Policy variables with no value").
    let s1 = session(A, "app", "s1");
    let deny = id(
        r#"{"Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::example-bucket/home/${aws:username}/*"}"#,
    );
    let s = Setup {
        identity: vec![id(ALLOW_ALL), deny],
        ..Default::default()
    };
    assert_eq!(get(&s1, &s), denied(Reason::ExplicitDenyIdentityPolicy));
    assert_eq!(get(&alice, &s), denied(Reason::ExplicitDenyIdentityPolicy));
    let own = "arn:aws:s3:::example-bucket/home/alice/x";
    assert_eq!(
        run(&alice, "s3:GetObject", own, A, &Context::new(), &s).decision,
        Decision::Allow
    );
}

#[test]
fn trace_api() {
    let alice = user(A, "alice");
    let s = Setup {
        identity: vec![id(ALLOW_GET), id(ALLOW_ALL)],
        ..Default::default()
    };
    let ctx = Context::new().with_values("k", ["a", "b"]);
    let e = run(&alice, "s3:GetObject", OBJ, A, &ctx, &s);
    let policies: Vec<_> = e.trace.policies().collect();
    assert_eq!(policies.len(), 2);
    assert_eq!(policies[1].name, "identity");
    assert_eq!(policies[0].statements.len(), 1);
    assert_eq!(e.trace.applicable().count(), 2);
    assert_eq!(e.trace.action(), "s3:GetObject");
    assert_eq!(e.trace.context(), ctx);
    let json = serde_json::to_value(&e.trace).unwrap();
    assert_eq!(
        json["request"]["context"]["k"],
        serde_json::json!(["a", "b"])
    );
    assert_eq!(
        json["request"]["principal_arn"],
        "arn:aws:iam::111122223333:user/alice"
    );
}
