//! Access control lists: the stored model, canned ACLs, `x-amz-grant-*`
//! headers and `AccessControlPolicy` XML.
//!
//! Amazon S3 User Guide, "Access control list (ACL) overview": grantees are
//! canonical users or the predefined groups; permissions READ, WRITE,
//! READ_ACP, WRITE_ACP, FULL_CONTROL; canned ACLs expand to fixed grant sets.

use http::HeaderMap;

use crate::error::S3Error;
use crate::xml::{Element, XmlWriter};

pub const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
pub const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
pub const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// A permission an ACL grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Permission {
    FullControl,
    Read,
    Write,
    ReadAcp,
    WriteAcp,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::FullControl => "FULL_CONTROL",
            Permission::Read => "READ",
            Permission::Write => "WRITE",
            Permission::ReadAcp => "READ_ACP",
            Permission::WriteAcp => "WRITE_ACP",
        }
    }

    pub fn parse(s: &str) -> Option<Permission> {
        match s.trim() {
            "FULL_CONTROL" => Some(Permission::FullControl),
            "READ" => Some(Permission::Read),
            "WRITE" => Some(Permission::Write),
            "READ_ACP" => Some(Permission::ReadAcp),
            "WRITE_ACP" => Some(Permission::WriteAcp),
            _ => None,
        }
    }
}

/// Who a grant is for.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Grantee {
    /// A canonical user id and, when known, its account.
    CanonicalUser {
        id: String,
        account_id: Option<String>,
    },
    /// A predefined group URI.
    Group(String),
}

/// One grant.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Grant {
    pub grantee: Grantee,
    pub permission: Permission,
}

/// An ACL: the owning account and its grants.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Acl {
    pub owner_account: String,
    pub grants: Vec<Grant>,
}

/// The canned ACLs (`x-amz-acl`).
pub const CANNED: [&str; 8] = [
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
    "log-delivery-write",
];

/// Looks up canonical ids of accounts (the [`crate::S3Access`] hooks).
pub trait CanonicalIds {
    fn canonical_of(&self, account_id: &str) -> String;
    fn account_of(&self, canonical_id: &str) -> Option<String>;
}

fn user(ids: &dyn CanonicalIds, account: &str) -> Grantee {
    Grantee::CanonicalUser {
        id: ids.canonical_of(account),
        account_id: Some(account.to_string()),
    }
}

impl Acl {
    /// `private`: the owner has FULL_CONTROL.
    pub fn private(ids: &dyn CanonicalIds, owner_account: &str) -> Acl {
        Acl::canned(ids, "private", owner_account, owner_account).unwrap_or(Acl {
            owner_account: owner_account.to_string(),
            grants: Vec::new(),
        })
    }

    /// Expands a canned ACL for a resource owned by `owner_account` in a bucket of `bucket_owner`.
    pub fn canned(
        ids: &dyn CanonicalIds,
        name: &str,
        owner_account: &str,
        bucket_owner: &str,
    ) -> Option<Acl> {
        let mut grants = vec![Grant {
            grantee: user(ids, owner_account),
            permission: Permission::FullControl,
        }];
        let group = |uri: &str, permission| Grant {
            grantee: Grantee::Group(uri.to_string()),
            permission,
        };
        match name {
            "private" | "aws-exec-read" => {}
            "public-read" => grants.push(group(ALL_USERS, Permission::Read)),
            "public-read-write" => {
                grants.push(group(ALL_USERS, Permission::Read));
                grants.push(group(ALL_USERS, Permission::Write));
            }
            "authenticated-read" => grants.push(group(AUTHENTICATED_USERS, Permission::Read)),
            "bucket-owner-read" => {
                if bucket_owner != owner_account {
                    grants.push(Grant {
                        grantee: user(ids, bucket_owner),
                        permission: Permission::Read,
                    });
                }
            }
            "bucket-owner-full-control" => {
                if bucket_owner != owner_account {
                    grants.push(Grant {
                        grantee: user(ids, bucket_owner),
                        permission: Permission::FullControl,
                    });
                }
            }
            "log-delivery-write" => {
                grants.push(group(LOG_DELIVERY, Permission::Write));
                grants.push(group(LOG_DELIVERY, Permission::ReadAcp));
            }
            _ => return None,
        }
        Some(Acl {
            owner_account: owner_account.to_string(),
            grants,
        })
    }

    /// Whether the ACL grants anything to AllUsers or AuthenticatedUsers.
    pub fn is_public(&self) -> bool {
        self.grants
            .iter()
            .any(|g| matches!(&g.grantee, Grantee::Group(u) if u == ALL_USERS || u == AUTHENTICATED_USERS))
    }

