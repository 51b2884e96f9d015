//! AWS managed policies that exist in every account, with AWS's documents.
//!
//! Documents from the AWS Managed Policy Reference
//! (<https://docs.aws.amazon.com/aws-managed-policy/latest/reference/policy-list.html>):
//! AdministratorAccess, AmazonS3FullAccess (v2), AmazonS3ReadOnlyAccess (v3),
//! PowerUserAccess (v12), IAMFullAccess (v2), IAMReadOnlyAccess (v4),
//! IAMUserChangePassword (v3), AWSKeyManagementServicePowerUser (v2),
//! AWSOrganizationsFullAccess (v6), AWSOrganizationsReadOnlyAccess (v6), each
//! from its page `…/reference/NAME.html`. The policy ids are AWS's as listed by
//! `aws iam list-policies`. ReadOnlyAccess is abbreviated to its IAM, KMS,
//! Organizations and S3 parts (the real document lists every service).
//! The root-task policies (<https://docs.aws.amazon.com/IAM/latest/UserGuide/security-iam-awsmanpol.html>)
//! are used only as AssumeRoot task policies. Their action sets (and those of
//! the abbreviated ReadOnlyAccess) were checked against a public listing
//! generated from AWS's documents (github.com/badele/aws-policies-analyzer-docs);
//! statement layout and Sids of the root-task documents are ours.

/// An AWS managed IAM policy.
#[derive(Clone, Copy, Debug)]
pub struct AwsManagedPolicy {
    pub name: &'static str,
    /// `/` or `/root-task/`.
    pub path: &'static str,
    pub id: &'static str,
    pub description: &'static str,
    pub version: &'static str,
    pub document: &'static str,
}

impl AwsManagedPolicy {
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::aws:policy{}{}", self.path, self.name)
    }

    pub fn is_root_task(&self) -> bool {
        self.path == "/root-task/"
    }
}

const ADMINISTRATOR_ACCESS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "*",
      "Resource": "*"
    }
  ]
}"#;

const S3_FULL_ACCESS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "s3:*",
        "s3-object-lambda:*"
      ],
      "Resource": "*"
    }
  ]
}"#;

const S3_READ_ONLY_ACCESS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "s3:Get*",
        "s3:List*",
        "s3:Describe*",
        "s3-object-lambda:Get*",
        "s3-object-lambda:List*"
      ],
      "Resource": "*"
    }
  ]
}"#;

const POWER_USER_ACCESS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "NotAction": [
        "iam:*",
        "organizations:*",
        "account:*"
      ],
      "Resource": "*"
    },
    {
      "Effect": "Allow",
      "Action": [
        "account:GetAccountInformation",
        "account:GetGovCloudAccountInformation",
        "account:GetPrimaryEmail",
        "account:ListRegions",
        "iam:CreateServiceLinkedRole",
        "iam:DeleteServiceLinkedRole",
        "iam:ListRoles",
        "organizations:DescribeEffectivePolicy",
        "organizations:DescribeOrganization"
      ],
      "Resource": "*"
    }
  ]
}"#;

/// Abbreviated: the IAM, KMS, Organizations, S3, S3 Object Lambda and STS entries of AWS's ReadOnlyAccess.
const READ_ONLY_ACCESS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "iam:Generate*",
        "iam:Get*",
        "iam:List*",
        "iam:Simulate*",
        "kms:Describe*",
        "kms:Get*",
        "kms:List*",
        "organizations:Describe*",
        "organizations:List*",
        "s3:DescribeJob",
        "s3:Get*",
        "s3:List*",
        "s3-object-lambda:GetObject",
        "s3-object-lambda:GetObjectAcl",
        "s3-object-lambda:GetObjectLegalHold",
        "s3-object-lambda:GetObjectRetention",
        "s3-object-lambda:GetObjectTagging",
        "s3-object-lambda:GetObjectVersion",
        "s3-object-lambda:GetObjectVersionAcl",
        "s3-object-lambda:GetObjectVersionTagging",
        "s3-object-lambda:ListBucket",
        "s3-object-lambda:ListBucketMultipartUploads",
        "s3-object-lambda:ListBucketVersions",
        "s3-object-lambda:ListMultipartUploadParts",
        "sts:GetAccessKeyInfo",
        "sts:GetCallerIdentity",
        "sts:GetSessionToken"
      ],
      "Resource": "*"
    }
  ]
}"#;

