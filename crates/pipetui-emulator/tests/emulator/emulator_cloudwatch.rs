//! CloudWatch in the emulator: alarms that really evaluate on the manual clock, metric data and
//! statistics, dashboards — through the real SDK (RPC v2 CBOR, in process and over TCP) and as
//! raw awsQuery / JSON 1.0 requests; logs and alarms surviving a restart.

use std::sync::Arc;

use crate::common;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::operation::describe_alarms::builders::DescribeAlarmsFluentBuilder;
use aws_sdk_cloudwatch::operation::list_metrics::builders::ListMetricsFluentBuilder;
use aws_sdk_cloudwatch::operation::set_alarm_state::builders::SetAlarmStateFluentBuilder;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    AlarmType, ComparisonOperator, Dimension, DimensionFilter, HistoryItemType, Metric,
    MetricDataQuery, MetricDatum, MetricStat, StateValue, Statistic,
};

use common::code;

use pipetui_emulator::{Clock, Emulator, serve};

use common::START;
const T0: i64 = 1_767_225_600;

fn setup() -> (Arc<Emulator>, Client) {
    let emu = common::emulator();
    let client = Client::new(&common::sdk_config(&emu));
    (emu, client)
}

fn dim(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

/// One value of `App/Latency{Service=api}` at `T0 + offset` seconds.
fn datum(offset: i64, value: f64) -> MetricDatum {
    let d = MetricDatum::builder().metric_name("Latency").value(value);
    let d = d.dimensions(dim("Service", "api"));
    d.timestamp(DateTime::from_secs(T0 + offset)).build()
}

async fn put_data(c: &Client, data: Vec<MetricDatum>) {
    c.put_metric_data()
        .namespace("App")
        .set_metric_data(Some(data))
        .send()
        .await
        .expect("put data");
}

/// Latency ≥ 10 in 2 of the last 3 one-minute periods.
async fn put_alarm(c: &Client, name: &str) {
    c.put_metric_alarm()
        .alarm_name(name)
        .namespace("App")
        .metric_name("Latency")
        .dimensions(dim("Service", "api"))
        .statistic(Statistic::Maximum)
        .period(60)
        .evaluation_periods(3)
        .datapoints_to_alarm(2)
        .threshold(10.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .alarm_actions("arn:aws:sns:us-east-1:000000000000:pager")
        .send()
        .await
        .expect("put alarm");
}

async fn alarm(c: &Client, name: &str) -> aws_sdk_cloudwatch::types::MetricAlarm {
    let out = c
        .describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .expect("describe");
    out.metric_alarms().first().cloned().expect("alarm exists")
}

/// The names DescribeAlarms returns for `req`.
async fn names(req: DescribeAlarmsFluentBuilder) -> Vec<String> {
    let out = req.send().await.expect("describe");
    let alarms = out.metric_alarms().iter();
    alarms
        .filter_map(|a| a.alarm_name().map(str::to_string))
        .collect()
}

fn set_state(c: &Client, name: &str, state: StateValue, why: &str) -> SetAlarmStateFluentBuilder {
    let req = c.set_alarm_state().alarm_name(name);
    req.state_value(state).state_reason(why)
}

fn json(text: Option<&str>) -> serde_json::Value {
    serde_json::from_str(text.unwrap_or("null")).expect("JSON")
}

#[tokio::test]
async fn alarms_evaluate_metric_data_on_the_clock() {
    let (emu, c) = setup();
    put_alarm(&c, "latency").await;
    let a = alarm(&c, "latency").await;
    assert_eq!(a.state_value(), Some(&StateValue::InsufficientData));
    assert_eq!(a.threshold(), Some(10.0));
    assert_eq!(a.period(), Some(60));
    assert_eq!(
        a.alarm_arn(),
        Some("arn:aws:cloudwatch:us-east-1:000000000000:alarm:latency")
    );

    // Breaching in the first two periods, fine in the third.
    put_data(&c, vec![datum(10, 15.0), datum(70, 12.0), datum(130, 3.0)]).await;
    emu.clock.advance(181.0);
    let a = alarm(&c, "latency").await;
    assert_eq!(a.state_value(), Some(&StateValue::Alarm));
    let reason = a.state_reason().unwrap_or_default();
    assert!(reason.starts_with("Threshold Crossed"), "{reason}");
    assert!(reason.contains("(10.0)"), "{reason}");
    let data = json(a.state_reason_data());
    assert_eq!(
        data["recentDatapoints"],
        serde_json::json!([15.0, 12.0, 3.0])
    );

    // Three quiet periods bring it back to OK.
    put_data(&c, vec![datum(190, 1.0), datum(250, 2.0), datum(310, 3.0)]).await;
    emu.clock.advance(180.0);
    assert_eq!(
        alarm(&c, "latency").await.state_value(),
        Some(&StateValue::Ok)
    );

    let history = c
        .describe_alarm_history()
        .alarm_name("latency")
        .history_item_type(HistoryItemType::StateUpdate)
        .send()
        .await
        .expect("history");
    let summaries: Vec<_> = history
        .alarm_history_items()
        .iter()
        .filter_map(|h| h.history_summary())
        .collect();
    assert_eq!(
        summaries,
        [
            "Alarm updated from ALARM to OK",
            "Alarm updated from INSUFFICIENT_DATA to ALARM"
        ]
    );
    let times: Vec<_> = history
        .alarm_history_items()
        .iter()
        .filter_map(|h| h.timestamp())
        .collect();
    assert!(times[0] > times[1], "newest first");
    let data = json(history.alarm_history_items()[0].history_data());
    assert_eq!(data["oldState"]["stateValue"], "ALARM");
    let old_reason = data["oldState"]["stateReason"].as_str().unwrap_or_default();
    assert!(old_reason.starts_with("Threshold"), "{data}");
    assert_eq!(data["newState"]["stateValue"], "OK");
    let all = c
        .describe_alarm_history()
        .alarm_name("latency")
        .scan_by(aws_sdk_cloudwatch::types::ScanBy::TimestampAscending)
        .send()
        .await
        .expect("history");
    let first = &all.alarm_history_items()[0];
    assert_eq!(
        first.history_item_type(),
        Some(&HistoryItemType::ConfigurationUpdate)
    );
    assert_eq!(first.history_summary(), Some("Alarm \"latency\" created"));
}

#[tokio::test]
async fn missing_data_treated_as_breaching_alarms() {
    let (emu, c) = setup();
    c.put_metric_alarm()
        .alarm_name("heartbeat")
        .namespace("App")
        .metric_name("Heartbeat")
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(2)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::LessThanThreshold)
        .treat_missing_data("breaching")
        .send()
        .await
        .expect("put alarm");
    emu.clock.advance(121.0);
    let a = alarm(&c, "heartbeat").await;
    assert_eq!(a.state_value(), Some(&StateValue::Alarm));
    assert_eq!(a.treat_missing_data(), Some("breaching"));
}

#[tokio::test]
async fn describe_alarms_filters_and_pages() {
    let (_emu, c) = setup();
    for name in ["web-1", "web-2", "web-3", "db-1", "db-2"] {
        put_alarm(&c, name).await;
    }
    let by_hand = set_state(&c, "db-2", StateValue::Ok, "checked by hand");
    by_hand.send().await.expect("set state");

    let describe = || c.describe_alarms();
    let by_name = describe().alarm_names("web-2").alarm_names("db-1");
    assert_eq!(names(by_name).await, ["db-1", "web-2"]);
    let web = describe().alarm_name_prefix("web-");
    assert_eq!(names(web).await, ["web-1", "web-2", "web-3"]);
    assert_eq!(
        names(describe().state_value(StateValue::Ok)).await,
        ["db-2"]
    );
    assert_eq!(
        alarm(&c, "db-2").await.state_reason(),
        Some("checked by hand")
    );
    let composite = describe().alarm_types(AlarmType::CompositeAlarm);
    let composite = composite.send().await.expect("composite");
    assert!(composite.metric_alarms().is_empty() && composite.composite_alarms().is_empty());

    let first = c
        .describe_alarms()
        .max_records(2)
        .send()
        .await
        .expect("page");
    assert_eq!(first.metric_alarms().len(), 2);
    assert!(first.next_token().is_some());
    let pages = c
        .describe_alarms()
        .max_records(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginate");
    assert_eq!(pages.len(), 3);
    let all: Vec<_> = pages
        .iter()
        .flat_map(|p| p.metric_alarms())
        .filter_map(|a| a.alarm_name())
        .collect();
    assert_eq!(all, ["db-1", "db-2", "web-1", "web-2", "web-3"]);
    let bad = c.describe_alarms().next_token("bogus").send().await;
    assert_eq!(code(bad), "InvalidNextToken");
}

#[tokio::test]
async fn alarm_state_actions_and_deletion() {
    let (emu, c) = setup();
    put_alarm(&c, "a").await;
    let missing = set_state(&c, "nope", StateValue::Alarm, "x").send().await;
    assert_eq!(code(missing), "ResourceNotFound");
    let bad_json = set_state(&c, "a", StateValue::Alarm, "x").state_reason_data("{not json");
    assert_eq!(code(bad_json.send().await), "InvalidFormat");

    let set = set_state(&c, "a", StateValue::Alarm, "testing the pager");
    set.send().await.expect("set");
    let a = alarm(&c, "a").await;
    assert_eq!(a.state_value(), Some(&StateValue::Alarm));
    assert_eq!(a.state_reason(), Some("testing the pager"));
    // The next evaluation (a minute later) puts the metric's real state back.
    emu.clock.advance(60.0);
    let a = alarm(&c, "a").await;
    assert_eq!(a.state_value(), Some(&StateValue::InsufficientData));

    assert_eq!(a.actions_enabled(), Some(true));
    c.disable_alarm_actions()
        .alarm_names("a")
        .send()
        .await
        .expect("disable");
    assert_eq!(alarm(&c, "a").await.actions_enabled(), Some(false));
    c.enable_alarm_actions()
        .alarm_names("a")
        .send()
        .await
        .expect("enable");
    assert_eq!(alarm(&c, "a").await.actions_enabled(), Some(true));

    c.delete_alarms()
        .alarm_names("a")
        .send()
        .await
        .expect("delete");
    let left = c.describe_alarms().send().await.expect("describe");
    assert!(left.metric_alarms().is_empty());
    let history = c
        .describe_alarm_history()
        .alarm_name("a")
        .send()
        .await
        .expect("history survives deletion");
    assert!(!history.alarm_history_items().is_empty());
}

#[tokio::test]
async fn metric_statistics_data_and_listing() {
    let (emu, c) = setup();
    // 1..=10 in the first minute, 100 in the second.
    let mut data: Vec<_> = (1..=10).map(|v| datum(v, v as f64)).collect();
    data.push(datum(70, 100.0));
    put_data(&c, data).await;
    let errors = MetricDatum::builder().metric_name("Errors").value(4.0);
    put_data(&c, vec![errors.dimensions(dim("Service", "web")).build()]).await;
    emu.clock.advance(300.0);

    let stats = c
        .get_metric_statistics()
        .namespace("App")
        .metric_name("Latency")
        .dimensions(dim("Service", "api"))
        .start_time(DateTime::from_secs(T0))
        .end_time(DateTime::from_secs(T0 + 120))
        .period(60)
        .set_statistics(Some(vec![
            Statistic::Sum,
            Statistic::Average,
            Statistic::SampleCount,
            Statistic::Minimum,
            Statistic::Maximum,
        ]))
        .extended_statistics("p90")
        .send()
        .await
        .expect("statistics");
    let mut points = stats.datapoints().to_vec();
    points.sort_by_key(|p| p.timestamp().map(|t| t.secs()));
    assert_eq!(points.len(), 2);
    let p = &points[0];
    assert_eq!(p.timestamp(), Some(&DateTime::from_secs(T0)));
    assert_eq!(p.sum(), Some(55.0));
    assert_eq!(p.average(), Some(5.5));
    assert_eq!(p.sample_count(), Some(10.0));
    assert_eq!(p.minimum(), Some(1.0));
    assert_eq!(p.maximum(), Some(10.0));
    let p90 = p.extended_statistics().and_then(|e| e.get("p90")).copied();
    assert!(p90.is_some_and(|v| (9.0..=10.0).contains(&v)), "{p90:?}");
    assert_eq!(points[1].sum(), Some(100.0));

    let metric = Metric::builder().namespace("App").metric_name("Latency");
    let metric = metric.dimensions(dim("Service", "api")).build();
    let query = |id: &str, stat: &str| {
        let ms = MetricStat::builder().metric(metric.clone()).period(60);
        let q = MetricDataQuery::builder().id(id);
        q.metric_stat(ms.stat(stat).build()).build()
    };
    let out = c
        .get_metric_data()
        .metric_data_queries(query("sum", "Sum"))
        .metric_data_queries(query("max", "Maximum"))
        .start_time(DateTime::from_secs(T0))
        .end_time(DateTime::from_secs(T0 + 300))
        .send()
        .await
        .expect("metric data");
    let results = out.metric_data_results();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].id(), Some("sum"));
    assert_eq!(results[0].values(), [100.0, 55.0], "newest first");
    assert_eq!(
        results[0].timestamps(),
        [DateTime::from_secs(T0 + 60), DateTime::from_secs(T0)]
    );
    assert_eq!(results[1].id(), Some("max"));
    assert_eq!(results[1].values(), [100.0, 10.0]);

    let list = |ns: &str| c.list_metrics().namespace(ns);
    let metric_names = async |req: ListMetricsFluentBuilder| -> Vec<String> {
        let out = req.send().await.expect("list");
        let metrics = out.metrics().iter();
        metrics
            .filter_map(|m| m.metric_name().map(str::to_string))
            .collect()
    };
    let mut all = metric_names(list("App")).await;
    all.sort();
    assert_eq!(all, ["Errors", "Latency"]);
    let web = DimensionFilter::builder()
        .name("Service")
        .value("web")
        .build();
    assert_eq!(metric_names(list("App").dimensions(web)).await, ["Errors"]);
    assert!(metric_names(list("Other")).await.is_empty());
}

