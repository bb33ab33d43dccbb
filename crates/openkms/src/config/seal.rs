//! Where the root key comes from (issue 14): `--seal file|shamir|pkcs11` and the PKCS#11
//! token's settings, from flags, `OPENKMS_*` variables or the configuration file, validated
//! into [`Seal`]. `docs/custody.md` says what each mode means for an operator; the PIN itself
//! comes from `--pkcs11-pin-file` or `OPENKMS_PKCS11_PIN` (taken out of the environment with
//! the other secrets) and is never part of this configuration.

use std::path::PathBuf;

use anyhow::bail;

/// The token key label used when none is given.
pub const DEFAULT_PKCS11_KEY_LABEL: &str = "openkms-root";
/// Longest token or key label (PKCS#11 token labels are 32 bytes; key labels are not bounded
/// by the standard, this is ours).
const MAX_LABEL_BYTES: usize = 128;

/// The seal flags; each may also come from its environment variable.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SealArgs {
    /// Where the root key comes from: file (root.key or --root-key-file), shamir (unseal
    /// shares given to a running server) or pkcs11 (a key inside a PKCS#11 token)
    /// [default: file].
    #[arg(long, env = "OPENKMS_SEAL")]
    pub seal: Option<String>,
    /// The PKCS#11 module (a shared library such as libsofthsm2.so); configures the token
    /// used by --seal pkcs11 and by ProtectionLevel=HSM keys.
    #[arg(long, env = "OPENKMS_PKCS11_MODULE", value_parser = crate::cli::profile::path_or_empty)]
    pub pkcs11_module: Option<PathBuf>,
    /// The label of the token to use in that module.
    #[arg(long, env = "OPENKMS_PKCS11_TOKEN_LABEL")]
    pub pkcs11_token_label: Option<String>,
    /// The label of the root key inside the token, created at first start when absent
    /// [default: openkms-root].
    #[arg(long, env = "OPENKMS_PKCS11_KEY_LABEL")]
    pub pkcs11_key_label: Option<String>,
    /// A file holding the token's user PIN, instead of OPENKMS_PKCS11_PIN.
    #[arg(long, env = "OPENKMS_PKCS11_PIN_FILE", value_parser = crate::cli::profile::path_or_empty)]
    pub pkcs11_pin_file: Option<PathBuf>,
}

impl SealArgs {
    /// These flags with every empty value as unset.
    pub fn given(self) -> Self {
        let text = |v: Option<String>| v.filter(|v| !v.is_empty());
        let path = |v: Option<PathBuf>| v.filter(|p| !p.as_os_str().is_empty());
        Self {
            seal: text(self.seal),
            pkcs11_module: path(self.pkcs11_module),
            pkcs11_token_label: text(self.pkcs11_token_label),
            pkcs11_key_label: text(self.pkcs11_key_label),
            pkcs11_pin_file: path(self.pkcs11_pin_file),
        }
    }

    /// Each flag over the file's value of the same setting.
    pub fn or(self, file: Self) -> Self {
        Self {
            seal: self.seal.or(file.seal),
            pkcs11_module: self.pkcs11_module.or(file.pkcs11_module),
            pkcs11_token_label: self.pkcs11_token_label.or(file.pkcs11_token_label),
            pkcs11_key_label: self.pkcs11_key_label.or(file.pkcs11_key_label),
            pkcs11_pin_file: self.pkcs11_pin_file.or(file.pkcs11_pin_file),
        }
    }
}

/// Where the root key comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SealMode {
    /// `root.key` in the data directory, `--root-key-file` or `OPENKMS_ROOT_KEY`.
    #[default]
    File,
    /// Put together in memory from unseal shares given to the running server.
    Shamir,
    /// A non-extractable key inside the PKCS#11 token.
    Pkcs11,
}

/// A PKCS#11 token: which module, which token, which root key label, and where its PIN is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenConfig {
    /// The module's shared library.
    pub module: PathBuf,
    /// The token's label.
    pub token_label: String,
    /// The root key's label inside the token.
    pub key_label: String,
    /// The file holding the user PIN; `None` for `OPENKMS_PKCS11_PIN`.
    pub pin_file: Option<PathBuf>,
}

/// The validated seal settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Seal {
    /// Where the root key comes from.
    pub mode: SealMode,
    /// The token, when one is configured (required by [`SealMode::Pkcs11`]; with the other
    /// modes it serves `ProtectionLevel=HSM` keys only).
    pub token: Option<TokenConfig>,
}

