//! The checks of [`openkms_core::AliasStore`]: aliases: uniqueness, references to keys, repointing, listing order, concurrent writers.

mod aliases;
mod concurrency;
mod paging;

pub use aliases::*;
pub use concurrency::*;
pub use paging::*;
