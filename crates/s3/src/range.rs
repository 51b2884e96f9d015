//! The `Range` header of GetObject and the copy-source range of UploadPartCopy.
//!
//! S3 supports one byte range per request (RFC 9110 §14.1.2): `bytes=a-b`,
//! `bytes=a-` and suffix ranges `bytes=-n`. A syntactically invalid header is
//! ignored (the whole object is returned); an unsatisfiable one is 416 InvalidRange.

/// A range request, before the object size is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteRange {
    /// `a-b` (inclusive) or `a-`.
    From { start: u64, end: Option<u64> },
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

/// Parses a `Range` header; `None` when it is not a single valid byte range.
pub fn parse_range(header: &str) -> Option<ByteRange> {
    let spec = header.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if a.is_empty() {
        return if digits(b) {
            b.parse().ok().map(ByteRange::Suffix)
        } else {
            None
        };
    }
    if !digits(a) {
        return None;
    }
    let start: u64 = a.parse().ok()?;
    if b.is_empty() {
        return Some(ByteRange::From { start, end: None });
    }
    if !digits(b) {
        return None;
    }
    let end: u64 = b.parse().ok()?;
    if end < start {
        return None;
    }
    Some(ByteRange::From {
        start,
        end: Some(end),
    })
}

impl ByteRange {
    /// The satisfiable `[start, end)` for an object of `size` bytes, or `None` (416).
    pub fn resolve(self, size: u64) -> Option<(u64, u64)> {
        match self {
            ByteRange::From { start, end } => {
                if start >= size {
                    return None;
                }
                let last = end.map_or(size - 1, |e| e.min(size - 1));
                Some((start, last + 1))
            }
            ByteRange::Suffix(n) => {
                if n == 0 || size == 0 {
                    return None;
                }
                Some((size - n.min(size), size))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(
            parse_range("bytes=0-9"),
            Some(ByteRange::From {
                start: 0,
                end: Some(9)
            })
        );
        assert_eq!(
            parse_range("bytes=5-"),
            Some(ByteRange::From {
                start: 5,
                end: None
            })
        );
        assert_eq!(parse_range("bytes=-3"), Some(ByteRange::Suffix(3)));
        for bad in [
            "bytes=9-1",
            "bytes=a-b",
            "items=0-1",
            "bytes=0-1,3-4",
            "bytes=-",
            "bytes=--1",
            "0-1",
        ] {
            assert_eq!(parse_range(bad), None, "{bad}");
        }
    }

    #[test]
    fn resolves() {
        assert_eq!(parse_range("bytes=0-9").unwrap().resolve(5), Some((0, 5)));
        assert_eq!(parse_range("bytes=2-3").unwrap().resolve(5), Some((2, 4)));
        assert_eq!(parse_range("bytes=5-").unwrap().resolve(5), None);
        assert_eq!(parse_range("bytes=-2").unwrap().resolve(5), Some((3, 5)));
        assert_eq!(parse_range("bytes=-20").unwrap().resolve(5), Some((0, 5)));
        assert_eq!(parse_range("bytes=-0").unwrap().resolve(5), None);
        assert_eq!(parse_range("bytes=0-").unwrap().resolve(0), None);
    }
}
