//! End-to-end tests of the `openkms` CLI: the binary against its own server over TLS.
//!
//! Each test that talks to a server starts one (`common::Server`, killed on drop) in a
//! temporary directory; every CLI command runs with a cleared environment and its config home
//! in that directory. What the CLI prints — help, API JSON, errors — is snapshot-tested with
//! `insta` (snapshots in `tests/snapshots/`), with ids, dates and paths redacted. The seed
//! workflow (CreateKey, CreateAlias, encrypt-file, decrypt-file of a PEM key) runs on the CLI
//! alone. The 200 MiB round trip is in `cli_large.rs`.
//!
//! When the CLI's output changes on purpose (a new action changes the top `--help`), update
//! the snapshots with `INSTA_UPDATE=always cargo test -p openkms --test cli` and review
//! `git diff crates/openkms/tests/snapshots`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{Noise, Run, Server, bare_cli, mode, rsa_private_key_pem, run, run_ok};

/// Plaintext bytes per envelope chunk (docs/file-format.md).
const CHUNK: usize = 64 * 1024;
/// Bytes per sealed chunk: plaintext plus the 16-byte GCM tag.
const SEALED_CHUNK: usize = CHUNK + 16;
/// The envelope magic (docs/file-format.md).
const MAGIC: &[u8] = b"\x89OKMS\r\n\x1a";

/// Filters for what changes between runs: ids, dates, account ids; plus `extra`.
fn filters(extra: Vec<(String, String)>) -> Vec<(String, String)> {
    let common = [
        (
            r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
            "[UUID]",
        ),
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "[DATE]"),
        (r"acs:kms:([a-z0-9-]+):\d+:", "acs:kms:$1:[ACCOUNT]:"),
        (r#""Creator": "\d+""#, r#""Creator": "[ACCOUNT]""#),
    ];
    extra
        .into_iter()
        .chain(common.map(|(a, b)| (a.to_owned(), b.to_owned())))
        .collect()
}

/// A filter replacing the temporary directory `tmp` by `[TMP]`.
fn tmp_filter(tmp: &Path) -> (String, String) {
    (regex_escape(&tmp.display().to_string()), "[TMP]".into())
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$#&-~".contains(c);
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}

/// The exit code and both streams, as one text to snapshot.
fn transcript(out: &Run) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.code, out.stdout, out.stderr
    )
}

/// `Encrypt --KeyId <key_id> --Plaintext <plaintext>` against `server`.
fn encrypt(server: &Server, key_id: &str, plaintext: &str) -> Command {
    let mut cmd = server.cli();
    cmd.args(["Encrypt", "--KeyId", key_id, "--Plaintext", plaintext]);
    cmd
}

/// `encrypt-file --key-id <key_id> --in <input> --out <output>` against `server`.
fn encrypt_file(server: &Server, key_id: &str, input: &str, output: &str) -> Command {
    let mut cmd = server.cli();
    cmd.args([
        "encrypt-file",
        "--key-id",
        key_id,
        "--in",
        input,
        "--out",
        output,
    ]);
    cmd
}

/// `decrypt-file --in <input> --out <output>` against `server`.
fn decrypt_file(server: &Server, input: &str, output: &str) -> Command {
    let mut cmd = server.cli();
    cmd.args(["decrypt-file", "--in", input, "--out", output]);
    cmd
}

/// `insta::assert_snapshot!` with the common filters and `$extra` ones.
macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        snapshot!($name, $value, Vec::new())
    };
    ($name:expr, $value:expr, $extra:expr) => {{
        let filters = filters($extra);
        let filters: Vec<(&str, &str)> = filters
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        insta::with_settings!({ filters => filters, prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!($name, $value);
        });
    }};
}

// ---------------------------------------------------------------------------------------
// help and completions (no server)

#[test]
fn help_of_the_top_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(bare_cli(dir.path()).arg("--help"));
    assert_eq!(out.code, 0);
    snapshot!("help_top", transcript(&out));
}

#[test]
fn help_of_operator_lists_the_seal_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(bare_cli(dir.path()).args(["operator", "--help"]));
    assert_eq!(out.code, 0);
    for command in ["init", "unseal", "status", "seal"] {
        assert!(
            out.stdout.contains(command),
            "{command} missing:\n{}",
            out.stdout
        );
    }
    snapshot!("help_operator", transcript(&out));
}

