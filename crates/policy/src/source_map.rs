//! Where each statement of a policy sits in its JSON text, for the IAM
//! policy simulator's `MatchedStatements` (`StartPosition`/`EndPosition`).
//!
//! Lines and columns are 1-based and count characters. The start is the
//! position just after the statement's `{`, the end the position just after
//! its `}`: for the one-line policy of the `aws iam simulate-custom-policy`
//! example in the AWS CLI Command Reference
//! (<https://docs.aws.amazon.com/cli/latest/reference/iam/simulate-custom-policy.html>),
//! whose statement object spans characters 37–166, AWS answers
//! `StartPosition {Line 1, Column 38}` and `EndPosition {Line 1, Column 167}`.

/// A line and column in a policy's text (both 1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Start and end of every statement, in the order of the `Statement`
/// element (the last `Statement` key wins, as in the parsed policy).
/// Empty when the text is not a JSON object.
pub fn statement_positions(text: &str) -> Vec<(Position, Position)> {
    let spans = Scanner::new(text).statement_spans().unwrap_or_default();
    spans
        .into_iter()
        .map(|(open, close)| (position_at(text, open + 1), position_at(text, close + 1)))
        .collect()
}

/// The line and column of byte offset `offset`.
fn position_at(text: &str, offset: usize) -> Position {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Position {
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
    }
}

/// A forward-only reader over the bytes of a JSON document.
struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Scanner<'a> {
        Scanner {
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.skip_ws();
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    /// Reads a string; returns its raw (still escaped) content.
    fn string(&mut self) -> Option<&'a [u8]> {
        self.expect(b'"')?;
        let start = self.pos;
        loop {
            match self.peek()? {
                b'\\' => self.pos += 2,
                b'"' => {
                    self.pos += 1;
                    return self.bytes.get(start..self.pos - 1);
                }
                _ => self.pos += 1,
            }
        }
    }

    /// Skips one value of any kind.
    fn skip_value(&mut self) -> Option<()> {
        self.skip_ws();
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.pos += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.pos += 1;
                }
            }
            _ => {
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n')
                ) {
                    self.pos += 1;
                }
                Some(())
            }
        }
    }

    /// Skips an object, returning the offsets of its `{` and `}`.
    fn object_span(&mut self) -> Option<(usize, usize)> {
        self.skip_ws();
        let open = self.pos;
        self.skip_value()?;
        Some((open, self.pos - 1))
    }

    /// The spans of the statement objects of the top-level `Statement` element.
    fn statement_spans(&mut self) -> Option<Vec<(usize, usize)>> {
        let mut spans = Vec::new();
        self.expect(b'{')?;
        self.skip_ws();
        if self.peek()? == b'}' {
            return Some(spans);
        }
        loop {
            let key = self.string()?;
            self.expect(b':')?;
            self.skip_ws();
            if key == b"Statement" {
                spans = self.statement_value()?;
            } else {
                self.skip_value()?;
            }
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                _ => return Some(spans),
            }
        }
    }

    /// One statement object, or an array of them.
    fn statement_value(&mut self) -> Option<Vec<(usize, usize)>> {
        match self.peek()? {
            b'{' => Some(vec![self.object_span()?]),
            b'[' => {
                self.pos += 1;
                let mut spans = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek()? {
                        b']' => {
                            self.pos += 1;
                            return Some(spans);
                        }
                        b',' => self.pos += 1,
                        b'{' => spans.push(self.object_span()?),
                        _ => self.skip_value()?,
                    }
                }
            }
            _ => {
                self.skip_value()?;
                Some(Vec::new())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: usize, column: usize) -> Position {
        Position { line, column }
    }

    #[test]
    fn one_line_policy_as_in_the_cli_reference_example() {
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}"#;
        assert_eq!(statement_positions(text), vec![(pos(1, 38), pos(1, 167))]);
    }

    #[test]
    fn statements_in_an_array_over_several_lines() {
        let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Sid\": \"A}{\\\"\",\n      \"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"\n    },\n    {\"Effect\": \"Deny\", \"Action\": [\"s3:Get*\"], \"Resource\": \"*\"}\n  ]\n}";
        assert_eq!(
            statement_positions(text),
            vec![(pos(4, 6), pos(7, 6)), (pos(8, 6), pos(8, 63))]
        );
    }

    #[test]
    fn columns_count_characters_and_the_last_statement_key_wins() {
        let text = "{\"Id\":\"é\",\"Statement\":[],\"Statement\":{\"Effect\":\"Allow\"}}";
        assert_eq!(statement_positions(text), vec![(pos(1, 39), pos(1, 56))]);
        assert!(statement_positions("not json").is_empty());
        assert!(statement_positions("{\"Statement\":").is_empty());
    }
}