const S3_UNLOCK_BUCKET_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AllowS3UnlockBucketPolicy",
      "Effect": "Allow",
      "Action": [
        "s3:DeleteBucketPolicy",
        "s3:PutBucketPolicy",
        "s3:GetBucketPolicy",
        "s3:ListAllMyBuckets"
      ],
      "Resource": "*"
    }
  ]
}"#;

const SQS_UNLOCK_QUEUE_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AllowSQSUnlockQueuePolicy",
      "Effect": "Allow",
      "Action": [
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:ListQueues",
        "sqs:SetQueueAttributes"
      ],
      "Resource": "*"
    }
  ]
}"#;

const IAM_AUDIT_ROOT_USER_CREDENTIALS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AllowIAMAuditRootUserCredentials",
      "Effect": "Allow",
      "Action": [
        "iam:GetAccessKeyLastUsed",
        "iam:GetLoginProfile",
        "iam:GetUser",
        "iam:ListAccessKeys",
        "iam:ListMFADevices",
        "iam:ListSigningCertificates"
      ],
      "Resource": "*"
    }
  ]
}"#;

const IAM_CREATE_ROOT_USER_PASSWORD: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AllowIAMCreateRootUserPassword",
      "Effect": "Allow",
      "Action": [
        "iam:CreateLoginProfile",
        "iam:GetLoginProfile"
      ],
      "Resource": "*"
    }
  ]
}"#;

const IAM_DELETE_ROOT_USER_CREDENTIALS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AllowIAMDeleteRootUserCredentials",
      "Effect": "Allow",
      "Action": [
        "iam:DeactivateMFADevice",
        "iam:DeleteAccessKey",
        "iam:DeleteLoginProfile",
        "iam:DeleteSigningCertificate",
        "iam:DeleteVirtualMFADevice",
        "iam:GetAccessKeyLastUsed",
        "iam:GetLoginProfile",
        "iam:GetUser",
        "iam:ListAccessKeys",
        "iam:ListMFADevices",
        "iam:ListSigningCertificates"
      ],
      "Resource": "*"
    }
  ]
}"#;

const IAM_FULL_ACCESS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "iam:*",
        "organizations:DescribeAccount",
        "organizations:DescribeOrganization",
        "organizations:DescribeOrganizationalUnit",
        "organizations:DescribePolicy",
        "organizations:ListChildren",
        "organizations:ListParents",
        "organizations:ListPoliciesForTarget",
        "organizations:ListRoots",
        "organizations:ListPolicies",
        "organizations:ListTargetsForPolicy"
      ],
      "Resource": "*"
    }
  ]
}"#;

const IAM_READ_ONLY_ACCESS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "iam:GenerateCredentialReport",
        "iam:GenerateServiceLastAccessedDetails",
        "iam:Get*",
        "iam:List*",
        "iam:SimulateCustomPolicy",
        "iam:SimulatePrincipalPolicy"
      ],
      "Resource": "*"
    }
  ]
}"#;

const IAM_USER_CHANGE_PASSWORD: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "iam:ChangePassword"
      ],
      "Resource": [
        "arn:aws:iam::*:user/${aws:username}",
        "arn:aws:iam::*:user/*/${aws:username}"
      ]
    },
    {
      "Effect": "Allow",
      "Action": [
        "iam:GetAccountPasswordPolicy"
      ],
      "Resource": "*"
    }
  ]
}"#;

const KMS_POWER_USER: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "kms:CreateAlias",
        "kms:CreateKey",
        "kms:DeleteAlias",
        "kms:Describe*",
        "kms:GenerateRandom",
        "kms:Get*",
        "kms:List*",
        "kms:TagResource",
        "kms:UntagResource",
        "iam:ListGroups",
        "iam:ListRoles",
        "iam:ListUsers"
      ],
      "Resource": "*"
    }
  ]
}"#;

