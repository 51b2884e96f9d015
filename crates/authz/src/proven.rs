//! Proven fixes: each fix `explain` shows was checked first. The engine
//! evaluates the same request again (the recorded principal, action, resource,
//! context and the policy set of the decision) with the change applied, and
//! the fix is offered only when the request would then be allowed; a
//! request-side fix (change the request) only when the corrected request
//! satisfies every Deny. This runs when the denial is decided, where every
//! policy is at hand, so records keep the fixes, not the policy texts.
//!
//! Kinds, least privilege first: `request` (send a header a Deny asks for; a
//! customer managed key instead of `aws/s3` across accounts),
//! `identity-policy` (the narrowest inline statement; delete an inline policy
//! whose Deny refused), `bucket-policy`, `key-policy`, `scp` (detach from the
//! level it is attached to), `unlock` (a root lock-out by the bucket policy).
//! A policy that cannot be changed (AWS managed keys) is never the target of a
//! fix; SCPs never restrict the management account, so none is proposed there.

use strongbox_core::{Caller, CallerKind};
use strongbox_policy::{Evaluation, Reason};

use crate::fix::{principal_for_grant, who};
use crate::Question;
/// The alias of an AWS managed KMS key (`alias/aws/s3`) the request is on, if it is one.
fn aws_managed_key_alias<'r>(request: &'r strongbox_policy::Request<'_>) -> Option<&'r str> {
    if !request.action.starts_with("kms:") {
        return None;
    }
    request
        .context
        .get("kms:ResourceAliases")?
        .iter()
        .map(String::as_str)
        .find(|a| a.starts_with("alias/aws/"))
}

/// The key policy KMS gives a key created without one: the account decides
/// through IAM policies ("Default key policy", AWS KMS Developer Guide).
fn default_key_policy(account: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
            "Action": "kms:*",
            "Resource": "*",
        }],
    })
    .to_string()
}

/// An AWS managed key (`aws/s3`) of another account cannot be used across
/// accounts and its policy cannot be changed: the caller creates a customer
/// managed key in its own account and sends its ARN. Proven by evaluating the
/// same action on such a key (default key policy, the caller's own policies).
fn customer_managed_key_fix(
    caller: &Caller,
    request: &strongbox_policy::Request<'_>,
    set: &strongbox_policy::PolicySet<'_>,
) -> Option<ProvenFix> {
    if matches!(caller.kind, CallerKind::Anonymous) {
        return None;
    }
    let alias = aws_managed_key_alias(request)?.to_string();
    let region = request
        .resource
        .strip_prefix("arn:aws:kms:")?
        .split(':')
        .next()?;
    let bucket_key = request
        .context
        .get("kms:EncryptionContext:aws:s3:arn")
        .and_then(|v| v.first())
        .and_then(|arn| arn.strip_prefix("arn:aws:s3:::"))
        .and_then(|rest| rest.split_once('/'))
        .map(|(b, k)| (b.to_string(), k.to_string()));
    let (bucket, key) = bucket_key?;
    let new_key = format!("arn:aws:kms:{region}:{}:key/NEW", caller.account_id);
    let policy_text = default_key_policy(&caller.account_id);
    let policy = strongbox_policy::Policy::parse_for_evaluation(
        &strongbox_policy::PolicyKind::KeyPolicy,
        &policy_text,
    )
    .ok()?;
    let mut context = request.context.clone();
    context.remove("kms:ResourceAliases");
    let on_new_key = strongbox_policy::Request {
        resource: &new_key,
        resource_account: Some(&caller.account_id),
        context: &context,
        ..*request
    };
    let mut changed = set.clone();
    changed.resource = vec![strongbox_policy::PolicyRef {
        name: "key policy",
        policy: &policy,
    }];
    let reevaluation = allowed_with(&on_new_key, &changed)?;
    let first: Vec<String> = [
        "kms",
        "create-key",
        "--description",
        "customer managed key for cross-account SSE-KMS uploads",
        "--query",
        "KeyMetadata.Arn",
        "--output",
        "text",
    ]
    .map(str::to_string)
    .to_vec();
    let argv: Vec<String> = [
        "s3api",
        "put-object",
        "--bucket",
        &bucket,
        "--key",
        &key,
        "--server-side-encryption",
        "aws:kms",
        "--ssekms-key-id",
        "$KEY_ARN",
    ]
    .map(str::to_string)
    .to_vec();
    Some(ProvenFix {
        kind: "request".to_string(),
        change: format!(
            "encrypt with a customer managed key of account {} instead of the AWS managed key {alias} of account {} (an AWS managed key cannot be used across accounts and its key policy cannot be changed); add your --body FILE",
            caller.account_id,
            request.resource_account.unwrap_or_default()
        ),
        who: format!(
            "the caller (kms:CreateKey in account {}, or an admin of it creates the key)",
            caller.account_id
        ),
        widens: None,
        command: format!(
            "KEY_ARN=$({}) && {}",
            command_line(&first),
            command_line(&argv).replace("'$KEY_ARN'", "\"$KEY_ARN\"")
        ),
        argv,
        first: Some(first),
        verified: true,
        reevaluation,
    })
}

