//! Wildcard patterns as the policy language uses them: `*` matches any run of
//! characters (including none, and including `/`), `?` exactly one character.
//!
//! IAM User Guide, "IAM JSON policy elements: Resource" and "Condition
//! operators" (StringLike): "You can use wildcards (* and ?) anywhere in the
//! string"; the `*` in `example-bucket/*/test/*` spans several `/` levels.

/// One piece of a compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Token {
    /// `*`: any run of characters.
    Star,
    /// `?`: exactly one character.
    One,
    /// Characters that must appear as they are.
    Lit(String),
}

/// A compiled wildcard pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Glob {
    /// `*` alone: matches everything.
    Any,
    /// No wildcard at all.
    Exact(String),
    /// Literal text followed by one `*` (the most common shape: `s3:Get*`,
    /// `arn:aws:s3:::bucket/*`).
    Prefix(String),
    /// Literals mixed with wildcards.
    Pattern(Vec<Token>),
}

impl Glob {
    /// Compiles `pattern`, reading `*` and `?` as wildcards.
    pub(crate) fn new(pattern: &str) -> Glob {
        Glob::from_tokens(tokenize(pattern))
    }

    /// Builds a glob from tokens (merging neighbouring literals and stars).
    pub(crate) fn from_tokens(tokens: Vec<Token>) -> Glob {
        let tokens = normalize(tokens);
        match tokens.as_slice() {
            [] => Glob::Exact(String::new()),
            [Token::Star] => Glob::Any,
            [Token::Lit(s)] => Glob::Exact(s.clone()),
            [Token::Lit(s), Token::Star] => Glob::Prefix(s.clone()),
            _ => Glob::Pattern(tokens),
        }
    }

    /// Whether `text` matches; `ignore_case` compares ASCII letters without case.
    #[inline]
    pub(crate) fn matches(&self, text: &str, ignore_case: bool) -> bool {
        match self {
            Glob::Any => true,
            Glob::Exact(s) => {
                if s.len() != text.len() {
                    return false;
                }
                if ignore_case {
                    s.eq_ignore_ascii_case(text)
                } else {
                    bytes_eq(s.as_bytes(), text.as_bytes())
                }
            }
            Glob::Prefix(p) => literal_at(text, 0, p, ignore_case),
            Glob::Pattern(tokens) => tokens_match(tokens, text, ignore_case),
        }
    }

    /// Whether the pattern contains a wildcard.
    pub(crate) fn has_wildcard(&self) -> bool {
        !matches!(self, Glob::Exact(_))
    }
}

/// Splits a pattern into literal runs and wildcards.
pub(crate) fn tokenize(pattern: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut lit = String::new();
    for c in pattern.chars() {
        match c {
            '*' | '?' => {
                if !lit.is_empty() {
                    tokens.push(Token::Lit(std::mem::take(&mut lit)));
                }
                tokens.push(if c == '*' { Token::Star } else { Token::One });
            }
            _ => lit.push(c),
        }
    }
    if !lit.is_empty() {
        tokens.push(Token::Lit(lit));
    }
    tokens
}

/// Merges adjacent literals and collapses runs of `*`.
pub(crate) fn normalize(tokens: Vec<Token>) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    for t in tokens {
        match (out.last_mut(), t) {
            (_, Token::Lit(s)) if s.is_empty() => {}
            (Some(Token::Lit(prev)), Token::Lit(s)) => prev.push_str(&s),
            (Some(Token::Star), Token::Star) => {}
            (_, t) => out.push(t),
        }
    }
    out
}

/// Byte equality for the short strings of policies, inlined (a library
/// `memcmp` call costs more than the comparison itself here).
#[inline]
pub(crate) fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut ac = a.chunks_exact(8);
    let mut bc = b.chunks_exact(8);
    for (x, y) in (&mut ac).zip(&mut bc) {
        let x = u64::from_ne_bytes([x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]]);
        let y = u64::from_ne_bytes([y[0], y[1], y[2], y[3], y[4], y[5], y[6], y[7]]);
        if x != y {
            return false;
        }
    }
    ac.remainder()
        .iter()
        .zip(bc.remainder())
        .all(|(x, y)| x == y)
}

