//! Every API action as a subcommand, built from the Alibaba codec's table (each codec file's
//! `SPEC`, in the order of the operations registry).
//!
//! `openkms Encrypt --KeyId alias/x --Plaintext aGk=` sends exactly the named parameters; a new
//! server action appears here with no new code. Parameter checks beyond "required" are the
//! server's: the CLI passes values through unchanged.
//!
//! A parameter that carries a secret (a plaintext, a secret's value, a password) may instead be
//! read from a file, `--<Name>-file PATH` (`-` for standard input), byte for byte: on the
//! command line every local user can read it (`ps`, `/proc/<pid>/cmdline`).

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use clap::{Arg, ArgMatches, Command};
use openkms_api::codec::{self, Endpoint};
use openkms_client::RawRequest;

use super::{client_for, output, profile::ConnectionArgs};

/// The parameters whose values are secrets, each with the flag that reads it from a file.
const FROM_FILE: &[(&str, &str)] = &[
    ("Plaintext", "Plaintext-file"),
    ("SecretData", "SecretData-file"),
    ("Password", "Password-file"),
    ("OldPassword", "OldPassword-file"),
    ("NewPassword", "NewPassword-file"),
];
/// Largest value read from a file: above every parameter limit the server has.
const MAX_FILE_VALUE: u64 = 64 * 1024;

/// The file flag of `name`, if its value is a secret.
fn file_flag(name: &str) -> Option<&'static str> {
    FROM_FILE
        .iter()
        .find(|(param, _)| *param == name)
        .map(|(_, flag)| *flag)
}

/// One subcommand per action.
pub fn commands() -> Vec<Command> {
    codec::endpoints().iter().map(command).collect()
}

fn command(action: &Endpoint) -> Command {
    let spec = action.spec;
    let args = spec.params.iter().flat_map(|p| {
        let flag = file_flag(p.name);
        let mut arg = Arg::new(p.name)
            .long(p.name)
            .value_name("VALUE")
            .help(p.help)
            .allow_hyphen_values(true);
        arg = match (flag, p.required) {
            (Some(file), true) => arg.required_unless_present(file).conflicts_with(file),
            (Some(file), false) => arg.conflicts_with(file),
            (None, required) => arg.required(required),
        };
        let file = flag.map(|file| {
            Arg::new(file).long(file).value_name("PATH").help(format!(
                "read {} from this file, byte for byte (- for standard input)",
                p.name
            ))
        });
        std::iter::once(arg).chain(file)
    });
    Command::new(action.name.action)
        .about(spec.about)
        .args(args)
}

/// Runs `name` if it is an action; `None` if it is not.
pub fn run(name: &str, matches: &ArgMatches, conn: &ConnectionArgs) -> Option<ExitCode> {
    let action = codec::endpoints().iter().find(|e| e.name.action == name)?;
    let mut params: Vec<(&str, String)> = Vec::new();
    for p in action.spec.params {
        let value = match file_flag(p.name).and_then(|f| matches.get_one::<String>(f)) {
            Some(path) => match read_value(path) {
                Ok(value) => value,
                Err(e) => {
                    eprintln!("ERROR: --{}-file {path}: {e}", p.name);
                    return Some(ExitCode::from(output::EXIT_CONNECTION));
                }
            },
            None => match matches.get_one::<String>(p.name) {
                Some(value) => value.clone(),
                None => continue,
            },
        };
        params.push((p.name, value));
    }
    Some(super::block_on(call(action, params, conn)))
}

/// A parameter's value read from `path` (`-`: standard input): UTF-8, at most
/// [`MAX_FILE_VALUE`] bytes, nothing trimmed.
fn read_value(path: &str) -> Result<String, String> {
    let mut bytes = Vec::new();
    let read = match path {
        "-" => std::io::stdin()
            .take(MAX_FILE_VALUE + 1)
            .read_to_end(&mut bytes),
        _ => std::fs::File::open(Path::new(path))
            .and_then(|f| f.take(MAX_FILE_VALUE + 1).read_to_end(&mut bytes)),
    };
    read.map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_FILE_VALUE {
        return Err(format!("larger than {MAX_FILE_VALUE} bytes"));
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())
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
