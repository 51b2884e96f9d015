//! Setting up the server for a run: buckets, an IAM user with identity policies and
//! an access key (IAM Query protocol), and a bucket policy.
//!
//! IAM Query API: <https://docs.aws.amazon.com/IAM/latest/APIReference/CommonParameters.html>

use bytes::Bytes;
use strongbox_sigv4::crypto::sha256_hex;
use strongbox_sigv4::encoding::uri_encode;
use strongbox_sigv4::sign::Credentials;

use crate::client::{Answer, Connection, RequestSpec, Signer};

/// A setup step failed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Client(#[from] crate::client::ClientError),
    #[error("{what}: HTTP {status}: {body}")]
    Rejected {
        what: String,
        status: u16,
        body: String,
    },
    #[error("{what}: no <{element}> in the answer")]
    Missing { what: String, element: &'static str },
}

fn check(what: &str, answer: Answer) -> Result<String, SetupError> {
    let body = answer
        .body
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    if answer.status.is_success() {
        Ok(body)
    } else {
        Err(SetupError::Rejected {
            what: what.to_string(),
            status: answer.status.as_u16(),
            body,
        })
    }
}

/// Creates `bucket` (an existing bucket we own is fine).
pub async fn create_bucket(
    connection: &mut Connection,
    signer: &Signer,
    bucket: &str,
) -> Result<(), SetupError> {
    let path = format!("/{bucket}");
    let spec = RequestSpec {
        method: "PUT",
        path: &path,
        query: "",
        service: "s3",
        headers: &[],
        body: Bytes::new(),
        payload_hash: &sha256_hex(b""),
    };
    let answer = connection.send(signer, &spec, true).await?;
    let owned = answer.status == http::StatusCode::CONFLICT
        && answer
            .body
            .as_ref()
            .is_some_and(|b| String::from_utf8_lossy(b).contains("BucketAlreadyOwnedByYou"));
    if owned {
        return Ok(());
    }
    check(&format!("CreateBucket {bucket}"), answer).map(|_| ())
}

/// Sets the bucket policy of `bucket`.
pub async fn put_bucket_policy(
    connection: &mut Connection,
    signer: &Signer,
    bucket: &str,
    policy: &str,
) -> Result<(), SetupError> {
    let path = format!("/{bucket}");
    let body = Bytes::from(policy.to_string());
    let spec = RequestSpec {
        method: "PUT",
        path: &path,
        query: "policy=",
        service: "s3",
        headers: &[("content-type", "application/json")],
        payload_hash: &sha256_hex(&body),
        body,
    };
    let answer = connection.send(signer, &spec, true).await?;
    check(&format!("PutBucketPolicy {bucket}"), answer).map(|_| ())
}

/// Encodes IAM Query parameters as a form body (with `Version`).
pub fn form_body(params: &[(&str, &str)]) -> String {
    let mut parts: Vec<String> = params
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                uri_encode(k.as_bytes(), false),
                uri_encode(v.as_bytes(), false)
            )
        })
        .collect();
    parts.push("Version=2010-05-08".to_string());
    parts.join("&")
}

/// Calls an IAM action with a signed Query-protocol POST; returns the XML answer.
pub async fn iam_call(
    connection: &mut Connection,
    signer: &Signer,
    params: &[(&str, &str)],
) -> Result<String, SetupError> {
    let body = Bytes::from(form_body(params));
    let action = params
        .iter()
        .find(|(k, _)| *k == "Action")
        .map(|(_, v)| *v)
        .unwrap_or("IAM");
    let spec = RequestSpec {
        method: "POST",
        path: "/",
        query: "",
        service: "iam",
        headers: &[(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )],
        payload_hash: &sha256_hex(&body),
        body,
    };
    let answer = connection.send(signer, &spec, true).await?;
    check(action, answer)
}

/// The text of the first `<element>` in `xml` (enough for IAM's flat answers).
pub fn xml_text<'a>(xml: &'a str, element: &str) -> Option<&'a str> {
    let open = format!("<{element}>");
    let close = format!("</{element}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some(&xml[start..end])
}

