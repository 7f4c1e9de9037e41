//! `init` and `destroy` end to end against the embedded emulator: in process through
//! `provision` on a manual clock, and the real binary with a fast clock.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use assert_cmd::Command;
use pipetui::aws::{ConnectionSettings, Endpoint, Session};
use pipetui::config::{self, ConfigFile, Overrides};
use pipetui::provision::{Operation, Outcome, Pace, Plan, Progress, Provisioner, stack_name};
use pipetui_emulator::{Clock, Emulator};
use predicates::prelude::*;
use serde_json::{Value, json};

const START: f64 = 1_767_225_600.0;

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config.example.toml")
}

fn example_config() -> pipetui::config::Config {
    let file = ConfigFile::Explicit(example());
    config::load(file, std::iter::empty(), &Overrides::default())
        .expect("example loads")
        .config
}

/// A session on an in-memory emulator whose clock moves 5 s before every poll.
fn session() -> (Arc<Emulator>, Session, Pace) {
    let emu = Emulator::in_memory(Clock::manual(START)).expect("emulator");
    let settings = ConnectionSettings {
        endpoint: Endpoint::Embedded,
        region: Some("us-east-1".into()),
        max_attempts: 1,
        ..Default::default()
    };
    let session = Session::embedded(emu.clone(), &settings);
    let clock = emu.clone();
    let pace = Pace {
        interval: Duration::from_millis(5),
        hook: Some(Arc::new(move || clock.clock.advance(5.0))),
    };
    (emu, session, pace)
}

fn body(template: &Value) -> String {
    serde_json::to_string(template).expect("json")
}