#[test]
fn help_of_encrypt_lists_its_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(bare_cli(dir.path()).args(["Encrypt", "--help"]));
    assert_eq!(out.code, 0);
    for flag in ["--KeyId", "--Plaintext", "--EncryptionContext"] {
        assert!(out.stdout.contains(flag), "{flag} missing:\n{}", out.stdout);
    }
    snapshot!("help_encrypt", transcript(&out));
}

#[test]
fn help_of_backup_and_restore_names_their_stores() {
    let dir = tempfile::tempdir().unwrap();
    for (command, name) in [("backup", "help_backup"), ("restore", "help_restore")] {
        let out = run(bare_cli(dir.path()).args([command, "--help"]));
        assert_eq!(out.code, 0);
        for flag in ["--data-dir", "--database-url", "--database-url-file"] {
            assert!(out.stdout.contains(flag), "{command}: {flag} missing");
        }
        snapshot!(name, transcript(&out));
    }
}

/// A backup file larger than the most a backup may be (1 GiB, docs/backup-format.md) is
/// refused before it is read (a sparse file: it takes no disk, and would take 1 GiB of memory
/// if it were read), by `--check` too.
#[test]
fn restore_refuses_a_file_over_the_size_limit_unread() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.okb");
    let file = fs::File::create(&big).unwrap();
    file.set_len((1 << 30) + 1).unwrap();
    let out = run(bare_cli(dir.path())
        .args(["restore", "--check", "--in"])
        .arg(&big));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("larger than 1024 MiB"),
        "{}",
        out.stderr
    );
}

/// The API actions the top help lists (commands named like `CreateKey`, not `encrypt-file`).
fn actions_in_help(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| name.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_action_has_help_with_one_line_per_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let top = run_ok(bare_cli(dir.path()).arg("--help"));
    let actions = actions_in_help(&top.stdout);
    for seed in [
        "CreateKey",
        "CreateAlias",
        "Encrypt",
        "Decrypt",
        "GenerateDataKey",
    ] {
        assert!(actions.iter().any(|a| a == seed), "{seed} is not a command");
    }
    for action in &actions {
        let out = run(bare_cli(dir.path()).args([action, "--help"]));
        assert_eq!(out.code, 0, "{action} --help: {}", out.stderr);
        // clap puts the help beside the flag, or on the next line when the line would be long.
        let lines: Vec<&str> = out.stdout.lines().collect();
        let mut params = 0;
        for (i, line) in lines.iter().enumerate() {
            if !(line.trim_start().starts_with("--") && line.contains("<VALUE>")) {
                continue;
            }
            params += 1;
            let beside = line.split("<VALUE>").nth(1).unwrap_or_default().trim();
            let below = lines.get(i + 1).map_or("", |l| l.trim());
            assert!(
                !beside.is_empty() || !(below.is_empty() || below.starts_with('-')),
                "{action}: parameter without help: {line}"
            );
        }
        let no_params = [
            "CreateKey",
            "DescribeRegions",
            "ListKeys",
            "ListAliases",
            "DescribeAccountKmsStatus",
        ];
        assert!(
            params > 0 || no_params.contains(&action.as_str()),
            "{action}: no parameters listed:\n{}",
            out.stdout
        );
    }
}

#[test]
fn completions_for_bash() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_ok(bare_cli(dir.path()).args(["completions", "bash"]));
    assert!(out.stdout.contains("_openkms()"), "{}", out.stdout);
    for command in [
        "encrypt-file",
        "decrypt-file",
        "CreateKey",
        "GenerateDataKey",
    ] {
        assert!(out.stdout.contains(command), "no {command} in the script");
    }
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

// ---------------------------------------------------------------------------------------
// API output and errors

#[test]
fn create_key_prints_the_api_json_with_sorted_keys() {
    let server = Server::start();
    let out = run_ok(server.cli().arg("CreateKey"));
    let json = out.json();
    let meta = &json["KeyMetadata"];
    assert_eq!(meta["KeyState"], "Enabled");
    assert!(
        meta["Arn"]
            .as_str()
            .unwrap()
            .ends_with(meta["KeyId"].as_str().unwrap())
    );
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    snapshot!("create_key", transcript(&out));
}