/// A fix `explain` proposes, proven before it is shown: the engine evaluated the
/// same request again with the change applied, and it was allowed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProvenFix {
    /// `request`, `identity-policy`, `bucket-policy`, `key-policy`, `scp`, …
    pub kind: String,
    /// What changes, in words.
    pub change: String,
    /// Who can make the change, e.g. "an admin of account 111122223333".
    pub who: String,
    /// Whom the change lets in beyond the caller (`None`: no one).
    pub widens: Option<String>,
    /// The `aws` CLI command that applies it, as one shell line.
    pub command: String,
    /// The same command as arguments (after `aws`), for scripts.
    pub argv: Vec<String>,
    /// A command to run before `argv`, whose output (trimmed) replaces
    /// `$KEY_ARN` in `argv` (e.g. creating the customer managed key to send).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<Vec<String>>,
    /// Re-evaluated with the change applied and allowed.
    pub verified: bool,
    /// The re-evaluation's decision and reason, e.g. `Allow (allowed)`.
    pub reevaluation: String,
}

impl ProvenFix {
    /// A fix the re-evaluation (`reevaluation`) proved, applied by `aws ARGV…`.
    fn proven(
        kind: &str,
        change: String,
        who: String,
        widens: Option<String>,
        argv: Vec<String>,
        reevaluation: String,
    ) -> ProvenFix {
        ProvenFix {
            kind: kind.to_string(),
            change,
            who,
            widens,
            command: command_line(&argv),
            argv,
            first: None,
            verified: true,
            reevaluation,
        }
    }
}

/// Quotes `arg` for a POSIX shell when it needs it.
fn shell_quote(arg: &str) -> String {
    let plain = arg
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+".contains(&b));
    if plain && !arg.is_empty() {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// An inline policy name for a fix granting `action`: `strongbox-fix-s3-PutObject`.
fn fix_policy_name(action: &str) -> String {
    let name: String = action
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("strongbox-fix-{name}")
}

/// The inline identity policy that would allow the request, and the IAM call
/// that attaches it to the caller's user or role (`None` for other callers:
/// root is never refused by identity policies, anonymous callers have none,
/// federated sessions are bounded by their session policy).
fn identity_policy_candidate(
    caller: &Caller,
    action: &str,
    resource: &str,
) -> Option<(String, Vec<String>)> {
    let (flag, name, call) = match caller.kind {
        CallerKind::User => ("--user-name", caller.user_name.clone()?, "put-user-policy"),
        CallerKind::AssumedRole => {
            let role = caller.role_arn.as_deref()?;
            let name = role.rsplit('/').next()?.to_string();
            ("--role-name", name, "put-role-policy")
        }
        _ => return None,
    };
    let document = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}],
    })
    .to_string();
    let argv = [
        "iam",
        call,
        flag,
        &name,
        "--policy-name",
        &fix_policy_name(action),
        "--policy-document",
        &document,
    ]
    .map(str::to_string)
    .to_vec();
    Some((document, argv))
}

