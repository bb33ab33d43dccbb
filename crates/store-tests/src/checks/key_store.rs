//! The checks of [`openkms_core::KeyStore`]: keys and versions: exact round trips, atomic creation, the revision rule, listings and their pages, due keys, destruction, `is_empty`, concurrent writers and durability across a reopen.

mod concurrency;
mod destroy;
mod durability;
mod empty;
mod keys;
mod listing;
mod paging;
mod revisions;

pub use concurrency::*;
pub use destroy::*;
pub use durability::*;
pub use empty::*;
pub use keys::*;
pub use listing::*;
pub use paging::*;
pub use revisions::*;
