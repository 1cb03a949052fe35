//! A small, fully anchored regular-expression matcher for `=~` and `!~` label matchers. The
//! supported syntax is documented on [`Pattern`].

use std::fmt;

/// Why a pattern was rejected: unsupported or malformed syntax.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {column} of the regex)")]
pub struct PatternError {
    /// 1-based character position of the offending construct within the pattern.
    pub column: usize,
    /// What is wrong, naming the construct.
    pub message: String,
}

/// A compiled regular expression that must match a whole string.
///
/// Prometheus compiles a matcher's value `v` as the RE2 expression `^(?s:v)$`: the whole label
/// value must match, and `.` also matches a line break. seer does not depend on a regex engine, so
/// it implements the subset that label matchers use in practice, with the same anchoring:
///
/// | syntax | meaning |
/// |---|---|
/// | `abc` | literal text |
/// | `\.`, `\*`, `\\`, ... | an escaped punctuation character, taken literally |
/// | `\n`, `\t`, `\r`, `\f`, `\v` | a line break, tab, carriage return, form feed, vertical tab |
/// | `.` | any one character, line breaks included |
/// | `[abc]`, `[a-z0-9_]`, `[^abc]` | one character from (or, with `^`, not from) a set |
/// | `\d`, `\w`, `\s` and `\D`, `\W`, `\S` | digits, word characters, white space, and their complements |
/// | `x*`, `x+`, `x?` | zero or more, one or more, zero or one of the item `x` before |
/// | `a\|b\|c` | alternation between whole branches |
/// | `^` first in a branch, `$` last in a branch | accepted and ignored: matching is anchored anyway |
///
/// Matching runs a set-of-states simulation over the compiled items, so it takes time
/// proportional to `pattern length × value length` and never backtracks.
///
/// # Limitations
///
/// Groups `( )`, flags `(?i)`, counted repetition `{n,m}`, lazy quantifiers `*?`, word
/// boundaries, POSIX classes `[[:alpha:]]` and Unicode classes `\pL` are rejected with a
/// [`PatternError`] that names the construct. Alternation applies only at the top level (there
/// are no groups to nest it in).
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    source: String,
    branches: Vec<Vec<Item>>,
}

/// One position of a branch: an atom and how often it may repeat.
#[derive(Debug, Clone, PartialEq)]
struct Item {
    atom: Atom,
    repeat: Repeat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    One,
    ZeroOrOne,
    ZeroOrMore,
}

#[derive(Debug, Clone, PartialEq)]
enum Atom {
    Char(char),
    Any,
    Class(Class),
}

/// A set of characters as inclusive ranges, possibly complemented.
#[derive(Debug, Clone, PartialEq)]
struct Class {
    negated: bool,
    ranges: Vec<(char, char)>,
}

impl Class {
    fn contains(&self, c: char) -> bool {
        let inside = self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
        inside != self.negated
    }
}

impl Atom {
    fn matches(&self, c: char) -> bool {
        match self {
            Atom::Char(want) => *want == c,
            Atom::Any => true,
            Atom::Class(class) => class.contains(c),
        }
    }
}

const DIGITS: &[(char, char)] = &[('0', '9')];
const WORD: &[(char, char)] = &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
const SPACE: &[(char, char)] = &[('\t', '\n'), ('\x0c', '\r'), (' ', ' ')];

impl Pattern {
    /// Compiles `source`.
    ///
    /// # Errors
    ///
    /// A [`PatternError`] naming the construct when `source` uses syntax outside the supported
    /// subset (see the module docs) or is malformed (an unclosed `[`, a `*` with nothing before
    /// it, a trailing `\`).
    pub fn new(source: &str) -> Result<Pattern, PatternError> {
        let chars: Vec<char> = source.chars().collect();
        let mut parser = Parser {
            chars: &chars,
            pos: 0,
        };
        let branches = parser.parse()?;
        Ok(Pattern {
            source: source.to_string(),
            branches,
        })
    }

