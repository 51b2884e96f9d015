//! The lifecycle worker: one pass over every bucket with a lifecycle
//! configuration, applying its enabled rules.
//!
//! - Expiration (Days/Date) of a current version: removed on an unversioned
//!   bucket; a delete marker is added on a versioned (or suspended) one.
//! - ExpiredObjectDeleteMarker: a delete marker that is the only version of its key is removed.
//! - NoncurrentVersionExpiration: noncurrent versions are removed `NoncurrentDays`
//!   after they became noncurrent, keeping the `NewerNoncurrentVersions` newest.
//! - AbortIncompleteMultipartUpload: uploads initiated `DaysAfterInitiation` ago are aborted.
//!
//! Versions protected by Object Lock (retention of either mode, or a legal hold)
//! are never removed. Keys are read in pages and changes written in batches of
//! [`WRITE_BATCH`] per transaction, so the metadata writer is never held long.

use std::sync::Arc;

use jiff::Timestamp;
use strongbox_store::{
    LifecycleAction, ListQuery, Listed, Store, StoreError, Upload, VersionSummary,
};

use super::{Clock, LifecycleConfig};
use crate::object_lock::{Protection, VersionLock};

/// Changes written per transaction.
pub const WRITE_BATCH: usize = 256;
/// Versions or uploads read per listing page.
const READ_PAGE: usize = 1000;

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    pub buckets: usize,
    /// Versions and uploads looked at.
    pub scanned: usize,
    pub expired_current: usize,
    pub removed_noncurrent: usize,
    pub removed_delete_markers: usize,
    pub aborted_uploads: usize,
    /// Versions a rule would have removed but Object Lock protects.
    pub locked: usize,
}

/// Runs one pass at `now` over every bucket with a configuration.
pub fn run_pass(store: &Store, clock: &Clock, now: Timestamp) -> Result<PassReport, StoreError> {
    let mut report = PassReport::default();
    for (bucket, text) in store.lifecycle.lifecycle_buckets()? {
        let Some(config) = LifecycleConfig::from_json(&text) else {
            tracing::warn!(%bucket, "unreadable lifecycle configuration skipped");
            continue;
        };
        let Some(info) = store.meta.get_bucket(&bucket)? else {
            continue;
        };
        report.buckets += 1;
        let mut pass = BucketPass {
            store,
            bucket: &bucket,
            owner: &info.owner_account,
            config: &config,
            clock,
            now,
            pending: Vec::new(),
            report: &mut report,
        };
        pass.versions()?;
        pass.uploads()?;
        pass.flush()?;
    }
    Ok(report)
}

/// Runs a pass every `interval` until the runtime shuts down.
pub fn spawn(store: Arc<Store>, clock: Clock, interval: std::time::Duration) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let store = store.clone();
            let pass =
                tokio::task::spawn_blocking(move || run_pass(&store, &clock, Timestamp::now()))
                    .await;
            match pass {
                Ok(Ok(r)) if r.scanned > 0 => tracing::debug!(?r, "lifecycle pass"),
                Ok(Ok(_)) => {}
                Ok(Err(err)) => tracing::warn!(%err, "lifecycle pass failed"),
                Err(err) => tracing::warn!(%err, "lifecycle pass panicked"),
            }
        }
    });
}

/// One bucket's share of a pass.
struct BucketPass<'a> {
    store: &'a Store,
    bucket: &'a str,
    owner: &'a str,
    config: &'a LifecycleConfig,
    clock: &'a Clock,
    now: Timestamp,
    pending: Vec<(LifecycleAction, Counter)>,
    report: &'a mut PassReport,
}

/// Which count an action adds to once applied.
#[derive(Clone, Copy)]
enum Counter {
    Current,
    Noncurrent,
    Marker,
    Upload,
}

/// The versions of the key being scanned, seen so far (newest first).
#[derive(Default)]
struct KeyScan {
    key: String,
    seen: usize,
    /// When the newer version seen last was created: when the next one became noncurrent.
    newer_created: Option<Timestamp>,
    /// The current version (row id, creation), when it is a delete marker.
    marker: Option<(i64, Timestamp)>,
}

