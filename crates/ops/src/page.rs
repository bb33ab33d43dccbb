//! Paging of listings: the window a request asks for, and the page a listing returns.
//!
//! ListKeys, ListAliases and ListAliasesByKeyId get their page from the core, read by
//! keyset ([`Page::with`]); ListKeyVersions (a key's few versions) still reads its listing
//! whole and cuts the page out with [`Page::of`]. Which parameters carry the window, their
//! defaults and bounds, and how a page is written on the wire are a codec's business.

use openkms_core::service::ListPage;

/// The window a listing request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// The page to show, from 1.
    pub number: usize,
    /// How many entries a page holds (at least 1).
    pub size: usize,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paged<T> {
    /// The entries on the page, in listing order.
    pub items: Vec<T>,
    /// The window that was asked for (shown back to the caller).
    pub page: Page,
    /// How many entries the whole listing has.
    pub total: usize,
}

impl Page {
    /// The page the core read for this window.
    pub fn with<T>(self, listed: ListPage<T>) -> Paged<T> {
        Paged {
            items: listed.items,
            page: self,
            total: usize::try_from(listed.total).unwrap_or(usize::MAX),
        }
    }

    /// The page of `all` this window shows.
    pub fn of<T>(self, all: Vec<T>) -> Paged<T> {
        let total = all.len();
        let skip = self.number.saturating_sub(1).saturating_mul(self.size);
        let items = all.into_iter().skip(skip).take(self.size).collect();
        Paged {
            items,
            page: self,
            total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Page;

    #[test]
    fn pages_cut_the_listing() {
        let page = Page { number: 2, size: 2 };
        let paged = page.of(vec![1, 2, 3, 4, 5]);
        assert_eq!(paged.items, vec![3, 4]);
        assert_eq!(paged.total, 5);
        let past_the_end = Page { number: 9, size: 2 }.of(vec![1, 2, 3]);
        assert!(past_the_end.items.is_empty());
        assert_eq!(past_the_end.total, 3);
        let huge = Page {
            number: usize::MAX,
            size: 100,
        };
        assert!(huge.of(vec![1]).items.is_empty());
    }
}
