//! The policy-evaluation conformance case format (tests/policy-eval/README.md):
//! load one case file, run it through the public API, and say whether the
//! engine agrees with the expectation.

use serde::Serialize;
use serde_json::Value;

use crate::context::Context;
use crate::error::PolicyError;
use crate::evaluate::{
    evaluate, DecidingStatement, Decision, PolicyRef, PolicySet, Reason, Request,
};
use crate::message::MessageStyle;
use crate::policy::{Policy, PolicyKind};
use crate::principal::Principal;
use crate::trace::Trace;

/// A case file that does not follow the format.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("case is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("case is malformed: {0}")]
    Format(String),
}

fn format_err(msg: impl Into<String>) -> CaseError {
    CaseError::Format(msg.into())
}

/// The result of running one case.
#[derive(Clone, Debug, Serialize)]
pub struct CaseOutcome {
    pub description: String,
    /// Evaluation cases: the engine's decision.
    pub decision: Option<Decision>,
    /// Evaluation cases: the engine's reason.
    pub reason: Option<Reason>,
    /// Evaluation cases: the statement behind the decision, if one.
    pub deciding: Option<DecidingStatement>,
    /// Evaluation cases: AWS's message for a denial.
    pub message: Option<String>,
    /// Evaluation cases: the full trace.
    pub trace: Option<Trace>,
    /// Validation cases: whether the document was accepted.
    pub valid: Option<bool>,
    /// Validation cases: the error when refused.
    pub error: Option<PolicyError>,
    /// Whether the engine agrees with the case's expectation.
    pub passed: bool,
    /// What was expected and what came out.
    pub detail: String,
}

impl Serialize for PolicyError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("PolicyError", 2)?;
        s.serialize_field("code", self.code)?;
        s.serialize_field("message", &self.message)?;
        s.end()
    }
}

/// Runs one case given as JSON text.
pub fn run_case(text: &str) -> Result<CaseOutcome, CaseError> {
    let case: Value = serde_json::from_str(text)?;
    let description = case
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if case.get("validate").is_some() {
        run_validation(&case, description)
    } else {
        run_evaluation(&case, description)
    }
}

fn run_validation(case: &Value, description: String) -> Result<CaseOutcome, CaseError> {
    let v = &case["validate"];
    let kind = match v.get("kind").and_then(Value::as_str) {
        Some("bucket_policy") => PolicyKind::Bucket {
            bucket: v
                .get("bucket")
                .and_then(Value::as_str)
                .ok_or_else(|| format_err("bucket_policy without bucket"))?
                .to_string(),
        },
        Some("identity_policy") => PolicyKind::Identity,
        Some("key_policy") => PolicyKind::KeyPolicy,
        Some("scp") => PolicyKind::Scp,
        Some("trust_policy") => PolicyKind::Trust,
        Some("session_policy") => PolicyKind::Session,
        Some("permissions_boundary") => PolicyKind::Boundary,
        other => return Err(format_err(format!("unknown validate.kind {other:?}"))),
    };
    let document = match v.get("document") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => serde_json::to_string_pretty(other)?,
        None => return Err(format_err("validate.document missing")),
    };
    let expect = &case["expect"];
    let want_valid = expect
        .get("valid")
        .and_then(Value::as_bool)
        .ok_or_else(|| format_err("expect.valid missing"))?;
    let want_code = expect.get("error_code").and_then(Value::as_str);
    let result = Policy::parse(&kind, &document);
    let (valid, error) = match result {
        Ok(_) => (true, None),
        Err(e) => (false, Some(e)),
    };
    let passed = valid == want_valid
        && (valid || want_code.is_none_or(|c| error.as_ref().is_some_and(|e| e.code == c)));
    let detail = format!(
        "expected {}{}, got {}",
        if want_valid { "valid" } else { "invalid" },
        want_code.map(|c| format!(" ({c})")).unwrap_or_default(),
        match &error {
            None => "valid".to_string(),
            Some(e) => format!("invalid ({}: {})", e.code, e.message),
        }
    );
    Ok(CaseOutcome {
        description,
        decision: None,
        reason: None,
        deciding: None,
        message: None,
        trace: None,
        valid: Some(valid),
        error,
        passed,
        detail,
    })
}

/// The principal a case's request names.
fn case_principal(req: &Value) -> Result<Principal, CaseError> {
    let arn = req
        .get("principal")
        .and_then(Value::as_str)
        .ok_or_else(|| format_err("request.principal missing"))?;
    let role_arn = req.get("role_arn").and_then(Value::as_str);
    Principal::from_arn(arn, role_arn)
        .ok_or_else(|| format_err(format!("unsupported principal {arn}")))
}

