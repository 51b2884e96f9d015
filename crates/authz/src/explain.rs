//! Rendering decision records for a person (`strongbox explain REQUEST_ID`).

use std::fmt::Write;

use crate::record::DecisionRecord;

/// A human-readable explanation of every decision taken for one request.
pub fn render(records: &[DecisionRecord]) -> String {
    let mut out = String::new();
    if records.is_empty() {
        out.push_str("No decision recorded for this request id.\n");
        return out;
    }
    let first = &records[0];
    let _ = writeln!(out, "{}", verdict(records));
    let _ = writeln!(out);
    let _ = writeln!(out, "Request {}", first.request_id);
    let _ = writeln!(out, "  at        {}", first.time);
    let _ = writeln!(
        out,
        "  principal {} (account {})",
        first.principal,
        display_account(&first.principal_account)
    );
    for (i, r) in records.iter().enumerate() {
        let _ = writeln!(out);
        let _ = writeln!(out, "Check {}: {} on {}", i + 1, r.action, r.resource);
        if let Some(why) = &r.why_checked {
            let _ = writeln!(out, "  checked because: {why}");
        }
        if let Some(acct) = &r.resource_account {
            let _ = writeln!(out, "  resource owner account: {acct}");
        }
        let _ = writeln!(
            out,
            "  decision: {} ({})",
            r.decision.to_uppercase(),
            r.reason
        );
        let _ = writeln!(out, "  message:  {}", r.message);
        match (&r.deciding_policy, &r.deciding_statement) {
            (Some(p), Some(s)) => {
                let _ = writeln!(out, "  decided by: statement {s} of {p}");
            }
            (Some(p), None) => {
                let _ = writeln!(out, "  decided by: {p}");
            }
            _ => {
                if r.decision == "Deny" {
                    let _ = writeln!(out, "  decided by: no statement allowed it (implicit deny)");
                }
            }
        }
        if !r.policies.is_empty() {
            let _ = writeln!(out, "  policies read:");
            for p in &r.policies {
                let _ = writeln!(out, "    - {p}");
            }
        }
        if !r.context.is_empty() {
            let _ = writeln!(out, "  request context:");
            for (k, v) in &r.context {
                let _ = writeln!(out, "    {k} = {}", v.join(", "));
            }
        }
        if let Some(trace) = &r.trace {
            let lines = crate::trace_lines(trace);
            if !lines.is_empty() {
                let _ = writeln!(out, "  evaluation:");
                for line in lines {
                    let _ = writeln!(out, "    {line}");
                }
            }
        }
        for (n, fix) in r.fixes.iter().enumerate() {
            let _ = writeln!(
                out,
                "  fix {} ({}, verified: re-evaluated with it → {}):",
                n + 1,
                fix.kind,
                fix.reevaluation
            );
            let _ = writeln!(out, "    change:  {}", fix.change);
            let _ = writeln!(out, "    who:     {}", fix.who);
            let widens = fix.widens.as_deref().unwrap_or("no one beyond the caller");
            let _ = writeln!(out, "    widens:  {widens}");
            let _ = writeln!(out, "    command: {}", fix.command);
        }
        if let Some(fix) = r.fix.as_ref().filter(|_| r.fixes.is_empty()) {
            let _ = writeln!(out, "  smallest change that would allow it (not verified):");
            for line in fix.lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    out
}

/// The first value of `key` in the context of `record`.
fn value<'r>(record: &'r DecisionRecord, key: &str) -> Option<&'r str> {
    record
        .context
        .get(key)
        .and_then(|v| v.first())
        .map(String::as_str)
}

/// Fills in why each check of one request ran: the request's own action, or
/// the header, default or setting that made S3 check another action.
pub fn annotate_why_checked(records: &mut [DecisionRecord]) {
    let Some(first) = records.first().cloned() else {
        return;
    };
    for (i, record) in records.iter_mut().enumerate() {
        record.why_checked = if i == 0 {
            Some(format!("the request itself: {}", first.action))
        } else {
            why_extra_check(&first, record)
        };
    }
}

/// Why `record` ran after the request's first check `first`.
fn why_extra_check(first: &DecisionRecord, record: &DecisionRecord) -> Option<String> {
    let action = record.action.as_str();
    if action == "s3:PutObjectAcl" || action == "s3:PutObjectVersionAcl" {
        if let Some(acl) = value(record, "s3:x-amz-acl").or_else(|| value(first, "s3:x-amz-acl")) {
            return Some(format!(
                "the request sent the x-amz-acl header ({acl}; the aws CLI's --acl), and S3 authorizes setting an ACL as {action}"
            ));
        }
        let grant = record
            .context
            .keys()
            .find(|k| k.starts_with("s3:x-amz-grant-"))?;
        return Some(format!(
            "the request sent the {} header (an ACL grant), and S3 authorizes setting an ACL as {action}",
            grant.trim_start_matches("s3:")
        ));
    }
    if action.starts_with("kms:") && first.action.starts_with("s3:") {
        let sse = value(first, "s3:x-amz-server-side-encryption");
        let key = value(first, "s3:x-amz-server-side-encryption-aws-kms-key-id");
        return Some(match (action, sse) {
            ("kms:Decrypt", _) if first.action.starts_with("s3:GetObject") => {
                "the object is encrypted with SSE-KMS: S3 asks KMS to decrypt its data key as the caller".to_string()
            }
            (_, Some(sse)) => format!(
                "the request asked for SSE-KMS (x-amz-server-side-encryption: {sse}{}): S3 asks KMS for a data key as the caller",
                key.map(|k| format!(", key {k}")).unwrap_or_else(|| ", no key id: the AWS managed key aws/s3 unless the bucket's default names one".to_string())
            ),
            (_, None) => "the bucket's default encryption is SSE-KMS (the request sent no x-amz-server-side-encryption header): S3 asks KMS for a data key as the caller".to_string(),
        });
    }
    None
}

