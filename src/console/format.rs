//! Text formatting shared by the reducer and the views: times, durations, ages.

use time::OffsetDateTime;

/// `2026-11-23 14:03:07` (UTC) for epoch seconds.
pub fn timestamp(t: f64) -> String {
    match OffsetDateTime::from_unix_timestamp(t.floor() as i64) {
        Ok(dt) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            dt.year(),
            dt.month() as u8,
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        ),
        Err(_) => "-".to_string(),
    }
}

/// `14:03:07` (UTC).
pub fn clock(t: f64) -> String {
    let ts = timestamp(t);
    ts.get(11..).unwrap_or("-").to_string()
}

/// `42s`, `3m05s`, `2h10m`, `3d4h`.
pub fn duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "-".to_string();
    }
    let s = secs.round() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// How long ago `then` was, as of `now`: `12s ago`.
pub fn ago(now: f64, then: Option<f64>) -> String {
    match then {
        Some(t) => format!("{} ago", duration((now - t).max(0.0))),
        None => "-".to_string(),
    }
}

/// A data age in coarse steps, so an idle screen redraws rarely (`<10s`, `<20s`, `1m`...).
pub fn data_age(now: f64, then: Option<f64>) -> String {
    let Some(t) = then else {
        return "never".to_string();
    };
    let age = (now - t).max(0.0);
    if age < 60.0 {
        format!("<{}s", ((age / 10.0).floor() as u64 + 1) * 10)
    } else if age < 3600.0 {
        format!("{}m", (age / 60.0).floor() as u64)
    } else {
        format!("{}h", (age / 3600.0).floor() as u64)
    }
}

/// The first `n` characters of an id (commit ids, execution ids).
pub fn short(id: &str, n: usize) -> &str {
    match id.char_indices().nth(n) {
        Some((i, _)) => &id[..i],
        None => id,
    }
}

/// A revision on one line: the short commit id and the first line of its message.
pub fn revision_line(r: &crate::model::Revision) -> String {
    let summary = r
        .summary
        .as_deref()
        .unwrap_or("")
        .lines()
        .next()
        .unwrap_or("");
    format!("{} {summary}", short(&r.id, 7))
}
