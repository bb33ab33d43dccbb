//! What each action accepts, as data: the table the CLI builds its commands from.
//!
//! Each codec file declares its [`ActionSpec`] as [`super::Wire::SPEC`], next to its decoder;
//! a new action's codec file is all the CLI needs. The server does not read these tables to
//! parse requests (the decoders are the authority), except that an action listing
//! [`DRY_RUN`] takes `DryRun`.

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

/// The parameters of both data-key actions.
pub const DATA_KEY_PARAMS: [ParamSpec; 5] = [
    KEY_ID,
    optional("KeySpec", "AES_256 (default) or AES_128"),
    optional("NumberOfBytes", "key length 1-1024, overrides KeySpec"),
    ENCRYPTION_CONTEXT,
    DRY_RUN,
];

/// The paging parameters as the CLI table lists them.
pub const PAGE_PARAMS: [ParamSpec; 2] = [
    optional("PageNumber", "page to show, from 1 (default 1)"),
    optional("PageSize", "entries per page, 1-100 (default 10)"),
];

/// `KeyId` and the page parameters, as the listings of one key's aliases or versions take them.
pub const KEY_PAGE_PARAMS: [ParamSpec; 3] = [KEY_ID, PAGE_PARAMS[0], PAGE_PARAMS[1]];
