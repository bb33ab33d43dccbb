//! The checks of [`openkms_core::TagStore`]: tags: upserts, the per-key limit, removal, concurrent writers.

mod concurrency;
mod tags;

pub use concurrency::*;
pub use tags::*;
