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
