//! The checks of [`openkms_core::TagStore`]: tags: upserts, the per-key limit, removal, concurrent writers.

mod concurrency;
mod paging;
mod tags;

pub use concurrency::*;
pub use paging::*;
pub use tags::*;
