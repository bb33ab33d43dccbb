//! CreateAccessKey on the wire: the only reply that shows an AccessKey's secret.
//!
//! Parameters: `UserName` (the caller's own user when absent). Reply: `AccessKey` with
//! `AccessKeyId`, `AccessKeySecret`, `Status` (`Active`), `CreateDate`.

use crate::codec::lenient;
use openkms_core::service::NewAccessKey;
use openkms_core::{KeyService, KmsError};
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::ram::CreateAccessKey;
use serde::Serialize;

use super::{Date, USER_OR_CALLER, access_key_error};
use crate::codec::Wire;
use crate::codec::spec::ActionSpec;
use crate::rpc::{Params, RpcError};

/// CreateAccessKey's reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Created<'a> {
    access_key: NewPair<'a>,
}

/// The new pair, secret included.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NewPair<'a> {
    access_key_id: &'a str,
    access_key_secret: &'a str,
    status: &'static str,
    create_date: Date,
}

impl Wire for CreateAccessKey {
    const SPEC: ActionSpec = ActionSpec {
        about: "Create an AccessKey for a RAM user (the secret is shown only now)",
        params: &[USER_OR_CALLER],
    };
    type Reply<'a> = Created<'a>;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        let user = params.optional("UserName").map(str::to_owned);
        Ok(Self { user })
    }

    fn encode<'a>(key: &'a NewAccessKey, _: &KeyService) -> Result<Created<'a>, RpcError> {
        let secret = std::str::from_utf8(key.secret.expose_secret())
            .map_err(|_| RpcError::Kms(KmsError::Corrupt))?;
        Ok(Created {
            access_key: NewPair {
                access_key_id: &key.record.access_key_id,
                access_key_secret: secret,
                status: "Active",
                create_date: Date(key.record.created_at),
            },
        })
    }

    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        vec![lenient::own_user(params, call)]
    }

    fn error(e: KmsError) -> RpcError {
        access_key_error(e)
    }
}
