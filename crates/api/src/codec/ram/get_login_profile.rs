//! GetLoginProfile on the wire.
//!
//! Parameters: `UserName` (required). Reply: `LoginProfile` as CreateLoginProfile's.

use openkms_core::KeyService;
use openkms_core::service::LoginProfileView;
use openkms_ops::ram::GetLoginProfile;
use openkms_ops::{Call, Touch};

use super::login_profile::Shown;
use crate::codec::Wire;
use crate::codec::lenient;
use crate::codec::spec::{ActionSpec, required};
use crate::rpc::{Params, RpcError};

impl Wire for GetLoginProfile {
    const SPEC: ActionSpec = ActionSpec {
        about: "Show a RAM user's login profile",
        params: &[required("UserName", "the user's name")],
    };
    type Reply<'a> = Shown<'a>;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        let user_name = params.required("UserName")?.to_owned();
        Ok(Self { user_name })
    }

    fn encode<'a>(view: &'a LoginProfileView, _: &KeyService) -> Result<Shown<'a>, RpcError> {
        Ok(Shown::of(view))
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        vec![lenient::user(params, call)]
    }
}
