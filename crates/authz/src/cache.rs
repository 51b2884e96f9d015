//! Compiled policies, keyed by their text: each document is parsed once.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, RwLock};

use strongbox_policy::{Policy, PolicyKind};

/// Upper bound on cached documents; the cache is cleared when it is reached.
const MAX_ENTRIES: usize = 50_000;

/// A cache of compiled policies. Policies are immutable once stored (a change
/// makes a new document text), so entries never go stale.
#[derive(Default)]
pub struct PolicyCache {
    entries: RwLock<Entries>,
}

/// Compiled policies by (hash of the text, kind); a short list guards against hash collisions.
type Entries = HashMap<(u64, u8), Vec<Arc<Policy>>>;

fn kind_tag(kind: &PolicyKind) -> u8 {
    match kind {
        PolicyKind::Identity => 0,
        PolicyKind::Bucket { .. } => 1,
        PolicyKind::KeyPolicy => 2,
        PolicyKind::Scp => 3,
        PolicyKind::Trust => 4,
        PolicyKind::Session => 5,
        PolicyKind::Boundary => 6,
    }
}

impl PolicyCache {
    /// The compiled form of `text`, or `None` when it does not parse (a stored
    /// document that no longer parses grants nothing).
    pub fn get(&self, kind: &PolicyKind, text: &str) -> Option<Arc<Policy>> {
        let mut hasher = DefaultHasher::new();
        text.hash(&mut hasher);
        let key = (hasher.finish(), kind_tag(kind));
        if let Ok(map) = self.entries.read() {
            if let Some(found) = map
                .get(&key)
                .and_then(|v| v.iter().find(|p| p.source() == text))
            {
                return Some(found.clone());
            }
        }
        let compiled = match Policy::parse_for_evaluation(kind, text) {
            Ok(p) => Arc::new(p),
            Err(err) => {
                tracing::warn!(error = %err.message, "stored policy does not parse; it grants nothing");
                return None;
            }
        };
        if let Ok(mut map) = self.entries.write() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.entry(key).or_default().push(compiled.clone());
        }
        Some(compiled)
    }
}
