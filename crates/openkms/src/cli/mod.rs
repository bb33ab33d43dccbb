//! The CLI commands: every API action from the shell, `configure`, file encryption, completions.
//!
//! [`actions`] turns the api crate's action table into subcommands; [`profile`] finds the
//! endpoint and credentials; [`files`] does envelope encryption of files over [`envelope`];
//! [`output`] prints results and errors and picks exit codes; [`backup`] is `openkms backup`
//! and `openkms restore`, which work on a store directly rather than through a server. Requests are signed by the
//! [`output`] prints results and errors and picks exit codes; [`operator`] initialises,
//! unseals and seals a server with the Shamir seal. Requests are signed by the
//! `openkms-client` crate, the same signer the tests use. [`signing`] is `sign-file` and
//! `verify-file`.

pub mod actions;
pub mod backup;
pub mod envelope;
pub mod files;
pub mod operator;
pub mod output;
pub mod profile;
pub mod signing;

use std::process::ExitCode;

use openkms_client::{Client, ClientConfig};

use profile::ConnectionArgs;

/// A client for the resolved connection, or the exit code of a printed error.
pub fn client_for(conn: &ConnectionArgs) -> Result<Client, ExitCode> {
    let resolved = profile::resolve(conn).map_err(|e| {
        eprintln!("ERROR: {e:#}");
        ExitCode::from(output::EXIT_CONNECTION)
    })?;
    let config = ClientConfig {
        endpoint: resolved.endpoint,
        ca_file: resolved.ca_file,
        access_key_id: resolved.access_key_id,
        access_key_secret: resolved.access_key_secret,
        region_id: resolved.region_id,
    };
    Client::new(config).map_err(|e| {
        eprintln!("ERROR: {e}");
        ExitCode::from(output::EXIT_CONNECTION)
    })
}

/// Runs a future on a small runtime (the CLI makes one or two calls).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    #[allow(clippy::expect_used)]
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("cannot start the async runtime");
    runtime.block_on(future)
}

/// Runs a file command, mapping its failure to the CLI's exit codes.
pub fn run_file_command<F>(conn: &ConnectionArgs, f: impl FnOnce(Client) -> F) -> ExitCode
where
    F: std::future::Future<Output = Result<(), files::CliFailure>>,
{
    run_client_command(conn, f, |()| ExitCode::SUCCESS)
}

/// Runs a command over a client; `done` turns its result into the exit code, failures map to
/// the CLI's exit codes.
pub fn run_client_command<T, F>(
    conn: &ConnectionArgs,
    f: impl FnOnce(Client) -> F,
    done: impl FnOnce(T) -> ExitCode,
) -> ExitCode
where
    F: std::future::Future<Output = Result<T, files::CliFailure>>,
{
    let client = match client_for(conn) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match block_on(f(client)) {
        Ok(value) => done(value),
        Err(files::CliFailure::Api(e)) => output::failure(&e),
        Err(files::CliFailure::Other(e)) => {
            eprintln!("ERROR: {e:#}");
            ExitCode::from(output::EXIT_API)
        }
    }
}
