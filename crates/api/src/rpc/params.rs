//! Request parameters: the query string and a form body, merged (§1.1).
//!
//! Values are decoded with form semantics (`+` is a space). All pairs are kept in arrival
//! order, because the V1 signature covers every one of them; lookups return the first pair
//! with the name. Typed getters turn absent or malformed values into the right
//! [`RpcError`]. What each action requires is decided in that action's module.

use super::error::RpcError;

/// The decoded parameters of one request.
#[derive(Debug, Default, Clone)]
pub struct Params {
    pairs: Vec<(String, String)>,
    /// How many of `pairs` came from the query string (they come first); V3 signs only those.
    query_len: usize,
}

impl Params {
    /// Parses the query string and, when given, a form-encoded body.
    pub fn parse(query: Option<&str>, form_body: Option<&[u8]>) -> Self {
        let mut pairs: Vec<(String, String)> = Vec::new();
        if let Some(q) = query {
            pairs.extend(url::form_urlencoded::parse(q.as_bytes()).into_owned());
        }
        let query_len = pairs.len();
        if let Some(body) = form_body {
            pairs.extend(url::form_urlencoded::parse(body).into_owned());
        }
        Self { pairs, query_len }
    }

    /// The pairs that came from the query string.
    pub fn query_pairs(&self) -> &[(String, String)] {
        &self.pairs[..self.query_len]
    }

    /// Builds parameters from pairs (for tests and internal callers).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let query_len = pairs.len();
        Self { pairs, query_len }
    }

    /// Every pair, in arrival order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The first value of `name`, if present (an empty value is present).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name`, or `MissingParameter` when absent or empty.
    pub fn required(&self, name: &'static str) -> Result<&str, RpcError> {
        match self.get(name) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(RpcError::MissingParameter(name)),
        }
    }

    /// The value of `name` when present and non-empty.
    pub fn optional(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// A boolean: `true`/`false` in any case (Python SDKs send `True`); absent is `default`.
    pub fn bool_or(&self, name: &'static str, default: bool) -> Result<bool, RpcError> {
        match self.optional(name) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(_) => Err(RpcError::invalid(name)),
        }
    }

    /// Pairs whose name starts with `prefix`, with the prefix removed (for `Name.key=value`
    /// flattened maps, as the npm SDK sends EncryptionContext).
    pub fn with_prefix<'a, 'p>(
        &'a self,
        prefix: &'p str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + use<'a, 'p> {
        self.pairs
            .iter()
            .filter_map(move |(k, v)| k.strip_prefix(prefix).map(|rest| (rest, v.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_query_and_body_with_form_semantics() {
        let p = Params::parse(Some("a=1&Description=test+key&x=%2B"), Some(b"b=two+words"));
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("Description"), Some("test key"));
        assert_eq!(p.get("x"), Some("+"));
        assert_eq!(p.get("b"), Some("two words"));
        assert_eq!(p.pairs().len(), 4);
    }

    #[test]
    fn typed_getters() {
        let p = Params::parse(Some("t=True&f=false&bad=maybe&empty="), None);
        assert!(p.bool_or("t", false).unwrap());
        assert!(!p.bool_or("f", true).unwrap());
        assert!(p.bool_or("bad", true).is_err());
        assert!(p.bool_or("none", true).unwrap());
        assert!(matches!(
            p.required("empty"),
            Err(RpcError::MissingParameter("empty"))
        ));
        assert_eq!(p.get("empty"), Some(""));
    }

    #[test]
    fn flattened_maps() {
        let p = Params::parse(
            Some("EncryptionContext.a=1&EncryptionContext.b=x*y&Other=2"),
            None,
        );
        let m: Vec<_> = p.with_prefix("EncryptionContext.").collect();
        assert_eq!(m, vec![("a", "1"), ("b", "x*y")]);
    }
}
