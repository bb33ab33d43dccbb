//! Connections per source: how many connections one source holds at once, so one client
//! cannot take every one of the server's connection slots.
//!
//! A source is an IPv4 address, or an IPv6 /64 network (one host is commonly given a whole
//! /64, so counting single IPv6 addresses would bound nothing); an IPv4-mapped IPv6 address
//! counts as its IPv4 address. The count of a source is removed from the table when its last
//! connection closes, so the table never holds more entries than there are open connections.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Where connections come from, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    /// One IPv4 address.
    V4(Ipv4Addr),
    /// The first 64 bits of an IPv6 address.
    V6Network(u64),
}

impl Source {
    fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self::V4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::V4(v4),
                None => Self::V6Network((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

type Counts = Arc<Mutex<HashMap<Source, usize>>>;

/// The open connections of every source, and the most one source may hold.
#[derive(Debug)]
pub(super) struct SourceLimit {
    max: usize,
    open: Counts,
}

impl SourceLimit {
    /// At most `max` (at least 1) connections per source.
    pub(super) fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            open: Counts::default(),
        }
    }

    /// One more connection from `ip`, or `None` when its source already holds the most.
    pub(super) fn admit(&self, ip: IpAddr) -> Option<SourceSlot> {
        let source = Source::of(ip);
        let mut open = lock(&self.open);
        let count = open.entry(source).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(SourceSlot {
            source,
            open: self.open.clone(),
        })
    }

    /// How many sources hold connections now.
    #[cfg(test)]
    fn sources(&self) -> usize {
        lock(&self.open).len()
    }
}

/// One connection counted against its source until dropped.
#[derive(Debug)]
pub(super) struct SourceSlot {
    source: Source,
    open: Counts,
}

impl Drop for SourceSlot {
    fn drop(&mut self) {
        let mut open = lock(&self.open);
        if let Some(count) = open.get_mut(&self.source) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.source);
            }
        }
    }
}

/// The table; a panic elsewhere while it was held leaves counts that are still usable.
fn lock(counts: &Counts) -> MutexGuard<'_, HashMap<Source, usize>> {
    counts.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn a_source_is_refused_beyond_its_limit_and_others_are_not() {
        let limit = SourceLimit::new(2);
        let a1 = limit.admit(ip("10.0.0.1"));
        let a2 = limit.admit(ip("10.0.0.1"));
        assert!(a1.is_some() && a2.is_some());
        assert!(limit.admit(ip("10.0.0.1")).is_none());
        assert!(
            limit.admit(ip("::ffff:10.0.0.1")).is_none(),
            "mapped IPv4 is IPv4"
        );
        assert!(limit.admit(ip("10.0.0.2")).is_some());
        drop(a1);
        assert!(limit.admit(ip("10.0.0.1")).is_some());
    }

    #[test]
    fn an_ipv6_source_is_its_64_network() {
        let limit = SourceLimit::new(1);
        let _held = limit.admit(ip("2001:db8:1:2::1"));
        assert!(limit.admit(ip("2001:db8:1:2:ffff::9")).is_none());
        assert!(limit.admit(ip("2001:db8:1:3::1")).is_some());
    }

    #[test]
    fn a_source_leaves_the_table_with_its_last_connection() {
        let limit = SourceLimit::new(4);
        let held: Vec<_> = (1..=3)
            .map(|n| limit.admit(ip(&format!("192.0.2.{n}"))))
            .collect();
        assert_eq!(limit.sources(), 3);
        drop(held);
        assert_eq!(limit.sources(), 0);
    }
}