#[tokio::test]
async fn dashboards_put_get_list_delete() {
    let (_emu, c) = setup();
    let body = r#"{"widgets":[{"type":"text","x":0,"y":0,"width":6,"height":3,"properties":{"markdown":"hi"}}]}"#;
    let put = |name: &str, body: &str| c.put_dashboard().dashboard_name(name).dashboard_body(body);
    for name in ["ops", "team-a"] {
        put(name, body).send().await.expect("put");
    }
    assert_eq!(
        code(put("bad", "not json").send().await),
        "InvalidParameterInput"
    );
    let get = |name: &str| c.get_dashboard().dashboard_name(name).send();
    let got = get("ops").await.expect("get");
    assert_eq!(got.dashboard_body(), Some(body));
    assert_eq!(
        got.dashboard_arn(),
        Some("arn:aws:cloudwatch::000000000000:dashboard/ops")
    );
    let list = c.list_dashboards().send().await.expect("list");
    let names: Vec<_> = list
        .dashboard_entries()
        .iter()
        .filter_map(|d| d.dashboard_name())
        .collect();
    assert_eq!(names, ["ops", "team-a"]);
    c.delete_dashboards()
        .dashboard_names("ops")
        .send()
        .await
        .expect("delete");
    assert_eq!(code(get("ops").await), "ResourceNotFound");
    let list = c.list_dashboards().send().await.expect("list");
    assert_eq!(list.dashboard_entries().len(), 1);
}

