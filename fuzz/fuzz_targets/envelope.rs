//! The envelope file header and chunks that `openkms decrypt-file` reads
//! (`crates/openkms/src/cli/envelope.rs`, compiled in here by path: the binary crate has no
//! library to link).
//!
//! Checks: no panic, memory bounded by the header limit and one chunk; a header that is
//! accepted is the input's first bytes, names AES-256-GCM and 64 KiB chunks, and serialises
//! back to JSON that reads as the same header; opening the rest with a key that did not seal
//! it never succeeds unless there was nothing to forge (never, since every file has at least
//! one chunk with a tag).
#![no_main]

#[allow(dead_code, unused_imports)]
#[path = "../../crates/openkms/src/cli/envelope.rs"]
mod envelope;

use std::io::{BufReader, Cursor};

use libfuzzer_sys::fuzz_target;
use openkms_core::SecretBytes;

fuzz_target!(|data: &[u8]| {
    let mut input = BufReader::new(Cursor::new(data));
    let Ok((header, head)) = envelope::read_header(&mut input) else {
        return;
    };
    assert!(data.starts_with(&head));
    assert!(envelope::is_envelope(&head));
    assert_eq!(header.cipher, "AES-256-GCM");
    assert_eq!(header.chunk_size as usize, envelope::CHUNK_SIZE);
    let json = serde_json::to_vec(&header).expect("a header serialises");
    let again: envelope::Header = serde_json::from_slice(&json).expect("and reads back");
    assert_eq!(again, header);
    let key = SecretBytes::new(vec![0x42; 32]);
    let mut sink = Vec::new();
    let opened = envelope::open(&key, &header, &head, &mut input, &mut sink);
    assert!(opened.is_err(), "a forged envelope opened");
    assert!(sink.len() <= data.len());
});
