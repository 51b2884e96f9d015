//! Organizations (JSON 1.1). Placeholder while the first step is committed.

use strongbox_core::{Authorizer, Caller, RequestMeta};

use crate::error::IdentityError;
use crate::{json_error_reply, Identity, JsonReply};

impl Identity {
    /// Serves one Organizations request (`X-Amz-Target: AWSOrganizationsV20161128.<Op>`).
    pub fn handle_organizations(
        &self,
        _caller: &Caller,
        _meta: &RequestMeta,
        _authz: &dyn Authorizer,
        target: &str,
        _body: &[u8],
    ) -> JsonReply {
        json_error_reply(&IdentityError::orgs(
            "UnsupportedAPIEndpointException",
            format!("{target} is not supported yet"),
        ))
    }
}
