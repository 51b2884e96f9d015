//! Which Amazon S3 actions apply to buckets and which to objects, for the
//! PutBucketPolicy check "Action does not apply to any resource(s) in
//! statement" (Service Authorization Reference, "Actions defined by Amazon
//! S3": the resource type column; bucket ARNs are `arn:aws:s3:::bucket`,
//! object ARNs `arn:aws:s3:::bucket/key`).

/// What an action or a resource pattern can refer to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Scope {
    pub(crate) bucket: bool,
    pub(crate) object: bool,
}

const BOTH: Scope = Scope {
    bucket: true,
    object: true,
};
const BUCKET: Scope = Scope {
    bucket: true,
    object: false,
};
const OBJECT: Scope = Scope {
    bucket: false,
    object: true,
};

/// Object-level actions (lower case).
const OBJECT_ACTIONS: &[&str] = &[
    "s3:abortmultipartupload",
    "s3:bypassgovernanceretention",
    "s3:deleteobject",
    "s3:deleteobjecttagging",
    "s3:deleteobjectversion",
    "s3:deleteobjectversiontagging",
    "s3:getobject",
    "s3:getobjectacl",
    "s3:getobjectattributes",
    "s3:getobjectlegalhold",
    "s3:getobjectretention",
    "s3:getobjecttagging",
    "s3:getobjecttorrent",
    "s3:getobjectversion",
    "s3:getobjectversionacl",
    "s3:getobjectversionattributes",
    "s3:getobjectversionforreplication",
    "s3:getobjectversiontagging",
    "s3:getobjectversiontorrent",
    "s3:listmultipartuploadparts",
    "s3:putobject",
    "s3:putobjectacl",
    "s3:putobjectlegalhold",
    "s3:putobjectretention",
    "s3:putobjecttagging",
    "s3:putobjectversionacl",
    "s3:putobjectversiontagging",
    "s3:replicatedelete",
    "s3:replicateobject",
    "s3:replicatetags",
    "s3:restoreobject",
    "s3:objectowneroverridetobucketowner",
    "s3:initiatereplication",
];

/// Bucket-level actions that do not follow the `*Bucket*` naming (lower case).
const BUCKET_ACTIONS: &[&str] = &[
    "s3:createbucket",
    "s3:getaccelerateconfiguration",
    "s3:getanalyticsconfiguration",
    "s3:getencryptionconfiguration",
    "s3:getintelligenttieringconfiguration",
    "s3:getinventoryconfiguration",
    "s3:getlifecycleconfiguration",
    "s3:getmetricsconfiguration",
    "s3:getreplicationconfiguration",
    "s3:putaccelerateconfiguration",
    "s3:putanalyticsconfiguration",
    "s3:putencryptionconfiguration",
    "s3:putintelligenttieringconfiguration",
    "s3:putinventoryconfiguration",
    "s3:putlifecycleconfiguration",
    "s3:putmetricsconfiguration",
    "s3:putreplicationconfiguration",
    "s3:listbucketmultipartuploads",
];

/// The scope of one action name as written; wildcards and unknown names may apply to both.
pub(crate) fn action_scope(action: &str) -> Scope {
    let a = action.to_ascii_lowercase();
    if a.contains(['*', '?']) {
        return BOTH;
    }
    if OBJECT_ACTIONS.iter().any(|x| x.eq_ignore_ascii_case(&a)) {
        return OBJECT;
    }
    if BUCKET_ACTIONS.contains(&a.as_str()) || a.contains("bucket") {
        return BUCKET;
    }
    BOTH
}

/// The scope of one bucket-policy resource pattern.
pub(crate) fn resource_scope(resource: &str) -> Scope {
    let Some(rest) = resource.strip_prefix("arn:aws:s3:::") else {
        return BOTH;
    };
    if rest.contains('/') {
        OBJECT
    } else if rest.contains('*') {
        BOTH
    } else {
        BUCKET
    }
}

/// Whether at least one action applies to at least one resource.
pub(crate) fn any_applies(actions: &[String], resources: &[String]) -> bool {
    actions.iter().map(|a| action_scope(a)).any(|a| {
        resources
            .iter()
            .map(|r| resource_scope(r))
            .any(|r| (a.bucket && r.bucket) || (a.object && r.object))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn scopes() {
        assert!(any_applies(
            &v(&["s3:GetObject"]),
            &v(&["arn:aws:s3:::b/*"])
        ));
        assert!(!any_applies(&v(&["s3:GetObject"]), &v(&["arn:aws:s3:::b"])));
        assert!(!any_applies(
            &v(&["s3:ListBucket"]),
            &v(&["arn:aws:s3:::b/*"])
        ));
        assert!(any_applies(
            &v(&["s3:ListBucket", "s3:GetObject"]),
            &v(&["arn:aws:s3:::b/*"])
        ));
        assert!(any_applies(&v(&["s3:*"]), &v(&["arn:aws:s3:::b"])));
        assert!(any_applies(
            &v(&["s3:PutLifecycleConfiguration"]),
            &v(&["arn:aws:s3:::b"])
        ));
        assert!(any_applies(&v(&["s3:GetObject"]), &v(&["arn:aws:s3:::b*"])));
    }
}
