//! The throttling and quota settings of `openkms server` (issue 13): flags, `OPENKMS_*`
//! variables and the `[limits]` table of the configuration file, validated into
//! [`LimitConfig`]. What each setting means is in `docs/configuration.md`; what enforces it is
//! `openkms_api::throttle` (throttles) and `openkms_core::Quotas` (quotas).

use anyhow::bail;
use openkms_api::throttle::{FailureRate, KeyRate, Limits};
use openkms_core::Quotas;
use serde::Deserialize;

use super::OrEmpty;

/// Most sources the failure table may be asked to track (about 120 bytes each).
const MAX_SOURCES: usize = 16_777_216;

/// The throttling and quota flags; each may also come from its environment variable.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LimitArgs {
    /// Failed authentications a source address (IPv6: its /64) may make at once before the
    /// rest are answered Throttling; 0 turns the throttle off [default: 100].
    #[arg(long, env = "OPENKMS_AUTH_FAILURE_BURST")]
    pub auth_failure_burst: Option<OrEmpty<u32>>,
    /// Failed authentications a minute a source regains [default: 60].
    #[arg(long, env = "OPENKMS_AUTH_FAILURES_PER_MINUTE")]
    pub auth_failures_per_minute: Option<OrEmpty<u32>>,
    /// Most source addresses tracked for failed authentications [default: 65536].
    #[arg(long, env = "OPENKMS_AUTH_FAILURE_SOURCES")]
    pub auth_failure_sources: Option<OrEmpty<usize>>,
    /// Requests a second each AccessKey may make, beyond which it gets Throttling.User; 0 is
    /// no quota [default: 0].
    #[arg(long, env = "OPENKMS_ACCESS_KEY_RATE")]
    pub access_key_rate: Option<OrEmpty<u32>>,
    /// Requests an AccessKey may make at once [default: --access-key-rate].
    #[arg(long, env = "OPENKMS_ACCESS_KEY_BURST")]
    pub access_key_burst: Option<OrEmpty<u32>>,
    /// Most keys in the account [default: 100000].
    #[arg(long, env = "OPENKMS_MAX_KEYS")]
    pub max_keys: Option<OrEmpty<usize>>,
    /// Most aliases pointing at one key [default: 100].
    #[arg(long, env = "OPENKMS_MAX_ALIASES_PER_KEY")]
    pub max_aliases_per_key: Option<OrEmpty<usize>>,
    /// Most versions of one key made by CreateKeyVersion [default: 1000].
    #[arg(long, env = "OPENKMS_MAX_VERSIONS_PER_KEY")]
    pub max_versions_per_key: Option<OrEmpty<usize>>,
    /// Most RAM users [default: 10000].
    #[arg(long, env = "OPENKMS_MAX_USERS")]
    pub max_users: Option<OrEmpty<usize>>,
}

impl LimitArgs {
    /// These flags with every empty value as unset.
    pub fn given(self) -> Self {
        Self {
            auth_failure_burst: OrEmpty::given(self.auth_failure_burst),
            auth_failures_per_minute: OrEmpty::given(self.auth_failures_per_minute),
            auth_failure_sources: OrEmpty::given(self.auth_failure_sources),
            access_key_rate: OrEmpty::given(self.access_key_rate),
            access_key_burst: OrEmpty::given(self.access_key_burst),
            max_keys: OrEmpty::given(self.max_keys),
            max_aliases_per_key: OrEmpty::given(self.max_aliases_per_key),
            max_versions_per_key: OrEmpty::given(self.max_versions_per_key),
            max_users: OrEmpty::given(self.max_users),
        }
    }
}

/// The `[limits]` table of the configuration file; unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitFile {
    auth_failure_burst: Option<u32>,
    auth_failures_per_minute: Option<u32>,
    auth_failure_sources: Option<usize>,
    access_key_rate: Option<u32>,
    access_key_burst: Option<u32>,
    max_keys: Option<usize>,
    max_aliases_per_key: Option<usize>,
    max_versions_per_key: Option<usize>,
    max_users: Option<usize>,
}

/// The validated throttles and quotas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitConfig {
    /// The failed-authentication budget per source; `None` when turned off.
    pub failures: Option<FailureRate>,
    /// The request quota per AccessKey; `None` (the default) when there is none.
    pub per_key: Option<KeyRate>,
    /// The resource quotas.
    pub quotas: Quotas,
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            failures: Some(FailureRate::default()),
            per_key: None,
            quotas: Quotas::default(),
        }
    }
}

