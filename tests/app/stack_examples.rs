//! Every scenario of assets/examples/ validates and renders the resources its name promises,
//! plus the emulator conventions the generator emits. (tests/template.rs runs the structural
//! checks — IAM scope, encryption, retention, names, tags — over these configs too.)

use std::path::PathBuf;

use pipetui::config::{Config, ConfigFile, load};
use pipetui::stack::{Template, try_render};
use serde_json::Value;

fn example(name: &str) -> Config {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("assets/examples")
        .join(name);
    match load(
        ConfigFile::Explicit(path.clone()),
        std::iter::empty(),
        &Default::default(),
    ) {
        Ok(l) => l.config,
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

fn render(name: &str) -> Value {
    let t: Template = try_render(&example(name)).expect("every name fits");
    t.to_value()
}

fn count(t: &Value, kind: &str) -> usize {
    t["Resources"]
        .as_object()
        .expect("resources")
        .values()
        .filter(|r| r["Type"] == kind)
        .count()
}

fn stage_names(t: &Value) -> Vec<String> {
    t["Resources"]["Pipeline"]["Properties"]["Stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| s["Name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn there_are_five_scenarios_and_each_renders() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/examples");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "codecommit-cross-account-rolling.toml",
            "ec2-codedeploy-vpc-secrets-notifier.toml",
            "five-stages-history-alarms.toml",
            "github-ecr-lambda-eventbridge.toml",
            "s3-ecs-bluegreen-kms-dashboard.toml",
        ]
    );
    for n in &names {
        let t = render(n);
        assert!(
            t["Resources"].as_object().expect("resources").len() > 20,
            "{n}"
        );
    }
}

#[test]
fn ec2_vpc_secrets_notifier() {
    let t = render("ec2-codedeploy-vpc-secrets-notifier.toml");
    assert_eq!(count(&t, "AWS::EC2::VPC"), 1);
    assert_eq!(count(&t, "AWS::EC2::Subnet"), 4);
    assert_eq!(count(&t, "AWS::EC2::NatGateway"), 1);
    assert_eq!(count(&t, "AWS::SecretsManager::Secret"), 1);
    let r = &t["Resources"];
    assert_eq!(r["NotifierFunction"]["Type"], "AWS::Lambda::Function");
    assert_eq!(
        r["BuildProject"]["Properties"]["VpcConfig"]["VpcId"]["Ref"],
        "Vpc"
    );
    assert!(t.get("Parameters").is_none_or(|p| p.get("VpcId").is_none()));
    let stages = stage_names(&t);
    let approval = stages.iter().position(|s| s == "Approval-production");
    let prod = stages.iter().position(|s| s == "Deploy-production");
    assert!(approval.is_some() && approval < prod, "{stages:?}");
    // The secret value is generated, never an output.
    let outputs = t["Outputs"].to_string();
    assert!(!outputs.contains("DatabaseSecret"));
}

#[test]
fn github_ecr_lambda_eventbridge() {
    let t = render("github-ecr-lambda-eventbridge.toml");
    let r = &t["Resources"];
    assert_eq!(
        r["DeployApplication"]["Properties"]["ComputePlatform"],
        "Lambda"
    );
    assert_eq!(count(&t, "AWS::Lambda::Alias"), 2);
    assert_eq!(count(&t, "AWS::ECR::Repository"), 1);
    let repo = &r["ImageRepository"]["Properties"];
    assert_eq!(repo["ImageTagMutability"], "IMMUTABLE");
    assert!(
        repo["LifecyclePolicy"]["LifecyclePolicyText"]
            .as_str()
            .expect("policy")
            .contains("\"countNumber\":30")
    );
    let rule = &r["PipelineEventsRule"]["Properties"];
    assert_eq!(rule["Targets"][0]["Arn"]["Ref"], "NotificationTopic");
    let kinds = rule["EventPattern"]["detail-type"].to_string();
    for k in ["Pipeline Execution", "Stage Execution", "Action Execution"] {
        assert!(kinds.contains(k), "{k} in {kinds}");
    }
    let source = &r["Pipeline"]["Properties"]["Stages"][0]["Actions"][0];
    assert_eq!(
        source["ActionTypeId"]["Provider"],
        "CodeStarSourceConnection"
    );
    // canary 10 % every 5 minutes is one of CodeDeploy's predefined Lambda configs.
    assert_eq!(
        r["StagingDeploymentGroup"]["Properties"]["DeploymentConfigName"],
        "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    );
    assert!(r.get("DeploymentConfig").is_none());
    let outputs = t["Outputs"].as_object().expect("outputs");
    for key in [
        "ImageRepositoryUri",
        "StagingDeployHandlerArn",
        "PipelineArn",
    ] {
        assert!(outputs.contains_key(key), "{key}");
    }
}

#[test]
fn codecommit_cross_account_rolling() {
    let t = render("codecommit-cross-account-rolling.toml");
    let r = &t["Resources"];
    let trigger = &r["SourceTriggerRule"]["Properties"]["EventPattern"];
    assert_eq!(trigger["detail"]["referenceName"][0], "release");
    let stages = r["Pipeline"]["Properties"]["Stages"]
        .as_array()
        .expect("stages");
    let deploy = |env: &str| {
        stages
            .iter()
            .find(|s| s["Name"] == format!("Deploy-{env}"))
            .expect("deploy stage")["Actions"][0]["RoleArn"]
            .to_string()
    };
    assert!(deploy("staging").contains("123456789012"));
    assert!(deploy("production").contains("987654321098"));
    let policy = r["ArtifactBucketPolicy"]["Properties"].to_string();
    assert!(policy.contains("123456789012") && policy.contains("987654321098"));
}

#[test]
fn five_stages_history_alarms() {
    let t = render("five-stages-history-alarms.toml");
    assert_eq!(
        stage_names(&t),
        [
            "Source",
            "Build",
            "Test",
            "Deploy-staging",
            "Deploy-production"
        ]
    );
    let table = &t["Resources"]["DeployHistoryTable"]["Properties"];
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert!(count(&t, "AWS::CloudWatch::Alarm") >= 6);
    assert_eq!(count(&t, "AWS::CloudWatch::Dashboard"), 0);
    // Deploy stages roll back at the pipeline level, since CodeDeploy's own rollback is off.
    for stage in t["Resources"]["Pipeline"]["Properties"]["Stages"]
        .as_array()
        .unwrap()
    {
        let name = stage["Name"].as_str().unwrap();
        let expected = name.starts_with("Deploy-").then_some("ROLLBACK");
        assert_eq!(stage["OnFailure"]["Result"].as_str(), expected, "{name}");
    }
    let group = &t["Resources"]["StagingDeploymentGroup"]["Properties"];
    assert!(group.get("AutoRollbackConfiguration").is_none());
}

#[test]
fn s3_ecs_bluegreen_kms_dashboard() {
    let t = render("s3-ecs-bluegreen-kms-dashboard.toml");
    let stages = stage_names(&t);
    assert_eq!(
        stages,
        [
            "Source",
            "Build",
            "Test",
            "Image",
            "Deploy-staging",
            "Approval-production",
            "Deploy-production"
        ]
    );
    assert_eq!(count(&t, "AWS::ECS::Service"), 2);
    assert_eq!(count(&t, "AWS::ElasticLoadBalancingV2::TargetGroup"), 4);
    assert_eq!(count(&t, "AWS::ElasticLoadBalancingV2::Listener"), 4);
    assert_eq!(count(&t, "AWS::CloudWatch::Dashboard"), 1);
    let group = &t["Resources"]["StagingDeploymentGroup"]["Properties"];
    let pair = &group["LoadBalancerInfo"]["TargetGroupPairInfoList"][0];
    assert_eq!(
        pair["ProdTrafficRoute"]["ListenerArns"][0]["Ref"],
        "StagingProdListener"
    );
    assert_eq!(
        pair["TestTrafficRoute"]["ListenerArns"][0]["Ref"],
        "StagingTestListener"
    );
    let svc = &t["Resources"]["StagingEcsService"]["Properties"];
    assert_eq!(svc["DeploymentController"]["Type"], "CODE_DEPLOY");
    // KMS everywhere: artifact store, logs, topic, table, secret, images.
    let r = &t["Resources"];
    assert!(!r["Pipeline"]["Properties"]["ArtifactStore"]["EncryptionKey"].is_null());
    assert_eq!(
        r["ImageRepository"]["Properties"]["EncryptionConfiguration"]["EncryptionType"],
        "KMS"
    );
    assert!(!r["DatabaseSecret"]["Properties"]["KmsKeyId"].is_null());
    // Only the load balancer is open to the internet, on the production port.
    let app = r["AppSecurityGroup"]["Properties"]["SecurityGroupIngress"].to_string();
    assert!(!app.contains("0.0.0.0/0"));
}

#[test]
fn emulator_conventions_are_tags() {
    let mut c = example("five-stages-history-alarms.toml");
    c.build.simulated = true;
    c.source.trigger = pipetui::config::Trigger::Manual;
    let t = try_render(&c).expect("render").to_value();
    let has = |id: &str, k: &str, v: &str| {
        t["Resources"][id]["Properties"]["Tags"]
            .as_array()
            .expect("tags")
            .iter()
            .any(|tag| tag["Key"] == k && tag["Value"] == v)
    };
    assert!(has("BuildProject", "pipetui:simulated", "true"));
    assert!(!has("TestProject", "pipetui:simulated", "true"));
    assert!(has("Pipeline", "pipetui:trigger", "manual"));
    assert!(has("Pipeline", "ManagedBy", "pipetui"));
}

#[test]
fn each_target_account_gets_its_deploy_role_template() {
    let c = example("codecommit-cross-account-rolling.toml");
    assert_eq!(
        pipetui::stack::target_accounts(&c),
        ["123456789012", "987654321098"]
    );
    let t = pipetui::stack::render_account(&c, "987654321098")
        .expect("render")
        .to_value();
    let r = t["Resources"].as_object().expect("resources");
    let action = &r["ProductionDeployActionRole"]["Properties"];
    // The name the pipeline's deploy action assumes, trusted by the pipeline role only.
    assert_eq!(action["RoleName"], "acme-ledger-production-deploy-role");
    let principal =
        action["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"].to_string();
    assert!(
        principal.contains("acme-ledger-cicd-pipeline-role"),
        "{principal}"
    );
    assert!(r.contains_key("ProductionDeploymentGroup"));
    assert!(
        !r.contains_key("StagingDeploymentGroup"),
        "staging is another account"
    );
    for (id, res) in r {
        for p in res["Properties"]["Policies"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for s in p["PolicyDocument"]["Statement"]
                .as_array()
                .expect("statements")
            {
                for a in s["Action"].as_array().expect("actions") {
                    let a = a.as_str().unwrap_or_default();
                    assert!(a != "*" && !a.ends_with(":*"), "{id}: {a}");
                }
            }
        }
    }
}

#[test]
fn template_to_a_directory_writes_the_account_templates() {
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("out/");
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("assets/examples/codecommit-cross-account-rolling.toml");
    assert_cmd::Command::cargo_bin("pipetui")
        .expect("binary")
        .env("PIPETUI_STATE_DIR", dir.path().join("state"))
        .args(["template", "--config"])
        .arg(&config)
        .arg("-o")
        .arg(format!("{}/", out.display()))
        .assert()
        .success();
    for f in [
        "stack.json",
        "deploy-account-123456789012.json",
        "deploy-account-987654321098.json",
    ] {
        let text = std::fs::read_to_string(out.join(f)).expect(f);
        let v: Value = serde_json::from_str(&text).expect("json");
        assert!(
            v["Resources"].as_object().is_some_and(|r| !r.is_empty()),
            "{f}"
        );
    }
}

#[test]
fn an_environment_in_another_region_gets_a_store_and_a_template_there() {
    let mut c = example("five-stages-history-alarms.toml");
    c.environments[1].region = Some("eu-west-1".into());
    let t = try_render(&c).expect("render").to_value();
    let p = &t["Resources"]["Pipeline"]["Properties"];
    assert!(p.get("ArtifactStore").is_none());
    let stores = p["ArtifactStores"].as_array().expect("stores");
    assert_eq!(stores.len(), 2);
    assert_eq!(stores[1]["Region"], "eu-west-1");
    assert_eq!(
        stores[1]["ArtifactStore"]["Location"],
        "acme-catalog-cicd-artifacts-eu-west-1"
    );
    let prod = p["Stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s["Name"] == "Deploy-production")
        .expect("stage");
    assert_eq!(prod["Actions"][0]["Region"], "eu-west-1");
    // Production's group lives in its region's template, not in the pipeline's stack.
    assert!(t["Resources"].get("ProductionDeploymentGroup").is_none());
    assert!(t["Resources"].get("StagingDeploymentGroup").is_some());
    assert_eq!(pipetui::stack::other_regions(&c), ["eu-west-1"]);
    let r = pipetui::stack::render_region(&c, "eu-west-1")
        .expect("region")
        .to_value();
    let res = r["Resources"].as_object().expect("resources");
    assert_eq!(
        res["RegionalArtifactBucket"]["Properties"]["BucketName"],
        "acme-catalog-cicd-artifacts-eu-west-1"
    );
    assert!(res.contains_key("ProductionDeploymentGroup"));
    assert!(!res.contains_key("StagingDeploymentGroup"));
}

fn of_type<'a>(t: &'a Value, kind: &str) -> Vec<(&'a String, &'a Value)> {
    t["Resources"]
        .as_object()
        .expect("resources")
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .collect()
}

/// Data outlives the stack exactly when an environment asks to retain its data; tables,
/// repositories and logs are encrypted; tables keep point-in-time recovery.
#[test]
fn every_scenario_keeps_data_encrypted_and_retained_as_configured() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/examples");
    for entry in std::fs::read_dir(dir).expect("dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .to_string();
        let c = example(&name);
        let t = render(&name);
        let retain = c.environments.iter().any(|e| e.retain_data);
        let expected = if retain { "Retain" } else { "Delete" };
        for kind in [
            "AWS::S3::Bucket",
            "AWS::DynamoDB::Table",
            "AWS::SecretsManager::Secret",
            "AWS::ECR::Repository",
            "AWS::KMS::Key",
        ] {
            for (id, r) in of_type(&t, kind) {
                assert_eq!(r["DeletionPolicy"], expected, "{name} {id}");
                assert_eq!(r["UpdateReplacePolicy"], expected, "{name} {id}");
            }
        }
        for (id, r) in t["Resources"].as_object().expect("resources") {
            let p = &r["DeletionPolicy"];
            assert!(
                p == "Delete" || p == "Retain",
                "{name} {id}: no DeletionPolicy"
            );
        }
        for (id, r) in of_type(&t, "AWS::DynamoDB::Table") {
            let p = &r["Properties"];
            assert_eq!(p["SSESpecification"]["SSEEnabled"], true, "{name} {id}");
            assert_eq!(
                p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true,
                "{name} {id}"
            );
        }
        for (id, r) in of_type(&t, "AWS::ECR::Repository") {
            let p = &r["Properties"];
            assert!(!p["EncryptionConfiguration"].is_null(), "{name} {id}");
            assert_eq!(
                p["ImageScanningConfiguration"]["ScanOnPush"], true,
                "{name} {id}"
            );
        }
        for (id, r) in of_type(&t, "AWS::Logs::LogGroup") {
            assert_eq!(
                r["Properties"]["RetentionInDays"], c.monitoring.log_retention_days,
                "{name} {id}"
            );
        }
    }
}