/// The request context, with principal tags as `aws:PrincipalTag/<key>` (listed values win).
fn case_context(req: &Value) -> Result<Context, CaseError> {
    let mut ctx = Context::new();
    if let Some(map) = req.get("context").and_then(Value::as_object) {
        for (k, v) in map {
            match v {
                Value::String(s) => ctx.insert(k.clone(), s.clone()),
                Value::Array(items) => {
                    let values = items.iter().map(|i| match i {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    });
                    ctx.insert_values(k.clone(), values.collect::<Vec<_>>());
                }
                other => ctx.insert(k.clone(), other.to_string()),
            }
        }
    }
    if let Some(tags) = req.get("principal_tags").and_then(Value::as_object) {
        for (k, v) in tags {
            let value = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            ctx.insert_if_absent(format!("aws:PrincipalTag/{k}"), value);
        }
    }
    Ok(ctx)
}

fn parse_doc(kind: &PolicyKind, v: &Value, what: &str) -> Result<Policy, CaseError> {
    let text = serde_json::to_string(v)?;
    Policy::parse_for_evaluation(kind, &text).map_err(|e| format_err(format!("{what}: {e}")))
}

fn parse_list(kind: &PolicyKind, v: &Value, what: &str) -> Result<Vec<Policy>, CaseError> {
    match v {
        Value::Array(items) => items.iter().map(|p| parse_doc(kind, p, what)).collect(),
        _ => Err(format_err(format!("policies.{what} is not a list"))),
    }
}

/// The resource-based policy a request meets, as AWS has it.
struct ResourceSide {
    /// The kind of the resource's policy; `None` when the resource has none.
    kind: Option<PolicyKind>,
    /// Whether that policy must allow even within the account.
    required: bool,
    style: MessageStyle,
}

/// The STS actions a role's trust policy governs (checked on the role when it
/// is assumed); every other IAM or STS action has no resource-based policy.
const TRUST_POLICY_ACTIONS: [&str; 5] = [
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
    "sts:TagSession",
    "sts:SetSourceIdentity",
];

/// Which resource-based policy `action` on `resource` meets. Only two kinds must
/// allow within the account: a KMS key policy (AWS KMS Developer Guide, "Key
/// policies in AWS KMS") and a role's trust policy when the role is assumed
/// (IAM User Guide, "Policy evaluation logic"). IAM actions such as
/// `iam:GetRole` / `iam:GetPolicy` and `sts:GetFederationToken` have no
/// resource-based policy: the identity side decides.
fn resource_side(action: &str, resource: &str) -> ResourceSide {
    let none = |style| ResourceSide {
        kind: None,
        required: false,
        style,
    };
    if resource.starts_with("arn:aws:kms:") {
        return ResourceSide {
            kind: Some(PolicyKind::KeyPolicy),
            required: true,
            style: MessageStyle::Iam,
        };
    }
    if resource.starts_with("arn:aws:iam:") && resource.contains(":role/") {
        if TRUST_POLICY_ACTIONS
            .iter()
            .any(|a| a.eq_ignore_ascii_case(action))
        {
            return ResourceSide {
                kind: Some(PolicyKind::Trust),
                required: true,
                style: MessageStyle::Iam,
            };
        }
        return none(MessageStyle::Iam);
    }
    match resource.strip_prefix("arn:aws:s3:::") {
        Some(path) => ResourceSide {
            kind: Some(PolicyKind::Bucket {
                bucket: path.split('/').next().unwrap_or("").to_string(),
            }),
            required: false,
            style: MessageStyle::S3,
        },
        None => none(MessageStyle::Iam),
    }
}

