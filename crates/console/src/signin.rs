//! Signing in: a RAM user's console password, or an AccessKey pair (root or a user's).
//!
//! Both end in the same [`Caller`] the API's signature check yields, so a console session
//! may do exactly what the identity's AccessKey may do through the API. A password is
//! checked against the core's Argon2id hash ([`openkms_core::KeyService::console_password_check`])
//! on tokio's blocking pool, at most [`MAX_HASHING`] at once server-wide ([`Gate`]): a sign-in
//! finding them all busy is refused at once (503), so sign-ins can neither stall the async
//! workers that serve the API and the console nor take more than a few times 19 MiB. An
//! AccessKey's secret is compared in constant time with the stored one, and a disabled key
//! signs in no more than it signs requests. Failures say only that the sign-in failed.
//!
//! [`Throttle`] budgets failed sign-ins in the API's bounded tables
//! ([`openkms_api::throttle::FailureTable`]; an IPv6 source counts by its /64). A password
//! sign-in takes one failure from three budgets before it is hashed — its source's, its
//! (source, user name)'s and its user name's — and gives them back when it succeeds; with
//! any of them empty it is refused before hashing. An AccessKey sign-in costs no hash: it is
//! checked first, and a right pair signs in even from a throttled source (the API's rule);
//! a wrong one takes a failure from its source's budget and, once that is empty, is answered
//! "too many" instead of "wrong".

use std::net::IpAddr;
use std::sync::Arc;

use openkms_api::throttle::{FailureRate, FailureTable, Source};
use openkms_core::service::ROOT_USER;
use openkms_core::{KeyService, KmsError, SecretBytes};
use openkms_ops::Caller;
use subtle::ConstantTimeEq;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::session::{Profile, Proof};

/// Password hashes that may run at once, server-wide.
pub const MAX_HASHING: usize = 2;

/// Failed sign-ins one source may make at once, then regained at 10 a minute.
pub const SOURCE_RATE: FailureRate = FailureRate {
    burst: 50,
    per_minute: 10,
    sources: 16_384,
};
/// Failed password sign-ins one source may make for one user name: 10, then 2 a minute.
pub const SOURCE_USER_RATE: FailureRate = FailureRate {
    burst: 10,
    per_minute: 2,
    sources: 16_384,
};
/// Failed password sign-ins for one user name from anywhere: 30, then 6 a minute.
pub const USER_RATE: FailureRate = FailureRate {
    burst: 30,
    per_minute: 6,
    sources: 16_384,
};

/// What a sign-in form gave.
pub enum Credentials {
    /// A RAM user's name and console password.
    Password {
        /// The user.
        user_name: String,
        /// The password.
        password: SecretBytes,
    },
    /// An AccessKey pair.
    AccessKey {
        /// The AccessKeyId.
        id: String,
        /// The secret.
        secret: SecretBytes,
    },
}

/// Why a sign-in did not open a session.
#[derive(Debug)]
pub enum SignInError {
    /// Wrong name, password, AccessKey or secret (which one is not said).
    Refused,
    /// Too many failed sign-ins from this source or for this user: refused unchecked.
    Throttled,
    /// Every password-hashing slot is taken: refused unchecked.
    Busy,
    /// The store failed.
    Unavailable(KmsError),
}

/// What a sign-in proved.
pub struct Proven {
    /// The identity.
    pub caller: Caller,
    /// How.
    pub proof: Proof,
    /// For a password, what its login profile said.
    pub profile: Option<Profile>,
}

