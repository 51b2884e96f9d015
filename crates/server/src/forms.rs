//! Reading small request bodies and Query-protocol parameters.

use bytes::{Bytes, BytesMut};

use crate::limits::{BodyReadError, RequestIncoming};

/// The largest body accepted by the IAM, STS, KMS and Organizations APIs.
pub const MAX_API_BODY: usize = 1 << 20;

/// Why a small body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("The request body is larger than this API accepts.")]
    TooLarge,
    #[error("{0}")]
    Body(#[from] BodyReadError),
}

/// Reads the whole body, refusing more than `limit` bytes.
pub async fn read_limited(mut body: RequestIncoming, limit: usize) -> Result<Bytes, ReadError> {
    let mut buf = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(ReadError::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space).
pub fn parse_form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

fn decode_component(s: &str) -> String {
    let replaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&replaced)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let p = parse_form("Action=CreateUser&UserName=a%2Bb+c&Empty=&Flag");
        assert_eq!(p[0], ("Action".into(), "CreateUser".into()));
        assert_eq!(p[1], ("UserName".into(), "a+b c".into()));
        assert_eq!(p[2], ("Empty".into(), "".into()));
        assert_eq!(p[3], ("Flag".into(), "".into()));
    }
}
