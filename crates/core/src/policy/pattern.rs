//! Wildcard matching for policy actions, resources, principals and `StringLike` conditions:
//! `*` any run of characters (none included), `?` exactly one.
//!
//! # Why it is linear
//!
//! A pattern is cut at its stars into segments `S0 * S1 * … * Sk`. Without a star the text
//! must have the pattern's length and fit it position by position. Otherwise `S0` must fit the
//! start of the text and `Sk` its end (without overlapping), and the middle segments must occur
//! in order, without overlapping, in what lies between. Taking the leftmost occurrence of each
//! middle segment in turn is exact: if any placement works, moving a segment to its leftmost
//! occurrence after the previous one leaves at least as much room for the rest. So no step is
//! ever undone, unlike the classic two-pointer matcher, which backtracks to the last star and
//! costs O(n·m) on `*aaaa…ab` against `aaaa…a` (a 60,000-byte KeyId took 277 ms).
//!
//! Each middle segment is looked for only in the text after the previous one's occurrence,
//! and the next search starts after this one's, so the windows scanned are disjoint:
//! - a segment without `?` is found by Knuth–Morris–Pratt, O(scanned + |S|): with only such
//!   segments a match costs O(n + m) for a text of n and a pattern of m characters;
//! - a segment with `?` (a fixed-length don't-care, which KMP cannot skip over) is found by the
//!   bit-parallel Shift-And automaton (Baeza-Yates–Gonnet), O(scanned · ⌈|S|/64⌉ + |S|·⌈|S|/64⌉):
//!   linear for segments of up to 64 characters. A longer one costs ⌈|S|/64⌉ words a text
//!   character; it is looked for only when it fits in what is left of the text (|S| ≤ n), so
//!   the worst case is O(n·⌈n/64⌉), and the texts matched are bounded (identifiers by the
//!   request bounds, context values at 4 KiB): at most about 256 K word operations.
//!
//! Comparing without case (policy actions) folds each character to its single-character
//! lowercase first; the one character whose lowercase is two characters (`İ`) is kept as it is,
//! which compares it exactly as comparing lowercase sequences did.

/// Whether `text` matches `pattern`.
pub fn matches(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let fold = |c: char| match ignore_case {
        true => fold_case(c),
        false => c,
    };
    let p: Vec<char> = pattern.chars().map(fold).collect();
    let t: Vec<char> = text.chars().map(fold).collect();
    glob(&p, &t, &mut 0)
}

