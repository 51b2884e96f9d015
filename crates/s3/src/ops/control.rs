//! S3 Control: the account-level Block Public Access configuration
//! (`/v20180820/configuration/publicAccessBlock`, header `x-amz-account-id`).

use http::{Method, Response};

use crate::authorization::{check, Op};
use crate::body::S3Body;
use crate::config::PublicAccessBlock;
use crate::error::{Failure, S3Error, S3Result};
use crate::response::Reply;
use crate::{S3Request, S3Service};

/// The path of the account-level public access block configuration.
const PAB_PATH: &str = "v20180820/configuration/publicAccessBlock";

/// The S3 Control XML namespace.
pub const CONTROL_NS: &str = "http://awss3control.amazonaws.com/doc/2018-08-20/";

impl S3Service {
    pub(crate) async fn control(&self, req: &mut S3Request) -> S3Result<Response<S3Body>> {
        // The only S3 Control operation served is the account's public access block;
        // a request without a path (`key: None`) is taken to address it.
        let path = req.key.clone().unwrap_or_else(|| PAB_PATH.to_string());
        let path = path.trim_start_matches('/').trim_end_matches('/');
        if path != PAB_PATH {
            return Err(S3Error::NotImplemented(
                "This S3 Control operation is not implemented by this server".into(),
            )
            .into());
        }
        let op = match req.method {
            Method::GET => Op::GetAccountPublicAccessBlock,
            Method::PUT => Op::PutAccountPublicAccessBlock,
            Method::DELETE => Op::DeleteAccountPublicAccessBlock,
            _ => return Err(S3Error::MethodNotAllowed.into()),
        };
        let account = req
            .header("x-amz-account-id")
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| {
                S3Error::InvalidRequest("Missing required header: x-amz-account-id".into())
            })?
            .to_string();
        if account != req.caller.account_id {
            return Err(S3Error::AccessDenied("Access Denied".into()).into());
        }
        let ctx = crate::authorization::context(op, req, None);
        check(
            req,
            crate::authorization::action(op, false),
            None,
            None,
            None,
            ctx,
        )?;
        let reply = match op {
            Op::GetAccountPublicAccessBlock => {
                let p = self
                    .store
                    .meta
                    .get_account_public_access_block(&account)?
                    .and_then(|s| PublicAccessBlock::from_json(&s))
                    .ok_or_else(|| {
                        Failure::from(S3Error::NoSuchPublicAccessBlockConfiguration)
                            .with("AccountId", &account)
                    })?;
                Reply::ok().xml(p.to_xml(CONTROL_NS))
            }
            Op::PutAccountPublicAccessBlock => {
                let body = req
                    .body
                    .collect(super::MAX_XML_BODY, S3Error::MalformedXml)
                    .await?;
                let doc = crate::xml::parse(&body)?;
                let p = PublicAccessBlock::parse(&doc)?;
                self.store
                    .meta
                    .set_account_public_access_block(&account, Some(&p.to_json()))?;
                Reply::ok()
            }
            _ => {
                self.store
                    .meta
                    .set_account_public_access_block(&account, None)?;
                Reply::no_content()
            }
        };
        Ok(reply.build())
    }
}
