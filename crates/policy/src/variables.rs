//! Policy variables in `Resource` and condition values.
//!
//! IAM User Guide, "IAM policy elements: Variables and tags": `${key}` is
//! replaced by the value of the request-context key (names are not
//! case-sensitive); `${key, 'default'}` gives a value when the key is absent
//! (a quote inside the default is written `''`); `${*}`, `${?}` and `${$}`
//! stand for the literal characters; multivalued keys cannot be used as
//! variables. "IAM JSON policy elements: Version": variables are only
//! substituted under `"Version": "2012-10-17"`. A variable with no value
//! ("Policy variables with no value") makes the value it is in null: that
//! value matches nothing, neither a resource nor a condition value (so an
//! inverted condition operator holds against it).

use crate::glob::{normalize, tokenize, Glob, Token};

/// A piece of a pattern that may contain variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    Tok(Token),
    Var {
        key: String,
        default: Option<String>,
    },
}

/// A pattern (with or without wildcards) that may hold policy variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Pattern {
    /// No variables: compiled once.
    Static(Glob),
    /// Variables: resolved per request.
    Dynamic(Vec<Part>),
}

impl Pattern {
    /// Compiles `text`. `wildcards`: whether `*` and `?` are wildcards;
    /// `variables`: whether `${...}` is substituted (Version 2012-10-17).
    pub(crate) fn new(text: &str, wildcards: bool, variables: bool) -> Pattern {
        let parts = if variables {
            parse_parts(text, wildcards)
        } else {
            plain_parts(text, wildcards)
        };
        if parts.iter().any(|p| matches!(p, Part::Var { .. })) {
            Pattern::Dynamic(parts)
        } else {
            let tokens = parts
                .into_iter()
                .filter_map(|p| match p {
                    Part::Tok(t) => Some(t),
                    Part::Var { .. } => None,
                })
                .collect();
            Pattern::Static(Glob::from_tokens(tokens))
        }
    }

    /// Resolves variables with `resolve` (which returns a single value or `None`).
    /// `None` when a variable has neither a value nor a default.
    pub(crate) fn resolve<'v>(
        &self,
        resolve: &dyn Fn(&str) -> Option<&'v str>,
    ) -> Option<Resolved<'_>> {
        match self {
            Pattern::Static(g) => Some(Resolved::Borrowed(g)),
            Pattern::Dynamic(parts) => {
                let mut tokens = Vec::with_capacity(parts.len());
                for p in parts {
                    match p {
                        Part::Tok(t) => tokens.push(t.clone()),
                        Part::Var { key, default } => {
                            let value = resolve(key)
                                .map(str::to_string)
                                .or_else(|| default.clone())?;
                            tokens.push(Token::Lit(value));
                        }
                    }
                }
                Some(Resolved::Owned(Glob::from_tokens(normalize(tokens))))
            }
        }
    }

    /// Whether the pattern holds a variable.
    pub(crate) fn has_variables(&self) -> bool {
        matches!(self, Pattern::Dynamic(_))
    }
}

/// A pattern after variable substitution.
pub(crate) enum Resolved<'a> {
    Borrowed(&'a Glob),
    Owned(Glob),
}

impl std::ops::Deref for Resolved<'_> {
    type Target = Glob;
    fn deref(&self) -> &Glob {
        match self {
            Resolved::Borrowed(g) => g,
            Resolved::Owned(g) => g,
        }
    }
}

fn plain_parts(text: &str, wildcards: bool) -> Vec<Part> {
    if wildcards {
        tokenize(text).into_iter().map(Part::Tok).collect()
    } else {
        vec![Part::Tok(Token::Lit(text.to_string()))]
    }
}

fn push_text(parts: &mut Vec<Part>, text: &str, wildcards: bool) {
    if text.is_empty() {
        return;
    }
    parts.extend(plain_parts(text, wildcards));
}

