//! The log's durable head, published for the caller to record outside the log (an anchor).
//!
//! [`Heads`] holds the latest head: the `seq` and hash of a line known to be on disk
//! (fsynced). The fsync thread publishes one at most every [`HEAD_INTERVAL`] while lines are
//! written (read from the file's end *before* the fsync that makes it durable), the writer at
//! each rotation (after fsyncing the file it rotates) and when it closes (after its last
//! fsync). A head only moves forward. Nothing here runs on a request's path; what the caller
//! does with a head (the binary stores it, see `docs/audit.md`) is the caller's.

use std::fs::File;
use std::time::Duration;

use tokio::sync::watch;

use super::chain::Link;
use super::files;

/// The longest the fsync thread waits between two published heads while lines are written.
pub const HEAD_INTERVAL: Duration = Duration::from_secs(1);

/// The sending side of the head channel, shared by the writer and the fsync thread.
#[derive(Debug)]
pub struct Heads(watch::Sender<Link>);

impl Heads {
    /// Heads starting at `link` (the log's end when opened), and a receiver of them.
    pub fn new(link: Link) -> (Self, watch::Receiver<Link>) {
        let (sender, receiver) = watch::channel(link);
        (Self(sender), receiver)
    }

    /// Publishes `link` if it is further on than the head published so far.
    pub fn advance(&self, link: Link) {
        self.0.send_if_modified(|head| {
            let further = link.seq > head.seq;
            if further {
                *head = link;
            }
            further
        });
    }
}

/// The link of `file`'s last complete line, if it has one that is a record.
pub fn last_link(file: &mut File) -> Option<Link> {
    match files::last_line(file) {
        Ok(last) => last.and_then(|(line, _)| Link::of_line(&line)),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the audit log's last line to anchor it");
            None
        }
    }
}