/// The bucket policy a fix may change: the bucket, its policy now, its owner.
#[derive(Clone, Debug)]
pub struct EditablePolicy {
    pub bucket: String,
    pub text: Option<String>,
    pub owner_account: String,
}

/// The fixes for a denied `request` that re-evaluation proves, least privilege
/// first: a statement for the caller alone before one that removes a policy.
pub fn proven_fixes(
    caller: &Caller,
    question: &Question<'_>,
    request: &strongbox_policy::Request<'_>,
    set: &strongbox_policy::PolicySet<'_>,
    evaluation: &Evaluation,
) -> Vec<ProvenFix> {
    let mut fixes = Vec::new();
    match evaluation.reason {
        Reason::NoAllowResourcePolicy if aws_managed_key_alias(request).is_some() => {
            // An AWS managed key's policy cannot be changed: never its target.
            fixes.extend(customer_managed_key_fix(caller, request, set));
        }
        Reason::NoAllowIdentityPolicy | Reason::NoAllowResourcePolicy => {
            fixes.extend(identity_policy_fix(caller, request, set));
            if let Some(editable) = &question.editable {
                fixes.extend(bucket_policy_fix(caller, editable, request, set));
            }
            if let Some(text) = question.key_policy {
                fixes.extend(key_policy_fix(caller, text, request, set));
            }
        }
        Reason::ExplicitDenyResourcePolicy => {
            // Change the request first: send what the Deny's guard asks for.
            fixes.extend(request_fix(request, set, evaluation));
            // Locked out: the bucket policy refuses even the owner's root user,
            // and no change of the request helps.
            let locked_out = |e: &&EditablePolicy| {
                caller.kind == CallerKind::Root && caller.account_id == e.owner_account
            };
            if fixes.is_empty() {
                if let Some(editable) = question.editable.as_ref().filter(locked_out) {
                    fixes.extend(unlock_fix(editable, evaluation, request, set));
                }
            }
        }
        Reason::ExplicitDenyScp => fixes.extend(scp_fix(caller, request, set, evaluation)),
        Reason::ExplicitDenyIdentityPolicy => {
            fixes.extend(request_fix(request, set, evaluation));
            if fixes.is_empty() {
                fixes.extend(inline_deny_fix(request, set, evaluation));
            }
        }
        _ => {}
    }
    fixes
}

/// Where each SCP level is: the organization root, its OUs, then the account
/// (from `aws:PrincipalOrgPaths`, `o-x/r-y/ou-a/`).
fn scp_targets(caller: &Caller, request: &strongbox_policy::Request<'_>) -> Option<Vec<String>> {
    let path = request.context.get("aws:PrincipalOrgPaths")?.first()?;
    let mut targets: Vec<String> = path
        .split('/')
        .skip(1)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    targets.push(caller.account_id.clone());
    Some(targets)
}

/// Detaches the SCP whose Deny refused the request from the one level it is
/// attached to (from the management account); offered when that allows it.
fn scp_fix(
    caller: &Caller,
    request: &strongbox_policy::Request<'_>,
    set: &strongbox_policy::PolicySet<'_>,
    evaluation: &Evaluation,
) -> Option<ProvenFix> {
    let deciding = evaluation.deciding.as_ref()?;
    let levels = set.scp.as_ref()?;
    let attached: Vec<usize> = levels
        .iter()
        .enumerate()
        .filter(|(_, level)| level.iter().any(|p| p.name == deciding.policy_name))
        .map(|(i, _)| i)
        .collect();
    let [level] = attached[..] else {
        return None;
    };
    let target = scp_targets(caller, request)?.get(level)?.clone();
    let policy_id = deciding.policy_name.rsplit('/').next()?.to_string();
    // AWS managed SCPs (FullAWSAccess) allow; a Deny comes from a customer one.
    if deciding
        .policy_name
        .starts_with("arn:aws:organizations::aws:")
    {
        return None;
    }
    let mut changed = set.clone();
    if let Some(levels) = changed.scp.as_mut() {
        levels[level].retain(|p| p.name != deciding.policy_name);
    }
    let reevaluation = allowed_with(request, &changed)?;
    let argv: Vec<String> = [
        "organizations",
        "detach-policy",
        "--policy-id",
        &policy_id,
        "--target-id",
        &target,
    ]
    .map(str::to_string)
    .to_vec();
    Some(ProvenFix::proven(
        "scp",
        format!(
            "detach the service control policy {policy_id} (its statement {} denies this) from {target}, or amend it so that it no longer denies {} here",
            crate::statement_label(deciding),
            request.action
        ),
        "the organization's management account (organizations:DetachPolicy); SCPs never restrict the management account itself".to_string(),
        Some(format!(
            "every principal of every account under {target}: the SCP's restrictions no longer apply to them"
        )),
        argv,
        reevaluation,
    ))
}

