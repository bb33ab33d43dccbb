//! Test support: runs `openssl pkeyutl` as the independent implementation the key-pair and BYOK
//! tests check against.

use std::process::Command;

/// `openssl pkeyutl <mode> -keyform DER -inkey <key> -in <input>` with `-pkeyopt` options;
/// `mode` is `-encrypt -pubin` (a DER public key) or `-decrypt` (a PKCS#8 DER private key).
pub(crate) fn pkeyutl(mode: &[&str], key_der: &[u8], input: &[u8], opts: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (key, data) = (dir.path().join("key.der"), dir.path().join("input.bin"));
    std::fs::write(&key, key_der).unwrap();
    std::fs::write(&data, input).unwrap();
    let mut cmd = Command::new("openssl");
    cmd.arg("pkeyutl")
        .args(mode)
        .args(["-keyform", "DER", "-inkey"])
        .arg(&key)
        .arg("-in")
        .arg(&data);
    for opt in opts {
        cmd.args(["-pkeyopt", opt]);
    }
    let out = cmd
        .output()
        .expect("openssl must be installed for this test");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
