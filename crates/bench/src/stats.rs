//! Summaries of one measured phase: throughput and latency percentiles.

use std::time::Duration;

/// What one phase (one operation at one size and client count) achieved.
#[derive(Clone, Debug, PartialEq)]
pub struct PhaseSummary {
    /// Successful operations.
    pub ops: u64,
    /// Failed operations (transport errors or non-2xx answers).
    pub errors: u64,
    /// Wall-clock time of the phase.
    pub elapsed: Duration,
    /// Successful operations per second.
    pub ops_per_sec: f64,
    /// Payload MiB per second of the successful operations.
    pub mib_per_sec: f64,
    /// Median latency of successful operations.
    pub p50: Duration,
    /// 99th-percentile latency of successful operations.
    pub p99: Duration,
}

/// Summarizes a phase from the latencies of its successful operations.
pub fn summarize(
    mut latencies: Vec<Duration>,
    errors: u64,
    object_size: u64,
    elapsed: Duration,
) -> PhaseSummary {
    latencies.sort_unstable();
    let ops = latencies.len() as u64;
    let seconds = elapsed.as_secs_f64().max(f64::EPSILON);
    PhaseSummary {
        ops,
        errors,
        elapsed,
        ops_per_sec: ops as f64 / seconds,
        mib_per_sec: (ops as f64 * object_size as f64) / (1024.0 * 1024.0) / seconds,
        p50: percentile(&latencies, 50.0),
        p99: percentile(&latencies, 99.0),
    }
}

/// The nearest-rank percentile of sorted `values` (zero when empty).
pub fn percentile(sorted: &[Duration], pct: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((pct / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Formats a latency in milliseconds with a precision that suits its magnitude.
pub fn format_latency(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<Duration> = (1..=100).map(ms).collect();
        assert_eq!(percentile(&values, 50.0), ms(50));
        assert_eq!(percentile(&values, 99.0), ms(99));
        assert_eq!(percentile(&values, 100.0), ms(100));
        assert_eq!(percentile(&[ms(7)], 99.0), ms(7));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn summary_rates() {
        let latencies = vec![ms(30), ms(10), ms(20), ms(40)];
        let s = summarize(latencies, 1, 1 << 20, Duration::from_secs(2));
        assert_eq!(s.ops, 4);
        assert_eq!(s.errors, 1);
        assert!((s.ops_per_sec - 2.0).abs() < 1e-9);
        assert!((s.mib_per_sec - 2.0).abs() < 1e-9);
        assert_eq!(s.p50, ms(20));
        assert_eq!(s.p99, ms(40));
    }

    #[test]
    fn latency_formatting() {
        assert_eq!(format_latency(Duration::from_micros(1234)), "1.23 ms");
        assert_eq!(format_latency(Duration::from_micros(12_345)), "12.3 ms");
        assert_eq!(format_latency(Duration::from_millis(456)), "456 ms");
    }
}
