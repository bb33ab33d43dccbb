//! Wildcard matching for policy actions and resources: `*` any run of characters, `?` one.
//!
//! Iterative with backtracking to the last `*`, so it is linear in practice and never
//! recursive on hostile patterns.

/// Whether `text` matches `pattern`.
pub fn matches(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| match ignore_case {
        true => a.to_lowercase().eq(b.to_lowercase()),
        false => a == b,
    };
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && eq(p[pi], t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn wildcards() {
        assert!(matches("kms:*", "kms:Encrypt", false));
        assert!(matches("*", "", false));
        assert!(matches(
            "acs:kms:*:*:key/*",
            "acs:kms:cn-hangzhou:123:key/abc",
            false
        ));
        assert!(!matches(
            "acs:kms:*:*:key/*",
            "acs:kms:cn-hangzhou:123:alias/abc",
            false
        ));
        assert!(matches("kms:En?rypt", "kms:Encrypt", false));
        assert!(!matches("kms:Encrypt", "kms:EncryptX", false));
        assert!(matches("KMS:encrypt", "kms:Encrypt", true));
        assert!(!matches("KMS:encrypt", "kms:Encrypt", false));
        assert!(matches("a*b*c", "aXXbYYc", false));
        assert!(!matches("a*b*c", "aXXbYY", false));
        assert!(matches("**", "x", false));
    }
}
