//! CloudWatch Logs in the emulator through the real SDK (in-process transport, manual clock):
//! groups, streams, retention, PutLogEvents rejections, GetLogEvents paging in both directions,
//! FilterLogEvents patterns and paging, and each documented error. (Restart: emulator_cloudwatch.rs.)

use std::sync::Arc;

use crate::common;
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
use aws_sdk_cloudwatchlogs::operation::filter_log_events::builders::FilterLogEventsFluentBuilder;
use aws_sdk_cloudwatchlogs::operation::get_log_events::builders::GetLogEventsFluentBuilder;
use aws_sdk_cloudwatchlogs::types::{InputLogEvent, OrderBy};

use common::code;

use pipetui_emulator::Emulator;

const NOW_MS: i64 = 1_767_225_600_000;
const DAY_MS: i64 = 86_400_000;

fn setup() -> (Arc<Emulator>, Client) {
    let emu = common::emulator();
    let client = Client::new(&common::sdk_config(&emu));
    (emu, client)
}

fn ev(ts: i64, msg: &str) -> InputLogEvent {
    InputLogEvent::builder()
        .timestamp(ts)
        .message(msg)
        .build()
        .expect("event")
}

/// `Ok` or the error code.
fn res<T, E: ProvideErrorMetadata + std::fmt::Debug>(
    r: Result<T, aws_sdk_cloudwatchlogs::error::SdkError<E>>,
) -> Result<(), String> {
    r.map(drop).map_err(|e| code(Err::<(), _>(e)))
}

async fn create_group(c: &Client, group: &str) -> Result<(), String> {
    res(c.create_log_group().log_group_name(group).send().await)
}

async fn create_stream(c: &Client, group: &str, stream: &str) -> Result<(), String> {
    let req = c.create_log_stream().log_group_name(group);
    res(req.log_stream_name(stream).send().await)
}

/// PutRetentionPolicy, or DeleteRetentionPolicy for `None`.
async fn retention(c: &Client, group: &str, days: Option<i32>) -> Result<(), String> {
    match days {
        Some(d) => {
            let req = c.put_retention_policy().log_group_name(group);
            res(req.retention_in_days(d).send().await)
        }
        None => res(c
            .delete_retention_policy()
            .log_group_name(group)
            .send()
            .await),
    }
}

async fn groups(c: &Client) -> Vec<aws_sdk_cloudwatchlogs::types::LogGroup> {
    let out = c.describe_log_groups().send().await.expect("describe");
    out.log_groups().to_vec()
}

fn get(c: &Client, stream: &str) -> GetLogEventsFluentBuilder {
    c.get_log_events()
        .log_group_name("g")
        .log_stream_name(stream)
}

fn filter_in(c: &Client, group: &str) -> FilterLogEventsFluentBuilder {
    c.filter_log_events().log_group_name(group)
}

async fn group_with_stream(c: &Client, group: &str, stream: &str) {
    create_group(c, group).await.expect("group");
    create_stream(c, group, stream).await.expect("stream");
}

async fn put(c: &Client, group: &str, stream: &str, events: Vec<InputLogEvent>) {
    let out = c
        .put_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .set_log_events(Some(events))
        .send()
        .await
        .expect("put");
    assert!(out.rejected_log_events_info().is_none(), "{out:?}");
}

