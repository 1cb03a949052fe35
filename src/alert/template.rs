//! Annotation templates in the subset of Prometheus' Go-template syntax that alert rules use.
//!
//! A template is literal text with actions between `{{` and `}}`. The supported actions are:
//!
//! | action | renders |
//! |---|---|
//! | `{{ $value }}` (or `.Value`) | the sample value, formatted like Go's `%v` (`1.234567e+06`) |
//! | `{{ $labels.NAME }}` (or `.Labels.NAME`) | the series' label `NAME`, empty when absent |
//! | `{{ humanize $value }}`, `{{ $value \| humanize }}` | SI prefixes: `1.235k`, `12.5m` |
//! | `{{ humanize1024 $value }}` | binary prefixes: `1.5Gi` |
//! | `{{ humanizeDuration $value }}` | seconds as `1d 2h 3m 4s` |
//! | `{{ humanizePercentage $value }}` | a ratio as `12.5%` |
//! | `{{/* comment */}}` | nothing |
//!
//! Whitespace inside the braces is free (`{{$value}}`), and Go's trim markers work: `{{- ` drops
//! the whitespace before the action, ` -}}` the whitespace after it. Numbers are formatted with
//! Go's rules so a template renders the same text here as in Prometheus.
//!
//! # Limitations
//!
//! Anything else Go templates can do (`printf`, `if`, `range`, `$externalLabels`, queries) is
//! rejected by [`Template::parse`] with a reason, never rendered wrongly. The humanize functions
//! apply to `$value` only.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use crate::series::Labels;

/// Anything a template can look labels up in.
pub trait LabelSource {
    /// The value of label `name`, if present.
    fn label(&self, name: &str) -> Option<&str>;
}

impl LabelSource for Labels {
    fn label(&self, name: &str) -> Option<&str> {
        self.get(name)
    }
}

impl LabelSource for BTreeMap<String, String> {
    fn label(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

impl LabelSource for HashMap<String, String> {
    fn label(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

/// A parsed annotation template. Parsing happens once, when rules load; rendering cannot fail.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    Value(Function),
    Label(String),
}

/// A formatting function applied to `$value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Function {
    Plain,
    Humanize,
    Humanize1024,
    HumanizeDuration,
    HumanizePercentage,
}

const SUPPORTED: &str = "supported: $value, $labels.NAME, and humanize, humanize1024, \
                         humanizeDuration or humanizePercentage applied to $value";

impl Template {
    /// Parses `text`.
    ///
    /// # Errors
    ///
    /// A message naming the byte offset and the offending action when a `{{` is not closed, an
    /// action is empty, or an action uses anything outside the supported subset.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut offset = 0;
        let mut trim_next_literal = false;

        while let Some(open) = rest.find("{{") {
            let after_open = &rest[open + 2..];
            let Some(close) = after_open.find("}}") else {
                return Err(format!(
                    "unclosed action: `{{{{` at byte {} has no matching `}}}}`",
                    offset + open
                ));
            };
            let raw = &after_open[..close];

            // Go's trim markers are a dash next to the braces followed by whitespace, so that
            // `{{-3}}` stays a (here unsupported) number rather than a trim.
            let trim_before = raw.starts_with("- ") || raw.starts_with("-\t") || raw == "-";
            let trim_after = raw.len() >= 2 && (raw.ends_with(" -") || raw.ends_with("\t-"));
            let mut inner = raw;
            if trim_before {
                inner = &inner[1..];
            }
            if trim_after && !inner.is_empty() {
                inner = &inner[..inner.len() - 1];
            }

            let mut literal = &rest[..open];
            if trim_next_literal {
                literal = literal.trim_start();
            }
            if trim_before {
                literal = literal.trim_end();
            }
            push_literal(&mut parts, literal);

            if let Some(part) = parse_action(inner.trim()).map_err(|reason| {
                format!("action `{{{{{raw}}}}}` at byte {}: {reason}", offset + open)
            })? {
                parts.push(part);
            }

            trim_next_literal = trim_after;
            let consumed = open + 2 + close + 2;
            offset += consumed;
            rest = &rest[consumed..];
        }

        let literal = if trim_next_literal {
            rest.trim_start()
        } else {
            rest
        };
        push_literal(&mut parts, literal);
        Ok(Template {
            source: text.to_string(),
            parts,
        })
    }

    /// The text the template was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Renders the template for a series with `labels` and the sample value `value`.
    pub fn render(&self, labels: &(impl LabelSource + ?Sized), value: f64) -> String {
        let mut out = String::with_capacity(self.source.len());
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Label(name) => out.push_str(labels.label(name).unwrap_or("")),
                Part::Value(function) => out.push_str(&function.apply(value)),
            }
        }
        out
    }
}

