//! GetRandomPassword on the wire (Appendix A; next spec §5.13).
//!
//! Parameters (all optional strings): `PasswordLength` (8-128, default 32),
//! `ExcludeCharacters`, `ExcludeLowercase`, `ExcludeUppercase`, `ExcludeNumbers`,
//! `ExcludePunctuation`, `RequireEachIncludedType` (`true`/`false`). Reply: `RandomPassword`.

use openkms_core::{InvalidReason, KeyService, SecretBytes};
use openkms_ops::Call;
use openkms_ops::Touch;
use openkms_ops::kms::GetRandomPassword;
use serde::Serialize;

use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, optional};
use crate::rpc::{Params, RpcError};

/// GetRandomPassword's reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Password<'a> {
    random_password: &'a str,
}

impl Wire for GetRandomPassword {
    const SPEC: ActionSpec = ActionSpec {
        about: "Generate a random password",
        params: &[
            optional("PasswordLength", "characters, 8-128 (default 32)"),
            optional("ExcludeCharacters", "characters never to use"),
            optional("ExcludeLowercase", "true to leave out a-z"),
            optional("ExcludeUppercase", "true to leave out A-Z"),
            optional("ExcludeNumbers", "true to leave out 0-9"),
            optional("ExcludePunctuation", "true to leave out punctuation"),
            optional(
                "RequireEachIncludedType",
                "true for at least one character of every class kept",
            ),
        ],
    };
    type Reply<'a> = Password<'a>;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        Ok(Self {
            length: length(params)?,
            exclude_characters: params.get("ExcludeCharacters").unwrap_or("").to_owned(),
            exclude_lowercase: params.bool_or("ExcludeLowercase", false)?,
            exclude_uppercase: params.bool_or("ExcludeUppercase", false)?,
            exclude_numbers: params.bool_or("ExcludeNumbers", false)?,
            exclude_punctuation: params.bool_or("ExcludePunctuation", false)?,
            require_each: params.bool_or("RequireEachIncludedType", false)?,
        })
    }

    fn encode<'a>(out: &'a SecretBytes, _: &KeyService) -> Result<Password<'a>, RpcError> {
        // Drawn from ASCII classes only.
        let random_password = std::str::from_utf8(out.expose_secret()).unwrap_or_default();
        Ok(Password { random_password })
    }

    fn fallback(_: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        vec![Touch::account(call.kms)]
    }
}

/// `PasswordLength`, a decimal number (its range is the operation's rule).
fn length(params: &Params) -> Result<usize, RpcError> {
    match params.optional("PasswordLength") {
        None => Ok(openkms_ops::kms::DEFAULT_PASSWORD_LENGTH),
        Some(text) => text
            .parse()
            .map_err(|_| RpcError::invalid_because("PasswordLength", InvalidReason::OutOfRange)),
    }
}
