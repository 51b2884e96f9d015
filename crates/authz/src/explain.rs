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
        if let Some(fix) = &r.fix {
            let _ = writeln!(out, "  smallest change that would allow it:");
            for line in fix.lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    out
}

fn display_account(a: &str) -> &str {
    if a.is_empty() {
        "none: anonymous"
    } else {
        a
    }
}
