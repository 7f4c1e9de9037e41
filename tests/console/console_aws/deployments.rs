//! Deployment reads and StopDeployment against the emulated CodeDeploy fleet running the
//! sample app's hooks.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_codedeploy::types::{
    AutoRollbackConfiguration, AutoRollbackEvent, BundleType, RevisionLocation,
    RevisionLocationType, S3Location,
};
use pipetui::aws::{Clients, Target, ops, reads};
use pipetui::model::{Deployment, Operation, Status};
use pipetui_emulator::engine::sample_app;
use pipetui_emulator::{Clock, Emulator, EngineSettings};

use super::service_code;
use crate::common::{self, START};

const APP: &str = "orders";
const GROUP: &str = "production";

struct Fleet {
    emu: Arc<Emulator>,
    clients: Clients,
    _dir: tempfile::TempDir,
}

async fn fleet(hosts: u32) -> Fleet {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = EngineSettings::new(dir.path().to_path_buf());
    settings.hosts_per_group = hosts;
    let emu = Emulator::in_memory_with(Clock::manual(START), settings).unwrap();
    let clients = Clients::new(&common::sdk_config(&emu), Target::Emulator);
    let cd = &clients.codedeploy;
    cd.create_application()
        .application_name(APP)
        .send()
        .await
        .unwrap();
    cd.create_deployment_group()
        .application_name(APP)
        .deployment_group_name(GROUP)
        .service_role_arn("arn:aws:iam::000000000000:role/codedeploy")
        .deployment_config_name("CodeDeployDefault.OneAtATime")
        .auto_rollback_configuration(
            AutoRollbackConfiguration::builder()
                .enabled(true)
                .events(AutoRollbackEvent::DeploymentFailure)
                .build(),
        )
        .send()
        .await
        .unwrap();
    Fleet {
        emu,
        clients,
        _dir: dir,
    }
}

/// The sample app packaged as `artifacts/<key>` with `switches` turned on.
fn bundle(emu: &Emulator, key: &str, switches: &[&str]) -> RevisionLocation {
    let src = tempfile::tempdir().unwrap();
    sample_app::write_files(src.path()).unwrap();
    let dist = emu.settings.s3_dir("artifacts", key);
    std::fs::create_dir_all(dist.join("scripts")).unwrap();
    std::fs::create_dir_all(dist.join("switches")).unwrap();
    std::fs::copy(src.path().join("src/orders.sh"), dist.join("orders.sh")).unwrap();
    for e in std::fs::read_dir(src.path().join("scripts")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dist.join("scripts").join(e.file_name())).unwrap();
    }
    std::fs::copy(src.path().join("appspec.yml"), dist.join("appspec.yml")).unwrap();
    std::fs::write(dist.join("VERSION"), format!("{key}\n")).unwrap();
    for s in switches {
        std::fs::write(dist.join("switches").join(s), "on\n").unwrap();
    }
    RevisionLocation::builder()
        .revision_type(RevisionLocationType::S3)
        .s3_location(
            S3Location::builder()
                .bucket("artifacts")
                .key(key)
                .bundle_type(BundleType::Zip)
                .build(),
        )
        .build()
}

async fn deploy(f: &Fleet, key: &str, switches: &[&str]) -> String {
    let out = f
        .clients
        .codedeploy
        .create_deployment()
        .application_name(APP)
        .deployment_group_name(GROUP)
        .revision(bundle(&f.emu, key, switches))
        .send()
        .await
        .unwrap();
    out.deployment_id().unwrap().to_string()
}

/// Moves the clock a second at a time until the deployment ends (or `max_secs` pass).
async fn run(f: &Fleet, id: &str, max_secs: u32) -> Deployment {
    for _ in 0..max_secs {
        let d = reads::deployment(&f.clients, id).await.unwrap();
        if !d.status.is_active() {
            return d;
        }
        f.emu.clock.advance(1.0);
        assert!(
            f.emu.settle(Duration::from_secs(30)),
            "the emulator settled"
        );
    }
    reads::deployment(&f.clients, id).await.unwrap()
}