/// Splits `text` into literal / wildcard pieces and `${...}` variables.
fn parse_parts(text: &str, wildcards: bool) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        push_text(&mut parts, &rest[..start], wildcards);
        let after = &rest[start + 2..];
        match variable_end(after) {
            Some(end) => {
                let body = &after[..end];
                match parse_variable(body) {
                    Some(part) => parts.push(part),
                    None => parts.push(Part::Tok(Token::Lit(format!("${{{body}}}")))),
                }
                rest = &after[end + 1..];
            }
            None => {
                // No closing brace: the rest is plain text.
                parts.push(Part::Tok(Token::Lit("${".to_string())));
                rest = after;
            }
        }
    }
    push_text(&mut parts, rest, wildcards);
    parts
}

/// Index of the `}` closing a variable body, skipping quoted defaults.
fn variable_end(s: &str) -> Option<usize> {
    let mut in_quote = false;
    for (i, c) in s.char_indices() {
        match c {
            '\'' => in_quote = !in_quote,
            '}' if !in_quote => return Some(i),
            _ => {}
        }
    }
    None
}

fn parse_variable(body: &str) -> Option<Part> {
    let trimmed = body.trim();
    if let "*" | "?" | "$" = trimmed {
        return Some(Part::Tok(Token::Lit(trimmed.to_string())));
    }
    let (key, default) = match trimmed.split_once(',') {
        Some((k, d)) => {
            let d = d.trim();
            let inner = d.strip_prefix('\'')?.strip_suffix('\'')?;
            (k.trim(), Some(inner.replace("''", "'")))
        }
        None => (trimmed, None),
    };
    if key.is_empty() || key.chars().any(char::is_whitespace) {
        return None;
    }
    Some(Part::Var {
        key: key.to_string(),
        default,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> + 'a {
        move |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(k))
                .map(|(_, v)| *v)
        }
    }

    fn matches(pattern: &str, text: &str, pairs: &[(&str, &str)]) -> bool {
        let p = Pattern::new(pattern, true, true);
        let r = resolver(pairs);
        p.resolve(&r).is_some_and(|g| g.matches(text, false))
    }

    #[test]
    fn substitution() {
        assert!(matches(
            "home/${aws:username}/*",
            "home/alice/x",
            &[("aws:username", "alice")]
        ));
        assert!(!matches(
            "home/${aws:username}/*",
            "home/bob/x",
            &[("aws:username", "alice")]
        ));
        assert!(matches(
            "home/${AWS:UserName}/*",
            "home/alice/x",
            &[("aws:username", "alice")]
        ));
        assert!(!matches("home/${aws:username}/*", "home/alice/x", &[]));
        assert!(matches(
            "home/${aws:username, 'guest'}/*",
            "home/guest/x",
            &[]
        ));
        assert!(matches("${k,'it''s'}", "it's", &[]));
    }

    #[test]
    fn escapes_are_literal() {
        assert!(!matches("a${*}b", "aXb", &[]));
        assert!(matches("a${*}b", "a*b", &[]));
        assert!(matches("a${?}b", "a?b", &[]));
        assert!(matches("a${$}b", "a$b", &[]));
    }

    #[test]
    fn substituted_values_are_literal() {
        assert!(!matches("x/${k}", "x/abc", &[("k", "*")]));
        assert!(matches("x/${k}", "x/*", &[("k", "*")]));
    }

    #[test]
    fn no_variables_when_disabled() {
        let p = Pattern::new("home/${aws:username}/*", true, false);
        assert!(!p.has_variables());
        let r = resolver(&[]);
        assert!(p
            .resolve(&r)
            .unwrap()
            .matches("home/${aws:username}/x", false));
    }

    #[test]
    fn malformed_is_literal() {
        let r = resolver(&[]);
        assert!(Pattern::new("a${b", true, true)
            .resolve(&r)
            .unwrap()
            .matches("a${b", false));
        assert!(Pattern::new("a${ }", true, true)
            .resolve(&r)
            .unwrap()
            .matches("a${ }", false));
    }
}
