//! Paging tokens for CloudWatch Logs.
//!
//! GetLogEvents tokens look like AWS's (`f/<56 digits>/s`, `b/<56 digits>/s`) and encode a cursor
//! (a `(timestamp, seq)` key), so they stay valid when events are appended. At the end of the
//! stream the token that was sent is returned unchanged — the only end signal, and the one the
//! SDK paginator stops on. Other operations use opaque tokens ([`encode_opaque`]).

use std::ops::Range;

/// AWS's message for a token it does not recognise (`InvalidParameterException`).
pub const INVALID_TOKEN: &str = "The specified nextToken is invalid.";
/// GetLogEvents / FilterLogEvents default and maximum `limit`.
pub const MAX_LIMIT: usize = 10_000;

/// Why a page could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("The specified nextToken is invalid.")]
    InvalidToken,
    #[error(
        "1 validation error detected: Value '{0}' at 'limit' failed to satisfy constraint: \
         Member must have value between 1 and 10000"
    )]
    InvalidLimit(usize),
}

/// One GetLogEvents page: `range` indexes the caller's sorted event slice (ascending order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub range: Range<usize>,
    pub next_forward_token: String,
    pub next_backward_token: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Forward,
    Backward,
}

/// Computes a GetLogEvents page.
///
/// `events_sorted` is every event of the stream as `(timestamp, seq)`, ascending; `start_time` is
/// inclusive, `end_time` exclusive. Without a token, `start_from_head` picks the first or the last
/// `limit` events of the window; with a token, the token's direction wins.
pub fn page(
    events_sorted: &[(i64, i64)],
    start_time: Option<i64>,
    end_time: Option<i64>,
    next_token: Option<&str>,
    limit: Option<usize>,
    start_from_head: bool,
) -> Result<Page, TokenError> {
    let limit = match limit {
        None => MAX_LIMIT,
        Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(n) => return Err(TokenError::InvalidLimit(n)),
    };
    let lo = start_time.map_or(0, |t| events_sorted.partition_point(|e| e.0 < t));
    let hi = end_time.map_or(events_sorted.len(), |t| {
        events_sorted.partition_point(|e| e.0 < t)
    });
    let hi = hi.max(lo);
    let token = next_token.map(|t| decode(t).map(|c| (t, c))).transpose()?;
    let range = match token {
        None if start_from_head => lo..(lo + limit).min(hi),
        None => hi.saturating_sub(limit).max(lo)..hi,
        Some((_, (Dir::Forward, cursor))) => {
            let start = lower_bound(events_sorted, cursor).clamp(lo, hi);
            start..(start + limit).min(hi)
        }
        Some((_, (Dir::Backward, cursor))) => {
            let end = lower_bound(events_sorted, cursor).clamp(lo, hi);
            end.saturating_sub(limit).max(lo)..end
        }
    };
    let base = key(start_time.unwrap_or(i64::MIN), i64::MIN);
    let cursor_at = |i: usize| match events_sorted.get(i) {
        Some(&(ts, seq)) => key(ts, seq),
        None => events_sorted
            .last()
            .map_or(base, |&(ts, seq)| key(ts, seq).saturating_add(1)),
    };
    let mut next_forward_token = encode(Dir::Forward, cursor_at(range.end));
    let mut next_backward_token = encode(Dir::Backward, cursor_at(range.start));
    // The end rule: an empty page in the token's direction echoes the token that was sent.
    if let Some((sent, (sent_dir, _))) = token
        && range.is_empty()
    {
        match sent_dir {
            Dir::Forward => next_forward_token = sent.to_string(),
            Dir::Backward => next_backward_token = sent.to_string(),
        }
    }
    Ok(Page {
        range,
        next_forward_token,
        next_backward_token,
    })
}

/// Orders `(timestamp, seq)` keys as one unsigned number (sign bit flipped so order is kept).
fn key(ts: i64, seq: i64) -> u128 {
    let flip = |v: i64| u128::from((v as u64) ^ (1 << 63));
    (flip(ts) << 64) | flip(seq)
}

fn lower_bound(events: &[(i64, i64)], cursor: u128) -> usize {
    events.partition_point(|&(ts, seq)| key(ts, seq) < cursor)
}

fn encode(dir: Dir, cursor: u128) -> String {
    let d = if dir == Dir::Forward { 'f' } else { 'b' };
    format!("{d}/{cursor:056}/s")
}

fn decode(token: &str) -> Result<(Dir, u128), TokenError> {
    let (dir, rest) = match token.split_at_checked(2) {
        Some(("f/", rest)) => (Dir::Forward, rest),
        Some(("b/", rest)) => (Dir::Backward, rest),
        _ => return Err(TokenError::InvalidToken),
    };
    let digits = rest.strip_suffix("/s").unwrap_or(rest);
    if digits.len() != 56 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TokenError::InvalidToken);
    }
    digits
        .parse::<u128>()
        .map(|c| (dir, c))
        .map_err(|_| TokenError::InvalidToken)
}

// ---- opaque tokens (FilterLogEvents, DescribeLogGroups, DescribeLogStreams, ...) -------------

const OPAQUE_PREFIX: &str = "pt1";

/// Encodes a resume key (a name, an offset, `"<ts>:<stream>:<seq>"` ...) as an opaque token:
/// hex of the key plus a checksum, so garbage and edited tokens are rejected.
pub fn encode_opaque(key: &str) -> String {
    let hex: String = key.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{OPAQUE_PREFIX}{hex}{:08x}", fnv1a(key.as_bytes()))
}

/// Decodes a token made by [`encode_opaque`]; anything else is [`TokenError::InvalidToken`].
pub fn decode_opaque(token: &str) -> Result<String, TokenError> {
    let body = token
        .strip_prefix(OPAQUE_PREFIX)
        .ok_or(TokenError::InvalidToken)?;
    if body.len() < 8 || body.len() % 2 != 0 || !body.is_ascii() {
        return Err(TokenError::InvalidToken);
    }
    let (hex, sum) = body.split_at(body.len() - 8);
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| TokenError::InvalidToken)?;
    let sum = u32::from_str_radix(sum, 16).map_err(|_| TokenError::InvalidToken)?;
    if sum != fnv1a(&bytes) {
        return Err(TokenError::InvalidToken);
    }
    String::from_utf8(bytes).map_err(|_| TokenError::InvalidToken)
}

/// An opaque token for "resume at offset `n`".
pub fn encode_offset(offset: usize) -> String {
    encode_opaque(&offset.to_string())
}

/// The offset in a token made by [`encode_offset`].
pub fn decode_offset(token: &str) -> Result<usize, TokenError> {
    decode_opaque(token)?
        .parse()
        .map_err(|_| TokenError::InvalidToken)
}

/// Pages a list sorted by key with an opaque "resume after this key" token: returns the index
/// range to return and the next token (`None` when finished — FilterLogEvents and the Describe
/// operations never echo a token back).
pub fn page_by_key<T>(
    items_sorted: &[T],
    key_of: impl Fn(&T) -> String,
    next_token: Option<&str>,
    limit: usize,
) -> Result<(Range<usize>, Option<String>), TokenError> {
    let start = match next_token {
        None => 0,
        Some(t) => {
            let after = decode_opaque(t)?;
            items_sorted.partition_point(|item| key_of(item) <= after)
        }
    };
    let end = (start + limit.max(1)).min(items_sorted.len());
    let next = (end < items_sorted.len())
        .then(|| items_sorted.get(end - 1).map(|i| encode_opaque(&key_of(i))))
        .flatten();
    Ok((start..end, next))
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}
