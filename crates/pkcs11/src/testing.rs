//! A token for tests, from the environment: the PKCS#11 module `OPENKMS_TEST_PKCS11_MODULE`
//! (default: SoftHSM2 where it is installed) and either an initialised token named by
//! `OPENKMS_TEST_PKCS11_TOKEN_LABEL` with its user PIN in `OPENKMS_TEST_PKCS11_PIN`, or — for
//! SoftHSM2 run through `scripts/softhsm-env.sh`, which points `SOFTHSM2_CONF` at a temporary
//! token directory — a token this process initialises in the module's free slot.
//!
//! Without a module, or with SoftHSM2 but no `SOFTHSM2_CONF` (the tests never write tokens
//! into the system's directory), [`token`] says so loudly and returns `None`, and the test
//! skips; with `CI` set it panics instead. Not for serving: it is public only so that the
//! tests of other crates (the provider conformance suite) reach it.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use openkms_core::SecretBytes;

use crate::token::{Token, TokenError, context};

/// The SoftHSM2 module on Debian and Ubuntu.
const SOFTHSM_MODULES: [&str; 3] = [
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
];
/// The user PIN of the token this process initialises.
const PIN: &str = "openkms-test-pin";
/// Its security officer PIN.
const SO_PIN: &str = "openkms-test-so-pin";

/// The token every test of this process shares; `None` (after a loud message) when there is
/// none to be had.
pub fn token() -> Option<Arc<Token>> {
    static TOKEN: OnceLock<Option<Arc<Token>>> = OnceLock::new();
    TOKEN.get_or_init(open_or_skip).clone()
}

fn open_or_skip() -> Option<Arc<Token>> {
    match open() {
        Ok(token) => Some(Arc::new(token)),
        Err(why) => {
            let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
            assert!(!ci, "CI is set but the PKCS#11 tests cannot run: {why}");
            eprintln!("!!!!!!!! SKIPPED: PKCS#11 tests -- {why} !!!!!!!!");
            None
        }
    }
}

fn open() -> Result<Token, String> {
    let module = module().ok_or(
        "no PKCS#11 module: install softhsm2 or set OPENKMS_TEST_PKCS11_MODULE".to_owned(),
    )?;
    if let Ok(label) = std::env::var("OPENKMS_TEST_PKCS11_TOKEN_LABEL") {
        let pin = std::env::var("OPENKMS_TEST_PKCS11_PIN").unwrap_or_default();
        return Token::open(&module, &label, &SecretBytes::new(pin.into_bytes()))
            .map_err(|e| e.to_string());
    }
    if std::env::var_os("SOFTHSM2_CONF").is_none() {
        return Err(
            "SOFTHSM2_CONF is not set: run the tests through scripts/softhsm-env.sh \
                    (or name a token with OPENKMS_TEST_PKCS11_TOKEN_LABEL)"
                .to_owned(),
        );
    }
    let label = format!("openkms-test-{}", std::process::id());
    init_token(&module, &label).map_err(|e| e.to_string())?;
    Token::open(&module, &label, &SecretBytes::new(PIN.as_bytes().to_vec()))
        .map_err(|e| e.to_string())
}

fn module() -> Option<PathBuf> {
    if let Some(given) = std::env::var_os("OPENKMS_TEST_PKCS11_MODULE") {
        return Some(PathBuf::from(given));
    }
    SOFTHSM_MODULES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// Initialises the first uninitialised slot's token as `label`, with the user PIN set.
fn init_token(module: &std::path::Path, label: &str) -> Result<(), TokenError> {
    let ctx = context(module)?;
    let mut free = None;
    for slot in ctx.get_all_slots()? {
        if !ctx.get_token_info(slot)?.token_initialized() {
            free = Some(slot);
            break;
        }
    }
    let slot = free.ok_or_else(|| TokenError::NoToken("(a free slot)".to_owned()))?;
    ctx.init_token(slot, &AuthPin::new(SO_PIN.to_owned()), label)?;
    let session = ctx.open_rw_session(slot)?;
    session.login(UserType::So, Some(&AuthPin::new(SO_PIN.to_owned())))?;
    session.init_pin(&AuthPin::new(PIN.to_owned()))?;
    session.logout()?;
    Ok(())
}