/// The one line that heads an explanation: the outcome, why, and the fix, e.g.
/// "Denied: no identity-based policy allows s3:PutObject for user/alice; fix: …".
pub fn verdict(records: &[DecisionRecord]) -> String {
    // A request ends at its first denial; its later records (if any) are not decisive.
    let Some(denial) = records.iter().find(|r| r.decision == "Deny") else {
        return match records.len() {
            0 => "No decision recorded for this request id.".to_string(),
            1 => "Allowed: its one check allowed it.".to_string(),
            n => format!("Allowed: all {n} checks allowed it."),
        };
    };
    let mut line = format!("Denied: {}", denial_cause(denial));
    if let Some(fix) = denial.fixes.first() {
        let _ = write!(
            line,
            "; fix: {} — by {}: {}",
            fix.change, fix.who, fix.command
        );
    } else if let Some(fix) = denial.fix.as_deref().and_then(|f| f.lines().next()) {
        if !fix.trim().is_empty() {
            let _ = write!(line, "; fix: {}", fix.trim());
        }
    }
    line
}

/// Why `denial` was refused, in a few words.
fn denial_cause(denial: &DecisionRecord) -> String {
    let action = &denial.action;
    let who = short_principal(&denial.principal);
    let by = match (&denial.deciding_policy, &denial.deciding_statement) {
        (Some(p), Some(s)) => format!("statement {s} of {p}"),
        (Some(p), None) => p.clone(),
        _ => "a statement".to_string(),
    };
    match denial.reason.as_str() {
        "no_allow_identity_policy" => {
            format!("no identity-based policy allows {action} for {who}")
        }
        "no_allow_resource_policy" => format!(
            "no resource-based policy of {} allows {action} for {who}",
            denial.resource
        ),
        "no_allow_scp" => format!(
            "no service control policy allows {action} in account {}",
            display_account(&denial.principal_account)
        ),
        "no_allow_permissions_boundary" => {
            format!("the permissions boundary of {who} does not allow {action}")
        }
        "no_allow_session_policy" => {
            format!("the session policy of {who} does not allow {action}")
        }
        reason if reason.starts_with("explicit_deny_") => {
            format!("an explicit Deny ({by}) refuses {action} for {who}")
        }
        rule => format!(
            "{action} for {who} refused by the rule {rule}: {}",
            denial.message
        ),
    }
}

/// `user/alice`, `assumed-role/R/S`, `root of account N`, `anonymous` from a caller ARN.
fn short_principal(arn: &str) -> String {
    let Some(rest) = arn.strip_prefix("arn:aws:") else {
        return arn.to_string();
    };
    // service:region:account:resource
    let mut parts = rest.splitn(4, ':');
    let (_, _, account, resource) = (parts.next(), parts.next(), parts.next(), parts.next());
    match (account, resource) {
        (Some(account), Some("root")) => format!("the root user of account {account}"),
        (_, Some(resource)) => resource.to_string(),
        _ => arn.to_string(),
    }
}

fn display_account(a: &str) -> &str {
    if a.is_empty() {
        "none: anonymous"
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(decision: &str, reason: &str, fix: Option<&str>) -> DecisionRecord {
        DecisionRecord {
            request_id: "R".into(),
            principal: "arn:aws:iam::111122223333:user/alice".into(),
            principal_account: "111122223333".into(),
            action: "s3:PutObject".into(),
            resource: "arn:aws:s3:::b/k".into(),
            decision: decision.into(),
            reason: reason.into(),
            fix: fix.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn the_verdict_names_the_cause_and_the_fix_of_the_denial() {
        let denied = record(
            "Deny",
            "no_allow_identity_policy",
            Some("Attach a policy.\nmore"),
        );
        assert_eq!(
            verdict(&[record("Allow", "allowed", None), denied]),
            "Denied: no identity-based policy allows s3:PutObject for user/alice; fix: Attach a policy."
        );
        let mut deny = record("Deny", "explicit_deny_resource_policy", None);
        deny.deciding_policy = Some("bucket policy of b".into());
        deny.deciding_statement = Some("DenyAll".into());
        deny.principal = "arn:aws:iam::111122223333:root".into();
        assert_eq!(
            verdict(&[deny]),
            "Denied: an explicit Deny (statement DenyAll of bucket policy of b) refuses s3:PutObject for the root user of account 111122223333"
        );
        assert_eq!(
            verdict(&[record("Allow", "allowed", None)]),
            "Allowed: its one check allowed it."
        );
    }
}