/// `c` lowercased when its lowercase is one character, else `c`.
fn fold_case(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// The matcher over characters; `steps` counts the character comparisons and automaton
/// words it spends (the tests bound it).
fn glob(p: &[char], t: &[char], steps: &mut u64) -> bool {
    let mut segments = p.split(|&c| c == '*');
    let first = segments.next().unwrap_or_default();
    let rest: Vec<&[char]> = segments.collect();
    let Some((last, middle)) = rest.split_last() else {
        return t.len() == first.len() && fits(first, t, steps);
    };
    let Some(inner_len) = t.len().checked_sub(first.len() + last.len()) else {
        return false;
    };
    let (head, tail) = (&t[..first.len()], &t[t.len() - last.len()..]);
    if !fits(first, head, steps) || !fits(last, tail, steps) {
        return false;
    }
    let mut window = &t[first.len()..first.len() + inner_len];
    for segment in middle.iter().filter(|s| !s.is_empty()) {
        match find(segment, window, steps) {
            Some(end) => window = &window[end..],
            None => return false,
        }
    }
    true
}

/// Whether `segment` fits `text` of the same length, `?` fitting any character.
fn fits(segment: &[char], text: &[char], steps: &mut u64) -> bool {
    *steps += segment.len() as u64;
    segment.len() == text.len() && segment.iter().zip(text).all(|(&s, &c)| s == '?' || s == c)
}

/// Where the leftmost occurrence of `segment` in `text` ends.
fn find(segment: &[char], text: &[char], steps: &mut u64) -> Option<usize> {
    if segment.len() > text.len() {
        return None;
    }
    match segment.contains(&'?') {
        false => kmp(segment, text, steps),
        true => shift_and(segment, text, steps),
    }
}

/// Knuth–Morris–Pratt: the end of the leftmost occurrence of `needle` (no `?`) in `text`.
fn kmp(needle: &[char], text: &[char], steps: &mut u64) -> Option<usize> {
    let border = borders(needle, steps);
    let mut k = 0;
    for (i, &c) in text.iter().enumerate() {
        while k > 0 && needle[k] != c {
            *steps += 1;
            k = border[k - 1];
        }
        *steps += 1;
        if needle[k] == c {
            k += 1;
        }
        if k == needle.len() {
            return Some(i + 1);
        }
    }
    None
}

/// `border[i]`: the length of the longest proper border of `needle[..=i]`.
fn borders(needle: &[char], steps: &mut u64) -> Vec<usize> {
    let mut border = vec![0; needle.len()];
    let mut k = 0;
    for i in 1..needle.len() {
        while k > 0 && needle[k] != needle[i] {
            *steps += 1;
            k = border[k - 1];
        }
        *steps += 1;
        if needle[k] == needle[i] {
            k += 1;
        }
        border[i] = k;
    }
    border
}

/// Shift-And: the end of the leftmost occurrence of `segment` (with `?`) in `text`. Bit `i`
/// of the state says `segment[..=i]` ends at the current character.
fn shift_and(segment: &[char], text: &[char], steps: &mut u64) -> Option<usize> {
    let masks = Masks::of(segment, steps);
    let words = masks.wild.len();
    let (top_word, top_bit) = ((segment.len() - 1) / 64, (segment.len() - 1) % 64);
    let mut state = vec![0u64; words];
    for (i, &c) in text.iter().enumerate() {
        let mask = masks.of_char(c);
        let mut carry = 1;
        for (w, word) in state.iter_mut().enumerate() {
            *steps += 1;
            let next_carry = *word >> 63;
            let allowed = masks.wild[w] | mask.map_or(0, |m| m[w]);
            *word = ((*word << 1) | carry) & allowed;
            carry = next_carry;
        }
        if state[top_word] >> top_bit & 1 == 1 {
            return Some(i + 1);
        }
    }
    None
}

/// The Shift-And masks of a segment: which positions each of its characters, and `?`, fill.
struct Masks {
    /// The positions of `?`.
    wild: Vec<u64>,
    /// Each distinct character of the segment with its positions, sorted by character.
    chars: Vec<(char, Vec<u64>)>,
}

impl Masks {
    fn of(segment: &[char], steps: &mut u64) -> Self {
        let words = segment.len().div_ceil(64);
        let mut wild = vec![0u64; words];
        let mut chars: Vec<(char, Vec<u64>)> = Vec::new();
        for (i, &c) in segment.iter().enumerate() {
            *steps += 1;
            let (w, bit) = (i / 64, 1u64 << (i % 64));
            if c == '?' {
                wild[w] |= bit;
                continue;
            }
            let at = match chars.binary_search_by_key(&c, |&(k, _)| k) {
                Ok(at) => at,
                Err(at) => {
                    *steps += words as u64;
                    chars.insert(at, (c, vec![0u64; words]));
                    at
                }
            };
            chars[at].1[w] |= bit;
        }
        Self { wild, chars }
    }

    fn of_char(&self, c: char) -> Option<&[u64]> {
        let at = self.chars.binary_search_by_key(&c, |&(k, _)| k).ok()?;
        Some(&self.chars[at].1)
    }
}

#[cfg(test)]
mod tests {
    use super::{glob, matches};

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
        assert!(!matches("ab*ba", "aba", false), "prefix and suffix overlap");
        assert!(matches("*a?c*", "xxabcyy", false));
        assert!(matches("İ*", "İx", true));
        assert!(matches("*名?*", "前名前後", false));
    }

    /// The plain definition, by dynamic programming: the reference the matcher must agree with.
    fn reference(p: &[char], t: &[char]) -> bool {
        let mut row = vec![false; t.len() + 1];
        row[0] = true;
        for &pc in p {
            let mut next = vec![false; t.len() + 1];
            if pc == '*' {
                next[0] = row[0];
            }
            for j in 1..=t.len() {
                next[j] = match pc {
                    '*' => next[j - 1] || row[j],
                    '?' => row[j - 1],
                    c => row[j - 1] && t[j - 1] == c,
                };
            }
            row = next;
        }
        row[t.len()]
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_the_definition(
            p in proptest::collection::vec(proptest::sample::select(vec!['a', 'b', '?', '*']), 0..12),
            t in proptest::collection::vec(proptest::sample::select(vec!['a', 'b']), 0..16),
        ) {
            proptest::prop_assert_eq!(glob(&p, &t, &mut 0), reference(&p, &t));
        }
    }

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    /// The steps of matching `pattern` against `text`.
    fn steps(pattern: &str, text: &str) -> (bool, u64) {
        let mut steps = 0;
        let matched = glob(&chars(pattern), &chars(text), &mut steps);
        (matched, steps)
    }

    /// Patterns that make a backtracking matcher quadratic cost a small multiple of the text
    /// and pattern lengths here (steps counted, not time).
    #[test]
    fn adversarial_patterns_are_linear() {
        let n = 60_000;
        let text = "a".repeat(n);
        let run = "a".repeat(3000);
        let cases = [
            format!("*{run}b"),
            format!("*{run}b*"),
            format!("acs:kms:*{run}b*"),
            format!("*{}b*", "a?".repeat(31)),
            format!("*{}*", "a*".repeat(3000)) + "b",
            format!("*{}b", "a".repeat(40) + "?"),
            "*a*a*a*a*a*a*a*a*a*a*a*a*b*".to_owned(),
        ];
        for pattern in cases {
            let (matched, spent) = steps(&pattern, &text);
            assert!(!matched, "{}", &pattern[..20]);
            let bound = 4 * (n + pattern.len()) as u64;
            assert!(spent <= bound, "{} steps > {bound}", spent);
        }
    }

    /// A `?` segment longer than 64 characters costs ⌈|S|/64⌉ words a character, no more.
    #[test]
    fn long_wildcard_segments_cost_words_not_characters() {
        let n = 10_000;
        let text = "a".repeat(n);
        let segment = "a?".repeat(500) + "b";
        let (matched, spent) = steps(&format!("*{segment}*"), &text);
        assert!(!matched);
        let words = segment.len().div_ceil(64) as u64;
        assert!(spent <= 2 * (n as u64 + segment.len() as u64) * words);
        assert!(spent < (n * segment.len()) as u64 / 8);
    }
}
