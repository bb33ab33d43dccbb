//! The `openkms` binary: `openkms server` runs the KMS; every API action, `configure`,
//! `encrypt-file`, `decrypt-file`, `sign-file`, `verify-file` and `completions` are CLI commands of the same binary.
//!
//! Thin by design: parse arguments, set up logging, hand over to the command's module.
//! Nothing here decides how the server, the key service or a command behaves.

mod audit;
mod bench;
mod cli;
mod config;
mod files;
mod server;
mod tls;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use cli::profile::ConnectionArgs;

/// A self-hosted key management service that serves Alibaba Cloud KMS's API.
///
/// Every API action is a command: `openkms Encrypt --KeyId alias/x --Plaintext aGk=`.
#[derive(Debug, Parser)]
#[command(name = "openkms", version, about)]
struct Cli {
    #[command(flatten)]
    connection: ConnectionArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
// Parsed once per run: the size of the server's arguments does not matter.
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Run the KMS server.
    Server(Box<config::ServerArgs>),
    /// Store credentials and an endpoint in a profile (~/.config/openkms/config.toml).
    Configure(cli::profile::ConfigureArgs),
    /// Encrypt a file of any size (envelope encryption with one GenerateDataKey call).
    EncryptFile(cli::files::EncryptFileArgs),
    /// Decrypt a file written by encrypt-file, or a file holding a bare CiphertextBlob.
    DecryptFile(cli::files::DecryptFileArgs),
    /// Sign a file with an asymmetric key version: hashes it locally (SHA-256, or SM3 with
    /// Z for SM2DSA), sends the digest to AsymmetricSign, prints the base64 signature.
    SignFile(cli::signing::SignFileArgs),
    /// Verify a signature over a file: offline with the public key from GetPublicKey, or
    /// through AsymmetricVerify with --online. Prints valid (exit 0) or invalid (exit 1).
    VerifyFile(cli::signing::VerifyFileArgs),
    /// Load-test a server over its real interface; prints throughput, latency and the
    /// ratio to the ceiling (GET /healthz over the same connections).
    Bench(bench::BenchArgs),
    /// Audit log tools: `openkms audit verify <file|dir>…` checks the hash chain.
    Audit(audit::AuditArgs),
    /// Root key custody: `openkms root-key rotate` re-wraps everything under a new root key.
    RootKey(server::rotate::RootKeyArgs),
    /// Write a consistent backup of a store to one file while servers keep serving
    /// (wrapped material only; docs/backup.md).
    Backup(cli::backup::BackupArgs),
    /// Restore a backup file into an empty data directory or database.
    Restore(cli::backup::RestoreArgs),
    /// The Shamir seal of a running server (--seal shamir): init, unseal, status, seal.
    Operator(cli::operator::OperatorArgs),
    /// Print shell completions.
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let matches = full_command().get_matches();
    init_tracing(match matches.subcommand_name() {
        Some("server") => "info",
        _ => "warn",
    });
    if let Some((name, sub)) = matches.subcommand() {
        let connection = ConnectionArgs::from_arg_matches(&matches).unwrap_or_default();
        if let Some(code) = cli::actions::run(name, sub, &connection) {
            return code;
        }
    }
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    run(cli)
}

/// The derived commands plus one command per API action.
fn full_command() -> clap::Command {
    Cli::command().subcommands(cli::actions::commands())
}

fn run(cli: Cli) -> ExitCode {
    let conn = cli.connection;
    match cli.command {
        Command::Server(args) => report(server::run(*args)),
        Command::Configure(args) => report(cli::profile::configure(args, &conn)),
        Command::EncryptFile(args) => {
            cli::run_file_command(
                &conn,
                |c| async move { cli::files::encrypt(&c, &args).await },
            )
        }
        Command::DecryptFile(args) => {
            cli::run_file_command(
                &conn,
                |c| async move { cli::files::decrypt(&c, &args).await },
            )
        }
        Command::SignFile(args) => {
            cli::run_file_command(
                &conn,
                |c| async move { cli::signing::sign(&c, &args).await },
            )
        }
        Command::VerifyFile(args) => cli::run_client_command(
            &conn,
            |c| async move { cli::signing::verify(&c, &args).await },
            cli::signing::report,
        ),
        Command::Bench(args) => bench::run(args, &conn),
        Command::Audit(args) => audit::run(args),
        Command::RootKey(args) => server::rotate::run(args),
        Command::Backup(args) => cli::backup::backup(args),
        Command::Restore(args) => cli::backup::restore(args),
        Command::Operator(args) => cli::operator::run(args, &conn),
        Command::Completions { shell } => {
            // Written to a buffer first, so a closed pipe (`| head`) is not a panic.
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut full_command(), "openkms", &mut out);
            let _ = std::io::Write::write_all(&mut std::io::stdout(), &out);
            ExitCode::SUCCESS
        }
    }
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("openkms: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr; `OPENKMS_LOG` (or `RUST_LOG`) sets the filter, else `default_level`.
fn init_tracing(default_level: &str) {
    let filter = std::env::var("OPENKMS_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| default_level.to_owned());
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .init();
}
