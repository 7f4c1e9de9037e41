//! Builds under control: timeouts on the emulated clock, StopBuild, simulated replays and what a
//! restart of the emulator does to running builds.

use std::time::Duration;

use aws_sdk_codebuild::types::{BuildPhaseType, ProjectSource, SourceType, StatusType, Tag};

use super::common::START;
use super::support::*;
use pipetui_emulator::{Clock, Emulator};

#[tokio::test]
async fn a_build_past_its_timeout_is_killed_and_timed_out() {
    let env = setup();
    inline_project(
        &env,
        "slow",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo sleeping\n      - sleep 611\n      - echo woke\n",
    )
    .await;
    let out = env
        .cb
        .start_build()
        .project_name("slow")
        .timeout_in_minutes_override(5)
        .send()
        .await
        .unwrap();
    let id = out.build_value().unwrap().id().unwrap().to_string();
    assert_eq!(out.build_value().unwrap().timeout_in_minutes(), Some(5));
    env.emu.clock.advance(301.0);
    let b = finished(&env, &id).await;
    assert_eq!(b.build_status(), Some(&StatusType::TimedOut));
    assert!(
        b.phases()
            .iter()
            .any(|p| p.phase_status() == Some(&StatusType::TimedOut))
    );
    assert!(!log_lines(&env, &b).await.contains(&"woke".to_string()));
    assert!(
        !process_alive(&["sleep", "611"]),
        "the whole process group is killed"
    );
}

#[tokio::test]
async fn stop_build_kills_the_process() {
    let env = setup();
    inline_project(
        &env,
        "stoppable",
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo going to sleep\n      - sleep 612\n      - echo woke\n",
    )
    .await;
    let id = start(&env, "stoppable").await;
    wait_for_line(&env.emu, &id, "Running command sleep 612");
    let running = get(&env, &id).await;
    assert_eq!(running.build_status(), Some(&StatusType::InProgress));
    assert_eq!(running.current_phase(), Some("BUILD"));
    let lines = log_lines(&env, &running).await;
    assert!(
        lines.contains(&"going to sleep".to_string()),
        "streamed while running"
    );
    let stopped = env.cb.stop_build().id(&id).send().await.unwrap();
    assert_eq!(stopped.build_value().unwrap().id(), Some(id.as_str()));
    let b = finished(&env, &id).await;
    assert_eq!(b.build_status(), Some(&StatusType::Stopped));
    assert_eq!(
        phase(&b, BuildPhaseType::Build).phase_status(),
        Some(&StatusType::Stopped)
    );
    assert!(!log_lines(&env, &b).await.contains(&"woke".to_string()));
    assert!(!process_alive(&["sleep", "612"]));
}

#[tokio::test]
async fn a_simulated_project_replays_its_buildspec_without_running_it() {
    let env = setup();
    let marker = env.work.join("marker");
    let spec = format!(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - touch {}\n      - echo built\n",
        marker.display()
    );
    env.cb
        .create_project()
        .name("sim")
        .source(
            ProjectSource::builder()
                .r#type(SourceType::NoSource)
                .buildspec(&spec)
                .build()
                .unwrap(),
        )
        .artifacts(no_artifacts())
        .environment(environment(vec![]))
        .service_role("arn:aws:iam::000000000000:role/build")
        .tags(
            Tag::builder()
                .key("pipetui:simulated")
                .value("true")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let id = start(&env, "sim").await;
    assert!(env.emu.settle(Duration::from_secs(10)));
    let b = get(&env, &id).await;
    assert_eq!(
        b.build_status(),
        Some(&StatusType::InProgress),
        "paced on the clock"
    );
    for _ in 0..60 {
        env.emu.clock.advance(1.0);
        assert!(env.emu.settle(Duration::from_secs(10)));
    }
    let b = get(&env, &id).await;
    assert_eq!(b.build_status(), Some(&StatusType::Succeeded));
    assert_eq!(phase_types(&b), ALL_PHASES);
    assert!(
        b.phases()[..10]
            .iter()
            .all(|p| p.phase_status() == Some(&StatusType::Succeeded))
    );
    assert!(!marker.exists(), "a simulated build runs nothing");
    let vars = b.environment().unwrap().environment_variables();
    assert!(
        vars.iter()
            .any(|v| v.name() == "PIPETUI_SIMULATED" && v.value() == "true")
    );
    let lines = log_lines(&env, &b).await;
    assert!(lines[0].contains("This build is SIMULATED"), "{lines:#?}");
    let touch = position(&lines, &format!("[simulated] touch {}", marker.display()));
    let echo = position(&lines, "[simulated] echo built");
    assert!(touch < echo);
    let secs = b.end_time().unwrap().secs() - b.start_time().unwrap().secs();
    assert!(
        secs >= 6,
        "two commands take a few emulated seconds each, took {secs}"
    );
}

#[tokio::test]
async fn a_build_running_when_the_emulator_stops_fails_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let (id, sim) = {
        let emu = Emulator::open(&state, Clock::manual(START)).unwrap();
        let env = clients(tempfile::tempdir().unwrap(), state.clone(), emu);
        env.cb
            .create_project()
            .name("replayed")
            .source(
                ProjectSource::builder()
                    .r#type(SourceType::NoSource)
                    .buildspec("version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\n")
                    .build()
                    .unwrap(),
            )
            .artifacts(no_artifacts())
            .environment(environment(vec![]))
            .service_role("r")
            .tags(
                Tag::builder()
                    .key("pipetui:simulated")
                    .value("true")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let sim = start(&env, "replayed").await;
        inline_project(
            &env,
            "long",
            "version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 600\n",
        )
        .await;
        let id = start(&env, "long").await;
        wait_for_line(&env.emu, &id, "Running command sleep 600");
        assert_eq!(
            get(&env, &id).await.build_status(),
            Some(&StatusType::InProgress)
        );
        (id, sim)
    };
    let emu = Emulator::open(&state, Clock::manual(START + 10.0)).unwrap();
    let env = clients(dir, state, emu);
    let b = get(&env, &id).await;
    assert_eq!(b.build_status(), Some(&StatusType::Failed), "{b:#?}");
    assert!(b.build_complete());
    let failed: Vec<_> = b
        .phases()
        .iter()
        .filter(|p| p.phase_status() == Some(&StatusType::Failed))
        .collect();
    assert_eq!(failed.len(), 1, "{:?}", b.phases());
    assert_eq!(failed[0].phase_type(), Some(&BuildPhaseType::Build));
    assert_eq!(
        failed[0].contexts()[0].message(),
        Some("Build interrupted: the emulator restarted while it was running")
    );
    assert_eq!(b.current_phase(), Some("COMPLETED"));
    let lines = log_lines(&env, &b).await;
    assert!(lines.iter().any(|l| l.contains("the emulator restarted")));

    // A simulated build has no process to lose: it carries on from its stored plan.
    assert_eq!(
        get(&env, &sim).await.build_status(),
        Some(&StatusType::InProgress)
    );
    for _ in 0..60 {
        env.emu.clock.advance(1.0);
        assert!(env.emu.settle(Duration::from_secs(10)));
    }
    assert_eq!(
        get(&env, &sim).await.build_status(),
        Some(&StatusType::Succeeded)
    );
}
