//! Policy conditions: operators over request facts.
//!
//! Supported keys: `acs:SourceIp` (the client address), `acs:CurrentTime` (the server clock,
//! RFC 3339), `acs:SecureTransport` (TLS or not) and `kms:EncryptionContext/<key>` (the
//! request's EncryptionContext entries). Operators: `StringEquals`, `StringNotEquals`,
//! `StringEqualsIgnoreCase`, `StringNotEqualsIgnoreCase`, `StringLike`, `StringNotLike`,
//! `IpAddress`, `NotIpAddress`, `DateEquals`, `DateNotEquals`, `DateLessThan`,
//! `DateLessThanEquals`, `DateGreaterThan`, `DateGreaterThanEquals`, `Bool`. Within one
//! condition the listed values are alternatives (OR); separate conditions must all hold (AND).
//! A fact the request does not have satisfies only the negated operators.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{PolicyError, pattern, strings};

/// The facts a request offers to conditions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConditionContext {
    /// The client's address.
    pub source_ip: Option<IpAddr>,
    /// The server time, seconds since the epoch.
    pub current_time: i64,
    /// Whether the request came over TLS.
    pub secure_transport: bool,
    /// The request's EncryptionContext.
    pub encryption_context: BTreeMap<String, String>,
}

/// How a condition compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    StringEquals { negate: bool, ignore_case: bool },
    StringLike { negate: bool },
    Ip { negate: bool },
    Date(std::cmp::Ordering, bool, bool),
    Bool,
}

/// The fact a condition tests.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    SourceIp,
    CurrentTime,
    SecureTransport,
    EncryptionContext(String),
}

/// One operator applied to one key with alternative values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    operator: Operator,
    key: Key,
    values: Vec<String>,
}

/// Parses a statement's `Condition` object.
pub(crate) fn parse(value: &Value) -> Result<Vec<Condition>, PolicyError> {
    let ops = value
        .as_object()
        .ok_or(PolicyError::Malformed("Condition must be an object"))?;
    let mut out = Vec::new();
    for (op_name, keys) in ops {
        let operator = operator(op_name)?;
        let keys = keys.as_object().ok_or(PolicyError::Malformed(
            "a condition operator must map keys to values",
        ))?;
        for (key_name, values) in keys {
            let values = condition_values(values)?;
            let condition = Condition {
                operator,
                key: key(key_name)?,
                values,
            };
            condition.check_values()?;
            out.push(condition);
        }
    }
    Ok(out)
}

fn condition_values(value: &Value) -> Result<Vec<String>, PolicyError> {
    match value {
        Value::Bool(b) => Ok(vec![b.to_string()]),
        Value::Number(n) => Ok(vec![n.to_string()]),
        other => strings(other),
    }
}

fn operator(name: &str) -> Result<Operator, PolicyError> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    Ok(match name {
        "StringEquals" => Operator::StringEquals {
            negate: false,
            ignore_case: false,
        },
        "StringNotEquals" => Operator::StringEquals {
            negate: true,
            ignore_case: false,
        },
        "StringEqualsIgnoreCase" => Operator::StringEquals {
            negate: false,
            ignore_case: true,
        },
        "StringNotEqualsIgnoreCase" => Operator::StringEquals {
            negate: true,
            ignore_case: true,
        },
        "StringLike" => Operator::StringLike { negate: false },
        "StringNotLike" => Operator::StringLike { negate: true },
        "IpAddress" => Operator::Ip { negate: false },
        "NotIpAddress" => Operator::Ip { negate: true },
        "DateEquals" => Operator::Date(Equal, false, false),
        "DateNotEquals" => Operator::Date(Equal, false, true),
        "DateLessThan" => Operator::Date(Less, false, false),
        "DateLessThanEquals" => Operator::Date(Less, true, false),
        "DateGreaterThan" => Operator::Date(Greater, false, false),
        "DateGreaterThanEquals" => Operator::Date(Greater, true, false),
        "Bool" => Operator::Bool,
        _ => return Err(PolicyError::Malformed("unsupported condition operator")),
    })
}

fn key(name: &str) -> Result<Key, PolicyError> {
    let lower = name.to_ascii_lowercase();
    Ok(match lower.as_str() {
        "acs:sourceip" => Key::SourceIp,
        "acs:currenttime" => Key::CurrentTime,
        "acs:securetransport" => Key::SecureTransport,
        _ if lower.starts_with("kms:encryptioncontext/") => {
            Key::EncryptionContext(name["kms:encryptioncontext/".len()..].to_owned())
        }
        _ => return Err(PolicyError::Malformed("unsupported condition key")),
    })
}

