//! PromQL instant-vector selectors: which series a rule applies to. The grammar is documented
//! on [`Selector`].

use std::fmt;
use std::str::FromStr;

use super::pattern::Pattern;
use crate::series::{Labels, METRIC_NAME};

/// How a matcher compares a label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`: the value equals the text.
    Equal,
    /// `!=`: the value differs from the text.
    NotEqual,
    /// `=~`: the whole value matches the regex.
    RegexMatch,
    /// `!~`: the whole value does not match the regex.
    RegexNoMatch,
}

impl MatchOp {
    /// The PromQL spelling of the operator.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::RegexMatch => "=~",
            MatchOp::RegexNoMatch => "!~",
        }
    }
}

impl fmt::Display for MatchOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `name op "value"` condition on a label.
#[derive(Debug, Clone)]
pub struct Matcher {
    name: String,
    op: MatchOp,
    value: String,
    /// Compiled form of `value` for the two regex operators.
    pattern: Option<Pattern>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl Matcher {
    /// Builds a matcher, compiling `value` when `op` is a regex operator.
    ///
    /// # Errors
    ///
    /// When `name` is not a valid label name, or the regex uses unsupported syntax.
    pub fn new(
        name: impl Into<String>,
        op: MatchOp,
        value: impl Into<String>,
    ) -> Result<Matcher, SelectorError> {
        let (name, value) = (name.into(), value.into());
        if !Labels::valid_name(&name) {
            return Err(SelectorError::new(0, bad_label_name(&name)));
        }
        let pattern = match op {
            MatchOp::Equal | MatchOp::NotEqual => None,
            MatchOp::RegexMatch | MatchOp::RegexNoMatch => Some(
                Pattern::new(&value)
                    .map_err(|e| SelectorError::new(0, format!("bad regex {value:?}: {e}")))?,
            ),
        };
        Ok(Matcher {
            name,
            op,
            value,
            pattern,
        })
    }

    /// The label name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The operator.
    pub fn op(&self) -> MatchOp {
        self.op
    }

    /// The text compared against (the regex source for `=~` and `!~`), unescaped.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// True when a label value satisfies the matcher. Pass `""` for a missing label.
    pub fn matches(&self, value: &str) -> bool {
        match (self.op, &self.pattern) {
            (MatchOp::Equal, _) => value == self.value,
            (MatchOp::NotEqual, _) => value != self.value,
            (MatchOp::RegexMatch, Some(p)) => p.is_match(value),
            (MatchOp::RegexNoMatch, Some(p)) => !p.is_match(value),
            // `new` always compiles a pattern for the regex operators.
            (MatchOp::RegexMatch | MatchOp::RegexNoMatch, None) => false,
        }
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.name, self.op)?;
        write_quoted(f, &self.value)
    }
}

/// A parsed PromQL instant-vector selector: a conjunction of label matchers.
///
/// The accepted forms are the ones PromQL accepts for an instant vector selector:
///
/// ```text
/// metric_name
/// {label="value"}
/// metric_name{a="b", c!="d", e=~"re.*", f!~"x",}
/// {__name__="metric_name", job="api"}
/// ```
///
/// - Operators: `=` (equal), `!=` (not equal), `=~` (regex match), `!~` (regex non-match).
/// - Values are quoted with `"`, `'` or `` ` ``. Inside `"` and `'` the escapes `\"`, `\'`,
///   `\\`, `\n`, `\t`, `\r` and `\uXXXX` are understood; backtick strings are raw.
/// - Whitespace may appear between any two tokens, and a trailing comma is allowed.
/// - A label that a series does not have matches as the empty string, as in Prometheus.
/// - Regex matchers are anchored at both ends, as in Prometheus; [`Pattern`] lists the
///   supported syntax (literals, `.`, `*`, `+`, `?`, top-level `|`, `[...]` classes) and the
///   constructs rejected with an error that names them.
/// - As in PromQL, at least one matcher must not match the empty string, so `{}` and
///   `{job=~".*"}` are rejected: they would select every series.
///
/// # Limitations
///
/// Range selectors (`[5m]`), `offset`, `@` and functions are not accepted: a rule selects
/// series, it does not evaluate an expression. Quoted UTF-8 label names (Prometheus 3) are not
/// accepted either.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    matchers: Vec<Matcher>,
}

