//! Processes a crashed emulator left running: killed by the next one on the same state.

use std::time::{Duration, Instant};

use aws_sdk_codedeploy::types::{Alarm, AlarmConfiguration, DeploymentStatus};

use super::{no_artifacts, persistent, project};
use crate::codedeploy_support::bundle;
use crate::common::{self, START};
use pipetui_emulator::{Clock, Emulator, EngineSettings};

/// Whether `pid` runs (a zombie waiting for its reaper does not).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().to_string())
        })
        .is_some_and(|rest| !rest.starts_with('Z') && !rest.starts_with('X'))
}

/// Kills a process the test started should the test fail before the emulator does.
struct Reap(u32);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-9", &self.0.to_string()])
            .status();
    }
}

#[tokio::test]
async fn a_build_left_running_by_a_crashed_emulator_is_killed_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let pid_file = dir.path().join("sleep.pid");
    let env = persistent(&state);
    let spec = format!(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - 'sleep 600 & echo $! > {}; wait'\n",
        pid_file.display()
    );
    project(&env, "orphan", &spec, no_artifacts())
        .await
        .unwrap();
    env.cb
        .start_build()
        .project_name("orphan")
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let pid = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "the build never started sleep");
        std::thread::sleep(Duration::from_millis(20));
    };
    let _reap = Reap(pid);
    assert!(running(pid));
    // kill -9: the emulator never gets to stop its builds.
    std::mem::forget(env.emu.clone());
    let reopened = Emulator::open_with(
        &state,
        Clock::manual(START + 10.0),
        EngineSettings::new(state.clone()),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while running(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!running(pid), "the old build's sleep still runs");
    drop(reopened);
}

#[tokio::test]
async fn a_hook_left_running_by_a_crashed_emulator_is_killed_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let pid_file = dir.path().join("hook.pid");
    let settings = || {
        let mut s = EngineSettings::new(state.clone());
        s.hosts_per_group = 1;
        s
    };
    let emu = Emulator::open_with(&state, Clock::manual(START), settings()).unwrap();
    let cd = aws_sdk_codedeploy::Client::new(&common::sdk_config(&emu));
    cd.create_application()
        .application_name("hooks")
        .send()
        .await
        .unwrap();
    cd.create_deployment_group()
        .application_name("hooks")
        .deployment_group_name("g")
        .service_role_arn("r")
        .send()
        .await
        .unwrap();
    let script = format!("sleep 600 &\necho $! > {}\nwait\n", pid_file.display());
    let rev = bundle(&emu, "hooks/v1", &[], |d| {
        std::fs::write(d.join("scripts/before_install.sh"), &script).unwrap()
    });
    cd.create_deployment()
        .application_name("hooks")
        .deployment_group_name("g")
        .revision(rev)
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let pid = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "the hook never started sleep");
        emu.clock.advance(1.0);
        // The hook keeps running, so this never settles: it only ticks for a moment.
        emu.settle(Duration::from_millis(50));
    };
    let _reap = Reap(pid);
    assert!(running(pid));
    std::mem::forget(emu);
    let reopened = Emulator::open_with(&state, Clock::manual(START + 60.0), settings()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while running(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!running(pid), "the old deployment's hook still runs");
    drop(reopened);
}

#[tokio::test]
async fn a_health_check_that_never_ends_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("health.pid");
    let mut settings = EngineSettings::new(dir.path().join("work"));
    settings.hosts_per_group = 1;
    let emu = Emulator::in_memory_with(Clock::manual(START), settings).unwrap();
    let cd = aws_sdk_codedeploy::Client::new(&common::sdk_config(&emu));
    cd.create_application()
        .application_name("probe")
        .send()
        .await
        .unwrap();
    // An alarm gives the deployment a bake window, during which the hosts' health is checked.
    let cw = aws_sdk_cloudwatch::Client::new(&common::sdk_config(&emu));
    cw.put_metric_alarm()
        .alarm_name("probe-errors")
        .namespace("Probe")
        .metric_name("Errors")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap();
    cd.create_deployment_group()
        .application_name("probe")
        .deployment_group_name("g")
        .service_role_arn("r")
        .alarm_configuration(
            AlarmConfiguration::builder()
                .enabled(true)
                .alarms(Alarm::builder().name("probe-errors").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let script = format!("sleep 600 &\necho $! > {}\nwait\n", pid_file.display());
    let rev = bundle(&emu, "probe/v1", &[], |d| {
        std::fs::write(d.join("scripts/health_check.sh"), &script).unwrap()
    });
    let id = cd
        .create_deployment()
        .application_name("probe")
        .deployment_group_name("g")
        .revision(rev)
        .send()
        .await
        .unwrap()
        .deployment_id()
        .unwrap()
        .to_string();
    for _ in 0..600 {
        emu.clock.advance(1.0);
        // A tick holding on to the health check forever would never come back from here.
        assert!(emu.settle(Duration::from_secs(60)));
        let d = cd.get_deployment().deployment_id(&id).send().await.unwrap();
        let status = d.deployment_info().unwrap().status().unwrap().clone();
        assert!(
            matches!(
                status,
                DeploymentStatus::Created | DeploymentStatus::InProgress
            ),
            "{status:?}"
        );
        if pid_file.exists() {
            break;
        }
    }
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let _reap = Reap(pid);
    let deadline = Instant::now() + Duration::from_secs(10);
    while running(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!running(pid), "the health check's sleep still runs");
}