/// Checks that `text` parses as a template; for the rules checker.
///
/// # Errors
///
/// The reason [`Template::parse`] gives.
pub fn validate(text: &str) -> Result<(), String> {
    Template::parse(text).map(|_| ())
}

fn push_literal(parts: &mut Vec<Part>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Part::Literal(previous)) = parts.last_mut() {
        previous.push_str(text);
    } else {
        parts.push(Part::Literal(text.to_string()));
    }
}

/// Parses the text between the braces (trim markers removed). `None` is a comment.
fn parse_action(inner: &str) -> Result<Option<Part>, String> {
    if inner.is_empty() {
        return Err("empty action".to_string());
    }
    if inner.starts_with("/*") {
        return if inner.ends_with("*/") {
            Ok(None)
        } else {
            Err("unterminated comment".to_string())
        };
    }

    let segments: Vec<&str> = inner.split('|').map(str::trim).collect();
    let (operand, function) = match segments.as_slice() {
        [command] => {
            let words: Vec<&str> = command.split_whitespace().collect();
            match words.as_slice() {
                [operand] => (*operand, None),
                [function, operand] => (*operand, Some(*function)),
                _ => return Err(format!("unsupported expression ({SUPPORTED})")),
            }
        }
        [operand, function] if !operand.contains(' ') && !function.contains(' ') => {
            (*operand, Some(*function))
        }
        _ => return Err(format!("unsupported pipeline ({SUPPORTED})")),
    };

    let function = match function {
        None => Function::Plain,
        Some("humanize") => Function::Humanize,
        Some("humanize1024") => Function::Humanize1024,
        Some("humanizeDuration") => Function::HumanizeDuration,
        Some("humanizePercentage") => Function::HumanizePercentage,
        Some(other) => return Err(format!("unknown function `{other}` ({SUPPORTED})")),
    };

    if operand == "$value" || operand == ".Value" {
        return Ok(Some(Part::Value(function)));
    }
    let label = operand
        .strip_prefix("$labels.")
        .or_else(|| operand.strip_prefix(".Labels."));
    match label {
        Some(name) if Labels::valid_name(name) => {
            if function == Function::Plain {
                Ok(Some(Part::Label(name.to_string())))
            } else {
                Err(format!("functions apply to $value only ({SUPPORTED})"))
            }
        }
        Some(name) => Err(format!("`{name}` is not a valid label name")),
        None => Err(format!("unknown expression `{operand}` ({SUPPORTED})")),
    }
}

impl Function {
    fn apply(self, value: f64) -> String {
        match self {
            Function::Plain => format_value(value),
            Function::Humanize => humanize(value),
            Function::Humanize1024 => humanize_1024(value),
            Function::HumanizeDuration => humanize_duration(value),
            Function::HumanizePercentage => format!("{}%", format_g(value * 100.0, 4)),
        }
    }
}

