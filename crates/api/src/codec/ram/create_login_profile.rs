//! CreateLoginProfile on the wire.
//!
//! Parameters: `UserName`, `Password` (both required), `PasswordResetRequired`,
//! `MFABindRequired` (booleans, default false). Reply: `LoginProfile` with `UserName`,
//! `PasswordResetRequired`, `MFABindRequired`, `CreateDate`.

use openkms_core::KeyService;
use openkms_core::service::LoginProfileView;
use openkms_ops::ram::CreateLoginProfile;
use openkms_ops::{Call, Touch};

use super::login_profile::{Shown, input};
use crate::codec::Wire;
use crate::codec::lenient;
use crate::codec::spec::{ActionSpec, optional, required};
use crate::rpc::{Params, RpcError};

impl Wire for CreateLoginProfile {
    const SPEC: ActionSpec = ActionSpec {
        about: "Give a RAM user a console password",
        params: &[
            required("UserName", "the user's name"),
            required("Password", "8-32 characters"),
            optional("PasswordResetRequired", "true or false (default false)"),
            optional("MFABindRequired", "true or false (default false)"),
        ],
    };
    type Reply<'a> = Shown<'a>;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        params.required("Password")?;
        Ok(Self {
            profile: input(params)?,
        })
    }

    fn encode<'a>(view: &'a LoginProfileView, _: &KeyService) -> Result<Shown<'a>, RpcError> {
        Ok(Shown::of(view))
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        vec![lenient::user(params, call)]
    }
}
