//! ARN patterns: matched one colon-separated segment at a time.
//!
//! IAM User Guide, "Condition operators", ARN condition operators: "each of
//! the six colon-delimited components of the ARN is checked separately and
//! each can include multi-character match wildcards (*) or single-character
//! match wildcards (?)". The same holds for the `Resource` element; the last
//! segment (the resource) may itself contain colons and slashes.

use crate::glob::{Glob, Token};

/// A compiled ARN pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ArnMatcher {
    /// Not ARN-shaped (or no wildcard): compared as one string.
    Whole(Glob),
    /// Six segments, each with its own wildcards.
    Segments(Box<[Glob; 6]>),
}

impl ArnMatcher {
    /// Compiles a glob into an ARN matcher.
    pub(crate) fn new(glob: Glob) -> ArnMatcher {
        let Glob::Pattern(tokens) = &glob else {
            return ArnMatcher::Whole(glob);
        };
        let colons: usize = tokens
            .iter()
            .map(|t| {
                if let Token::Lit(s) = t {
                    s.matches(':').count()
                } else {
                    0
                }
            })
            .sum();
        if colons < 5 {
            return ArnMatcher::Whole(glob);
        }
        let mut segments: Vec<Vec<Token>> = vec![Vec::new()];
        for t in tokens {
            match t {
                Token::Lit(s) => {
                    let mut rest = s.as_str();
                    while segments.len() < 6 {
                        match rest.find(':') {
                            Some(i) => {
                                push_lit(&mut segments, &rest[..i]);
                                segments.push(Vec::new());
                                rest = &rest[i + 1..];
                            }
                            None => break,
                        }
                    }
                    push_lit(&mut segments, rest);
                }
                other => {
                    if let Some(last) = segments.last_mut() {
                        last.push(other.clone());
                    }
                }
            }
        }
        let globs: Vec<Glob> = segments.into_iter().map(Glob::from_tokens).collect();
        // With wildcards only in the resource segment, one match over the whole
        // string is equivalent (the literal prefix fixes the first five segments)
        // and cheaper.
        if globs.len() == 6 && globs[..5].iter().all(|g| !g.has_wildcard()) {
            return ArnMatcher::Whole(glob);
        }
        match <[Glob; 6]>::try_from(globs) {
            Ok(arr) => ArnMatcher::Segments(Box::new(arr)),
            Err(_) => ArnMatcher::Whole(glob),
        }
    }

    /// Whether the pattern holds a wildcard.
    pub(crate) fn has_wildcard(&self) -> bool {
        match self {
            ArnMatcher::Whole(g) => g.has_wildcard(),
            ArnMatcher::Segments(segs) => segs.iter().any(Glob::has_wildcard),
        }
    }

    /// Whether `text` matches (case-sensitive).
    #[inline]
    pub(crate) fn matches(&self, text: &str) -> bool {
        match self {
            ArnMatcher::Whole(g) => g.matches(text, false),
            ArnMatcher::Segments(segs) => segments_match(segs, text),
        }
    }
}

/// Segment-by-segment matching (kept out of line: the whole-string case is the hot one).
#[inline(never)]
fn segments_match(segs: &[Glob; 6], text: &str) -> bool {
    let mut parts = text.splitn(6, ':');
    for seg in segs.iter() {
        match parts.next() {
            Some(p) if seg.matches(p, false) => {}
            _ => return false,
        }
    }
    true
}

fn push_lit(segments: &mut [Vec<Token>], s: &str) {
    if let Some(last) = segments.last_mut() {
        if !s.is_empty() {
            last.push(Token::Lit(s.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        ArnMatcher::new(Glob::new(p)).matches(t)
    }

    #[test]
    fn per_segment() {
        assert!(m("arn:aws:iam::*:root", "arn:aws:iam::111122223333:root"));
        assert!(!m(
            "arn:aws:iam::*:root",
            "arn:aws:iam::111122223333:user/root"
        ));
        assert!(m(
            "arn:aws:iam::111122223333:role/app-*",
            "arn:aws:iam::111122223333:role/app-reader"
        ));
        assert!(m("arn:aws:s3:::*", "arn:aws:s3:::bucket/key/with:colon"));
        assert!(m(
            "arn:aws:s3:::*log*",
            "arn:aws:s3:::carlossalazar-logs/notes.txt"
        ));
        assert!(m(
            "arn:aws:kms:us-east-1:111122223333:key/*",
            "arn:aws:kms:us-east-1:111122223333:key/abc"
        ));
        assert!(!m(
            "arn:aws:kms:us-east-1:111122223333:key/*",
            "arn:aws:kms:us-east-1:444455556666:key/abc"
        ));
        // a '*' in an early segment does not run across a colon
        assert!(!m("arn:*:s3:::b", "arn:aws:x:s3:::b"));
        assert!(m("*", "anything"));
        assert!(m("arn:aws:s3:::bucket", "arn:aws:s3:::bucket"));
        assert!(!m("arn:aws:s3:::bucket", "arn:aws:s3:::bucket/x"));
    }
}
