//! Parsing of command-line quantities: byte sizes (`4KiB`, `64MiB`), durations
//! (`10s`, `500ms`, `2m`) and comma-separated lists (the server's flags and
//! `strongbox-bench`'s).

use std::time::Duration;

/// A quantity on the command line could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid {kind} `{input}`: {reason}")]
pub struct ParseError {
    kind: &'static str,
    input: String,
    reason: &'static str,
}

impl ParseError {
    /// A `kind` value `input` that is invalid for `reason`.
    pub fn new(kind: &'static str, input: &str, reason: &'static str) -> ParseError {
        error(kind, input, reason)
    }
}

fn error(kind: &'static str, input: &str, reason: &'static str) -> ParseError {
    ParseError {
        kind,
        input: input.to_string(),
        reason,
    }
}

fn split_number(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    (&s[..end], s[end..].trim())
}

/// Parses a byte size: a whole number with an optional unit `B`, `KiB`, `MiB`, `GiB`
/// (binary) or `KB`, `MB`, `GB` (decimal); case-insensitive.
pub fn parse_size(input: &str) -> Result<u64, ParseError> {
    let s = input.trim();
    let (digits, unit) = split_number(s);
    if digits.is_empty() {
        return Err(error("size", input, "expected a number"));
    }
    let n: u64 = digits
        .parse()
        .map_err(|_| error("size", input, "number too large"))?;
    let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => return Err(error("size", input, "unknown unit")),
    };
    let bytes = n
        .checked_mul(multiplier)
        .ok_or_else(|| error("size", input, "number too large"))?;
    if bytes == 0 {
        return Err(error("size", input, "must be positive"));
    }
    Ok(bytes)
}

/// Parses a duration: a whole number with unit `ms`, `s` (default) or `m`.
pub fn parse_duration(input: &str) -> Result<Duration, ParseError> {
    let s = input.trim();
    let (digits, unit) = split_number(s);
    if digits.is_empty() {
        return Err(error("duration", input, "expected a number"));
    }
    let n: u64 = digits
        .parse()
        .map_err(|_| error("duration", input, "number too large"))?;
    let duration = match unit {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" | "min" => Duration::from_secs(n.saturating_mul(60)),
        _ => return Err(error("duration", input, "unknown unit")),
    };
    if duration.is_zero() {
        return Err(error("duration", input, "must be positive"));
    }
    Ok(duration)
}

/// Parses a comma-separated list with `item`, rejecting an empty list.
pub fn parse_list<T>(
    input: &str,
    item: impl Fn(&str) -> Result<T, ParseError>,
) -> Result<Vec<T>, ParseError> {
    let items: Vec<T> = input
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(item)
        .collect::<Result<_, _>>()?;
    if items.is_empty() {
        return Err(error("list", input, "empty"));
    }
    Ok(items)
}

/// Parses a positive count (client count, op count).
pub fn parse_count(input: &str) -> Result<usize, ParseError> {
    match input.trim().parse::<usize>() {
        Ok(0) => Err(error("count", input, "must be positive")),
        Ok(n) => Ok(n),
        Err(_) => Err(error("count", input, "expected a whole number")),
    }
}

/// Formats a byte size the way it is written on the command line (`4KiB`, `64MiB`).
pub fn format_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (multiplier, unit) in UNITS {
        if bytes >= multiplier && bytes.is_multiple_of(multiplier) {
            return format!("{}{unit}", bytes / multiplier);
        }
    }
    format!("{bytes}B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4KiB"), Ok(4096));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("64mib"), Ok(64 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("10KB"), Ok(10_000));
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size(" 2 MiB "), Ok(2 << 20));
        assert!(parse_size("0").is_err());
        assert!(parse_size("KiB").is_err());
        assert!(parse_size("4XB").is_err());
        assert!(parse_size("99999999999999999999GiB").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("1h").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn lists() {
        assert_eq!(parse_list("1,8,16", parse_count), Ok(vec![1, 8, 16]));
        assert_eq!(
            parse_list("4KiB, 64MiB", parse_size),
            Ok(vec![4096, 64 << 20])
        );
        assert!(parse_list("", parse_count).is_err());
        assert!(parse_list("1,0", parse_count).is_err());
        assert!(parse_list("1,x", parse_count).is_err());
    }

    #[test]
    fn size_formatting_round_trips() {
        for s in ["4KiB", "64MiB", "1GiB", "100B", "1536KiB"] {
            assert_eq!(format_size(parse_size(s).unwrap()), s);
        }
    }
}
