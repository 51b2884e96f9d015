//! The request context: the global condition keys AWS supplies on every request
//! (IAM User Guide, "AWS global condition context keys"), plus the service's own.

use strongbox_core::{Caller, CallerKind, ContextEntry, RequestMeta};
use strongbox_policy::Context;

/// Sets `key` (names compare without case; a later key of the same name replaces the value).
fn put(map: &mut Context, key: &str, values: Vec<String>) {
    map.insert_values(key, values);
}

/// The global keys for `caller` making `meta`'s request, then `service`'s keys
/// (a service key of the same name replaces a global one).
pub fn build(
    caller: &Caller,
    meta: &RequestMeta,
    org: Option<(&str, &str)>,
    service: &[ContextEntry],
) -> Context {
    let mut map = Context::new();
    let now = meta.received_at;
    put(
        &mut map,
        "aws:CurrentTime",
        vec![now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()],
    );
    put(&mut map, "aws:EpochTime", vec![now.as_second().to_string()]);
    put(
        &mut map,
        "aws:SecureTransport",
        vec![meta.secure_transport.to_string()],
    );
    put(&mut map, "aws:RequestedRegion", vec![meta.region.clone()]);
    if let Some(ip) = meta.source_ip {
        put(&mut map, "aws:SourceIp", vec![ip.to_string()]);
    }
    if let Some(ua) = &meta.user_agent {
        put(&mut map, "aws:UserAgent", vec![ua.clone()]);
    }
    if let Some(referer) = &meta.referer {
        put(&mut map, "aws:Referer", vec![referer.clone()]);
    }
    if caller.kind != CallerKind::Anonymous {
        put(
            &mut map,
            "aws:PrincipalArn",
            vec![caller.principal_arn.clone()],
        );
        put(
            &mut map,
            "aws:PrincipalAccount",
            vec![caller.account_id.clone()],
        );
        put(&mut map, "aws:userid", vec![caller.user_id.clone()]);
        let principal_type = match caller.kind {
            CallerKind::Root => "Account",
            CallerKind::User => "User",
            CallerKind::AssumedRole => "AssumedRole",
            CallerKind::FederatedUser => "FederatedUser",
            CallerKind::Anonymous => "Anonymous",
        };
        put(
            &mut map,
            "aws:PrincipalType",
            vec![principal_type.to_string()],
        );
        if let Some(name) = &caller.user_name {
            put(&mut map, "aws:username", vec![name.clone()]);
        }
        for (k, v) in &caller.tags {
            put(&mut map, &format!("aws:PrincipalTag/{k}"), vec![v.clone()]);
        }
        if let Some((org_id, org_path)) = org {
            put(&mut map, "aws:PrincipalOrgID", vec![org_id.to_string()]);
            if !org_path.is_empty() {
                put(
                    &mut map,
                    "aws:PrincipalOrgPaths",
                    vec![org_path.to_string()],
                );
            }
        }
        if let Some(issued) = caller.token_issue_time {
            put(
                &mut map,
                "aws:TokenIssueTime",
                vec![issued.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()],
            );
            put(
                &mut map,
                "aws:MultiFactorAuthPresent",
                vec![caller.mfa.to_string()],
            );
        }
    } else {
        put(&mut map, "aws:PrincipalType", vec!["Anonymous".to_string()]);
    }
    if let Some(v) = &meta.tls_version {
        put(&mut map, "s3:TlsVersion", vec![v.clone()]);
    }
    if let Some(v) = &meta.signature_version {
        put(&mut map, "s3:signatureversion", vec![v.clone()]);
    }
    if let Some(v) = &meta.auth_type {
        put(&mut map, "s3:authType", vec![v.clone()]);
    }
    if let Some(age) = meta.signature_age_ms {
        put(&mut map, "s3:signatureAge", vec![age.to_string()]);
    }
    if let Some(sha) = &meta.content_sha256 {
        put(&mut map, "s3:x-amz-content-sha256", vec![sha.clone()]);
    }
    for entry in service {
        put(&mut map, &entry.key, entry.values.clone());
    }
    map
}

/// The condition key that carries `x-amz-content-sha256`.
const CONTENT_SHA256: &str = "s3:x-amz-content-sha256";

