//! Pure emulator logic: Logs filter patterns, GetLogEvents / opaque paging tokens, and CloudWatch
//! alarm evaluation and statistics. No I/O, no clock: `now` is always passed in.

use pipetui_emulator::cloudwatch::evaluate::{
    AlarmDefinition, ComparisonOperator, EvalError, Evaluation, Sample, StateValue, Statistic,
    TreatMissingData, aggregate, evaluate, iso, short_date,
};
use pipetui_emulator::logs::filter::{INVALID_PATTERN, parse};
use pipetui_emulator::logs::tokens::{
    INVALID_TOKEN, TokenError, decode_offset, decode_opaque, encode_offset, encode_opaque, page,
    page_by_key,
};

// ---- filter patterns --------------------------------------------------------------------------

fn check(pattern: &str, yes: &[&str], no: &[&str]) {
    let p = parse(pattern).unwrap_or_else(|e| panic!("{pattern:?} should parse: {e}"));
    for m in yes {
        assert!(p.matches(m), "{pattern:?} should match {m:?}");
    }
    for m in no {
        assert!(!p.matches(m), "{pattern:?} should not match {m:?}");
    }
}

#[test]
fn empty_pattern_matches_everything() {
    check("", &["", "anything", "{\"a\":1}"], &[]);
    check("   ", &["x"], &[]);
    assert!(parse("").unwrap().is_match_all());
}

#[test]
fn terms_are_anded_and_case_sensitive() {
    check("ERROR", &["[ERROR] boom", "ERROR"], &["error boom", "Err"]);
    check(
        "ERROR 404",
        &["ERROR GET /x 404", "404 then ERROR"],
        &["ERROR 500", "404 only"],
    );
}

#[test]
fn quoted_phrases() {
    check(
        "\"Connection refused\"",
        &["x: Connection refused by peer"],
        &["Connection was refused", "connection refused"],
    );
    check("\"a \\\"b\\\"\"", &["say a \"b\" now"], &["a b"]);
}

#[test]
fn or_terms() {
    check(
        "?ERROR ?WARN",
        &["ERROR x", "WARN y", "ERROR WARN"],
        &["INFO z"],
    );
    check("?\"bad thing\" ?FATAL", &["a bad thing", "FATAL"], &["bad"]);
    check(
        "GET ?500 ?503",
        &["GET /a 503"],
        &["GET /a 200", "POST 500"],
    );
}

#[test]
fn exclusions() {
    check(
        "ERROR -Exiting",
        &["ERROR boom"],
        &["ERROR Exiting now", "INFO"],
    );
    check(
        "ERROR -\"retry later\"",
        &["ERROR retry"],
        &["ERROR retry later please"],
    );
}