fn run_evaluation(case: &Value, description: String) -> Result<CaseOutcome, CaseError> {
    let req = case
        .get("request")
        .ok_or_else(|| format_err("request missing"))?;
    let policies = case
        .get("policies")
        .ok_or_else(|| format_err("policies missing"))?;
    let principal = case_principal(req)?;
    let context = case_context(req)?;
    let field = |k: &str| {
        req.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| format_err(format!("request.{k} missing")))
    };
    let action = field("action")?;
    let resource = field("resource")?;
    let resource_account = req.get("resource_account").and_then(Value::as_str);

    let side = resource_side(action, resource);
    let (resource_required, style) = (side.required, side.style);
    let identity = parse_list(
        &PolicyKind::Identity,
        policies.get("identity").unwrap_or(&Value::Null),
        "identity",
    )?;
    let resource_policy = match (policies.get("resource"), &side.kind) {
        (None | Some(Value::Null), _) => None,
        (Some(v), Some(kind)) => Some(parse_doc(kind, v, "resource")?),
        (Some(_), None) => {
            return Err(format_err(format!(
                "policies.resource given, but {action} on {resource} has no resource-based policy"
            )))
        }
    };
    let boundary = match policies.get("permissions_boundary") {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_doc(&PolicyKind::Boundary, v, "permissions_boundary")?),
    };
    let session = match policies.get("session") {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_list(&PolicyKind::Session, v, "session")?),
    };
    let scp: Option<Vec<Vec<Policy>>> = match policies.get("scp") {
        None | Some(Value::Null) => None,
        Some(Value::Array(levels)) => Some(
            levels
                .iter()
                .map(|l| parse_list(&PolicyKind::Scp, l, "scp"))
                .collect::<Result<_, _>>()?,
        ),
        Some(_) => return Err(format_err("policies.scp is not a list")),
    };

    let identity_names: Vec<String> = (0..identity.len())
        .map(|i| format!("identity[{i}]"))
        .collect();
    let session_names: Vec<String> = (0..session.as_ref().map_or(0, Vec::len))
        .map(|i| format!("session[{i}]"))
        .collect();
    let scp_names: Vec<Vec<String>> = scp
        .as_ref()
        .map(|levels| {
            levels
                .iter()
                .enumerate()
                .map(|(l, ps)| (0..ps.len()).map(|i| format!("scp[{l}][{i}]")).collect())
                .collect()
        })
        .unwrap_or_default();
    let set = PolicySet {
        identity: identity
            .iter()
            .zip(&identity_names)
            .map(|(p, n)| PolicyRef { name: n, policy: p })
            .collect(),
        resource: resource_policy
            .iter()
            .map(|p| PolicyRef {
                name: "resource",
                policy: p,
            })
            .collect(),
        resource_required,
        boundary: boundary.as_ref().map(|p| PolicyRef {
            name: "permissions_boundary",
            policy: p,
        }),
        session: session.as_ref().map(|ps| {
            ps.iter()
                .zip(&session_names)
                .map(|(p, n)| PolicyRef { name: n, policy: p })
                .collect()
        }),
        scp: scp.as_ref().map(|levels| {
            levels
                .iter()
                .zip(&scp_names)
                .map(|(ps, names)| {
                    ps.iter()
                        .zip(names)
                        .map(|(p, n)| PolicyRef { name: n, policy: p })
                        .collect()
                })
                .collect()
        }),
    };
    let request = Request {
        principal: &principal,
        action,
        resource,
        resource_account,
        context: &context,
    };
    let eval = evaluate(&request, &set);
    let message = eval.message(&request, style);

    let expect = case
        .get("expect")
        .ok_or_else(|| format_err("expect missing"))?;
    let want_decision = match expect.get("decision").and_then(Value::as_str) {
        Some("Allow") => Decision::Allow,
        Some("Deny") => Decision::Deny,
        other => return Err(format_err(format!("expect.decision {other:?}"))),
    };
    let want_reasons: Vec<String> = match expect.get("reason") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => return Err(format_err("expect.reason missing")),
    };
    let passed =
        eval.decision == want_decision && want_reasons.iter().any(|r| r == eval.reason.code());
    let detail = format!(
        "expected {want_decision:?} ({}), got {:?} ({})",
        want_reasons.join(" | "),
        eval.decision,
        eval.reason.code()
    );
    Ok(CaseOutcome {
        description,
        decision: Some(eval.decision),
        reason: Some(eval.reason),
        deciding: eval.deciding,
        message: Some(message),
        trace: Some(eval.trace),
        valid: None,
        error: None,
        passed,
        detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(action: &str, resource: &str, identity_action: &str, trust: &str) -> String {
        format!(
            r#"{{"description":"","request":{{"principal":"arn:aws:iam::111122223333:user/maria","principal_account":"111122223333","action":"{action}","resource":"{resource}","resource_account":"111122223333"}},
            "policies":{{"identity":[{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{identity_action}","Resource":"*"}}]}}],"resource":{trust},"permissions_boundary":null,"session":null,"scp":null}},
            "expect":{{"decision":"Allow","reason":"allowed"}}}}"#
        )
    }

    const ROLE: &str = "arn:aws:iam::111122223333:role/app";

    /// Only a role being assumed and a KMS key need their resource policy to allow.
    #[test]
    fn resource_policy_required_only_where_aws_requires_it() {
        for (action, resource) in [
            ("iam:GetRole", ROLE),
            ("iam:GetPolicy", "arn:aws:iam::111122223333:policy/p"),
            (
                "sts:GetFederationToken",
                "arn:aws:sts::111122223333:federated-user/bob",
            ),
        ] {
            let out = run_case(&case(action, resource, action, "null")).unwrap();
            assert_eq!(out.decision, Some(Decision::Allow), "{action}");
            assert!(out.passed, "{action}");
        }
        for action in ["sts:AssumeRole", "sts:TagSession"] {
            let out = run_case(&case(action, ROLE, "sts:*", "null")).unwrap();
            assert_eq!(out.reason, Some(Reason::NoAllowResourcePolicy), "{action}");
        }
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}"#;
        let out = run_case(&case("sts:AssumeRole", ROLE, "sts:AssumeRole", trust)).unwrap();
        assert_eq!(out.decision, Some(Decision::Allow));
        let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let out = run_case(&case("kms:Decrypt", key, "kms:Decrypt", "null")).unwrap();
        assert_eq!(out.reason, Some(Reason::NoAllowResourcePolicy));
    }

    /// A resource policy for a resource that has none is a malformed case.
    #[test]
    fn resource_policy_where_none_exists_is_refused() {
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}"#;
        assert!(matches!(
            run_case(&case("iam:GetRole", ROLE, "iam:GetRole", trust)),
            Err(CaseError::Format(_))
        ));
    }
}
