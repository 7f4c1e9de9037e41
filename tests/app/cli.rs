//! The real binary: exit codes of every command, `--help`, and config errors before any API call.

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config.example.toml")
}

/// The binary in an empty working directory with its own state and XDG dirs, so no
/// `./pipetui.toml` or user config of the machine can leak in.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("pipetui").expect("binary");
        c.current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("PIPETUI_STATE_DIR", self.dir.path().join("state"));
        c
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    }
}

#[test]
fn validate_accepts_the_example() {
    let s = Sandbox::new();
    s.cmd()
        .args(["validate", "--config"])
        .arg(example())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("is valid"))
        .stdout(predicate::str::contains("acme-orders-cicd-pipeline"));
    assert!(
        s.dir.path().join("state/pipetui.log").is_file(),
        "log file in the state dir"
    );
}

#[test]
fn validate_lists_all_three_mistakes_and_exits_2() {
    let s = Sandbox::new();
    let p = s.write(
        "pipetui.toml",
        "[project]\nservice = \"orders\"\n\n[deploy]\nstrategy = \"blue-gren\"\n\n[aws]\nregion = 12\n\n[[environments]]\nname = \"prod\"\naccount_id = \"12345\"\n",
    );
    let out = s
        .cmd()
        .arg("validate")
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    let file = p.file_name().and_then(|f| f.to_str()).unwrap_or_default();
    assert!(err.contains("3 configuration problems"), "{err}");
    assert!(
        err.contains(&format!(
            "{file}:5:12: deploy.strategy: unknown strategy \"blue-gren\""
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("{file}:8:10: aws.region: expected a string")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{file}:12:14: environments.0.account_id")),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn user_config_dir_is_found() {
    let s = Sandbox::new();
    std::fs::create_dir_all(s.dir.path().join("config/pipetui")).expect("dir");
    s.write(
        "config/pipetui/config.toml",
        "[project]\nservice = \"billing\"\n",
    );
    s.cmd()
        .arg("validate")
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "config/pipetui/config.toml is valid",
        ))
        .stdout(predicate::str::contains("acme").not())
        .stdout(predicate::str::contains("billing-cicd-pipeline"));
}

#[test]
fn environment_overrides_reach_the_binary() {
    let s = Sandbox::new();
    s.cmd()
        .args(["validate", "--config"])
        .arg(example())
        .env("PIPETUI_DEPLOY__STRATEGY", "blue-gren")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "environment variable PIPETUI_DEPLOY__STRATEGY: deploy.strategy: unknown strategy",
        ));
}

#[test]
fn missing_config_file_exits_2() {
    Sandbox::new()
        .cmd()
        .args(["validate", "--config", "nope.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read config file nope.toml",
        ));
}

#[test]
fn without_a_terminal_the_console_refuses_and_points_to_status() {
    let s = Sandbox::new();
    for args in [vec![], vec!["console"]] {
        s.cmd()
            .args(&args)
            .arg("--config")
            .arg(example())
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains("the console needs a terminal"))
            .stderr(predicate::str::contains("pipetui status"));
    }
}

#[test]
fn status_and_destroy_work_on_a_fresh_emulator() {
    let s = Sandbox::new();
    s.cmd()
        .args(["status", "--output", "json", "--config"])
        .arg(example())
        .assert()
        .success()
        .stdout(predicate::str::contains("\"pipelines\": []"))
        .stdout(predicate::str::contains("EMULATOR"));
    s.cmd()
        .args(["destroy", "--yes", "--no-tui", "--config"])
        .arg(example())
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "does not exist; nothing to delete",
        ));
}

#[test]
fn a_bad_config_stops_every_command_before_any_api_call() {
    let s = Sandbox::new();
    let bad = s.write(
        "bad.toml",
        "[project]\nservice = \"orders\"\n[aws]\nendpoint = \"aws\"\nregion = \"nowhere\"\n",
    );
    for cmd in [
        "init", "status", "destroy", "console", "template", "validate",
    ] {
        s.cmd()
            .arg(cmd)
            .arg("--config")
            .arg(&bad)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("bad.toml:5:10: aws.region"));
    }
}

