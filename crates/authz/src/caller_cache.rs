//! The caller's own policies, compiled, remembered per identity snapshot.
//!
//! Gathering a caller's policies means walking the identity snapshot (user,
//! groups, attached managed policies, boundary, the organization's SCPs) and
//! finding each document's compiled form. The answer depends only on the
//! snapshot and on the caller fields listed in [`CallerKey`], so it is kept
//! until the snapshot changes: an entry is used only while its generation is
//! the identity service's current one, so a change made through the API is
//! seen by the next request.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, RwLock};

use strongbox_core::caller::NamedDocument;
use strongbox_core::{Caller, CallerKind};
use strongbox_identity::CallerPolicies;
use strongbox_policy::{Policy, PolicyKind};

use crate::cache::PolicyCache;

/// Upper bound on remembered callers; the map is cleared when it is reached.
const MAX_CALLERS: usize = 10_000;

/// A compiled policy with the name the trace shows.
pub type Named = (String, Arc<Policy>);

/// A caller's identity-side policies, compiled.
#[derive(Default)]
pub struct CompiledCallerPolicies {
    pub identity: Vec<Named>,
    pub boundary: Option<Named>,
    /// SCPs per level, root first (`None` when no SCPs apply).
    pub scps: Option<Vec<Vec<Named>>>,
    pub org_id: Option<String>,
    pub org_path: Option<String>,
    /// How the decision record lists the identity policies, the boundary
    /// and the SCPs (the record puts resource and session policies between).
    pub identity_labels: Vec<String>,
    pub boundary_label: Option<String>,
    pub scp_labels: Vec<String>,
}

impl CompiledCallerPolicies {
    /// Compiles `policies` (through `cache`) and names them for the record.
    pub fn compile(cache: &PolicyCache, policies: CallerPolicies) -> CompiledCallerPolicies {
        let identity = compile_all(cache, &PolicyKind::Identity, &policies.identity);
        let boundary = policies
            .boundary
            .as_ref()
            .and_then(|d| compile_one(cache, &PolicyKind::Boundary, d));
        let scps: Option<Vec<Vec<Named>>> = policies.scps.as_ref().map(|levels| {
            levels
                .iter()
                .map(|level| compile_all(cache, &PolicyKind::Scp, level))
                .collect()
        });
        let identity_labels = identity
            .iter()
            .map(|(n, _)| format!("identity-based policy {n}"))
            .collect();
        let boundary_label = boundary
            .as_ref()
            .map(|(n, _)| format!("permissions boundary {n}"));
        let scp_labels = scps
            .iter()
            .flatten()
            .enumerate()
            .flat_map(|(i, level)| {
                level
                    .iter()
                    .map(move |(n, _)| format!("SCP {n} (level {})", i + 1))
            })
            .collect();
        CompiledCallerPolicies {
            identity,
            boundary,
            scps,
            org_id: policies.org_id,
            org_path: policies.org_path,
            identity_labels,
            boundary_label,
            scp_labels,
        }
    }
}

fn compile_one(cache: &PolicyCache, kind: &PolicyKind, doc: &NamedDocument) -> Option<Named> {
    cache
        .get(kind, &doc.document)
        .map(|p| (doc.name.clone(), p))
}

/// Compiles each document; one that does not parse grants nothing and is left out.
pub fn compile_all(cache: &PolicyCache, kind: &PolicyKind, docs: &[NamedDocument]) -> Vec<Named> {
    docs.iter()
        .filter_map(|d| compile_one(cache, kind, d))
        .collect()
}

/// The caller fields the identity service reads to find a caller's policies.
#[derive(Clone, Debug, PartialEq, Eq)]
struct CallerKey {
    kind: CallerKind,
    account_id: String,
    user_name: Option<String>,
    user_id: String,
    role_arn: Option<String>,
    federated_by: Option<(String, String)>,
}

impl CallerKey {
    fn of(caller: &Caller) -> CallerKey {
        CallerKey {
            kind: caller.kind,
            account_id: caller.account_id.clone(),
            user_name: caller.user_name.clone(),
            user_id: caller.user_id.clone(),
            role_arn: caller.role_arn.clone(),
            federated_by: caller
                .federated_by
                .as_ref()
                .map(|u| (u.name.clone(), u.id.clone())),
        }
    }