/// Why a selector did not parse, with the 1-based character position when there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", position(*.column))]
pub struct SelectorError {
    /// 1-based character position in the selector text; 0 when the problem is the selector as
    /// a whole (or a [`Matcher`] built outside any text).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// ` (at character N)`, or nothing for column 0.
fn position(column: usize) -> String {
    if column == 0 {
        String::new()
    } else {
        format!(" (at character {column})")
    }
}

impl SelectorError {
    fn new(column: usize, message: impl Into<String>) -> Self {
        SelectorError {
            column,
            message: message.into(),
        }
    }
}

impl Selector {
    /// Parses PromQL selector text.
    ///
    /// # Errors
    ///
    /// A [`SelectorError`] for an empty selector, an unclosed brace or quote, an unknown
    /// operator, an invalid metric or label name, an unknown string escape, unsupported regex
    /// syntax, text after the closing brace, or a selector whose matchers all match the empty
    /// string.
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        let chars: Vec<char> = text.chars().collect();
        let mut parser = SelectorParser {
            chars: &chars,
            pos: 0,
        };
        let matchers = parser.selector()?;
        let selector = Selector { matchers };

        if !selector.matchers.iter().any(|m| !m.matches("")) {
            return Err(SelectorError::new(
                0,
                "the selector must contain at least one matcher that does not match the empty \
                 string (for example a metric name); this one would select every series",
            ));
        }
        Ok(selector)
    }

    /// The matchers, metric name first when it was written before the braces.
    pub fn matchers(&self) -> &[Matcher] {
        &self.matchers
    }

    /// True when every matcher accepts the series' labels (a missing label reads as `""`).
    pub fn matches(&self, labels: &Labels) -> bool {
        self.matchers
            .iter()
            .all(|m| m.matches(labels.get(&m.name).unwrap_or("")))
    }

    /// The metric name when the selector has an equality matcher on `__name__`.
    pub fn metric_name(&self) -> Option<&str> {
        self.matchers
            .iter()
            .find(|m| m.name == METRIC_NAME && m.op == MatchOp::Equal)
            .map(|m| m.value.as_str())
    }
}

impl FromStr for Selector {
    type Err = SelectorError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Selector::parse(text)
    }
}

impl fmt::Display for Selector {
    /// PromQL form: `metric{a="b", c=~"d.*"}`, or `{...}` when there is no plain metric name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Print the metric name bare only when it is unambiguous and a valid identifier.
        let name_matchers: Vec<usize> = (0..self.matchers.len())
            .filter(|&i| self.matchers[i].name == METRIC_NAME)
            .collect();
        let bare = match name_matchers.as_slice() {
            [i] if self.matchers[*i].op == MatchOp::Equal
                && Labels::valid_metric_name(&self.matchers[*i].value) =>
            {
                Some(*i)
            }
            _ => None,
        };

        if let Some(i) = bare {
            f.write_str(&self.matchers[i].value)?;
            if self.matchers.len() == 1 {
                return Ok(());
            }
        }
        f.write_str("{")?;
        let rest = (0..self.matchers.len()).filter(|&i| Some(i) != bare);
        for (n, i) in rest.enumerate() {
            if n > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", self.matchers[i])?;
        }
        f.write_str("}")
    }
}

/// Writes `value` as a double-quoted PromQL string that [`Selector::parse`] reads back.
fn write_quoted(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in value.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c if c.is_control() && (c as u32) <= 0xffff => write!(f, "\\u{:04x}", c as u32)?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

fn bad_label_name(name: &str) -> String {
    format!("bad label name {name:?}: label names must match [a-zA-Z_][a-zA-Z0-9_]*")
}

struct SelectorParser<'a> {
    chars: &'a [char],
    pos: usize,
}

/// Characters that end a bare word (a metric or label name).
fn ends_word(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '{' | '}'
                | ','
                | '='
                | '!'
                | '~'
                | '<'
                | '>'
                | '['
                | ']'
                | '('
                | ')'
                | '"'
                | '\''
                | '`'
        )
}

