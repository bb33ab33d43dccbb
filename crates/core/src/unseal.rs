//! The Shamir seal: initialising a store with a root key split into shares, and collecting
//! shares until the root key can be put back together.
//!
//! [`initialise`] (once, over an empty store) makes the root key, splits it
//! ([`crate::shamir`]) and records in the store's meta table only the [`ShamirRecord`]: the
//! split's id, the threshold and each share's digest. The root key's check value is written
//! by [`crate::KeyService::open`] as for any root key. [`Progress`] collects submitted shares
//! in memory (wiped on drop) and refuses, before keeping anything, a malformed share, a share
//! of another split, a share whose digest is not recorded and one already submitted; so a bad
//! share never costs the progress made with good ones. Every node sharing the store reads the
//! same record, so each is unsealed on its own with the same shares.
//!
//! Nothing here knows HTTP, the audit log or how the service is opened once the key is back.

use std::collections::BTreeMap;

use subtle::ConstantTimeEq as _;

use crate::random::SecureRandom;
use crate::rootkey::RootKey;
use crate::service::KeyService;
use crate::shamir::{self, SET_ID_LEN, Share, SplitError};
use crate::store::{Store, StoreError};

/// Meta name of the [`ShamirRecord`].
pub const META_SHAMIR: &str = "shamir_seal";
/// Format byte of the record.
const RECORD_V1: u8 = 1;

/// What the store keeps of a split: its id, threshold and the digest of each share, by index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShamirRecord {
    set: [u8; SET_ID_LEN],
    threshold: u8,
    digests: Vec<[u8; 32]>,
}

impl ShamirRecord {
    /// Shares needed to unseal.
    pub fn threshold(&self) -> u8 {
        self.threshold
    }

    /// Shares made at initialisation.
    pub fn shares(&self) -> u8 {
        u8::try_from(self.digests.len()).unwrap_or(u8::MAX)
    }

    /// The stored form: format byte, split id, threshold, count, then 32 bytes per share.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(3 + SET_ID_LEN + 32 * self.digests.len());
        out.push(RECORD_V1);
        out.extend_from_slice(&self.set);
        out.push(self.threshold);
        out.push(self.shares());
        for d in &self.digests {
            out.extend_from_slice(d);
        }
        out
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let (&format, rest) = bytes.split_first()?;
        if format != RECORD_V1 || rest.len() < SET_ID_LEN + 2 {
            return None;
        }
        let (set, rest) = rest.split_at(SET_ID_LEN);
        let (threshold, count, rest) = (rest[0], rest[1], &rest[2..]);
        if rest.len() != 32 * usize::from(count)
            || shamir::check_parameters(count.into(), threshold.into()).is_err()
        {
            return None;
        }
        Some(Self {
            set: set.try_into().ok()?,
            threshold,
            digests: rest
                .chunks_exact(32)
                .filter_map(|c| c.try_into().ok())
                .collect(),
        })
    }

    /// Whether `share` is one of this split's shares.
    fn holds(&self, share: &Share) -> bool {
        let Some(index) = usize::from(share.index()).checked_sub(1) else {
            return false;
        };
        self.digests
            .get(index)
            .is_some_and(|d| bool::from(d.ct_eq(&share.digest())))
    }
}

/// Why the store could not be initialised.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// Share count or threshold out of range.
    #[error(transparent)]
    Parameters(#[from] SplitError),
    /// The store already has a Shamir seal.
    #[error("already initialised")]
    AlreadyInitialised,
    /// The store holds keys or a root key check value from before (another root key).
    #[error("the store is not empty")]
    NotEmpty,
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// The seal's record, if the store was initialised; a record that cannot be read is
/// [`StoreError::Corrupt`]-like and reported as such.
pub async fn read_record(store: &dyn Store) -> Result<Option<ShamirRecord>, StoreError> {
    match store.get_meta(META_SHAMIR).await? {
        None => Ok(None),
        Some(bytes) => ShamirRecord::decode(&bytes)
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt("unreadable Shamir seal record".into())),
    }
}