#[tokio::test]
async fn log_groups_lifecycle_and_retention() {
    let (_emu, c) = setup();
    create_group(&c, "/app/web").await.expect("create");
    let dup = create_group(&c, "/app/web").await;
    assert_eq!(dup.unwrap_err(), "ResourceAlreadyExistsException");

    let g = &groups(&c).await[0];
    assert_eq!(g.log_group_name(), Some("/app/web"));
    assert_eq!(g.creation_time(), Some(NOW_MS));
    let arn = "arn:aws:logs:us-east-1:000000000000:log-group:/app/web";
    assert_eq!(g.arn(), Some(format!("{arn}:*").as_str()));
    assert_eq!(g.log_group_arn(), Some(arn));
    assert_eq!(g.retention_in_days(), None);

    retention(&c, "/app/web", Some(7)).await.expect("retention");
    assert_eq!(groups(&c).await[0].retention_in_days(), Some(7));
    let bad = retention(&c, "/app/web", Some(8)).await;
    assert_eq!(bad.unwrap_err(), "InvalidParameterException");
    let missing = retention(&c, "/nope", Some(7)).await;
    assert_eq!(missing.unwrap_err(), "ResourceNotFoundException");
    retention(&c, "/app/web", None)
        .await
        .expect("delete policy");
    assert_eq!(groups(&c).await[0].retention_in_days(), None);

    let delete = || c.delete_log_group().log_group_name("/app/web").send();
    delete().await.expect("delete");
    assert!(groups(&c).await.is_empty());
    assert_eq!(code(delete().await), "ResourceNotFoundException");
}

#[tokio::test]
async fn describe_log_groups_pages_in_name_order() {
    let (_emu, c) = setup();
    for name in ["/b/2", "/a/1", "/b/1", "/c", "/a/2", "/b/3", "/a/3"] {
        create_group(&c, name).await.expect("create");
    }
    let groups = c
        .describe_log_groups()
        .limit(3)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginate");
    let names: Vec<_> = groups.iter().filter_map(|g| g.log_group_name()).collect();
    assert_eq!(
        names,
        ["/a/1", "/a/2", "/a/3", "/b/1", "/b/2", "/b/3", "/c"]
    );

    let first = c.describe_log_groups().limit(3).send().await.expect("page");
    assert_eq!(first.log_groups().len(), 3);
    assert!(first.next_token().is_some());
    let b = c
        .describe_log_groups()
        .log_group_name_prefix("/b/")
        .send()
        .await
        .expect("prefix");
    assert_eq!(b.log_groups().len(), 3);
    assert!(b.next_token().is_none());
    let both = c
        .describe_log_groups()
        .log_group_name_prefix("/b/")
        .log_group_name_pattern("b")
        .send()
        .await;
    assert_eq!(code(both), "InvalidParameterException");
}

