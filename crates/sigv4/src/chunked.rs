//! A push decoder for `aws-chunked` bodies.
//!
//! Framing (<https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html>):
//!
//! ```text
//! hex-size[;chunk-signature=sig]\r\n data \r\n      (repeated)
//! 0[;chunk-signature=sig]\r\n                      (final chunk)
//! name:value\r\n ... [x-amz-trailer-signature:sig\r\n] (trailer modes)
//! \r\n
//! ```
//!
//! Feed it byte slices split anywhere; it hands back the decoded payload as sub-slices of
//! the input (no copy), checks each chunk signature when the chunk completes, and checks
//! the trailer signature and (optionally) the trailing checksum at the end. Bytes handed
//! back are only trustworthy once [`ChunkedDecoder::finish`] succeeds.

use aws_lc_rs::digest;

use crate::checksum::{ChecksumAlgorithm, ChecksumHasher};
use crate::crypto::{constant_time_eq, hex};
use crate::error::{AuthError, SignatureMismatch};
use crate::payload::PayloadMode;
use crate::v4;
use crate::verify::ChunkSigningContext;

/// The longest chunk header line accepted (`hex;chunk-signature=<64 hex>` is about 90 bytes).
pub const MAX_CHUNK_LINE: usize = 4096;
/// The most trailer bytes accepted.
pub const MAX_TRAILER_BYTES: usize = 16 * 1024;
/// The most trailing headers accepted.
pub const MAX_TRAILERS: usize = 16;

const TRAILER_SIGNATURE: &str = "x-amz-trailer-signature";

/// Trailing headers received after the final chunk (names lower-case, values trimmed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trailers {
    pub headers: Vec<(String, String)>,
}

impl Trailers {
    /// The value of trailer `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first `x-amz-checksum-*` trailer and its algorithm.
    pub fn checksum(&self) -> Option<(ChecksumAlgorithm, &str)> {
        self.headers
            .iter()
            .find_map(|(k, v)| ChecksumAlgorithm::from_header_name(k).map(|a| (a, v.as_str())))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    Signed,
    SignedTrailer,
    UnsignedTrailer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    ChunkHeader,
    Data,
    DataCr,
    DataLf,
    Trailer,
    Done,
    Failed,
}

/// The aws-chunked decoder; see the module documentation.
pub struct ChunkedDecoder {
    framing: Framing,
    signing: Option<ChunkSigningContext>,
    previous_signature: String,
    state: State,
    error: Option<AuthError>,
    line: Vec<u8>,
    chunk_remaining: u64,
    chunk_signature: Option<String>,
    chunk_hash: Option<digest::Context>,
    decoded_total: u64,
    declared_length: Option<u64>,
    trailers: Vec<(String, String)>,
    trailer_bytes: usize,
    trailer_signature: Option<String>,
    checksum: Option<ChecksumHasher>,
}

impl ChunkedDecoder {
    /// A decoder for a streaming `mode`. Signed modes need the signing context from
    /// [`crate::verify`]; `declared_length` is `x-amz-decoded-content-length` when sent.
    pub fn new(
        mode: &PayloadMode,
        signing: Option<ChunkSigningContext>,
        declared_length: Option<u64>,
    ) -> Result<ChunkedDecoder, AuthError> {
        let framing = match mode {
            PayloadMode::StreamingSigned => Framing::Signed,
            PayloadMode::StreamingSignedTrailer => Framing::SignedTrailer,
            PayloadMode::StreamingUnsignedTrailer => Framing::UnsignedTrailer,
            _ => {
                return Err(AuthError::chunked(
                    "The payload is not aws-chunked encoded.",
                ))
            }
        };
        let signing = match (framing, signing) {
            (Framing::UnsignedTrailer, _) => None,
            (_, Some(s)) => Some(s),
            (_, None) => {
                return Err(AuthError::chunked(
                    "Signed aws-chunked payloads need a SigV4 signed request.",
                ))
            }
        };
        let previous_signature = signing
            .as_ref()
            .map(|s| s.seed_signature.clone())
            .unwrap_or_default();
        Ok(ChunkedDecoder {
            framing,
            signing,
            previous_signature,
            state: State::ChunkHeader,
            error: None,
            line: Vec::new(),
            chunk_remaining: 0,
            chunk_signature: None,
            chunk_hash: None,
            decoded_total: 0,
            declared_length,
            trailers: Vec::new(),
            trailer_bytes: 0,
            trailer_signature: None,
            checksum: None,
        })
    }

