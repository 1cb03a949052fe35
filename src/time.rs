//! Timestamps: seer works in milliseconds since the Unix epoch (UTC), as Prometheus does.

use jiff::Timestamp;

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// Formats `ms` as RFC 3339 in UTC with millisecond precision, the form Alertmanager accepts.
pub fn rfc3339(ms: Millis) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(ts) => format!("{ts:.3}"),
        Err(_) => format!("{ms}ms"),
    }
}

/// Parses a timestamp as NAB and most CSV exports write it: RFC 3339, `YYYY-MM-DD HH:MM:SS[.f]`
/// (read as UTC), or an integer number of milliseconds or seconds since the epoch.
///
/// Integers below 10^11 are read as seconds (that is before 1973 in milliseconds, and after
/// 5138 in seconds), larger ones as milliseconds.
pub fn parse_timestamp(text: &str) -> Option<Millis> {
    let text = text.trim();
    if let Ok(n) = text.parse::<i64>() {
        return Some(if n.abs() < 100_000_000_000 {
            n * 1000
        } else {
            n
        });
    }
    if let Ok(f) = text.parse::<f64>() {
        if f.is_finite() {
            return Some((f * 1000.0).round() as i64);
        }
        return None;
    }
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts.as_millisecond());
    }
    let civil = text
        .replacen(' ', "T", 1)
        .parse::<jiff::civil::DateTime>()
        .ok()?;
    let ts = jiff::tz::TimeZone::UTC.to_timestamp(civil).ok()?;
    Some(ts.as_millisecond())
}

/// Parses a Prometheus duration (`30s`, `5m`, `1h30m`, `7d`, `2w`, `500ms`) into milliseconds.
pub fn parse_duration(text: &str) -> Option<Millis> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            "y" => 365 * 86_400_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    Some(total)
}

/// Formats a millisecond duration the way Prometheus prints it (`1h30m`, `5m`, `250ms`).
pub fn format_duration(ms: Millis) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    let mut rest = ms.abs();
    if ms < 0 {
        out.push('-');
    }
    for (unit, len) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if rest >= len {
            out.push_str(&format!("{}{unit}", rest / len));
            rest %= len;
        }
    }
    if rest > 0 {
        out.push_str(&format!("{rest}ms"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nab_and_rfc3339_timestamps() {
        // 2014-03-07T03:41:00Z is 1394163660 seconds after the epoch (date -u -d ... +%s).
        assert_eq!(
            parse_timestamp("2014-03-07 03:41:00"),
            Some(1_394_163_660_000)
        );
        assert_eq!(
            parse_timestamp("2014-03-07T03:41:00Z"),
            Some(1_394_163_660_000)
        );
        assert_eq!(
            parse_timestamp("2014-03-07 03:41:00.000000"),
            Some(1_394_163_660_000)
        );
        assert_eq!(parse_timestamp("1394163660"), Some(1_394_163_660_000));
        assert_eq!(parse_timestamp("1394163660000"), Some(1_394_163_660_000));
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn durations_round_trip() {
        assert_eq!(parse_duration("5m"), Some(300_000));
        assert_eq!(parse_duration("1h30m"), Some(5_400_000));
        assert_eq!(parse_duration("30d"), Some(30 * 86_400_000));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(format_duration(5_400_000), "1h30m");
        assert_eq!(format_duration(250), "250ms");
    }
}