const ORGANIZATIONS_FULL_ACCESS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AWSOrganizationsFullAccess",
      "Effect": "Allow",
      "Action": "organizations:*",
      "Resource": "*"
    },
    {
      "Sid": "AWSOrganizationsFullAccessAccount",
      "Effect": "Allow",
      "Action": [
        "account:PutAlternateContact",
        "account:DeleteAlternateContact",
        "account:GetAlternateContact",
        "account:GetContactInformation",
        "account:PutContactInformation",
        "account:ListRegions",
        "account:EnableRegion",
        "account:DisableRegion"
      ],
      "Resource": "*"
    },
    {
      "Sid": "AWSOrganizationsFullAccessCreateSLR",
      "Effect": "Allow",
      "Action": "iam:CreateServiceLinkedRole",
      "Resource": "*",
      "Condition": {
        "StringEquals": {
          "iam:AWSServiceName": "organizations.amazonaws.com"
        }
      }
    }
  ]
}"#;

const ORGANIZATIONS_READ_ONLY_ACCESS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AWSOrganizationsReadOnly",
      "Effect": "Allow",
      "Action": [
        "organizations:Describe*",
        "organizations:List*"
      ],
      "Resource": "*"
    },
    {
      "Sid": "AWSOrganizationsReadOnlyAccount",
      "Effect": "Allow",
      "Action": [
        "account:GetAlternateContact",
        "account:GetContactInformation",
        "account:ListRegions",
        "account:GetRegionOptStatus",
        "account:GetPrimaryEmail"
      ],
      "Resource": "*"
    }
  ]
}"#;

