//! Request headers that may appear only once.
//!
//! A header repeated on the wire reaches `HeaderMap` as several values; code that
//! reads the first value (`HeaderMap::get`) and code that reads all of them
//! (`get_all`) would then disagree, and a bucket policy's condition keys could see
//! other values than the operation acts on. So every `x-amz-*` header and the few
//! others in [`SINGLE_VALUED`] (Content-MD5, Host, Referer, User-Agent) must be
//! single-valued (a repeated one is refused before anything is authorized or
//! stored), except the two `x-amz-*` families that are lists by design:
//! `x-amz-grant-*` (comma-separated grantee lists: every value is part of the
//! ACL and of the `s3:x-amz-grant-*` condition key, see [`joined`]) and
//! `x-amz-meta-*` (user metadata, whose repeated values S3 joins with commas).

use http::HeaderMap;

use crate::error::{Failure, S3Error};

/// Header name prefixes whose repeated values are joined into one list.
const LIST_PREFIXES: [&str; 2] = ["x-amz-grant-", "x-amz-meta-"];

/// Headers outside `x-amz-*` that must not repeat: `Content-MD5`, and those that
/// feed condition keys or addressing (`aws:Referer`, `aws:UserAgent`, the
/// virtual-hosted bucket; RFC 9112, section 3.2: a request with more than one Host
/// field line is answered 400).
const SINGLE_VALUED: [&str; 4] = ["content-md5", "host", "referer", "user-agent"];

/// Whether `name` may carry several values.
fn is_list(name: &str) -> bool {
    LIST_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Refuses a request that repeats a single-valued header: 400 InvalidArgument
/// naming the header (`ArgumentName`), as S3 reports an unusable header value.
pub fn refuse_repeated(headers: &HeaderMap) -> Result<(), Failure> {
    for name in headers.keys() {
        let name = name.as_str();
        let single =
            (name.starts_with("x-amz-") && !is_list(name)) || SINGLE_VALUED.contains(&name);
        if single && headers.get_all(name).iter().nth(1).is_some() {
            return Err(Failure::from(S3Error::InvalidArgument(format!(
                "The header {name} may be specified only once."
            )))
            .with("ArgumentName", name));
        }
    }
    Ok(())
}

/// Every value of a list header joined with `", "` as HTTP combines repeated
/// fields (RFC 9110, section 5.3); `None` when absent or not visible ASCII.
pub fn joined(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut values = headers.get_all(name).iter().peekable();
    values.peek()?;
    let parts: Option<Vec<&str>> = values.map(|v| v.to_str().ok()).collect();
    parts.map(|p| p.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_single_valued_headers_are_refused() {
        let mut h = HeaderMap::new();
        h.append("x-amz-acl", "private".parse().unwrap());
        h.append("x-amz-grant-read", "id=a".parse().unwrap());
        h.append("x-amz-grant-read", "id=b".parse().unwrap());
        h.append("x-amz-meta-a", "1".parse().unwrap());
        h.append("x-amz-meta-a", "2".parse().unwrap());
        assert!(refuse_repeated(&h).is_ok());
        assert_eq!(
            joined(&h, "x-amz-grant-read").as_deref(),
            Some("id=a, id=b")
        );
        assert_eq!(joined(&h, "x-amz-grant-write"), None);
        h.append("x-amz-acl", "public-read".parse().unwrap());
        assert!(refuse_repeated(&h).is_err());
        let mut md5 = HeaderMap::new();
        md5.append("content-md5", "a".parse().unwrap());
        md5.append("content-md5", "b".parse().unwrap());
        assert!(refuse_repeated(&md5).is_err());
        let mut referer = HeaderMap::new();
        referer.append("referer", "https://a.example/".parse().unwrap());
        referer.append("referer", "https://b.example/".parse().unwrap());
        assert!(refuse_repeated(&referer).is_err());
    }
}