#[test]
fn help_is_useful_on_every_command() {
    let s = Sandbox::new();
    s.cmd()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Log file:"))
        .stdout(predicate::str::contains("pipetui.log"))
        .stdout(predicate::str::contains("--read-only"))
        .stdout(predicate::str::contains("--endpoint-url"));
    for (args, text) in [
        (vec!["init", "--help"], "--no-tui"),
        (vec!["template", "--help"], "--output"),
        (vec!["validate", "--help"], "line:column"),
        (vec!["status", "--help"], "json"),
        (vec!["destroy", "--help"], "--yes"),
        (vec!["console", "--help"], "console"),
        (vec!["emulator", "serve", "--help"], "127.0.0.1"),
    ] {
        s.cmd()
            .args(&args)
            .assert()
            .code(0)
            .stdout(predicate::str::contains(text));
    }
}

#[test]
fn usage_errors_exit_2() {
    Sandbox::new().cmd().arg("--no-such-flag").assert().code(2);
    Sandbox::new()
        .cmd()
        .args(["status", "--output", "xml"])
        .assert()
        .code(2);
}

/// Starts `pipetui emulator serve` with `config` on a free port; returns the child and its URL.
fn start_emulator(s: &Sandbox, config: &std::path::Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    let bin = assert_cmd::cargo::cargo_bin("pipetui");
    let mut child = std::process::Command::new(bin)
        .args(["emulator", "serve", "--port", "0", "--config"])
        .arg(config)
        .env("PIPETUI_STATE_DIR", s.dir.path().join("state"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = String::new();
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = std::io::BufReader::new(stdout);
    reader.read_line(&mut first).expect("read");
    // Keep draining the server's output, as a terminal would.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_default()
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");
    (child, url)
}

async fn sdk_config(url: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(url)
        .test_credentials()
        .load()
        .await
}

/// `pipetui emulator serve` answers the real SDK on 127.0.0.1 and keeps its store in the state dir.
#[test]
fn emulator_serve_answers_the_sdk_on_loopback() {
    let s = Sandbox::new();
    let (mut child, url) = start_emulator(&s, &example());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let account = rt.block_on(async {
        let conf = sdk_config(&url).await;
        aws_sdk_sts::Client::new(&conf)
            .get_caller_identity()
            .send()
            .await
            .map(|o| o.account)
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(account.expect("identity").as_deref(), Some("000000000000"));
    assert!(s.dir.path().join("state/emulator.db").is_file());
}

/// An acknowledged write survives SIGKILL right after the answer, and a restart serves it.
#[test]
fn acknowledged_writes_survive_a_kill() {
    let s = Sandbox::new();
    let (mut child, url) = start_emulator(&s, &example());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk_config(&url).await);
        logs.create_log_group()
            .log_group_name("/durable")
            .send()
            .await
            .expect("create group");
        logs.create_log_stream()
            .log_group_name("/durable")
            .log_stream_name("s")
            .send()
            .await
            .expect("create stream");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis() as i64;
        let event = aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
            .timestamp(now)
            .message("kept")
            .build()
            .expect("event");
        logs.put_log_events()
            .log_group_name("/durable")
            .log_stream_name("s")
            .log_events(event)
            .send()
            .await
            .expect("put");
    });
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let (mut child, url) = start_emulator(&s, &example());
    let events = rt.block_on(async {
        let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk_config(&url).await);
        logs.get_log_events()
            .log_group_name("/durable")
            .log_stream_name("s")
            .start_from_head(true)
            .send()
            .await
    });
    let _ = child.kill();
    let _ = child.wait();
    let events = events.expect("events after restart");
    let got: Vec<&str> = events.events().iter().filter_map(|e| e.message()).collect();
    assert_eq!(got, ["kept"]);
}

/// Faults set in `[emulator.faults]` reach the SDK through `pipetui emulator serve`.
#[test]
fn configured_faults_throttle_the_standalone_emulator() {
    let s = Sandbox::new();
    let config = s.write(
        "faults.toml",
        "[project]\nservice = \"orders\"\n[emulator.faults.\"sts:GetCallerIdentity\"]\nthrottle = 1.0\n",
    );
    let (mut child, url) = start_emulator(&s, &config);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let result = rt.block_on(async {
        let conf = sdk_config(&url).await;
        let sts = aws_sdk_sts::Client::new(&conf);
        sts.get_caller_identity()
            .send()
            .await
            .map_err(|e| pipetui::aws::from_sdk("GetCallerIdentity", &url, e).to_string())
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(result.err().as_deref(), Some("Throttling: Rate exceeded"));
}

#[test]
fn fault_keys_and_probabilities_are_validated() {
    let s = Sandbox::new();
    let config = s.write(
        "faults.toml",
        "[project]\nservice = \"orders\"\n[emulator.faults.\"s3:GetObject\"]\nthrottle = 1.5\n",
    );
    s.cmd()
        .arg("validate")
        .arg("--config")
        .arg(&config)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "faults.toml:4:12: emulator.faults.s3:GetObject.throttle: 1.5 is not a probability",
        ));
    let config = s.write(
        "faults2.toml",
        "[project]\nservice = \"orders\"\n[emulator.faults.s3]\nthrottle = 0.5\n",
    );
    s.cmd()
        .arg("validate")
        .arg("--config")
        .arg(&config)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown service \"s3\" in a fault key",
        ));
}

