//! ListUsers on the wire.
//!
//! Parameters: `Marker`, `MaxItems`. Reply: `Users.User[]`, `IsTruncated`, and `Marker`
//! when there is more.

use crate::codec::lenient;
use openkms_core::KeyService;
use openkms_core::model::UserRecord;
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::ram::{ListUsers, Listed};
use serde::Serialize;

use super::{MARKER_PARAMS, UserShown, page, truncation};
use crate::codec::spec::ActionSpec;
use crate::codec::{Wire, cursor};
use crate::rpc::{Params, RpcError};

/// ListUsers' reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UsersPage<'a> {
    users: Users<'a>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

/// The `{"User":[…]}` wrapper.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Users<'a> {
    user: Vec<UserShown<'a>>,
}

impl Wire for ListUsers {
    const SPEC: ActionSpec = ActionSpec {
        about: "List RAM users",
        params: &MARKER_PARAMS,
    };
    type Reply<'a> = UsersPage<'a>;

    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError> {
        let after_user = |m: &str| cursor::decode(kms, m, "user", 1)?.pop();
        Ok(Self {
            page: page(params, after_user)?,
        })
    }

    fn encode<'a>(
        listed: &'a Listed<UserRecord, String>,
        kms: &KeyService,
    ) -> Result<UsersPage<'a>, RpcError> {
        let marker = |name: &String| cursor::encode(kms, "user", &[name]);
        let (is_truncated, marker) = truncation(listed.next.as_ref(), marker);
        Ok(UsersPage {
            users: Users {
                user: listed.items.iter().map(UserShown::of).collect(),
            },
            is_truncated,
            marker,
        })
    }

    fn fallback(_: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        vec![lenient::ram_account(call)]
    }
}
