//! ECS blue/green targets: per environment a cluster, a Fargate task definition with its own log
//! group and execution role, and a service CodeDeploy controls behind the ALB's blue group.

use serde_json::json;

use super::deploy::ecs_names;
use super::iam::stmt;
use super::network::{self, APP_SG};
use super::{Ctx, Parameter, Resource, fns, ids, pascal};
use crate::config::{DeployTarget, Environment, NameKind};

pub fn cluster_id(env: &Environment) -> String {
    format!("{}EcsCluster", pascal(&env.name))
}

pub fn service_id(env: &Environment) -> String {
    format!("{}EcsService", pascal(&env.name))
}

pub fn task_id(env: &Environment) -> String {
    format!("{}TaskDefinition", pascal(&env.name))
}

pub fn exec_role_id(env: &Environment) -> String {
    format!("{}TaskExecutionRole", pascal(&env.name))
}

pub fn log_group_id(env: &Environment) -> String {
    format!("{}TaskLogGroup", pascal(&env.name))
}

pub fn render(ctx: &mut Ctx<'_>) {
    if ctx.config.deploy.target != DeployTarget::Ecs {
        return;
    }
    ctx.template.parameters.insert(
        "BootstrapImage".into(),
        Parameter {
            kind: "String".into(),
            description: "Image the services start with, listening on deploy.ecs.container_port; \
                          the first pipeline deployment replaces it"
                .into(),
            default: Some("public.ecr.aws/nginx/nginx:stable-alpine".into()),
            allowed_pattern: None,
        },
    );
    for env in ctx.home_envs() {
        environment(ctx, env);
    }
}

fn environment(ctx: &mut Ctx<'_>, env: &Environment) {
    let e = &ctx.config.deploy.ecs;
    let (cluster, service) = ecs_names(ctx, env);
    let logs = json!({
        "LogGroupName": ctx.name(NameKind::LogGroup, &env.name, "tasks"),
        "RetentionInDays": ctx.config.monitoring.log_retention_days,
    });
    let group = ctx.log_group(logs);
    ctx.add_for(&log_group_id(env), env, group);
    let mut s = vec![stmt(
        "WriteTaskLogs",
        &["logs:CreateLogStream", "logs:PutLogEvents"],
        vec![fns::get_att(&log_group_id(env), "Arn")],
    )];
    if ctx.config.image.enabled {
        s.push(stmt(
            "PullReleaseImages",
            &["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            vec![fns::get_att(ids::IMAGES, "Arn")],
        ));
        // GetAuthorizationToken is account-wide: it has no resource-level permissions.
        s.push(stmt(
            "EcrLogin",
            &["ecr:GetAuthorizationToken"],
            vec![json!("*")],
        ));
        if ctx.customer_kms() {
            s.push(stmt("DecryptImages", &["kms:Decrypt"], vec![ctx.key_arn()]));
        }
    }
    let role = super::iam::role(
        ctx,
        &env.name,
        "task-exec-role",
        json!("ecs-tasks.amazonaws.com"),
        s,
    );
    ctx.add_for(&exec_role_id(env), env, role);
    ctx.add_for(
        &cluster_id(env),
        env,
        Resource::new(
            "AWS::ECS::Cluster",
            json!({
                "ClusterName": cluster,
                "ClusterSettings": [{ "Name": "containerInsights", "Value": "enabled" }],
            }),
        ),
    );
    let task = Resource::new(
        "AWS::ECS::TaskDefinition",
        json!({
            "Family": service,
            "RequiresCompatibilities": ["FARGATE"],
            "NetworkMode": "awsvpc",
            "Cpu": "256",
            "Memory": "512",
            "ExecutionRoleArn": fns::get_att(&exec_role_id(env), "Arn"),
            "ContainerDefinitions": [{
                "Name": e.container_name,
                "Image": fns::r#ref("BootstrapImage"),
                "Essential": true,
                "PortMappings": [{ "ContainerPort": e.container_port, "Protocol": "tcp" }],
                "LogConfiguration": { "LogDriver": "awslogs", "Options": {
                    "awslogs-group": fns::r#ref(&log_group_id(env)),
                    "awslogs-region": fns::r#ref("AWS::Region"),
                    "awslogs-stream-prefix": e.container_name
                } }
            }],
        }),
    );
    ctx.add_for(&task_id(env), env, task);
    // Tasks pull images over the internet: through the NAT from private subnets, else from the
    // public subnets with a public address (the security group still admits only the ALB).
    let network_config = if ctx.config.security.vpc.nat_gateway {
        json!({ "AssignPublicIp": "DISABLED", "Subnets": network::private_subnets(), "SecurityGroups": [fns::r#ref(APP_SG)] })
    } else {
        let public: Vec<_> = network::PUBLIC_SUBNETS
            .iter()
            .map(|s| fns::r#ref(s))
            .collect();
        json!({ "AssignPublicIp": "ENABLED", "Subnets": public, "SecurityGroups": [fns::r#ref(APP_SG)] })
    };
    let svc = Resource::new(
        "AWS::ECS::Service",
        json!({
            "ServiceName": service,
            "Cluster": fns::r#ref(&cluster_id(env)),
            "TaskDefinition": fns::r#ref(&task_id(env)),
            "DesiredCount": 2,
            "LaunchType": "FARGATE",
            "DeploymentController": { "Type": "CODE_DEPLOY" },
            "LoadBalancers": [{
                "ContainerName": e.container_name,
                "ContainerPort": e.container_port,
                "TargetGroupArn": fns::r#ref(&network::target_group_id(env, "blue"))
            }],
            "NetworkConfiguration": { "AwsvpcConfiguration": network_config },
        }),
    )
    .depends_on(&network::prod_listener_id(env))
    .depends_on(&network::test_listener_id(env));
    ctx.add_for(&service_id(env), env, svc);
}
