//! JSON text → compiled [`Policy`], with the checks AWS makes when a policy is stored.
//!
//! IAM User Guide, "Grammar of the IAM JSON policy language"; "IAM JSON policy
//! elements" (Version, Id, Statement, Sid, Effect, Principal, NotPrincipal,
//! Action, NotAction, Resource, NotResource, Condition); "IAM and AWS STS
//! quotas" (managed policy 6,144 characters without white space); Amazon S3
//! User Guide, "Bucket policies" (20 KB); AWS KMS Developer Guide, "Key
//! policies" (32 KB, Sid may contain spaces, a statement without Resource is
//! accepted but ineffective); AWS Organizations, "SCP syntax" (5,120 characters).

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::arn::ArnMatcher;
use crate::condition::{parse_net, Base, Condition, Operator};
use crate::error::{PolicyError, Problem};
use crate::glob::Glob;
use crate::policy::{
    ActionSpec, Effect, Inner, Policy, PolicyKind, ResourcePattern, ResourceSpec, Statement,
    StatementText,
};
use crate::principal::{classify_aws, PrincipalEntry, PrincipalSpec};
use crate::variables::Pattern;

const STATEMENT_FIELDS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

struct Parser<'k> {
    kind: &'k PolicyKind,
    strict: bool,
    variables: bool,
}

pub(crate) fn parse(kind: &PolicyKind, text: &str, strict: bool) -> Result<Policy, PolicyError> {
    parse_inner(kind, text, strict).map_err(|p| p.error(kind))
}

fn parse_inner(kind: &PolicyKind, text: &str, strict: bool) -> Result<Policy, Problem> {
    if strict {
        check_size(kind, text)?;
    }
    if !text.trim_start().starts_with('{') {
        return Err(Problem::InvalidJson);
    }
    let value: Value = serde_json::from_str(text).map_err(|_| Problem::InvalidJson)?;
    let Value::Object(doc) = value else {
        return Err(Problem::InvalidJson);
    };
    if strict {
        if let Some(f) = doc
            .keys()
            .find(|k| !matches!(k.as_str(), "Version" | "Id" | "Statement"))
        {
            return Err(Problem::UnknownField(f.clone()));
        }
    }
    let version = match doc.get("Version") {
        // AWS Organizations, "SCP syntax": every SCP must have `"Version": "2012-10-17"`.
        None if strict && *kind == PolicyKind::Scp => return Err(Problem::BadVersion),
        Some(Value::String(v)) if strict && *kind == PolicyKind::Scp && v != "2012-10-17" => {
            return Err(Problem::BadVersion)
        }
        None => None,
        Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => Some(v.clone()),
        Some(Value::String(v)) if !strict => Some(v.clone()),
        Some(_) => return Err(Problem::BadVersion),
    };
    let id = match doc.get("Id") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) if !strict => None,
        Some(_) => return Err(Problem::BadType("Id")),
    };
    let statements: Vec<&Map<String, Value>> = match doc.get("Statement") {
        None => return Err(Problem::MissingStatement),
        Some(Value::Object(o)) => vec![o],
        Some(Value::Array(items)) => {
            if items.is_empty() && strict {
                return Err(Problem::EmptyStatement);
            }
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::Object(o) => out.push(o),
                    _ => return Err(Problem::BadType("Statement")),
                }
            }
            out
        }
        Some(_) => return Err(Problem::BadType("Statement")),
    };
    let parser = Parser {
        kind,
        strict,
        variables: version.as_deref() == Some("2012-10-17"),
    };
    let mut compiled = Vec::with_capacity(statements.len());
    let mut sids = HashSet::new();
    for s in statements {
        if let Some(st) = parser.statement(s)? {
            if strict && iam_sid_rules(kind) {
                if let Some(sid) = st.sid.as_deref().filter(|s| !s.is_empty()) {
                    if !sids.insert(sid.to_string()) {
                        return Err(Problem::DuplicateSid(sid.to_string()));
                    }
                }
            }
            compiled.push(st);
        }
    }
    Ok(Policy {
        inner: Arc::new(Inner {
            source: text.to_string(),
            kind: kind.clone(),
            version,
            id,
            statements: compiled,
        }),
    })
}