#[test]
fn unknown_key_is_an_api_error_that_says_what_to_do() {
    let server = Server::start();
    let out = run(&mut encrypt(
        &server,
        "00000000-0000-4000-8000-000000000000",
        "aGVsbG8=",
    ));
    assert_eq!(out.code, 1);
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("RequestId: "), "{}", out.stderr);
    snapshot!("error_unknown_key", transcript(&out));
}

#[test]
fn unknown_alias_and_wrong_secret_have_remedies() {
    let server = Server::start();
    let out = run(&mut encrypt(&server, "alias/nobody/has/this", "aGVsbG8="));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("Forbidden.AliasNotFound"));
    assert!(out.stderr.contains("\nWhat to do: "), "{}", out.stderr);

    let out = run(server
        .cli()
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "not-the-secret")
        .arg("CreateKey"));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    let first = out.stderr.lines().next().unwrap_or_default();
    assert_eq!(first, "ERROR: SignatureDoesNotMatch (HTTP 400)");
    assert!(out.stderr.contains("\nRequestId: "), "{}", out.stderr);
    assert!(
        out.stderr.contains("What to do: Check the AccessKeySecret"),
        "{}",
        out.stderr
    );
}

#[test]
fn nothing_listening_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let out = run(bare_cli(dir.path())
        .env("OPENKMS_ENDPOINT", format!("https://127.0.0.1:{port}"))
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIx")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret")
        .arg("CreateKey"));
    assert_eq!(out.code, 2);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    snapshot!(
        "error_nothing_listening",
        transcript(&out),
        vec![(format!(":{port}"), ":[PORT]".to_owned())]
    );
}

#[test]
fn untrusted_server_certificate_is_one_line_and_exit_2() {
    let server = Server::start();
    let other = tempfile::tempdir().unwrap();
    let out = run(bare_cli(other.path())
        .env("OPENKMS_ENDPOINT", &server.url)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", common::ACCESS_KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", common::ACCESS_KEY_SECRET)
        .arg("CreateKey"));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    snapshot!(
        "error_untrusted_certificate",
        transcript(&out),
        vec![(format!(":{}", server.port()), ":[PORT]".to_owned())]
    );
}

#[test]
fn empty_environment_variables_count_as_unset() {
    let server = Server::start();
    let other = tempfile::tempdir().unwrap();
    // An empty CA bundle and profile are not values: the CLI goes on without them (and so
    // meets the server's private CA untrusted), and a given CA bundle is used as before.
    let out = run(bare_cli(other.path())
        .env("OPENKMS_ENDPOINT", &server.url)
        .env("ALIBABA_CLOUD_CA_BUNDLE", "")
        .env("OPENKMS_PROFILE", "")
        .env("ALIBABA_CLOUD_REGION_ID", "")
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", common::ACCESS_KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", common::ACCESS_KEY_SECRET)
        .arg("CreateKey"));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(!out.stderr.contains("value is required"), "{}", out.stderr);
    assert!(out.stderr.contains("certificate"), "{}", out.stderr);
    let out = run_ok(
        server
            .cli()
            .env("OPENKMS_PROFILE", "")
            .env("ALIBABA_CLOUD_REGION_ID", "")
            .arg("CreateKey"),
    );
    assert_eq!(out.json()["KeyMetadata"]["KeyState"], "Enabled");
}

#[test]
fn missing_credentials_say_where_they_are_looked_for() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(bare_cli(dir.path())
        .env("OPENKMS_ENDPOINT", "https://127.0.0.1:1")
        .arg("CreateKey"));
    assert_eq!(out.code, 2);
    for place in [
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "openkms configure",
        "config.toml",
    ] {
        assert!(out.stderr.contains(place), "no {place:?} in {}", out.stderr);
    }
    snapshot!(
        "error_missing_credentials",
        transcript(&out),
        vec![tmp_filter(dir.path())]
    );
}