async fn apply(prov: &Provisioner, template: &str) -> (Outcome, Vec<String>) {
    let plan = match prov.plan(template).await.expect("plan") {
        Plan::Changes(p) => p,
        other => panic!("expected changes, got {other:?}"),
    };
    let mut lines = Vec::new();
    let outcome = prov
        .execute(&plan, |_p: &Progress, e| {
            if let Some(e) = e {
                lines.push(format!("{} {}", e.logical_id, e.status));
            }
        })
        .await
        .expect("execute");
    (outcome, lines)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_creates_reports_up_to_date_updates_and_destroys() {
    let config = example_config();
    let name = stack_name(&config);
    assert_eq!(name, "acme-orders-cicd-stack");
    let template = pipetui::stack::render(&config).to_value();
    let resources = template["Resources"].as_object().expect("resources").len();
    let (_emu, session, pace) = session();
    let prov = Provisioner::new(&session.clients, &name).with_pace(pace);

    let (created, lines) = apply(&prov, &body(&template)).await;
    let p = &created.progress;
    assert_eq!(p.operation, Operation::Create);
    assert_eq!(p.stack_status.as_deref(), Some("CREATE_COMPLETE"));
    assert!(created.succeeded());
    let counts = p.counts();
    assert_eq!((counts.total, counts.complete), (resources, resources));
    assert!(p.rows.iter().all(|r| r.elapsed(p.latest).is_some()));
    assert!(lines.contains(&"Pipeline CREATE_COMPLETE".to_string()));
    let outputs: Vec<&str> = created.outputs.iter().map(|o| o.0.as_str()).collect();
    for key in [
        "PipelineName",
        "PipelineArn",
        "PipelineConsoleUrl",
        "ArtifactBucketName",
    ] {
        assert!(outputs.contains(&key), "{key} in {outputs:?}");
    }

    // Nothing changed: the change set is empty and init says so.
    assert_eq!(
        prov.plan(&body(&template)).await.expect("plan"),
        Plan::UpToDate
    );

    // A changed alarm threshold is one modification, no replacement.
    let mut changed = template.clone();
    changed["Resources"]["StagingErrorRateAlarm"]["Properties"]["Threshold"] = json!(7.5);
    match prov.plan(&body(&changed)).await.expect("plan") {
        Plan::Changes(plan) => {
            assert_eq!(plan.operation, Operation::Update);
            assert_eq!(plan.changes.len(), 1, "{:?}", plan.changes);
            assert_eq!(plan.changes[0].action, "Modify");
            assert_eq!(plan.changes[0].logical_id, "StagingErrorRateAlarm");
            assert_eq!(plan.summary(), "0 to add, 1 to modify, 0 to remove");
            let done = prov.execute(&plan, |_, _| {}).await.expect("update");
            assert_eq!(
                done.progress.stack_status.as_deref(),
                Some("UPDATE_COMPLETE")
            );
        }
        other => panic!("expected one change, got {other:?}"),
    }

    let gone = prov
        .destroy(|_, _| {})
        .await
        .expect("destroy")
        .expect("stack");
    let p = &gone.progress;
    assert_eq!(p.stack_status.as_deref(), Some("DELETE_COMPLETE"));
    assert_eq!(p.counts().pending, 0, "{:?}", p.rows);
    // Retained data (production has retain_data) is skipped, not deleted.
    let skipped: Vec<&str> = p
        .rows
        .iter()
        .filter(|r| r.status == "DELETE_SKIPPED")
        .map(|r| r.logical_id.as_str())
        .collect();
    assert!(skipped.contains(&"ArtifactBucket"), "{skipped:?}");
    assert!(prov.destroy(|_, _| {}).await.expect("destroy").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_resource_is_named_with_its_reason_and_the_stack_is_recreated() {
    let config = example_config();
    let name = stack_name(&config);
    let mut template = pipetui::stack::render(&config).to_value();
    // An alarm without EvaluationPeriods: the emulator fails it as CloudFormation does.
    template["Resources"]["BrokenAlarm"] = json!({
        "Type": "AWS::CloudWatch::Alarm",
        "DependsOn": "ArtifactBucket",
        "Properties": { "Namespace": "App", "MetricName": "Errors", "Statistic": "Sum",
            "Period": 60, "Threshold": 1, "ComparisonOperator": "GreaterThanThreshold" }
    });
    let (_emu, session, pace) = session();
    let prov = Provisioner::new(&session.clients, &name).with_pace(pace);
    let (failed, _) = apply(&prov, &body(&template)).await;
    assert!(!failed.succeeded());
    assert_eq!(
        failed.progress.stack_status.as_deref(),
        Some("ROLLBACK_COMPLETE")
    );
    let first = failed
        .progress
        .first_failure
        .clone()
        .expect("first failure");
    assert_eq!(first.logical_id, "BrokenAlarm");
    assert_eq!(first.status, "CREATE_FAILED");
    assert!(
        first.reason.contains("EvaluationPeriods"),
        "reason: {}",
        first.reason
    );
    assert!(failed.outputs.is_empty());
    // The rollback removed what the failed creation had made.
    let rolled_back = failed
        .progress
        .rows
        .iter()
        .filter(|r| r.status == "DELETE_COMPLETE");
    assert!(rolled_back.count() > 0, "{:?}", failed.progress.rows);
    assert_eq!(failed.progress.counts().in_progress, 0);

    // A stack in ROLLBACK_COMPLETE can only be deleted and created again.
    assert_eq!(
        prov.plan(&body(&template)).await.expect("plan"),
        Plan::Recreate {
            status: "ROLLBACK_COMPLETE".into()
        }
    );
    let deleted = prov
        .destroy(|_, _| {})
        .await
        .expect("delete")
        .expect("stack");
    assert!(deleted.succeeded());
    let good = pipetui::stack::render(&config).to_value();
    let (created, _) = apply(&prov, &body(&good)).await;
    assert_eq!(
        created.progress.stack_status.as_deref(),
        Some("CREATE_COMPLETE")
    );
}

fn binary(state: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("pipetui").expect("binary");
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", state)
        .env("XDG_CONFIG_HOME", state.join("config"))
        .env("PIPETUI_STATE_DIR", state.join("state"))
        .env("PIPETUI_EMULATOR__CLOCK_SPEED", "1000")
        .arg("--config")
        .arg(example());
    c
}

#[test]
fn the_binary_inits_the_example_then_reports_up_to_date_then_destroys() {
    let dir = tempfile::tempdir().expect("temp dir");
    binary(dir.path())
        .args(["init", "--yes", "--no-tui"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("+ Add    Pipeline"))
        .stdout(
            predicate::str::contains("CREATE_COMPLETE").and(predicate::str::contains(
                "Pipeline (AWS::CodePipeline::Pipeline)",
            )),
        )
        .stdout(predicate::str::contains(
            "stack acme-orders-cicd-stack CREATE_COMPLETE in",
        ))
        .stdout(
            predicate::str::contains("PipelineName")
                .and(predicate::str::contains("acme-orders-cicd-pipeline")),
        );
    binary(dir.path())
        .args(["init", "--yes", "--no-tui"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "Stack acme-orders-cicd-stack is up to date",
        ));
    // Without a terminal and without --yes nothing is deleted.
    binary(dir.path())
        .args(["destroy", "--no-tui"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("pass --yes"));
    binary(dir.path())
        .args(["destroy", "--yes", "--no-tui"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "stack acme-orders-cicd-stack DELETE_COMPLETE",
        ))
        .stdout(predicate::str::contains("retained (DeletionPolicy Retain)"));
    binary(dir.path())
        .args(["destroy", "--yes", "--no-tui"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("does not exist"));
}

#[test]
fn init_without_a_terminal_or_yes_refuses_and_read_only_refuses() {
    let dir = tempfile::tempdir().expect("temp dir");
    binary(dir.path())
        .args(["init", "--no-tui"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("pass --yes"));
    binary(dir.path())
        .args(["--read-only", "init", "--yes", "--no-tui"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("read-only"));
}

/// The real binary in a pseudo-terminal that answers cursor-position queries like a terminal.
struct Pty {
    parser: std::sync::Arc<std::sync::Mutex<vt100::Parser>>,
    /// The main screen as last seen before the console switched to the alternate screen.
    main: std::sync::Arc<std::sync::Mutex<String>>,
    writer: std::sync::Arc<std::sync::Mutex<Box<dyn std::io::Write + Send>>>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Pty {
    fn spawn(state: &std::path::Path, args: &[&str]) -> Pty {
        use portable_pty::{CommandBuilder, PtySize, native_pty_system};
        use std::io::{Read, Write};
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 60,
                cols: 140,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_pipetui"));
        cmd.env_clear();
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        cmd.env("HOME", state);
        cmd.env("TERM", "xterm-256color");
        cmd.env("PIPETUI_STATE_DIR", state.join("state"));
        cmd.env("PIPETUI_EMULATOR__CLOCK_SPEED", "1000");
        cmd.arg("--config");
        cmd.arg(example());
        for a in args {
            cmd.arg(a);
        }
        let child = pair.slave.spawn_command(cmd).expect("spawn");
        drop(pair.slave);
        let mut out = pair.master.try_clone_reader().expect("reader");
        let writer = std::sync::Arc::new(std::sync::Mutex::new(
            pair.master.take_writer().expect("writer"),
        ));
        let parser = std::sync::Arc::new(std::sync::Mutex::new(vt100::Parser::new(60, 140, 0)));
        let main = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (p, w, r) = (parser.clone(), writer.clone(), main.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut parser = p.lock().expect("parser");
                parser.process(&buf[..n]);
                if !parser.screen().alternate_screen() {
                    *r.lock().expect("main") = parser.screen().contents();
                }
                drop(parser);
                if buf[..n].windows(4).any(|w| w == b"\x1b[6n") {
                    let _ = w.lock().expect("writer").write_all(b"\x1b[1;1R");
                }
            }
        });
        Pty {
            parser,
            main,
            writer,
            child,
            _master: pair.master,
        }
    }

    fn screen(&self) -> String {
        self.parser.lock().expect("parser").screen().contents()
    }

    fn wait_for(&mut self, text: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no {text:?} on screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn keys(&self, keys: &str) {
        use std::io::Write;
        let mut w = self.writer.lock().expect("writer");
        w.write_all(keys.as_bytes()).expect("write");
        w.flush().expect("flush");
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[test]
fn in_a_terminal_init_asks_then_draws_the_progress_view_and_the_outputs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut t = Pty::spawn(dir.path(), &["init"]);
    t.wait_for("Execute this change set? [y/N]");
    t.keys("y\r");
    // Then the console opens on the new pipeline, over the progress view and the outputs.
    t.wait_for("acme-orders-cicd-pipeline");
    let text = t.main.lock().expect("main").clone();
    for expected in [
        "Creating stack acme-orders-cicd-stack",
        "41/41",
        "0 pending · 0 in progress · 41 complete",
        "CREATE_COMPLETE",
        "outputs:",
        "PipelineConsoleUrl",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
}

#[tokio::test]
async fn a_template_over_the_inline_limit_is_refused_on_aws_with_the_way_out() {
    // Clients that say "real AWS" (here wired to an emulator, which is never called).
    let emu = Emulator::in_memory(Clock::manual(START)).expect("emulator");
    let settings = ConnectionSettings {
        endpoint: Endpoint::Embedded,
        region: Some("us-east-1".into()),
        ..Default::default()
    };
    let sdk = pipetui::aws::embedded_sdk_config(emu, &settings);
    let target = pipetui::aws::Target::Aws {
        profile: None,
        region: "us-east-1".into(),
    };
    let clients = pipetui::aws::Clients::new(&sdk, target);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("assets/examples/s3-ecs-bluegreen-kms-dashboard.toml");
    let config = config::load(
        ConfigFile::Explicit(path),
        std::iter::empty(),
        &Overrides::default(),
    )
    .expect("loads")
    .config;
    let template = body(&pipetui::stack::render(&config).to_value());
    assert!(template.len() > pipetui::provision::MAX_INLINE_TEMPLATE);
    let err = Provisioner::new(&clients, &stack_name(&config))
        .plan(&template)
        .await
        .expect_err("too large for TemplateBody");
    let text = err.to_string();
    assert!(text.contains("at most 51200 bytes"), "{text}");
    assert!(text.contains("S3"), "{text}");
}
