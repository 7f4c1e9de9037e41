//! Helpers of the CodeDeploy tests: an emulator with its own fleet size and work directory,
//! the sample app packaged like its buildspec does, and SDK shortcuts.
// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_codedeploy::Client;
use aws_sdk_codedeploy::types::{
    Alarm, AlarmConfiguration, AppSpecContent, AutoRollbackConfiguration, AutoRollbackEvent,
    BundleType, DeploymentInfo, DeploymentStatus, DeploymentTarget, RevisionLocation,
    RevisionLocationType, S3Location,
};
use pipetui_emulator::engine::sample_app;
use pipetui_emulator::{Clock, Emulator, EngineSettings};

use super::common;
use super::common::START;

pub const APP: &str = "orders";
pub const GROUP: &str = "prod";
pub const ROLE: &str = "arn:aws:iam::000000000000:role/codedeploy";
pub const IN_PLACE: [&str; 7] = [
    "ApplicationStop",
    "DownloadBundle",
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
];

pub struct Fx {
    pub emu: Arc<Emulator>,
    pub cd: Client,
    _dir: tempfile::TempDir,
}

pub fn fixture(hosts: u32) -> Fx {
    let dir = tempfile::tempdir().expect("work dir");
    let mut settings = EngineSettings::new(dir.path().to_path_buf());
    settings.hosts_per_group = hosts;
    let emu = Emulator::in_memory_with(Clock::manual(START), settings).expect("emulator");
    let cd = Client::new(&common::sdk_config(&emu));
    Fx { emu, cd, _dir: dir }
}

/// The sample app packaged the way its buildspec does (dist/: orders.sh, scripts/, switches/,
/// appspec.yml, VERSION) as the S3 object `artifacts/<key>`, with `switches` turned on.
pub fn bundle(
    emu: &Emulator,
    key: &str,
    switches: &[&str],
    tweak: impl Fn(&Path),
) -> RevisionLocation {
    let dist = emu.settings.s3_dir("artifacts", key);
    package(&dist, key, switches).expect("package the sample app");
    tweak(&dist);
    s3_revision(key)
}

fn package(dist: &Path, key: &str, switches: &[&str]) -> std::io::Result<()> {
    let src = tempfile::tempdir()?;
    sample_app::write_files(src.path())?;
    std::fs::create_dir_all(dist.join("scripts"))?;
    std::fs::create_dir_all(dist.join("switches"))?;
    std::fs::copy(src.path().join("src/orders.sh"), dist.join("orders.sh"))?;
    for e in std::fs::read_dir(src.path().join("scripts"))? {
        let e = e?;
        std::fs::copy(e.path(), dist.join("scripts").join(e.file_name()))?;
    }
    std::fs::copy(src.path().join("appspec.yml"), dist.join("appspec.yml"))?;
    std::fs::write(dist.join("VERSION"), format!("{key}\n"))?;
    for s in switches {
        std::fs::write(dist.join("switches").join(s), "on\n")?;
    }
    Ok(())
}

pub fn s3_revision(key: &str) -> RevisionLocation {
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

pub fn rollback_on(events: &[AutoRollbackEvent]) -> AutoRollbackConfiguration {
    AutoRollbackConfiguration::builder()
        .enabled(true)
        .set_events(Some(events.to_vec()))
        .build()
}

pub async fn server_group(
    cd: &Client,
    config: &str,
    rollback: Option<AutoRollbackConfiguration>,
    alarm: Option<&str>,
) {
    cd.create_application()
        .application_name(APP)
        .send()
        .await
        .expect("create application");
    let mut g = cd
        .create_deployment_group()
        .application_name(APP)
        .deployment_group_name(GROUP)
        .service_role_arn(ROLE)
        .deployment_config_name(config)
        .set_auto_rollback_configuration(rollback);
    if let Some(a) = alarm {
        g = g.alarm_configuration(
            AlarmConfiguration::builder()
                .enabled(true)
                .alarms(Alarm::builder().name(a).build())
                .build(),
        );
    }
    g.send().await.expect("create deployment group");
}

pub async fn deploy(cd: &Client, rev: RevisionLocation) -> String {
    let out = cd
        .create_deployment()
        .application_name(APP)
        .deployment_group_name(GROUP)
        .revision(rev)
        .send()
        .await
        .expect("create deployment");
    out.deployment_id().expect("deployment id").to_string()
}

pub async fn info(cd: &Client, id: &str) -> DeploymentInfo {
    let out = cd
        .get_deployment()
        .deployment_id(id)
        .send()
        .await
        .expect("get deployment");
    out.deployment_info().expect("deployment info").clone()
}

/// Advances the clock `step` seconds at a time until the deployment ends or waits (Ready).
pub async fn run(fx: &Fx, id: &str, step: f64, max_secs: f64) -> DeploymentInfo {
    let mut waited = 0.0;
    loop {
        let d = info(&fx.cd, id).await;
        let s = d.status().expect("status").clone();
        let done = matches!(
            s,
            DeploymentStatus::Succeeded
                | DeploymentStatus::Failed
                | DeploymentStatus::Stopped
                | DeploymentStatus::Ready
        );
        if done || waited >= max_secs {
            return d;
        }
        fx.emu.clock.advance(step);
        waited += step;
        assert!(
            fx.emu.settle(Duration::from_secs(30)),
            "the emulator did not settle"
        );
    }
}

pub async fn targets(cd: &Client, id: &str) -> Vec<DeploymentTarget> {
    let ids = cd
        .list_deployment_targets()
        .deployment_id(id)
        .send()
        .await
        .expect("list targets");
    let out = cd
        .batch_get_deployment_targets()
        .deployment_id(id)
        .set_target_ids(Some(ids.target_ids().to_vec()))
        .send()
        .await
        .expect("batch get targets");
    out.deployment_targets().to_vec()
}

pub fn secs(t: Option<&aws_sdk_codedeploy::primitives::DateTime>) -> f64 {
    t.map(|t| t.as_secs_f64()).unwrap_or(f64::NAN)
}

pub fn host_dir(fx: &Fx, host: &str) -> PathBuf {
    fx.emu
        .settings
        .work_dir
        .join("hosts")
        .join(APP)
        .join(GROUP)
        .join(host)
}

pub fn inline_revision(content: &str) -> RevisionLocation {
    RevisionLocation::builder()
        .revision_type(RevisionLocationType::AppSpecContent)
        .app_spec_content(AppSpecContent::builder().content(content).build())
        .build()
}
