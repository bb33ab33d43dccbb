//! The `openkms` binary: `openkms server` runs the KMS; CLI commands join it here.
//!
//! Thin by design: parse arguments, set up logging, hand over to the command's module.
//! Nothing here decides how the server or the key service behave.

mod cli;
mod config;
mod files;
mod server;
mod tls;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A self-hosted key management service that serves Alibaba Cloud KMS's API.
#[derive(Debug, Parser)]
#[command(name = "openkms", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the KMS server.
    Server(config::ServerArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let result = match cli.command {
        Command::Server(args) => server::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("openkms: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr; `OPENKMS_LOG` (or `RUST_LOG`) sets the filter, `info` by default.
fn init_tracing() {
    let filter = std::env::var("OPENKMS_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_owned());
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .init();
}
