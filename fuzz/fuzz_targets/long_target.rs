//! The transport's request-head follower (`openkms_api::server::long_target`): the bytes of a
//! connection, as a client may send them, through the wrapper that moves over-long `POST`
//! targets into the form body.
//!
//! Checks: no panic; a stream with no line over the long-target threshold passes byte for
//! byte; the output is never more than the input plus the two headers a move writes per head.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openkms_api::server::long_target::{LONG_TARGET, rewrite};

fuzz_target!(|data: &[u8]| {
    // Small inputs exercise the state machine; a long target needs the threshold reached, so
    // the first byte (when it is 0xff) stretches the input's first line past it.
    let input = match data.split_first() {
        Some((0xff, rest)) => {
            let mut v = b"POST /?P=".to_vec();
            v.extend(std::iter::repeat_n(b'a', LONG_TARGET));
            v.extend_from_slice(rest);
            v
        }
        _ => data.to_vec(),
    };
    let out = rewrite(&input, 256 * 1024);
    let longest_line = input.split(|&b| b == b'\n').map(<[u8]>::len).max().unwrap_or(0);
    if longest_line <= LONG_TARGET {
        assert_eq!(out, input, "nothing to move, and yet the bytes changed");
    }
    let heads = input.windows(4).filter(|w| w == b"\r\n\r\n").count() + 1;
    assert!(out.len() <= input.len() + heads * 128, "the output grew more than the moves allow");
});
