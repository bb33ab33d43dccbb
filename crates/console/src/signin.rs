//! Signing in: a RAM user's console password, or an AccessKey pair (root or a user's).
//!
//! Both end in the same [`Caller`] the API's signature check yields, so a console session
//! may do exactly what the identity's AccessKey may do through the API. A password is
//! checked by the core (Argon2id, [`openkms_core::KeyService::check_console_password`]); an
//! AccessKey's secret is compared in constant time with the stored one, and a disabled key
//! signs in no more than it signs requests. Failures say only that the sign-in failed.
//!
//! [`Throttle`] counts failed sign-ins per source address: after [`MAX_FAILURES`] in a
//! [`WINDOW`] that source is refused until the window ends, before any password is hashed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use openkms_core::service::ROOT_USER;
use openkms_core::{KeyService, KmsError, SecretBytes};
use openkms_ops::Caller;
use subtle::ConstantTimeEq;

use crate::session::Proof;

/// Failed sign-ins one source may make in a [`WINDOW`].
pub const MAX_FAILURES: u32 = 10;
/// The throttle's window.
pub const WINDOW: Duration = Duration::from_secs(300);
/// Most sources the throttle tracks; past it, the oldest windows are forgotten.
const MAX_SOURCES: usize = 10_000;

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
    /// The server is sealed or the store failed.
    Unavailable(Option<KmsError>),
}

/// Checks `credentials`; the caller they prove and how.
pub async fn verify(
    kms: &KeyService,
    credentials: &Credentials,
) -> Result<(Caller, Proof), SignInError> {
    let unavailable = |e| SignInError::Unavailable(Some(e));
    match credentials {
        Credentials::Password {
            user_name,
            password,
        } => {
            let ok = kms
                .check_console_password(user_name, password)
                .await
                .map_err(unavailable)?;
            match ok && user_name != ROOT_USER {
                true => Ok((
                    Caller {
                        access_key_id: String::new(),
                        user: user_name.clone(),
                    },
                    Proof::Password,
                )),
                false => Err(SignInError::Refused),
            }
        }
        Credentials::AccessKey { id, secret } => {
            let credential = kms.credential(id).await.map_err(unavailable)?;
            let Some(c) = credential else {
                return Err(SignInError::Refused);
            };
            let same = c.secret.expose_secret().ct_eq(secret.expose_secret());
            match bool::from(same) && c.active {
                true => Ok((
                    Caller {
                        access_key_id: c.access_key_id.clone(),
                        user: c.user.clone(),
                    },
                    Proof::AccessKey,
                )),
                false => Err(SignInError::Refused),
            }
        }
    }
}

/// Failed sign-ins per source address.
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl Throttle {
    /// Whether `source` may try now.
    pub fn admits(&self, source: Option<IpAddr>) -> bool {
        let Some(ip) = source else { return true };
        let now = Instant::now();
        let map = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(&ip)
            .is_none_or(|(start, n)| now.duration_since(*start) >= WINDOW || *n < MAX_FAILURES)
    }

    /// Counts a failure of `source`.
    pub fn failed(&self, source: Option<IpAddr>) {
        let Some(ip) = source else { return };
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_SOURCES {
            map.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = map.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_refuses_after_max_failures() {
        let t = Throttle::default();
        let ip: Option<IpAddr> = Some([127, 0, 0, 9].into());
        for _ in 0..MAX_FAILURES {
            assert!(t.admits(ip));
            t.failed(ip);
        }
        assert!(!t.admits(ip));
        assert!(t.admits(Some([127, 0, 0, 10].into())));
    }
}
