//! Rendering errors in each service's protocol. The AWS code and HTTP status come
//! from the error type (`strongbox_core::AwsError`); this module only chooses the
//! envelope: S3 XML, Query-protocol XML (IAM, STS) or JSON 1.1 (KMS, Organizations).

use bytes::Bytes;
use http::{header, Response, StatusCode};

use crate::body::{self, ResponseBody};

/// The protocol family a request was routed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// S3 and S3 Control: `<Error><Code/><Message/>…</Error>`.
    RestXml,
    /// IAM and STS: `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
    Query,
    /// KMS and Organizations: `{"__type": …, "message": …}`.
    Json,
}

/// Escapes text for XML element content.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// One error to send: AWS's code, HTTP status and message.
pub struct ErrorSpec<'a> {
    pub status: u16,
    pub code: &'a str,
    pub message: &'a str,
    /// Extra XML elements (S3 only; e.g. `StringToSign` for SignatureDoesNotMatch).
    pub extra: &'a [(&'a str, String)],
}

impl<'a> ErrorSpec<'a> {
    /// An error without extra elements.
    pub fn new(status: u16, code: &'a str, message: &'a str) -> ErrorSpec<'a> {
        ErrorSpec {
            status,
            code,
            message,
            extra: &[],
        }
    }
}

/// An error response in `protocol`. HEAD responses carry no body.
pub fn render(
    protocol: Protocol,
    spec: &ErrorSpec<'_>,
    request_id: &str,
    head: bool,
) -> Response<ResponseBody> {
    let (status, code, message, extra) = (spec.status, spec.code, spec.message, spec.extra);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (content_type, text) = match protocol {
        Protocol::RestXml => {
            let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
            s.push_str(&format!(
                "<Code>{}</Code><Message>{}</Message>",
                xml_escape(code),
                xml_escape(message)
            ));
            for (name, value) in extra {
                s.push_str(&format!("<{name}>{}</{name}>", xml_escape(value)));
            }
            s.push_str(&format!(
                "<RequestId>{}</RequestId><HostId>{}</HostId></Error>",
                request_id,
                strongbox_s3::host_id(request_id)
            ));
            ("application/xml", s)
        }
        Protocol::Query => {
            let kind = if status.is_server_error() {
                "Receiver"
            } else {
                "Sender"
            };
            let s = format!(
                "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                xml_escape(code),
                xml_escape(message)
            );
            ("text/xml", s)
        }
        Protocol::Json => {
            let s = serde_json::json!({ "__type": code, "message": message, "Message": message })
                .to_string();
            ("application/x-amz-json-1.1", s)
        }
    };
    let body = if head {
        body::empty()
    } else {
        body::full(Bytes::from(text))
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    if !head {
        if let Ok(v) = content_type.parse() {
            resp.headers_mut().insert(header::CONTENT_TYPE, v);
        }
    }
    resp
}
