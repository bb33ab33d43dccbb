//! UpdateLoginProfile on the wire.
//!
//! Parameters: `UserName` (required), `Password`, `PasswordResetRequired`,
//! `MFABindRequired` (each kept when absent). Reply: `LoginProfile` as CreateLoginProfile's.

use openkms_core::KeyService;
use openkms_core::service::LoginProfileView;
use openkms_ops::ram::UpdateLoginProfile;
use openkms_ops::{Call, Touch};

use super::login_profile::{Shown, input};
use crate::codec::Wire;
use crate::codec::lenient;
use crate::codec::spec::{ActionSpec, optional, required};
use crate::rpc::{Params, RpcError};

impl Wire for UpdateLoginProfile {
    const SPEC: ActionSpec = ActionSpec {
        about: "Change a RAM user's console password or its flags",
        params: &[
            required("UserName", "the user's name"),
            optional("Password", "8-32 characters"),
            optional("PasswordResetRequired", "true or false"),
            optional("MFABindRequired", "true or false"),
        ],
    };
    type Reply<'a> = Shown<'a>;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
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
