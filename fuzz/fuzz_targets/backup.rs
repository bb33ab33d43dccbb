//! The backup file that `openkms restore` reads (`crates/openkms/src/cli/backup/format.rs`,
//! compiled in here by path: the binary crate has no library to link).
//!
//! Two inputs per run: the fuzzer's bytes as a whole file (almost always refused by the
//! digest), and the same bytes sealed as a file of this version with a correct digest, so the
//! parser behind the digest is reached. Checks: no panic; a file that decodes names the
//! digest it ends with, and its snapshot encoded again (with its header) decodes to the same
//! snapshot; flipping the last byte of a decodable file makes it refused.
#![no_main]

#[allow(dead_code, unused_imports)]
#[path = "../../crates/openkms/src/cli/backup/format.rs"]
mod format;

use aws_lc_rs::digest::{SHA256, digest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check(data);
    let mut sealed = Vec::with_capacity(data.len() + 42);
    sealed.extend_from_slice(format::MAGIC);
    sealed.extend_from_slice(&format::VERSION.to_be_bytes());
    sealed.extend_from_slice(data);
    let sum = digest(&SHA256, &sealed);
    sealed.extend_from_slice(sum.as_ref());
    check(&sealed);
});

fn check(file: &[u8]) {
    let Ok(decoded) = format::decode(file) else {
        return;
    };
    let tail: String = file[file.len() - 32..].iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(decoded.sha256, tail);
    let again = format::encode(&decoded.snapshot, &decoded.header);
    let redecoded = format::decode(&again).expect("an encoded snapshot decodes");
    assert_eq!(redecoded.snapshot, decoded.snapshot);
    let mut flipped = file.to_vec();
    *flipped.last_mut().expect("a decoded file is not empty") ^= 1;
    assert!(format::decode(&flipped).is_err(), "a file with a flipped digest decoded");
}
