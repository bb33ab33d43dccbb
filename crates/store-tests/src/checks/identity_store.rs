//! The checks of [`openkms_core::IdentityStore`]: RAM identities: users, AccessKeys and their per-user limit, custom policies, attachments, the deletes refused while something depends on them, concurrent writers and durability.

mod access_keys;
mod concurrency;
mod identities;
mod paging;

pub use access_keys::*;
pub use concurrency::*;
pub use identities::*;
pub use paging::*;