    /// The pattern text as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True when the whole of `text` matches the pattern.
    pub fn is_match(&self, text: &str) -> bool {
        self.branches
            .iter()
            .any(|items| branch_matches(items, text))
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Simulates the branch as a set of states: state `i` means "items before `i` are matched".
/// Items only ever move forward by one or stay (for `*`), so one forward pass computes the
/// states reachable without consuming input.
fn branch_matches(items: &[Item], text: &str) -> bool {
    let mut current = vec![false; items.len() + 1];
    let mut next = vec![false; items.len() + 1];
    current[0] = true;
    skip_optional(items, &mut current);

    for c in text.chars() {
        next.fill(false);
        for (i, item) in items.iter().enumerate() {
            if current[i] && item.atom.matches(c) {
                match item.repeat {
                    Repeat::ZeroOrMore => next[i] = true,
                    Repeat::One | Repeat::ZeroOrOne => next[i + 1] = true,
                }
            }
        }
        skip_optional(items, &mut next);
        std::mem::swap(&mut current, &mut next);
        if !current.contains(&true) {
            return false;
        }
    }
    current[items.len()]
}

/// Adds the states reachable by skipping items that may match zero times.
fn skip_optional(items: &[Item], states: &mut [bool]) {
    for (i, item) in items.iter().enumerate() {
        if states[i] && item.repeat != Repeat::One {
            states[i + 1] = true;
        }
    }
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, at: usize, message: impl Into<String>) -> PatternError {
        PatternError {
            column: at + 1,
            message: message.into(),
        }
    }

    fn unsupported(&self, at: usize, construct: &str) -> PatternError {
        self.error(
            at,
            format!("{construct} is not supported by seer's regex matcher"),
        )
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn parse(&mut self) -> Result<Vec<Vec<Item>>, PatternError> {
        let mut branches = vec![self.branch()?];
        while self.peek() == Some('|') {
            self.pos += 1;
            branches.push(self.branch()?);
        }
        Ok(branches)
    }

    /// Parses items up to the next `|` or the end.
    fn branch(&mut self) -> Result<Vec<Item>, PatternError> {
        let mut items: Vec<Item> = Vec::new();
        // Whether the last item may take a quantifier: false at the start and after one.
        let mut quantifiable = false;
        let start = self.pos;

        while let Some(c) = self.peek() {
            let at = self.pos;
            match c {
                '|' => break,
                '*' | '+' | '?' => {
                    if !quantifiable {
                        let prev = at.checked_sub(1).and_then(|p| self.chars.get(p));
                        return Err(match prev {
                            Some('*' | '+' | '?') if c == '?' => {
                                self.unsupported(at, "a lazy quantifier (`*?`, `+?`, `??`)")
                            }
                            Some('*' | '+' | '?') => {
                                self.error(at, format!("repeated quantifier `{c}`"))
                            }
                            _ => self.error(at, format!("nothing before `{c}` to repeat")),
                        });
                    }
                    self.pos += 1;
                    let Some(last) = items.pop() else {
                        return Err(self.error(at, format!("nothing before `{c}` to repeat")));
                    };
                    match c {
                        '*' => items.push(Item {
                            repeat: Repeat::ZeroOrMore,
                            ..last
                        }),
                        '?' => items.push(Item {
                            repeat: Repeat::ZeroOrOne,
                            ..last
                        }),
                        // `x+` is `x` followed by `x*`.
                        _ => {
                            items.push(last.clone());
                            items.push(Item {
                                repeat: Repeat::ZeroOrMore,
                                ..last
                            });
                        }
                    }
                    quantifiable = false;
                    continue;
                }
                '(' | ')' => return Err(self.unsupported(at, "a group `( )` or flag `(?...)`")),
                '{' if self.counted_repetition_ahead() => {
                    return Err(self.unsupported(at, "counted repetition `{n,m}`"));
                }
                '^' => {
                    if at != start {
                        return Err(self.unsupported(at, "`^` other than at the start"));
                    }
                    self.pos += 1;
                    continue;
                }
                '$' => {
                    self.pos += 1;
                    if !matches!(self.peek(), None | Some('|')) {
                        return Err(self.unsupported(at, "`$` other than at the end"));
                    }
                    continue;
                }
                '.' => {
                    self.pos += 1;
                    items.push(Item {
                        atom: Atom::Any,
                        repeat: Repeat::One,
                    });
                }
                '[' => {
                    self.pos += 1;
                    let class = self.class(at)?;
                    items.push(Item {
                        atom: Atom::Class(class),
                        repeat: Repeat::One,
                    });
                }
                '\\' => {
                    self.pos += 1;
                    let atom = match self.escape(at)? {
                        Escaped::Char(c) => Atom::Char(c),
                        Escaped::Set(ranges, negated) => Atom::Class(Class {
                            negated,
                            ranges: ranges.to_vec(),
                        }),
                    };
                    items.push(Item {
                        atom,
                        repeat: Repeat::One,
                    });
                }
                _ => {
                    self.pos += 1;
                    items.push(Item {
                        atom: Atom::Char(c),
                        repeat: Repeat::One,
                    });
                }
            }
            quantifiable = true;
        }
        Ok(items)
    }

    /// RE2 reads `{` as a repetition only in the forms `{n}`, `{n,}` and `{n,m}`; elsewhere it
    /// is a literal brace.
    fn counted_repetition_ahead(&self) -> bool {
        let rest = &self.chars[self.pos + 1..];
        let Some(close) = rest.iter().position(|&c| c == '}') else {
            return false;
        };
        let inner: String = rest[..close].iter().collect();
        let mut parts = inner.splitn(2, ',');
        let lower = parts.next().unwrap_or("");
        let upper = parts.next().unwrap_or("");
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        !lower.is_empty() && digits(lower) && digits(upper)
    }

    /// Parses the character after a backslash (the backslash at `at` is already consumed).
    fn escape(&mut self, at: usize) -> Result<Escaped, PatternError> {
        let Some(c) = self.peek() else {
            return Err(self.error(at, "trailing backslash"));
        };
        self.pos += 1;
        Ok(match c {
            'n' => Escaped::Char('\n'),
            't' => Escaped::Char('\t'),
            'r' => Escaped::Char('\r'),
            'f' => Escaped::Char('\x0c'),
            'v' => Escaped::Char('\x0b'),
            'd' => Escaped::Set(DIGITS, false),
            'D' => Escaped::Set(DIGITS, true),
            'w' => Escaped::Set(WORD, false),
            'W' => Escaped::Set(WORD, true),
            's' => Escaped::Set(SPACE, false),
            'S' => Escaped::Set(SPACE, true),
            c if c.is_ascii_punctuation() => Escaped::Char(c),
            c => return Err(self.unsupported(at, &format!("the escape `\\{c}`"))),
        })
    }

    /// Parses a bracket expression; the `[` at `open` is already consumed.
    fn class(&mut self, open: usize) -> Result<Class, PatternError> {
        let mut negated = false;
        if self.peek() == Some('^') {
            negated = true;
            self.pos += 1;
        }
        let mut ranges = Vec::new();
        let mut first = true;

        loop {
            let at = self.pos;
            let Some(c) = self.peek() else {
                return Err(self.error(open, "missing `]` to close the character class"));
            };
            // A `]` right after `[` or `[^` is a literal, as in RE2.
            if c == ']' && !first {
                self.pos += 1;
                break;
            }
            first = false;
            if c == '[' && self.chars.get(at + 1) == Some(&':') {
                return Err(self.unsupported(at, "a POSIX class `[:name:]`"));
            }

            let lo = self.class_char()?;
            let lo = match lo {
                Escaped::Set(set, false) => {
                    ranges.extend_from_slice(set);
                    continue;
                }
                Escaped::Set(_, true) => {
                    return Err(self.unsupported(at, "a complemented escape inside `[ ]`"));
                }
                Escaped::Char(lo) => lo,
            };

            // `a-z` is a range unless the `-` is last before `]`.
            let dash_range = self.peek() == Some('-')
                && !matches!(self.chars.get(self.pos + 1), None | Some(']'));
            if !dash_range {
                ranges.push((lo, lo));
                continue;
            }
            self.pos += 1;
            let hi_at = self.pos;
            let hi = match self.class_char()? {
                Escaped::Char(hi) => hi,
                Escaped::Set(..) => {
                    return Err(self.error(hi_at, "a class escape cannot end a range"))
                }
            };
            if hi < lo {
                return Err(self.error(
                    at,
                    format!("bad range `{lo}-{hi}`: the end is before the start"),
                ));
            }
            ranges.push((lo, hi));
        }
        Ok(Class { negated, ranges })
    }

    fn class_char(&mut self) -> Result<Escaped, PatternError> {
        let at = self.pos;
        let Some(c) = self.peek() else {
            return Err(self.error(at, "missing `]` to close the character class"));
        };
        self.pos += 1;
        if c == '\\' {
            self.escape(at)
        } else {
            Ok(Escaped::Char(c))
        }
    }
}

enum Escaped {
    Char(char),
    /// A predefined set and whether it is complemented.
    Set(&'static [(char, char)], bool),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        match Pattern::new(pattern) {
            Ok(p) => p.is_match(text),
            Err(e) => panic!("{pattern}: {e}"),
        }
    }

    #[test]
    fn anchored_literals_and_dot() {
        assert!(matches("api", "api"));
        assert!(!matches("api", "api2"));
        assert!(!matches("api", "xapi"));
        assert!(matches("a.c", "abc"));
        assert!(matches("a.c", "a\nc"));
        assert!(!matches("a.c", "ac"));
        assert!(matches("", ""));
        assert!(!matches("", "x"));
    }

    #[test]
    fn quantifiers() {
        assert!(matches(".*", ""));
        assert!(matches(".*", "anything at all"));
        assert!(!matches(".+", ""));
        assert!(matches("ab*c", "ac"));
        assert!(matches("ab*c", "abbbc"));
        assert!(!matches("ab+c", "ac"));
        assert!(matches("ab+c", "abc"));
        assert!(matches("ab?c", "ac"));
        assert!(!matches("ab?c", "abbc"));
        assert!(matches("/api/.*", "/api/v1/models"));
        assert!(matches("a*a*a*a*b", "aaaaaaab"));
    }

    #[test]
    fn alternation_is_anchored_per_branch() {
        assert!(matches("get|post", "get"));
        assert!(matches("get|post", "post"));
        assert!(!matches("get|post", "gepost"));
        assert!(!matches("get|post", "getpost"));
        assert!(matches("a|", ""));
        assert!(matches("^prod$|^staging$", "staging"));
    }

    #[test]
    fn classes_and_escapes() {
        assert!(matches("[abc]+", "cab"));
        assert!(!matches("[abc]+", "cabd"));
        assert!(matches("[a-z0-9_]*", "node_1"));
        assert!(matches("[^a-z]", "Q"));
        assert!(!matches("[^a-z]", "q"));
        assert!(matches("[]a]", "]"));
        assert!(matches("[a-]", "-"));
        assert!(matches("5\\d\\d", "503"));
        assert!(!matches("5\\d\\d", "5x3"));
        assert!(matches("[\\d.]+", "10.0.0.1"));
        assert!(matches("a\\.b", "a.b"));
        assert!(!matches("a\\.b", "axb"));
        assert!(matches("a\\|b", "a|b"));
        assert!(matches("x{", "x{"));
        assert!(matches("\\w+\\s\\S", "ab c"));
    }

    #[test]
    fn unsupported_constructs_are_named() {
        let cases = [
            ("(a|b)c", "group"),
            ("(?i)abc", "group"),
            ("a{2,3}", "counted repetition"),
            ("a*?", "lazy quantifier"),
            ("[[:alpha:]]", "POSIX class"),
            ("\\bword", "escape `\\b`"),
            ("\\pL", "escape `\\p`"),
            ("a^b", "`^`"),
            ("a$b", "`$`"),
        ];
        for (pattern, needle) in cases {
            let err = Pattern::new(pattern).expect_err(pattern).to_string();
            assert!(err.contains(needle), "{pattern}: {err}");
            assert!(err.contains("not supported"), "{pattern}: {err}");
        }
    }

    #[test]
    fn malformed_patterns() {
        let cases = [
            ("*a", "nothing before `*`"),
            ("a**", "repeated quantifier"),
            ("[abc", "missing `]`"),
            ("abc\\", "trailing backslash"),
            ("[z-a]", "bad range"),
        ];
        for (pattern, needle) in cases {
            let err = Pattern::new(pattern).expect_err(pattern).to_string();
            assert!(err.contains(needle), "{pattern}: {err}");
        }
    }

    /// A naive backtracking matcher over the same compiled items, as the reference the
    /// state-set simulation is checked against.
    fn reference(items: &[Item], text: &[char]) -> bool {
        let Some((item, rest)) = items.split_first() else {
            return text.is_empty();
        };
        let first_matches = text.first().is_some_and(|&c| item.atom.matches(c));
        match item.repeat {
            Repeat::One => first_matches && reference(rest, &text[1..]),
            Repeat::ZeroOrOne => {
                reference(rest, text) || (first_matches && reference(rest, &text[1..]))
            }
            Repeat::ZeroOrMore => {
                reference(rest, text) || (first_matches && reference(items, &text[1..]))
            }
        }
    }

    #[test]
    fn simulation_agrees_with_backtracking_reference() {
        // A fixed linear congruential generator keeps the cases reproducible.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |n: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) as usize) % n
        };
        let atoms = ["a", "b", ".", "[ab]", "[^a]", "c"];
        let quantifiers = ["", "", "*", "+", "?"];

        for _ in 0..2_000 {
            let mut pattern = String::new();
            for _ in 0..next(6) {
                if next(8) == 0 {
                    pattern.push('|');
                    continue;
                }
                pattern.push_str(atoms[next(atoms.len())]);
                pattern.push_str(quantifiers[next(quantifiers.len())]);
            }
            let compiled = Pattern::new(&pattern).expect("generated patterns are valid");
            for _ in 0..8 {
                let text: String = (0..next(7)).map(|_| ['a', 'b', 'c'][next(3)]).collect();
                let chars: Vec<char> = text.chars().collect();
                let want = compiled.branches.iter().any(|b| reference(b, &chars));
                assert_eq!(
                    compiled.is_match(&text),
                    want,
                    "pattern {pattern:?} text {text:?}"
                );
            }
        }
    }
}
