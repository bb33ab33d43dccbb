//! The one list that names every operation.
//!
//! [`for_each_operation!`] hands the list to a macro of the caller's: a codec builds its
//! dispatch table from it, so an operation without a codec does not compile, and nothing
//! else names operations one by one.

/// Calls `$m! { path::To::Op, … }` with every operation openkms serves.
#[macro_export]
macro_rules! for_each_operation {
    ($m:ident) => {
        $m! {
            $crate::kms::CreateKey,
            $crate::kms::CreateAlias,
            $crate::kms::Encrypt,
            $crate::kms::Decrypt,
            $crate::kms::GenerateDataKey,
            $crate::kms::GenerateDataKeyWithoutPlaintext,
            $crate::kms::DescribeKey,
            $crate::kms::ListKeys,
            $crate::kms::ListAliases,
            $crate::kms::ListAliasesByKeyId,
            $crate::kms::DescribeRegions,
            $crate::kms::UpdateAlias,
            $crate::kms::DeleteAlias,
            $crate::kms::EnableKey,
            $crate::kms::DisableKey,
            $crate::kms::ScheduleKeyDeletion,
            $crate::kms::CancelKeyDeletion,
            $crate::kms::SetDeletionProtection,
            $crate::kms::UpdateKeyDescription,
            $crate::kms::CreateKeyVersion,
            $crate::kms::ListKeyVersions,
            $crate::kms::DescribeKeyVersion,
            $crate::kms::UpdateRotationPolicy,
            $crate::kms::ReEncrypt,
            $crate::kms::TagResource,
            $crate::kms::UntagResource,
            $crate::kms::ListResourceTags,
            $crate::kms::TagResources,
            $crate::kms::UntagResources,
            $crate::kms::ListTagResources,
            $crate::kms::GetKeyPolicy,
            $crate::kms::SetKeyPolicy,
            $crate::kms::DescribeAccountKmsStatus,
            $crate::kms::GetRandomPassword,
            $crate::kms::GetPublicKey,
            $crate::kms::AsymmetricSign,
            $crate::kms::AsymmetricVerify,
            $crate::kms::AsymmetricEncrypt,
            $crate::kms::AsymmetricDecrypt,
            $crate::ram::CreateUser,
            $crate::ram::GetUser,
            $crate::ram::ListUsers,
            $crate::ram::DeleteUser,
            $crate::ram::CreateAccessKey,
            $crate::ram::ListAccessKeys,
            $crate::ram::UpdateAccessKey,
            $crate::ram::DeleteAccessKey,
            $crate::ram::CreatePolicy,
            $crate::ram::GetPolicy,
            $crate::ram::ListPolicies,
            $crate::ram::DeletePolicy,
            $crate::ram::AttachPolicyToUser,
            $crate::ram::DetachPolicyFromUser,
            $crate::ram::ListPoliciesForUser,
            $crate::ram::CreateLoginProfile,
            $crate::ram::GetLoginProfile,
            $crate::ram::UpdateLoginProfile,
            $crate::ram::DeleteLoginProfile,
            $crate::ram::ChangePassword,
        }
    };
}
