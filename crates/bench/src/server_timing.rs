//! The `Server-Timing` header that `strongbox serve --server-timing` answers: where
//! the server spent a request's time (signature check, authorization, metadata
//! statements, the durability flush), averaged over a phase.

/// Server-side durations of one request, or their mean over a phase, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ServerTiming {
    /// Credential lookup and signature verification.
    pub authn: f64,
    /// Gathering and evaluating the policies.
    pub authz: f64,
    /// Waiting for the metadata writer (other requests' statements, the group COMMIT).
    pub queue: f64,
    /// The metadata statements (in a savepoint of the group transaction).
    pub db: f64,
    /// Waiting for the group commit's WAL flush (fdatasync).
    pub flush: f64,
    /// SSE-KMS: the KMS calls made as the caller (GenerateDataKey, Decrypt).
    pub kms: f64,
    /// The whole request, from its head to the answer's head.
    pub total: f64,
}

impl ServerTiming {
    /// Parses `authn;dur=0.031, authz;dur=0.002, ...`; `None` without a `total`.
    pub fn parse(value: &str) -> Option<ServerTiming> {
        let mut timing = ServerTiming::default();
        let mut has_total = false;
        for metric in value.split(',') {
            let mut params = metric.trim().split(';');
            let name = params.next()?.trim();
            let duration = params
                .find_map(|p| p.trim().strip_prefix("dur="))
                .and_then(|d| d.parse::<f64>().ok())
                .filter(|d| d.is_finite() && *d >= 0.0)?;
            match name {
                "authn" => timing.authn = duration,
                "authz" => timing.authz = duration,
                "queue" => timing.queue = duration,
                "db" => timing.db = duration,
                "flush" => timing.flush = duration,
                "kms" => timing.kms = duration,
                "total" => {
                    timing.total = duration;
                    has_total = true;
                }
                _ => {}
            }
        }
        has_total.then_some(timing)
    }

    /// The part of `total` not in a named stage (receiving the body, encryption,
    /// writing data files, building the answer).
    pub fn other(&self) -> f64 {
        (self.total - self.authn - self.authz - self.queue - self.db - self.flush - self.kms)
            .max(0.0)
    }

    /// `part` as a fraction of `total`.
    pub fn share(&self, part: f64) -> f64 {
        part / self.total.max(f64::EPSILON)
    }
}

/// Sums of the timings of a phase's requests, for their mean.
#[derive(Clone, Copy, Debug, Default)]
pub struct TimingSums {
    count: u64,
    sum: ServerTiming,
}

impl TimingSums {
    /// Adds one request's timing.
    pub fn add(&mut self, t: &ServerTiming) {
        self.count += 1;
        self.sum.authn += t.authn;
        self.sum.authz += t.authz;
        self.sum.queue += t.queue;
        self.sum.db += t.db;
        self.sum.flush += t.flush;
        self.sum.kms += t.kms;
        self.sum.total += t.total;
    }

    /// Adds another phase's sums.
    pub fn merge(&mut self, other: &TimingSums) {
        self.count += other.count;
        self.sum.authn += other.sum.authn;
        self.sum.authz += other.sum.authz;
        self.sum.queue += other.sum.queue;
        self.sum.db += other.sum.db;
        self.sum.flush += other.sum.flush;
        self.sum.kms += other.sum.kms;
        self.sum.total += other.sum.total;
    }

    /// The mean per request; `None` when no answer carried the header.
    pub fn mean(&self) -> Option<ServerTiming> {
        if self.count == 0 {
            return None;
        }
        let n = self.count as f64;
        Some(ServerTiming {
            authn: self.sum.authn / n,
            authz: self.sum.authz / n,
            queue: self.sum.queue / n,
            db: self.sum.db / n,
            flush: self.sum.flush / n,
            kms: self.sum.kms / n,
            total: self.sum.total / n,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_servers_header() {
        let t = ServerTiming::parse(
            "authn;dur=0.030, authz;dur=0.010, queue;dur=0.100, db;dur=0.060, flush;dur=1.400, kms;dur=0.150, total;dur=2.000",
        )
        .unwrap();
        assert_eq!(t.authn, 0.030);
        assert_eq!(t.flush, 1.4);
        assert_eq!(t.queue, 0.1);
        assert_eq!(t.kms, 0.15);
        assert!((t.other() - 0.25).abs() < 1e-9);
        assert!((t.share(t.authn + t.db) - 0.045).abs() < 1e-9);
        assert_eq!(
            ServerTiming::parse("cache;desc=\"x\";dur=2, total;dur=3").map(|t| t.total),
            Some(3.0)
        );
        assert_eq!(ServerTiming::parse("authn;dur=0.1"), None);
        assert_eq!(ServerTiming::parse("total;dur=abc"), None);
        assert_eq!(ServerTiming::parse("total;dur=-1"), None);
        assert_eq!(ServerTiming::parse(""), None);
    }

    #[test]
    fn means_over_merged_phases() {
        let mut a = TimingSums::default();
        assert_eq!(a.mean(), None);
        a.add(&ServerTiming {
            authn: 1.0,
            total: 4.0,
            ..Default::default()
        });
        let mut b = TimingSums::default();
        b.add(&ServerTiming {
            authn: 3.0,
            flush: 2.0,
            kms: 0.5,
            total: 8.0,
            ..Default::default()
        });
        a.merge(&b);
        let mean = a.mean().unwrap();
        assert_eq!(mean.authn, 2.0);
        assert_eq!(mean.flush, 1.0);
        assert_eq!(mean.kms, 0.25);
        assert_eq!(mean.total, 6.0);
    }
}
