//! Request and response bodies.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http_body::{Frame, SizeHint};
use strongbox_store::files::ByteStream;

use crate::error::S3Error;

/// Why the request body could not be read. Produced by the server while it
/// de-chunks and checks the body; each maps to AWS's code and status.
#[derive(Clone, Debug, thiserror::Error)]
pub enum BodyError {
    #[error(
        "You did not provide the number of bytes specified by the Content-Length HTTP header."
    )]
    IncompleteBody,
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    ContentSha256Mismatch,
    #[error("The request signature we calculated does not match the signature you provided. Check your key and signing method.")]
    SignatureDoesNotMatch,
    #[error("The request body is malformed.")]
    InvalidChunk,
    /// Any other failure, with its AWS code and status.
    #[error("{message}")]
    Other {
        code: String,
        status: u16,
        message: String,
    },
}

impl strongbox_core::AwsError for BodyError {
    fn code(&self) -> &str {
        match self {
            BodyError::IncompleteBody => "IncompleteBody",
            BodyError::ContentSha256Mismatch => "XAmzContentSHA256Mismatch",
            BodyError::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            BodyError::InvalidChunk => "InvalidRequest",
            BodyError::Other { code, .. } => code,
        }
    }

    fn status(&self) -> u16 {
        match self {
            BodyError::SignatureDoesNotMatch => 403,
            BodyError::Other { status, .. } => *status,
            _ => 400,
        }
    }
}

/// Trailing headers of a chunked body, filled in by the server at the end of the stream.
pub type Trailers = Arc<Mutex<Option<Vec<(String, String)>>>>;

/// The request body, already de-chunked and signature-checked by the server.
pub struct RequestBody {
    pub stream: Pin<Box<dyn Stream<Item = Result<Bytes, BodyError>> + Send + Sync>>,
    /// Trailing headers (`x-amz-checksum-*`), filled in at the end of the stream.
    pub trailers: Trailers,
    /// The length of the decoded body, when known in advance.
    pub decoded_length: Option<u64>,
}

impl RequestBody {
    /// An empty body.
    pub fn empty() -> RequestBody {
        RequestBody::from_bytes(Bytes::new())
    }

    /// A body of these bytes (tests, small requests).
    pub fn from_bytes(bytes: impl Into<Bytes>) -> RequestBody {
        let bytes: Bytes = bytes.into();
        let len = bytes.len() as u64;
        RequestBody {
            stream: Box::pin(futures_util::stream::iter(if len == 0 {
                vec![]
            } else {
                vec![Ok(bytes)]
            })),
            trailers: Arc::new(Mutex::new(None)),
            decoded_length: Some(len),
        }
    }

    /// The next chunk.
    pub async fn next_chunk(&mut self) -> Option<Result<Bytes, BodyError>> {
        self.stream.next().await
    }

    /// Reads the whole body, failing with `too_large` beyond `limit` bytes.
    pub async fn collect(&mut self, limit: usize, too_large: S3Error) -> Result<Bytes, S3Error> {
        let mut buf = Vec::new();
        while let Some(chunk) = self.next_chunk().await {
            let chunk = chunk.map_err(S3Error::Body)?;
            if buf.len() + chunk.len() > limit {
                return Err(too_large);
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(buf))
    }

    /// A trailing header (after the stream ended), by lower-case name.
    pub fn trailer(&self, name: &str) -> Option<String> {
        let guard = self.trailers.lock().ok()?;
        guard
            .as_ref()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
    }
}

enum Kind {
    Empty,
    Full(Option<Bytes>),
    Stream { stream: ByteStream, len: u64 },
}

/// A response body: empty, in memory, or streamed from object files (bounded memory).
pub struct S3Body {
    kind: Kind,
}

impl S3Body {
    pub fn empty() -> S3Body {
        S3Body { kind: Kind::Empty }
    }

    pub fn full(bytes: impl Into<Bytes>) -> S3Body {
        S3Body {
            kind: Kind::Full(Some(bytes.into())),
        }
    }

    /// A stream of exactly `len` bytes.
    pub fn stream(stream: ByteStream, len: u64) -> S3Body {
        S3Body {
            kind: Kind::Stream { stream, len },
        }
    }

    /// Reads the whole body (tests and small bodies).
    pub async fn collect(self) -> std::io::Result<Bytes> {
        match self.kind {
            Kind::Empty => Ok(Bytes::new()),
            Kind::Full(b) => Ok(b.unwrap_or_default()),
            Kind::Stream { mut stream, .. } => {
                let mut buf = Vec::new();
                while let Some(c) = stream.next().await {
                    buf.extend_from_slice(&c?);
                }
                Ok(Bytes::from(buf))
            }
        }
    }
}

impl http_body::Body for S3Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match &mut self.kind {
            Kind::Empty => Poll::Ready(None),
            Kind::Full(b) => Poll::Ready(
                b.take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
            Kind::Stream { stream, .. } => match stream.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(b))) => Poll::Ready(Some(Ok(Frame::data(b)))),
                Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Empty => true,
            Kind::Full(b) => b.as_ref().is_none_or(|b| b.is_empty()),
            Kind::Stream { len, .. } => *len == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Empty => SizeHint::with_exact(0),
            Kind::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Stream { len, .. } => SizeHint::with_exact(*len),
        }
    }
}