#[tokio::test]
async fn a_failed_deployment_reads_with_each_hosts_hooks_and_diagnostics() {
    let f = fleet(3).await;
    let good = deploy(&f, "v1", &[]).await;
    let d = run(&f, &good, 120).await;
    assert_eq!(d.status, Status::Succeeded);
    assert_eq!(d.overview.succeeded, 3);
    assert_eq!(d.targets.len(), 3);
    let hooks: Vec<_> = d.targets[0]
        .lifecycle
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(
        hooks,
        [
            "ApplicationStop",
            "DownloadBundle",
            "BeforeInstall",
            "Install",
            "AfterInstall",
            "ApplicationStart",
            "ValidateService"
        ]
    );
    assert!(
        d.targets[0]
            .lifecycle
            .iter()
            .all(|e| e.duration_secs().is_some())
    );

    let bad = deploy(&f, "v2", &["fail-hook"]).await;
    let d = run(&f, &bad, 120).await;
    assert_eq!(d.status, Status::Failed);
    assert_eq!(d.application, APP);
    assert_eq!(d.group, GROUP);
    assert_eq!(d.error.as_ref().unwrap().code, "HEALTH_CONSTRAINTS");
    let failed = d
        .targets
        .iter()
        .find(|t| t.status == Status::Failed)
        .expect("one host failed");
    assert_eq!(failed.kind, "InstanceTarget");
    let validate = failed
        .lifecycle
        .iter()
        .find(|e| e.name == "ValidateService")
        .unwrap();
    assert_eq!(validate.status, Status::Failed);
    let diag = validate.diagnostics.as_ref().unwrap();
    assert_eq!(diag.error_code.as_deref(), Some("ScriptFailed"));
    assert_eq!(diag.script_name.as_deref(), Some("scripts/validate.sh"));
    assert!(
        diag.log_tail
            .as_deref()
            .unwrap()
            .contains("switches/fail-hook is present")
    );
    let rollback = d.rollback.as_ref().unwrap();
    let rb = rollback
        .rollback_deployment_id
        .clone()
        .expect("an automatic rollback");
    let rb = run(&f, &rb, 120).await;
    assert_eq!(rb.status, Status::Succeeded);
    assert_eq!(rb.creator.as_deref(), Some("codeDeployRollback"));
    assert_eq!(
        rb.rollback.unwrap().triggering_deployment_id.as_deref(),
        Some(bad.as_str())
    );

    let err = reads::deployment(&f.clients, "d-NOPE00000")
        .await
        .unwrap_err();
    assert_eq!(
        service_code(&err),
        "DeploymentDoesNotExistException",
        "{err}"
    );
}

#[tokio::test]
async fn stop_deployment_stops_and_rolls_back() {
    let f = fleet(3).await;
    let good = deploy(&f, "v1", &[]).await;
    run(&f, &good, 120).await;
    let id = deploy(&f, "v2", &[]).await;
    run(&f, &id, 3).await;
    let stop = Operation::StopDeployment {
        deployment_id: id.clone(),
        auto_rollback: true,
    };
    let notice = ops::run(&f.clients, &stop).await.unwrap();
    assert!(
        notice.starts_with(&format!("Stopping and rolling back deployment {id}")),
        "{notice}"
    );
    let d = reads::deployment(&f.clients, &id).await.unwrap();
    assert_eq!(d.status, Status::Stopped);
    assert_eq!(d.error.as_ref().unwrap().code, "MANUAL_STOP");
    let rb = d.rollback.unwrap().rollback_deployment_id.unwrap();
    assert_eq!(run(&f, &rb, 120).await.status, Status::Succeeded);

    let err = ops::run(&f.clients, &stop).await.unwrap_err();
    assert_eq!(service_code(&err), "DeploymentAlreadyCompletedException");
}