impl Seal {
    /// Validates the merged settings; `root_key_file` is refused outside [`SealMode::File`].
    pub fn load(args: SealArgs, root_key_file_given: bool) -> anyhow::Result<Self> {
        let mode = match args.seal.as_deref() {
            None | Some("file") => SealMode::File,
            Some("shamir") => SealMode::Shamir,
            Some("pkcs11") => SealMode::Pkcs11,
            Some(other) => bail!("seal: {other:?} is not one of file, shamir, pkcs11"),
        };
        if root_key_file_given && mode != SealMode::File {
            bail!("root_key_file: only meaningful with seal = file");
        }
        let token = token(args)?;
        if mode == SealMode::Pkcs11 && token.is_none() {
            bail!("pkcs11_module: required with seal = pkcs11");
        }
        Ok(Self { mode, token })
    }
}

/// The token settings, all or none: a module needs a token label, and the other settings
/// need a module.
fn token(args: SealArgs) -> anyhow::Result<Option<TokenConfig>> {
    let Some(module) = args.pkcs11_module else {
        if args.pkcs11_token_label.is_some()
            || args.pkcs11_key_label.is_some()
            || args.pkcs11_pin_file.is_some()
        {
            bail!("pkcs11_module: required with the other pkcs11 settings");
        }
        return Ok(None);
    };
    let Some(token_label) = args.pkcs11_token_label else {
        bail!("pkcs11_token_label: required with pkcs11_module");
    };
    let key_label = args
        .pkcs11_key_label
        .unwrap_or_else(|| DEFAULT_PKCS11_KEY_LABEL.to_owned());
    for (name, label) in [
        ("pkcs11_token_label", &token_label),
        ("pkcs11_key_label", &key_label),
    ] {
        if label.len() > MAX_LABEL_BYTES || label.chars().any(char::is_control) {
            bail!("{name}: must be at most {MAX_LABEL_BYTES} bytes without control characters");
        }
    }
    Ok(Some(TokenConfig {
        module,
        token_label,
        key_label,
        pin_file: args.pkcs11_pin_file,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(seal: &str) -> SealArgs {
        SealArgs {
            seal: Some(seal.into()),
            ..Default::default()
        }
    }

    fn token_args(seal: &str) -> SealArgs {
        SealArgs {
            pkcs11_module: Some("/usr/lib/softhsm/libsofthsm2.so".into()),
            pkcs11_token_label: Some("openkms".into()),
            ..args(seal)
        }
    }

    #[test]
    fn file_is_the_default_and_modes_are_named() {
        assert_eq!(
            Seal::load(SealArgs::default(), true).unwrap(),
            Seal::default()
        );
        assert_eq!(
            Seal::load(args("shamir"), false).unwrap().mode,
            SealMode::Shamir
        );
        let e = Seal::load(args("vault"), false).unwrap_err().to_string();
        assert!(e.starts_with("seal: \"vault\""), "{e}");
        let e = Seal::load(args("shamir"), true).unwrap_err().to_string();
        assert!(e.starts_with("root_key_file"), "{e}");
    }

    #[test]
    fn pkcs11_needs_a_module_and_a_token_label() {
        let e = Seal::load(args("pkcs11"), false).unwrap_err().to_string();
        assert!(e.starts_with("pkcs11_module"), "{e}");
        let seal = Seal::load(token_args("pkcs11"), false).unwrap();
        let token = seal.token.unwrap();
        assert_eq!(token.key_label, DEFAULT_PKCS11_KEY_LABEL);
        assert_eq!(token.token_label, "openkms");
        let no_label = SealArgs {
            pkcs11_token_label: None,
            ..token_args("pkcs11")
        };
        let e = Seal::load(no_label, false).unwrap_err().to_string();
        assert!(e.starts_with("pkcs11_token_label"), "{e}");
        let stray = SealArgs {
            pkcs11_key_label: Some("k".into()),
            ..args("file")
        };
        let e = Seal::load(stray, false).unwrap_err().to_string();
        assert!(e.starts_with("pkcs11_module"), "{e}");
    }

    #[test]
    fn a_token_may_serve_hsm_keys_under_another_seal() {
        let seal = Seal::load(token_args("file"), false).unwrap();
        assert_eq!(seal.mode, SealMode::File);
        assert!(seal.token.is_some());
    }

    #[test]
    fn labels_are_bounded() {
        let long = SealArgs {
            pkcs11_key_label: Some("k".repeat(129)),
            ..token_args("pkcs11")
        };
        let e = Seal::load(long, false).unwrap_err().to_string();
        assert!(e.starts_with("pkcs11_key_label"), "{e}");
    }
}