    /// Whether the ACL only gives the owner FULL_CONTROL (allowed when ACLs are disabled).
    pub fn is_owner_full_control_only(&self, owner_canonical: &str) -> bool {
        self.grants.iter().all(|g| {
            g.permission == Permission::FullControl
                && matches!(&g.grantee, Grantee::CanonicalUser { id, .. } if id == owner_canonical)
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(s: &str) -> Option<Acl> {
        serde_json::from_str(s).ok()
    }

    /// The `AccessControlPolicy` document.
    pub fn to_xml(&self, ids: &dyn CanonicalIds) -> String {
        let mut w = XmlWriter::new("AccessControlPolicy");
        w.open("Owner")
            .elem("ID", &ids.canonical_of(&self.owner_account))
            .close("Owner");
        w.open("AccessControlList");
        for g in &self.grants {
            w.open("Grant");
            match &g.grantee {
                Grantee::CanonicalUser { id, .. } => {
                    w.open_with(
                        "Grantee",
                        &format!("xmlns:xsi=\"{XSI}\" xsi:type=\"CanonicalUser\""),
                    );
                    w.elem("ID", id);
                }
                Grantee::Group(uri) => {
                    w.open_with(
                        "Grantee",
                        &format!("xmlns:xsi=\"{XSI}\" xsi:type=\"Group\""),
                    );
                    w.elem("URI", uri);
                }
            }
            w.close("Grantee");
            w.elem("Permission", g.permission.as_str());
            w.close("Grant");
        }
        w.close("AccessControlList");
        w.finish("AccessControlPolicy")
    }
}

fn resolve_grantee(ids: &dyn CanonicalIds, kind: &str, value: &str) -> Result<Grantee, S3Error> {
    match kind {
        "id" | "CanonicalUser" => {
            let account = ids.account_of(value).ok_or(S3Error::InvalidGrantId)?;
            Ok(Grantee::CanonicalUser {
                id: value.to_string(),
                account_id: Some(account),
            })
        }
        "uri" | "Group" => {
            if [ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY].contains(&value) {
                Ok(Grantee::Group(value.to_string()))
            } else {
                Err(S3Error::InvalidArgument("Invalid group uri".into()))
            }
        }
        "emailAddress" | "AmazonCustomerByEmail" => Err(S3Error::UnresolvableGrantByEmailAddress),
        _ => Err(S3Error::InvalidArgument(format!(
            "Argument format not recognized: {kind}"
        ))),
    }
}

/// The `x-amz-grant-*` headers and the permission each grants.
pub const GRANT_HEADERS: [(&str, Permission); 5] = [
    ("x-amz-grant-read", Permission::Read),
    ("x-amz-grant-write", Permission::Write),
    ("x-amz-grant-read-acp", Permission::ReadAcp),
    ("x-amz-grant-write-acp", Permission::WriteAcp),
    ("x-amz-grant-full-control", Permission::FullControl),
];

/// Whether the request carries `x-amz-acl` or any `x-amz-grant-*` header.
pub fn has_acl_headers(headers: &HeaderMap) -> bool {
    headers.contains_key("x-amz-acl") || GRANT_HEADERS.iter().any(|(h, _)| headers.contains_key(*h))
}

/// The ACL requested by headers (`x-amz-acl` or `x-amz-grant-*`), if any.
/// Both at once is InvalidRequest, as in AWS.
pub fn acl_from_headers(
    headers: &HeaderMap,
    ids: &dyn CanonicalIds,
    owner_account: &str,
    bucket_owner: &str,
) -> Result<Option<Acl>, S3Error> {
    let canned = headers
        .get("x-amz-acl")
        .map(|v| v.to_str().unwrap_or("").trim().to_string());
    let has_grants = GRANT_HEADERS.iter().any(|(h, _)| headers.contains_key(*h));
    if canned.is_some() && has_grants {
        return Err(S3Error::InvalidRequest(
            "Specifying both Canned ACLs and Header Grants is not allowed".into(),
        ));
    }
    if let Some(name) = canned {
        return Acl::canned(ids, &name, owner_account, bucket_owner)
            .map(Some)
            .ok_or_else(|| S3Error::InvalidArgument(String::new()));
    }
    if !has_grants {
        return Ok(None);
    }
    let mut grants = Vec::new();
    for (header, permission) in GRANT_HEADERS {
        for value in headers.get_all(header) {
            let value = value
                .to_str()
                .map_err(|_| S3Error::InvalidArgument("Invalid grant header".into()))?;
            for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let (kind, v) = item.split_once('=').ok_or_else(|| {
                    S3Error::InvalidArgument(format!("Argument format not recognized: {item}"))
                })?;
                let v = v.trim().trim_matches('"');
                grants.push(Grant {
                    grantee: resolve_grantee(ids, kind.trim(), v)?,
                    permission,
                });
            }
        }
    }
    Ok(Some(Acl {
        owner_account: owner_account.to_string(),
        grants,
    }))
}

/// Whether a requested ACL is accepted when ACLs are disabled (BucketOwnerEnforced).
///
/// Amazon S3 User Guide, "Controlling ownership of objects and disabling ACLs":
/// the bucket "accepts only PUT requests that do not specify an ACL or PUT
/// requests with bucket owner full control ACLs, such as the
/// bucket-owner-full-control canned ACL or equivalent forms of this ACL
/// expressed in the XML format". Canned ACLs are judged by name (so
/// `bucket-owner-read` is refused even when it expands to the same grants);
/// `private` is accepted as the owner-only ACL.
pub fn allowed_when_acls_disabled(headers: &HeaderMap, acl: &Acl, owner_canonical: &str) -> bool {
    match headers
        .get("x-amz-acl")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
    {
        Some(canned) => canned == "bucket-owner-full-control" || canned == "private",
        None => acl.is_owner_full_control_only(owner_canonical),
    }
}

/// Parses an `AccessControlPolicy` body for a resource owned by `owner_account`.
pub fn acl_from_xml(
    doc: &Element,
    ids: &dyn CanonicalIds,
    owner_account: &str,
) -> Result<Acl, S3Error> {
    if doc.name != "AccessControlPolicy" {
        return Err(S3Error::MalformedAcl);
    }
    doc.child("Owner")
        .and_then(|o| o.text_of("ID"))
        .ok_or(S3Error::MalformedAcl)?;
    let list = doc
        .child("AccessControlList")
        .ok_or(S3Error::MalformedAcl)?;
    let mut grants = Vec::new();
    for g in list.children_named("Grant") {
        let grantee = g.child("Grantee").ok_or(S3Error::MalformedAcl)?;
        let permission = g
            .text_of("Permission")
            .and_then(Permission::parse)
            .ok_or(S3Error::MalformedAcl)?;
        let kind = grantee.attr("type").unwrap_or("");
        let value = match kind {
            "CanonicalUser" => grantee.text_of("ID"),
            "Group" => grantee.text_of("URI"),
            "AmazonCustomerByEmail" => grantee.text_of("EmailAddress"),
            _ => None,
        }
        .ok_or(S3Error::MalformedAcl)?;
        grants.push(Grant {
            grantee: resolve_grantee(ids, kind, value.trim())?,
            permission,
        });
    }
    Ok(Acl {
        owner_account: owner_account.to_string(),
        grants,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Ids;
    impl CanonicalIds for Ids {
        fn canonical_of(&self, account_id: &str) -> String {
            format!("c{account_id}")
        }
        fn account_of(&self, canonical_id: &str) -> Option<String> {
            canonical_id.strip_prefix('c').map(str::to_string)
        }
    }

    #[test]
    fn canned_expansions() {
        let a = Acl::canned(&Ids, "public-read", "1", "1").unwrap();
        assert_eq!(a.grants.len(), 2);
        assert!(a.is_public());
        let b = Acl::canned(&Ids, "bucket-owner-full-control", "1", "2").unwrap();
        assert_eq!(
            b.grants[1].grantee,
            Grantee::CanonicalUser {
                id: "c2".into(),
                account_id: Some("2".into())
            }
        );
        assert!(!b.is_public());
        assert!(Acl::canned(&Ids, "private", "1", "1")
            .unwrap()
            .is_owner_full_control_only("c1"));
        assert!(!Acl::canned(&Ids, "log-delivery-write", "1", "1")
            .unwrap()
            .is_owner_full_control_only("c1"));
        assert!(Acl::canned(&Ids, "bogus", "1", "1").is_none());
    }

    #[test]
    fn grant_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-amz-grant-read",
            "id=\"c5\", uri=\"http://acs.amazonaws.com/groups/global/AllUsers\""
                .parse()
                .unwrap(),
        );
        let acl = acl_from_headers(&h, &Ids, "1", "1").unwrap().unwrap();
        assert_eq!(acl.grants.len(), 2);
        assert!(acl.is_public());
        h.insert("x-amz-acl", "private".parse().unwrap());
        assert!(matches!(
            acl_from_headers(&h, &Ids, "1", "1"),
            Err(S3Error::InvalidRequest(_))
        ));
        let mut e = HeaderMap::new();
        e.insert(
            "x-amz-grant-write",
            "emailAddress=\"a@b.c\"".parse().unwrap(),
        );
        assert!(matches!(
            acl_from_headers(&e, &Ids, "1", "1"),
            Err(S3Error::UnresolvableGrantByEmailAddress)
        ));
        let mut bad = HeaderMap::new();
        bad.insert("x-amz-grant-write", "id=\"zzz\"".parse().unwrap());
        assert!(matches!(
            acl_from_headers(&bad, &Ids, "1", "1"),
            Err(S3Error::InvalidGrantId)
        ));
    }

    #[test]
    fn xml_round_trip() {
        let acl = Acl::canned(&Ids, "public-read-write", "1", "1").unwrap();
        let xml = acl.to_xml(&Ids);
        let doc = crate::xml::parse(xml.as_bytes()).unwrap();
        assert_eq!(acl_from_xml(&doc, &Ids, "1").unwrap(), acl);
        let no_perm = crate::xml::parse(b"<AccessControlPolicy><Owner><ID>c1</ID></Owner><AccessControlList><Grant><Grantee xmlns:xsi=\"x\" xsi:type=\"Group\"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>ALL</Permission></Grant></AccessControlList></AccessControlPolicy>").unwrap();
        assert!(matches!(
            acl_from_xml(&no_perm, &Ids, "1"),
            Err(S3Error::MalformedAcl)
        ));
    }
}