/// Kinds whose Sid follows IAM's rule (ASCII letters and digits, unique).
fn iam_sid_rules(kind: &PolicyKind) -> bool {
    matches!(
        kind,
        PolicyKind::Identity
            | PolicyKind::Boundary
            | PolicyKind::Session
            | PolicyKind::Trust
            | PolicyKind::Scp
    )
}

fn check_size(kind: &PolicyKind, text: &str) -> Result<(), Problem> {
    let non_ws = || text.chars().filter(|c| !c.is_whitespace()).count();
    match kind {
        PolicyKind::Identity | PolicyKind::Boundary if non_ws() > 6144 => {
            Err(Problem::TooLarge(6144))
        }
        PolicyKind::Trust if non_ws() > 2048 => Err(Problem::TooLarge(2048)),
        PolicyKind::Session if non_ws() > 2048 => Err(Problem::TooLarge(2048)),
        PolicyKind::Bucket { .. } if text.len() > 20 * 1024 => Err(Problem::TooLarge(20 * 1024)),
        PolicyKind::KeyPolicy if text.len() > 32 * 1024 => Err(Problem::TooLarge(32 * 1024)),
        PolicyKind::Scp if text.chars().count() > 5120 => Err(Problem::TooLarge(5120)),
        _ => Ok(()),
    }
}

/// A string or a list of strings (numbers and booleans are not accepted here).
fn string_list(v: &Value, field: &'static str) -> Result<Vec<String>, Problem> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                _ => Err(Problem::BadType(field)),
            })
            .collect(),
        _ => Err(Problem::BadType(field)),
    }
}

