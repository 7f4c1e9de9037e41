//! The generated network: a VPC with public and private subnets over two AZs, an optional NAT
//! gateway, security groups with the least ingress, and per environment the ALB with two target
//! groups and its production and test listeners when the deployment needs one.

use serde_json::{Value, json};

use super::access_logs::LOAD_BALANCER_PREFIX;
use super::deploy::{alb_name, target_group};
use super::{CICD, Ctx, Resource, fns, ids, pascal};
use crate::config::{DeployTarget, Environment, LoadBalancer};

pub const VPC: &str = "Vpc";
pub const PUBLIC_SUBNETS: [&str; 2] = ["PublicSubnetA", "PublicSubnetB"];
pub const PRIVATE_SUBNETS: [&str; 2] = ["PrivateSubnetA", "PrivateSubnetB"];
pub const APP_SG: &str = "AppSecurityGroup";
pub const ALB_SG: &str = "LoadBalancerSecurityGroup";
/// Production traffic without a certificate (`plain_http`, or a non-production environment),
/// and with one the port that only redirects to HTTPS.
pub const PROD_PORT: u16 = 80;
/// Production traffic when the environment names an ACM certificate.
pub const HTTPS_PORT: u16 = 443;
/// TLS 1.3 and 1.2 only (the Elastic Load Balancing policy AWS recommends).
const TLS_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";
/// The test listener CodeDeploy routes the replacement tasks to before the switch.
pub const TEST_PORT: u16 = 9000;

/// A VPC exists when the config asks for one, or a load balancer or ECS service needs it.
pub fn needed(ctx: &Ctx<'_>) -> bool {
    ctx.config.security.vpc.enabled || needs_alb(ctx)
}

/// ECS blue/green always runs behind an ALB; EC2 does when `load_balancer = "alb"`.
pub fn needs_alb(ctx: &Ctx<'_>) -> bool {
    let d = &ctx.config.deploy;
    d.target == DeployTarget::Ecs
        || (d.target == DeployTarget::Ec2 && d.load_balancer == LoadBalancer::Alb)
}

/// The port the application listens on behind the load balancer.
pub fn app_port(ctx: &Ctx<'_>) -> u16 {
    if ctx.config.deploy.target == DeployTarget::Ecs {
        ctx.config.deploy.ecs.container_port
    } else {
        80
    }
}