impl LimitConfig {
    /// Merges flags over the file over the defaults, and validates the result.
    pub fn load(args: LimitArgs, file: LimitFile) -> anyhow::Result<Self> {
        let pick =
            |flag: Option<OrEmpty<usize>>, file: Option<usize>| flag.and_then(|n| n.0).or(file);
        let pick32 =
            |flag: Option<OrEmpty<u32>>, file: Option<u32>| flag.and_then(|n| n.0).or(file);
        let failures = failures(
            pick32(args.auth_failure_burst, file.auth_failure_burst),
            pick32(args.auth_failures_per_minute, file.auth_failures_per_minute),
            pick(args.auth_failure_sources, file.auth_failure_sources),
        )?;
        let per_key = per_key(
            pick32(args.access_key_rate, file.access_key_rate),
            pick32(args.access_key_burst, file.access_key_burst),
        )?;
        let defaults = Quotas::default();
        let quotas = Quotas {
            keys: quota(
                "max_keys",
                pick(args.max_keys, file.max_keys),
                defaults.keys,
            )?,
            aliases_per_key: quota(
                "max_aliases_per_key",
                pick(args.max_aliases_per_key, file.max_aliases_per_key),
                defaults.aliases_per_key,
            )?,
            versions_per_key: quota(
                "max_versions_per_key",
                pick(args.max_versions_per_key, file.max_versions_per_key),
                defaults.versions_per_key,
            )?,
            users: quota(
                "max_users",
                pick(args.max_users, file.max_users),
                defaults.users,
            )?,
            secrets: defaults.secrets,
        };
        Ok(Self {
            failures,
            per_key,
            quotas,
        })
    }

    /// The front end's throttles.
    pub fn limits(&self) -> Limits {
        Limits::new(self.failures, self.per_key)
    }
}

fn failures(
    burst: Option<u32>,
    per_minute: Option<u32>,
    sources: Option<usize>,
) -> anyhow::Result<Option<FailureRate>> {
    let defaults = FailureRate::default();
    let rate = FailureRate {
        burst: burst.unwrap_or(defaults.burst),
        per_minute: per_minute.unwrap_or(defaults.per_minute),
        sources: sources.unwrap_or(defaults.sources),
    };
    if !(1..=MAX_SOURCES).contains(&rate.sources) {
        bail!(
            "auth_failure_sources: {} must be between 1 and {MAX_SOURCES}",
            rate.sources
        );
    }
    Ok((rate.burst > 0).then_some(rate))
}

fn per_key(rate: Option<u32>, burst: Option<u32>) -> anyhow::Result<Option<KeyRate>> {
    match (rate.unwrap_or(0), burst) {
        (0, Some(_)) => bail!("access_key_burst: only meaningful with access_key_rate"),
        (0, None) => Ok(None),
        (_, Some(0)) => bail!("access_key_burst: must be at least 1"),
        (per_second, burst) => Ok(Some(KeyRate {
            burst: burst.unwrap_or(per_second),
            per_second,
        })),
    }
}

fn quota(name: &str, value: Option<usize>, default: usize) -> anyhow::Result<usize> {
    match value.unwrap_or(default) {
        0 => bail!("{name}: must be at least 1"),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_throttle_failures_only() {
        let c = LimitConfig::load(LimitArgs::default(), LimitFile::default()).unwrap();
        assert_eq!(c, LimitConfig::default());
        assert_eq!(c.failures, Some(FailureRate::default()));
        assert_eq!(c.per_key, None);
    }

    #[test]
    fn flags_beat_the_file_and_zero_turns_the_failure_throttle_off() {
        let file: LimitFile =
            toml::from_str("auth_failure_burst = 7\naccess_key_rate = 50\nmax_keys = 9\n").unwrap();
        let args = LimitArgs {
            max_keys: Some(OrEmpty(Some(3))),
            ..LimitArgs::default()
        };
        let c = LimitConfig::load(args, file).unwrap();
        assert_eq!(c.failures.unwrap().burst, 7);
        assert_eq!(
            c.per_key,
            Some(KeyRate {
                burst: 50,
                per_second: 50
            })
        );
        assert_eq!(c.quotas.keys, 3);
        let off = LimitArgs {
            auth_failure_burst: Some(OrEmpty(Some(0))),
            ..LimitArgs::default()
        };
        let c = LimitConfig::load(off, LimitFile::default()).unwrap();
        assert_eq!(c.failures, None);
    }

    #[test]
    fn bad_values_name_the_setting() {
        let e = |args: LimitArgs| {
            LimitConfig::load(args, LimitFile::default())
                .unwrap_err()
                .to_string()
        };
        let zero = Some(OrEmpty(Some(0)));
        assert!(
            e(LimitArgs {
                max_users: zero,
                ..LimitArgs::default()
            })
            .starts_with("max_users")
        );
        assert!(
            e(LimitArgs {
                auth_failure_sources: zero,
                ..LimitArgs::default()
            })
            .starts_with("auth_failure_sources")
        );
        assert!(
            e(LimitArgs {
                access_key_burst: Some(OrEmpty(Some(5))),
                ..LimitArgs::default()
            })
            .starts_with("access_key_burst")
        );
        assert!(toml::from_str::<LimitFile>("max_kyes = 1\n").is_err());
    }
}
