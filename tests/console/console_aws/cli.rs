//! The aws CLI equivalents of operations for each target, and the transition-reason rule —
//! pure functions, no emulator.

use pipetui::aws::{Target, ops};
use pipetui::model::Operation;

const PIPELINE: &str = "acme-orders-pipeline";

#[test]
fn cli_equivalents_name_the_target() {
    let op = Operation::StartExecution {
        pipeline: PIPELINE.into(),
    };
    assert_eq!(
        ops::cli_command(&op, &Target::Emulator),
        format!(
            "aws codepipeline start-pipeline-execution --name {PIPELINE} \
             --endpoint-url http://127.0.0.1:4566"
        )
    );
    let aws = Target::Aws {
        profile: Some("ops admin".into()),
        region: "eu-west-1".into(),
    };
    assert_eq!(
        ops::cli_command(&op, &aws),
        format!(
            "aws codepipeline start-pipeline-execution --name {PIPELINE} \
             --region eu-west-1 --profile 'ops admin'"
        )
    );
    let default = Target::Aws {
        profile: None,
        region: "us-east-1".into(),
    };
    assert!(ops::cli_command(&op, &default).ends_with("--region us-east-1"));
    let local = Target::Endpoint {
        url: "http://localhost:4566".into(),
        region: "us-east-1".into(),
    };
    assert!(
        ops::cli_command(&op, &local)
            .ends_with("--endpoint-url http://localhost:4566 --region us-east-1")
    );
    let stop = Operation::StopDeployment {
        deployment_id: "d-ABC123".into(),
        auto_rollback: true,
    };
    assert_eq!(
        ops::cli_command(&stop, &default),
        "aws deploy stop-deployment --deployment-id d-ABC123 --auto-rollback-enabled \
         --region us-east-1"
    );
}

#[test]
fn transition_reasons_are_validated_like_the_api() {
    assert_eq!(ops::transition_reason_problem("Release freeze (Q4)!"), None);
    assert!(
        ops::transition_reason_problem("")
            .unwrap()
            .contains("required")
    );
    assert!(
        ops::transition_reason_problem(&"x".repeat(301))
            .unwrap()
            .contains("300")
    );
    assert!(
        ops::transition_reason_problem("freeze; rm -rf")
            .unwrap()
            .contains("\";\"")
    );
}