    /// Also computes `algorithm` over the decoded payload and, at [`ChunkedDecoder::finish`],
    /// requires the matching `x-amz-checksum-*` trailer to agree (`BadDigest` otherwise).
    pub fn with_checksum(mut self, algorithm: ChecksumAlgorithm) -> ChunkedDecoder {
        self.checksum = Some(algorithm.hasher());
        self
    }

    /// Decoded payload bytes so far.
    pub fn decoded_len(&self) -> u64 {
        self.decoded_total
    }

    /// Whether the final chunk and trailers have been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes `input`, passing each run of payload bytes (a sub-slice of `input`) to `on_data`.
    pub fn feed<'i, F: FnMut(&'i [u8])>(
        &mut self,
        input: &'i [u8],
        on_data: F,
    ) -> Result<(), AuthError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let result = self.feed_inner(input, on_data);
        if let Err(e) = &result {
            self.state = State::Failed;
            self.error = Some(e.clone());
        }
        result
    }

    /// [`ChunkedDecoder::feed`] appending the payload to `out`.
    pub fn feed_to_vec(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), AuthError> {
        self.feed(input, |d| out.extend_from_slice(d))
    }

    fn feed_inner<'i, F: FnMut(&'i [u8])>(
        &mut self,
        mut input: &'i [u8],
        mut on_data: F,
    ) -> Result<(), AuthError> {
        while !input.is_empty() {
            match self.state {
                State::ChunkHeader | State::Trailer => {
                    let limit = if self.state == State::ChunkHeader {
                        MAX_CHUNK_LINE
                    } else {
                        MAX_TRAILER_BYTES.saturating_sub(self.trailer_bytes)
                    };
                    let (part, complete) = match input.iter().position(|&b| b == b'\n') {
                        Some(pos) => (&input[..pos], true),
                        None => (input, false),
                    };
                    if self.line.len() + part.len() > limit {
                        return Err(if self.state == State::ChunkHeader {
                            AuthError::chunked("The aws-chunked chunk header is too long.")
                        } else {
                            AuthError::chunked("The aws-chunked trailer is too large.")
                        });
                    }
                    self.line.extend_from_slice(part);
                    input = &input[part.len() + usize::from(complete)..];
                    if complete {
                        let mut line = std::mem::take(&mut self.line);
                        if line.last() == Some(&b'\r') {
                            line.pop();
                        }
                        if self.state == State::ChunkHeader {
                            self.chunk_header(&line)?;
                        } else {
                            self.trailer_bytes += line.len() + 2;
                            self.trailer_line(&line)?;
                        }
                    }
                }
                State::Data => {
                    let n = usize::try_from(self.chunk_remaining)
                        .unwrap_or(usize::MAX)
                        .min(input.len());
                    let (data, rest) = input.split_at(n);
                    if let Some(h) = self.chunk_hash.as_mut() {
                        h.update(data);
                    }
                    if let Some(c) = self.checksum.as_mut() {
                        c.update(data);
                    }
                    on_data(data);
                    self.chunk_remaining -= n as u64;
                    input = rest;
                    if self.chunk_remaining == 0 {
                        let hash = self.chunk_hash.take().map(|c| hex(c.finish().as_ref()));
                        self.check_chunk_signature(hash.as_deref())?;
                        self.state = State::DataCr;
                    }
                }
                State::DataCr => {
                    self.state = match input[0] {
                        b'\r' => State::DataLf,
                        b'\n' => State::ChunkHeader,
                        _ => {
                            return Err(AuthError::chunked(
                                "The aws-chunked chunk data is longer than its size.",
                            ))
                        }
                    };
                    input = &input[1..];
                }
                State::DataLf => {
                    if input[0] != b'\n' {
                        return Err(AuthError::chunked(
                            "The aws-chunked chunk data is longer than its size.",
                        ));
                    }
                    self.state = State::ChunkHeader;
                    input = &input[1..];
                }
                State::Done => {
                    if input.iter().all(|b| matches!(b, b'\r' | b'\n')) {
                        return Ok(());
                    }
                    return Err(AuthError::chunked(
                        "Unexpected data after the final aws-chunked chunk.",
                    ));
                }
                State::Failed => {
                    return Err(AuthError::chunked("The aws-chunked body is invalid."))
                }
            }
        }
        Ok(())
    }

    fn chunk_header(&mut self, line: &[u8]) -> Result<(), AuthError> {
        let text = std::str::from_utf8(line)
            .map_err(|_| AuthError::chunked("Invalid aws-chunked chunk header."))?;
        let mut fields = text.split(';');
        let size_text = fields.next().unwrap_or_default().trim();
        if size_text.is_empty()
            || size_text.len() > 16
            || !size_text.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(AuthError::chunked("Invalid aws-chunked chunk size."));
        }
        let size = u64::from_str_radix(size_text, 16)
            .map_err(|_| AuthError::chunked("Invalid aws-chunked chunk size."))?;
        let mut signature = None;
        for ext in fields {
            if let Some((k, v)) = ext.split_once('=') {
                if k.trim() == "chunk-signature" {
                    signature = Some(v.trim().to_ascii_lowercase());
                }
            }
        }
        if self.signing.is_some() {
            match &signature {
                Some(s) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {}
                _ => {
                    return Err(AuthError::chunked(
                        "The aws-chunked chunk signature is missing or malformed.",
                    ))
                }
            }
        }
        self.chunk_signature = signature;
        let total = self
            .decoded_total
            .checked_add(size)
            .ok_or_else(|| AuthError::chunked("Chunk too large."))?;
        if self.declared_length.is_some_and(|d| total > d) {
            return Err(AuthError::chunked(
                "The aws-chunked body is longer than x-amz-decoded-content-length.",
            ));
        }
        self.decoded_total = total;
        if size == 0 {
            let empty = self
                .signing
                .is_some()
                .then(|| crate::crypto::EMPTY_SHA256.to_string());
            self.check_chunk_signature(empty.as_deref())?;
            self.state = State::Trailer;
        } else {
            self.chunk_remaining = size;
            self.chunk_hash = self
                .signing
                .is_some()
                .then(|| digest::Context::new(&digest::SHA256));
            self.state = State::Data;
        }
        Ok(())
    }

    fn check_chunk_signature(&mut self, chunk_hash: Option<&str>) -> Result<(), AuthError> {
        let (Some(ctx), Some(hash)) = (&self.signing, chunk_hash) else {
            return Ok(());
        };
        let provided = self.chunk_signature.take().unwrap_or_default();
        let sts =
            v4::chunk_string_to_sign(&ctx.timestamp, &ctx.scope, &self.previous_signature, hash);
        let computed = v4::signature(&ctx.signing_key, &sts);
        if !constant_time_eq(computed.as_bytes(), provided.as_bytes()) {
            return Err(mismatch(&ctx.access_key_id, sts, provided));
        }
        self.previous_signature = computed;
        Ok(())
    }

    fn trailer_line(&mut self, line: &[u8]) -> Result<(), AuthError> {
        if line.is_empty() {
            match self.framing {
                Framing::Signed | Framing::UnsignedTrailer => self.state = State::Done,
                // Some clients end each trailer with a bare LF and then send CRLF before the
                // signature; keep reading until the signature has come.
                Framing::SignedTrailer if self.trailer_signature.is_some() => {
                    self.check_trailer_signature()?;
                    self.state = State::Done;
                }
                Framing::SignedTrailer => {}
            }
            return Ok(());
        }
        if self.framing == Framing::Signed {
            return Err(AuthError::chunked(
                "Unexpected trailing headers in an aws-chunked body without a trailer.",
            ));
        }
        let text = std::str::from_utf8(line)
            .map_err(|_| AuthError::chunked("Invalid aws-chunked trailer."))?;
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| AuthError::chunked("Invalid aws-chunked trailer."))?;
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim().to_string();
        if name.is_empty() || self.trailer_signature.is_some() {
            return Err(AuthError::chunked("Invalid aws-chunked trailer."));
        }
        if name == TRAILER_SIGNATURE {
            if self.framing != Framing::SignedTrailer {
                return Err(AuthError::chunked(
                    "Unexpected x-amz-trailer-signature in an unsigned trailer.",
                ));
            }
            self.trailer_signature = Some(value.to_ascii_lowercase());
            return Ok(());
        }
        if self.trailers.len() >= MAX_TRAILERS {
            return Err(AuthError::chunked("Too many aws-chunked trailing headers."));
        }
        self.trailers.push((name, value));
        Ok(())
    }

    fn check_trailer_signature(&mut self) -> Result<(), AuthError> {
        let Some(ctx) = &self.signing else {
            return Ok(());
        };
        let provided = self.trailer_signature.clone().unwrap_or_default();
        let sts = v4::trailer_string_to_sign(
            &ctx.timestamp,
            &ctx.scope,
            &self.previous_signature,
            &canonical_trailers(&self.trailers),
        );
        let computed = v4::signature(&ctx.signing_key, &sts);
        if !constant_time_eq(computed.as_bytes(), provided.as_bytes()) {
            return Err(mismatch(&ctx.access_key_id, sts, provided));
        }
        self.previous_signature = computed;
        Ok(())
    }

    /// Ends the body: `IncompleteBody` if it stopped early or decoded to fewer bytes than
    /// declared; checks the trailer signature and the trailing checksum; returns the trailers.
    pub fn finish(mut self) -> Result<Trailers, AuthError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        match self.state {
            State::Done => {}
            // The final empty line is missing: accept when nothing is left half-read.
            State::Trailer if self.line.is_empty() => match self.framing {
                Framing::Signed | Framing::UnsignedTrailer => {}
                Framing::SignedTrailer if self.trailer_signature.is_some() => {
                    self.check_trailer_signature()?
                }
                Framing::SignedTrailer if self.trailers.is_empty() => {}
                Framing::SignedTrailer => {
                    return Err(AuthError::chunked(
                        "The aws-chunked trailer signature is missing.",
                    ));
                }
            },
            _ => return Err(AuthError::IncompleteBody),
        }
        if self
            .declared_length
            .is_some_and(|d| d != self.decoded_total)
        {
            return Err(AuthError::IncompleteBody);
        }
        let trailers = Trailers {
            headers: self.trailers,
        };
        if let Some(hasher) = self.checksum.take() {
            let algorithm = hasher.algorithm();
            let sent = trailers.get(algorithm.header_name()).ok_or_else(|| {
                AuthError::InvalidRequest(format!(
                    "The trailing checksum {} was not sent.",
                    algorithm.header_name()
                ))
            })?;
            algorithm.verify(sent, &hasher.finalize())?;
        }
        Ok(trailers)
    }
}