/// What a decision record keeps of a condition value. `s3:x-amz-content-sha256` of a
/// signed payload is the SHA-256 of the body, a fingerprint of the (possibly
/// encrypted-at-rest) plaintext: records keep only the payload mode names
/// (`UNSIGNED-PAYLOAD`, `STREAMING-…`) and replace a digest by `SIGNED-PAYLOAD`.
/// Policy evaluation itself always sees the request's value.
pub fn recordable_value(key: &str, value: &str) -> String {
    let digest = value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit());
    if digest && key.eq_ignore_ascii_case(CONTENT_SHA256) {
        "SIGNED-PAYLOAD".to_string()
    } else {
        value.to_string()
    }
}

/// [`recordable_value`] over every value of `entries`.
pub fn recordable<'a>(
    entries: impl IntoIterator<Item = (&'a str, &'a [String])>,
) -> std::collections::BTreeMap<String, Vec<String>> {
    entries
        .into_iter()
        .map(|(k, values)| {
            let kept = values.iter().map(|v| recordable_value(k, v)).collect();
            (k.to_string(), kept)
        })
        .collect()
}

/// [`recordable_value`] applied to a serialized engine trace: the request context
/// (`request.context`) and each condition's `request_values`.
pub fn redact_trace(trace: &mut serde_json::Value) {
    use serde_json::Value;
    fn redact(key: &str, v: &mut Value) {
        match v {
            Value::String(s) => *s = recordable_value(key, s),
            Value::Array(items) => items.iter_mut().for_each(|i| redact(key, i)),
            _ => {}
        }
    }
    if let Some(Value::Object(ctx)) = trace.pointer_mut("/request/context") {
        for (k, v) in ctx.iter_mut() {
            redact(k, v);
        }
    }
    let Some(Value::Array(policies)) = trace.get_mut("policies") else {
        return;
    };
    let conditions = policies
        .iter_mut()
        .filter_map(|p| p.get_mut("statements").and_then(Value::as_array_mut))
        .flatten()
        .filter_map(|st| st.get_mut("conditions").and_then(Value::as_array_mut))
        .flatten();
    for c in conditions {
        let key = c
            .get("key")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if let Some(v) = c.get_mut("request_values") {
            redact(&key, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_keep_payload_modes_but_not_body_digests() {
        let digest = "a".repeat(64);
        assert_eq!(
            recordable_value("s3:x-amz-content-sha256", &digest),
            "SIGNED-PAYLOAD"
        );
        assert_eq!(
            recordable_value("S3:X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"),
            "UNSIGNED-PAYLOAD"
        );
        assert_eq!(recordable_value("s3:prefix", &digest), digest);
        let mut trace = serde_json::json!({
            "request": {"context": {"s3:x-amz-content-sha256": digest, "s3:prefix": "p"}},
            "policies": [{"statements": [{"conditions": [
                {"key": "s3:x-amz-content-sha256", "request_values": [digest]}
            ]}]}]
        });
        redact_trace(&mut trace);
        let text = trace.to_string();
        assert!(!text.contains(&digest), "{text}");
        assert!(text.contains("SIGNED-PAYLOAD") && text.contains("\"p\""));
    }

    #[test]
    fn anonymous_has_no_principal_keys() {
        let meta = RequestMeta::local("r", "us-east-1");
        let map = build(&Caller::anonymous(), &meta, None, &[]);
        assert!(map.get("aws:principalarn").is_none());
        assert!(map.get("aws:PrincipalAccount").is_none());
        assert_eq!(
            map.get("aws:securetransport"),
            Some(&["false".to_string()][..])
        );
    }

    #[test]
    fn service_keys_and_tags() {
        let mut caller = Caller::root("111122223333", None);
        caller.tags.insert("team".into(), "blue".into());
        let meta = RequestMeta::local("r", "us-east-1");
        let map = build(
            &caller,
            &meta,
            Some(("o-abc", "o-abc/r-1/")),
            &[ContextEntry::new("s3:x-amz-acl", "private")],
        );
        assert_eq!(
            map.get("aws:principaltag/team"),
            Some(&["blue".to_string()][..])
        );
        assert_eq!(
            map.get("aws:principalorgid"),
            Some(&["o-abc".to_string()][..])
        );
        assert_eq!(
            map.get("aws:principalorgpaths"),
            Some(&["o-abc/r-1/".to_string()][..])
        );
        assert_eq!(map.get("s3:x-amz-acl"), Some(&["private".to_string()][..]));
        assert_eq!(
            map.get("aws:principaltype"),
            Some(&["Account".to_string()][..])
        );
    }
}
