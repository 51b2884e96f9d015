//! A bounded memory of recently completed multipart uploads.
//!
//! Clients retry CompleteMultipartUpload when an answer is lost (API reference:
//! "if CompleteMultipartUpload fails, applications should be prepared to retry
//! any failed requests", https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html),
//! and S3 answers a retry of a completed upload with 200 and the same result
//! rather than 404 NoSuchUpload. The upload row is gone once it completes, so
//! the result is kept here: at most [`KEPT`] uploads, each for [`KEPT_FOR`].
//! It lives in memory only; after a restart a retry answers NoSuchUpload.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use strongbox_store::StoredChecksum;

/// How many completed uploads are remembered.
pub const KEPT: usize = 10_000;
/// How long a completed upload is remembered.
pub const KEPT_FOR: Duration = Duration::from_secs(3600);

/// What a completed upload answered.
#[derive(Clone, Debug)]
pub struct CompletedUpload {
    pub bucket: String,
    pub key: String,
    pub etag: String,
    pub checksum: Option<StoredChecksum>,
    /// The `x-amz-version-id` answered, if any.
    pub version_id: Option<String>,
    /// The object's stored encryption (JSON), for the SSE response headers.
    pub encryption: Option<String>,
}

#[derive(Default)]
struct Entries {
    by_id: HashMap<String, (Instant, CompletedUpload)>,
    order: VecDeque<String>,
}

/// Completed uploads by upload id, oldest evicted first.
#[derive(Default)]
pub struct CompletedUploads {
    entries: Mutex<Entries>,
}

impl CompletedUploads {
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remembers the result of completing `upload_id`.
    pub fn remember(&self, upload_id: &str, result: CompletedUpload) {
        let now = Instant::now();
        let mut e = self.lock();
        while e.order.len() >= KEPT
            || e.order.front().is_some_and(|id| {
                e.by_id
                    .get(id)
                    .is_none_or(|(at, _)| now.duration_since(*at) > KEPT_FOR)
            })
        {
            match e.order.pop_front() {
                Some(id) => {
                    e.by_id.remove(&id);
                }
                None => break,
            }
        }
        if e.by_id
            .insert(upload_id.to_string(), (now, result))
            .is_none()
        {
            e.order.push_back(upload_id.to_string());
        }
    }

    /// The result of `upload_id` if it completed recently.
    pub fn get(&self, upload_id: &str) -> Option<CompletedUpload> {
        let e = self.lock();
        e.by_id
            .get(upload_id)
            .filter(|(at, _)| at.elapsed() <= KEPT_FOR)
            .map(|(_, r)| r.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(key: &str) -> CompletedUpload {
        CompletedUpload {
            bucket: "b".into(),
            key: key.into(),
            etag: "e-1".into(),
            checksum: None,
            version_id: None,
            encryption: None,
        }
    }

    #[test]
    fn bounded_and_found() {
        let c = CompletedUploads::default();
        for i in 0..KEPT + 5 {
            c.remember(&format!("u{i}"), result("k"));
        }
        assert!(c.get("u0").is_none());
        assert!(c.get("u4").is_none());
        assert_eq!(c.get("u5").map(|r| r.key), Some("k".to_string()));
        assert_eq!(c.lock().order.len(), KEPT);
    }
}