/// `name:value\n` for each trailer, sorted by name: what the trailer signature covers.
pub fn canonical_trailers(trailers: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = trailers.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted.iter().map(|(k, v)| format!("{k}:{v}\n")).collect()
}

fn mismatch(access_key_id: &str, string_to_sign: String, signature_provided: String) -> AuthError {
    AuthError::SignatureDoesNotMatch(Box::new(SignatureMismatch {
        access_key_id: access_key_id.to_string(),
        string_to_sign,
        canonical_request: String::new(),
        signature_provided,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsigned(body: &[u8]) -> Result<(Vec<u8>, Trailers), AuthError> {
        let mut d = ChunkedDecoder::new(&PayloadMode::StreamingUnsignedTrailer, None, None)?;
        let mut out = Vec::new();
        d.feed_to_vec(body, &mut out)?;
        Ok((out, d.finish()?))
    }

    #[test]
    fn unsigned_trailer_body() {
        let (data, trailers) =
            unsigned(b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n")
                .unwrap();
        assert_eq!(data, b"hello world");
        assert_eq!(trailers.get("X-Amz-Checksum-CRC32"), Some("DUoRhQ=="));
        assert_eq!(
            trailers.checksum(),
            Some((ChecksumAlgorithm::Crc32, "DUoRhQ=="))
        );
    }

    #[test]
    fn malformed() {
        for body in [
            &b"zz\r\nhello\r\n0\r\n\r\n"[..],
            b"5\r\nhelloX\r\n0\r\n\r\n",
            b"\r\n",
            b"0\r\nno-colon\r\n\r\n",
            b"0\r\n\r\ngarbage",
            b"11111111111111111\r\n",
            b"0\r\nx-amz-trailer-signature:abc\r\n\r\n",
        ] {
            assert!(
                matches!(unsigned(body), Err(AuthError::InvalidRequest(_))),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
        for body in [
            &b""[..],
            b"5\r\nhel",
            b"5\r\nhello\r\n",
            b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AA",
        ] {
            assert_eq!(
                unsigned(body).unwrap_err(),
                AuthError::IncompleteBody,
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn limits() {
        let long = vec![b'0'; MAX_CHUNK_LINE + 1];
        assert!(unsigned(&long).is_err());
        let mut body = b"0\r\n".to_vec();
        for i in 0..=MAX_TRAILERS {
            body.extend_from_slice(format!("x-t-{i}:v\r\n").as_bytes());
        }
        assert!(unsigned(&body).is_err());
        let mut body = b"0\r\nx:".to_vec();
        body.extend(vec![b'v'; MAX_TRAILER_BYTES]);
        assert!(unsigned(&body).is_err());
    }

    #[test]
    fn declared_length() {
        let mut d =
            ChunkedDecoder::new(&PayloadMode::StreamingUnsignedTrailer, None, Some(4)).unwrap();
        assert!(d.feed(b"5\r\nhello\r\n", |_| {}).is_err());
        let mut d =
            ChunkedDecoder::new(&PayloadMode::StreamingUnsignedTrailer, None, Some(6)).unwrap();
        d.feed(b"5\r\nhello\r\n0\r\n\r\n", |_| {}).unwrap();
        assert_eq!(d.finish().unwrap_err(), AuthError::IncompleteBody);
    }

    #[test]
    fn checksum_trailer() {
        let body = b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n";
        let mut d = ChunkedDecoder::new(&PayloadMode::StreamingUnsignedTrailer, None, Some(5))
            .unwrap()
            .with_checksum(ChecksumAlgorithm::Crc32);
        d.feed(body, |_| {}).unwrap();
        assert!(d.finish().is_ok());
        let mut d = ChunkedDecoder::new(&PayloadMode::StreamingUnsignedTrailer, None, None)
            .unwrap()
            .with_checksum(ChecksumAlgorithm::Crc32);
        d.feed(
            b"5\r\nhellx\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n",
            |_| {},
        )
        .unwrap();
        assert!(matches!(d.finish(), Err(AuthError::BadDigest { .. })));
        let mut d = ChunkedDecoder::new(&PayloadMode::StreamingUnsignedTrailer, None, None)
            .unwrap()
            .with_checksum(ChecksumAlgorithm::Crc32c);
        d.feed(body, |_| {}).unwrap();
        assert!(matches!(d.finish(), Err(AuthError::InvalidRequest(_))));
    }

    #[test]
    fn not_streaming() {
        assert!(ChunkedDecoder::new(&PayloadMode::Unsigned, None, None).is_err());
        assert!(ChunkedDecoder::new(&PayloadMode::StreamingSigned, None, None).is_err());
    }
}
