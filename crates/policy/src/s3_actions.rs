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

/// Every Amazon S3 action (lower case, sorted), from the Service
/// Authorization Reference, "Actions defined by Amazon S3". S3 refuses a
/// bucket policy naming another action ("Policy has invalid action").
const KNOWN_ACTIONS: &[&str] = &[
    "s3:abortmultipartupload",
    "s3:associateaccessgrantsidentitycenter",
    "s3:bypassgovernanceretention",
    "s3:createaccessgrant",
    "s3:createaccessgrantsinstance",
    "s3:createaccessgrantslocation",
    "s3:createaccesspoint",
    "s3:createaccesspointforobjectlambda",
    "s3:createbucket",
    "s3:createbucketmetadatatableconfiguration",
    "s3:createjob",
    "s3:createmultiregionaccesspoint",
    "s3:createstoragelensgroup",
    "s3:deleteaccessgrant",
    "s3:deleteaccessgrantsinstance",
    "s3:deleteaccessgrantsinstanceresourcepolicy",
    "s3:deleteaccessgrantslocation",
    "s3:deleteaccesspoint",
    "s3:deleteaccesspointforobjectlambda",
    "s3:deleteaccesspointpolicy",
    "s3:deleteaccesspointpolicyforobjectlambda",
    "s3:deletebucket",
    "s3:deletebucketmetadatatableconfiguration",
    "s3:deletebucketownershipcontrols",
    "s3:deletebucketpolicy",
    "s3:deletebucketwebsite",
    "s3:deletejobtagging",
    "s3:deletemultiregionaccesspoint",
    "s3:deleteobject",
    "s3:deleteobjecttagging",
    "s3:deleteobjectversion",
    "s3:deleteobjectversiontagging",
    "s3:deletestoragelensconfiguration",
    "s3:deletestoragelensconfigurationtagging",
    "s3:deletestoragelensgroup",
    "s3:describejob",
    "s3:describemultiregionaccesspointoperation",
    "s3:dissociateaccessgrantsidentitycenter",
    "s3:getaccelerateconfiguration",
    "s3:getaccessgrant",
    "s3:getaccessgrantsinstance",
    "s3:getaccessgrantsinstanceforprefix",
    "s3:getaccessgrantsinstanceresourcepolicy",
    "s3:getaccessgrantslocation",
    "s3:getaccesspoint",
    "s3:getaccesspointconfigurationforobjectlambda",
    "s3:getaccesspointforobjectlambda",
    "s3:getaccesspointpolicy",
    "s3:getaccesspointpolicyforobjectlambda",
    "s3:getaccesspointpolicystatus",
    "s3:getaccesspointpolicystatusforobjectlambda",
    "s3:getaccountpublicaccessblock",
    "s3:getanalyticsconfiguration",
    "s3:getbucketacl",
    "s3:getbucketcors",
    "s3:getbucketlocation",
    "s3:getbucketlogging",
    "s3:getbucketmetadatatableconfiguration",
    "s3:getbucketnotification",
    "s3:getbucketobjectlockconfiguration",
    "s3:getbucketownershipcontrols",
    "s3:getbucketpolicy",
    "s3:getbucketpolicystatus",
    "s3:getbucketpublicaccessblock",
    "s3:getbucketrequestpayment",
    "s3:getbuckettagging",
    "s3:getbucketversioning",
    "s3:getbucketwebsite",
    "s3:getdataaccess",
    "s3:getencryptionconfiguration",
    "s3:getintelligenttieringconfiguration",
    "s3:getinventoryconfiguration",
    "s3:getjobtagging",
    "s3:getlifecycleconfiguration",
    "s3:getmetricsconfiguration",
    "s3:getmultiregionaccesspoint",
    "s3:getmultiregionaccesspointpolicy",
    "s3:getmultiregionaccesspointpolicystatus",
    "s3:getmultiregionaccesspointroutes",
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
    "s3:getreplicationconfiguration",
    "s3:getstoragelensconfiguration",
    "s3:getstoragelensconfigurationtagging",
    "s3:getstoragelensdashboard",
    "s3:getstoragelensgroup",
    "s3:initiatereplication",
    "s3:listaccessgrants",
    "s3:listaccessgrantsinstances",
    "s3:listaccessgrantslocations",
    "s3:listaccesspoints",
    "s3:listaccesspointsforobjectlambda",
    "s3:listallmybuckets",
    "s3:listbucket",
    "s3:listbucketmultipartuploads",
    "s3:listbucketversions",
    "s3:listcalleraccessgrants",
    "s3:listjobs",
    "s3:listmultipartuploadparts",
    "s3:listmultiregionaccesspoints",
    "s3:liststoragelensconfigurations",
    "s3:liststoragelensgroups",
    "s3:listtagsforresource",
    "s3:objectowneroverridetobucketowner",
    "s3:pausereplication",
    "s3:putaccelerateconfiguration",
    "s3:putaccessgrantsinstanceresourcepolicy",
    "s3:putaccesspointconfigurationforobjectlambda",
    "s3:putaccesspointpolicy",
    "s3:putaccesspointpolicyforobjectlambda",
    "s3:putaccesspointpublicaccessblock",
    "s3:putaccountpublicaccessblock",
    "s3:putanalyticsconfiguration",
    "s3:putbucketacl",
    "s3:putbucketcors",
    "s3:putbucketlogging",
    "s3:putbucketnotification",
    "s3:putbucketobjectlockconfiguration",
    "s3:putbucketownershipcontrols",
    "s3:putbucketpolicy",
    "s3:putbucketpublicaccessblock",
    "s3:putbucketrequestpayment",
    "s3:putbuckettagging",
    "s3:putbucketversioning",
    "s3:putbucketwebsite",
    "s3:putencryptionconfiguration",
    "s3:putintelligenttieringconfiguration",
    "s3:putinventoryconfiguration",
    "s3:putjobtagging",
    "s3:putlifecycleconfiguration",
    "s3:putmetricsconfiguration",
    "s3:putmultiregionaccesspointpolicy",
    "s3:putobject",
    "s3:putobjectacl",
    "s3:putobjectlegalhold",
    "s3:putobjectretention",
    "s3:putobjecttagging",
    "s3:putobjectversionacl",
    "s3:putobjectversiontagging",
    "s3:putreplicationconfiguration",
    "s3:putstoragelensconfiguration",
    "s3:putstoragelensconfigurationtagging",
    "s3:replicatedelete",
    "s3:replicateobject",
    "s3:replicatetags",
    "s3:restoreobject",
    "s3:submitmultiregionaccesspointroutes",
    "s3:tagresource",
    "s3:untagresource",
    "s3:updateaccessgrantslocation",
    "s3:updatebucketmetadatainventorytableconfiguration",
    "s3:updatebucketmetadatajournaltableconfiguration",
    "s3:updatejobpriority",
    "s3:updatejobstatus",
    "s3:updatestoragelensgroup",
];

/// Whether `action` (an `s3:` action without wildcards) is an Amazon S3 action.
pub(crate) fn is_known_action(action: &str) -> bool {
    let a = action.to_ascii_lowercase();
    KNOWN_ACTIONS.binary_search(&a.as_str()).is_ok()
}

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
    fn known_actions() {
        assert!(KNOWN_ACTIONS.windows(2).all(|w| w[0] < w[1]));
        assert!(is_known_action("s3:GetObject"));
        assert!(is_known_action("S3:listbucket"));
        assert!(!is_known_action("s3:GetObjekt"));
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
