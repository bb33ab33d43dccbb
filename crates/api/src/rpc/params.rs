//! Request parameters: the query string and a form body, merged (§1.1).
//!
//! Values are decoded with form semantics (`+` is a space). All pairs are kept in arrival
//! order, because the V1 signature covers every one of them; lookups return the first pair
//! with the name. Typed getters turn absent or malformed values into the right
//! [`RpcError`]. What each action requires is decided in that action's module.

use std::fmt;

use zeroize::Zeroizing;

use super::error::RpcError;

/// The decoded parameters of one request.
///
/// Every decoded name and value sits back to back in one string, and each pair is a pair of
/// ranges into it: parsing a request costs two allocations, not two per parameter. The text
/// holds plaintexts and is wiped when the parameters are dropped; neither `Debug` nor
/// `Clone` can copy it out (the `Debug` form lists the names only).
#[derive(Default)]
pub struct Params {
    /// The decoded names and values, back to back.
    text: Zeroizing<String>,
    /// Each pair as (name, value) byte ranges into `text`, in arrival order.
    pairs: Vec<(Span, Span)>,
    /// How many of `pairs` came from the query string (they come first); V3 signs only those.
    query_len: usize,
}

/// A byte range `start..end` of [`Params::text`].
type Span = (usize, usize);

impl Params {
    /// Parses the query string and, when given, a form-encoded body.
    pub fn parse(query: Option<&str>, form_body: Option<&[u8]>) -> Self {
        let mut params = Self::from_query(query);
        if let Some(body) = form_body {
            params.add_form(body);
        }
        params
    }

    /// Parses the query string alone; a form body can be added with [`Params::add_form`].
    pub fn from_query(query: Option<&str>) -> Self {
        let mut params = Self::default();
        if let Some(q) = query {
            params.text.reserve(q.len());
            params
                .pairs
                .reserve(q.bytes().filter(|&b| b == b'&').count() + 1);
            params.add_pairs(q.as_bytes());
        }
        params.query_len = params.pairs.len();
        params
    }

    /// Adds the pairs of a form-encoded body after the query's.
    pub fn add_form(&mut self, body: &[u8]) {
        self.add_pairs(body);
    }

    /// Appends the pairs of form-encoded `input`, decoded by `form_urlencoded` (`+` is a
    /// space, `%XX` a byte, invalid UTF-8 replaced); names and values without escapes are
    /// borrowed by the decoder and copied once, into `text`.
    fn add_pairs(&mut self, input: &[u8]) {
        for (name, value) in url::form_urlencoded::parse(input) {
            let name = self.push(&name);
            let value = self.push(&value);
            self.pairs.push((name, value));
        }
    }

    fn span(&self, (start, end): Span) -> &str {
        &self.text[start..end]
    }

    fn pair(&self, &(name, value): &(Span, Span)) -> (&str, &str) {
        (self.span(name), self.span(value))
    }

    /// The pairs that came from the query string.
    pub fn query_pairs(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + Clone {
        self.pairs[..self.query_len].iter().map(|p| self.pair(p))
    }

    /// Builds parameters from pairs (for tests and internal callers).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut params = Self::default();
        for (name, value) in &pairs {
            let name = params.push(name);
            let value = params.push(value);
            params.pairs.push((name, value));
        }
        params.query_len = params.pairs.len();
        params
    }

    fn push(&mut self, s: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(s);
        (start, self.text.len())
    }

    /// Every pair, in arrival order.
    pub fn pairs(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + Clone {
        self.pairs.iter().map(|p| self.pair(p))
    }

    /// The first value of `name`, if present (an empty value is present).
    pub fn get(&self, name: &str) -> Option<&str> {
        let text = self.text.as_bytes();
        self.pairs
            .iter()
            .find(|&&((start, end), _)| text.get(start..end) == Some(name.as_bytes()))
            .map(|&(_, value)| self.span(value))
    }

    /// The first name given more than once (in the query, the body, or both), if any. Such a
    /// request is refused whole: which of the values a lookup sees depends on the order of
    /// the pairs, which the V1 signature does not fix.
    pub fn repeated_name(&self) -> Option<&str> {
        let mut names: Vec<&str> = self
            .pairs
            .iter()
            .map(|&(name, _)| self.span(name))
            .collect();
        names.sort_unstable();
        names.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
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
        self.pairs()
            .filter_map(move |(k, v)| k.strip_prefix(prefix).map(|rest| (rest, v)))
    }
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = self.pairs.iter().map(|&(name, _)| self.span(name));
        f.debug_struct("Params")
            .field("names", &names.collect::<Vec<_>>())
            .finish_non_exhaustive()
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

    fn reference(input: &[u8]) -> Vec<(String, String)> {
        url::form_urlencoded::parse(input).into_owned().collect()
    }

    fn decoded(params: &Params) -> Vec<(String, String)> {
        params
            .pairs()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn decodes_like_form_urlencoded() {
        let cases: [&[u8]; 12] = [
            b"a=1&b=2",
            b"&&a=&=b&c&&",
            b"x=%2B+%20%zz%4&y=%e9%41%C3%A9",
            b"%ff%fe=%80&k=v%",
            b"p=a%2Fb%3D%26c=d&q==",
            b"",
            b"=",
            b"+=+",
            b"%%%41",
            b"a=%4",
            b"\xc3\xa9=\xff",
            b"EncryptionContext=%7B%22k%22%3A%22v%22%7D&Plaintext=aGVsbG8%3D",
        ];
        for input in cases {
            let p = Params::parse(None, Some(input));
            assert_eq!(decoded(&p), reference(input), "{input:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn decodes_any_bytes_like_form_urlencoded(input in proptest::collection::vec(
            proptest::sample::select(b"ab=&+%2F0fFzZ\xc3\xa9\xff".to_vec()), 0..40)) {
            let p = Params::parse(None, Some(&input));
            proptest::prop_assert_eq!(decoded(&p), reference(&input));
        }
    }

    #[test]
    fn query_pairs_come_first() {
        let mut p = Params::from_query(Some("a=1&Format=XML"));
        p.add_form(b"Format=JSON&b=2");
        assert_eq!(p.get("Format"), Some("XML"));
        assert_eq!(p.query_pairs().len(), 2);
        assert_eq!(p.pairs().len(), 4);
        let from = Params::from_pairs(vec![("k".into(), "v w".into())]);
        assert_eq!(from.get("k"), Some("v w"));
        assert_eq!(from.query_pairs().collect::<Vec<_>>(), vec![("k", "v w")]);
    }

    #[test]
    fn repeated_names_are_found_in_query_and_body() {
        assert_eq!(
            Params::parse(Some("a=1&b=2"), Some(b"c=3")).repeated_name(),
            None
        );
        assert_eq!(
            Params::parse(Some("a=1&a=1"), None).repeated_name(),
            Some("a")
        );
        assert_eq!(
            Params::parse(Some("a=1"), Some(b"b=&a=2")).repeated_name(),
            Some("a")
        );
        assert_eq!(
            Params::parse(None, Some(b"K=1&k=2&K=")).repeated_name(),
            Some("K")
        );
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