/// Evaluates `request` against `changed`; the re-evaluation's summary when allowed.
fn allowed_with(
    request: &strongbox_policy::Request<'_>,
    changed: &strongbox_policy::PolicySet<'_>,
) -> Option<String> {
    let after = strongbox_policy::evaluate(request, changed);
    (after.decision == strongbox_policy::Decision::Allow)
        .then(|| format!("{:?} ({})", after.decision, after.reason.code()))
}

/// `aws ARGV…` as one shell line.
fn command_line(argv: &[String]) -> String {
    std::iter::once("aws".to_string())
        .chain(argv.iter().map(|a| shell_quote(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The label `s3.rs` gives a bucket policy whose Allow statements cannot grant
/// here (`bucket policy (Deny statements only: …)`): adding one would not help.
fn bucket_policy_cannot_grant(set: &strongbox_policy::PolicySet<'_>) -> bool {
    set.resource
        .iter()
        .any(|r| r.name.starts_with("bucket policy ("))
}

/// The policy document `text` (a new one when `None`) with `statement` added.
fn with_statement(text: Option<&str>, statement: serde_json::Value) -> Option<String> {
    let mut document = match text {
        Some(text) => serde_json::from_str::<serde_json::Value>(text).ok()?,
        None => serde_json::json!({ "Version": "2012-10-17", "Statement": [] }),
    };
    let statements = match document.get_mut("Statement")? {
        serde_json::Value::Array(list) => list,
        single => {
            *single = serde_json::Value::Array(vec![single.take()]);
            single.as_array_mut()?
        }
    };
    statements.push(statement);
    Some(document.to_string())
}

/// `current` (the resource policy labelled `label`) with a statement granting
/// the caller the action on `resource`, and the re-evaluation when that
/// allows the request: `(new policy text, re-evaluation)`.
fn grant_in_resource_policy(
    caller: &Caller,
    current: Option<&str>,
    kind: &strongbox_policy::PolicyKind,
    label: &str,
    resource: &str,
    request: &strongbox_policy::Request<'_>,
    set: &strongbox_policy::PolicySet<'_>,
) -> Option<(String, String)> {
    let statement = serde_json::json!({
        "Sid": "StrongboxFix",
        "Effect": "Allow",
        "Principal": { "AWS": principal_for_grant(caller) },
        "Action": request.action,
        "Resource": resource,
    });
    let text = with_statement(current, statement)?;
    let policy = strongbox_policy::Policy::parse_for_evaluation(kind, &text).ok()?;
    let mut changed = set.clone();
    changed.resource.retain(|r| r.name != label);
    changed.resource.push(strongbox_policy::PolicyRef {
        name: label,
        policy: &policy,
    });
    let reevaluation = allowed_with(request, &changed)?;
    Some((text, reevaluation))
}

/// Adds to a customer managed key's policy a statement granting the caller
/// this action; offered when that allows it (AWS managed keys never get here).
fn key_policy_fix(
    caller: &Caller,
    key_policy: &str,
    request: &strongbox_policy::Request<'_>,
    set: &strongbox_policy::PolicySet<'_>,
) -> Option<ProvenFix> {
    if caller.kind == CallerKind::Anonymous || aws_managed_key_alias(request).is_some() {
        return None;
    }
    let (text, reevaluation) = grant_in_resource_policy(
        caller,
        Some(key_policy),
        &strongbox_policy::PolicyKind::KeyPolicy,
        "key policy",
        "*",
        request,
        set,
    )?;
    let argv: Vec<String> = [
        "kms",
        "put-key-policy",
        "--key-id",
        request.resource,
        "--policy-name",
        "default",
        "--policy",
        &text,
    ]
    .map(str::to_string)
    .to_vec();
    Some(ProvenFix::proven(
        "key-policy",
        format!(
            "add to the key policy of {} a statement allowing {} for {}",
            request.resource,
            request.action,
            principal_for_grant(caller)
        ),
        format!(
            "the key owner: an admin of account {} (kms:PutKeyPolicy)",
            request.resource_account.unwrap_or_default()
        ),
        None,
        argv,
        reevaluation,
    ))
}

/// Adds to the bucket policy a statement granting the caller this action on
/// this resource; offered when that allows it. Not for anonymous callers:
/// granting everyone (making the resource public) is rarely the fix, and
/// re-parsing the bucket policy for every unsigned denial would let anyone buy
/// CPU; their text suggestion names the grant, unverified.
fn bucket_policy_fix(
    caller: &Caller,
    editable: &EditablePolicy,
    request: &strongbox_policy::Request<'_>,
    set: &strongbox_policy::PolicySet<'_>,
) -> Option<ProvenFix> {
    if caller.kind == CallerKind::Anonymous || bucket_policy_cannot_grant(set) {
        return None;
    }
    let kind = strongbox_policy::PolicyKind::Bucket {
        bucket: editable.bucket.clone(),
    };
    let (text, reevaluation) = grant_in_resource_policy(
        caller,
        editable.text.as_deref(),
        &kind,
        "bucket policy",
        request.resource,
        request,
        set,
    )?;
    let argv: Vec<String> = [
        "s3api",
        "put-bucket-policy",
        "--bucket",
        &editable.bucket,
        "--policy",
        &text,
    ]
    .map(str::to_string)
    .to_vec();
    Some(ProvenFix::proven(
        "bucket-policy",
        format!(
            "add to the bucket policy of {} a statement allowing {} on {} for {}",
            editable.bucket,
            request.action,
            request.resource,
            principal_for_grant(caller)
        ),
        format!(
            "the bucket owner: an admin of account {} (s3:PutBucketPolicy)",
            editable.owner_account
        ),
        None,
        argv,
        reevaluation,
    ))
}

/// A bucket policy Deny that refuses even the bucket owner's account (a
/// lock-out): the owner's root user deletes the policy (S3 lets the root user
/// of the bucket's account delete it whatever it says), or, from the
/// management account, a root session with the `S3UnlockBucketPolicy` task policy.
fn unlock_fix(
    editable: &EditablePolicy,
    evaluation: &Evaluation,
    request: &strongbox_policy::Request<'_>,
    set: &strongbox_policy::PolicySet<'_>,
) -> Option<ProvenFix> {
    let deciding = evaluation.deciding.as_ref()?;
    if !deciding.policy_name.starts_with("bucket policy") {
        return None;
    }
    let mut changed = set.clone();
    changed
        .resource
        .retain(|r| !r.name.starts_with("bucket policy"));
    let reevaluation = allowed_with(request, &changed)?;
    let argv: Vec<String> = [
        "s3api",
        "delete-bucket-policy",
        "--bucket",
        &editable.bucket,
    ]
    .map(str::to_string)
    .to_vec();
    let owner = &editable.owner_account;
    Some(ProvenFix::proven(
        "unlock",
        format!(
            "delete the bucket policy of {} (its statement {} denies this)",
            editable.bucket,
            crate::statement_label(deciding)
        ),
        format!(
            "the root user of account {owner} (the bucket owner's root user may always delete its bucket policy), or the management account through `aws sts assume-root --target-principal {owner} --task-policy-arn arn=arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy`"
        ),
        Some(format!(
            "removes every statement of the bucket policy of {}, its other Deny statements too",
            editable.bucket
        )),
        argv,
        reevaluation,
    ))
}

/// Adds the narrowest identity-based statement, re-evaluates, and offers it
/// only when the request would then be allowed.
fn identity_policy_fix(
    caller: &Caller,
    request: &strongbox_policy::Request<'_>,
    set: &strongbox_policy::PolicySet<'_>,
) -> Option<ProvenFix> {
    let (document, argv) = identity_policy_candidate(caller, request.action, request.resource)?;
    let policy =
        strongbox_policy::Policy::parse(&strongbox_policy::PolicyKind::Identity, &document).ok()?;
    let name = fix_policy_name(request.action);
    let mut changed = set.clone();
    changed.identity.push(strongbox_policy::PolicyRef {
        name: &name,
        policy: &policy,
    });
    let reevaluation = allowed_with(request, &changed)?;
    Some(ProvenFix::proven(
        "identity-policy",
        format!(
            "add to {} an inline policy {name} allowing {} on {}",
            who(caller),
            request.action,
            request.resource
        ),
        format!(
            "an admin of account {} (iam:{})",
            caller.account_id,
            iam_permission(&argv)
        ),
        None,
        argv,
        reevaluation,
    ))
}

/// `PutUserPolicy` from `put-user-policy`.
fn iam_permission(argv: &[String]) -> String {
    argv.get(1)
        .map(|call| {
            call.split('-')
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The request headers a corrected command can send, as `aws s3api` flags.
const HEADER_FLAGS: &[(&str, &str)] = &[
    (
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
        "--ssekms-key-id",
    ),
    (
        "s3:x-amz-server-side-encryption",
        "--server-side-encryption",
    ),
    ("s3:x-amz-acl", "--acl"),
];

/// Negated operators: a Deny with one applies when the request does NOT send
/// the value, so sending it (one literal policy value) lifts the Deny.
fn is_negated_match(operator: &str) -> bool {
    let base = operator.strip_suffix("IfExists").unwrap_or(operator);
    matches!(
        base,
        "StringNotEquals"
            | "StringNotLike"
            | "StringNotEqualsIgnoreCase"
            | "ArnNotEquals"
            | "ArnNotLike"
    )
}

/// The condition values the deciding Deny statement wants sent: `(key, value)`
/// for each of its negated conditions on a header the CLI can send.
fn wanted_headers(evaluation: &Evaluation) -> Option<Vec<(String, String)>> {
    let deciding = evaluation.deciding.as_ref()?;
    let trace = serde_json::to_value(&evaluation.trace).ok()?;
    let policy = trace["policies"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == deciding.policy_name.as_str())?;
    let statement = policy["statements"]
        .as_array()?
        .iter()
        .find(|s| s["index"] == deciding.statement_index)?;
    let mut wanted = Vec::new();
    for condition in statement["conditions"].as_array()? {
        let key = condition["key"].as_str()?;
        let operator = condition["operator"].as_str()?;
        let value = condition["policy_values"].as_array()?.first()?.as_str()?;
        let sendable = HEADER_FLAGS
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(key));
        if !sendable || !is_negated_match(operator) || value.contains(['*', '?', '$']) {
            return None;
        }
        wanted.push((key.to_ascii_lowercase(), value.to_string()));
    }
    (!wanted.is_empty()).then_some(wanted)
}

/// Sends what the deciding Deny asks for (e.g. the KMS key id header): offered
/// when the corrected request satisfies every Deny and is allowed.
fn request_fix(
    request: &strongbox_policy::Request<'_>,
    set: &strongbox_policy::PolicySet<'_>,
    evaluation: &Evaluation,
) -> Option<ProvenFix> {
    if request.action != "s3:PutObject" {
        return None;
    }
    let (bucket, key) = request
        .resource
        .strip_prefix("arn:aws:s3:::")?
        .split_once('/')?;
    let wanted = wanted_headers(evaluation)?;
    let mut context = request.context.clone();
    for (k, v) in &wanted {
        context.remove(k);
        context.insert(k.clone(), v.clone());
    }
    // A KMS key id is sent only with SSE-KMS.
    let kms_key = "s3:x-amz-server-side-encryption-aws-kms-key-id";
    let sse = "s3:x-amz-server-side-encryption";
    if wanted.iter().any(|(k, _)| k == kms_key) && context.get(sse).is_none() {
        context.insert(sse, "aws:kms");
    }
    let corrected = strongbox_policy::Request {
        context: &context,
        ..*request
    };
    let reevaluation = allowed_with(&corrected, set)?;
    let mut argv: Vec<String> = ["s3api", "put-object", "--bucket", bucket, "--key", key]
        .map(str::to_string)
        .to_vec();
    for (header, flag) in HEADER_FLAGS {
        if let Some(value) = context.get(header).and_then(|v| v.first()) {
            argv.extend([flag.to_string(), value.clone()]);
        }
    }
    let sent: Vec<String> = wanted.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    Some(ProvenFix::proven(
        "request",
        format!(
            "send {} with the request, as the Deny statement {} of {} requires (add your --body FILE)",
            sent.join(", "),
            evaluation
                .deciding
                .as_ref()
                .map(crate::statement_label)
                .unwrap_or_default(),
            evaluation
                .deciding
                .as_ref()
                .map(|d| d.policy_name.as_str())
                .unwrap_or_default()
        ),
        "the caller (a corrected request; no policy changes)".to_string(),
        None,
        argv,
        reevaluation,
    ))
}

/// Deletes the inline identity policy (of the caller's user, role or group)
/// whose Deny refused the request; offered when the request is then allowed
/// (the policy's other statements do not carry the Allow it needs).
fn inline_deny_fix(
    request: &strongbox_policy::Request<'_>,
    set: &strongbox_policy::PolicySet<'_>,
    evaluation: &Evaluation,
) -> Option<ProvenFix> {
    let deciding = evaluation.deciding.as_ref()?;
    // `user/NAME/inline/POLICY`, `role/NAME/inline/POLICY`, `group/NAME/inline/POLICY`.
    let (owner, policy) = deciding.policy_name.split_once("/inline/")?;
    let (kind, name) = owner.split_once('/')?;
    let (call, flag) = match kind {
        "user" => ("delete-user-policy", "--user-name"),
        "role" => ("delete-role-policy", "--role-name"),
        "group" => ("delete-group-policy", "--group-name"),
        _ => return None,
    };
    let mut changed = set.clone();
    changed.identity.retain(|p| p.name != deciding.policy_name);
    let reevaluation = allowed_with(request, &changed)?;
    let argv: Vec<String> = ["iam", call, flag, name, "--policy-name", policy]
        .map(str::to_string)
        .to_vec();
    let account = request
        .context
        .get("aws:PrincipalAccount")
        .and_then(|v| v.first())
        .cloned()
        .unwrap_or_default();
    Some(ProvenFix::proven(
        "identity-policy",
        format!(
            "delete the inline policy {policy} of {kind} {name} (its statement {} denies this), or narrow that statement",
            crate::statement_label(deciding)
        ),
        format!(
            "an admin of account {account} (iam:{})",
            iam_permission(&argv)
        ),
        (kind == "group").then(|| {
            format!("every member of group {name}: the policy's restrictions no longer apply to them")
        }),
        argv,
        reevaluation,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_quoted_for_a_shell() {
        assert_eq!(shell_quote("s3api"), "s3api");
        assert_eq!(shell_quote("arn:aws:s3:::b/k"), "arn:aws:s3:::b/k");
        assert_eq!(shell_quote("{\"a\": 1}"), "'{\"a\": 1}'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        let argv = ["s3api".to_string(), "a b".to_string()];
        assert_eq!(command_line(&argv), "aws s3api 'a b'");
    }

    #[test]
    fn only_negated_operators_ask_for_a_value_to_send() {
        for op in ["StringNotLikeIfExists", "StringNotEquals", "ArnNotLike"] {
            assert!(is_negated_match(op), "{op}");
        }
        for op in ["StringLike", "StringEquals", "Null", "BoolIfExists"] {
            assert!(!is_negated_match(op), "{op}");
        }
    }

    #[test]
    fn names_of_fix_policies_and_permissions() {
        assert_eq!(
            fix_policy_name("s3:PutObject"),
            "strongbox-fix-s3-PutObject"
        );
        let argv = ["iam".to_string(), "put-user-policy".to_string()];
        assert_eq!(iam_permission(&argv), "PutUserPolicy");
    }
}