impl Condition {
    /// Refuses values the operator can never match (bad CIDR, bad date), at parse time.
    fn check_values(&self) -> Result<(), PolicyError> {
        let ok = match self.operator {
            Operator::Ip { .. } => self.values.iter().all(|v| parse_cidr(v).is_some()),
            Operator::Date(..) => self.values.iter().all(|v| parse_date(v).is_some()),
            Operator::Bool => self.values.iter().all(|v| v == "true" || v == "false"),
            _ => true,
        };
        match ok {
            true => Ok(()),
            false => Err(PolicyError::Malformed(
                "a condition value does not fit its operator",
            )),
        }
    }

    /// Whether the condition holds for `ctx`.
    pub fn holds(&self, ctx: &ConditionContext) -> bool {
        let Some(fact) = self.fact(ctx) else {
            return self.negated();
        };
        let any = |f: &dyn Fn(&str) -> bool| self.values.iter().any(|v| f(v));
        match self.operator {
            Operator::StringEquals {
                negate,
                ignore_case,
            } => {
                negate
                    != any(&|v| {
                        if ignore_case {
                            v.eq_ignore_ascii_case(&fact)
                        } else {
                            v == fact
                        }
                    })
            }
            Operator::StringLike { negate } => {
                negate != any(&|v| pattern::matches(v, &fact, false))
            }
            Operator::Ip { negate } => {
                let ip: Option<IpAddr> = fact.parse().ok();
                negate
                    != any(&|v| ip.is_some_and(|ip| parse_cidr(v).is_some_and(|c| c.contains(ip))))
            }
            Operator::Date(order, or_equal, negate) => {
                let now = fact.parse::<i64>().unwrap_or(i64::MIN);
                negate
                    != any(&|v| {
                        parse_date(v).is_some_and(|d| {
                            let c = now.cmp(&d);
                            c == order || (or_equal && c.is_eq())
                        })
                    })
            }
            Operator::Bool => any(&|v| v == fact),
        }
    }

    fn negated(&self) -> bool {
        matches!(
            self.operator,
            Operator::StringEquals { negate: true, .. }
                | Operator::StringLike { negate: true }
                | Operator::Ip { negate: true }
                | Operator::Date(_, _, true)
        )
    }

    fn fact(&self, ctx: &ConditionContext) -> Option<String> {
        match &self.key {
            Key::SourceIp => ctx.source_ip.map(|ip| ip.to_string()),
            Key::CurrentTime => Some(ctx.current_time.to_string()),
            Key::SecureTransport => Some(ctx.secure_transport.to_string()),
            Key::EncryptionContext(k) => ctx.encryption_context.get(k).cloned(),
        }
    }
}

/// An address block.
struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), self.prefix),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), self.prefix),
            // An IPv4-mapped block (`::ffff:a.b.c.d/p`, p >= 96) is the IPv4 block /(p - 96).
            (IpAddr::V6(n), IpAddr::V4(a)) => match n.to_ipv4_mapped() {
                Some(n4) if self.prefix >= 96 => {
                    prefix_eq(&n4.octets(), &a.octets(), self.prefix - 96)
                }
                _ => false,
            },
            (IpAddr::V4(_), IpAddr::V6(a)) => a
                .to_ipv4_mapped()
                .is_some_and(|a4| self.contains(IpAddr::V4(a4))),
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let (bytes, bits) = (usize::from(prefix / 8), prefix % 8);
    if a[..bytes] != b[..bytes] {
        return false;
    }
    bits == 0 || (a[bytes] ^ b[bytes]) >> (8 - bits) == 0
}

fn parse_cidr(text: &str) -> Option<Cidr> {
    let (addr, prefix) = text.split_once('/').unwrap_or((text, ""));
    let network: IpAddr = addr.trim().parse().ok()?;
    let max = if network.is_ipv4() { 32 } else { 128 };
    let prefix = if prefix.is_empty() {
        max
    } else {
        prefix.trim().parse().ok()?
    };
    (prefix <= max).then_some(Cidr { network, prefix })
}

fn parse_date(text: &str) -> Option<i64> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}
