//! One PKCS#11 token, logged in as its user: the module, the slot, a small pool of sessions,
//! and the few token operations openkms needs (find or make a non-extractable AES-256 key,
//! AES-256-GCM in the token; the key-pair operations are in [`crate::pair_token`]).
//!
//! A module is initialised once per process and never finalised (a second `C_Initialize` of
//! the same library fails, and finalising would close every other user's sessions), so
//! [`Token::open`] keeps one context per module path. Sessions are not `Sync`: each operation
//! takes a session from the pool, or opens one, and puts it back. A session the token closed
//! is dropped rather than returned. The login is held by a session kept only for that, so it
//! lasts as long as the [`Token`]. Objects are made and destroyed one at a time, and never
//! while objects are searched for (the `objects` lock says why); the cryptographic calls run
//! on any session at any time.
//!
//! Errors say which PKCS#11 function failed and its return value, never the PIN. This module
//! knows nothing of openkms's formats: [`crate::root`] and [`crate::provider`] lay out bytes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, RwLock, RwLockWriteGuard};

use cryptoki::context::{CInitializeArgs, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use openkms_core::SecretBytes;

/// Length of the keys openkms keeps in a token (AES-256).
pub const KEY_LEN: usize = 32;
/// Length of the GCM tag, in bytes.
pub const TAG_LEN: usize = 16;
/// Sessions kept open for reuse; more may be open at once under load, and are closed after.
const POOL_MAX: usize = 16;

/// Why a token could not be opened or used. Never holds the PIN.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The module could not be loaded or initialised.
    #[error("PKCS#11 module {module}: {detail}")]
    Module {
        /// The module's path.
        module: PathBuf,
        /// What went wrong (loader or PKCS#11 error text).
        detail: String,
    },
    /// No slot holds an initialised token with that label.
    #[error("no PKCS#11 token labelled {0:?} in the module")]
    NoToken(String),
    /// The PIN is not valid text.
    #[error("the PKCS#11 PIN is not valid UTF-8")]
    PinNotText,
    /// The token refused the user PIN (wrong, locked or expired).
    #[error("the PKCS#11 token refused the user PIN ({0:?})")]
    Login(RvError),
    /// Several keys carry the label; which one is the right one cannot be told.
    #[error("several PKCS#11 keys are labelled {0:?}; remove the extra ones")]
    Ambiguous(String),
    /// A PKCS#11 call failed.
    #[error("PKCS#11: {0}")]
    Call(CkError),
}

impl From<CkError> for TokenError {
    fn from(e: CkError) -> Self {
        Self::Call(e)
    }
}

/// An opened token, logged in as its user. `Send + Sync`: sessions come from a pool.
pub struct Token {
    ctx: Pkcs11,
    slot: Slot,
    pool: Mutex<Vec<Session>>,
    /// Keeps the making and destroying of token objects apart from each other and from every
    /// search for objects: written by [`Token::generate_key`], [`Token::generate_pair`] and
    /// [`Token::destroy`], read by the finds. SoftHSM2 2.6.1 (`ObjectFile::refresh`, fixed
    /// upstream after that release) lets `C_FindObjectsInit` re-read every token object of the
    /// process, among them one that another session is still writing: it finds the file empty
    /// or half written and marks the shared object invalid, and the `C_GenerateKey` or
    /// `C_GenerateKeyPair` writing it fails with `CKR_GENERAL_ERROR`, leaving an unnamed
    /// object file behind. Finds run only when a key is loaded (the service caches loaded
    /// keys), so Encrypt, Decrypt, Sign and attribute reads never take this lock; those calls
    /// re-read only their own key and do not race (`tests/hsm_stress.rs`).
    objects: RwLock<()>,
    /// Holds the user login for the application (PKCS#11 logs in all sessions together).
    _login: Mutex<Session>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token(slot {})", self.slot.id())
    }
}

/// Whether a key made here may ever leave the token (only test keys may).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extractable {
    /// `CKA_EXTRACTABLE=false`, `CKA_SENSITIVE=true`: every key openkms serves with.
    Never,
    /// Readable with `C_GetAttributeValue`: for the tests that check the format with another
    /// implementation.
    ForTests,
}

impl Token {
    /// Loads `module` (once per process), finds the token labelled `label` and logs in as its
    /// user with `pin`.
    pub fn open(module: &Path, label: &str, pin: &SecretBytes) -> Result<Self, TokenError> {
        let ctx = context(module)?;
        let slot = find_slot(&ctx, label)?;
        let pin = std::str::from_utf8(pin.expose_secret()).map_err(|_| TokenError::PinNotText)?;
        let pin = AuthPin::new(pin.to_owned());
        let login = ctx.open_rw_session(slot)?;
        match login.login(UserType::User, Some(&pin)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(CkError::Pkcs11(rv, _)) => return Err(TokenError::Login(rv)),
            Err(e) => return Err(e.into()),
        }
        Ok(Self {
            ctx,
            slot,
            pool: Mutex::new(Vec::new()),
            objects: RwLock::new(()),
            _login: Mutex::new(login),
        })
    }

    /// Runs `f` on a session of the pool (or a new one), then returns the session to the pool
    /// unless the token closed it.
    pub fn with_session<T>(
        &self,
        f: impl FnOnce(&Session) -> Result<T, CkError>,
    ) -> Result<T, TokenError> {
        let pooled = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let session = match pooled {
            Some(s) => s,
            None => self.ctx.open_rw_session(self.slot)?,
        };
        let result = f(&session);
        let closed = matches!(
            result,
            Err(CkError::Pkcs11(
                RvError::SessionHandleInvalid | RvError::SessionClosed,
                _
            ))
        );
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if !closed && pool.len() < POOL_MAX {
            pool.push(session);
        }
        drop(pool);
        result.map_err(TokenError::Call)
    }

