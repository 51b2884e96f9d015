//! AWS's access-denied messages.
//!
//! IAM User Guide, "Troubleshoot access denied error messages": `User: ARN is
//! not authorized to perform: ACTION on resource: RESOURCE because no
//! identity-based policy allows the ACTION action`, or `... with an explicit
//! deny in a resource-based policy`. The policy-type phrases are "service
//! control policy", "resource-based policy", "identity-based policy",
//! "permissions boundary" and "session policy". Amazon S3 quotes the resource
//! ARN; IAM, STS and KMS print it bare.

use crate::evaluate::{Decision, Evaluation, Request};

/// How the service formats the resource in its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageStyle {
    /// Amazon S3: `on resource: "arn:aws:s3:::bucket/key"`.
    S3,
    /// IAM, STS, KMS, Organizations: `on resource: arn:aws:kms:...`.
    Iam,
}

impl Evaluation {
    /// AWS's message for this decision (empty when allowed).
    pub fn message(&self, req: &Request<'_>, style: MessageStyle) -> String {
        if self.decision == Decision::Allow {
            return String::new();
        }
        let resource = match style {
            MessageStyle::S3 => format!("\"{}\"", req.resource),
            MessageStyle::Iam => req.resource.to_string(),
        };
        let who = req.principal.arn();
        let label = self
            .reason
            .policy_type()
            .map(|t| t.label())
            .unwrap_or("identity-based policy");
        let because = if self.reason.is_explicit_deny() {
            let article = if label.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            format!("with an explicit deny in {article} {label}")
        } else {
            format!("because no {label} allows the {} action", req.action)
        };
        format!(
            "User: {who} is not authorized to perform: {} on resource: {resource} {because}",
            req.action
        )
    }
}

impl Evaluation {
    /// A short human explanation: the decision, the statement behind it, and
    /// what would have to change; followed by the statement-by-statement trace.
    pub fn explain(&self) -> String {
        let t = &self.trace;
        let mut out = String::new();
        match (&self.decision, &self.deciding) {
            (Decision::Allow, Some(d)) => out.push_str(&format!(
                "ALLOW: statement #{}{} of {} \"{}\" allows {} on {}\n",
                d.statement_index,
                d.sid
                    .as_deref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default(),
                d.policy_type.label(),
                d.policy_name,
                t.action(),
                t.resource()
            )),
            (Decision::Allow, None) => {
                out.push_str(&format!("ALLOW: {} on {}\n", t.action(), t.resource()))
            }
            (Decision::Deny, Some(d)) => out.push_str(&format!(
                "DENY ({}): statement #{}{} of {} \"{}\" explicitly denies {} on {}; \
                 remove or narrow that statement (no Allow can override it)\n",
                self.reason.code(),
                d.statement_index,
                d.sid
                    .as_deref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default(),
                d.policy_type.label(),
                d.policy_name,
                t.action(),
                t.resource()
            )),
            (Decision::Deny, None) => {
                let label = self.reason.policy_type().map_or("policy", |p| p.label());
                out.push_str(&format!(
                    "DENY ({}): no {label} allows {} on {}; add an Allow statement for it to a {label}\n",
                    self.reason.code(),
                    t.action(),
                    t.resource()
                ));
            }
        }
        out.push_str(&t.to_text());
        out
    }
}
