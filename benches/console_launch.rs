//! The real `pipetui` binary in a pseudo-terminal against the embedded emulator holding 50
//! finished pipelines: (a) launch to the first frame showing every pipeline name (median of
//! `RUNS` launches); (b) 30 s idle with nothing changing: redraws, bytes written to the
//! terminal and CPU time. Prints the figures; asserts nothing about speed.
// A bench is a test-like program: a failed unwrap is the bench failing.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_codepipeline::Client;
use aws_sdk_codepipeline::types::{
    ActionCategory, ActionDeclaration, ActionOwner, ActionTypeId, ApprovalResult, ApprovalStatus,
    ArtifactStore, ArtifactStoreType, OutputArtifact, PipelineDeclaration, PipelineType,
    StageDeclaration,
};
use pipetui::aws::{ConnectionSettings, Endpoint, embedded_sdk_config};
use pipetui_emulator::{Clock, Emulator};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const PIPELINES: usize = 50;
const RUNS: usize = 10;
const IDLE: Duration = Duration::from_secs(30);
/// Tall enough that all 50 rows are on screen at once.
const ROWS: u16 = 60;
const COLS: u16 = 120;

fn name(i: usize) -> String {
    format!("bench-pipeline-{i:02}")
}

fn action(name: &str, category: ActionCategory, provider: &str) -> ActionDeclaration {
    let id = ActionTypeId::builder()
        .category(category)
        .owner(ActionOwner::Aws)
        .provider(provider)
        .version("1")
        .build()
        .unwrap();
    ActionDeclaration::builder()
        .name(name)
        .action_type_id(id)
        .run_order(1)
        .build()
        .unwrap()
}

/// Source (CodeCommit, the bundled sample app) → a manual approval.
fn declaration(name: &str) -> PipelineDeclaration {
    let mut source = action("Source", ActionCategory::Source, "CodeCommit");
    source.configuration = Some(
        [("RepositoryName", "orders"), ("BranchName", "main")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    source.output_artifacts = Some(vec![
        OutputArtifact::builder()
            .name("SourceOutput")
            .build()
            .unwrap(),
    ]);
    let approve = action("Approve", ActionCategory::Approval, "Manual");
    let stage = |n: &str, a: ActionDeclaration| {
        StageDeclaration::builder()
            .name(n)
            .actions(a)
            .build()
            .unwrap()
    };
    PipelineDeclaration::builder()
        .name(name)
        .role_arn("arn:aws:iam::000000000000:role/pipeline")
        .artifact_store(
            ArtifactStore::builder()
                .r#type(ArtifactStoreType::S3)
                .location("artifacts")
                .build()
                .unwrap(),
        )
        .pipeline_type(PipelineType::V2)
        .stages(stage("Source", source))
        .stages(stage("Approval", approve))
        .build()
        .unwrap()
}

/// 50 pipelines through the SDK, each release approved, so nothing is left to change.
fn populate(dir: &Path) {
    let emu = Emulator::open(dir, Clock::Real).unwrap();
    let settings = ConnectionSettings {
        endpoint: Endpoint::Embedded,
        region: Some("us-east-1".into()),
        max_attempts: 1,
        ..Default::default()
    };
    let client = Client::new(&embedded_sdk_config(emu.clone(), &settings));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for i in 0..PIPELINES {
            client
                .create_pipeline()
                .pipeline(declaration(&name(i)))
                .send()
                .await
                .unwrap();
        }
    });
    assert!(
        emu.settle(Duration::from_secs(120)),
        "releases reach the approval"
    );
    rt.block_on(async {
        for i in 0..PIPELINES {
            let state = client
                .get_pipeline_state()
                .name(name(i))
                .send()
                .await
                .unwrap();
            let token = state
                .stage_states()
                .iter()
                .flat_map(|s| s.action_states())
                .find_map(|a| a.latest_execution()?.token().map(str::to_string))
                .unwrap_or_else(|| panic!("{} has no waiting approval", name(i)));
            let result = ApprovalResult::builder()
                .summary("bench")
                .status(ApprovalStatus::Approved)
                .build()
                .unwrap();
            client
                .put_approval_result()
                .pipeline_name(name(i))
                .stage_name("Approval")
                .action_name("Approve")
                .token(token)
                .result(result)
                .send()
                .await
                .unwrap();
        }
    });
    assert!(emu.settle(Duration::from_secs(120)), "releases finish");
}

struct Run {
    first_frame: Duration,
    idle_bytes: u64,
    idle_cpu: Duration,
    redraws: u64,
}

/// CPU time (user + system) of `pid` so far, from /proc/<pid>/stat.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

/// The `redraws=` count of the last "console closed" line in the state dir's log.
fn last_redraws(dir: &Path) -> u64 {
    let log = std::fs::read_to_string(dir.join("pipetui.log")).unwrap_or_default();
    log.lines()
        .rev()
        .find(|l| l.contains("console closed"))
        .and_then(|l| l.split("redraws=").nth(1))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no redraw count in the log"))
}

