//! The Alibaba codec: parameters in, typed operations through the engine, typed replies out.
//!
//! Each operation has one codec file implementing [`Wire`]: its `SPEC` (the parameters it
//! takes, which the CLI's table also shows), how its parameters decode into the typed
//! request, and the `Serialize` reply its output encodes into. [`endpoint`] finds the
//! codec of a `Version` + `Action`; the table is built from the operations registry
//! ([`openkms_ops::for_each_operation!`]), so an operation without a codec does not compile.
//!
//! Errors keep going through the one mapping ([`crate::rpc::RpcError::wire`]); a codec only
//! says which typed error a core error becomes for its action where Alibaba uses a
//! specific code.

pub mod bounds;
mod cursor;
pub mod kms;
pub mod lenient;
pub mod ram;
pub mod request;
mod run;
pub mod secrets;
pub mod spec;
mod values;

use openkms_core::{KeyService, KmsError};
use openkms_ops::{Call, Operation, Service, Touch};
use serde::Serialize;

pub use run::{Checked, Endpoint, Exchange, Pending, endpoint, endpoints};

use crate::rpc::{Params, RpcError};
use spec::ActionSpec;

/// The KMS API version.
pub const KMS_VERSION: &str = "2016-01-20";
/// The RAM API version.
pub const RAM_VERSION: &str = "2015-05-01";

/// The API version a family of operations is served under.
pub fn version(service: Service) -> &'static str {
    match service {
        Service::Kms => KMS_VERSION,
        Service::Ram => RAM_VERSION,
    }
}

/// An operation on the Alibaba wire.
pub trait Wire: Operation {
    /// The parameters it takes (the CLI's table; the decoder is the authority).
    const SPEC: ActionSpec;
    /// The reply, borrowing from the output.
    type Reply<'a>: Serialize
    where
        Self: 'a;

    /// The typed request from the parameters.
    fn decode(params: &Params, kms: &KeyService) -> Result<Self, RpcError>;

    /// The reply of a successful run.
    fn encode<'a>(output: &'a Self::Output, kms: &KeyService) -> Result<Self::Reply<'a>, RpcError>;

    /// What a request whose parameters could not all be decoded is authorized against,
    /// read leniently from the names it does carry ([`lenient`]): by default the key its
    /// `KeyId` names (with its `EncryptionContext`) for an action that takes one, else the
    /// account's key container.
    fn fallback(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
        let takes = |name: &str| Self::SPEC.params.iter().any(|p| p.name == name);
        match takes("KeyId") {
            true => {
                let context = takes("EncryptionContext").then_some("EncryptionContext");
                vec![lenient::key(params, call, "KeyId", context)]
            }
            false => vec![Touch::key_container(call.kms)],
        }
    }

    /// The wire error of a core error, for this action. RAM spells a policy refusal
    /// `NoPermission`; every other error maps the same for every action.
    fn error(e: KmsError) -> RpcError {
        match (e, Self::NAME.service) {
            (KmsError::Forbidden, Service::Ram) => RpcError::RamForbidden,
            (e, _) => RpcError::Kms(e),
        }
    }
}