/// Checks `credentials` from `source`, within the throttle's budgets and the hashing gate;
/// the caller they prove and how.
pub async fn verify(
    kms: &KeyService,
    guard: &Guard,
    source: Option<IpAddr>,
    credentials: Credentials,
) -> Result<Proven, SignInError> {
    match credentials {
        Credentials::Password {
            user_name,
            password,
        } => {
            let charged = guard.throttle.charge_password(source, &user_name)?;
            let Some(permit) = guard.gate.enter() else {
                guard.throttle.refund(&charged);
                return Err(SignInError::Busy);
            };
            let (ok, profile) = check_password(kms, &user_name, password, permit).await?;
            match ok && user_name != ROOT_USER {
                true => {
                    guard.throttle.refund(&charged);
                    Ok(Proven {
                        caller: Caller {
                            access_key_id: String::new(),
                            user: user_name,
                        },
                        proof: Proof::Password,
                        profile: Some(profile),
                    })
                }
                false => Err(SignInError::Refused),
            }
        }
        Credentials::AccessKey { id, secret } => {
            let found = kms
                .credential(&id)
                .await
                .map_err(SignInError::Unavailable)?;
            let matched = found.filter(|c| {
                bool::from(c.secret.expose_secret().ct_eq(secret.expose_secret())) && c.active
            });
            match matched {
                Some(c) => Ok(Proven {
                    caller: Caller {
                        access_key_id: c.access_key_id.clone(),
                        user: c.user.clone(),
                    },
                    proof: Proof::AccessKey,
                    profile: None,
                }),
                None => match guard.throttle.charge_source(source) {
                    true => Err(SignInError::Refused),
                    false => Err(SignInError::Throttled),
                },
            }
        }
    }
}

/// Whether `password` is `user_name`'s, hashed on the blocking pool under `permit`, and
/// what the profile said.
async fn check_password(
    kms: &KeyService,
    user_name: &str,
    password: SecretBytes,
    permit: OwnedSemaphorePermit,
) -> Result<(bool, Profile), SignInError> {
    let check = kms
        .console_password_check(user_name)
        .await
        .map_err(SignInError::Unavailable)?;
    let profile = Profile {
        fingerprint: check.fingerprint(),
        must_change: check.reset_required(),
    };
    let hashed = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        check.matches(password.expose_secret())
    });
    let ok = hashed
        .await
        .map_err(|_| SignInError::Unavailable(KmsError::Corrupt))?;
    Ok((ok, profile))
}

/// The throttle and the hashing gate, shared by every sign-in.
#[derive(Default)]
pub struct Guard {
    /// Failed sign-ins' budgets.
    pub throttle: Throttle,
    /// Password hashes running.
    pub gate: Gate,
}

/// At most [`MAX_HASHING`] password hashes at once.
pub struct Gate(Arc<Semaphore>);

impl Default for Gate {
    fn default() -> Self {
        Self(Arc::new(Semaphore::new(MAX_HASHING)))
    }
}

impl Gate {
    /// A slot to hash one password in, or `None` when all are taken (never waits).
    pub fn enter(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.0).try_acquire_owned().ok()
    }
}

/// Logs the store's failures behind sign-ins, at most once per [`StoreErrors::EVERY`] (a
/// flood of sign-ins against a failing store must not flood the log).
#[derive(Default)]
pub struct StoreErrors {
    last: std::sync::Mutex<Option<std::time::Instant>>,
}

impl StoreErrors {
    /// Least time between two log lines.
    pub const EVERY: std::time::Duration = std::time::Duration::from_secs(10);

    /// Logs `e` unless a line was logged less than [`Self::EVERY`] ago.
    pub fn log(&self, e: &KmsError) {
        let now = std::time::Instant::now();
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_none_or(|t| now.duration_since(t) >= Self::EVERY) {
            *last = Some(now);
            tracing::error!(error = %e, "console sign-in could not be checked");
        }
    }
}

/// The budgets a password sign-in was charged to (given back when it succeeds).
pub struct Charged {
    source: Option<Source>,
    user: String,
}

/// Failed sign-ins per source, per (source, user name) and per user name.
pub struct Throttle {
    sources: FailureTable<Source>,
    source_users: FailureTable<(Source, String)>,
    users: FailureTable<String>,
}

impl Default for Throttle {
    fn default() -> Self {
        Self {
            sources: FailureTable::new(SOURCE_RATE),
            source_users: FailureTable::new(SOURCE_USER_RATE),
            users: FailureTable::new(USER_RATE),
        }
    }
}

