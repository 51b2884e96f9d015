//! A SigV4-signing HTTP/1.1 client: one keep-alive connection with TCP_NODELAY,
//! reconnecting when the server closes it.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use jiff::Timestamp;
use strongbox_sigv4::sign::{sign_request, Credentials, SigningParams};
use tokio::net::TcpStream;

/// A request failed before an HTTP answer arrived, or could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("http: {0}")]
    Http(#[from] hyper::Error),
    #[error("signing: {0}")]
    Sign(#[from] strongbox_sigv4::AuthError),
    #[error("building request: {0}")]
    Build(#[from] http::Error),
    #[error("invalid header value: {0}")]
    Header(#[from] http::header::InvalidHeaderValue),
}

/// Where the server listens (loopback).
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// The socket address connected to.
    pub addr: SocketAddr,
    /// The `Host` header sent (and signed).
    pub host: String,
}

/// Who signs requests, and for which region.
#[derive(Clone, Debug)]
pub struct Signer {
    pub credentials: Credentials,
    pub region: String,
}

/// One request to send: everything except the host and the signature.
pub struct RequestSpec<'a> {
    pub method: &'a str,
    /// Percent-encoded path.
    pub path: &'a str,
    /// Percent-encoded query string, without `?`.
    pub query: &'a str,
    /// The SigV4 service name of the credential scope (`s3`, `iam`).
    pub service: &'a str,
    /// Extra headers (signed).
    pub headers: &'a [(&'a str, &'a str)],
    pub body: Bytes,
    /// Hex SHA-256 of `body` (or `UNSIGNED-PAYLOAD`).
    pub payload_hash: &'a str,
}

/// The answer to a request.
pub struct Answer {
    pub status: StatusCode,
    /// Bytes received in the body.
    pub body_len: u64,
    /// The body, when it was asked to be kept.
    pub body: Option<Bytes>,
    /// The `x-amz-server-side-encryption` header, if any.
    pub server_side_encryption: Option<String>,
    /// The `Server-Timing` header, if the server sends one.
    pub server_timing: Option<String>,
}

/// A keep-alive connection to the endpoint.
pub struct Connection {
    endpoint: Endpoint,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Connection {
    /// Opens a connection to `endpoint`.
    pub async fn open(endpoint: Endpoint) -> Result<Connection, ClientError> {
        let mut connection = Connection {
            endpoint,
            sender: None,
        };
        connection.ready().await?;
        Ok(connection)
    }

    async fn ready(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, ClientError> {
        let reusable = match &mut self.sender {
            Some(sender) if !sender.is_closed() => sender.ready().await.is_ok(),
            _ => false,
        };
        if !reusable {
            self.sender = Some(connect(self.endpoint.addr).await?);
        }
        match &mut self.sender {
            Some(sender) => Ok(sender),
            None => Err(ClientError::Io(std::io::Error::other("not connected"))),
        }
    }

    /// Signs and sends `spec`, reads the whole answer, and keeps its body when `keep_body`.
    pub async fn send(
        &mut self,
        signer: &Signer,
        spec: &RequestSpec<'_>,
        keep_body: bool,
    ) -> Result<Answer, ClientError> {
        let request = build_signed(&self.endpoint.host, signer, spec)?;
        let sender = self.ready().await?;
        let result = send_and_read(sender, request, keep_body).await;
        if result.is_err() {
            self.sender = None;
        }
        result
    }
}

async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>, ClientError> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // The connection ends when the sender is dropped or the server closes it.
        let _ = connection.await;
    });
    Ok(sender)
}

