//! The [`ParamPair`] trait: one name/value parameter, whatever the caller stores it in.
//!
//! It lets the signing functions take `&[(String, String)]`, `[(&str, &str)]`,
//! `Vec<(Cow<str>, Cow<str>)>` and the like without copying. It owns no decoding: values
//! are already decoded (`+` and `%XX` resolved) when they get here.

/// A decoded request parameter: a name and a value.
pub trait ParamPair {
    /// The parameter name, decoded.
    fn name(&self) -> &str;
    /// The parameter value, decoded; may be empty.
    fn value(&self) -> &str;
}

impl<K: AsRef<str>, V: AsRef<str>> ParamPair for (K, V) {
    fn name(&self) -> &str {
        self.0.as_ref()
    }
    fn value(&self) -> &str {
        self.1.as_ref()
    }
}

impl<T: ParamPair + ?Sized> ParamPair for &T {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn value(&self) -> &str {
        (**self).value()
    }
}