/// Formats `value` as Go's `%v` does, which is what `{{ $value }}` prints in Prometheus: the
/// shortest digits that read back as the same number, in exponent form when the decimal exponent
/// is below -4 or at least 6 (`1e-05`, `123456`, `1.234567e+06`), and `NaN`, `+Inf`, `-Inf`.
pub fn format_value(value: f64) -> String {
    match special(value) {
        Some(text) => text,
        // Rust's `{:e}` gives the same shortest round-trip digits as Go's shortest formatting.
        None => layout_g(&format!("{value:e}"), 6),
    }
}

/// Go's `%.<precision>g`: `precision` significant digits, trailing zeros removed, exponent form
/// when the exponent is below -4 or at least `precision`.
fn format_g(value: f64, precision: usize) -> String {
    match special(value) {
        Some(text) => text,
        None => layout_g(
            &format!("{:.*e}", precision.max(1) - 1, value),
            precision as i32,
        ),
    }
}

fn special(value: f64) -> Option<String> {
    if value.is_nan() {
        Some("NaN".to_string())
    } else if value.is_infinite() {
        Some(if value > 0.0 { "+Inf" } else { "-Inf" }.to_string())
    } else if value == 0.0 {
        Some(if value.is_sign_negative() { "-0" } else { "0" }.to_string())
    } else {
        None
    }
}

/// Lays out Rust's scientific notation (`-1.2340e5`) the way Go's `%g` does: the digits with
/// trailing zeros removed, then fixed notation unless the exponent is below -4 or at least
/// `exponent_from`.
fn layout_g(scientific: &str, exponent_from: i32) -> String {
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };

    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if exponent < -4 || exponent >= exponent_from {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exponent.unsigned_abs());
        return out;
    }

    // Fixed notation: the decimal point sits after `point` digits (before them when negative).
    let point = exponent + 1;
    if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', point.unsigned_abs() as usize));
        out.push_str(digits);
    } else if point as usize >= digits.len() {
        out.push_str(digits);
        out.extend(std::iter::repeat_n('0', point as usize - digits.len()));
    } else {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    }
    out
}

/// Prometheus' `humanize`: four significant digits and an SI prefix (`k` … `Y` for values of
/// magnitude 1000 and more, `m` … `y` below 1). Zero, NaN and infinities get no prefix.
pub fn humanize(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return format_g(value, 4);
    }
    let mut scaled = value;
    let mut prefix = "";
    if value.abs() >= 1.0 {
        for candidate in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if scaled.abs() < 1000.0 {
                break;
            }
            prefix = candidate;
            scaled /= 1000.0;
        }
    } else {
        for candidate in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if scaled.abs() >= 1.0 {
                break;
            }
            prefix = candidate;
            scaled *= 1000.0;
        }
    }
    format!("{}{prefix}", format_g(scaled, 4))
}

/// Prometheus' `humanize1024`: four significant digits and a binary prefix (`ki` … `Yi`).
/// Magnitudes up to 1 get no prefix.
pub fn humanize_1024(value: f64) -> String {
    if value.abs() <= 1.0 || !value.is_finite() {
        return format_g(value, 4);
    }
    let mut scaled = value;
    let mut prefix = "";
    for candidate in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if scaled.abs() < 1024.0 {
            break;
        }
        prefix = candidate;
        scaled /= 1024.0;
    }
    format!("{}{prefix}", format_g(scaled, 4))
}