impl BucketPass<'_> {
    fn versions(&mut self) -> Result<(), StoreError> {
        let rules = &self.config.rules;
        let wanted = rules
            .iter()
            .any(|r| r.enabled && (r.expiration.is_some() || r.noncurrent.is_some()));
        if !wanted {
            return Ok(());
        }
        let mut scan = KeyScan::default();
        let mut after: Option<(String, i64)> = None;
        loop {
            let cursor = after.as_ref().map(|(k, id)| (k.as_str(), *id));
            let page = self
                .store
                .lifecycle
                .lifecycle_versions(self.bucket, cursor, READ_PAGE)?;
            let full = page.len() >= READ_PAGE;
            for v in &page {
                self.report.scanned += 1;
                if scan.seen == 0 || v.key != scan.key {
                    self.finish_key(&scan)?;
                    scan = KeyScan {
                        key: v.key.clone(),
                        ..KeyScan::default()
                    };
                }
                self.version(&mut scan, v)?;
            }
            match page.last() {
                Some(last) if full => after = Some((last.key.clone(), last.row_id)),
                _ => break,
            }
        }
        self.finish_key(&scan)
    }

    /// Judges one version; `scan` holds what came before it under the same key.
    fn version(&mut self, scan: &mut KeyScan, v: &VersionSummary) -> Result<(), StoreError> {
        let position = scan.seen;
        scan.seen += 1;
        let became_noncurrent = scan.newer_created.replace(v.last_modified);
        if position == 0 {
            if v.delete_marker {
                scan.marker = Some((v.row_id, v.last_modified));
                return Ok(());
            }
            let due =
                self.config
                    .current_expiry(self.clock, &v.key, v.size, &v.tags, v.last_modified);
            if due.is_some_and(|(t, _)| t <= self.now) {
                let action = LifecycleAction::ExpireCurrent {
                    key: v.key.clone(),
                    row_id: v.row_id,
                    owner_account: self.owner.to_string(),
                };
                self.push(action, Counter::Current)?;
            }
            return Ok(());
        }
        let Some(since) = became_noncurrent else {
            return Ok(());
        };
        // The number of noncurrent versions newer than this one.
        let newer = u32::try_from(position - 1).unwrap_or(u32::MAX);
        let due = self.config.rules.iter().any(|r| {
            let Some(n) = r.noncurrent.as_ref().filter(|_| r.enabled) else {
                return false;
            };
            r.filter.matches(&v.key, v.size, &v.tags)
                && newer >= n.newer_noncurrent_versions.unwrap_or(0)
                && self.clock.after_days(since, n.days) <= self.now
        });
        if !due {
            return Ok(());
        }
        if VersionLock::from_json(v.lock.as_deref()).protection(self.now) != Protection::None {
            self.report.locked += 1;
            return Ok(());
        }
        let action = LifecycleAction::RemoveNoncurrent {
            key: v.key.clone(),
            row_id: v.row_id,
            lock_seen: v.lock.clone(),
        };
        self.push(action, Counter::Noncurrent)
    }

    /// At the end of a key: a delete marker that is its only version (an expired
    /// object delete marker) is removed under a rule with ExpiredObjectDeleteMarker,
    /// or once it is old enough for a rule's Expiration Days or Date (User Guide,
    /// "Managing delete markers": "If the lifecycle configuration is set to delete
    /// current versions, or the ExpiredObjectDeleteMarker action is explicitly set,
    /// Amazon S3 removes the expired object's delete marker").
    fn finish_key(&mut self, scan: &KeyScan) -> Result<(), StoreError> {
        let Some((row_id, created)) = scan.marker.filter(|_| scan.seen == 1) else {
            return Ok(());
        };
        let flagged = self.config.rules.iter().any(|r| {
            r.enabled
                && r.filter.matches(&scan.key, 0, &[])
                && r.expiration
                    .as_ref()
                    .is_some_and(|e| e.expired_object_delete_marker == Some(true))
        });
        let aged = self
            .config
            .current_expiry(self.clock, &scan.key, 0, &[], created)
            .is_some_and(|(due, _)| due <= self.now);
        let expires = flagged || aged;
        if !expires {
            return Ok(());
        }
        let action = LifecycleAction::RemoveExpiredDeleteMarker {
            key: scan.key.clone(),
            row_id,
        };
        self.push(action, Counter::Marker)
    }

    fn uploads(&mut self) -> Result<(), StoreError> {
        if !self
            .config
            .rules
            .iter()
            .any(|r| r.enabled && r.abort_after_days.is_some())
        {
            return Ok(());
        }
        let mut query = ListQuery {
            bucket: self.bucket.to_string(),
            max: READ_PAGE,
            ..ListQuery::default()
        };
        loop {
            let page = self.store.meta.list_uploads(&query)?;
            let mut last = None;
            for entry in page.entries {
                let Listed::Item(u) = entry else { continue };
                self.report.scanned += 1;
                if self.upload_due(&u) {
                    let action = LifecycleAction::AbortUpload {
                        upload_id: u.upload_id.clone(),
                    };
                    self.push(action, Counter::Upload)?;
                }
                last = Some((u.key, u.upload_id));
            }
            match (page.truncated, last) {
                (true, Some((key, id))) => {
                    query.key_marker = Some(key);
                    query.id_marker = Some(id);
                }
                _ => return Ok(()),
            }
        }
    }

    fn upload_due(&self, u: &Upload) -> bool {
        self.config.rules.iter().any(|r| {
            let Some(days) = r.abort_after_days.filter(|_| r.enabled) else {
                return false;
            };
            r.filter
                .prefix
                .as_deref()
                .is_none_or(|p| u.key.starts_with(p))
                && self.clock.after_days(u.initiated, days) <= self.now
        })
    }

    fn push(&mut self, action: LifecycleAction, counter: Counter) -> Result<(), StoreError> {
        self.pending.push((action, counter));
        if self.pending.len() >= WRITE_BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Applies the pending actions in one transaction and removes the freed files.
    fn flush(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending);
        let actions: Vec<LifecycleAction> = batch.iter().map(|(a, _)| a.clone()).collect();
        let outcome = self
            .store
            .lifecycle
            .apply_lifecycle(self.bucket, &actions)?;
        self.store.discard_files(&outcome.obsolete_files);
        let applied = batch
            .iter()
            .zip(&outcome.applied)
            .filter(|(_, done)| **done);
        for ((_, counter), _) in applied {
            match counter {
                Counter::Current => self.report.expired_current += 1,
                Counter::Noncurrent => self.report.removed_noncurrent += 1,
                Counter::Marker => self.report.removed_delete_markers += 1,
                Counter::Upload => self.report.aborted_uploads += 1,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use strongbox_core::db::Db;
    use strongbox_store::{Bucket, NewObject, Versioning};

    use super::*;
    use crate::lifecycle::config::{Expiration, Filter, NoncurrentExpiration, Rule};

    const DAY: i64 = 86_400;

    fn ts(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    fn store(versioning: Versioning) -> (Store, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "strongbox-lc-test-{}",
            strongbox_core::ids::random_hex(6)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(Arc::new(Db::open_in_memory().unwrap()), &dir).unwrap();
        store
            .meta
            .create_bucket(&Bucket {
                versioning,
                ..Bucket::new("b", "111122223333", "us-east-1", ts(0))
            })
            .unwrap();
        (store, dir)
    }

    fn put(store: &Store, key: &str, at: i64, lock: Option<&str>) -> String {
        let object = NewObject {
            bucket: "b".into(),
            key: key.into(),
            size: 1,
            last_modified: Some(ts(at)),
            owner_account: "111122223333".into(),
            lock: lock.map(str::to_string),
            ..NewObject::default()
        };
        store.meta.put_object(object).unwrap().version_id
    }

    fn rule(expiration: Option<Expiration>, noncurrent: Option<NoncurrentExpiration>) -> Rule {
        Rule {
            id: "r".into(),
            enabled: true,
            filter: Filter::default(),
            expiration,
            noncurrent,
            abort_after_days: None,
        }
    }

    fn configure(store: &Store, rule: Rule) {
        let config = LifecycleConfig { rules: vec![rule] };
        store
            .lifecycle
            .set_lifecycle("b", Some(&config.to_json()))
            .unwrap();
    }

    fn versions(store: &Store, key: &str) -> Vec<(String, bool)> {
        let q = ListQuery {
            bucket: "b".into(),
            prefix: key.into(),
            max: 1000,
            ..ListQuery::default()
        };
        let page = store.meta.list_versions(&q).unwrap();
        page.entries
            .into_iter()
            .filter_map(|e| match e {
                Listed::Item(v) => Some((v.version_id, v.delete_marker)),
                Listed::Prefix(_) => None,
            })
            .collect()
    }

    #[test]
    fn expiration_is_due_at_the_midnight_after_the_days() {
        let (s, dir) = store(Versioning::Unversioned);
        let days = Expiration {
            days: Some(1),
            ..Expiration::default()
        };
        configure(&s, rule(Some(days), None));
        // Created 10:00 on day 10: due at midnight starting day 12.
        put(&s, "k", 10 * DAY + 36_000, None);
        let clock = Clock::default();
        let early = run_pass(&s, &clock, ts(12 * DAY - 1)).unwrap();
        assert_eq!(early.expired_current, 0);
        assert_eq!(versions(&s, "k").len(), 1);
        let due = run_pass(&s, &clock, ts(12 * DAY)).unwrap();
        assert_eq!(due.expired_current, 1);
        assert!(versions(&s, "k").is_empty());
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn noncurrent_days_count_from_the_successor_and_keep_newer_versions() {
        let (s, dir) = store(Versioning::Enabled);
        let noncurrent = NoncurrentExpiration {
            days: 2,
            newer_noncurrent_versions: Some(1),
        };
        configure(&s, rule(None, Some(noncurrent)));
        let v1 = put(&s, "k", DAY, None);
        let v2 = put(&s, "k", 2 * DAY, None);
        let v3 = put(&s, "k", 10 * DAY, None);
        let v4 = put(&s, "k", 11 * DAY, None);
        let clock = Clock::default();
        // v1 became noncurrent on day 2 (due day 5), v2 on day 10 (due day 13); v3 is the
        // newest noncurrent version and is kept.
        let r = run_pass(&s, &clock, ts(6 * DAY)).unwrap();
        assert_eq!(r.removed_noncurrent, 1);
        let left: Vec<String> = versions(&s, "k").into_iter().map(|(v, _)| v).collect();
        assert_eq!(left, [v4.clone(), v3.clone(), v2.clone()]);
        run_pass(&s, &clock, ts(13 * DAY)).unwrap();
        let left: Vec<String> = versions(&s, "k").into_iter().map(|(v, _)| v).collect();
        assert_eq!(left, [v4, v3]);
        let _ = v1;
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn locked_versions_stay_and_markers_go_when_alone() {
        let (s, dir) = store(Versioning::Enabled);
        let markers = Expiration {
            expired_object_delete_marker: Some(true),
            ..Expiration::default()
        };
        let noncurrent = NoncurrentExpiration {
            days: 1,
            newer_noncurrent_versions: None,
        };
        configure(&s, rule(Some(markers), Some(noncurrent)));
        let held = r#"{"legal_hold":true}"#;
        put(&s, "locked", DAY, Some(held));
        s.meta
            .delete_object("b", "locked", None, "111122223333")
            .unwrap();
        put(&s, "free", DAY, None);
        s.meta
            .delete_object("b", "free", None, "111122223333")
            .unwrap();
        let clock = Clock::default();
        // The versions became noncurrent when the markers were added, just now.
        assert_eq!(
            run_pass(&s, &clock, Timestamp::now())
                .unwrap()
                .removed_noncurrent,
            0
        );
        let now = ts(Timestamp::now().as_second() + 3 * DAY);
        let r = run_pass(&s, &clock, now).unwrap();
        assert_eq!((r.removed_noncurrent, r.locked), (1, 1));
        assert_eq!(versions(&s, "locked").len(), 2);
        // The free key's marker is now alone: the next pass removes it.
        assert_eq!(versions(&s, "free").len(), 1);
        let r = run_pass(&s, &clock, now).unwrap();
        assert_eq!(r.removed_delete_markers, 1);
        assert!(versions(&s, "free").is_empty());
        assert_eq!(versions(&s, "locked").len(), 2);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn expiration_days_also_remove_old_lone_delete_markers() {
        let (s, dir) = store(Versioning::Enabled);
        let days = Expiration {
            days: Some(1),
            ..Expiration::default()
        };
        configure(&s, rule(Some(days), None));
        s.meta
            .delete_object("b", "k", None, "111122223333")
            .unwrap();
        let clock = Clock::default();
        assert_eq!(
            run_pass(&s, &clock, Timestamp::now())
                .unwrap()
                .removed_delete_markers,
            0
        );
        let later = ts(Timestamp::now().as_second() + 3 * DAY);
        assert_eq!(
            run_pass(&s, &clock, later).unwrap().removed_delete_markers,
            1
        );
        assert!(versions(&s, "k").is_empty());
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_key_spanning_read_pages_is_counted_once() {
        let (s, dir) = store(Versioning::Enabled);
        let noncurrent = NoncurrentExpiration {
            days: 1,
            newer_noncurrent_versions: Some(100),
        };
        configure(&s, rule(None, Some(noncurrent)));
        put(&s, "a", DAY, None);
        for i in 0..(READ_PAGE as i64 + 105) {
            put(&s, "k", DAY + i, None);
        }
        put(&s, "z", DAY, None);
        let r = run_pass(&s, &Clock::default(), ts(100 * DAY)).unwrap();
        assert_eq!(r.scanned, READ_PAGE + 107);
        assert_eq!(r.removed_noncurrent, READ_PAGE + 4);
        assert_eq!(versions(&s, "k").len(), 101);
        std::fs::remove_dir_all(dir).ok();
    }
}
