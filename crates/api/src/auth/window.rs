//! The clock window: a signed request is valid only near the server's time (§3.5).
//!
//! A timestamp more than 15 minutes from the server clock, in either direction, is
//! `InvalidTimeStamp.Expired`; one that cannot be read is `InvalidTimeStamp.Format`.

use crate::rpc::{RpcError, dates};

/// The accepted distance between a request's timestamp and the server clock, in seconds.
pub const DEFAULT_WINDOW_SECS: i64 = 15 * 60;

/// Parses `text` and checks it against `now`; returns the timestamp in seconds.
pub fn check(text: &str, now: i64, window_secs: i64) -> Result<i64, RpcError> {
    let ts = dates::parse(text).ok_or(RpcError::TimestampFormat)?;
    match (ts - now).abs() <= window_secs {
        true => Ok(ts),
        false => Err(RpcError::TimestampExpired),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_edges() {
        let now = 1_704_067_200; // 2024-01-01T00:00:00Z
        assert!(check("2024-01-01T00:15:00Z", now, 900).is_ok());
        assert!(check("2023-12-31T23:45:00Z", now, 900).is_ok());
        assert!(matches!(
            check("2024-01-01T00:15:01Z", now, 900),
            Err(RpcError::TimestampExpired)
        ));
        assert!(matches!(
            check("2023-12-31T23:44:59Z", now, 900),
            Err(RpcError::TimestampExpired)
        ));
        assert!(matches!(
            check("01/01/2024", now, 900),
            Err(RpcError::TimestampFormat)
        ));
    }
}