#[test]
fn json_string_equality_and_wildcards() {
    check(
        r#"{ $.level = "ERROR" }"#,
        &[r#"{"level":"ERROR","msg":"x"}"#],
        &[
            r#"{"level":"error"}"#,
            r#"{"lvl":"ERROR"}"#,
            "level ERROR",
            "not json",
        ],
    );
    check(
        r#"{ $.ip = 10.0.* }"#,
        &[r#"{"ip":"10.0.1.2"}"#],
        &[r#"{"ip":"10.1.0.2"}"#],
    );
    check(
        r#"{ $.path = "*/health*" }"#,
        &[r#"{"path":"/api/healthz"}"#],
        &[r#"{"path":"/api"}"#],
    );
    check(
        r#"{ $.user != "root" }"#,
        &[r#"{"user":"bob"}"#],
        &[r#"{"user":"root"}"#, "{}"],
    );
}

#[test]
fn json_numeric_comparisons() {
    let msg = |n: i64| format!(r#"{{"status":{n},"latency":12.5}}"#);
    check("{ $.status = 200 }", &[&msg(200)], &[&msg(201)]);
    check(
        "{ $.status != 200 }",
        &[&msg(500)],
        &[&msg(200), r#"{"other":1}"#],
    );
    check("{ $.status >= 500 }", &[&msg(500), &msg(503)], &[&msg(499)]);
    check("{ $.status > 500 }", &[&msg(501)], &[&msg(500)]);
    check("{ $.status < 300 }", &[&msg(200)], &[&msg(300)]);
    check("{ $.status <= 300 }", &[&msg(300)], &[&msg(301)]);
    check("{ $.latency > 12.4 }", &[&msg(1)], &[]);
    check("{ $.latency < 12 }", &[], &[&msg(1)]);
}

#[test]
fn json_and_or_parentheses() {
    let p = r#"{ ($.level = "ERROR" && $.code >= 500) || $.fatal IS TRUE }"#;
    check(
        p,
        &[
            r#"{"level":"ERROR","code":503}"#,
            r#"{"level":"INFO","fatal":true}"#,
        ],
        &[
            r#"{"level":"ERROR","code":404}"#,
            r#"{"level":"INFO","fatal":false}"#,
        ],
    );
    // && binds tighter than ||.
    check(
        r#"{ $.a = 1 || $.b = 1 && $.c = 1 }"#,
        &[r#"{"a":1}"#, r#"{"b":1,"c":1}"#],
        &[r#"{"b":1}"#],
    );
}

#[test]
fn json_null_exists_booleans_and_arrays() {
    check("{ $.x IS NULL }", &[r#"{"x":null}"#], &[r#"{"x":0}"#, "{}"]);
    check(
        "{ $.x NOT EXISTS }",
        &["{}", r#"{"y":1}"#],
        &[r#"{"x":null}"#],
    );
    check(
        "{ $.ok IS TRUE }",
        &[r#"{"ok":true}"#],
        &[r#"{"ok":false}"#, r#"{"ok":"true"}"#],
    );
    check(
        "{ $.ok IS FALSE }",
        &[r#"{"ok":false}"#],
        &[r#"{"ok":true}"#],
    );
    check(
        r#"{ $.a[0].b = "x" }"#,
        &[r#"{"a":[{"b":"x"},{"b":"y"}]}"#],
        &[r#"{"a":[{"b":"y"},{"b":"x"}]}"#, r#"{"a":[]}"#],
    );
    check(
        "{ $.user.ids[1] = 7 }",
        &[r#"{"user":{"ids":[1,7]}}"#],
        &[r#"{"user":{"ids":[7]}}"#],
    );
}

#[test]
fn json_with_embedded_regex() {
    check(
        r#"{ $.msg = %^time ?out% }"#,
        &[r#"{"msg":"timeout"}"#, r#"{"msg":"time out"}"#],
        &[r#"{"msg":"a timeout"}"#],
    );
}

#[test]
fn space_delimited() {
    let line = |status: &str, bytes: &str| {
        format!(
            "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /apache_pb.gif HTTP/1.0\" {status} {bytes}"
        )
    };
    let all = "[ip, user, username, timestamp, request, status_code, bytes]";
    check(
        all,
        &[&line("200", "1534")],
        &["too few fields", &format!("{} extra", line("200", "1"))],
    );
    check(
        "[ip, user, ..., status_code = 5*, bytes > 1000]",
        &[&line("503", "2000")],
        &[&line("503", "999"), &line("404", "2000")],
    );
    check(
        "[..., status_code != 200, bytes]",
        &[&line("404", "1")],
        &[&line("200", "1")],
    );
    check(
        "[ip, user, username, timestamp, request = \"GET *\", status_code, bytes]",
        &[&line("200", "1")],
        &[&line("200", "1").replace("GET", "PUT")],
    );
    check(
        "[ip = 127.0.0.*, ..., status_code = 4* || status_code = 5*, bytes]",
        &[&line("404", "1"), &line("500", "1")],
        &[&line("200", "1")],
    );
    check(
        "[level = ERROR, ...]",
        &["ERROR disk full", "ERROR"],
        &["WARN ERROR"],
    );
}

#[test]
fn regex_patterns() {
    check(
        "%ERROR [0-9]{3}%",
        &["x ERROR 503 y"],
        &["ERROR 50", "error 503"],
    );
    check("%^Start%", &["Start of run"], &["Restart"]);
    check("%done$%", &["all done"], &["done now"]);
    check(
        "%AccessDenied|Throttl.*%",
        &["Throttling: slow", "AccessDenied"],
        &["OK"],
    );
    check("%\\d+ms%", &["took 15ms"], &["took ms"]);
    check("%[^a-z ]+x%", &["ABx"], &["abx"]);
    check("%colou?r%", &["color", "colour"], &["colr"]);
    check("%^a{2,3}$%", &["aa", "aaa"], &["a", "aaaa"]);
    check("%^x{2,}y%", &["xxy", "xxxxy"], &["xy"]);
    // Linear-time matching: a large message without a match finishes quickly.
    let big = "a".repeat(256 * 1024);
    assert!(!parse("%a.*b.*c%").unwrap().matches(&big));
    assert!(parse("%a.*a$%").unwrap().matches(&big));
}

#[test]
fn invalid_patterns_are_rejected() {
    for bad in [
        "{ $.level = \"ERROR\" ",
        "{ level = 1 }",
        "{ $.a = }",
        "{ $.a > \"x\" }",
        "{ $.a = 1 && }",
        "{ ($.a = 1 }",
        "{ $.a IS MAYBE }",
        "{ $.a = 1 } extra",
        "[ip, user",
        "[]",
        "\"unterminated",
        "%a(b)%",
        "%*a%",
        "%[abc%",
    ] {
        let e = parse(bad).expect_err(bad);
        assert!(e.to_string().starts_with(INVALID_PATTERN), "{bad}: {e}");
    }
    assert_eq!(INVALID_PATTERN, "Invalid filter pattern");
}

// ---- GetLogEvents tokens ---------------------------------------------------------------------

/// Events at t = 1000, 1001, ... (seq 0..n).
fn stream(n: i64) -> Vec<(i64, i64)> {
    (0..n).map(|i| (1000 + i, i)).collect()
}

fn is_token(t: &str, dir: char) -> bool {
    let digits = t
        .strip_prefix(&format!("{dir}/"))
        .and_then(|r| r.strip_suffix("/s"));
    digits.is_some_and(|d| d.len() == 56 && d.bytes().all(|b| b.is_ascii_digit()))
}

#[test]
fn forward_paging_ends_with_the_repeated_token() {
    let ev = stream(25);
    let first = page(&ev, None, None, None, Some(10), true).unwrap();
    assert_eq!(first.range, 0..10);
    assert!(is_token(&first.next_forward_token, 'f'));
    assert!(is_token(&first.next_backward_token, 'b'));
    let mut token = first.next_forward_token;
    let mut seen = 10;
    let mut calls = 0;
    loop {
        calls += 1;
        let p = page(&ev, None, None, Some(&token), Some(10), true).unwrap();
        seen += p.range.len();
        if p.next_forward_token == token {
            assert!(p.range.is_empty());
            break;
        }
        token = p.next_forward_token;
        assert!(calls < 10, "paginator would loop forever");
    }
    assert_eq!(seen, 25);
    assert_eq!(calls, 3); // 10..20, 20..25, then the empty page echoing the token

    // New events appended later are picked up by the same token.
    let mut more = ev.clone();
    more.push((2000, 99));
    let p = page(&more, None, None, Some(&token), Some(10), true).unwrap();
    assert_eq!(p.range, 25..26);
    assert_ne!(p.next_forward_token, token);
}

#[test]
fn default_is_the_newest_events_and_backward_paging() {
    let ev = stream(25);
    let last = page(&ev, None, None, None, Some(10), false).unwrap();
    assert_eq!(last.range, 15..25);
    let back = page(
        &ev,
        None,
        None,
        Some(&last.next_backward_token),
        Some(10),
        false,
    )
    .unwrap();
    assert_eq!(back.range, 5..15);
    let back2 = page(
        &ev,
        None,
        None,
        Some(&back.next_backward_token),
        Some(10),
        false,
    )
    .unwrap();
    assert_eq!(back2.range, 0..5);
    let end = page(
        &ev,
        None,
        None,
        Some(&back2.next_backward_token),
        Some(10),
        false,
    )
    .unwrap();
    assert!(end.range.is_empty());
    assert_eq!(end.next_backward_token, back2.next_backward_token);
    // Forward from the newest page: nothing new, token echoed.
    let fwd = page(&ev, None, None, Some(&last.next_forward_token), None, true).unwrap();
    assert!(fwd.range.is_empty());
    assert_eq!(fwd.next_forward_token, last.next_forward_token);
    // And forward again from an older backward page resumes after it.
    let fwd = page(
        &ev,
        None,
        None,
        Some(&back.next_forward_token),
        Some(3),
        true,
    )
    .unwrap();
    assert_eq!(fwd.range, 15..18);
}

#[test]
fn default_limit_and_limit_validation() {
    let ev = stream(10_050);
    assert_eq!(
        page(&ev, None, None, None, None, true).unwrap().range,
        0..10_000
    );
    assert_eq!(
        page(&ev, None, None, None, None, false).unwrap().range,
        50..10_050
    );
    assert!(matches!(
        page(&ev, None, None, None, Some(0), true),
        Err(TokenError::InvalidLimit(0))
    ));
    assert!(page(&ev, None, None, None, Some(10_001), true).is_err());
}

#[test]
fn time_window_start_inclusive_end_exclusive() {
    let ev = stream(20); // t = 1000..1019
    let p = page(&ev, Some(1005), Some(1010), None, None, true).unwrap();
    assert_eq!(p.range, 5..10);
    let p = page(&ev, Some(1005), Some(1010), None, Some(2), false).unwrap();
    assert_eq!(p.range, 8..10);
    let fwd = page(
        &ev,
        Some(1005),
        Some(1010),
        Some(&p.next_forward_token),
        None,
        true,
    )
    .unwrap();
    assert!(fwd.range.is_empty());
    assert_eq!(fwd.next_forward_token, p.next_forward_token);
    let empty = page(&ev, Some(5000), None, None, None, true).unwrap();
    assert!(empty.range.is_empty());
    // Empty stream: valid tokens, and the forward token later sees new events.
    let none = page(&[], None, None, None, None, false).unwrap();
    assert!(is_token(&none.next_forward_token, 'f'));
    let later = page(&ev, None, None, Some(&none.next_forward_token), None, true).unwrap();
    assert_eq!(later.range, 0..20);
}

#[test]
fn invalid_tokens_are_rejected() {
    let ev = stream(3);
    let bad = [
        "garbage",
        "f/123",
        "x/00000000000000000000000000000000000000000000000000000000",
        "f/0000000000000000000000000000000000000000000000000000000a/s",
        "f/99999999999999999999999999999999999999999999999999999999",
        "",
    ];
    for t in bad {
        let e = page(&ev, None, None, Some(t), None, true).unwrap_err();
        assert_eq!(e, TokenError::InvalidToken, "{t}");
        assert_eq!(e.to_string(), INVALID_TOKEN);
    }
    assert_eq!(INVALID_TOKEN, "The specified nextToken is invalid.");
}

#[test]
fn opaque_tokens_round_trip_and_reject_garbage() {
    for key in ["", "my-group", "1700000000000:stream/a:42", "ünï"] {
        assert_eq!(decode_opaque(&encode_opaque(key)).unwrap(), key);
    }
    assert_eq!(decode_offset(&encode_offset(1234)).unwrap(), 1234);
    let good = encode_opaque("group-b");
    let mut tampered = good.clone();
    tampered.replace_range(4..5, if &good[4..5] == "0" { "1" } else { "0" });
    for t in ["", "abc", "pt1zz", &tampered, &good[..good.len() - 1]] {
        assert_eq!(decode_opaque(t), Err(TokenError::InvalidToken), "{t}");
    }
    assert!(decode_offset(&encode_opaque("not-a-number")).is_err());
}

#[test]
fn page_by_key_walks_to_the_end_without_echo() {
    let names: Vec<String> = (0..7).map(|i| format!("/aws/group-{i}")).collect();
    let (r, t) = page_by_key(&names, |n| n.clone(), None, 3).unwrap();
    assert_eq!(r, 0..3);
    let (r, t) = page_by_key(&names, |n| n.clone(), t.as_deref(), 3).unwrap();
    assert_eq!(r, 3..6);
    let (r, t) = page_by_key(&names, |n| n.clone(), t.as_deref(), 3).unwrap();
    assert_eq!(r, 6..7);
    assert_eq!(t, None);
    assert!(page_by_key(&names, |n| n.clone(), Some("junk"), 3).is_err());
}

// ---- CloudWatch alarms -----------------------------------------------------------------------

/// 2023-11-26T10:00:00Z.
const T0: f64 = 1_700_992_800.0;

fn alarm(op: ComparisonOperator, n: u32, m: Option<u32>, tmd: TreatMissingData) -> AlarmDefinition {
    AlarmDefinition {
        statistic: Statistic::Average,
        period: 60,
        evaluation_periods: n,
        datapoints_to_alarm: m,
        threshold: 10.0,
        comparison: op,
        treat_missing_data: tmd,
    }
}

/// One sample per minute: `values[i]` lands in the period starting at T0 + 60 i (None = gap).
fn series(values: &[Option<f64>]) -> Vec<Sample> {
    let mut out = Vec::new();
    for (i, v) in values.iter().enumerate() {
        if let Some(v) = v {
            out.push(Sample::value(T0 + 60.0 * i as f64 + 5.0, *v));
        }
    }
    out
}

/// `now` just after the last period of `len` periods completed (plus 12 s into the next).
fn now_after(len: usize) -> f64 {
    T0 + 60.0 * len as f64 + 12.0
}

fn eval(def: &AlarmDefinition, values: &[Option<f64>], current: StateValue) -> Evaluation {
    evaluate(def, &series(values), now_after(values.len()), current).expect("valid alarm")
}

use ComparisonOperator::*;
use StateValue::{Alarm, InsufficientData, Ok as OkState};
use TreatMissingData::{Breaching, Ignore, Missing, NotBreaching};

#[test]
fn each_comparison_operator() {
    let cases = [
        (GreaterThanOrEqualToThreshold, 10.0, Alarm),
        (GreaterThanOrEqualToThreshold, 9.9, OkState),
        (GreaterThanThreshold, 10.0, OkState),
        (GreaterThanThreshold, 10.1, Alarm),
        (LessThanThreshold, 10.0, OkState),
        (LessThanThreshold, 9.0, Alarm),
        (LessThanOrEqualToThreshold, 10.0, Alarm),
        (LessThanOrEqualToThreshold, 10.5, OkState),
    ];
    for (op, v, want) in cases {
        let e = eval(&alarm(op, 1, None, Missing), &[Some(v)], InsufficientData);
        assert_eq!(e.state, want, "{op:?} {v}: {}", e.reason);
    }
    for s in [
        "LessThanLowerOrGreaterThanUpperThreshold",
        "LessThanLowerThreshold",
        "GreaterThanUpperThreshold",
    ] {
        assert!(matches!(
            ComparisonOperator::parse(s),
            Err(EvalError::AnomalyDetection(_))
        ));
    }
    assert_eq!(
        ComparisonOperator::parse("GreaterThanThreshold").unwrap(),
        GreaterThanThreshold
    );
    assert!(ComparisonOperator::parse("Bigger").is_err());
}

#[test]
fn single_datapoint_reason() {
    let e = eval(
        &alarm(GreaterThanThreshold, 1, None, Missing),
        &[Some(42.0)],
        OkState,
    );
    assert_eq!(e.state, Alarm);
    assert_eq!(
        e.reason,
        "Threshold Crossed: 1 datapoint [42.0 (26/11/23 10:00:00)] was greater than the threshold (10.0)."
    );
    let e = eval(
        &alarm(GreaterThanThreshold, 1, None, Missing),
        &[Some(3.0)],
        Alarm,
    );
    assert_eq!(e.state, OkState);
    assert_eq!(
        e.reason,
        "Threshold Crossed: 1 datapoint [3.0 (26/11/23 10:00:00)] was not greater than the threshold (10.0)."
    );
}

#[test]
fn m_of_n_reason_and_reason_data() {
    let def = alarm(GreaterThanOrEqualToThreshold, 3, Some(2), Missing);
    let e = eval(&def, &[Some(11.0), Some(12.0), Some(1.0)], OkState);
    assert_eq!(e.state, Alarm);
    assert_eq!(
        e.reason,
        "Threshold Crossed: 2 out of the last 3 datapoints [12.0 (26/11/23 10:01:00), 11.0 (26/11/23 10:00:00)] \
         were greater than or equal to the threshold (10.0) (minimum 2 datapoints for OK -> ALARM transition)."
    );
    let data: serde_json::Value = serde_json::from_str(&e.reason_data).unwrap();
    assert_eq!(data["version"], "1.0");
    assert_eq!(data["queryDate"], "2023-11-26T10:03:12.000+0000");
    assert_eq!(data["startDate"], "2023-11-26T10:00:00.000+0000");
    assert_eq!(data["statistic"], "Average");
    assert_eq!(data["period"], 60);
    assert_eq!(data["threshold"], 10.0);
    assert_eq!(
        data["recentDatapoints"],
        serde_json::json!([11.0, 12.0, 1.0])
    );
    let evaluated = data["evaluatedDatapoints"].as_array().unwrap();
    assert_eq!(evaluated.len(), 3);
    assert_eq!(evaluated[0]["timestamp"], "2023-11-26T10:02:00.000+0000");
    assert_eq!(evaluated[0]["value"], 1.0);
    assert_eq!(evaluated[0]["sampleCount"], 1.0);
    assert!(
        e.reason_data
            .starts_with(r#"{"version":"1.0","queryDate":"#)
    );

    // Only one of three breaching: OK.
    let e = eval(&def, &[Some(11.0), Some(1.0), Some(1.0)], Alarm);
    assert_eq!(e.state, OkState);
    assert!(
        e.reason
            .contains("1 out of the last 3 datapoints [11.0 (26/11/23 10:00:00)] was"),
        "{}",
        e.reason
    );
    assert!(
        e.reason
            .ends_with("(minimum 2 datapoints for ALARM -> OK transition)."),
        "{}",
        e.reason
    );

    // M = N needs every datapoint to breach.
    let all = alarm(GreaterThanOrEqualToThreshold, 3, None, Missing);
    assert_eq!(
        eval(&all, &[Some(11.0), Some(12.0), Some(1.0)], OkState).state,
        OkState
    );
    let e = eval(&all, &[Some(11.0), Some(12.0), Some(13.0)], OkState);
    assert_eq!(e.state, Alarm);
    assert!(
        e.reason
            .starts_with("Threshold Crossed: 3 datapoints [13.0 (26/11/23 10:02:00), 12.0"),
        "{}",
        e.reason
    );
    assert!(
        e.reason
            .ends_with("were greater than or equal to the threshold (10.0)."),
        "{}",
        e.reason
    );
}

#[test]
fn only_complete_periods_are_evaluated() {
    let def = alarm(GreaterThanThreshold, 1, None, Missing);
    // A breaching sample inside the current (partial) period is ignored.
    let mut pts = series(&[Some(1.0)]);
    pts.push(Sample::value(T0 + 65.0, 99.0));
    let e = evaluate(&def, &pts, T0 + 70.0, OkState).unwrap();
    assert_eq!(e.state, OkState);
    // Once that period is complete it counts.
    let e = evaluate(&def, &pts, T0 + 120.0, OkState).unwrap();
    assert_eq!(e.state, Alarm);
}

#[test]
fn treat_missing_data_missing() {
    let def = alarm(GreaterThanThreshold, 3, None, Missing);
    let e = eval(&def, &[None, None, None, None, None], OkState);
    assert_eq!(e.state, InsufficientData);
    assert_eq!(e.reason, "Insufficient Data: 3 datapoints were unknown.");
    // Gaps: the latest present datapoints within the evaluation range are used.
    assert_eq!(
        eval(
            &def,
            &[Some(20.0), Some(20.0), None, Some(20.0), None],
            OkState
        )
        .state,
        Alarm
    );
    assert_eq!(
        eval(
            &def,
            &[Some(1.0), None, Some(20.0), None, Some(20.0)],
            OkState
        )
        .state,
        OkState
    );
    // Fewer datapoints than DatapointsToAlarm, all breaching.
    assert_eq!(
        eval(&def, &[None, None, Some(20.0), None, None], OkState).state,
        Alarm
    );
    assert_eq!(
        eval(&def, &[Some(1.0), None, None, None, None], Alarm).state,
        OkState
    );
}

#[test]
fn treat_missing_data_ignore() {
    let def = alarm(GreaterThanThreshold, 3, None, Ignore);
    for current in [OkState, Alarm, InsufficientData] {
        assert_eq!(
            eval(&def, &[None, None, None, None, None], current).state,
            current
        );
        assert_eq!(
            eval(&def, &[None, None, Some(20.0), None, None], current).state,
            current
        );
    }
    assert_eq!(
        eval(
            &def,
            &[Some(20.0), Some(20.0), None, Some(20.0), None],
            OkState
        )
        .state,
        Alarm
    );
    assert_eq!(
        eval(&def, &[Some(1.0), None, None, None, None], Alarm).state,
        OkState
    );
}

#[test]
fn treat_missing_data_breaching() {
    let def = alarm(GreaterThanThreshold, 3, None, Breaching);
    let e = eval(&def, &[Some(1.0), None, None, None], OkState);
    assert_eq!(e.state, Alarm);
    assert_eq!(
        e.reason,
        "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Breaching]."
    );
    assert_eq!(
        eval(&def, &[Some(20.0), None, Some(20.0)], OkState).state,
        Alarm
    );
    assert_eq!(
        eval(&def, &[Some(20.0), None, Some(1.0)], Alarm).state,
        OkState
    );
    let data: serde_json::Value = serde_json::from_str(&e.reason_data).unwrap();
    let evaluated = data["evaluatedDatapoints"].as_array().unwrap();
    assert_eq!(evaluated.len(), 3);
    assert!(evaluated[0].get("value").is_none());
}

#[test]
fn treat_missing_data_not_breaching() {
    let def = alarm(GreaterThanThreshold, 3, Some(2), NotBreaching);
    let e = eval(&def, &[None, None, None], Alarm);
    assert_eq!(e.state, OkState);
    assert_eq!(
        e.reason,
        "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [NonBreaching]."
    );
    assert_eq!(
        eval(&def, &[Some(20.0), None, Some(20.0)], OkState).state,
        Alarm
    );
    assert_eq!(eval(&def, &[Some(20.0), None, None], Alarm).state, OkState);
    assert_eq!(TreatMissingData::parse(None).unwrap(), Missing);
    assert_eq!(
        TreatMissingData::parse(Some("notBreaching")).unwrap(),
        NotBreaching
    );
    assert!(TreatMissingData::parse(Some("sometimes")).is_err());
}

#[test]
fn datapoints_to_alarm_defaults_and_validation() {
    let mut def = alarm(GreaterThanThreshold, 2, Some(3), Missing);
    assert!(evaluate(&def, &[], T0, OkState).is_err());
    def.datapoints_to_alarm = None;
    assert_eq!(eval(&def, &[Some(20.0), Some(1.0)], OkState).state, OkState);
    assert_eq!(eval(&def, &[Some(20.0), Some(20.0)], OkState).state, Alarm);
}

#[test]
fn percentile_statistics() {
    // 100 samples 1..=100 in one minute.
    let pts: Vec<Sample> = (1..=100)
        .map(|v| Sample::value(T0 + 1.0, v as f64))
        .collect();
    let stats = [
        Statistic::parse("p50").unwrap(),
        Statistic::parse("p99").unwrap(),
        Statistic::parse("p99.9").unwrap(),
    ];
    let dps = aggregate(&pts, T0, T0 + 60.0, 60, &stats);
    assert_eq!(dps.len(), 1);
    assert_eq!(dps[0].get(&stats[0]), Some(50.0));
    assert_eq!(dps[0].get(&stats[1]), Some(99.0));
    assert_eq!(dps[0].get(&stats[2]), Some(100.0));
    assert_eq!(dps[0].get(&Statistic::Percentile(0.0)), None); // not requested
    assert_eq!(stats[2].name(), "p99.9");
    assert!(Statistic::parse("p101").is_err());
    assert!(Statistic::parse("median").is_err());

    // Alarm on p90 of per-minute latency.
    let mut def = alarm(GreaterThanThreshold, 1, None, Missing);
    def.statistic = Statistic::Percentile(90.0);
    let mut pts: Vec<Sample> = (0..9).map(|_| Sample::value(T0 + 2.0, 1.0)).collect();
    pts.push(Sample::value(T0 + 3.0, 50.0));
    assert_eq!(
        evaluate(&def, &pts, T0 + 61.0, OkState).unwrap().state,
        OkState
    );
    pts.push(Sample::value(T0 + 4.0, 50.0));
    let e = evaluate(&def, &pts, T0 + 61.0, OkState).unwrap();
    assert_eq!(e.state, Alarm);
    assert!(
        e.reason_data.contains(r#""statistic":"p90""#),
        "{}",
        e.reason_data
    );
    // Statistic sets carry no distribution: the percentile is missing.
    let sets = [Sample::statistic_set(T0 + 1.0, 10.0, 500.0, 1.0, 99.0)];
    assert_eq!(
        evaluate(&def, &sets, T0 + 61.0, OkState).unwrap().state,
        InsufficientData
    );
}

#[test]
fn aggregate_statistics_and_alignment() {
    let pts = vec![
        Sample::value(T0 + 10.0, 4.0),
        Sample::repeated(T0 + 20.0, 2.0, 3.0),
        Sample::statistic_set(T0 + 70.0, 4.0, 40.0, 5.0, 15.0),
        Sample::from((T0 + 130.0, 7.0)),
        Sample::value(T0 - 1.0, 1000.0),   // before start
        Sample::value(T0 + 180.0, 1000.0), // end is exclusive
    ];
    let dps = aggregate(&pts, T0, T0 + 180.0, 60, &[Statistic::Percentile(50.0)]);
    let ts: Vec<f64> = dps.iter().map(|d| d.timestamp).collect();
    assert_eq!(ts, vec![T0, T0 + 60.0, T0 + 120.0]);
    let d = &dps[0];
    assert_eq!(
        (d.sample_count, d.sum, d.minimum, d.maximum),
        (4.0, 10.0, 2.0, 4.0)
    );
    assert_eq!(d.get(&Statistic::Average), Some(2.5));
    assert_eq!(d.get(&Statistic::Percentile(50.0)), Some(2.0));
    assert_eq!(dps[1].get(&Statistic::Average), Some(10.0));
    assert_eq!(dps[1].get(&Statistic::Percentile(50.0)), None);
    assert_eq!(dps[2].get(&Statistic::SampleCount), Some(1.0));
    // Buckets align to period boundaries, not to `start`.
    let dps = aggregate(&pts, T0 + 15.0, T0 + 180.0, 300, &[]);
    assert_eq!(dps.len(), 1);
    assert_eq!(dps[0].timestamp, T0); // T0 is a multiple of 300
    assert_eq!(dps[0].sample_count, 8.0);
}

#[test]
fn date_formats() {
    assert_eq!(iso(T0 + 61.5), "2023-11-26T10:01:01.500+0000");
    assert_eq!(short_date(T0 + 61.0), "26/11/23 10:01:01");
    assert_eq!(iso(0.0), "1970-01-01T00:00:00.000+0000");
    assert_eq!(iso(951_782_400.0), "2000-02-29T00:00:00.000+0000");
    assert_eq!(
        StateValue::parse("INSUFFICIENT_DATA").unwrap().as_str(),
        "INSUFFICIENT_DATA"
    );
}
