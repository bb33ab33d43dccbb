//! What each action accepts, as data: the one table the CLI builds its commands from.
//!
//! Each action module declares a [`ActionSpec`] next to its parser; [`super::Action::spec`]
//! returns it. A new action is a new module with its spec — the CLI needs no new code. The
//! server does not read these tables to parse requests; they document what the parsers take.

/// One parameter of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamSpec {
    /// The API name, e.g. `KeyId`; also the CLI flag `--KeyId`.
    pub name: &'static str,
    /// Whether the action refuses to run without it.
    pub required: bool,
    /// One line of help.
    pub help: &'static str,
}

/// An action's description and parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionSpec {
    /// One line saying what the action does.
    pub about: &'static str,
    /// The parameters, in the order the documentation lists them.
    pub params: &'static [ParamSpec],
}

/// Shorthand for a required parameter.
pub const fn required(name: &'static str, help: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        required: true,
        help,
    }
}

/// Shorthand for an optional parameter.
pub const fn optional(name: &'static str, help: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        required: false,
        help,
    }
}

/// `KeyId` as the crypto actions take it.
pub const KEY_ID: ParamSpec = required("KeyId", "key id, alias (alias/…) or key ARN");
/// `EncryptionContext` as every crypto action takes it.
pub const ENCRYPTION_CONTEXT: ParamSpec = optional(
    "EncryptionContext",
    "JSON object of strings bound to the ciphertext",
);

/// `DryRun` as the cryptographic actions take it.
pub const DRY_RUN: ParamSpec = optional(
    "DryRun",
    "true to check the request without performing it (answers DryRunOperationError)",
);