    /// The one secret key labelled `label` (and with the `CKA_ID` `id`, when given), if any.
    pub fn find_key(
        &self,
        label: &str,
        id: Option<&[u8]>,
    ) -> Result<Option<ObjectHandle>, TokenError> {
        let mut template = vec![
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        if let Some(id) = id {
            template.push(Attribute::Id(id.to_vec()));
        }
        let found = self.find_objects(&template)?;
        match found.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            _ => Err(TokenError::Ambiguous(label.to_owned())),
        }
    }

    /// The objects matching `template`, searched while no object is being made or destroyed
    /// (see the `objects` field).
    pub(crate) fn find_objects(
        &self,
        template: &[Attribute],
    ) -> Result<Vec<ObjectHandle>, TokenError> {
        let _nothing_being_made = self.objects.read().unwrap_or_else(|p| p.into_inner());
        self.with_session(|s| s.find_objects(template))
    }

    /// Makes an AES-256 token key labelled `label` with the `CKA_ID` `id`, usable only to
    /// encrypt and decrypt.
    pub fn generate_key(
        &self,
        label: &str,
        id: &[u8],
        extractable: Extractable,
    ) -> Result<ObjectHandle, TokenError> {
        let open = extractable == Extractable::ForTests;
        let template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::ValueLen((KEY_LEN as u64).into()),
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(!open),
            Attribute::Extractable(open),
            Attribute::Encrypt(true),
            Attribute::Decrypt(true),
            Attribute::Wrap(false),
            Attribute::Unwrap(false),
            Attribute::Sign(false),
            Attribute::Verify(false),
            Attribute::Derive(false),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.to_vec()),
        ];
        let _alone = self.objects_lock();
        self.with_session(|s| s.generate_key(&Mechanism::AesKeyGen, &template))
    }

    /// Holds off every other making or destroying of token objects, and every find, while it
    /// lives.
    pub(crate) fn objects_lock(&self) -> RwLockWriteGuard<'_, ()> {
        self.objects.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Destroys a key (used when a test or a failed create cleans up).
    pub fn destroy(&self, key: ObjectHandle) -> Result<(), TokenError> {
        let _alone = self.objects_lock();
        self.with_session(|s| s.destroy_object(key))
    }

    /// Whether `key` can leave the token: true only for [`Extractable::ForTests`] keys.
    pub fn is_extractable(&self, key: ObjectHandle) -> Result<bool, TokenError> {
        let attrs = self.with_session(|s| s.get_attributes(key, &[AttributeType::Extractable]))?;
        Ok(attrs
            .iter()
            .any(|a| matches!(a, Attribute::Extractable(true))))
    }

    /// The value of an extractable test key ([`Extractable::ForTests`]); a real key refuses.
    pub fn key_value(&self, key: ObjectHandle) -> Result<SecretBytes, TokenError> {
        let attrs = self.with_session(|s| s.get_attributes(key, &[AttributeType::Value]))?;
        for a in attrs {
            if let Attribute::Value(v) = a {
                return Ok(SecretBytes::new(v));
            }
        }
        Err(TokenError::Call(CkError::NotSupported))
    }

    /// AES-256-GCM in the token: ciphertext ‖ 16-byte tag.
    pub fn gcm_seal(
        &self,
        key: ObjectHandle,
        iv: &[u8; 12],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, TokenError> {
        let mut iv = *iv;
        self.with_session(|s| {
            let params = GcmParams::new(&mut iv, aad, ((TAG_LEN * 8) as u64).into())?;
            s.encrypt(&Mechanism::AesGcm(params), key, plaintext)
        })
    }

    /// Opens ciphertext ‖ tag in the token; any failure (including a wrong tag) is an error.
    pub fn gcm_open(
        &self,
        key: ObjectHandle,
        iv: &[u8; 12],
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<SecretBytes, TokenError> {
        let mut iv = *iv;
        let plain = self.with_session(|s| {
            let params = GcmParams::new(&mut iv, aad, ((TAG_LEN * 8) as u64).into())?;
            s.decrypt(&Mechanism::AesGcm(params), key, sealed)
        })?;
        Ok(SecretBytes::new(plain))
    }
}

/// The module's context, initialised once per process and kept for its lifetime.
pub(crate) fn context(module: &Path) -> Result<Pkcs11, TokenError> {
    static CONTEXTS: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let mut contexts = CONTEXTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(ctx) = contexts.get(module) {
        return Ok(ctx.clone());
    }
    let failed = |detail: String| TokenError::Module {
        module: module.to_owned(),
        detail,
    };
    let ctx = Pkcs11::new(module).map_err(|e| failed(e.to_string()))?;
    match ctx.initialize(CInitializeArgs::OsThreads) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(failed(e.to_string())),
    }
    contexts.insert(module.to_owned(), ctx.clone());
    Ok(ctx)
}

/// The slot whose initialised token is labelled `label` (labels are blank-padded on the
/// token; `TokenInfo::label` trims them).
fn find_slot(ctx: &Pkcs11, label: &str) -> Result<Slot, TokenError> {
    for slot in ctx.get_slots_with_initialized_token()? {
        if ctx.get_token_info(slot)?.label() == label {
            return Ok(slot);
        }
    }
    Err(TokenError::NoToken(label.to_owned()))
}
