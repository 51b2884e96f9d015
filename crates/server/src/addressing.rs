//! Path-style and virtual-hosted-style S3 addressing.
//!
//! Amazon S3 User Guide, "Virtual hosting of buckets": in a virtual-hosted-style
//! request the bucket is the first label(s) of the Host before the service domain
//! (`bucket.s3.us-east-1.amazonaws.com`); in a path-style request it is the first
//! path segment (`s3.us-east-1.amazonaws.com/bucket/key`).

use percent_encoding::percent_decode_str;

/// Where the bucket and key of an S3 request were found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Address {
    /// Decoded bucket name.
    pub bucket: Option<String>,
    /// Decoded object key (everything after the bucket, may contain '/').
    pub key: Option<String>,
    /// Set when the bucket came from the Host header (SigV2 needs it).
    pub virtual_host_bucket: Option<String>,
}

/// Service domains under which `bucket.DOMAIN` is read as virtual-hosted style.
#[derive(Debug, Clone)]
pub struct Domains {
    domains: Vec<String>,
}

impl Domains {
    /// The default domains for `region` plus operator-supplied ones.
    pub fn new(region: &str, extra: &[String]) -> Domains {
        let mut domains: Vec<String> = extra.iter().map(|d| d.to_ascii_lowercase()).collect();
        domains.push(format!("s3.{region}.amazonaws.com"));
        domains.push(format!("s3.dualstack.{region}.amazonaws.com"));
        domains.push("s3.amazonaws.com".to_string());
        domains.push("localhost".to_string());
        Domains { domains }
    }

    /// The bucket named by `host` (port stripped), if it is virtual-hosted style.
    pub fn bucket_from_host(&self, host: &str) -> Option<String> {
        let host = strip_port(host).to_ascii_lowercase();
        if host.parse::<std::net::IpAddr>().is_ok() {
            return None;
        }
        for domain in &self.domains {
            if let Some(prefix) = host.strip_suffix(domain.as_str()) {
                if let Some(bucket) = prefix.strip_suffix('.') {
                    if !bucket.is_empty() {
                        return Some(bucket.to_string());
                    }
                }
            }
        }
        None
    }
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // [::1]:9000
        return match host.find(']') {
            Some(end) => &host[..=end],
            None => host,
        };
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    }
}

/// A path whose percent-decoded bytes are not UTF-8. Keys are UTF-8 (User Guide,
/// "Naming Amazon S3 objects"); decoding such a path lossily would map distinct
/// keys (`x%FF`, `x%FE`) to one. S3 answers 400 InvalidURI "Couldn't parse the
/// specified URI." (as reported in larrabee/s3sync#45 and apache/ozone#10860).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Couldn't parse the specified URI.")]
pub struct InvalidUri;

/// Percent-decodes one path or query component; bytes that are not UTF-8 are refused.
pub fn decode(s: &str) -> Result<String, InvalidUri> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| InvalidUri)
}

/// Splits an S3 request into bucket and key.
pub fn resolve(
    domains: &Domains,
    host: Option<&str>,
    raw_path: &str,
) -> Result<S3Address, InvalidUri> {
    let path = raw_path.strip_prefix('/').unwrap_or(raw_path);
    if let Some(bucket) = host.and_then(|h| domains.bucket_from_host(h)) {
        let key = if path.is_empty() {
            None
        } else {
            Some(decode(path)?)
        };
        return Ok(S3Address {
            bucket: Some(bucket.clone()),
            key,
            virtual_host_bucket: Some(bucket),
        });
    }
    if path.is_empty() {
        return Ok(S3Address {
            bucket: None,
            key: None,
            virtual_host_bucket: None,
        });
    }
    let (bucket, key) = match path.split_once('/') {
        Some((b, k)) => (b, if k.is_empty() { None } else { Some(decode(k)?) }),
        None => (path, None),
    };
    Ok(S3Address {
        bucket: Some(decode(bucket)?),
        key,
        virtual_host_bucket: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d() -> Domains {
        Domains::new("us-east-1", &[])
    }

    #[test]
    fn path_style() {
        let a = resolve(&d(), Some("127.0.0.1:9000"), "/bkt/a/b%20c//d").unwrap();
        assert_eq!(a.bucket.as_deref(), Some("bkt"));
        assert_eq!(a.key.as_deref(), Some("a/b c//d"));
        assert_eq!(a.virtual_host_bucket, None);
        let a = resolve(&d(), Some("localhost:9000"), "/bkt").unwrap();
        assert_eq!(a.bucket.as_deref(), Some("bkt"));
        assert_eq!(a.key, None);
        let a = resolve(&d(), Some("localhost"), "/").unwrap();
        assert_eq!(a.bucket, None);
    }

    #[test]
    fn virtual_hosted() {
        let a = resolve(&d(), Some("my.bucket.s3.us-east-1.amazonaws.com"), "/k%2Fx").unwrap();
        assert_eq!(a.bucket.as_deref(), Some("my.bucket"));
        assert_eq!(a.key.as_deref(), Some("k/x"));
        let a = resolve(&d(), Some("bkt.localhost:9000"), "/").unwrap();
        assert_eq!(a.bucket.as_deref(), Some("bkt"));
        assert_eq!(a.key, None);
        let a = resolve(&d(), Some("[::1]:9000"), "/b/k").unwrap();
        assert_eq!(a.bucket.as_deref(), Some("b"));
    }

    #[test]
    fn keys_with_dot_segments_are_kept() {
        let a = resolve(&d(), Some("localhost"), "/b/../x/./y").unwrap();
        assert_eq!(a.key.as_deref(), Some("../x/./y"));
    }

    #[test]
    fn keys_that_are_not_utf8_are_refused_not_merged() {
        for path in ["/b/x%FF", "/b/x%FE", "/b%FF/k", "/%C3"] {
            assert_eq!(
                resolve(&d(), Some("localhost"), path),
                Err(InvalidUri),
                "{path}"
            );
        }
        let vhost = resolve(&d(), Some("bkt.localhost"), "/x%FF");
        assert_eq!(vhost, Err(InvalidUri));
        let ok = resolve(&d(), Some("localhost"), "/b/%C3%A9").unwrap();
        assert_eq!(ok.key.as_deref(), Some("\u{e9}"));
    }
}
