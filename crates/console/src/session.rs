//! Console sessions: a random server-side id in a cookie, with idle and absolute timeouts.
//!
//! The id (256 random bits, base64url) is the only thing the browser holds; everything else
//! (who signed in, the CSRF token, the public handle written in audit lines) stays here. A
//! session ends when it has been idle too long, when it reaches its absolute lifetime, or at
//! sign-out, which removes it on the server so the cookie is worthless afterwards. At most
//! `max_sessions` exist at once, and at most `per_identity` for one user name: a sign-in
//! past either ends the identity's oldest session, or expired ones, or the least recently
//! used one. The map is keyed by the id's SHA-256, so the id itself is never compared byte by
//! byte against a stored one.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openkms_core::{OsRandom, SecureRandom};
use openkms_ops::Caller;
use zeroize::Zeroizing;

/// The cookie holding the session id. The `__Host-` prefix makes a browser take it only
/// when set `Secure`, with `Path=/` and no `Domain`, from the console's own host: no
/// sibling subdomain or other path can plant (shadow) a session cookie of its own.
pub const COOKIE: &str = "__Host-openkms_console";
/// The cookie holding the sign-in form's pre-session CSRF token.
pub const SIGNIN_COOKIE: &str = "__Host-openkms_signin";

/// Session timeouts and the cap on open sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session this old ends, however busy.
    pub absolute: Duration,
    /// Most sessions open at once.
    pub max_sessions: usize,
    /// Most sessions one identity (user name) holds at once.
    pub per_identity: usize,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(15 * 60),
            absolute: Duration::from_secs(8 * 3600),
            max_sessions: 1024,
            per_identity: 8,
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

/// A signed-in session, as a request sees it. No `Debug`: its CSRF token must not reach a
/// log (the token is wiped when a copy is dropped).
#[derive(Clone)]
pub struct Session {
    /// Who is signed in: every action runs as this caller.
    pub caller: Caller,
    /// How they signed in.
    pub proof: Proof,
    /// The token every POST of this session must carry.
    pub csrf: Zeroizing<String>,
    /// Written in audit lines to tie them to this session (not the id).
    pub handle: String,
    /// The user must choose a new password before anything else (its login profile says
    /// `PasswordResetRequired`).
    pub must_change: bool,
    /// For a password session, the login profile's fingerprint at sign-in
    /// ([`openkms_core::PasswordCheck::fingerprint`]): a profile changed since (a new
    /// password, the reset flag set, the profile or user deleted and made again) ends it.
    pub profile: Option<[u8; 32]>,
    created: Instant,
    last_seen: Instant,
}

/// What a cookie's session id finds.
pub enum Lookup {
    /// A live session.
    Live(Box<Session>),
    /// A session that had expired (now removed).
    Expired(Box<Session>),
    /// No session.
    Unknown,
}

/// What a password sign-in's login profile said.
#[derive(Clone, Copy)]
pub struct Profile {
    /// Its fingerprint ([`openkms_core::PasswordCheck::fingerprint`]).
    pub fingerprint: [u8; 32],
    /// Whether it requires a new password first.
    pub must_change: bool,
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
    /// log). An identity (a user name) holds at most `per_identity` sessions: its oldest ends
    /// to make room for a new one. When `max_sessions` are open, expired ones are dropped and,
    /// if none was, the least recently used session ends: a sign-in is never refused for
    /// room, and one identity cannot fill the table against the others.
    pub fn open(&self, caller: Caller, proof: Proof, profile: Option<Profile>) -> (String, String) {
        let now = Instant::now();
        let id = self.token(32);
        let session = Session {
            caller,
            proof,
            csrf: Zeroizing::new(self.token(32)),
            handle: self.token(9),
            must_change: profile.is_some_and(|p| p.must_change),
            profile: profile.map(|p| p.fingerprint),
            created: now,
            last_seen: now,
        };
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let user = &session.caller.user;
        let theirs = open.values().filter(|s| &s.caller.user == user).count();
        if theirs >= self.limits.per_identity {
            evict(&mut open, |s| &s.caller.user == user, |s| s.created);
        }
        if open.len() >= self.limits.max_sessions {
            open.retain(|_, s| self.live(s, now));
        }
        if open.len() >= self.limits.max_sessions {
            evict(&mut open, |_| true, |s| s.last_seen);
        }
        let handle = session.handle.clone();
        open.insert(digest(&id), session);
        (id, handle)
    }

    /// The live session of `id`, its idle clock restarted; an expired one is removed.
    pub fn find(&self, id: &str) -> Option<Session> {
        match self.look_up(id) {
            Lookup::Live(s) => Some(*s),
            Lookup::Expired(_) | Lookup::Unknown => None,
        }
    }