/// A secret parameter read from a file or standard input reaches the server byte for byte
/// (never on the command line), and a value given both ways, too large, or not UTF-8 is a
/// usage error that sends nothing.
#[test]
fn secret_parameters_come_from_files_and_stdin() {
    let server = Server::start();
    let value = "line one\nline two ✓\n";
    let file = server.dir.path().join("secret-value");
    fs::write(&file, value).unwrap();
    let file = file.to_str().unwrap();
    run_ok(server.cli().args([
        "CreateSecret",
        "--SecretName",
        "from-a-file",
        "--VersionId",
        "v1",
        "--SecretData-file",
        file,
    ]));
    let got = run_ok(
        server
            .cli()
            .args(["GetSecretValue", "--SecretName", "from-a-file"]),
    );
    assert_eq!(got.json()["SecretData"], value);

    let key_id = run_ok(server.cli().arg("CreateKey")).json()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut encrypt = server
        .cli()
        .args(["Encrypt", "--KeyId", &key_id, "--Plaintext-file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = encrypt.stdin.take().unwrap();
    { stdin }.write_all(b"aGVsbG8=").unwrap();
    let out = encrypt.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let blob: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let blob = blob["CiphertextBlob"].as_str().unwrap();
    let back = run_ok(server.cli().args(["Decrypt", "--CiphertextBlob", blob]));
    assert_eq!(back.json()["Plaintext"], "aGVsbG8=");

    let both = run(&mut encrypt_with(
        &server,
        &key_id,
        ["--Plaintext", "x", "--Plaintext-file", file],
    ));
    assert_eq!(both.code, 2, "{}", both.stderr);
    let big = server.dir.path().join("big");
    fs::write(&big, vec![b'a'; 64 * 1024 + 1]).unwrap();
    let not_text = server.dir.path().join("not-text");
    fs::write(&not_text, [0xff, 0xfe]).unwrap();
    for (path, says) in [(&big, "larger than"), (&not_text, "not UTF-8")] {
        let path = path.to_str().unwrap();
        let out = run(&mut encrypt_with(
            &server,
            &key_id,
            ["--Plaintext-file", path],
        ));
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(out.stderr.contains(says), "{}", out.stderr);
    }
}

/// `Encrypt --KeyId <key_id>` with `args`.
fn encrypt_with<const N: usize>(server: &Server, key_id: &str, args: [&str; N]) -> Command {
    let mut cmd = server.cli();
    cmd.args(["Encrypt", "--KeyId", key_id]).args(args);
    cmd
}

// ---------------------------------------------------------------------------------------
// profiles

#[test]
fn configure_writes_a_0600_profile_that_later_commands_use() {
    let server = Server::start();
    let mut configure = server
        .cli_without_credentials()
        .args(["configure", "--profile", "ci"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let answers = format!("{}\n{}\n", common::ACCESS_KEY_ID, common::ACCESS_KEY_SECRET);
    configure
        .stdin
        .take()
        .unwrap()
        .write_all(answers.as_bytes())
        .unwrap();
    let out = configure.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "configure failed: {stderr}");
    assert!(!stderr.contains(common::ACCESS_KEY_SECRET), "{stderr}");
    assert!(out.stdout.is_empty());

    let config = server.dir.path().join("xdg/openkms/config.toml");
    assert_eq!(mode(&config), 0o600);
    assert_eq!(mode(config.parent().unwrap()), 0o700);
    let text = fs::read_to_string(&config).unwrap();
    assert!(text.contains(&server.url), "endpoint not stored:\n{text}");

    // No endpoint, CA or credential in the environment: all from the profile.
    let created = run_ok(bare_cli(server.dir.path()).args(["--profile", "ci", "CreateKey"]));
    assert!(created.json()["KeyMetadata"]["KeyId"].is_string());
    let created = run_ok(bare_cli(server.dir.path()).args(["CreateKey", "--profile", "ci"]));
    assert!(created.json()["KeyMetadata"]["KeyId"].is_string());

    let missing = run(bare_cli(server.dir.path()).args(["--profile", "nosuch", "CreateKey"]));
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .contains("openkms configure --profile nosuch"),
        "{}",
        missing.stderr
    );
}

// ---------------------------------------------------------------------------------------
// the seed workflow on the CLI alone

#[test]
fn seed_workflow_with_the_cli_only() {
    let server = Server::start();
    let work = server.dir.path().join("certs");
    fs::create_dir(&work).unwrap();
    let pem = rsa_private_key_pem();
    fs::write(work.join("key.pem"), &pem).unwrap();

    let created = run_ok(server.cli().arg("CreateKey"));
    let key_id = created.json()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();

    let aliased = run_ok(server.cli().args([
        "CreateAlias",
        "--AliasName",
        "alias/Apollo/WorkKey",
        "--KeyId",
        &key_id,
    ]));
    assert!(aliased.json()["RequestId"].is_string());

    let sealed = run_ok(
        server
            .cli()
            .current_dir(&work)
            .args(["encrypt-file", "--key-id", "alias/Apollo/WorkKey"])
            .args(["--in", "./key.pem", "--out", "./key.pem.cipher"]),
    );
    assert!(sealed.stdout.is_empty(), "{}", sealed.stdout);
    let cipher = fs::read(work.join("key.pem.cipher")).unwrap();
    assert!(cipher.starts_with(MAGIC));
    assert!(!String::from_utf8_lossy(&cipher).contains("PRIVATE KEY"));
    assert!(cipher.windows(key_id.len()).any(|w| w == key_id.as_bytes()));

    let opened = run_ok(
        server
            .cli()
            .current_dir(&work)
            .args(["decrypt-file", "--in", "./key.pem.cipher"])
            .args(["--out", "./decrypted_key.pem"]),
    );
    assert!(opened.stdout.is_empty(), "{}", opened.stdout);
    let decrypted = work.join("decrypted_key.pem");
    assert_eq!(fs::read_to_string(&decrypted).unwrap(), pem);
    assert_eq!(mode(&decrypted), 0o600);
    assert!(common::leftover_temp_files(&work).is_empty());
}

// ---------------------------------------------------------------------------------------
// decrypt-file: damaged files, stdout, bare blobs

/// Where the header ends in an envelope file.
fn head_len(file: &[u8]) -> usize {
    13 + u32::from_be_bytes([file[9], file[10], file[11], file[12]]) as usize
}

/// Every way of damaging `file` (a three-chunk envelope) the format must catch.
fn damaged_variants(file: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let head = head_len(file);
    let chunk = |i: usize| &file[head + i * SEALED_CHUNK..head + (i + 1) * SEALED_CHUNK];
    let mut flipped = file.to_vec();
    flipped[head + SEALED_CHUNK + 100] ^= 0x01;
    let mut tag_flipped = file.to_vec();
    *tag_flipped.last_mut().unwrap() ^= 0x80;
    let mut header_flipped = file.to_vec();
    let nonce_at = find(file, b"\"NoncePrefix\":\"").unwrap() + 15;
    header_flipped[nonce_at] = if file[nonce_at] == b'0' { b'1' } else { b'0' };
    let mut blob_changed = file.to_vec();
    let blob_at = find(file, b"\"CiphertextBlob\":\"").unwrap() + 30;
    blob_changed[blob_at] = if file[blob_at] == b'A' { b'B' } else { b'A' };
    let reordered = [
        &file[..head],
        chunk(1),
        chunk(0),
        &file[head + 2 * SEALED_CHUNK..],
    ]
    .concat();
    let mut extended = file.to_vec();
    extended.push(0);
    vec![
        (
            "truncated in the last chunk",
            file[..file.len() - 7].to_vec(),
        ),
        (
            "truncated at a chunk boundary",
            file[..head + 2 * SEALED_CHUNK].to_vec(),
        ),
        ("header only", file[..head].to_vec()),
        ("cut inside the header", file[..head - 5].to_vec()),
        ("a flipped bit in a chunk", flipped),
        ("a flipped bit in the last tag", tag_flipped),
        ("a changed nonce prefix in the header", header_flipped),
        ("a changed wrapped data key", blob_changed),
        ("chunks 0 and 1 swapped", reordered),
        ("a byte appended", extended),
    ]
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn damaged_envelope_files_fail_and_write_nothing() {
    let server = Server::start();
    let key_id = server.create_key();
    let dir = server.dir.path();
    let data = Noise::new(7).bytes(2 * CHUNK + 1000);
    fs::write(dir.join("plain.bin"), &data).unwrap();
    run_ok(&mut encrypt_file(
        &server,
        &key_id,
        "plain.bin",
        "plain.bin.enc",
    ));
    let file = fs::read(dir.join("plain.bin.enc")).unwrap();
    assert_eq!(file.len(), head_len(&file) + data.len() + 3 * 16);

    fs::write(dir.join("existing.out"), b"keep me").unwrap();
    for (what, bytes) in damaged_variants(&file) {
        fs::write(dir.join("bad.enc"), &bytes).unwrap();
        let out = run(&mut decrypt_file(&server, "bad.enc", "new.out"));
        assert_ne!(out.code, 0, "{what}: decrypt-file succeeded");
        assert!(out.stderr.starts_with("ERROR: "), "{what}: {}", out.stderr);
        assert!(!dir.join("new.out").exists(), "{what}: --out was created");

        let out = run(&mut decrypt_file(&server, "bad.enc", "existing.out"));
        assert_ne!(out.code, 0, "{what}");
        assert_eq!(fs::read(dir.join("existing.out")).unwrap(), b"keep me");

        let out = run(&mut decrypt_file(&server, "bad.enc", "-"));
        assert_ne!(out.code, 0, "{what}");
        assert!(out.stdout_bytes.is_empty(), "{what}: plaintext on stdout");
        assert!(
            common::leftover_temp_files(dir).is_empty(),
            "{what}: temporary file left"
        );
    }

    // Tampering with a chunk is reported as such, not as a connection problem.
    fs::write(dir.join("bad.enc"), &damaged_variants(&file)[4].1).unwrap();
    let out = run(&mut decrypt_file(&server, "bad.enc", "new.out"));
    assert!(
        out.stderr.contains("damaged or was altered") && out.stderr.contains("nothing was written"),
        "{}",
        out.stderr
    );
}

#[test]
fn decrypt_file_to_stdout_and_files_at_chunk_edges() {
    let server = Server::start();
    let key_id = server.create_key();
    let dir = server.dir.path();
    let mut noise = Noise::new(11);
    for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK] {
        let data = noise.bytes(len);
        fs::write(dir.join("in.bin"), &data).unwrap();
        run_ok(&mut encrypt_file(&server, &key_id, "in.bin", "in.enc"));
        assert_eq!(mode(&dir.join("in.enc")), 0o600);
        let out = run_ok(&mut decrypt_file(&server, "in.enc", "-"));
        assert!(out.stdout_bytes == data, "--out - differs at length {len}");
        run_ok(&mut decrypt_file(&server, "in.enc", "out.bin"));
        assert!(
            fs::read(dir.join("out.bin")).unwrap() == data,
            "file differs at length {len}"
        );
    }
}

#[test]
fn encryption_context_is_kept_in_the_envelope() {
    let server = Server::start();
    let key_id = server.create_key();
    let dir = server.dir.path();
    fs::write(dir.join("in.txt"), "config: secret\n").unwrap();
    run_ok(
        encrypt_file(&server, &key_id, "in.txt", "in.enc")
            .args(["--context", r#"{"app":"apollo","env":"prod"}"#]),
    );
    let out = run_ok(&mut decrypt_file(&server, "in.enc", "-"));
    assert_eq!(out.stdout, "config: secret\n");

    let bad =
        run(encrypt_file(&server, &key_id, "in.txt", "x.enc").args(["--context", r#"{"n":1}"#]));
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("--context"), "{}", bad.stderr);
    assert!(!dir.join("x.enc").exists());

    // An unknown key is the API's error (exit 1, with what to do), and no file appears.
    let unknown = run(&mut encrypt_file(
        &server,
        "alias/not/there",
        "in.txt",
        "x.enc",
    ));
    assert_eq!(unknown.code, 1, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("Forbidden.AliasNotFound")
            && unknown.stderr.contains("\nWhat to do: "),
        "{}",
        unknown.stderr
    );
    assert!(!dir.join("x.enc").exists());
}

#[test]
fn bare_ciphertext_blob_from_encrypt_output_decrypts() {
    let server = Server::start();
    let key_id = server.create_key();
    let dir = server.dir.path();
    let pem = rsa_private_key_pem();

    let enc = run_ok(&mut encrypt(&server, &key_id, &pem));
    let blob = enc.json()["CiphertextBlob"].as_str().unwrap().to_owned();
    // As `jq -r .CiphertextBlob > key.pem.cipher` would write it: with a newline.
    fs::write(dir.join("key.pem.cipher"), format!("{blob}\n")).unwrap();
    run_ok(&mut decrypt_file(&server, "key.pem.cipher", "key.pem"));
    assert_eq!(fs::read_to_string(dir.join("key.pem")).unwrap(), pem);
    assert_eq!(mode(&dir.join("key.pem")), 0o600);
    let out = run_ok(&mut decrypt_file(&server, "key.pem.cipher", "-"));
    assert_eq!(out.stdout, pem);

    // A blob bound to a context needs --context.
    let enc =
        run_ok(encrypt(&server, &key_id, "hello").args(["--EncryptionContext", r#"{"a":"b"}"#]));
    fs::write(
        dir.join("ctx.cipher"),
        enc.json()["CiphertextBlob"].as_str().unwrap(),
    )
    .unwrap();
    let out = run(&mut decrypt_file(&server, "ctx.cipher", "ctx.out"));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(!dir.join("ctx.out").exists());
    let out = run_ok(decrypt_file(&server, "ctx.cipher", "-").args(["--context", r#"{"a":"b"}"#]));
    assert_eq!(out.stdout, "hello");

    // Neither an envelope nor text: a clear error, nothing written.
    fs::write(dir.join("junk.bin"), [0xffu8, 0xfe, 0x00, 0x01]).unwrap();
    let out = run(&mut decrypt_file(&server, "junk.bin", "junk.out"));
    assert_ne!(out.code, 0);
    assert!(
        out.stderr
            .contains("neither an openkms envelope file nor a CiphertextBlob"),
        "{}",
        out.stderr
    );
    assert!(!dir.join("junk.out").exists());
}

#[test]
fn generate_data_key_output_decrypts_with_decrypt() {
    let server = Server::start();
    let key_id = server.create_key();
    let generated = run_ok(server.cli().args(["GenerateDataKey", "--KeyId", &key_id])).json();
    let plaintext = generated["Plaintext"].as_str().unwrap();
    let blob = generated["CiphertextBlob"].as_str().unwrap();
    let decrypted = run_ok(server.cli().args(["Decrypt", "--CiphertextBlob", blob])).json();
    assert_eq!(decrypted["Plaintext"].as_str().unwrap(), plaintext);
    assert_eq!(decrypted["KeyId"], generated["KeyId"]);

    let without = run_ok(server.cli().args([
        "GenerateDataKeyWithoutPlaintext",
        "--KeyId",
        &key_id,
        "--NumberOfBytes",
        "16",
    ]))
    .json();
    assert!(without.get("Plaintext").is_none(), "{without}");
    let blob = without["CiphertextBlob"].as_str().unwrap();
    let decrypted = run_ok(server.cli().args(["Decrypt", "--CiphertextBlob", blob])).json();
    assert_eq!(decrypted["Plaintext"].as_str().unwrap().len(), 24);
}

#[test]
fn a_disabled_key_says_to_enable_it_and_blocks_the_file_commands() {
    let server = Server::start();
    let key_id = server.create_key();
    let dir = server.dir.path();
    fs::write(dir.join("in.txt"), "secret").unwrap();
    let encrypt_file = |out: &str| run(&mut encrypt_file(&server, &key_id, "in.txt", out));
    assert_eq!(encrypt_file("in.enc").code, 0);
    run_ok(server.cli().args(["DisableKey", "--KeyId", &key_id]));

    let out = run(&mut encrypt(&server, &key_id, "aGk="));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with("ERROR: Rejected.Disabled (HTTP 409)\n")
            && out.stderr.contains("\nWhat to do: ")
            && out.stderr.contains("EnableKey"),
        "{}",
        out.stderr
    );
    let out = encrypt_file("new.enc");
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("Rejected.Disabled"), "{}", out.stderr);
    assert!(!dir.join("new.enc").exists());
    let out = run(&mut decrypt_file(&server, "in.enc", "out.txt"));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(!dir.join("out.txt").exists());

    run_ok(server.cli().args(["EnableKey", "--KeyId", &key_id]));
    run_ok(&mut decrypt_file(&server, "in.enc", "out.txt"));
    assert_eq!(fs::read_to_string(dir.join("out.txt")).unwrap(), "secret");
}