/// The ECS example's template is over CloudFormation's 51,200-byte inline limit (which the
/// emulator enforces as AWS does): `init` stages it in the embedded emulator's S3 and creates the
/// stack from its `TemplateURL`, as `aws cloudformation deploy --s3-bucket` would on AWS.
#[test]
fn init_creates_a_stack_whose_template_is_over_the_inline_limit() {
    let s = Sandbox::new();
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("assets/examples/s3-ecs-bluegreen-kms-dashboard.toml");
    let out = s
        .cmd()
        .env("PIPETUI_EMULATOR__CLOCK_SPEED", "1000")
        .args(["template", "--config"])
        .arg(&config)
        .args(["--output", "t.json"])
        .output()
        .expect("template");
    assert!(out.status.success());
    let text = std::fs::read_to_string(s.dir.path().join("t.json")).expect("template file");
    let compact =
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&text).expect("json"))
            .expect("compact");
    assert!(compact.len() > 51_200, "{} bytes", compact.len());
    s.cmd()
        .env("PIPETUI_EMULATOR__CLOCK_SPEED", "1000")
        .args(["init", "--yes", "--no-tui", "--config"])
        .arg(&config)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("outputs:"));
    let staged = s.dir.path().join("state/s3/pipetui-templates");
    assert!(
        staged.is_dir(),
        "the template was staged in the emulator's S3"
    );
}

/// Whether `pid` runs (a zombie waiting to be reaped does not count).
fn process_runs(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit(')')
                .next()
                .map(|rest| rest.trim_start().to_string())
        })
        .is_some_and(|rest| !rest.starts_with('Z'))
}

/// A build's process outlives a kill -9 of `pipetui emulator serve`; the next `emulator serve`
/// on the same state dir kills the build's recorded process group.
#[test]
fn a_build_orphaned_by_kill_9_is_killed_when_the_emulator_restarts() {
    use aws_sdk_codebuild::types::{
        ArtifactsType, ComputeType, EnvironmentType, ProjectArtifacts, ProjectEnvironment,
        ProjectSource, SourceType,
    };
    let s = Sandbox::new();
    let pid_file = s.dir.path().join("build.pid");
    let (mut child, url) = start_emulator(&s, &example());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let cb = aws_sdk_codebuild::Client::new(&sdk_config(&url).await);
        let buildspec = format!(
            "version: 0.2\nphases:\n  build:\n    commands:\n      - sh -c 'echo $$ > {}; exec sleep 600'\n",
            pid_file.display()
        );
        let source = ProjectSource::builder()
            .r#type(SourceType::NoSource)
            .buildspec(buildspec);
        let environment = ProjectEnvironment::builder()
            .r#type(EnvironmentType::LinuxContainer)
            .image("aws/codebuild/standard:7.0")
            .compute_type(ComputeType::BuildGeneral1Small);
        let artifacts = ProjectArtifacts::builder().r#type(ArtifactsType::NoArtifacts);
        cb.create_project()
            .name("orphan")
            .source(source.build().expect("source"))
            .environment(environment.build().expect("environment"))
            .artifacts(artifacts.build().expect("artifacts"))
            .service_role("arn:aws:iam::000000000000:role/build")
            .send()
            .await
            .expect("create project");
        cb.start_build()
            .project_name("orphan")
            .send()
            .await
            .expect("start build");
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let pid = loop {
        let pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok());
        if let Some(pid) = pid {
            break pid;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the build never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        process_runs(pid),
        "the build outlives the emulator's kill -9"
    );
    let (mut child, _url) = start_emulator(&s, &example());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while process_runs(pid) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let orphan_left = process_runs(pid);
    let _ = child.kill();
    let _ = child.wait();
    if orphan_left {
        let _ = std::process::Command::new("kill")
            .arg(pid.to_string())
            .status();
    }
    assert!(
        !orphan_left,
        "the restarted emulator killed the orphaned build"
    );
}