impl Parser<'_> {
    /// Compiles one statement; `None` when a lenient reading drops it.
    fn statement(&self, s: &Map<String, Value>) -> Result<Option<Statement>, Problem> {
        if self.strict {
            if let Some(f) = s.keys().find(|k| !STATEMENT_FIELDS.contains(&k.as_str())) {
                return Err(Problem::UnknownField(f.clone()));
            }
        }
        let sid = match s.get("Sid") {
            None => None,
            Some(Value::String(v)) => {
                if self.strict
                    && iam_sid_rules(self.kind)
                    && !v.chars().all(|c| c.is_ascii_alphanumeric())
                {
                    return Err(Problem::BadSid(v.clone()));
                }
                Some(v.clone())
            }
            Some(_) if !self.strict => None,
            Some(_) => return Err(Problem::BadType("Sid")),
        };
        let effect = match s.get("Effect") {
            Some(Value::String(e)) if e == "Allow" => Effect::Allow,
            Some(Value::String(e)) if e == "Deny" => Effect::Deny,
            _ if !self.strict => return Ok(None),
            None => return Err(Problem::MissingEffect),
            Some(Value::String(e)) => return Err(Problem::BadEffect(e.clone())),
            Some(other) => return Err(Problem::BadEffect(other.to_string())),
        };
        let principal = self.principal(s)?;
        let action = self.action(s)?;
        let resource = self.resource(s)?;
        let (conditions, inert) = self.conditions(s)?;
        let text = StatementText {
            principals: principal_text(s.get("Principal").or_else(|| s.get("NotPrincipal"))),
            actions: s
                .get("Action")
                .or_else(|| s.get("NotAction"))
                .and_then(|v| string_list(v, "Action").ok())
                .unwrap_or_default(),
            resources: s
                .get("Resource")
                .or_else(|| s.get("NotResource"))
                .and_then(|v| string_list(v, "Resource").ok())
                .unwrap_or_default(),
        };
        if self.strict
            && matches!(self.kind, PolicyKind::Bucket { .. })
            && matches!(action, ActionSpec::Action(_))
            && matches!(resource, ResourceSpec::Resource(_))
            && !crate::s3_actions::any_applies(&text.actions, &text.resources)
        {
            return Err(Problem::ActionResourceMismatch);
        }
        Ok(Some(Statement {
            sid,
            effect,
            principal,
            action,
            resource,
            conditions,
            inert,
            text,
        }))
    }

    fn principal(&self, s: &Map<String, Value>) -> Result<Option<PrincipalSpec>, Problem> {
        let p = s.get("Principal");
        let np = s.get("NotPrincipal");
        if !self.kind.is_resource_based() {
            if self.strict {
                if p.is_some() {
                    return Err(Problem::PrincipalNotAllowed);
                }
                if np.is_some() {
                    return Err(Problem::NotPrincipalNotAllowed);
                }
            }
            return Ok(None);
        }
        let (value, negated) = match (p, np) {
            (Some(_), Some(_)) if self.strict => return Err(Problem::BothPrincipalElements),
            (Some(v), _) => (v, false),
            (None, Some(v)) => {
                if self.strict && *self.kind == PolicyKind::Trust {
                    return Err(Problem::NotPrincipalNotAllowed);
                }
                (v, true)
            }
            (None, None) if self.strict => return Err(Problem::MissingPrincipal),
            // A stored statement without a principal applies to no one.
            (None, None) => {
                return Ok(Some(PrincipalSpec {
                    negated: false,
                    entries: Vec::new(),
                }))
            }
        };
        let entries = self.principal_entries(value)?;
        Ok(Some(PrincipalSpec { negated, entries }))
    }

    fn principal_entries(&self, value: &Value) -> Result<Vec<PrincipalEntry>, Problem> {
        match value {
            Value::String(s) if s == "*" => Ok(vec![PrincipalEntry::Everyone]),
            Value::Object(map) if !map.is_empty() => {
                let mut entries = Vec::new();
                for (key, v) in map {
                    let values =
                        string_list(v, "Principal").map_err(|_| Problem::InvalidPrincipal)?;
                    if values.is_empty() && self.strict {
                        return Err(Problem::InvalidPrincipal);
                    }
                    for item in values {
                        let entry = match key.as_str() {
                            "AWS" => match classify_aws(&item) {
                                Ok(e) => e,
                                Err(_) if !self.strict => PrincipalEntry::Other(item),
                                Err(_) => return Err(Problem::InvalidPrincipal),
                            },
                            "Service" if !item.is_empty() && item != "*" => {
                                PrincipalEntry::Service(item)
                            }
                            "CanonicalUser" | "Federated" if !item.is_empty() => {
                                PrincipalEntry::Other(item)
                            }
                            _ if !self.strict => PrincipalEntry::Other(item),
                            _ => return Err(Problem::InvalidPrincipal),
                        };
                        entries.push(entry);
                    }
                }
                Ok(entries)
            }
            _ if !self.strict => Ok(Vec::new()),
            _ => Err(Problem::InvalidPrincipal),
        }
    }

    fn action(&self, s: &Map<String, Value>) -> Result<ActionSpec, Problem> {
        let (value, negated) = match (s.get("Action"), s.get("NotAction")) {
            (Some(_), Some(_)) if self.strict => return Err(Problem::BothActionElements),
            (Some(v), _) => (v, false),
            (None, Some(v)) => (v, true),
            (None, None) if self.strict => return Err(Problem::MissingAction),
            (None, None) => return Ok(ActionSpec::Missing),
        };
        let actions = match string_list(value, "Action") {
            Ok(a) => a,
            Err(_) if !self.strict => return Ok(ActionSpec::Missing),
            Err(e) => return Err(e),
        };
        if actions.is_empty() && self.strict {
            return Err(Problem::MissingAction);
        }
        if self.strict {
            for a in &actions {
                self.check_action(a)?;
            }
        }
        // Action names compare without case: patterns are kept in lower case and
        // matched against the lower-cased request action.
        let globs = actions
            .iter()
            .map(|a| Glob::new(&a.to_ascii_lowercase()))
            .collect();
        Ok(if negated {
            ActionSpec::NotAction(globs)
        } else {
            ActionSpec::Action(globs)
        })
    }

    fn check_action(&self, action: &str) -> Result<(), Problem> {
        if action == "*" {
            return Ok(());
        }
        let bad = || Problem::BadAction(action.to_string());
        let (prefix, name) = action.split_once(':').ok_or_else(bad)?;
        let prefix_ok = !prefix.is_empty()
            && prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-*?".contains(&b));
        let name_ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"*?-_".contains(&b));
        if !prefix_ok || !name_ok {
            return Err(bad());
        }
        if *self.kind == PolicyKind::Scp {
            // AWS Organizations, "SCP syntax": in Action and NotAction a wildcard
            // can be used only by itself or at the end of the string.
            let wild = action.find(['*', '?']);
            if wild.is_some_and(|i| i + 1 != action.len()) {
                return Err(bad());
            }
        }
        if let PolicyKind::Bucket { .. } = self.kind {
            // Amazon S3 accepts only Amazon S3 actions in a bucket policy.
            if !prefix.eq_ignore_ascii_case("s3")
                && !prefix.eq_ignore_ascii_case("s3-object-lambda")
            {
                return Err(bad());
            }
            if prefix.eq_ignore_ascii_case("s3")
                && !name.contains(['*', '?'])
                && !crate::s3_actions::is_known_action(action)
            {
                return Err(bad());
            }
        }
        Ok(())
    }

    fn resource(&self, s: &Map<String, Value>) -> Result<ResourceSpec, Problem> {
        let (value, negated) = match (s.get("Resource"), s.get("NotResource")) {
            (Some(_), Some(_)) if self.strict => return Err(Problem::BothResourceElements),
            (Some(_), _) | (_, Some(_)) if self.strict && *self.kind == PolicyKind::Trust => {
                return Err(Problem::ProhibitedResource)
            }
            (Some(v), _) => (v, false),
            (None, Some(v)) => (v, true),
            (None, None) => {
                return match self.kind {
                    PolicyKind::Trust => Ok(ResourceSpec::Missing { matches_all: true }),
                    PolicyKind::KeyPolicy => Ok(ResourceSpec::Missing { matches_all: false }),
                    _ if self.strict => Err(Problem::MissingResource),
                    _ => Ok(ResourceSpec::Missing { matches_all: false }),
                };
            }
        };
        let resources = match string_list(value, "Resource") {
            Ok(r) => r,
            Err(_) if !self.strict => return Ok(ResourceSpec::Missing { matches_all: false }),
            Err(e) => return Err(e),
        };
        if resources.is_empty() && self.strict {
            return Err(Problem::MissingResource);
        }
        if self.strict {
            for r in &resources {
                self.check_resource(r)?;
            }
        }
        let patterns = resources
            .iter()
            .map(|r| match Pattern::new(r, true, self.variables) {
                Pattern::Static(g) => ResourcePattern::Static(ArnMatcher::new(g)),
                dynamic => ResourcePattern::Dynamic(dynamic),
            })
            .collect();
        Ok(if negated {
            ResourceSpec::NotResource(patterns)
        } else {
            ResourceSpec::Resource(patterns)
        })
    }

    fn check_resource(&self, r: &str) -> Result<(), Problem> {
        let bad = || Problem::InvalidResource(r.to_string());
        match self.kind {
            PolicyKind::Bucket { bucket } => {
                // A bucket policy may only name the bucket and its objects.
                let rest = r.strip_prefix("arn:aws:s3:::").ok_or_else(bad)?;
                let bucket_part = rest.split('/').next().unwrap_or("");
                if Glob::new(bucket_part).matches(bucket, false) {
                    Ok(())
                } else {
                    Err(bad())
                }
            }
            _ => {
                if r == "*" || (r.starts_with("arn:") && r.matches(':').count() >= 5) {
                    Ok(())
                } else if r.starts_with("arn:") || r.contains('*') {
                    // Partial ARNs such as `arn:aws:s3:*` are accepted with wildcards.
                    Ok(())
                } else {
                    Err(bad())
                }
            }
        }
    }

    fn conditions(&self, s: &Map<String, Value>) -> Result<(Vec<Condition>, bool), Problem> {
        let Some(block) = s.get("Condition") else {
            return Ok((Vec::new(), false));
        };
        let Value::Object(ops) = block else {
            return if self.strict {
                Err(Problem::BadType("Condition"))
            } else {
                Ok((Vec::new(), true))
            };
        };
        let mut out = Vec::new();
        let mut inert = false;
        for (op_name, keys) in ops {
            let Some(op) = Operator::parse(op_name) else {
                if self.strict {
                    return Err(Problem::UnknownOperator(op_name.clone()));
                }
                inert = true;
                continue;
            };
            let Value::Object(keys) = keys else {
                if self.strict {
                    return Err(Problem::BadType("Condition"));
                }
                inert = true;
                continue;
            };
            for (key, values) in keys {
                let raw = match condition_values(values) {
                    Some(v) if !v.is_empty() || !self.strict => v,
                    _ if !self.strict => {
                        inert = true;
                        continue;
                    }
                    _ => return Err(Problem::BadConditionValue(values.to_string())),
                };
                if self.strict && key.is_empty() {
                    return Err(Problem::BadType("Condition"));
                }
                if self.strict && op.base == Base::IpAddress {
                    if let Some(v) = raw
                        .iter()
                        .find(|v| !v.contains("${") && parse_net(v).is_none())
                    {
                        return Err(Problem::BadConditionValue(v.clone()));
                    }
                }
                out.push(Condition::new(op_name, op, key, raw, self.variables));
            }
        }
        Ok((out, inert))
    }
}

