//! The CLI commands: API actions from the shell, configuration, and file encryption.

#[allow(dead_code)]
pub mod envelope;
