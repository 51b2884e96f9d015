//! The S3 request body on its way to the handler: de-chunked (aws-chunked with
//! or without signatures and trailers) and checked (chunk signatures, the signed
//! SHA-256), streamed without buffering the object.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use strongbox_core::AwsError;
use strongbox_s3::{BodyError, RequestBody};
use strongbox_sigv4::{AuthError, ChunkedDecoder, PayloadMode, PayloadVerifier, Verified};

use crate::limits::{BodyReadError, RequestIncoming, REQUEST_TIMEOUT_MESSAGE};

enum Decoder {
    /// Unsigned payloads and anonymous requests: bytes as they come.
    Plain,
    /// A signed SHA-256 payload: hashed as it streams, compared at the end.
    Hashed(PayloadVerifier),
    /// aws-chunked framing.
    Chunked(Box<ChunkedDecoder>),
}

/// Where the trailing headers go once the body has been read.
type TrailerSlot = Arc<Mutex<Option<Vec<(String, String)>>>>;

struct State {
    incoming: RequestIncoming,
    decoder: Option<Decoder>,
    trailers: TrailerSlot,
}

fn body_error(err: AuthError) -> BodyError {
    match err {
        AuthError::IncompleteBody => BodyError::IncompleteBody,
        other => BodyError::Other {
            code: other.code().to_string(),
            status: other.status(),
            message: other.message(),
        },
    }
}

pub(crate) fn read_error(err: BodyReadError) -> BodyError {
    match err {
        BodyReadError::Idle => BodyError::Other {
            code: "RequestTimeout".to_string(),
            status: 400,
            message: REQUEST_TIMEOUT_MESSAGE.to_string(),
        },
        BodyReadError::Broken => BodyError::IncompleteBody,
    }
}

/// Wraps the hyper body of an authenticated (or anonymous) request.
pub fn request_body(
    incoming: RequestIncoming,
    verified: Option<&Verified>,
    headers: &http::HeaderMap,
    content_length: Option<u64>,
) -> Result<RequestBody, AuthError> {
    let (decoder, decoded_length) = match verified {
        // Unsigned requests may still frame their body as aws-chunked with a checksum trailer.
        None => match PayloadMode::from_headers(headers)? {
            PayloadMode::StreamingUnsignedTrailer => {
                let declared = headers
                    .get("x-amz-decoded-content-length")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                let decoder =
                    ChunkedDecoder::new(&PayloadMode::StreamingUnsignedTrailer, None, declared)?;
                (Decoder::Chunked(Box::new(decoder)), declared)
            }
            _ => (Decoder::Plain, content_length),
        },
        Some(v) => match &v.payload {
            PayloadMode::Unsigned => (Decoder::Plain, content_length),
            PayloadMode::SignedSha256(_) => (
                Decoder::Hashed(PayloadVerifier::new(&v.payload)),
                content_length,
            ),
            mode => {
                let decoder =
                    ChunkedDecoder::new(mode, v.signing.clone(), v.decoded_content_length)?;
                (
                    Decoder::Chunked(Box::new(decoder)),
                    v.decoded_content_length,
                )
            }
        },
    };
    let trailers = Arc::new(Mutex::new(None));
    let state = State {
        incoming,
        decoder: Some(decoder),
        trailers: trailers.clone(),
    };
    let stream = futures_util::stream::unfold(state, |mut state| async move {
        loop {
            let decoder = state.decoder.as_mut()?;
            match state.incoming.frame().await {
                Some(Ok(frame)) => {
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    match decoder {
                        Decoder::Plain => {
                            if !data.is_empty() {
                                return Some((Ok(data), state));
                            }
                        }
                        Decoder::Hashed(verifier) => {
                            verifier.update(&data);
                            if !data.is_empty() {
                                return Some((Ok(data), state));
                            }
                        }
                        Decoder::Chunked(chunked) => {
                            let mut out = Vec::with_capacity(data.len());
                            if let Err(err) = chunked.feed_to_vec(&data, &mut out) {
                                state.decoder = None;
                                return Some((Err(body_error(err)), state));
                            }
                            if !out.is_empty() {
                                return Some((Ok(Bytes::from(out)), state));
                            }
                        }
                    }
                }
                Some(Err(err)) => {
                    state.decoder = None;
                    return Some((Err(read_error(err)), state));
                }
                None => {
                    let finished = match state.decoder.take()? {
                        Decoder::Plain => Ok(()),
                        Decoder::Hashed(verifier) => verifier.finish(),
                        Decoder::Chunked(chunked) => chunked.finish().map(|t| {
                            if let Ok(mut slot) = state.trailers.lock() {
                                *slot = Some(t.headers.clone());
                            }
                        }),
                    };
                    return match finished {
                        Ok(()) => None,
                        Err(err) => Some((Err(body_error(err)), state)),
                    };
                }
            }
        }
    });
    Ok(RequestBody {
        stream: Box::pin(stream),
        trailers,
        decoded_length,
    })
}