/// Makes a root key over an empty `store`, splits it into `shares` shares of which
/// `threshold` unseal, and records the split. Returns the key (to open the service with
/// once, writing its check value) and the shares (to hand out once).
pub async fn initialise(
    store: &dyn Store,
    rng: &dyn SecureRandom,
    shares: u32,
    threshold: u32,
) -> Result<(RootKey, Vec<Share>), InitError> {
    let (count, threshold) = shamir::check_parameters(shares, threshold)?;
    if read_record(store).await?.is_some() {
        return Err(InitError::AlreadyInitialised);
    }
    if KeyService::data_exists(store).await? {
        return Err(InitError::NotEmpty);
    }
    let root = RootKey::generate(rng);
    let mut set = [0u8; SET_ID_LEN];
    rng.fill(&mut set);
    let split = shamir::split(root.secret(), set, count, threshold, rng)?;
    let record = ShamirRecord {
        set,
        threshold,
        digests: split.iter().map(Share::digest).collect(),
    };
    if !store
        .put_meta_if_absent(META_SHAMIR, &record.encode())
        .await?
    {
        // Another node initialised the store at the same moment.
        return Err(InitError::AlreadyInitialised);
    }
    Ok((root, split))
}

/// A fresh root key split like `record` (as many shares, the same threshold, a new split id),
/// for a root-key rotation: the key, its shares, and the record to store in place of the old
/// one (in the rotation's transaction, so the old shares open the store until it commits).
pub fn resplit(
    record: &ShamirRecord,
    rng: &dyn SecureRandom,
) -> Result<(RootKey, Vec<Share>, ShamirRecord), SplitError> {
    let root = RootKey::generate(rng);
    let mut set = [0u8; SET_ID_LEN];
    rng.fill(&mut set);
    let split = shamir::split(root.secret(), set, record.shares(), record.threshold, rng)?;
    let next = ShamirRecord {
        set,
        threshold: record.threshold,
        digests: split.iter().map(Share::digest).collect(),
    };
    Ok((root, split, next))
}

/// Why a submitted share was refused; none of them loses the shares already collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShareRefused {
    /// Not the text of a share.
    #[error("malformed share")]
    Malformed,
    /// The store has no Shamir seal yet (`operator init` first).
    #[error("not initialised")]
    NotInitialised,
    /// A share of another initialisation (another store, or before a re-initialisation).
    #[error("share of another initialisation")]
    OtherSplit,
    /// Well formed and of this split, but not one of its shares (altered or mistyped).
    #[error("wrong share")]
    Wrong,
    /// This share (its index) was already submitted.
    #[error("share already submitted")]
    Repeated,
}

/// What a share accepted by [`Progress::submit`] led to.
pub enum Submitted {
    /// Kept; `have` of `threshold` shares are in.
    Need {
        /// Shares collected.
        have: u8,
        /// Shares needed.
        threshold: u8,
    },
    /// The threshold is reached: the root key (check it by opening the service with it).
    Complete(RootKey),
}

/// Shares collected towards the root key, in memory only; wiped on drop.
#[derive(Default)]
pub struct Progress {
    collected: BTreeMap<u8, Share>,
}

impl Progress {
    /// Shares collected so far.
    pub fn have(&self) -> u8 {
        u8::try_from(self.collected.len()).unwrap_or(u8::MAX)
    }

    /// Forgets every collected share.
    pub fn clear(&mut self) {
        self.collected.clear();
    }

