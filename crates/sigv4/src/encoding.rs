//! URI encoding and decoding as SigV4 canonicalization needs them.
//!
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>: encode every
//! byte except the unreserved characters `A-Z a-z 0-9 - _ . ~` as `%XX` (upper-case hex);
//! in the canonical URI `/` is kept.

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Percent-encodes `bytes` (keeping `/` when `keep_slash`).
pub fn uri_encode(bytes: &[u8], keep_slash: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX_UPPER[(b >> 4) as usize] as char);
            out.push(HEX_UPPER[(b & 15) as usize] as char);
        }
    }
    out
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits is kept literally. `+` stays `+`.
pub fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// [`percent_decode`] into a `String` (invalid UTF-8 replaced).
pub fn percent_decode_str(s: &str) -> String {
    String::from_utf8_lossy(&percent_decode(s)).into_owned()
}

/// The SigV4 canonical query string of a raw query (see [`crate::Query::canonical_v4`]);
/// `skip` names a parameter to leave out (`X-Amz-Signature`).
pub fn canonical_query(raw_query: &str, skip: Option<&str>) -> String {
    crate::query::Query::parse(raw_query).canonical_v4(skip)
}

/// The canonical URI for services other than S3: the path (as received) with `.`/`..`
/// segments resolved and repeated slashes merged, then URI-encoded (so escapes are
/// encoded twice, as the SDKs do).
pub fn normalized_canonical_uri(raw_path: &str) -> String {
    let path = if raw_path.is_empty() { "/" } else { raw_path };
    let mut segments: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut normalized = String::from("/");
    normalized.push_str(&segments.join("/"));
    if path.ends_with('/') && !segments.is_empty() {
        normalized.push('/');
    }
    uri_encode(normalized.as_bytes(), true)
}

/// The canonical URI for S3 when the client encoded the path differently from the
/// wire form: decode the path once and encode it strictly (keeping `/`). S3 does not
/// normalize `.`, `..` or `//`.
pub fn s3_reencoded_uri(raw_path: &str) -> String {
    if raw_path.is_empty() {
        return "/".to_string();
    }
    let segments: Vec<String> = raw_path
        .split('/')
        .map(|seg| uri_encode(&percent_decode(seg), false))
        .collect();
    segments.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode() {
        assert_eq!(uri_encode(b"a b/c~d*e+", true), "a%20b/c~d%2Ae%2B");
        assert_eq!(uri_encode("ሴ".as_bytes(), false), "%E1%88%B4");
        assert_eq!(uri_encode(b"/", false), "%2F");
    }

    #[test]
    fn decode() {
        assert_eq!(percent_decode("a%20b%2fc+"), b"a b/c+");
        assert_eq!(percent_decode("100%"), b"100%");
        assert_eq!(percent_decode("%4"), b"%4");
        assert_eq!(percent_decode("%zz"), b"%zz");
        assert_eq!(percent_decode("%41"), b"A");
    }

    #[test]
    fn query() {
        assert_eq!(
            canonical_query("Param2=value2&Param1=value1", None),
            "Param1=value1&Param2=value2"
        );
        assert_eq!(
            canonical_query("Param1=value2&Param1=Value1", None),
            "Param1=Value1&Param1=value2"
        );
        assert_eq!(canonical_query("acl", None), "acl=");
        assert_eq!(
            canonical_query("a=1&X-Amz-Signature=x&b=%2f", Some("X-Amz-Signature")),
            "a=1&b=%2F"
        );
        assert_eq!(canonical_query("k=a b", None), "k=a%20b");
    }

    #[test]
    fn normalize() {
        assert_eq!(normalized_canonical_uri("/example/.."), "/");
        assert_eq!(normalized_canonical_uri("/example1/example2/../.."), "/");
        assert_eq!(normalized_canonical_uri("//"), "/");
        assert_eq!(normalized_canonical_uri("/./"), "/");
        assert_eq!(normalized_canonical_uri("/./example"), "/example");
        assert_eq!(normalized_canonical_uri("//example//"), "/example/");
        assert_eq!(normalized_canonical_uri("/a%20b"), "/a%2520b");
        assert_eq!(normalized_canonical_uri(""), "/");
        assert_eq!(normalized_canonical_uri("/a/b/.."), "/a");
    }

    #[test]
    fn s3_reencode() {
        assert_eq!(s3_reencoded_uri("/test$file.text"), "/test%24file.text");
        assert_eq!(s3_reencoded_uri("/a%2Fb//c/../"), "/a%2Fb//c/../");
    }
}