/// Prometheus' `humanizeDuration`: a number of seconds as `1d 2h 3m 4s` (whole seconds from a
/// minute up), `4.5s` below a minute, and `12.5ms` style SI prefixes below a second.
pub fn humanize_duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return format_g(seconds, 4);
    }
    if seconds == 0.0 {
        return format!("{}s", format_g(seconds, 4));
    }
    if seconds.abs() >= 1.0 {
        let sign = if seconds < 0.0 { "-" } else { "" };
        let magnitude = seconds.abs();
        let whole = magnitude as i64;
        let (days, hours) = (whole / 86_400, (whole / 3_600) % 24);
        let (minutes, secs) = ((whole / 60) % 60, whole % 60);
        return if days != 0 {
            format!("{sign}{days}d {hours}h {minutes}m {secs}s")
        } else if hours != 0 {
            format!("{sign}{hours}h {minutes}m {secs}s")
        } else if minutes != 0 {
            format!("{sign}{minutes}m {secs}s")
        } else {
            format!("{sign}{}s", format_g(magnitude, 4))
        };
    }
    let mut scaled = seconds;
    let mut prefix = "";
    for candidate in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if scaled.abs() >= 1.0 {
            break;
        }
        prefix = candidate;
        scaled *= 1000.0;
    }
    format!("{}{prefix}s", format_g(scaled, 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Labels {
        Labels::new([("__name__", "disk_used_bytes"), ("instance", "db1")])
    }

    #[test]
    fn renders_labels_and_value() {
        let t = Template::parse("{{ $labels.instance }} is at {{ $value }} ({{$value}})").unwrap();
        assert_eq!(t.render(&labels(), 42.5), "db1 is at 42.5 (42.5)");
        let t = Template::parse("{{.Labels.instance}}={{ .Value }}").unwrap();
        assert_eq!(t.render(&labels(), 1.0), "db1=1");
    }

    #[test]
    fn absent_label_renders_empty() {
        let t = Template::parse("[{{ $labels.job }}]").unwrap();
        assert_eq!(t.render(&labels(), 0.0), "[]");
        let mut map = BTreeMap::new();
        map.insert("job".to_string(), "node".to_string());
        assert_eq!(t.render(&map, 0.0), "[node]");
    }

    #[test]
    fn plain_text_and_trim_markers() {
        assert_eq!(
            Template::parse("no actions")
                .unwrap()
                .render(&labels(), 1.0),
            "no actions"
        );
        assert_eq!(Template::parse("").unwrap().render(&labels(), 1.0), "");
        let t = Template::parse("a  {{- $value -}}  b{{/* note */}}").unwrap();
        assert_eq!(t.render(&labels(), 3.0), "a3b");
    }

    #[test]
    fn humanize_forms() {
        let t = Template::parse("{{ humanize $value }}|{{ $value | humanize }}").unwrap();
        assert_eq!(t.render(&labels(), 1234.0), "1.234k|1.234k");
        let t = Template::parse("{{ humanizePercentage $value }}").unwrap();
        assert_eq!(t.render(&labels(), 0.125), "12.5%");
    }

    #[test]
    fn rejects_unknown_and_unclosed() {
        let err = Template::parse("x {{ $value ").unwrap_err();
        assert!(err.contains("unclosed") && err.contains("byte 2"), "{err}");
        let err = Template::parse("{{ $foo }}").unwrap_err();
        assert!(err.contains("unknown expression `$foo`"), "{err}");
        let err = Template::parse("{{ printf \"%.2f\" $value }}").unwrap_err();
        assert!(err.contains("unsupported"), "{err}");
        let err = Template::parse("{{ humanise $value }}").unwrap_err();
        assert!(err.contains("unknown function `humanise`"), "{err}");
        assert!(Template::parse("{{ }}")
            .unwrap_err()
            .contains("empty action"));
        assert!(Template::parse("{{ humanize $labels.x }}").is_err());
        assert!(Template::parse("{{ $labels.bad-name }}").is_err());
        assert!(validate("{{ $labels.instance }}").is_ok());
        assert!(validate("{{ $labels").is_err());
    }

    /// Expected strings are what Go's `fmt.Sprint(float64)` prints (Go 1.19+, the rule of
    /// `strconv.FormatFloat(v, 'g', -1, 64)`).
    #[test]
    fn value_formats_like_go() {
        let cases = [
            (1.0, "1"),
            (42.5, "42.5"),
            (-0.5, "-0.5"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (1e6, "1e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (0.1 + 0.2, "0.30000000000000004"),
            (5.12e11, "5.12e+11"),
            (1e100, "1e+100"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (0.0, "0"),
        ];
        for (value, expected) in cases {
            assert_eq!(format_value(value), expected, "{value}");
        }
    }

    /// Inputs and outputs from the humanize scenarios of Prometheus' `template/template_test.go`
    /// (v2.42), rendered there by Go's text/template.
    #[test]
    fn matches_prometheus_template_tests() {
        let run = |f: fn(f64) -> String, inputs: &[f64]| -> String {
            inputs.iter().map(|&v| f(v) + ":").collect()
        };
        assert_eq!(
            run(humanize, &[0.0, 1.0, 1234567.0, 0.12]),
            "0:1:1.235M:120m:"
        );
        assert_eq!(
            run(humanize_1024, &[0.0, 1.0, 1048576.0, 0.12]),
            "0:1:1Mi:0.12:"
        );
        let seconds = [
            0.0,
            1.0,
            60.0,
            3600.0,
            86400.0,
            86400.0 + 3600.0,
            -(86400.0 * 2.0 + 3600.0 * 3.0 + 60.0 * 4.0 + 5.0),
            899.99,
        ];
        assert_eq!(
            run(humanize_duration, &seconds),
            "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:"
        );
        assert_eq!(
            run(
                humanize_duration,
                &[0.1, 0.0001, 0.12345, 60.1, 60.5, 1.2345, 12.345]
            ),
            "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:"
        );
        let special = [f64::INFINITY, f64::NEG_INFINITY, f64::NAN];
        assert_eq!(run(humanize, &special), "+Inf:-Inf:NaN:");
        assert_eq!(run(humanize_1024, &special), "+Inf:-Inf:NaN:");
        assert_eq!(run(humanize_duration, &special), "+Inf:-Inf:NaN:");
        let percentage = Template::parse("{{ $value | humanizePercentage }}").unwrap();
        let render = |v: f64| percentage.render(&Labels::default(), v);
        assert_eq!(render(-0.22222), "-22.22%");
        assert_eq!(render(0.0), "0%");
        assert_eq!(render(0.1234567), "12.35%");
        assert_eq!(render(1.23456), "123.5%");
    }

    /// Further cases worked out by hand from the same rule: Go's `%.4g` of the scaled value,
    /// then the prefix.
    #[test]
    fn humanize_by_hand() {
        assert_eq!(humanize(0.0), "0");
        assert_eq!(humanize(1.0), "1");
        assert_eq!(humanize(1234.0), "1.234k");
        assert_eq!(humanize(1234.5), "1.234k"); // ties round to even in Go too
        assert_eq!(humanize(1e6), "1M");
        assert_eq!(humanize(12345678.0), "12.35M");
        assert_eq!(humanize(-12345678.0), "-12.35M");
        assert_eq!(humanize(0.0125), "12.5m");
        assert_eq!(humanize(0.000001), "1u");
        assert_eq!(humanize(1e30), "1e+06Y");
        assert_eq!(humanize(f64::INFINITY), "+Inf");
        assert_eq!(humanize(f64::NAN), "NaN");

        assert_eq!(humanize_1024(1.0), "1");
        assert_eq!(humanize_1024(1024.0), "1ki");
        assert_eq!(humanize_1024(1_610_612_736.0), "1.5Gi");
        assert_eq!(humanize_1024(1023.0), "1023");

        assert_eq!(humanize_duration(0.0), "0s");
        assert_eq!(humanize_duration(1.5), "1.5s");
        assert_eq!(humanize_duration(60.0), "1m 0s");
        assert_eq!(humanize_duration(3_661.0), "1h 1m 1s");
        assert_eq!(humanize_duration(93_784.0), "1d 2h 3m 4s");
        assert_eq!(humanize_duration(-90.0), "-1m 30s");
        assert_eq!(humanize_duration(0.0125), "12.5ms");

        assert_eq!(format_g(99999.0, 4), "1e+05");
        assert_eq!(format_g(1200.0, 4), "1200");
        assert_eq!(format_g(0.0001234, 4), "0.0001234");
    }
}