#[tokio::test]
async fn sdk_over_tcp() {
    let emu = Emulator::in_memory(Clock::manual(START)).expect("emulator");
    let server = serve(emu, 0).await.expect("serve");
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(format!("http://{}", server.addr))
        .test_credentials()
        .load()
        .await;
    let c = Client::new(&conf);
    put_alarm(&c, "tcp").await;
    let a = alarm(&c, "tcp").await;
    assert_eq!(a.threshold(), Some(10.0));
    assert_eq!(a.state_value(), Some(&StateValue::InsufficientData));
    let gone = c.get_dashboard().dashboard_name("nope").send().await;
    assert_eq!(code(gone), "ResourceNotFound");

    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
    logs.create_log_group()
        .log_group_name("tcp")
        .send()
        .await
        .expect("group");
    let groups = logs.describe_log_groups().send().await.expect("describe");
    assert_eq!(groups.log_groups()[0].log_group_name(), Some("tcp"));
    server.abort();
}

/// One raw HTTP/1.1 POST to `/`; returns (status, head, body as text).
fn raw(addr: std::net::SocketAddr, headers: &[(&str, &str)], body: &str) -> (u16, String, String) {
    let (status, head, body) = common::raw(addr, "/", headers, body.as_bytes());
    (status, head, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_query_and_json_1_0() {
    let server = serve(
        Emulator::in_memory(Clock::manual(START)).expect("emulator"),
        0,
    )
    .await
    .expect("serve");
    let addr = server.addr;
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let json = |op: &'static str| {
        [
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Target", op),
        ]
    };
    let (put, query, json_alarms, json_err) = tokio::task::spawn_blocking(move || {
        let put = raw(
            addr,
            &form,
            "Action=PutMetricAlarm&Version=2010-08-01&AlarmName=q1&Namespace=App&MetricName=Errors\
             &Statistic=Sum&Period=60&EvaluationPeriods=1&Threshold=5\
             &ComparisonOperator=GreaterThanThreshold\
             &Dimensions.member.1.Name=Service&Dimensions.member.1.Value=api",
        );
        let query = raw(
            addr,
            &form,
            "Action=DescribeAlarms&Version=2010-08-01&AlarmNames.member.1=q1",
        );
        let json_alarms = raw(
            addr,
            &json("GraniteServiceVersion20100801.DescribeAlarms"),
            r#"{"AlarmNamePrefix":"q"}"#,
        );
        let json_err = raw(
            addr,
            &json("GraniteServiceVersion20100801.SetAlarmState"),
            r#"{"AlarmName":"nope","StateValue":"OK","StateReason":"x"}"#,
        );
        (put, query, json_alarms, json_err)
    })
    .await
    .expect("join");
    assert_eq!(put.0, 200, "{}", put.2);
    assert!(put.2.contains("<PutMetricAlarmResponse"), "{}", put.2);

    assert_eq!(query.0, 200);
    let xml = &query.2;
    assert!(xml.contains("<DescribeAlarmsResponse"), "{xml}");
    assert!(xml.contains("<DescribeAlarmsResult>"), "{xml}");
    assert!(xml.contains("<AlarmName>q1</AlarmName>"), "{xml}");
    assert!(
        xml.contains("<StateValue>INSUFFICIENT_DATA</StateValue>"),
        "{xml}"
    );
    assert!(xml.contains("<Threshold>5.0</Threshold>"), "{xml}");

    assert_eq!(json_alarms.0, 200);
    let v: serde_json::Value = serde_json::from_str(&json_alarms.2).expect("json");
    assert_eq!(v["MetricAlarms"][0]["AlarmName"], "q1");
    assert_eq!(v["MetricAlarms"][0]["Threshold"], 5.0);
    assert_eq!(v["MetricAlarms"][0]["Dimensions"][0]["Value"], "api");

    assert_eq!(json_err.0, 404);
    let head = json_err.1.to_ascii_lowercase();
    assert!(
        head.contains("x-amzn-query-error: resourcenotfound;sender"),
        "{}",
        json_err.1
    );
    let v: serde_json::Value = serde_json::from_str(&json_err.2).expect("json");
    assert_eq!(v["__type"], "ResourceNotFound");
    server.abort();
}

#[tokio::test]
async fn alarms_and_logs_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now_ms = T0 * 1000;
    {
        let emu = Emulator::open(dir.path(), Clock::manual(START)).expect("open");
        let conf = common::sdk_config(&emu);
        put_alarm(&Client::new(&conf), "kept").await;
        let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
        logs.create_log_group()
            .log_group_name("g")
            .send()
            .await
            .expect("group");
        logs.create_log_stream()
            .log_group_name("g")
            .log_stream_name("s")
            .send()
            .await
            .expect("stream");
        let event = aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
            .timestamp(now_ms)
            .message("before restart")
            .build()
            .expect("event");
        logs.put_log_events()
            .log_group_name("g")
            .log_stream_name("s")
            .log_events(event)
            .send()
            .await
            .expect("put");
    }
    let emu = Emulator::open(dir.path(), Clock::manual(START + 30.0)).expect("reopen");
    let conf = common::sdk_config(&emu);
    let a = alarm(&Client::new(&conf), "kept").await;
    assert_eq!(a.threshold(), Some(10.0));
    assert_eq!(a.evaluation_periods(), Some(3));
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
    let got = logs
        .get_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .send()
        .await
        .expect("get");
    let msgs: Vec<_> = got.events().iter().filter_map(|e| e.message()).collect();
    assert_eq!(msgs, ["before restart"]);
}
