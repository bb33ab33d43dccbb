//! `openkms root-key rotate` with the Shamir seal: T current shares in (stdin, one a line),
//! a new root key and a new set of shares out.
//!
//! The current shares are checked against the store's seal record as `operator unseal` checks
//! them and combined into the current root key. A new key is split like the old one (as many
//! shares, the same threshold, a new split id); the new shares are printed **before** the
//! store changes, and the new seal record is written in the rotation's one transaction. So:
//! killed before the commit, the old shares still open the store and the printed ones are
//! worthless; after it, the printed ones open it and the old ones are refused as "of another
//! initialisation". The second line, `"Rotated":true`, says the commit happened.

use std::io::{BufRead, Read};

use anyhow::{Context, bail};
use openkms_core::rotation::rotate_root_key_with;
use openkms_core::shamir::MAX_SHARE_TEXT;
use openkms_core::unseal::{self, META_SHAMIR, Progress, Submitted};
use openkms_core::{OsRandom, Rewrap, RootKey, SecretBytes, WrappedRow};
use zeroize::Zeroizing;

use super::super::Backend;

/// Rotates the root key of a Shamir-sealed store; see the module docs.
pub(super) async fn rotate(backend: &Backend) -> anyhow::Result<()> {
    let store = backend.store.as_ref();
    let record = unseal::read_record(store)
        .await?
        .context("root-key rotate: the store has no Shamir seal (run `openkms operator init`)")?;
    let stored = store.get_meta(META_SHAMIR).await?.unwrap_or_default();
    let old = read_current_key(&record)?;
    let rng = OsRandom::new();
    let (new, shares, next) = unseal::resplit(&record, &rng)?;
    print_shares(&shares, record.threshold())?;
    let also = vec![Rewrap {
        row: WrappedRow::Meta {
            name: META_SHAMIR.to_owned(),
        },
        old: stored,
        new: next.encode(),
    }];
    let report = rotate_root_key_with(backend.rotation.as_ref(), &old, &new, &rng, also)
        .await
        .map_err(|e| anyhow::anyhow!("root-key rotate: {e}"))?;
    super::print_summary(&report, None);
    Ok(())
}

/// The current root key from T shares on stdin; a refused share names why, never the share.
fn read_current_key(record: &unseal::ShamirRecord) -> anyhow::Result<RootKey> {
    let mut progress = Progress::default();
    let mut stdin = std::io::stdin().lock();
    let mut line = Zeroizing::new(String::new());
    loop {
        line.clear();
        // A line longer than any share is cut, then refused as malformed.
        let read = (&mut stdin)
            .take(MAX_SHARE_TEXT as u64 + 2)
            .read_line(&mut line)
            .context("root-key rotate: cannot read the shares from stdin")?;
        if read == 0 {
            bail!(
                "root-key rotate: {} of {} current shares given on stdin (one a line)",
                progress.have(),
                record.threshold()
            );
        }
        if line.trim().is_empty() {
            continue;
        }
        match progress.submit(record, line.trim()) {
            Ok(Submitted::Complete(key)) => return Ok(key),
            Ok(Submitted::Need { .. }) => {}
            Err(refused) => bail!(
                "root-key rotate: share {} refused: {refused}",
                progress.have() + 1
            ),
        }
    }
}

/// The new shares, as `operator init` prints them, before anything changes.
#[allow(clippy::print_stdout)]
fn print_shares(shares: &[openkms_core::shamir::Share], threshold: u8) -> anyhow::Result<()> {
    let texts: Vec<SecretBytes> = shares.iter().map(|s| s.to_text()).collect();
    let mut out = Zeroizing::new(Vec::new());
    out.extend_from_slice(b"{\"NewShares\":[");
    for (i, text) in texts.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(text.expose_secret());
        out.push(b'"');
    }
    out.extend_from_slice(format!("],\"Threshold\":{threshold}}}\n").as_bytes());
    std::io::Write::write_all(&mut std::io::stdout().lock(), &out)
        .and_then(|()| std::io::Write::flush(&mut std::io::stdout()))
        .context("root-key rotate: cannot print the new shares; nothing was changed")
}