    /// Checks `text` against `record` and keeps it, or refuses it leaving progress as it was.
    /// At the threshold the shares are combined and forgotten.
    pub fn submit(&mut self, record: &ShamirRecord, text: &str) -> Result<Submitted, ShareRefused> {
        let share = Share::parse(text).map_err(|_| ShareRefused::Malformed)?;
        if share.set() != record.set {
            return Err(ShareRefused::OtherSplit);
        }
        if !record.holds(&share) {
            return Err(ShareRefused::Wrong);
        }
        if self.collected.contains_key(&share.index()) {
            return Err(ShareRefused::Repeated);
        }
        self.collected.insert(share.index(), share);
        if self.have() < record.threshold {
            return Ok(Submitted::Need {
                have: self.have(),
                threshold: record.threshold,
            });
        }
        let shares: Vec<&Share> = self.collected.values().collect();
        let secret = shamir::combine(&shares);
        self.clear();
        RootKey::from_bytes(secret)
            .map(Submitted::Complete)
            .ok_or(ShareRefused::Wrong)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::random::OsRandom;
    use crate::secret::SecretBytes;

    fn texts(shares: &[Share]) -> Vec<String> {
        shares
            .iter()
            .map(|s| String::from_utf8(s.to_text().expose_secret().to_vec()).unwrap())
            .collect()
    }

    fn made(n: u8, t: u8) -> (SecretBytes, ShamirRecord, Vec<String>) {
        let rng = OsRandom::new();
        let root = RootKey::generate(&rng);
        let set = [3; SET_ID_LEN];
        let split = shamir::split(root.secret(), set, n, t, &rng).unwrap();
        let record = ShamirRecord {
            set,
            threshold: t,
            digests: split.iter().map(Share::digest).collect(),
        };
        (root.secret().duplicate(), record, texts(&split))
    }

    fn complete(s: Result<Submitted, ShareRefused>) -> RootKey {
        match s {
            Ok(Submitted::Complete(root)) => root,
            _ => panic!("expected the root key"),
        }
    }

    #[test]
    fn refused_shares_keep_the_progress_made() {
        let (secret, record, shares) = made(5, 3);
        // A share of another split (another initialisation): another split id.
        let foreign = {
            let rng = OsRandom::new();
            let root = RootKey::generate(&rng);
            texts(&shamir::split(root.secret(), [4; SET_ID_LEN], 5, 3, &rng).unwrap())
        };
        let mut progress = Progress::default();
        assert!(matches!(
            progress.submit(&record, &shares[4]),
            Ok(Submitted::Need {
                have: 1,
                threshold: 3
            })
        ));
        let mut altered = shares[1].clone().into_bytes();
        let last = altered.len() - 2;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        let same_set_other_key = {
            // Right split id and index, another value: what a mistyped share looks like.
            let (_, _, other) = made(5, 3);
            other[1].clone()
        };
        assert_eq!(
            progress.submit(&record, "nonsense").err(),
            Some(ShareRefused::Malformed)
        );
        assert_eq!(
            progress.submit(&record, &altered).err(),
            Some(ShareRefused::Wrong)
        );
        assert_eq!(
            progress.submit(&record, &same_set_other_key).err(),
            Some(ShareRefused::Wrong)
        );
        assert_eq!(
            progress.submit(&record, &foreign[0]).err(),
            Some(ShareRefused::OtherSplit)
        );
        assert_eq!(
            progress.submit(&record, &shares[4]).err(),
            Some(ShareRefused::Repeated)
        );
        assert_eq!(progress.have(), 1);
        assert!(matches!(
            progress.submit(&record, &shares[0]),
            Ok(Submitted::Need { have: 2, .. })
        ));
        let root = complete(progress.submit(&record, &shares[2]));
        assert_eq!(root.secret().expose_secret(), secret.expose_secret());
        assert_eq!(progress.have(), 0, "the shares are forgotten once combined");
    }

    #[test]
    fn the_record_round_trips_and_refuses_garbage() {
        let (_, record, _) = made(5, 3);
        assert_eq!(ShamirRecord::decode(&record.encode()), Some(record.clone()));
        let bytes = record.encode();
        assert_eq!(ShamirRecord::decode(&bytes[..bytes.len() - 1]), None);
        assert_eq!(ShamirRecord::decode(&[2]), None);
        assert_eq!(ShamirRecord::decode(&[]), None);
    }

    #[test]
    fn a_single_share_seal_unseals_with_it() {
        let (secret, record, shares) = made(1, 1);
        let root = complete(Progress::default().submit(&record, &shares[0]));
        assert_eq!(root.secret().expose_secret(), secret.expose_secret());
    }
}