    /// The session of `id`: live (its idle clock restarted), or just now found expired and
    /// removed (so each expiry is seen once), or unknown.
    pub fn look_up(&self, id: &str) -> Lookup {
        let now = Instant::now();
        let key = digest(id);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(session) = open.get_mut(&key) else {
            return Lookup::Unknown;
        };
        if !self.live(session, now) {
            return open
                .remove(&key)
                .map_or(Lookup::Unknown, |s| Lookup::Expired(Box::new(s)));
        }
        session.last_seen = now;
        Lookup::Live(Box::new(session.clone()))
    }

    /// Notes that the session of `id` has changed its own password: it goes on with the new
    /// profile (the user's other sessions end at their next request).
    pub fn password_changed(&self, id: &str, fingerprint: [u8; 32]) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = open.get_mut(&digest(id)) {
            s.must_change = false;
            s.profile = Some(fingerprint);
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

    /// A fresh 256-bit token (the sign-in form's CSRF token).
    pub fn new_token(&self) -> String {
        self.token(32)
    }

    /// `bytes` random bytes, base64url.
    fn token(&self, bytes: usize) -> String {
        let mut raw = vec![0u8; bytes];
        self.rng.fill(&mut raw);
        URL_SAFE_NO_PAD.encode(raw)
    }
}

/// Ends the session among those `which` selects whose `age` instant is earliest.
fn evict(
    open: &mut HashMap<[u8; 32], Session>,
    which: impl Fn(&Session) -> bool,
    age: impl Fn(&Session) -> Instant,
) {
    let oldest = open
        .iter()
        .filter(|(_, s)| which(s))
        .min_by_key(|(_, s)| age(s))
        .map(|(k, _)| *k);
    if let Some(k) = oldest {
        open.remove(&k);
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

    fn user(name: &str) -> Caller {
        Caller {
            access_key_id: String::new(),
            user: name.into(),
        }
    }

    #[test]
    fn sessions_open_find_close_and_expire() {
        let limits = SessionLimits {
            idle: Duration::from_millis(1500),
            absolute: Duration::from_secs(60),
            max_sessions: 3,
            per_identity: 3,
        };
        let s = Sessions::new(limits);
        let (a, handle) = s.open(caller(), Proof::Password, None);
        let found = s.find(&a).unwrap();
        assert_eq!(found.caller.user, "alice");
        assert_ne!(*found.csrf, found.handle);
        assert_eq!(found.handle, handle);
        assert!(s.find("not-an-id").is_none());
        let (b, _) = s.open(caller(), Proof::AccessKey, None);
        s.close(&b);
        assert!(s.find(&b).is_none(), "closed on the server");
        std::thread::sleep(Duration::from_millis(1800));
        assert!(matches!(s.look_up(&a), Lookup::Expired(_)), "idle timeout");
        assert!(
            matches!(s.look_up(&a), Lookup::Unknown),
            "seen expired once"
        );
    }

    #[test]
    fn an_identity_past_its_cap_loses_its_oldest_session() {
        let limits = SessionLimits {
            per_identity: 2,
            ..SessionLimits::default()
        };
        let s = Sessions::new(limits);
        let (root, _) = s.open(user("root"), Proof::AccessKey, None);
        let (first, _) = s.open(caller(), Proof::Password, None);
        std::thread::sleep(Duration::from_millis(5));
        let (second, _) = s.open(caller(), Proof::Password, None);
        let (third, _) = s.open(caller(), Proof::Password, None);
        assert!(s.find(&first).is_none(), "alice's oldest ended");
        assert!(s.find(&second).is_some() && s.find(&third).is_some());
        assert!(s.find(&root).is_some(), "another identity untouched");
    }

    #[test]
    fn a_full_table_ends_the_least_recently_used_session() {
        let limits = SessionLimits {
            max_sessions: 3,
            ..SessionLimits::default()
        };
        let s = Sessions::new(limits);
        let (a, _) = s.open(user("a"), Proof::Password, None);
        std::thread::sleep(Duration::from_millis(5));
        let (b, _) = s.open(user("b"), Proof::Password, None);
        std::thread::sleep(Duration::from_millis(5));
        let (c, _) = s.open(user("c"), Proof::Password, None);
        std::thread::sleep(Duration::from_millis(5));
        assert!(
            s.find(&a).is_some(),
            "a used again: b is now the least recent"
        );
        let (d, _) = s.open(user("d"), Proof::AccessKey, None);
        assert!(s.find(&b).is_none());
        for id in [&a, &c, &d] {
            assert!(s.find(id).is_some());
        }
    }

    #[test]
    fn a_password_session_holds_its_profile_until_it_changes_it() {
        let s = Sessions::new(SessionLimits::default());
        let profile = Profile {
            fingerprint: [1; 32],
            must_change: true,
        };
        let (id, _) = s.open(caller(), Proof::Password, Some(profile));
        let found = s.find(&id).unwrap();
        assert!(found.must_change);
        assert_eq!(found.profile, Some([1; 32]));
        s.password_changed(&id, [2; 32]);
        let found = s.find(&id).unwrap();
        assert!(!found.must_change);
        assert_eq!(found.profile, Some([2; 32]));
    }
}
