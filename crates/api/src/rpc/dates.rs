//! Dates on the wire: `YYYY-MM-DDTHH:MM:SSZ`, UTC, whole seconds (§4.1).
//!
//! Parsing accepts that form (and RFC 3339 with fractions or offsets, which some clients
//! send); formatting always writes the canonical form.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, macros::format_description};

/// Formats seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format(secs: i64) -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

/// Parses an API timestamp into seconds since the epoch.
pub fn parse(text: &str) -> Option<i64> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        assert_eq!(super::format(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::parse("2024-01-01T00:00:00Z"), Some(1_704_067_200));
        assert_eq!(super::format(1_704_067_200), "2024-01-01T00:00:00Z");
        assert_eq!(super::parse("2024-01-01T00:00:00.5Z"), Some(1_704_067_200));
        assert_eq!(super::parse("yesterday"), None);
    }
}