pub fn private_subnets() -> Value {
    Value::Array(PRIVATE_SUBNETS.iter().map(|s| fns::r#ref(s)).collect())
}

fn subnet(index: usize, az: usize, public: bool, bits: u32) -> Resource {
    let cidr = json!({ "Fn::Select": [index, { "Fn::Cidr": [fns::get_att(VPC, "CidrBlock"), 4, bits.to_string()] }] });
    Resource::new(
        "AWS::EC2::Subnet",
        json!({
            "VpcId": fns::r#ref(VPC),
            "CidrBlock": cidr,
            "AvailabilityZone": { "Fn::Select": [az, { "Fn::GetAZs": "" }] },
            "MapPublicIpOnLaunch": false,
            "Tags": [{ "Key": "Tier", "Value": if public { "public" } else { "private" } }],
        }),
    )
}

pub fn render(ctx: &mut Ctx<'_>) {
    if !needed(ctx) {
        return;
    }
    let v = &ctx.config.security.vpc;
    let prefix: u32 = v
        .cidr
        .split_once('/')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(16);
    // Four equal subnets: /16 gives /24s, /24 gives /26s.
    let bits = (32u32.saturating_sub(prefix + 2)).min(8);
    ctx.add(
        VPC,
        CICD,
        Resource::new(
            "AWS::EC2::VPC",
            json!({ "CidrBlock": v.cidr, "EnableDnsSupport": true, "EnableDnsHostnames": true }),
        ),
    );
    ctx.add(
        "InternetGateway",
        CICD,
        Resource::new("AWS::EC2::InternetGateway", json!({})),
    );
    ctx.add(
        "InternetGatewayAttachment",
        CICD,
        Resource::new(
            "AWS::EC2::VPCGatewayAttachment",
            json!({ "VpcId": fns::r#ref(VPC), "InternetGatewayId": fns::r#ref("InternetGateway") }),
        ),
    );
    for (i, id) in PUBLIC_SUBNETS.iter().enumerate() {
        add_subnet(ctx, id, subnet(i, i, true, bits));
    }
    for (i, id) in PRIVATE_SUBNETS.iter().enumerate() {
        add_subnet(ctx, id, subnet(i + 2, i, false, bits));
    }
    route_table(ctx, "PublicRouteTable", &PUBLIC_SUBNETS);
    ctx.add(
        "PublicDefaultRoute",
        CICD,
        Resource::new(
            "AWS::EC2::Route",
            json!({ "RouteTableId": fns::r#ref("PublicRouteTable"), "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": fns::r#ref("InternetGateway") }),
        )
        .depends_on("InternetGatewayAttachment"),
    );
    route_table(ctx, "PrivateRouteTable", &PRIVATE_SUBNETS);
    if v.nat_gateway {
        ctx.add(
            "NatAddress",
            CICD,
            Resource::new("AWS::EC2::EIP", json!({ "Domain": "vpc" }))
                .depends_on("InternetGatewayAttachment"),
        );
        ctx.add(
            "NatGateway",
            CICD,
            Resource::new(
                "AWS::EC2::NatGateway",
                json!({ "AllocationId": fns::get_att("NatAddress", "AllocationId"), "SubnetId": fns::r#ref(PUBLIC_SUBNETS[0]) }),
            ),
        );
        ctx.add(
            "PrivateDefaultRoute",
            CICD,
            Resource::new(
                "AWS::EC2::Route",
                json!({ "RouteTableId": fns::r#ref("PrivateRouteTable"), "DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": fns::r#ref("NatGateway") }),
            ),
        );
    }
    if needs_alb(ctx) {
        security_groups(ctx);
        for env in ctx.home_envs() {
            load_balancer(ctx, env);
        }
    }
}

/// Adds a subnet with the standard tags followed by its tier tag.
fn add_subnet(ctx: &mut Ctx<'_>, id: &str, mut r: Resource) {
    let mut tags = ctx.tags(CICD);
    if let (Value::Array(list), Some(Value::Array(extra))) =
        (&mut tags, r.properties.get("Tags").cloned())
    {
        list.extend(extra);
    }
    r.properties["Tags"] = tags;
    ctx.add(id, CICD, r);
}

fn route_table(ctx: &mut Ctx<'_>, id: &str, subnets: &[&str; 2]) {
    ctx.add(
        id,
        CICD,
        Resource::new("AWS::EC2::RouteTable", json!({ "VpcId": fns::r#ref(VPC) })),
    );
    for s in subnets {
        ctx.add(
            &format!("{s}RouteTableAssociation"),
            CICD,
            Resource::new(
                "AWS::EC2::SubnetRouteTableAssociation",
                json!({ "SubnetId": fns::r#ref(s), "RouteTableId": fns::r#ref(id) }),
            ),
        );
    }
}

fn security_groups(ctx: &mut Ctx<'_>) {
    let cidr = ctx.config.security.vpc.cidr.clone();
    let port = app_port(ctx);
    let mut ingress = vec![
        json!({ "IpProtocol": "tcp", "FromPort": PROD_PORT, "ToPort": PROD_PORT, "CidrIp": "0.0.0.0/0", "Description": "production HTTP (or its redirect to HTTPS)" }),
        json!({ "IpProtocol": "tcp", "FromPort": TEST_PORT, "ToPort": TEST_PORT, "CidrIp": cidr, "Description": "test traffic from inside the VPC" }),
    ];
    if ctx.home_envs().iter().any(|e| e.certificate_arn.is_some()) {
        ingress.insert(
            0,
            json!({ "IpProtocol": "tcp", "FromPort": HTTPS_PORT, "ToPort": HTTPS_PORT, "CidrIp": "0.0.0.0/0", "Description": "production HTTPS" }),
        );
    }
    ctx.add(
        ALB_SG,
        CICD,
        Resource::new(
            "AWS::EC2::SecurityGroup",
            json!({
                "GroupDescription": "Load balancers: production traffic from anywhere, test listener from the VPC",
                "VpcId": fns::r#ref(VPC),
                "SecurityGroupIngress": ingress,
                "SecurityGroupEgress": [
                    { "IpProtocol": "tcp", "FromPort": port, "ToPort": port, "CidrIp": cidr, "Description": "to the application" }
                ],
            }),
        )
        .checkov_skip(
            "CKV_AWS_260",
            "The security group of internet-facing load balancers: port 80 serves production HTTP only where the config says plain_http = true (or a non-production environment has no certificate), and otherwise only redirects to HTTPS.",
        ),
    );
    ctx.add(
        APP_SG,
        CICD,
        Resource::new(
            "AWS::EC2::SecurityGroup",
            json!({
                "GroupDescription": "Application: only the load balancers reach it",
                "VpcId": fns::r#ref(VPC),
                "SecurityGroupIngress": [
                    { "IpProtocol": "tcp", "FromPort": port, "ToPort": port, "SourceSecurityGroupId": fns::r#ref(ALB_SG), "Description": "from the load balancers" }
                ],
                "SecurityGroupEgress": [
                    { "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0", "Description": "AWS APIs and image pulls over HTTPS" }
                ],
            }),
        ),
    );
}

pub fn alb_id(env: &Environment) -> String {
    format!("{}LoadBalancer", pascal(&env.name))
}

pub fn target_group_id(env: &Environment, color: &str) -> String {
    format!("{}{}TargetGroup", pascal(&env.name), pascal(color))
}

pub fn prod_listener_id(env: &Environment) -> String {
    format!("{}ProdListener", pascal(&env.name))
}

pub fn test_listener_id(env: &Environment) -> String {
    format!("{}TestListener", pascal(&env.name))
}

fn redirect_listener_id(env: &Environment) -> String {
    format!("{}HttpRedirectListener", pascal(&env.name))
}

fn load_balancer(ctx: &mut Ctx<'_>, env: &Environment) {
    let ecs = ctx.config.deploy.target == DeployTarget::Ecs;
    let alb = Resource::new(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        json!({
            "Name": alb_name(ctx, env),
            "Type": "application",
            "Scheme": "internet-facing",
            "Subnets": PUBLIC_SUBNETS.iter().map(|s| fns::r#ref(s)).collect::<Vec<_>>(),
            "SecurityGroups": [fns::r#ref(ALB_SG)],
            "LoadBalancerAttributes": [
                { "Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true" },
                { "Key": "access_logs.s3.enabled", "Value": "true" },
                { "Key": "access_logs.s3.bucket", "Value": fns::r#ref(ids::ACCESS_LOGS) },
                { "Key": "access_logs.s3.prefix", "Value": format!("{LOAD_BALANCER_PREFIX}/{}", env.name) }
            ],
        }),
    )
    .depends_on("InternetGatewayAttachment")
    // Enabling access logs writes a test object, which needs the bucket policy in place.
    .depends_on("AccessLogBucketPolicy");
    ctx.add_for(&alb_id(env), env, alb);
    for color in ["blue", "green"] {
        let tg = Resource::new(
            "AWS::ElasticLoadBalancingV2::TargetGroup",
            json!({
                "Name": target_group(ctx, env, color),
                "VpcId": fns::r#ref(VPC),
                "Protocol": "HTTP",
                "Port": app_port(ctx),
                "TargetType": if ecs { "ip" } else { "instance" },
                "HealthCheckPath": "/",
                "HealthCheckIntervalSeconds": 15,
                "HealthyThresholdCount": 2,
                "UnhealthyThresholdCount": 3,
                "TargetGroupAttributes": [{ "Key": "deregistration_delay.timeout_seconds", "Value": "30" }],
            }),
        );
        ctx.add_for(&target_group_id(env, color), env, tg);
    }
    let forward = |port: u16, protocol: &str, color: &str| {
        Resource::new(
            "AWS::ElasticLoadBalancingV2::Listener",
            json!({
                "LoadBalancerArn": fns::r#ref(&alb_id(env)),
                "Port": port,
                "Protocol": protocol,
                "DefaultActions": [{ "Type": "forward", "TargetGroupArn": fns::r#ref(&target_group_id(env, color)) }],
            }),
        )
    };
    let prod = match &env.certificate_arn {
        Some(certificate) => {
            let mut https = forward(HTTPS_PORT, "HTTPS", "blue");
            https.properties["Certificates"] = json!([{ "CertificateArn": certificate }]);
            https.properties["SslPolicy"] = json!(TLS_POLICY);
            let redirect = Resource::new(
                "AWS::ElasticLoadBalancingV2::Listener",
                json!({
                    "LoadBalancerArn": fns::r#ref(&alb_id(env)),
                    "Port": PROD_PORT,
                    "Protocol": "HTTP",
                    "DefaultActions": [{ "Type": "redirect", "RedirectConfig": {
                        "Protocol": "HTTPS", "Port": HTTPS_PORT.to_string(), "StatusCode": "HTTP_301"
                    } }],
                }),
            );
            ctx.add_for(&redirect_listener_id(env), env, redirect);
            https
        }
        None => {
            let reason = if env.production {
                "The config sets plain_http = true for this production environment: the operator chose HTTP on port 80 (set certificate_arn for HTTPS)."
            } else {
                "A non-production environment without certificate_arn serves HTTP on port 80; set certificate_arn for HTTPS."
            };
            forward(PROD_PORT, "HTTP", "blue")
                .checkov_skip("CKV_AWS_2", reason)
                .checkov_skip("CKV_AWS_103", reason)
        }
    };
    ctx.add_for(&prod_listener_id(env), env, prod);
    if ecs {
        let reason = "CodeDeploy's test listener for the replacement tasks before traffic shifts; its security group admits only the VPC.";
        let test = forward(TEST_PORT, "HTTP", "green")
            .checkov_skip("CKV_AWS_2", reason)
            .checkov_skip("CKV_AWS_103", reason);
        ctx.add_for(&test_listener_id(env), env, test);
    }
}