/// A principal element as readable strings (`*`, `AWS:arn…`, `Service:…`).
fn principal_text(v: Option<&Value>) -> Vec<String> {
    match v {
        None => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Object(map)) => map
            .iter()
            .flat_map(|(k, v)| {
                string_list(v, "Principal")
                    .unwrap_or_default()
                    .into_iter()
                    .map(move |x| format!("{k}:{x}"))
            })
            .collect(),
        Some(other) => vec![other.to_string()],
    }
}

/// Condition values: a string, number or boolean, or a list of them.
fn condition_values(v: &Value) -> Option<Vec<String>> {
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    match v {
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => scalar(other).map(|s| vec![s]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket() -> PolicyKind {
        PolicyKind::Bucket {
            bucket: "example-bucket".into(),
        }
    }

    fn code(kind: &PolicyKind, text: &str) -> Option<&'static str> {
        Policy::parse(kind, text).err().map(|e| e.code)
    }

    const OK_BUCKET: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::example-bucket/*"}]}"#;

    #[test]
    fn accepts_valid_documents() {
        assert!(Policy::parse(&bucket(), OK_BUCKET).is_ok());
        let id = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"}}"#;
        assert!(Policy::parse(&PolicyKind::Identity, id).is_ok());
        let no_version = r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
        assert!(Policy::parse(&PolicyKind::Identity, no_version).is_ok());
    }

    #[test]
    fn bucket_errors() {
        let b = bucket();
        assert_eq!(code(&b, "[]"), Some("MalformedPolicy"));
        let e = Policy::parse(&b, "{").unwrap_err();
        assert_eq!(
            e.message,
            "Policies must be valid JSON and the first byte must be '{'"
        );
        let e = Policy::parse(&b, &OK_BUCKET.replace("\"Principal\":\"*\",", "")).unwrap_err();
        assert_eq!(e.message, "Missing required field Principal");
        let e = Policy::parse(&b, &OK_BUCKET.replace("example-bucket/*", "other/*")).unwrap_err();
        assert_eq!(e.message, "Policy has invalid resource");
        let e = Policy::parse(&b, &OK_BUCKET.replace("\"Allow\"", "\"Permit\"")).unwrap_err();
        assert_eq!(e.message, "Invalid effect: Permit");
        let e = Policy::parse(&b, &OK_BUCKET.replace("s3:GetObject", "s3:GetObjekt")).unwrap_err();
        assert_eq!(e.message, "Policy has invalid action");
        let e = Policy::parse(&b, &OK_BUCKET.replace("s3:GetObject", "s3:ListBucket")).unwrap_err();
        assert_eq!(
            e.message,
            "Action does not apply to any resource(s) in statement"
        );
        let e = Policy::parse(&b, &OK_BUCKET.replace("s3:GetObject", "kms:Decrypt")).unwrap_err();
        assert_eq!(e.message, "Policy has invalid action");
        let e = Policy::parse(&b, &OK_BUCKET.replace("\"*\"", "{\"AWS\":\"bob\"}")).unwrap_err();
        assert_eq!(e.message, "Invalid principal in policy");
        let e = Policy::parse(&b, r#"{"Version":"2012-10-17","Statement":[]}"#).unwrap_err();
        assert_eq!(e.message, "Could not parse the policy: Statement is empty!");
        let e = Policy::parse(&b, &OK_BUCKET.replace("2012-10-17", "2012-10-18")).unwrap_err();
        assert_eq!(e.message, "The policy must contain a valid version string");
        let big = format!("{{\"Id\":\"{}\",{}", "x".repeat(21 * 1024), &OK_BUCKET[1..]);
        assert_eq!(code(&b, &big), Some("MalformedPolicy"));
    }

    #[test]
    fn iam_errors() {
        let k = PolicyKind::Identity;
        let base = r#"{"Version":"2012-10-17","Statement":[{"Sid":"S1","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
        assert!(Policy::parse(&k, base).is_ok());
        assert_eq!(
            code(&k, &base.replace("S1", "S 1")),
            Some("MalformedPolicyDocument")
        );
        assert_eq!(
            code(
                &k,
                &base.replace("\"Effect\"", "\"Principal\":\"*\",\"Effect\"")
            ),
            Some("MalformedPolicyDocument")
        );
        assert_eq!(
            code(&k, &base.replace("\"Resource\":\"*\"", "\"Foo\":\"*\"")),
            Some("MalformedPolicyDocument")
        );
        assert_eq!(
            code(&k, &base.replace(",\"Resource\":\"*\"", "")),
            Some("MalformedPolicyDocument")
        );
        assert_eq!(
            code(&k, &base.replace("s3:GetObject", "GetObject")),
            Some("MalformedPolicyDocument")
        );
        let cond = base.replace(
            "\"Resource\":\"*\"",
            "\"Resource\":\"*\",\"Condition\":{\"StringEqualz\":{\"k\":\"v\"}}",
        );
        assert_eq!(code(&k, &cond), Some("MalformedPolicyDocument"));
        let two = r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
        assert_eq!(code(&k, two), Some("MalformedPolicyDocument"));
        let big = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{}"}}]}}"#,
            "b".repeat(6200)
        );
        assert_eq!(code(&k, &big), Some("LimitExceeded"));
    }

    #[test]
    fn key_policy_and_scp() {
        let k = PolicyKind::KeyPolicy;
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM policies","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*"}]}"#;
        let p = Policy::parse(&k, doc).unwrap();
        assert_eq!(
            p.statements()[0].resource,
            ResourceSpec::Missing { matches_all: false }
        );
        assert_eq!(code(&k, "nope"), Some("MalformedPolicyDocumentException"));
        let scp = PolicyKind::Scp;
        let ok = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:Get*","Resource":"*"}]}"#;
        assert!(Policy::parse(&scp, ok).is_ok());
        let bad = [
            ok.replace("s3:Get*", "s3:*Object"),
            ok.replace(r#""Resource":"*"}"#, r#""Resource":"*",}"#),
            ok.replace(r#""Version":"2012-10-17","#, ""),
            ok.replace(r#""Effect""#, r#""Principal":"*","Effect""#),
        ];
        for doc in bad {
            assert_eq!(
                code(&scp, &doc),
                Some("MalformedPolicyDocumentException"),
                "{doc}"
            );
        }
    }

    #[test]
    fn lenient_reading() {
        let k = PolicyKind::Identity;
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Condition":{"StringEqualz":{"k":"v"}}},{"Effect":"Maybe","Action":"s3:*","Resource":"*"}]}"#;
        let p = Policy::parse_for_evaluation(&k, doc).unwrap();
        assert_eq!(p.statement_count(), 1);
        assert!(p.statements()[0].inert);
        assert!(Policy::parse_for_evaluation(&k, "not json").is_err());
    }
}
