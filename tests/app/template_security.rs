//! Issue 11, item 14: what the rendered templates do for security on AWS — the topic encrypted
//! whatever the KMS mode (with a key CloudWatch alarms and EventBridge may use), load balancer
//! and bucket access logs, HTTPS production listeners, and plain HTTP in production only when
//! the config says so.

use std::path::PathBuf;

use pipetui::config::Config;
use pipetui::stack::render;
use serde_json::{Value, json};

use crate::template::{root, try_load, try_variant};

fn template(config: &Config) -> Value {
    serde_json::to_value(render(config)).expect("template as JSON")
}

const ECS: &str = r#"
[project]
service = "orders"
[deploy]
target = "ecs"
strategy = "all_at_once"
load_balancer = "alb"
[[environments]]
name = "staging"
"#;

fn ecs_with_production(extra: &str) -> String {
    format!("{ECS}[[environments]]\nname = \"production\"\napproval = true\n{extra}\n")
}

const CERT: &str =
    "arn:aws:acm:us-east-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789";

fn statements(resource: &Value, path: &str) -> Vec<Value> {
    resource["Properties"][path]["Statement"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn skipped(resource: &Value) -> Vec<String> {
    resource["Metadata"]["checkov"]["skip"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|e| e["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn aws_managed_mode_encrypts_the_topic_with_a_key_alarms_and_rules_may_use() {
    let config = try_variant(
        "[project]\nservice = \"orders\"\n[security]\nkms = \"aws_managed\"\n[notifications]\nlambda_notifier = true\n",
    )
    .expect("config");
    let t = template(&config);
    let r = &t["Resources"];
    assert!(
        r.get("PipelineKey").is_none(),
        "no customer key in this mode"
    );
    assert_eq!(
        r["NotificationTopic"]["Properties"]["KmsMasterKeyId"],
        json!({ "Fn::GetAtt": ["NotificationTopicKey", "Arn"] })
    );
    let key = &r["NotificationTopicKey"];
    assert_eq!(key["Properties"]["EnableKeyRotation"], json!(true));
    let services = statements(key, "KeyPolicy")
        .into_iter()
        .find(|s| s["Sid"] == "ServicesPublishToEncryptedTopic")
        .expect("a statement for the publishing services");
    let principals = services["Principal"]["Service"].to_string();
    assert!(
        principals.contains("cloudwatch.amazonaws.com"),
        "{principals}"
    );
    assert!(principals.contains("events.amazonaws.com"), "{principals}");
    assert!(
        services["Condition"]["StringEquals"]["aws:SourceAccount"].is_object(),
        "only this account's alarms and rules"
    );
    // Publishers that are roles may use the key too.
    for role in ["NotifierRole", "PipelineRole"] {
        let policy = r[role]["Properties"]["Policies"].to_string();
        assert!(
            policy.contains("EncryptForTopic") && policy.contains("NotificationTopicKey"),
            "{role}: {policy}"
        );
    }
}

#[test]
fn the_customer_key_still_encrypts_the_topic_and_no_second_key_is_made() {
    let config = try_variant("[project]\nservice = \"orders\"\n").expect("config");
    let t = template(&config);
    assert!(t["Resources"].get("NotificationTopicKey").is_none());
    assert_eq!(
        t["Resources"]["NotificationTopic"]["Properties"]["KmsMasterKeyId"],
        json!({ "Fn::GetAtt": ["PipelineKey", "Arn"] })
    );
}

#[test]
fn load_balancers_and_the_artifact_bucket_write_access_logs_to_an_sse_s3_bucket() {
    let config = try_variant(&ecs_with_production("plain_http = true")).expect("config");
    let t = template(&config);
    let r = &t["Resources"];
    let logs = &r["AccessLogBucket"]["Properties"];
    // Load balancers deliver only to SSE-S3 buckets.
    assert_eq!(
        logs["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
            ["SSEAlgorithm"],
        "AES256"
    );
    assert_eq!(
        logs["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"],
        true
    );
    assert_eq!(
        r["ArtifactBucket"]["Properties"]["LoggingConfiguration"]["DestinationBucketName"],
        json!({ "Ref": "AccessLogBucket" })
    );
    for env in ["Staging", "Production"] {
        let alb = &r[format!("{env}LoadBalancer")];
        let attrs = alb["Properties"]["LoadBalancerAttributes"].to_string();
        assert!(
            attrs.contains("access_logs.s3.enabled") && attrs.contains("AccessLogBucket"),
            "{env}: {attrs}"
        );
        let depends = alb["DependsOn"].to_string();
        assert!(
            depends.contains("AccessLogBucketPolicy"),
            "ELB writes a test object when logs are enabled: {depends}"
        );
    }
    let policy = statements(&r["AccessLogBucketPolicy"], "PolicyDocument");
    let elb = policy
        .iter()
        .find(|s| s["Sid"] == "LoadBalancerAccessLogs")
        .expect("load balancers may write");
    // us-east-1 opened before August 2022: Elastic Load Balancing's account there.
    assert_eq!(
        elb["Principal"]["AWS"],
        json!({ "Fn::Sub": "arn:${AWS::Partition}:iam::127311923021:root" })
    );
    let s3 = policy
        .iter()
        .find(|s| s["Sid"] == "S3ServerAccessLogs")
        .expect("S3 server access logs may be written");
    assert_eq!(s3["Principal"]["Service"], "logging.s3.amazonaws.com");
    assert!(policy.iter().any(|s| s["Sid"] == "DenyInsecureTransport"));
}

#[test]
fn newer_regions_get_the_log_delivery_service_principal() {
    let toml = ecs_with_production("plain_http = true")
        .replace("[project]", "[aws]\nregion = \"ap-southeast-5\"\n[project]");
    let t = template(&try_variant(&toml).expect("config"));
    let policy = statements(&t["Resources"]["AccessLogBucketPolicy"], "PolicyDocument");
    let elb = policy
        .iter()
        .find(|s| s["Sid"] == "LoadBalancerAccessLogs")
        .expect("load balancers may write");
    assert_eq!(
        elb["Principal"]["Service"],
        "logdelivery.elasticloadbalancing.amazonaws.com"
    );
}

#[test]
fn a_certificate_makes_production_https_and_port_80_only_redirects() {
    let config = try_variant(&ecs_with_production(&format!(
        "certificate_arn = \"{CERT}\""
    )))
    .expect("config");
    let t = template(&config);
    let r = &t["Resources"];
    let https = &r["ProductionProdListener"]["Properties"];
    assert_eq!(https["Port"], 443);
    assert_eq!(https["Protocol"], "HTTPS");
    assert_eq!(https["Certificates"][0]["CertificateArn"], CERT);
    assert_eq!(https["SslPolicy"], "ELBSecurityPolicy-TLS13-1-2-2021-06");
    let redirect = &r["ProductionHttpRedirectListener"]["Properties"];
    assert_eq!(redirect["Port"], 80);
    assert_eq!(redirect["DefaultActions"][0]["Type"], "redirect");
    assert_eq!(
        redirect["DefaultActions"][0]["RedirectConfig"]["Protocol"],
        "HTTPS"
    );
    // CodeDeploy shifts production traffic on the HTTPS listener.
    let groups = r.to_string();
    assert!(
        groups
            .contains(r#""ProdTrafficRoute":{"ListenerArns":[{"Ref":"ProductionProdListener"}]}"#)
    );
    // The load balancers' security group admits 443.
    let ingress = r["LoadBalancerSecurityGroup"]["Properties"]["SecurityGroupIngress"].to_string();
    assert!(ingress.contains(r#""FromPort":443"#), "{ingress}");
    // Staging without a certificate stays HTTP, with the reason recorded for reviewers.
    let staging = &r["StagingProdListener"];
    assert_eq!(staging["Properties"]["Protocol"], "HTTP");
    assert!(skipped(staging).contains(&"CKV_AWS_2".to_string()));
}

#[test]
fn plain_http_in_production_is_refused_unless_the_config_says_so() {
    let err = try_variant(&ecs_with_production("")).expect_err("refused");
    assert!(err.contains("environments.1.name"), "{err}");
    assert!(err.contains("plain HTTP"), "{err}");
    assert!(err.contains("certificate_arn"), "{err}");
    // Without [[environments]] the built-in production environment is the one refused, and the
    // hint says where the choice goes.
    let err =
        try_variant(ECS.split("[[environments]]").next().unwrap_or(ECS)).expect_err("refused");
    assert!(err.contains("declare your [[environments]]"), "{err}");
    let ok = try_variant(&ecs_with_production("plain_http = true")).expect("an explicit choice");
    let t = template(&ok);
    let listener = &t["Resources"]["ProductionProdListener"];
    assert_eq!(listener["Properties"]["Protocol"], "HTTP");
    let reasons = listener["Metadata"]["checkov"]["skip"].to_string();
    assert!(reasons.contains("plain_http = true"), "{reasons}");
}

#[test]
fn a_certificate_must_be_an_acm_arn_and_needs_a_load_balancer() {
    let err =
        try_variant(&ecs_with_production("certificate_arn = \"my-cert\"")).expect_err("refused");
    assert!(err.contains("environments.1.certificate_arn"), "{err}");
    assert!(err.contains("not an ACM certificate ARN"), "{err}");
    let ec2 = format!(
        "[project]\nservice = \"orders\"\n[[environments]]\nname = \"staging\"\ncertificate_arn = \"{CERT}\"\n"
    );
    let err = try_variant(&ec2).expect_err("no load balancer to use it");
    assert!(err.contains("environments.0.certificate_arn"), "{err}");
}

#[test]
fn every_example_renders_only_justified_exceptions() {
    // Every checkov exception in an example's template carries a reason a reviewer can read.
    let dir = root().join("assets/examples");
    let mut configs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    configs.push(root().join("config.example.toml"));
    for path in configs {
        let config = try_load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let t = template(&config);
        for (id, resource) in t["Resources"].as_object().expect("resources") {
            for skip in resource["Metadata"]["checkov"]["skip"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let reason = skip["comment"].as_str().unwrap_or_default();
                assert!(
                    skip["id"]
                        .as_str()
                        .is_some_and(|i| i.starts_with("CKV_AWS_"))
                        && reason.len() > 40,
                    "{}: {id}: {skip}",
                    path.display()
                );
            }
        }
    }
}
