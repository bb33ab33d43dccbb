//! What the login-profile codecs share: reading the user, password and flags, and the
//! `LoginProfile` reply object.

use openkms_core::SecretBytes;
use openkms_core::service::{LoginProfileInput, LoginProfileView};
use serde::Serialize;

use super::Date;
use crate::rpc::{Params, RpcError};

/// The profile a request gives: `UserName` (required), `Password`, the two flags.
pub(super) fn input(params: &Params) -> Result<LoginProfileInput, RpcError> {
    let flag = |name: &'static str| match params.optional(name) {
        None => Ok(None),
        Some(_) => params.bool_or(name, false).map(Some),
    };
    Ok(LoginProfileInput {
        user_name: params.required("UserName")?.to_owned(),
        password: params
            .optional("Password")
            .map(|p| SecretBytes::new(p.as_bytes().to_vec())),
        password_reset_required: flag("PasswordResetRequired")?,
        mfa_bind_required: flag("MFABindRequired")?,
    })
}

/// The reply of CreateLoginProfile, GetLoginProfile and UpdateLoginProfile.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Shown<'a> {
    login_profile: Profile<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Profile<'a> {
    user_name: &'a str,
    password_reset_required: bool,
    #[serde(rename = "MFABindRequired")]
    mfa_bind_required: bool,
    create_date: Date,
}

impl<'a> Shown<'a> {
    /// `view` as the reply shows it.
    pub(super) fn of(view: &'a LoginProfileView) -> Self {
        Self {
            login_profile: Profile {
                user_name: &view.user_name,
                password_reset_required: view.password_reset_required,
                mfa_bind_required: view.mfa_bind_required,
                create_date: Date(view.created_at),
            },
        }
    }
}
