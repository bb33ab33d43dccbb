//! Console sessions: a random server-side id in a cookie, with idle and absolute timeouts.
//!
//! The id (256 random bits, base64url) is the only thing the browser holds; everything else
//! (who signed in, the CSRF token, the public handle written in audit lines) stays here. A
//! session ends when it has been idle too long, when it reaches its absolute lifetime, or at
//! sign-out, which removes it on the server so the cookie is worthless afterwards. At most
//! `max_sessions` exist at once: a sign-in past that first drops expired sessions, then is
//! refused. The map is keyed by the id's SHA-256, so the id itself is never compared byte by
//! byte against a stored one.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openkms_core::{OsRandom, SecureRandom};
use openkms_ops::Caller;

/// The cookie holding the session id.
pub const COOKIE: &str = "openkms_console";

/// Session timeouts and the cap on open sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session this old ends, however busy.
    pub absolute: Duration,
    /// Most sessions open at once.
    pub max_sessions: usize,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(15 * 60),
            absolute: Duration::from_secs(8 * 3600),
            max_sessions: 1024,
        }
    }
}

/// How the session's identity proved itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// A RAM user's console password (login profile).
    Password,
    /// An AccessKey pair (root or a RAM user's).
    AccessKey,
}

/// A signed-in session, as a request sees it.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who is signed in: every action runs as this caller.
    pub caller: Caller,
    /// How they signed in.
    pub proof: Proof,
    /// The token every POST of this session must carry.
    pub csrf: String,
    /// Written in audit lines to tie them to this session (not the id).
    pub handle: String,
    /// The user must choose a new password before anything else (its login profile says
    /// `PasswordResetRequired`).
    pub must_change: bool,
    created: Instant,
    last_seen: Instant,
}

/// The open sessions.
pub struct Sessions {
    limits: SessionLimits,
    open: Mutex<HashMap<[u8; 32], Session>>,
    rng: OsRandom,
}

impl Sessions {
    /// No session yet.
    pub fn new(limits: SessionLimits) -> Self {
        Self {
            limits,
            open: Mutex::new(HashMap::new()),
            rng: OsRandom::default(),
        }
    }

    /// Opens a session for `caller`: its id (for the cookie) and public handle (for the audit
    /// log), or `None` when too many are open.
    pub fn open(
        &self,
        caller: Caller,
        proof: Proof,
        must_change: bool,
    ) -> Option<(String, String)> {
        let now = Instant::now();
        let id = self.token(32);
        let session = Session {
            caller,
            proof,
            csrf: self.token(32),
            handle: self.token(9),
            must_change,
            created: now,
            last_seen: now,
        };
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.len() >= self.limits.max_sessions {
            open.retain(|_, s| self.live(s, now));
        }
        if open.len() >= self.limits.max_sessions {
            return None;
        }
        let handle = session.handle.clone();
        open.insert(digest(&id), session);
        Some((id, handle))
    }

    /// The live session of `id`, its idle clock restarted; an expired one is removed.
    pub fn find(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        let key = digest(id);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let live = open.get(&key).is_some_and(|s| self.live(s, now));
        if !live {
            open.remove(&key);
            return None;
        }
        let session = open.get_mut(&key)?;
        session.last_seen = now;
        Some(session.clone())
    }

    /// Notes that the session of `id` has changed its password.
    pub fn password_changed(&self, id: &str) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = open.get_mut(&digest(id)) {
            s.must_change = false;
        }
    }

    /// Ends the session of `id` (sign-out).
    pub fn close(&self, id: &str) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.remove(&digest(id));
    }

    fn live(&self, s: &Session, now: Instant) -> bool {
        now.duration_since(s.last_seen) < self.limits.idle
            && now.duration_since(s.created) < self.limits.absolute
    }

    /// `bytes` random bytes, base64url.
    fn token(&self, bytes: usize) -> String {
        let mut raw = vec![0u8; bytes];
        self.rng.fill(&mut raw);
        URL_SAFE_NO_PAD.encode(raw)
    }
}

/// The map key of a session id: its SHA-256.
fn digest(id: &str) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, id.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn caller() -> Caller {
        Caller {
            access_key_id: String::new(),
            user: "alice".into(),
        }
    }

    #[test]
    fn sessions_open_find_close_and_expire() {
        let limits = SessionLimits {
            idle: Duration::from_millis(1500),
            absolute: Duration::from_secs(60),
            max_sessions: 2,
        };
        let s = Sessions::new(limits);
        let (a, handle) = s.open(caller(), Proof::Password, false).unwrap();
        let found = s.find(&a).unwrap();
        assert_eq!(found.caller.user, "alice");
        assert_ne!(found.csrf, found.handle);
        assert_eq!(found.handle, handle);
        assert!(s.find("not-an-id").is_none());
        let (b, _) = s.open(caller(), Proof::AccessKey, false).unwrap();
        assert!(s.open(caller(), Proof::Password, false).is_none(), "capped");
        s.close(&b);
        assert!(s.find(&b).is_none(), "closed on the server");
        std::thread::sleep(Duration::from_millis(1800));
        assert!(s.find(&a).is_none(), "idle timeout");
        assert!(
            s.open(caller(), Proof::Password, false).is_some(),
            "expired ones make room"
        );
    }
}