/// Every AWS managed policy Strongbox knows.
pub const AWS_MANAGED: &[AwsManagedPolicy] = &[
    AwsManagedPolicy {
        name: "AdministratorAccess",
        path: "/",
        id: "ANPAIWMBCKSKIEE64ZLYK",
        description: "Provides full access to AWS services and resources.",
        version: "v1",
        document: ADMINISTRATOR_ACCESS,
    },
    AwsManagedPolicy {
        name: "AmazonS3FullAccess",
        path: "/",
        id: "ANPAIFIR6V6BVTRAHWINE",
        description: "Provides full access to all buckets via the AWS Management Console.",
        version: "v2",
        document: S3_FULL_ACCESS,
    },
    AwsManagedPolicy {
        name: "AmazonS3ReadOnlyAccess",
        path: "/",
        id: "ANPAIZTJ4DXE7G6AGAE6M",
        description: "Provides read only access to all buckets via the AWS Management Console.",
        version: "v3",
        document: S3_READ_ONLY_ACCESS,
    },
    AwsManagedPolicy {
        name: "ReadOnlyAccess",
        path: "/",
        id: "ANPAILL3HVNFSB6DCOWYQ",
        description: "Provides read-only access to AWS services and resources.",
        version: "v1",
        document: READ_ONLY_ACCESS,
    },
    AwsManagedPolicy {
        name: "PowerUserAccess",
        path: "/",
        id: "ANPAJYRXTHIB4FOVS3ZXS",
        description: "Provides full access to AWS services and resources, but does not allow management of Users and groups.",
        version: "v12",
        document: POWER_USER_ACCESS,
    },
    AwsManagedPolicy {
        name: "IAMFullAccess",
        path: "/",
        id: "ANPAI7XKCFMBPM3QQRRVQ",
        description: "Provides full access to IAM via the AWS Management Console.",
        version: "v2",
        document: IAM_FULL_ACCESS,
    },
    AwsManagedPolicy {
        name: "IAMReadOnlyAccess",
        path: "/",
        id: "ANPAJKSO7NDY4T57MWDSQ",
        description: "Provides read only access to IAM via the AWS Management Console.",
        version: "v4",
        document: IAM_READ_ONLY_ACCESS,
    },
    AwsManagedPolicy {
        name: "IAMUserChangePassword",
        path: "/",
        id: "ANPAJ4L4MM2A7QIEB56MS",
        description: "Provides the ability for an IAM user to change their own password.",
        version: "v3",
        document: IAM_USER_CHANGE_PASSWORD,
    },
    AwsManagedPolicy {
        name: "AWSKeyManagementServicePowerUser",
        path: "/",
        id: "ANPAJNPP7PPPPMJRV2SA4",
        description: "Provides access to AWS Key Management Service (KMS).",
        version: "v2",
        document: KMS_POWER_USER,
    },
    AwsManagedPolicy {
        name: "AWSOrganizationsFullAccess",
        path: "/",
        id: "ANPAJZXBNRCJKNLQHSB5M",
        description: "Provides full access to AWS Organizations.",
        version: "v6",
        document: ORGANIZATIONS_FULL_ACCESS,
    },
    AwsManagedPolicy {
        name: "AWSOrganizationsReadOnlyAccess",
        path: "/",
        id: "ANPAJY5RQATUV77PEPVOM",
        description: "Provides read-only access to AWS Organizations.",
        version: "v6",
        document: ORGANIZATIONS_READ_ONLY_ACCESS,
    },
    AwsManagedPolicy {
        name: "S3UnlockBucketPolicy",
        path: "/root-task/",
        id: "ANPAZKAPJZG4S3UNLOCKB",
        description: "Allows deleting a misconfigured bucket policy that denies all principals access to an Amazon S3 bucket.",
        version: "v1",
        document: S3_UNLOCK_BUCKET_POLICY,
    },
    AwsManagedPolicy {
        name: "SQSUnlockQueuePolicy",
        path: "/root-task/",
        id: "ANPAZKAPJZG4SQSUNLOCK",
        description: "Allows deleting a misconfigured resource policy that denies all principals access to an Amazon SQS queue.",
        version: "v1",
        document: SQS_UNLOCK_QUEUE_POLICY,
    },
    AwsManagedPolicy {
        name: "IAMAuditRootUserCredentials",
        path: "/root-task/",
        id: "ANPAZKAPJZG4IAMAUDITR",
        description: "Allows reviewing the root user credentials of a member account.",
        version: "v1",
        document: IAM_AUDIT_ROOT_USER_CREDENTIALS,
    },
    AwsManagedPolicy {
        name: "IAMCreateRootUserPassword",
        path: "/root-task/",
        id: "ANPAZKAPJZG4IAMCREATE",
        description: "Allows password recovery for the root user of a member account.",
        version: "v1",
        document: IAM_CREATE_ROOT_USER_PASSWORD,
    },
    AwsManagedPolicy {
        name: "IAMDeleteRootUserCredentials",
        path: "/root-task/",
        id: "ANPAZKAPJZG4IAMDELETE",
        description: "Allows deleting the root user credentials of a member account.",
        version: "v1",
        document: IAM_DELETE_ROOT_USER_CREDENTIALS,
    },
];

/// The AWS managed policy with this ARN.
pub fn aws_managed(arn: &str) -> Option<&'static AwsManagedPolicy> {
    AWS_MANAGED.iter().find(|p| p.arn() == arn)
}

/// When AWS managed policies "were created" (they predate every account).
pub fn aws_managed_created() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_423_247_940).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// Id of the AWS managed SCP attached everywhere by default.
pub const FULL_AWS_ACCESS_ID: &str = "p-FullAWSAccess";
pub const FULL_AWS_ACCESS_NAME: &str = "FullAWSAccess";
pub const FULL_AWS_ACCESS_DESCRIPTION: &str = "Allows access to every operation";
/// <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html>
pub const FULL_AWS_ACCESS_DOCUMENT: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "*",
      "Resource": "*"
    }
  ]
}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_json_and_arns_resolve() {
        for p in AWS_MANAGED {
            let v: serde_json::Value = serde_json::from_str(p.document).unwrap();
            assert_eq!(v["Version"], "2012-10-17");
            assert!(aws_managed(&p.arn()).is_some());
            assert_eq!(p.id.len(), 21, "{}", p.name);
        }
        assert_eq!(
            aws_managed("arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy").map(|p| p.name),
            Some("S3UnlockBucketPolicy")
        );
        assert!(aws_managed("arn:aws:iam::aws:policy/Nope").is_none());
    }
}
