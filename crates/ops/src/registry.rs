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
            $crate::kms::Encrypt,
            $crate::kms::Decrypt,
            $crate::kms::GenerateDataKey,
            $crate::kms::GenerateDataKeyWithoutPlaintext,
            $crate::kms::ReEncrypt,
            $crate::kms::CreateAlias,
            $crate::kms::UpdateAlias,
            $crate::kms::DeleteAlias,
            $crate::kms::TagResource,
            $crate::kms::UntagResource,
            $crate::kms::ListResourceTags,
            $crate::kms::TagResources,
            $crate::kms::UntagResources,
            $crate::kms::ListTagResources,
        }
    };
}
