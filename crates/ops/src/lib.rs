//! openkms-ops: the typed operations of openkms, and the one engine that runs them.
//!
//! An operation is one file: a typed request (what a codec decoded from the wire), its typed
//! output, what it touches ([`Operation::touches`]) and how it runs ([`Operation::execute`]).
//! The [`Engine`] runs every operation the same way: authorize the caller for what the
//! request touches (resolving a key named by alias in place, once, so the operation runs on
//! exactly the key that was checked), execute through the core's [`KeyService`], and fill a
//! typed [`AuditEvent`]. [`for_each_operation!`] is the one list that names every operation.
//!
//! This crate knows no wire format: no parameter names, no JSON, no HTTP. Decoding requests
//! and encoding outputs is a codec's job (the Alibaba one lives in the api crate), and so is
//! choosing error codes.
#![deny(missing_docs)]

mod audit;
mod engine;
pub mod kms;
mod page;
pub mod ram;
mod registry;
pub mod secrets;
mod touch;

use std::future::Future;

pub use audit::{AuditEvent, MAX_AUDIT_NAME_BYTES};
pub use engine::{Call, Caller, Engine, Origin};
pub use openkms_core::{KeyService, KmsError};
pub use page::{Page, Paged};
pub use touch::Touch;

/// The API family an operation belongs to: policies name them `kms:` and `ram:`, and codecs
/// may serve the families under different versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// Key management (and, later, secrets).
    Kms,
    /// Users, AccessKeys and policies.
    Ram,
}

/// The name of an operation: its family and its action name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpName {
    /// The family.
    pub service: Service,
    /// The action, e.g. `Encrypt`.
    pub action: &'static str,
}

impl OpName {
    /// A key-management operation.
    pub const fn kms(action: &'static str) -> Self {
        Self {
            service: Service::Kms,
            action,
        }
    }

    /// A RAM operation.
    pub const fn ram(action: &'static str) -> Self {
        Self {
            service: Service::Ram,
            action,
        }
    }

    /// The action as policies name it: `kms:Encrypt`, `ram:CreateUser`.
    pub fn policy_action(&self) -> String {
        let service = match self.service {
            Service::Kms => "kms",
            Service::Ram => "ram",
        };
        format!("{service}:{}", self.action)
    }
}

/// One operation: a typed request with what it touches and how it runs.
pub trait Operation: Sized + Send + Sync + 'static {
    /// The operation's name; unique in the registry.
    const NAME: OpName;
    /// What a successful run returns.
    type Output: Send;

    /// What the request touches, for authorization. A key named by alias is given as
    /// `&mut KeyRef`: the engine replaces it with the key id it checked.
    fn touches<'a>(&'a mut self, call: &Call<'_>) -> Vec<Touch<'a>>;

    /// Runs the operation through the core.
    fn execute(
        self,
        call: &Call<'_>,
    ) -> impl Future<Output = Result<Self::Output, KmsError>> + Send;

    /// Notes, before the run, what the request names (for the audit line of a refused
    /// request too).
    fn audit_request(&self, _event: &mut AuditEvent) {}

    /// Notes what a successful run acted on.
    fn audit_output(_output: &Self::Output, _event: &mut AuditEvent) {}
}
