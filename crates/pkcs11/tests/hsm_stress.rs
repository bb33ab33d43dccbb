//! Keys made in the token while other threads of the process use it, the way a server does:
//! SoftHSM2 2.6.1 failed about one `C_GenerateKey` in five with `CKR_GENERAL_ERROR` while
//! other sessions searched for objects (`C_FindObjectsInit` re-reads every object of the
//! token, among them the one being written), until [`Token`] kept finds apart from the making
//! of objects. Encrypting, decrypting, signing and reading attributes do not race with it and
//! run alongside, unlocked.
//!
//! Bounded: a fixed number of keys, and a deadline after which the generating stops.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cryptoki::object::ObjectHandle;
use openkms_pkcs11::{Extractable, PairKind, PairSign, PairUse, Token, testing};

/// AES keys made and destroyed while the other threads run.
const AES_KEYS: usize = 100;
/// P-256 key pairs made and destroyed while the other threads run.
const EC_PAIRS: usize = 10;
/// Threads using the token meanwhile.
const USERS: usize = 4;
/// When generating stops, however far it got.
const DEADLINE: Duration = Duration::from_secs(60);
/// The DER of the named curve P-256.
const P256: &[u8] = &[0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];

/// What the users work with: an AES key and a P-256 private key, both findable by label.
struct Fixture {
    label: String,
    aes: ObjectHandle,
    ec: ObjectHandle,
}

/// One user: seals and opens, finds both keys, signs and reads an attribute, round after
/// round until `done`; counts its rounds.
fn user(token: Arc<Token>, keys: Arc<Fixture>, done: Arc<AtomicBool>, rounds: Arc<AtomicUsize>) {
    while !done.load(Ordering::SeqCst) {
        let sealed = token
            .gcm_seal(keys.aes, &[7; 12], b"aad", b"hello")
            .unwrap();
        let opened = token.gcm_open(keys.aes, &[7; 12], b"aad", &sealed).unwrap();
        assert_eq!(opened.expose_secret(), b"hello");
        assert_eq!(
            token.find_key(&keys.label, Some(b"aes")).unwrap(),
            Some(keys.aes)
        );
        let found = token.find_private_key(&keys.label, b"ec").unwrap();
        assert_eq!(found, Some(keys.ec));
        token.sign_pair(keys.ec, PairSign::Ecdsa, &[1; 32]).unwrap();
        assert!(!token.is_extractable(keys.aes).unwrap());
        rounds.fetch_add(1, Ordering::Relaxed);
    }
}

fn start_users(
    token: &Arc<Token>,
    keys: &Arc<Fixture>,
    done: &Arc<AtomicBool>,
) -> (Vec<JoinHandle<()>>, Arc<AtomicUsize>) {
    let rounds = Arc::new(AtomicUsize::new(0));
    let users = (0..USERS)
        .map(|_| {
            let (token, keys, done, rounds) =
                (token.clone(), keys.clone(), done.clone(), rounds.clone());
            std::thread::spawn(move || user(token, keys, done, rounds))
        })
        .collect();
    (users, rounds)
}

/// Makes and destroys the keys; the failures, as text.
fn generate_all(token: &Token, label: &str) -> Vec<String> {
    let started = Instant::now();
    let mut failures = Vec::new();
    for i in 0..AES_KEYS + EC_PAIRS {
        if started.elapsed() > DEADLINE {
            failures.push(format!("deadline passed after {i} keys"));
            break;
        }
        let id = format!("made-{i}");
        let made = match i < AES_KEYS {
            true => token.generate_key(label, id.as_bytes(), Extractable::Never),
            false => token
                .generate_pair(
                    PairKind::Ec(P256),
                    PairUse::Sign,
                    label,
                    id.as_bytes(),
                    Extractable::Never,
                )
                .map(|(private, _)| private),
        };
        match made {
            Ok(key) => token.destroy(key).unwrap(),
            Err(e) => failures.push(format!("key {i}: {e}")),
        }
    }
    failures
}

#[test]
fn keys_are_made_while_other_threads_find_encrypt_and_sign() {
    let Some(token) = testing::token() else {
        return;
    };
    let label = "openkms/stress/fixture".to_owned();
    let aes = token
        .generate_key(&label, b"aes", Extractable::Never)
        .unwrap();
    let (ec, _) = token
        .generate_pair(
            PairKind::Ec(P256),
            PairUse::Sign,
            &label,
            b"ec",
            Extractable::Never,
        )
        .unwrap();
    let keys = Arc::new(Fixture { label, aes, ec });
    let done = Arc::new(AtomicBool::new(false));
    let (users, rounds) = start_users(&token, &keys, &done);

    let failures = generate_all(&token, "openkms/stress/made");

    done.store(true, Ordering::SeqCst);
    for user in users {
        user.join().unwrap();
    }
    token.destroy(keys.aes).unwrap();
    token.destroy(keys.ec).unwrap();
    assert_eq!(failures, Vec::<String>::new());
    // The users did run alongside: the keys were made under concurrent use.
    assert!(
        rounds.load(Ordering::Relaxed) >= USERS,
        "the users barely ran"
    );
    assert_eq!(token.find_key("openkms/stress/made", None).unwrap(), None);
}
