//! Dates as S3 prints and parses them.

use jiff::Timestamp;

/// ISO 8601 with milliseconds, as in XML: `2026-01-02T03:04:05.000Z`.
pub fn iso8601(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The HTTP date (RFC 9110 IMF-fixdate): `Fri, 02 Jan 2026 03:04:05 GMT`.
pub fn http_date(t: Timestamp) -> String {
    jiff::fmt::rfc2822::DateTimePrinter::new()
        .timestamp_to_rfc9110_string(&t)
        .unwrap_or_else(|_| t.to_string())
}

/// Parses an HTTP date (IMF-fixdate, or other RFC 2822 forms); `None` when invalid.
pub fn parse_http_date(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(t) = jiff::fmt::rfc2822::parse(s) {
        return Some(t.timestamp());
    }
    // RFC 850 and asctime forms are rare; also accept ISO 8601.
    s.parse::<Timestamp>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let t: Timestamp = "2026-01-02T03:04:05.678Z".parse().unwrap();
        assert_eq!(iso8601(t), "2026-01-02T03:04:05.678Z");
        assert_eq!(http_date(t), "Fri, 02 Jan 2026 03:04:05 GMT");
        assert_eq!(
            parse_http_date("Fri, 02 Jan 2026 03:04:05 GMT")
                .unwrap()
                .as_second(),
            t.as_second()
        );
        assert!(parse_http_date("yesterday").is_none());
    }
}