/// Creates a symmetric customer managed KMS key (default key policy) with a signed
/// JSON 1.1 `TrentService.CreateKey` call; returns its key id.
///
/// <https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html>
pub async fn create_kms_key(
    connection: &mut Connection,
    signer: &Signer,
) -> Result<String, SetupError> {
    let body = Bytes::from_static(br#"{"Description":"strongbox-bench SSE-KMS"}"#);
    let spec = RequestSpec {
        method: "POST",
        path: "/",
        query: "",
        service: "kms",
        headers: &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "TrentService.CreateKey"),
        ],
        payload_hash: &sha256_hex(&body),
        body,
    };
    let answer = connection.send(signer, &spec, true).await?;
    let text = check("CreateKey", answer)?;
    let missing = || SetupError::Missing {
        what: "CreateKey".into(),
        element: "KeyMetadata.KeyId",
    };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|_| missing())?;
    value["KeyMetadata"]["KeyId"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(missing)
}

/// An IAM user made for the benchmark.
pub struct BenchUser {
    pub arn: String,
    pub credentials: Credentials,
}

/// Creates `user_name` (reusing it if it exists), attaches `policies` as inline
/// identity policies, and creates an access key for it.
pub async fn create_user(
    connection: &mut Connection,
    root: &Signer,
    user_name: &str,
    policies: &[(String, String)],
) -> Result<BenchUser, SetupError> {
    let created = iam_call(
        connection,
        root,
        &[("Action", "CreateUser"), ("UserName", user_name)],
    )
    .await;
    let xml = match created {
        Ok(xml) => xml,
        Err(SetupError::Rejected { body, .. }) if body.contains("EntityAlreadyExists") => {
            iam_call(
                connection,
                root,
                &[("Action", "GetUser"), ("UserName", user_name)],
            )
            .await?
        }
        Err(e) => return Err(e),
    };
    let arn = xml_text(&xml, "Arn")
        .ok_or(SetupError::Missing {
            what: "CreateUser".into(),
            element: "Arn",
        })?
        .to_string();
    for (name, document) in policies {
        iam_call(
            connection,
            root,
            &[
                ("Action", "PutUserPolicy"),
                ("UserName", user_name),
                ("PolicyName", name),
                ("PolicyDocument", document),
            ],
        )
        .await?;
    }
    let xml = iam_call(
        connection,
        root,
        &[("Action", "CreateAccessKey"), ("UserName", user_name)],
    )
    .await?;
    let missing = |element| SetupError::Missing {
        what: "CreateAccessKey".into(),
        element,
    };
    let access_key_id = xml_text(&xml, "AccessKeyId").ok_or_else(|| missing("AccessKeyId"))?;
    let secret = xml_text(&xml, "SecretAccessKey").ok_or_else(|| missing("SecretAccessKey"))?;
    Ok(BenchUser {
        arn,
        credentials: Credentials::new(access_key_id, secret),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding() {
        let body = form_body(&[
            ("Action", "PutUserPolicy"),
            ("PolicyDocument", "{\"a\": \"b/*\"}"),
        ]);
        assert_eq!(
            body,
            "Action=PutUserPolicy&PolicyDocument=%7B%22a%22%3A%20%22b%2F%2A%22%7D&Version=2010-05-08"
        );
    }

    #[test]
    fn xml_extraction() {
        let xml = "<CreateUserResponse><CreateUserResult><User><UserName>u</UserName>\
                   <Arn>arn:aws:iam::123456789012:user/u</Arn></User></CreateUserResult></CreateUserResponse>";
        assert_eq!(
            xml_text(xml, "Arn"),
            Some("arn:aws:iam::123456789012:user/u")
        );
        assert_eq!(xml_text(xml, "UserName"), Some("u"));
        assert_eq!(xml_text(xml, "AccessKeyId"), None);
    }
}
