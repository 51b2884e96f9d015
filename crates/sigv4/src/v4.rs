//! SigV4 canonical request, string to sign and signature.
//!
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html> and, for S3,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html>.

use crate::crypto::{hex, hmac_sha256, sha256_hex};

/// The canonical form of one header value: trimmed, runs of spaces/tabs collapsed to one space.
fn canonical_header_value(value: &[u8], out: &mut String) {
    let text = String::from_utf8_lossy(value);
    let mut pending_space = false;
    let mut started = false;
    for c in text.trim_matches(|c| c == ' ' || c == '\t').chars() {
        if c == ' ' || c == '\t' {
            pending_space = true;
            continue;
        }
        if pending_space && started {
            out.push(' ');
        }
        pending_space = false;
        started = true;
        out.push(c);
    }
}

/// `name:value\n` for each signed header, values of repeated headers joined by `,`.
pub fn canonical_headers(headers: &http::HeaderMap, signed_headers: &[String]) -> String {
    let mut out = String::new();
    for name in signed_headers {
        out.push_str(name);
        out.push(':');
        for (i, value) in headers.get_all(name.as_str()).iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            canonical_header_value(value.as_bytes(), &mut out);
        }
        out.push('\n');
    }
    out
}

/// The canonical request: method, URI, query, headers, signed header list, payload hash.
pub fn canonical_request(
    method: &str,
    canonical_uri: &str,
    canonical_query: &str,
    headers: &http::HeaderMap,
    signed_headers: &[String],
    payload_hash: &str,
) -> String {
    format!(
        "{method}\n{canonical_uri}\n{canonical_query}\n{}\n{}\n{payload_hash}",
        canonical_headers(headers, signed_headers),
        signed_headers.join(";")
    )
}

/// `AWS4-HMAC-SHA256\n<timestamp>\n<scope>\n<hex sha256 of canonical request>`.
pub fn string_to_sign(amz_timestamp: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256\n{amz_timestamp}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// Hex HMAC-SHA256 of `string_to_sign` under `signing_key`.
pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    hex(&hmac_sha256(signing_key, string_to_sign.as_bytes()))
}

/// The string to sign of one aws-chunked chunk
/// (<https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html>).
pub fn chunk_string_to_sign(
    amz_timestamp: &str,
    scope: &str,
    previous_signature: &str,
    chunk_sha256_hex: &str,
) -> String {
    format!(
        "AWS4-HMAC-SHA256-PAYLOAD\n{amz_timestamp}\n{scope}\n{previous_signature}\n{}\n{chunk_sha256_hex}",
        crate::crypto::EMPTY_SHA256
    )
}

/// The string to sign of the trailing headers
/// (<https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html>).
pub fn trailer_string_to_sign(
    amz_timestamp: &str,
    scope: &str,
    previous_signature: &str,
    canonical_trailers: &str,
) -> String {
    format!(
        "AWS4-HMAC-SHA256-TRAILER\n{amz_timestamp}\n{scope}\n{previous_signature}\n{}",
        sha256_hex(canonical_trailers.as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values() {
        let mut h = http::HeaderMap::new();
        h.append("my-header1", " value1 ".parse().unwrap());
        h.append("my-header2", "\"a   b \t c\"".parse().unwrap());
        h.append("dup", "value2".parse().unwrap());
        h.append("dup", "value1".parse().unwrap());
        let signed: Vec<String> = ["dup", "missing", "my-header1", "my-header2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            canonical_headers(&h, &signed),
            "dup:value2,value1\nmissing:\nmy-header1:value1\nmy-header2:\"a b c\"\n"
        );
    }
}
