//! Page boundaries remembered between requests, so that numbered pages (`PageNumber`,
//! `PageSize`) are served by keyset reads.
//!
//! A numbered page N starts after the last entry of page N-1. When page N-1 is served in
//! full, the cursor just after its last entry is remembered under (listing, page size,
//! N), with the listing's total at that moment; a later request for page N with the same
//! total starts its keyset read there. Without a remembered boundary (a page asked for out of
//! order, another node served the previous page, the total changed since, or the memo was
//! cleared) the caller finds the start by skipping over the listing's index instead, which
//! costs in proportion to the page number but reads no record.
//!
//! The total guards against stale boundaries: a key created or destroyed (or leaving a
//! filter) since the boundary was remembered changes the total, and the boundary is not
//! used. The memo is bounded: when it holds [`MAX_ENTRIES`] boundaries it is emptied and
//! refilled as pages are served. This module does no I/O.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// The most boundaries remembered at once, over every listing.
pub const MAX_ENTRIES: usize = 4096;

/// Which page of which listing: the listing (its name and filters, as text), the page size
/// and the page number.
type Slot = (String, usize, usize);

/// Remembered page boundaries of one kind of cursor `C`.
pub(crate) struct PageMemo<C> {
    /// (listing, size, number) -> (cursor before the page's first entry, total then).
    boundaries: Mutex<HashMap<Slot, (C, u64)>>,
}

impl<C: Clone> PageMemo<C> {
    /// An empty memo.
    pub(crate) fn new() -> Self {
        Self {
            boundaries: Mutex::new(HashMap::new()),
        }
    }

    /// The cursor before page `number` of `listing` in pages of `size`, if it was remembered
    /// while the listing had `total` entries.
    pub(crate) fn start_of(
        &self,
        listing: &str,
        size: usize,
        number: usize,
        total: u64,
    ) -> Option<C> {
        let slot = (listing.to_owned(), size, number);
        let boundaries = self
            .boundaries
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match boundaries.get(&slot) {
            Some((cursor, then)) if *then == total => Some(cursor.clone()),
            _ => None,
        }
    }

    /// Remembers that page `number` of `listing` (pages of `size`, `total` entries) starts
    /// after `cursor`.
    pub(crate) fn remember(
        &self,
        listing: &str,
        size: usize,
        number: usize,
        total: u64,
        cursor: C,
    ) {
        let mut boundaries = self
            .boundaries
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if boundaries.len() >= MAX_ENTRIES {
            boundaries.clear();
        }
        boundaries.insert((listing.to_owned(), size, number), (cursor, total));
    }
}

/// Where numbered page `number` (from 1) of `size` entries starts in a listing of `total`
/// entries: `None` if it lies past the end, else the number of entries before it.
pub(crate) fn offset(number: usize, size: usize, total: u64) -> Option<u64> {
    let before = u64::try_from(number.saturating_sub(1).saturating_mul(size)).ok()?;
    (before < total).then_some(before)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_boundary_is_used_only_at_the_same_total() {
        let memo = PageMemo::new();
        memo.remember("keys", 10, 2, 25, "k10".to_owned());
        assert_eq!(memo.start_of("keys", 10, 2, 25).as_deref(), Some("k10"));
        assert_eq!(memo.start_of("keys", 10, 2, 26), None, "the total moved");
        assert_eq!(memo.start_of("keys", 20, 2, 25), None, "another page size");
        assert_eq!(memo.start_of("keys", 10, 3, 25), None, "another page");
        assert_eq!(memo.start_of("aliases", 10, 2, 25), None, "another listing");
    }

    #[test]
    fn the_memo_stays_bounded() {
        let memo = PageMemo::new();
        for n in 0..MAX_ENTRIES + 10 {
            memo.remember("keys", 1, n + 2, 1, n);
        }
        let held = memo.boundaries.lock().unwrap().len();
        assert!(held <= MAX_ENTRIES, "{held}");
    }

    #[test]
    fn offsets_past_the_end_are_none() {
        assert_eq!(offset(1, 10, 0), None);
        assert_eq!(offset(1, 10, 1), Some(0));
        assert_eq!(offset(3, 10, 21), Some(20));
        assert_eq!(offset(3, 10, 20), None);
        assert_eq!(offset(usize::MAX, 100, 5), None, "no overflow");
    }
}