    fn matches(&self, caller: &Caller) -> bool {
        self.kind == caller.kind
            && self.account_id == caller.account_id
            && self.user_name == caller.user_name
            && self.user_id == caller.user_id
            && self.role_arn == caller.role_arn
            && match (&self.federated_by, &caller.federated_by) {
                (None, None) => true,
                (Some((name, id)), Some(u)) => *name == u.name && *id == u.id,
                _ => false,
            }
    }
}

/// The hash of a caller's [`CallerKey`] fields, computed without building one.
fn hash_of(caller: &Caller) -> u64 {
    let mut h = DefaultHasher::new();
    caller.kind.hash(&mut h);
    caller.account_id.hash(&mut h);
    caller.user_name.hash(&mut h);
    caller.user_id.hash(&mut h);
    caller.role_arn.hash(&mut h);
    caller
        .federated_by
        .as_ref()
        .map(|u| (&u.name, &u.id))
        .hash(&mut h);
    h.finish()
}

struct Entry {
    key: CallerKey,
    generation: u64,
    policies: Arc<CompiledCallerPolicies>,
}

/// Compiled caller policies by caller, each valid for one identity generation.
#[derive(Default)]
pub struct CallerPolicyCache {
    entries: RwLock<HashMap<u64, Vec<Entry>>>,
}

impl CallerPolicyCache {
    /// The compiled policies of `caller` at identity generation `current`, or
    /// `load()` compiled and remembered when none are known for it.
    pub fn get(
        &self,
        caller: &Caller,
        current: u64,
        load: impl FnOnce() -> (u64, Arc<CompiledCallerPolicies>),
    ) -> Arc<CompiledCallerPolicies> {
        let hash = hash_of(caller);
        if let Ok(map) = self.entries.read() {
            let found = map.get(&hash).and_then(|list| {
                list.iter()
                    .find(|e| e.generation == current && e.key.matches(caller))
            });
            if let Some(entry) = found {
                return entry.policies.clone();
            }
        }
        let (generation, policies) = load();
        if let Ok(mut map) = self.entries.write() {
            if map.len() >= MAX_CALLERS {
                map.clear();
            }
            let list = map.entry(hash).or_default();
            list.retain(|e| !e.key.matches(caller));
            list.push(Entry {
                key: CallerKey::of(caller),
                generation,
                policies: policies.clone(),
            });
        }
        policies
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(label: &str) -> Arc<CompiledCallerPolicies> {
        Arc::new(CompiledCallerPolicies {
            identity_labels: vec![label.to_string()],
            ..CompiledCallerPolicies::default()
        })
    }

    #[test]
    fn an_entry_serves_its_generation_only() {
        let cache = CallerPolicyCache::default();
        let alice = Caller::root("111122223333", None);
        let first = cache.get(&alice, 1, || (1, compiled("one")));
        assert_eq!(first.identity_labels, ["one"]);
        let again = cache.get(&alice, 1, || (1, compiled("reloaded")));
        assert_eq!(
            again.identity_labels,
            ["one"],
            "same generation: remembered"
        );
        let changed = cache.get(&alice, 2, || (2, compiled("two")));
        assert_eq!(changed.identity_labels, ["two"], "a new generation reloads");
        let other = Caller::root("444455556666", None);
        let theirs = cache.get(&other, 2, || (2, compiled("other")));
        assert_eq!(
            theirs.identity_labels,
            ["other"],
            "callers do not share entries"
        );
    }

    #[test]
    fn the_key_covers_what_identifies_the_caller() {
        let mut user = Caller::root("111122223333", None);
        user.kind = CallerKind::User;
        user.user_name = Some("alice".into());
        user.user_id = "AIDAALICE".into();
        let key = CallerKey::of(&user);
        assert!(key.matches(&user));
        let mut recreated = user.clone();
        recreated.user_id = "AIDAALICE2".into();
        assert!(
            !key.matches(&recreated),
            "a user created again is another caller"
        );
        assert_ne!(hash_of(&user), hash_of(&recreated));
    }
}
