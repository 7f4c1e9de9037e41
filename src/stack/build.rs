//! CodeBuild projects for `[build]`, `[test]` and `[image.build]`.

use serde_json::{Map, Value, json};

use super::{CICD, Ctx, ProjectSpec, Resource, fns, ids, network};
use crate::config::NameKind;

pub fn render(ctx: &mut Ctx<'_>) {
    for p in ctx.projects() {
        let project = project(ctx, &p);
        ctx.add(&p.project_id(), CICD, project);
    }
    if ctx.config.security.vpc.enabled && !ctx.projects().is_empty() {
        let sg = Resource::new(
            "AWS::EC2::SecurityGroup",
            json!({
                "GroupDescription": "pipetui builds: outbound only",
                "VpcId": fns::r#ref(network::VPC),
                "SecurityGroupEgress": [{ "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0", "Description": "builds fetch sources, dependencies and images over HTTPS" }],
            }),
        );
        ctx.add(ids::BUILD_SG, CICD, sg);
    }
}

/// The VPC the builds run in is given at deploy time.
fn project(ctx: &Ctx<'_>, p: &ProjectSpec<'_>) -> Resource {
    let b = p.settings;
    let mut vars: Vec<Value> = b
        .env
        .iter()
        .map(|(k, v)| json!({ "Name": k, "Type": "PLAINTEXT", "Value": v }))
        .collect();
    // Only the Secrets Manager reference goes into the template; CodeBuild resolves it at run time.
    // Validation refuses anything else; a value that is not a reference is never rendered.
    vars.extend(
        b.secrets
            .iter()
            .filter(|(_, r)| crate::config::references::is_secret_reference(r))
            .map(|(k, r)| json!({ "Name": k, "Type": "SECRETS_MANAGER", "Value": r })),
    );
    let custom_image = b.image.contains(".dkr.ecr.");
    let container = if b.image.contains("aarch64") {
        "ARM_CONTAINER"
    } else {
        "LINUX_CONTAINER"
    };
    let mut environment = json!({
        "Type": container,
        "ComputeType": b.compute_type.as_str(),
        "Image": b.image,
        "PrivilegedMode": b.privileged,
        "ImagePullCredentialsType": if custom_image { "SERVICE_ROLE" } else { "CODEBUILD" },
    });
    if !vars.is_empty() {
        environment["EnvironmentVariables"] = Value::Array(vars);
    }
    let cache = if b.docker_cache {
        json!({ "Type": "LOCAL", "Modes": ["LOCAL_DOCKER_LAYER_CACHE", "LOCAL_SOURCE_CACHE"] })
    } else {
        json!({ "Type": "NO_CACHE" })
    };
    let mut props = Map::new();
    props.insert(
        "Name".into(),
        json!(ctx.name(NameKind::CodeBuildProject, CICD, p.purpose)),
    );
    props.insert(
        "Description".into(),
        json!(format!(
            "{} stage of the {} pipeline",
            p.stage, ctx.config.project.service
        )),
    );
    props.insert(
        "ServiceRole".into(),
        fns::get_att(ids::CODEBUILD_ROLE, "Arn"),
    );
    props.insert(
        "Source".into(),
        json!({ "Type": "CODEPIPELINE", "BuildSpec": b.buildspec }),
    );
    props.insert("Artifacts".into(), json!({ "Type": "CODEPIPELINE" }));
    props.insert("Environment".into(), environment);
    props.insert("TimeoutInMinutes".into(), json!(b.timeout_minutes));
    props.insert("Cache".into(), cache);
    props.insert(
        "LogsConfig".into(),
        json!({
            "CloudWatchLogs": { "Status": "ENABLED", "GroupName": fns::r#ref(&p.log_group_id()) },
            "S3Logs": { "Status": "DISABLED" }
        }),
    );
    if ctx.customer_kms() {
        props.insert("EncryptionKey".into(), ctx.key_arn());
    }
    if ctx.config.security.vpc.enabled {
        props.insert(
            "VpcConfig".into(),
            json!({
                "VpcId": fns::r#ref(network::VPC),
                "Subnets": network::private_subnets(),
                "SecurityGroupIds": [fns::r#ref(ids::BUILD_SG)]
            }),
        );
    }
    if b.simulated {
        // The embedded emulator replays a simulated project's buildspec; AWS ignores the tag.
        props.insert(
            "Tags".into(),
            ctx.tags_with(CICD, &[("pipetui:simulated", "true")]),
        );
    }
    Resource::new("AWS::CodeBuild::Project", Value::Object(props))
}