impl Throttle {
    /// Takes one failure from each budget a password sign-in of `user` from `source` counts
    /// against; `Throttled` when any of them had none left.
    pub fn charge_password(
        &self,
        source: Option<IpAddr>,
        user: &str,
    ) -> Result<Charged, SignInError> {
        let source = source.map(Source::of);
        let mut allowed = self.users.charge(user.to_owned());
        if let Some(s) = source {
            allowed &= self.sources.charge(s);
            allowed &= self.source_users.charge((s, user.to_owned()));
        }
        match allowed {
            true => Ok(Charged {
                source,
                user: user.to_owned(),
            }),
            false => Err(SignInError::Throttled),
        }
    }

    /// Gives back what [`Throttle::charge_password`] took.
    pub fn refund(&self, charged: &Charged) {
        self.users.refund(&charged.user);
        if let Some(s) = charged.source {
            self.sources.refund(&s);
            self.source_users.refund(&(s, charged.user.clone()));
        }
    }

    /// Takes one failure from `source`'s budget (a wrong AccessKey pair); false when it had
    /// none left. A sign-in of unknown source is not throttled (the transport always knows).
    pub fn charge_source(&self, source: Option<IpAddr>) -> bool {
        source.is_none_or(|ip| self.sources.charge(Source::of(ip)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn a_source_and_user_pair_gets_its_burst() {
        let t = Throttle::default();
        for _ in 0..SOURCE_USER_RATE.burst {
            assert!(t.charge_password(ip("127.0.0.9"), "alice").is_ok());
        }
        assert!(t.charge_password(ip("127.0.0.9"), "alice").is_err());
        // Another user from the same address (a NAT), and the same user from elsewhere.
        assert!(t.charge_password(ip("127.0.0.9"), "bob").is_ok());
        assert!(t.charge_password(ip("127.0.0.10"), "alice").is_ok());
    }

    #[test]
    fn a_success_gives_its_charge_back() {
        let t = Throttle::default();
        for _ in 0..SOURCE_USER_RATE.burst * 3 {
            let charged = t.charge_password(ip("127.0.0.9"), "alice").unwrap();
            t.refund(&charged);
        }
        assert!(t.charge_password(ip("127.0.0.9"), "alice").is_ok());
    }

    #[test]
    fn a_user_has_a_budget_across_sources() {
        let t = Throttle::default();
        for n in 0..USER_RATE.burst {
            let from = format!("10.0.{}.{}", n / 200, n % 200 + 1);
            assert!(t.charge_password(ip(&from), "alice").is_ok());
        }
        assert!(t.charge_password(ip("10.9.9.9"), "alice").is_err());
        assert!(t.charge_password(ip("10.9.9.9"), "bob").is_ok());
    }

    #[test]
    fn ipv6_counts_by_its_64() {
        let t = Throttle::default();
        for n in 0..SOURCE_USER_RATE.burst {
            let from = format!("2001:db8:1:2::{:x}", n + 1);
            assert!(t.charge_password(ip(&from), "alice").is_ok());
        }
        assert!(
            t.charge_password(ip("2001:db8:1:2:ffff::1"), "alice")
                .is_err()
        );
        assert!(t.charge_password(ip("2001:db8:1:3::1"), "alice").is_ok());
    }

    #[test]
    fn wrong_access_keys_take_the_source_budget() {
        let t = Throttle::default();
        for _ in 0..SOURCE_RATE.burst {
            assert!(t.charge_source(ip("127.0.0.9")));
        }
        assert!(!t.charge_source(ip("127.0.0.9")));
        assert!(t.charge_source(ip("127.0.0.10")));
        // The source's budget is shared with password sign-ins.
        assert!(t.charge_password(ip("127.0.0.9"), "alice").is_err());
    }

    #[test]
    fn the_gate_refuses_past_its_slots_and_reopens() {
        let gate = Gate::default();
        let held: Vec<_> = (0..MAX_HASHING).map(|_| gate.enter().unwrap()).collect();
        assert!(gate.enter().is_none());
        drop(held);
        assert!(gate.enter().is_some());
    }
}