/// Launches the console, waits for every pipeline name, stays `idle`, quits with `q`.
fn run(dir: &Path, config: &Path, idle: Duration) -> Run {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_pipetui"));
    cmd.arg("--config");
    cmd.arg(config);
    cmd.cwd(dir);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("PIPETUI_") || k == "NO_COLOR") {
        cmd.env_remove(k);
    }
    cmd.env("PIPETUI_STATE_DIR", dir);
    cmd.env("TERM", "xterm-256color");
    let names: Vec<String> = (0..PIPELINES).map(name).collect();
    let parser = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
    let bytes = Arc::new(AtomicU64::new(0));
    let complete: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let start = Instant::now();
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let pid = child.process_id().unwrap();
    let mut out = pair.master.try_clone_reader().unwrap();
    let writer = Arc::new(Mutex::new(pair.master.take_writer().unwrap()));
    let reader = {
        let (parser, bytes, complete, writer) = (
            parser.clone(),
            bytes.clone(),
            complete.clone(),
            writer.clone(),
        );
        std::thread::spawn(move || {
            let mut buf = [0u8; 64 * 1024];
            while let Ok(n @ 1..) = out.read(&mut buf) {
                let chunk = &buf[..n];
                bytes.fetch_add(n as u64, Ordering::Relaxed);
                let mut p = parser.lock().unwrap();
                p.process(chunk);
                if chunk.windows(4).any(|w| w == b"\x1b[6n") {
                    let _ = writer.lock().unwrap().write_all(b"\x1b[1;1R");
                }
                let mut done = complete.lock().unwrap();
                if done.is_none() {
                    let screen = p.screen().contents();
                    if names.iter().all(|n| screen.contains(n.as_str())) {
                        *done = Some(Instant::now());
                    }
                }
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    let first_frame = loop {
        if let Some(t) = *complete.lock().unwrap() {
            break t - start;
        }
        assert!(
            Instant::now() < deadline,
            "no complete frame; screen:\n{}",
            parser.lock().unwrap().screen().contents()
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    // Let the launch's own follow-up frames land before the idle window opens.
    std::thread::sleep(Duration::from_secs(2));
    let screen = parser.lock().unwrap().screen().contents();
    let finished = screen
        .lines()
        .filter(|l| l.contains("bench-pipeline-") && l.contains("Succeeded"))
        .count();
    assert_eq!(finished, PIPELINES, "every release finished:\n{screen}");
    let (bytes0, cpu0) = (bytes.load(Ordering::Relaxed), cpu_time(pid));
    std::thread::sleep(idle);
    let (bytes1, cpu1) = (bytes.load(Ordering::Relaxed), cpu_time(pid));
    {
        let mut w = writer.lock().unwrap();
        w.write_all(b"q").unwrap();
        w.flush().unwrap();
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    drop(pair.master);
    let _ = reader.join();
    Run {
        first_frame,
        idle_bytes: bytes1 - bytes0,
        idle_cpu: cpu1.saturating_sub(cpu0),
        redraws: last_redraws(dir),
    }
}

fn main() {
    // `cargo test --benches` runs benches once as tests: too slow for that; bench runs only.
    if !std::env::args().any(|a| a == "--bench") {
        println!("console_launch: run with `cargo bench --bench console_launch`");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let setup = Instant::now();
    populate(dir.path());
    println!(
        "setup: {PIPELINES} pipelines created and released in {:.1}s",
        setup.elapsed().as_secs_f64()
    );
    let config = dir.path().join("bench.toml");
    std::fs::write(&config, "[project]\nservice = \"orders\"\n").unwrap();

    let mut launches: Vec<Duration> = (0..RUNS)
        .map(|_| run(dir.path(), &config, Duration::ZERO).first_frame)
        .collect();
    launches.sort();
    let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
    println!(
        "console/launch_to_first_complete_frame_{PIPELINES}_pipelines: median {:.0} ms \
         (min {:.0}, max {:.0}, {RUNS} runs)",
        ms(&launches[RUNS / 2]),
        ms(&launches[0]),
        ms(&launches[RUNS - 1])
    );

    // Redraws during the idle window: a run that idles minus one that quits at once.
    let quick = run(dir.path(), &config, Duration::ZERO);
    let idle = run(dir.path(), &config, IDLE);
    println!(
        "console/idle_{}s: {} redraws ({} with the idle window, {} without), {} bytes to the \
         terminal, {:.0} ms CPU ({:.2}% of one core)",
        IDLE.as_secs(),
        idle.redraws.saturating_sub(quick.redraws),
        idle.redraws,
        quick.redraws,
        idle.idle_bytes,
        ms(&idle.idle_cpu),
        idle.idle_cpu.as_secs_f64() / IDLE.as_secs_f64() * 100.0
    );
}