fn char_len_at(text: &str, pos: usize) -> usize {
    text[pos..].chars().next().map_or(1, char::len_utf8)
}

#[inline]
fn literal_at(text: &str, pos: usize, lit: &str, ignore_case: bool) -> bool {
    let end = pos + lit.len();
    if end > text.len() {
        return false;
    }
    let slice = &text.as_bytes()[pos..end];
    // Cheap first-byte check before the full comparison.
    if let (Some(a), Some(b)) = (slice.first(), lit.as_bytes().first()) {
        if a != b && !(ignore_case && a.eq_ignore_ascii_case(b)) {
            return false;
        }
    }
    if ignore_case {
        slice.eq_ignore_ascii_case(lit.as_bytes())
    } else {
        bytes_eq(slice, lit.as_bytes())
    }
}

/// Greedy matching with backtracking to the last `*` (linear in practice).
pub(crate) fn tokens_match(tokens: &[Token], text: &str, ignore_case: bool) -> bool {
    let mut ti = 0;
    let mut pos = 0;
    // (index of the token after the last star, text position the star has reached)
    let mut star: Option<(usize, usize)> = None;
    loop {
        if ti < tokens.len() {
            match &tokens[ti] {
                Token::Star => {
                    if ti + 1 == tokens.len() {
                        // A trailing `*` takes whatever is left.
                        return true;
                    }
                    star = Some((ti + 1, pos));
                    ti += 1;
                    continue;
                }
                Token::One => {
                    if pos < text.len() {
                        pos += char_len_at(text, pos);
                        ti += 1;
                        continue;
                    }
                }
                Token::Lit(lit) => {
                    if literal_at(text, pos, lit, ignore_case) {
                        pos += lit.len();
                        ti += 1;
                        continue;
                    }
                }
            }
        } else if pos == text.len() {
            return true;
        }
        match star {
            Some((after, reached)) if reached < text.len() => {
                let next = reached + char_len_at(text, reached);
                star = Some((after, next));
                ti = after;
                pos = next;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        Glob::new(p).matches(t, false)
    }

    #[test]
    fn stars_and_question_marks() {
        assert!(m("*", ""));
        assert!(m("*", "anything/at/all"));
        assert!(m("s3:Get*", "s3:GetObjectVersion"));
        assert!(!m("s3:*Object", "s3:PutObjectAcl"));
        assert!(m("s3:?etObject", "s3:GetObject"));
        assert!(!m("s3:?etObject", "s3:etObject"));
        assert!(m("a*b*c", "aXXbYYbZZc"));
        assert!(!m("a*b*c", "aXXbYYbZZ"));
        assert!(m(
            "example-bucket/*/test/*",
            "example-bucket/1/2/test/3/object.jpg"
        ));
        assert!(!m(
            "example-bucket/*/test/*",
            "example-bucket/test/object.jpg"
        ));
        assert!(m("report-202?.csv", "report-2024.csv"));
        assert!(m("**", "x"));
        assert!(m("?", "é"));
        assert!(!m("??", "é"));
    }

    #[test]
    fn case_rules() {
        assert!(Glob::new("S3:getobject").matches("s3:GetObject", true));
        assert!(!Glob::new("S3:getobject").matches("s3:GetObject", false));
        assert!(Glob::new("s3:get*").matches("S3:GETOBJECT", true));
    }

    #[test]
    fn shapes() {
        assert_eq!(Glob::new("*"), Glob::Any);
        assert_eq!(Glob::new("abc"), Glob::Exact("abc".into()));
        assert!(Glob::new("a*").has_wildcard());
        assert_eq!(Glob::new("ab*"), Glob::Prefix("ab".into()));
        assert!(Glob::new("ab*").matches("ab", false));
        assert!(Glob::new("ab*").matches("abc/d", false));
        assert!(!Glob::new("ab*").matches("a", false));
        assert!(Glob::new("AB*").matches("abc", true));
    }
}
