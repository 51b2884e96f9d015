//! What every use of a key reads — its record, its aliases and tags, its
//! unwrapped material — kept in memory between KMS writes.
//!
//! An entry remembers the write generation (`store::generation`) read
//! *before* its rows were loaded; it is used only while the generation is
//! still the same. Every write moves the generation before it starts and
//! after it commits, so an entry loaded while a write was in progress never
//! outlives it, and a change made through the API (key state, policy, alias,
//! tag, rotation, deletion) decides the next request.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use zeroize::Zeroizing;

use crate::store::{self, KeyLabels};

/// Upper bound on cached entries of each kind; the map is cleared when reached.
const MAX_ENTRIES: usize = 10_000;

/// One generation-stamped map.
struct Stamped<K, V> {
    entries: RwLock<HashMap<K, (u64, V)>>,
}

impl<K: std::hash::Hash + Eq, V: Clone> Stamped<K, V> {
    fn new() -> Stamped<K, V> {
        Stamped {
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The value for `key` if it was loaded in the current generation, else
    /// `load()`ed now (and kept when it succeeds).
    fn get_or_load<E>(&self, key: K, load: impl FnOnce() -> Result<V, E>) -> Result<V, E> {
        let generation = store::generation();
        if let Ok(map) = self.entries.read() {
            if let Some((g, v)) = map.get(&key) {
                if *g == generation {
                    return Ok(v.clone());
                }
            }
        }
        let value = load()?;
        if let Ok(mut map) = self.entries.write() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(key, (generation, value.clone()));
        }
        Ok(value)
    }
}

/// The KMS's in-memory key state.
pub(crate) struct KeyCache {
    records: Stamped<String, Option<crate::store::KeyRecord>>,
    labels: Stamped<String, Arc<KeyLabels>>,
    materials: Stamped<(String, u32), Arc<Zeroizing<Vec<u8>>>>,
}

impl KeyCache {
    pub(crate) fn new() -> KeyCache {
        KeyCache {
            records: Stamped::new(),
            labels: Stamped::new(),
            materials: Stamped::new(),
        }
    }

    /// A key row (or its absence).
    pub(crate) fn record<E>(
        &self,
        key_id: &str,
        load: impl FnOnce() -> Result<Option<crate::store::KeyRecord>, E>,
    ) -> Result<Option<crate::store::KeyRecord>, E> {
        self.records.get_or_load(key_id.to_string(), load)
    }

    /// A key's aliases and tags.
    pub(crate) fn labels<E>(
        &self,
        key_id: &str,
        load: impl FnOnce() -> Result<KeyLabels, E>,
    ) -> Result<Arc<KeyLabels>, E> {
        self.labels
            .get_or_load(key_id.to_string(), || load().map(Arc::new))
    }

    /// One version of a key's material, unwrapped.
    pub(crate) fn material<E>(
        &self,
        key_id: &str,
        version: u32,
        load: impl FnOnce() -> Result<Zeroizing<Vec<u8>>, E>,
    ) -> Result<Arc<Zeroizing<Vec<u8>>>, E> {
        self.materials
            .get_or_load((key_id.to_string(), version), || load().map(Arc::new))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn entries_last_until_the_next_write() {
        // The generation is process-wide: other tests' writes may move it at any
        // time, which only costs reloads. So: many lookups load far fewer times,
        // and a lookup after a write always reloads.
        let db = strongbox_core::db::Db::open_in_memory().unwrap();
        store::migrate(&db).unwrap();
        let cache = KeyCache::new();
        let loads = Cell::new(0);
        let load = || {
            loads.set(loads.get() + 1);
            Ok::<_, ()>(KeyLabels::default())
        };
        for _ in 0..1000 {
            cache.labels("k", load).unwrap();
        }
        assert!(
            loads.get() < 500,
            "served from memory: {} loads",
            loads.get()
        );
        let before = loads.get();
        store::put_tags(&db, "other", &[("a".into(), "b".into())]).unwrap();
        cache.labels("k", load).unwrap();
        assert_eq!(loads.get(), before + 1, "reloaded after a write");
        // A failed load is not kept.
        assert!(cache.labels("x", || Err::<KeyLabels, _>(())).is_err());
        let before = loads.get();
        cache.labels("x", load).unwrap();
        assert_eq!(loads.get(), before + 1);
    }
}
