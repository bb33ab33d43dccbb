//! Every API action as a subcommand, built from the Alibaba codec's table (each codec file's
//! `SPEC`, in the order of the operations registry).
//!
//! `openkms Encrypt --KeyId alias/x --Plaintext aGk=` sends exactly the named parameters; a new
//! server action appears here with no new code. Parameter checks beyond "required" are the
//! server's: the CLI passes values through unchanged.

use std::process::ExitCode;

use clap::{Arg, ArgMatches, Command};
use openkms_api::codec::{self, Endpoint};
use openkms_client::RawRequest;

use super::{client_for, output, profile::ConnectionArgs};

/// One subcommand per action.
pub fn commands() -> Vec<Command> {
    codec::endpoints().iter().map(command).collect()
}

fn command(action: &Endpoint) -> Command {
    let spec = action.spec;
    let args = spec.params.iter().map(|p| {
        Arg::new(p.name)
            .long(p.name)
            .value_name("VALUE")
            .help(p.help)
            .required(p.required)
            .allow_hyphen_values(true)
    });
    Command::new(action.name.action)
        .about(spec.about)
        .args(args)
}

/// Runs `name` if it is an action; `None` if it is not.
pub fn run(name: &str, matches: &ArgMatches, conn: &ConnectionArgs) -> Option<ExitCode> {
    let action = codec::endpoints().iter().find(|e| e.name.action == name)?;
    let params: Vec<(&str, String)> = action
        .spec
        .params
        .iter()
        .filter_map(|p| {
            matches
                .get_one::<String>(p.name)
                .map(|v| (p.name, v.clone()))
        })
        .collect();
    Some(super::block_on(call(action, params, conn)))
}

async fn call(action: &Endpoint, params: Vec<(&str, String)>, conn: &ConnectionArgs) -> ExitCode {
    let client = match client_for(conn) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut request = RawRequest::new(action.name.action);
    request.version = Some(action.version().to_owned());
    for (name, value) in params {
        request = request.param(name, value);
    }
    match client.call_with(request).await {
        Ok(value) => output::success(&value),
        Err(e) => output::failure(&e),
    }
}