impl SelectorParser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn column(&self) -> usize {
        self.pos + 1
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// Describes the next character for error messages.
    fn found(&self) -> String {
        match self.peek() {
            Some(c) => format!("`{c}`"),
            None => "the end of the selector".to_string(),
        }
    }

    fn word(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(|c| !ends_word(c)) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn selector(&mut self) -> Result<Vec<Matcher>, SelectorError> {
        let mut matchers = Vec::new();
        self.skip_space();
        if self.peek().is_none() {
            return Err(SelectorError::new(
                1,
                "empty selector: give a metric name or label matchers in braces",
            ));
        }

        let mut named_outside = false;
        if self.peek() != Some('{') {
            let at = self.column();
            let name = self.word();
            if name.is_empty() {
                return Err(SelectorError::new(
                    at,
                    format!("expected a metric name or `{{`, found {}", self.found()),
                ));
            }
            if !Labels::valid_metric_name(&name) {
                return Err(SelectorError::new(
                    at,
                    format!(
                        "bad metric name {name:?}: metric names must match \
                         [a-zA-Z_:][a-zA-Z0-9_:]*"
                    ),
                ));
            }
            matchers.push(Matcher::new(METRIC_NAME, MatchOp::Equal, name)?);
            named_outside = true;
            self.skip_space();
        }

        if self.peek() == Some('{') {
            let open = self.column();
            self.pos += 1;
            self.braces(open, named_outside, &mut matchers)?;
            self.skip_space();
        }

        if let Some(c) = self.peek() {
            let hint = match c {
                '[' => ": range selectors are not accepted in rules",
                '{' => ": only one set of braces is allowed",
                _ => ": a rule takes a plain selector, not a PromQL expression",
            };
            return Err(SelectorError::new(
                self.column(),
                format!("unexpected `{c}` after the selector{hint}"),
            ));
        }
        Ok(matchers)
    }

    /// Parses `matcher, matcher, ... }` after the opening brace at column `open`.
    fn braces(
        &mut self,
        open: usize,
        named_outside: bool,
        matchers: &mut Vec<Matcher>,
    ) -> Result<(), SelectorError> {
        loop {
            self.skip_space();
            match self.peek() {
                Some('}') => {
                    self.pos += 1;
                    return Ok(());
                }
                None => {
                    return Err(SelectorError::new(
                        open,
                        "unclosed brace: `{` has no matching `}`",
                    ))
                }
                Some(_) => {}
            }

            let at = self.column();
            let matcher = self.matcher()?;
            if named_outside && matcher.name == METRIC_NAME {
                return Err(SelectorError::new(
                    at,
                    "the metric name is given twice: before the braces and as `__name__`",
                ));
            }
            matchers.push(matcher);

            self.skip_space();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {}
                None => {
                    return Err(SelectorError::new(
                        open,
                        "unclosed brace: `{` has no matching `}`",
                    ))
                }
                Some(_) => {
                    return Err(SelectorError::new(
                        self.column(),
                        format!(
                            "expected `,` or `}}` after a matcher, found {}",
                            self.found()
                        ),
                    ))
                }
            }
        }
    }

    fn matcher(&mut self) -> Result<Matcher, SelectorError> {
        let name_at = self.column();
        let name = self.word();
        if name.is_empty() {
            return Err(SelectorError::new(
                name_at,
                format!("expected a label name, found {}", self.found()),
            ));
        }
        if !Labels::valid_name(&name) {
            return Err(SelectorError::new(name_at, bad_label_name(&name)));
        }

        self.skip_space();
        let op_at = self.column();
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| matches!(c, '=' | '!' | '~' | '<' | '>'))
        {
            self.pos += 1;
        }
        let op_text: String = self.chars[start..self.pos].iter().collect();
        let op = match op_text.as_str() {
            "=" => MatchOp::Equal,
            "!=" => MatchOp::NotEqual,
            "=~" => MatchOp::RegexMatch,
            "!~" => MatchOp::RegexNoMatch,
            "" => {
                return Err(SelectorError::new(
                    op_at,
                    format!(
                        "expected an operator (=, !=, =~ or !~) after label {name:?}, found {}",
                        self.found()
                    ),
                ))
            }
            other => {
                return Err(SelectorError::new(
                    op_at,
                    format!("bad operator `{other}`: expected =, !=, =~ or !~"),
                ))
            }
        };

