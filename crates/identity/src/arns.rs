//! ARNs of IAM, STS and Organizations entities.

pub fn user(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:user{path}{name}")
}

pub fn group(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:group{path}{name}")
}

pub fn role(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role{path}{name}")
}

pub fn policy(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:policy{path}{name}")
}

pub fn root(account: &str) -> String {
    format!("arn:aws:iam::{account}:root")
}

/// `arn:aws:sts::A:assumed-role/ROLE/SESSION` (the role's path is not part of it).
pub fn assumed_role(account: &str, role_name: &str, session: &str) -> String {
    format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session}")
}

/// `arn:aws:sts::A:federated-user/NAME`.
pub fn federated_user(account: &str, name: &str) -> String {
    format!("arn:aws:sts::{account}:federated-user/{name}")
}

/// The parts of an IAM ARN: account, resource type, path and name.
/// `arn:aws:iam::123:user/div/alice` → `("123", "user", "/div/", "alice")`.
pub fn parse_iam(arn: &str) -> Option<(&str, &str, String, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let (kind, tail) = resource.split_once('/')?;
    let (dirs, name) = match tail.rsplit_once('/') {
        Some((dirs, name)) => (format!("/{dirs}/"), name),
        None => ("/".to_string(), tail),
    };
    if name.is_empty() {
        return None;
    }
    Some((account, kind, dirs, name))
}

pub fn org(management: &str, org_id: &str) -> String {
    format!("arn:aws:organizations::{management}:organization/{org_id}")
}

pub fn org_root(management: &str, org_id: &str, root_id: &str) -> String {
    format!("arn:aws:organizations::{management}:root/{org_id}/{root_id}")
}

pub fn org_ou(management: &str, org_id: &str, ou_id: &str) -> String {
    format!("arn:aws:organizations::{management}:ou/{org_id}/{ou_id}")
}

pub fn org_account(management: &str, org_id: &str, account: &str) -> String {
    format!("arn:aws:organizations::{management}:account/{org_id}/{account}")
}

/// SCP ARNs: AWS managed ones live under the `aws` account.
pub fn org_policy(management: &str, org_id: &str, policy_id: &str, aws_managed: bool) -> String {
    if aws_managed {
        format!("arn:aws:organizations::aws:policy/service_control_policy/{policy_id}")
    } else {
        format!("arn:aws:organizations::{management}:policy/{org_id}/service_control_policy/{policy_id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        assert_eq!(
            parse_iam("arn:aws:iam::123456789012:user/div/team/alice"),
            Some(("123456789012", "user", "/div/team/".to_string(), "alice"))
        );
        assert_eq!(
            parse_iam("arn:aws:iam::123456789012:role/r"),
            Some(("123456789012", "role", "/".to_string(), "r"))
        );
        assert_eq!(parse_iam("arn:aws:iam::123456789012:root"), None);
        assert_eq!(parse_iam("arn:aws:s3:::b"), None);
        assert_eq!(user("1", "/", "a"), "arn:aws:iam::1:user/a");
    }
}
