//! The disk baseline: sequential write and read bandwidth measured with `dd` on the
//! filesystem that holds the data dir.

use std::path::Path;
use std::process::Command;

/// One `dd` measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct DdResult {
    /// How it was measured (the flags used), for the report.
    pub method: String,
    pub mib_per_sec: f64,
}

/// Write and read bandwidth of the data dir's filesystem.
#[derive(Clone, Debug, Default)]
pub struct DiskBaseline {
    pub write: Option<DdResult>,
    /// Read bypassing the page cache (`iflag=direct`, or after dropping caches).
    pub read_uncached: Option<DdResult>,
    /// Read of the file just written, from the page cache.
    pub read_cached: Option<DdResult>,
    /// Problems met, for the report.
    pub notes: Vec<String>,
}

/// Parses dd's summary line (`N bytes (...) copied, S s, ...`) into bytes and seconds.
pub fn parse_dd_summary(stderr: &str) -> Option<(u64, f64)> {
    let line = stderr.lines().rev().find(|l| l.contains(" copied, "))?;
    let bytes: u64 = line.split_whitespace().next()?.parse().ok()?;
    let after = line.split(" copied, ").nth(1)?;
    let seconds: f64 = after
        .split_whitespace()
        .next()?
        .replace(',', ".")
        .parse()
        .ok()?;
    (seconds > 0.0).then_some((bytes, seconds))
}

fn run_dd(args: &[String], method: &str) -> Result<DdResult, String> {
    let output = Command::new("dd")
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .map_err(|e| format!("running dd: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("dd {}: {}", args.join(" "), stderr.trim()));
    }
    let (bytes, seconds) =
        parse_dd_summary(&stderr).ok_or_else(|| format!("unreadable dd output: {stderr}"))?;
    Ok(DdResult {
        method: method.to_string(),
        mib_per_sec: bytes as f64 / (1024.0 * 1024.0) / seconds,
    })
}

fn drop_caches() -> bool {
    let synced = Command::new("sync").status().is_ok_and(|s| s.success());
    synced && std::fs::write("/proc/sys/vm/drop_caches", "3\n").is_ok()
}

/// Measures `size_mib` MiB written (`conv=fdatasync`) and read back in `dir`, then
/// removes the test file.
pub fn measure(dir: &Path, size_mib: u64) -> DiskBaseline {
    let file = dir.join("strongbox-bench-dd.tmp");
    let path = file.display().to_string();
    let count = format!("count={size_mib}");
    let mut baseline = DiskBaseline::default();

    let write_args = vec![
        "if=/dev/zero".to_string(),
        format!("of={path}"),
        "bs=1M".to_string(),
        count.clone(),
        "conv=fdatasync".to_string(),
    ];
    match run_dd(&write_args, "dd if=/dev/zero bs=1M conv=fdatasync") {
        Ok(r) => baseline.write = Some(r),
        Err(e) => {
            baseline.notes.push(e);
            let _ = std::fs::remove_file(&file);
            return baseline;
        }
    }

    let read_args = |extra: Option<&str>| {
        let mut args = vec![
            format!("if={path}"),
            "of=/dev/null".to_string(),
            "bs=1M".to_string(),
        ];
        args.extend(extra.map(str::to_string));
        args
    };
    match run_dd(
        &read_args(None),
        "dd of=/dev/null bs=1M (page cache, just written)",
    ) {
        Ok(r) => baseline.read_cached = Some(r),
        Err(e) => baseline.notes.push(e),
    }
    match run_dd(
        &read_args(Some("iflag=direct")),
        "dd of=/dev/null bs=1M iflag=direct",
    ) {
        Ok(r) => baseline.read_uncached = Some(r),
        Err(e) => {
            baseline.notes.push(format!("iflag=direct failed ({e})"));
            if drop_caches() {
                match run_dd(&read_args(None), "dd of=/dev/null bs=1M after drop_caches") {
                    Ok(r) => baseline.read_uncached = Some(r),
                    Err(e) => baseline.notes.push(e),
                }
            } else {
                baseline
                    .notes
                    .push("could not drop caches either; no uncached read figure".into());
            }
        }
    }
    let _ = std::fs::remove_file(&file);
    baseline
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_gnu_dd_summary() {
        let stderr = "1024+0 records in\n1024+0 records out\n\
                      1073741824 bytes (1.1 GB, 1.0 GiB) copied, 2.5 s, 429 MB/s\n";
        assert_eq!(parse_dd_summary(stderr), Some((1_073_741_824, 2.5)));
        let short = "536870912 bytes (537 MB, 512 MiB) copied, 0.25097 s, 2.1 GB/s";
        assert_eq!(parse_dd_summary(short), Some((536_870_912, 0.25097)));
    }

    #[test]
    fn rejects_other_output() {
        assert_eq!(parse_dd_summary("dd: failed to open"), None);
        assert_eq!(parse_dd_summary("0 bytes copied, 0 s, 0 B/s"), None);
    }
}
