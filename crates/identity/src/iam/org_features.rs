//! Centralized root access: EnableOrganizationsRootCredentialsManagement,
//! EnableOrganizationsRootSessions, ListOrganizationsFeatures.
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_EnableOrganizationsRootSessions.html>

use super::{Ctx, OpResult};
use crate::error::IdentityError;
use crate::model::Organization;
use crate::query::Xml;

/// Which centralized-root-access feature to enable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    Credentials,
    Sessions,
}

/// The IAM service principal that needs trusted access in Organizations.
pub const IAM_SERVICE_PRINCIPAL: &str = "iam.amazonaws.com";

fn features_xml(x: &mut Xml, org: &Organization) {
    x.text("OrganizationId", &org.id).open("EnabledFeatures");
    if org.root_credentials_management {
        x.text("member", "RootCredentialsManagement");
    }
    if org.root_sessions {
        x.text("member", "RootSessions");
    }
    x.close("EnabledFeatures");
}

fn check_org(ctx: &Ctx<'_>, org: Option<&Organization>) -> Result<Organization, IdentityError> {
    let org = org.ok_or_else(|| {
        IdentityError::OrganizationNotFound(
            "The request was rejected because no organization is associated with your account."
                .into(),
        )
    })?;
    if org.management_account != ctx.account {
        return Err(IdentityError::AccountNotManagementOrDelegatedAdministrator(
            "The request was rejected because the account making the request is not the management account or delegated administrator account for centralized root access."
                .into(),
        ));
    }
    if !org.service_access.contains_key(IAM_SERVICE_PRINCIPAL) {
        return Err(IdentityError::ServiceAccessNotEnabled(
            "The request was rejected because trusted access is not enabled for IAM in AWS Organizations. For details, see IAM and AWS Organizations in the AWS Organizations User Guide."
                .into(),
        ));
    }
    Ok(org.clone())
}

/// Enable… (`on`) or Disable… (`!on`) a centralized root access feature.
pub fn set(ctx: &Ctx<'_>, feature: Feature, on: bool) -> OpResult {
    let verb = if on { "Enable" } else { "Disable" };
    let action = match feature {
        Feature::Credentials => format!("iam:{verb}OrganizationsRootCredentialsManagement"),
        Feature::Sessions => format!("iam:{verb}OrganizationsRootSessions"),
    };
    let action = action.as_str();
    ctx.authorize(action, "*", &[])?;
    let org = ctx.id.store.write(|txn| {
        check_org(ctx, txn.get::<Organization>("org"))?;
        let org = txn
            .get_mut::<Organization>("org")
            .ok_or_else(|| IdentityError::ServiceFailure("no org".into()))?;
        match feature {
            Feature::Credentials => org.root_credentials_management = on,
            Feature::Sessions => org.root_sessions = on,
        }
        Ok(org.clone())
    })?;
    let mut x = Xml::new();
    features_xml(&mut x, &org);
    Ok(Some(x))
}

pub fn list(ctx: &Ctx<'_>) -> OpResult {
    ctx.authorize("iam:ListOrganizationsFeatures", "*", &[])?;
    let st = ctx.id.store.snapshot();
    let org = check_org(ctx, st.orgs.get("org"))?;
    let mut x = Xml::new();
    features_xml(&mut x, &org);
    Ok(Some(x))
}
