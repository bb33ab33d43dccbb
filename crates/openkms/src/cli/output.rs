//! What the CLI prints and how it exits.
//!
//! A success prints the response JSON to stdout, keys sorted, tab-indented like `aliyun` (exit
//! 0). An API error prints `Code`, `Message`, `RequestId` and, where there is an obvious
//! remedy, what to do, to stderr (exit 1). A connection or TLS problem is one line (exit 2).

use std::process::ExitCode;

use openkms_client::ClientError;
use serde_json::Value;

/// Exit code of an API error.
pub const EXIT_API: u8 = 1;
/// Exit code of a connection, TLS or usage problem.
pub const EXIT_CONNECTION: u8 = 2;

/// The response, pretty-printed with sorted keys and a tab indent.
pub fn render(value: &Value) -> String {
    let sorted = sort(value.clone());
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    let _ = serde::Serialize::serialize(&sorted, &mut ser);
    String::from_utf8(out).unwrap_or_default()
}

fn sort(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sort(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort).collect()),
        other => other,
    }
}

/// Prints a successful response and returns exit 0.
pub fn success(value: &Value) -> ExitCode {
    #[allow(clippy::print_stdout)]
    {
        println!("{}", render(value));
    }
    ExitCode::SUCCESS
}

/// Prints a client error to stderr and returns its exit code.
pub fn failure(error: &ClientError) -> ExitCode {
    eprintln!("{}", describe(error));
    match error {
        ClientError::Api { .. } => ExitCode::from(EXIT_API),
        _ => ExitCode::from(EXIT_CONNECTION),
    }
}

/// The text [`failure`] prints.
pub fn describe(error: &ClientError) -> String {
    match error {
        ClientError::Api {
            status,
            code,
            message,
            request_id,
            ..
        } => {
            let mut text = format!(
                "ERROR: {code} (HTTP {status})\nMessage: {message}\nRequestId: {request_id}"
            );
            if let Some(hint) = openkms_api::rpc::error::remedy(code) {
                text.push_str("\nWhat to do: ");
                text.push_str(hint);
            }
            text
        }
        other => format!("ERROR: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_tab_indented() {
        let v: Value = serde_json::from_str(r#"{"b":1,"a":{"d":2,"c":[{"f":1,"e":2}]}}"#).unwrap();
        assert_eq!(
            render(&v),
            "{\n\t\"a\": {\n\t\t\"c\": [\n\t\t\t{\n\t\t\t\t\"e\": 2,\n\t\t\t\t\"f\": 1\n\t\t\t}\n\t\t],\n\t\t\"d\": 2\n\t},\n\t\"b\": 1\n}"
        );
    }
}