        self.skip_space();
        let value_at = self.column();
        let value = self.string()?;
        let pattern = match op {
            MatchOp::Equal | MatchOp::NotEqual => None,
            MatchOp::RegexMatch | MatchOp::RegexNoMatch => {
                Some(Pattern::new(&value).map_err(|e| {
                    SelectorError::new(value_at, format!("bad regex {value:?}: {}", e.message))
                })?)
            }
        };
        Ok(Matcher {
            name,
            op,
            value,
            pattern,
        })
    }

    /// Parses a quoted string and returns its unescaped content.
    fn string(&mut self) -> Result<String, SelectorError> {
        let open_at = self.column();
        let quote = match self.peek() {
            Some(q @ ('"' | '\'' | '`')) => q,
            _ => {
                return Err(SelectorError::new(
                    open_at,
                    format!(
                        "expected a quoted value (\"...\", '...' or `...`), found {}",
                        self.found()
                    ),
                ))
            }
        };
        self.pos += 1;

        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(SelectorError::new(
                    open_at,
                    format!("missing closing quote {quote} for the value starting here"),
                ));
            };
            self.pos += 1;
            if c == quote {
                return Ok(out);
            }
            if c != '\\' || quote == '`' {
                out.push(c);
                continue;
            }

            let escape_at = self.column() - 1;
            let Some(e) = self.peek() else {
                return Err(SelectorError::new(
                    open_at,
                    format!("missing closing quote {quote} for the value starting here"),
                ));
            };
            self.pos += 1;
            match e {
                '"' | '\'' | '\\' => out.push(e),
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'u' => out.push(self.unicode_escape(escape_at)?),
                other => {
                    return Err(SelectorError::new(
                        escape_at,
                        format!(
                            "unknown escape `\\{other}`: write `\\\\` for a backslash (regex \
                             escapes like `\\.` are written `\\\\.` inside quotes)"
                        ),
                    ))
                }
            }
        }
    }

    /// Reads the four hex digits of `\uXXXX`.
    fn unicode_escape(&mut self, escape_at: usize) -> Result<char, SelectorError> {
        let digits: String = self.chars.iter().skip(self.pos).take(4).collect();
        let bad = || SelectorError::new(escape_at, "bad `\\u` escape: expected four hex digits");
        if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad());
        }
        self.pos += 4;
        u32::from_str_radix(&digits, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Selector {
        match Selector::parse(text) {
            Ok(s) => s,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    fn error(text: &str) -> String {
        match Selector::parse(text) {
            Ok(s) => panic!("{text} parsed as {s}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn bare_metric_name() {
        let s = parse("disk_usage");
        assert_eq!(s.metric_name(), Some("disk_usage"));
        assert_eq!(s.matchers().len(), 1);
        assert_eq!(s.to_string(), "disk_usage");
        assert!(parse("job:request_rate:5m").metric_name().is_some());
    }

    #[test]
    fn all_operators_quotes_and_trailing_comma() {
        let s = parse(
            " http_requests_total { method = \"GET\" , code!='500', path=~`/api/.*`, \
             env!~\"dev|test\", } ",
        );
        let ops: Vec<MatchOp> = s.matchers().iter().map(Matcher::op).collect();
        assert_eq!(
            ops,
            [
                MatchOp::Equal,
                MatchOp::Equal,
                MatchOp::NotEqual,
                MatchOp::RegexMatch,
                MatchOp::RegexNoMatch
            ]
        );
        assert_eq!(s.metric_name(), Some("http_requests_total"));
        assert_eq!(
            s.to_string(),
            r#"http_requests_total{method="GET", code!="500", path=~"/api/.*", env!~"dev|test"}"#
        );
    }

    #[test]
    fn name_matcher_inside_braces() {
        let s = parse(r#"{__name__="app_request_duration_seconds", endpoint="/api/v1/models"}"#);
        assert_eq!(s.metric_name(), Some("app_request_duration_seconds"));
        assert_eq!(
            s.to_string(),
            r#"app_request_duration_seconds{endpoint="/api/v1/models"}"#
        );
        assert_eq!(parse(r#"{__name__=~"node_.*"}"#).metric_name(), None);
    }

    #[test]
    fn escapes_round_trip() {
        let s = parse(r#"{a="say \"hi\"\n", b='it\'s', c=`raw\n`, d="back\\slash", e="\u00e9"}"#);
        let values: Vec<&str> = s.matchers().iter().map(Matcher::value).collect();
        assert_eq!(
            values,
            ["say \"hi\"\n", "it's", "raw\\n", "back\\slash", "é"]
        );
        assert_eq!(parse(&s.to_string()), s);
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "up",
            r#"up{job="api"}"#,
            r#"{job="api"}"#,
            r#"{__name__=~"a|b", x!~"y"}"#,
            r#"{__name__="bad-name", x="1"}"#,
            r#"m{path=~"a\\.b[0-9]+"}"#,
        ] {
            let s = parse(text);
            assert_eq!(parse(&s.to_string()), s, "{text} printed as {s}");
        }
    }

    #[test]
    fn matching_follows_prometheus_semantics() {
        let labels =
            Labels::with_metric("http_requests_total", [("method", "GET"), ("code", "200")]);
        assert!(parse("http_requests_total").matches(&labels));
        assert!(parse(r#"{method="GET"}"#).matches(&labels));
        assert!(!parse(r#"{method="get"}"#).matches(&labels));
        assert!(parse(r#"http_requests_total{code=~"2.."}"#).matches(&labels));
        assert!(
            !parse(r#"http_requests_total{code=~"2"}"#).matches(&labels),
            "anchored"
        );
        assert!(parse(r#"http_requests_total{code!~"5.."}"#).matches(&labels));
        assert!(parse(r#"http_requests_total{code!="500"}"#).matches(&labels));
        // A missing label reads as "": `missing=""` matches, `missing!=""` does not.
        assert!(parse(r#"http_requests_total{missing=""}"#).matches(&labels));
        assert!(!parse(r#"http_requests_total{missing!=""}"#).matches(&labels));
        assert!(!parse("other").matches(&labels));
    }

    #[test]
    fn parse_errors() {
        let cases = [
            (r#"up{job="api""#, "unclosed brace"),
            (r#"up{job="api}"#, "missing closing quote"),
            (r#"up{job=api}"#, "expected a quoted value"),
            (r#"up{job=="api"}"#, "bad operator `==`"),
            (r#"up{job<>"api"}"#, "bad operator `<>`"),
            (r#"up{job "api"}"#, "expected an operator"),
            (r#"up{1job="api"}"#, "bad label name \"1job\""),
            (r#"up{job-name="api"}"#, "bad label name \"job-name\""),
            ("", "empty selector"),
            ("   ", "empty selector"),
            (
                "{}",
                "at least one matcher that does not match the empty string",
            ),
            (r#"{job=~".*"}"#, "at least one matcher"),
            (r#"{job=""}"#, "at least one matcher"),
            ("9lives", "bad metric name"),
            ("up[5m]", "range selectors"),
            ("rate(up[5m])", "not a PromQL expression"),
            (r#"up{job="a" env="b"}"#, "expected `,` or `}`"),
            (r#"up{__name__="up"}"#, "metric name is given twice"),
            (r#"up{job="a\.b"}"#, "unknown escape `\\.`"),
            (r#"up{job=~"(a|b)"}"#, "not supported"),
        ];
        for (text, needle) in cases {
            let err = error(text);
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }

    #[test]
    fn error_positions_point_at_the_problem() {
        let err = Selector::parse(r#"up{job=="api"}"#).expect_err("bad operator");
        assert_eq!(err.column, 7);
        let err = Selector::parse(r#"up{job="api""#).expect_err("unclosed");
        assert_eq!(err.column, 3);
    }
}