fn build_signed(
    host: &str,
    signer: &Signer,
    spec: &RequestSpec<'_>,
) -> Result<Request<Full<Bytes>>, ClientError> {
    let mut headers = HeaderMap::new();
    headers.insert(http::header::HOST, HeaderValue::from_str(host)?);
    for (name, value) in spec.headers {
        headers.insert(
            http::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| ClientError::Build(e.into()))?,
            HeaderValue::from_str(value)?,
        );
    }
    let params = SigningParams {
        credentials: &signer.credentials,
        region: &signer.region,
        service: spec.service,
        time: Timestamp::now(),
    };
    sign_request(
        spec.method,
        spec.path,
        spec.query,
        &mut headers,
        spec.payload_hash,
        &params,
    )?;
    let uri = if spec.query.is_empty() {
        spec.path.to_string()
    } else {
        format!("{}?{}", spec.path, spec.query)
    };
    let mut request = Request::builder()
        .method(spec.method)
        .uri(uri)
        .body(Full::new(spec.body.clone()))?;
    *request.headers_mut() = headers;
    Ok(request)
}

async fn send_and_read(
    sender: &mut SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
    keep_body: bool,
) -> Result<Answer, ClientError> {
    let response = sender.send_request(request).await?;
    let status = response.status();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let server_side_encryption = header("x-amz-server-side-encryption");
    let server_timing = header("server-timing");
    let mut body = response.into_body();
    let mut body_len = 0u64;
    let mut kept = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            body_len += data.len() as u64;
            if keep_body {
                kept.extend_from_slice(&data);
            }
        }
    }
    Ok(Answer {
        status,
        body_len,
        body: keep_body.then(|| Bytes::from(kept)),
        server_side_encryption,
        server_timing,
    })
}

/// Resolves an `http://host:port` endpoint, accepting only loopback addresses.
pub fn parse_endpoint(url: &str) -> Result<Endpoint, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("endpoint `{url}` must start with http://"))?;
    let authority = rest.trim_end_matches('/');
    if authority.contains('/') {
        return Err(format!("endpoint `{url}` must not have a path"));
    }
    let with_port = if authority.rsplit_once(':').is_some_and(|(h, p)| {
        !h.is_empty() && !p.is_empty() && p.chars().all(|c| c.is_ascii_digit())
    }) {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let lookup = with_port.replacen("localhost:", "127.0.0.1:", 1);
    let addr: SocketAddr = lookup.parse().map_err(|_| {
        format!("endpoint `{url}`: expected an IP address or localhost with a port")
    })?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "endpoint `{url}` is not a loopback address; this tool only loads local servers"
        ));
    }
    Ok(Endpoint {
        addr,
        host: authority.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_endpoints_only() {
        let e = parse_endpoint("http://127.0.0.1:9000").unwrap();
        assert_eq!(e.addr, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(e.host, "127.0.0.1:9000");
        let e = parse_endpoint("http://localhost:9001/").unwrap();
        assert_eq!(e.addr.port(), 9001);
        assert_eq!(e.host, "localhost:9001");
        assert!(parse_endpoint("http://[::1]:9000").is_ok());
        assert!(parse_endpoint("http://10.0.0.1:9000").is_err());
        assert!(parse_endpoint("https://127.0.0.1:9000").is_err());
        assert!(parse_endpoint("http://example.com:9000").is_err());
        assert!(parse_endpoint("http://127.0.0.1:9000/bucket").is_err());
    }

    #[test]
    fn signed_request_has_host_and_authorization() {
        let signer = Signer {
            credentials: Credentials::new("AKIDEXAMPLE", "secret"),
            region: "us-east-1".into(),
        };
        let spec = RequestSpec {
            method: "PUT",
            path: "/b/k",
            query: "",
            service: "s3",
            headers: &[("content-type", "application/octet-stream")],
            body: Bytes::from_static(b"abc"),
            payload_hash: "UNSIGNED-PAYLOAD",
        };
        let request = build_signed("127.0.0.1:9000", &signer, &spec).unwrap();
        assert_eq!(request.uri(), "/b/k");
        let auth = request.headers()["authorization"].to_str().unwrap();
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
        assert!(auth.contains("SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date"));
        assert_eq!(
            request.headers()["x-amz-content-sha256"],
            "UNSIGNED-PAYLOAD"
        );
    }
}
