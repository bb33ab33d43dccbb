//! The API actions, one module each, dispatched by name.
//!
//! Every action module has the same three steps: parse its parameters into typed input,
//! apply them through the [`KeyService`], and build the reply fields. [`Action`] names the
//! actions this server serves; an unknown name is `InvalidAction.NotFound`. Shared pieces of
//! several actions (KeyMetadata, EncryptionContext, base64) live in [`common`].

pub mod common;
pub mod create_alias;
pub mod create_key;
pub mod decrypt;
pub mod encrypt;
pub mod generate_data_key;
pub mod generate_data_key_without_plaintext;
pub mod spec;

use openkms_core::KeyService;
use serde_json::{Map, Value};

use crate::rpc::{Params, RpcError};

/// The reply fields of a successful action (the renderer adds `RequestId`).
pub type Fields = Map<String, Value>;

/// The actions this server serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// CreateKey (§6.1).
    CreateKey,
    /// CreateAlias (§6.2).
    CreateAlias,
    /// Encrypt (§6.3).
    Encrypt,
    /// Decrypt (§6.4).
    Decrypt,
    /// GenerateDataKey (Appendix A).
    GenerateDataKey,
    /// GenerateDataKeyWithoutPlaintext (Appendix A).
    GenerateDataKeyWithoutPlaintext,
}

impl Action {
    /// Every action, for listings (the CLI's table, documentation checks).
    pub const ALL: &'static [Action] = &[
        Self::CreateKey,
        Self::CreateAlias,
        Self::Encrypt,
        Self::Decrypt,
        Self::GenerateDataKey,
        Self::GenerateDataKeyWithoutPlaintext,
    ];

    /// Looks an action up by its API name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.name() == name)
    }

    /// The API name.
    pub fn name(self) -> &'static str {
        match self {
            Self::CreateKey => "CreateKey",
            Self::CreateAlias => "CreateAlias",
            Self::Encrypt => "Encrypt",
            Self::Decrypt => "Decrypt",
            Self::GenerateDataKey => "GenerateDataKey",
            Self::GenerateDataKeyWithoutPlaintext => "GenerateDataKeyWithoutPlaintext",
        }
    }

    /// What the action accepts (the CLI's table).
    pub fn spec(self) -> &'static spec::ActionSpec {
        match self {
            Self::CreateKey => &create_key::SPEC,
            Self::CreateAlias => &create_alias::SPEC,
            Self::Encrypt => &encrypt::SPEC,
            Self::Decrypt => &decrypt::SPEC,
            Self::GenerateDataKey => &generate_data_key::SPEC,
            Self::GenerateDataKeyWithoutPlaintext => &generate_data_key_without_plaintext::SPEC,
        }
    }

    /// Runs the action.
    pub async fn run(self, service: &KeyService, params: &Params) -> Result<Fields, RpcError> {
        match self {
            Self::CreateKey => create_key::run(service, params).await,
            Self::CreateAlias => create_alias::run(service, params).await,
            Self::Encrypt => encrypt::run(service, params).await,
            Self::Decrypt => decrypt::run(service, params).await,
            Self::GenerateDataKey => generate_data_key::run(service, params).await,
            Self::GenerateDataKeyWithoutPlaintext => {
                generate_data_key_without_plaintext::run(service, params).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Action;

    /// Exhaustive, so a new variant cannot compile without a place here; the test then
    /// checks that `ALL` lists it in that place.
    fn position(action: Action) -> usize {
        match action {
            Action::CreateKey => 0,
            Action::CreateAlias => 1,
            Action::Encrypt => 2,
            Action::Decrypt => 3,
            Action::GenerateDataKey => 4,
            Action::GenerateDataKeyWithoutPlaintext => 5,
        }
    }

    #[test]
    fn all_lists_every_action_once_and_names_round_trip() {
        assert_eq!(Action::ALL.len(), 6);
        for (i, a) in Action::ALL.iter().enumerate() {
            assert_eq!(position(*a), i);
            assert_eq!(Action::from_name(a.name()), Some(*a));
            assert!(a.spec().params.iter().all(|p| !p.help.is_empty()));
        }
    }
}