#[tokio::test]
async fn log_streams_create_describe_and_page() {
    let (emu, c) = setup();
    group_with_stream(&c, "g", "s0").await;
    let dup = create_stream(&c, "g", "s0").await;
    assert_eq!(dup.unwrap_err(), "ResourceAlreadyExistsException");
    let orphan = create_stream(&c, "nope", "s").await;
    assert_eq!(orphan.unwrap_err(), "ResourceNotFoundException");
    let missing = c.describe_log_streams().log_group_name("nope").send().await;
    assert_eq!(code(missing), "ResourceNotFoundException");

    for i in 1..5 {
        create_stream(&c, "g", &format!("s{i}"))
            .await
            .expect("stream");
    }
    // s3 gets the newest event, s1 an older one.
    put(&c, "g", "s1", vec![ev(NOW_MS - 5000, "old")]).await;
    emu.clock.advance(1.0);
    put(&c, "g", "s3", vec![ev(NOW_MS, "a"), ev(NOW_MS + 10, "b")]).await;

    let streams = c
        .describe_log_streams()
        .log_group_name("g")
        .limit(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginate");
    let names: Vec<_> = streams.iter().filter_map(|s| s.log_stream_name()).collect();
    assert_eq!(names, ["s0", "s1", "s2", "s3", "s4"]);
    let s3 = &streams[3];
    assert_eq!(s3.first_event_timestamp(), Some(NOW_MS));
    assert_eq!(s3.last_event_timestamp(), Some(NOW_MS + 10));
    assert_eq!(s3.last_ingestion_time(), Some(NOW_MS + 1000));
    assert_eq!(
        s3.arn(),
        Some("arn:aws:logs:us-east-1:000000000000:log-group:g:log-stream:s3")
    );

    let by_time = c
        .describe_log_streams()
        .log_group_name("g")
        .order_by(OrderBy::LastEventTime)
        .descending(true)
        .send()
        .await
        .expect("by time");
    let names: Vec<_> = by_time
        .log_streams()
        .iter()
        .filter_map(|s| s.log_stream_name())
        .collect();
    assert_eq!(&names[..2], ["s3", "s1"]);
    let both = c
        .describe_log_streams()
        .log_group_name("g")
        .order_by(OrderBy::LastEventTime)
        .log_stream_name_prefix("s")
        .send()
        .await;
    assert_eq!(code(both), "InvalidParameterException");
}

#[tokio::test]
async fn put_log_events_errors_and_rejections() {
    let (_emu, c) = setup();
    group_with_stream(&c, "g", "s").await;
    let put_to = |g: &'static str, s: &'static str, events: Vec<InputLogEvent>| {
        c.put_log_events()
            .log_group_name(g)
            .log_stream_name(s)
            .set_log_events(Some(events))
            .send()
    };
    let e = put_to("g", "nope", vec![ev(NOW_MS, "x")]).await;
    let e = e.expect_err("missing stream");
    assert_eq!(
        e.as_service_error().and_then(|s| s.code()),
        Some("ResourceNotFoundException")
    );
    assert_eq!(
        e.as_service_error().and_then(|s| s.message()),
        Some("The specified log stream does not exist.")
    );
    let e = put_to("nope", "s", vec![ev(NOW_MS, "x")]).await;
    assert_eq!(code(e), "ResourceNotFoundException");
    let unordered = put_to("g", "s", vec![ev(NOW_MS, "b"), ev(NOW_MS - 1, "a")]).await;
    assert_eq!(code(unordered), "InvalidParameterException");
    let span = put_to(
        "g",
        "s",
        vec![ev(NOW_MS - 2 * DAY_MS, "a"), ev(NOW_MS, "b")],
    )
    .await;
    assert_eq!(
        code(span),
        "InvalidParameterException",
        "a batch spans at most 24 h"
    );

    let out = put_to(
        "g",
        "s",
        vec![
            ev(NOW_MS - 15 * DAY_MS, "ancient"),
            ev(NOW_MS - 1000, "kept 1"),
            ev(NOW_MS, "kept 2"),
            ev(NOW_MS + 3 * 3_600_000, "future"),
        ],
    )
    .await
    .expect("partial put");
    let info = out.rejected_log_events_info().expect("rejections reported");
    assert_eq!(info.too_old_log_event_end_index(), Some(0));
    assert_eq!(info.too_new_log_event_start_index(), Some(3));
    let got = get(&c, "s").send().await.expect("get");
    assert_eq!(messages(got.events()), ["kept 1", "kept 2"]);

    // Older than the group's retention (but within 14 days): expired, not stored.
    retention(&c, "g", Some(1)).await.expect("retention");
    let out = put_to(
        "g",
        "s",
        vec![ev(NOW_MS - 3 * DAY_MS, "expired"), ev(NOW_MS, "ok")],
    )
    .await
    .expect("put");
    let info = out.rejected_log_events_info().expect("rejections reported");
    assert_eq!(info.expired_log_event_end_index(), Some(0));
}

async fn numbered_stream(c: &Client, n: i64) {
    group_with_stream(c, "g", "s").await;
    let events = (0..n).map(|i| ev(NOW_MS - 100_000 + i * 1000, &format!("event {i}")));
    put(c, "g", "s", events.collect()).await;
}

fn messages(events: &[aws_sdk_cloudwatchlogs::types::OutputLogEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| e.message().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn get_log_events_pages_forward_to_the_end_and_backward() {
    let (_emu, c) = setup();
    numbered_stream(&c, 25).await;
    let all = get(&c, "s")
        .start_from_head(true)
        .limit(10)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("the paginator stops on the repeated token");
    let want: Vec<String> = (0..25).map(|i| format!("event {i}")).collect();
    assert_eq!(messages(&all), want);

    // Newest first page, then walk backward to the head.
    let s = || get(&c, "s");
    let tail = s().limit(10).send().await.expect("tail");
    assert_eq!(messages(tail.events()), want[15..]);
    let head = s()
        .start_from_head(true)
        .limit(10)
        .send()
        .await
        .expect("head");
    assert_eq!(messages(head.events()), want[..10]);

    let mut token = tail.next_backward_token().expect("token").to_string();
    let mut pages = Vec::new();
    loop {
        let p = s()
            .limit(10)
            .next_token(&token)
            .send()
            .await
            .expect("backward");
        let next = p.next_backward_token().expect("never null").to_string();
        if next == token {
            assert!(p.events().is_empty());
            break;
        }
        pages.push(messages(p.events()));
        token = next;
        assert!(pages.len() < 10, "backward paging never ends");
    }
    assert_eq!(pages, [want[5..15].to_vec(), want[..5].to_vec()]);

    // A forward token from the end sees events appended later.
    let fwd = tail.next_forward_token().expect("token").to_string();
    let at_end = s()
        .next_token(&fwd)
        .start_from_head(true)
        .send()
        .await
        .expect("end");
    assert!(at_end.events().is_empty());
    assert_eq!(at_end.next_forward_token(), Some(fwd.as_str()));
    put(&c, "g", "s", vec![ev(NOW_MS, "late")]).await;
    let more = s()
        .next_token(&fwd)
        .start_from_head(true)
        .send()
        .await
        .expect("more");
    assert_eq!(messages(more.events()), ["late"]);

    let bad = s().next_token("garbage").send().await;
    assert_eq!(code(bad), "InvalidParameterException");
    let missing = get(&c, "nope").send().await;
    assert_eq!(code(missing), "ResourceNotFoundException");
}

#[tokio::test]
async fn get_log_events_time_window() {
    let (_emu, c) = setup();
    numbered_stream(&c, 10).await;
    // Event i is at NOW_MS - 100_000 + i * 1000; start inclusive, end exclusive.
    let p = get(&c, "s")
        .start_time(NOW_MS - 100_000 + 3000)
        .end_time(NOW_MS - 100_000 + 6000)
        .start_from_head(true)
        .send()
        .await
        .expect("window");
    assert_eq!(messages(p.events()), ["event 3", "event 4", "event 5"]);
    let e = &p.events()[0];
    assert_eq!(e.timestamp(), Some(NOW_MS - 97_000));
    assert_eq!(e.ingestion_time(), Some(NOW_MS));
}

#[tokio::test]
async fn retention_removes_old_events_as_the_clock_advances() {
    let (emu, c) = setup();
    group_with_stream(&c, "g", "s").await;
    put(
        &c,
        "g",
        "s",
        vec![ev(NOW_MS - 3 * DAY_MS, "three days old")],
    )
    .await;
    put(&c, "g", "s", vec![ev(NOW_MS, "fresh")]).await;
    retention(&c, "g", Some(1)).await.expect("retention");
    let get = || get(&c, "s").start_from_head(true).send();
    assert_eq!(messages(get().await.expect("get").events()), ["fresh"]);
    emu.clock.advance(2.0 * 86_400.0);
    assert!(get().await.expect("get").events().is_empty());
    let f = filter_in(&c, "g").send().await.expect("filter");
    assert!(f.events().is_empty());
}

async fn filter(c: &Client, pattern: &str) -> Vec<String> {
    let out = filter_in(c, "app")
        .filter_pattern(pattern)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{pattern}: {e:?}"));
    assert!(out.next_token().is_none());
    out.events()
        .iter()
        .filter_map(|e| e.message().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn filter_log_events_patterns() {
    let (_emu, c) = setup();
    group_with_stream(&c, "app", "web").await;
    create_stream(&c, "app", "worker").await.expect("stream");
    put(
        &c,
        "app",
        "web",
        vec![
            ev(NOW_MS - 5000, "ERROR 404 not found"),
            ev(NOW_MS - 3000, "INFO request served"),
            ev(NOW_MS - 1000, r#"{"level":"ERROR","code":500}"#),
        ],
    )
    .await;
    put(
        &c,
        "app",
        "worker",
        vec![
            ev(NOW_MS - 4000, "WARN disk almost full"),
            ev(NOW_MS - 2000, "ERROR job failed: timeout"),
        ],
    )
    .await;

    // Interleaved across streams in timestamp order.
    let all = filter_in(&c, "app").send().await.expect("all");
    let streams: Vec<_> = all
        .events()
        .iter()
        .filter_map(|e| e.log_stream_name())
        .collect();
    assert_eq!(streams, ["web", "worker", "web", "worker", "web"]);
    assert!(all.events().iter().all(|e| e.event_id().is_some()));
    assert!(
        all.searched_log_streams().is_empty(),
        "unsupported by AWS since 2020"
    );

    assert_eq!(
        filter(&c, "ERROR").await,
        [
            "ERROR 404 not found",
            "ERROR job failed: timeout",
            r#"{"level":"ERROR","code":500}"#
        ]
    );
    assert_eq!(filter(&c, "ERROR 404").await, ["ERROR 404 not found"]);
    assert_eq!(
        filter(&c, "error").await,
        Vec::<String>::new(),
        "case-sensitive"
    );
    assert_eq!(
        filter(&c, r#""job failed""#).await,
        ["ERROR job failed: timeout"]
    );
    assert_eq!(
        filter(&c, "?WARN ?INFO").await,
        ["WARN disk almost full", "INFO request served"]
    );
    assert_eq!(
        filter(&c, "ERROR -timeout -404").await,
        [r#"{"level":"ERROR","code":500}"#]
    );
    assert_eq!(
        filter(&c, r#"{ $.level = "ERROR" }"#).await,
        [r#"{"level":"ERROR","code":500}"#]
    );
    assert_eq!(
        filter(&c, r#"{ $.level = "ERROR" && $.code >= 500 }"#).await,
        [r#"{"level":"ERROR","code":500}"#]
    );

    let only_worker = filter_in(&c, "app")
        .log_stream_names("worker")
        .filter_pattern("ERROR")
        .send()
        .await
        .expect("by stream");
    assert_eq!(only_worker.events().len(), 1);
    let window = filter_in(&c, "app")
        .start_time(NOW_MS - 4000)
        .end_time(NOW_MS - 2000)
        .send()
        .await
        .expect("window");
    assert_eq!(window.events().len(), 2, "start inclusive, end exclusive");

    let bad = filter_in(&c, "app")
        .filter_pattern("{ $.level = ")
        .send()
        .await;
    assert_eq!(code(bad), "InvalidParameterException");
    let both = filter_in(&c, "app")
        .log_stream_names("web")
        .log_stream_name_prefix("w")
        .send()
        .await;
    assert_eq!(code(both), "InvalidParameterException");
    let missing = filter_in(&c, "nope").send().await;
    assert_eq!(code(missing), "ResourceNotFoundException");
}

#[tokio::test]
async fn filter_log_events_pages() {
    let (_emu, c) = setup();
    numbered_stream(&c, 30).await;
    let events = filter_in(&c, "g")
        .filter_pattern("event")
        .limit(7)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginate");
    assert_eq!(events.len(), 5, "pages of 7, 7, 7, 7, 2");
    let got: Vec<_> = events
        .iter()
        .flat_map(|p| p.events())
        .filter_map(|e| e.message())
        .collect();
    let want: Vec<String> = (0..30).map(|i| format!("event {i}")).collect();
    assert_eq!(got, want);

    // startFromHead=false on the first request: newest first, and the tokens keep that order.
    let newest_first = filter_in(&c, "g")
        .start_from_head(false)
        .limit(7)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginate descending");
    let got: Vec<_> = newest_first
        .iter()
        .flat_map(|p| p.events())
        .filter_map(|e| e.message())
        .collect();
    let reversed: Vec<_> = want.iter().rev().collect();
    assert_eq!(got, reversed);

    let first = filter_in(&c, "g").limit(7).send().await.expect("page");
    assert_eq!(first.events().len(), 7);
    let bad = filter_in(&c, "g").next_token("not-a-token").send().await;
    assert_eq!(code(bad), "InvalidParameterException");
}
