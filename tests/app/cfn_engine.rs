//! The emulator's CloudFormation template engine through its public API: parsing (JSON and YAML
//! short forms), parameters, conditions, every intrinsic, dependency order, change sets, the
//! resource registry, and the templates pipetui itself renders.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use pipetui_emulator::cloudformation::engine::*;
use serde_json::{Value, json};

fn ctx() -> Context {
    Context {
        account_id: "123456789012".into(),
        region: "eu-west-1".into(),
        stack_name: "demo".into(),
        stack_id: "arn:aws:cloudformation:eu-west-1:123456789012:stack/demo/0f6c3b1e".into(),
        notification_arns: vec![],
        exports: HashMap::from([("shared-vpc-id".to_string(), "vpc-123".to_string())]),
    }
}

fn parse(body: &str) -> Template {
    match parse_template(body) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    }
}

fn parse_err(body: &str) -> String {
    match parse_template(body) {
        Ok(_) => panic!("template accepted:\n{body}"),
        Err(e) => {
            assert_eq!(e.code, "ValidationError");
            e.message
        }
    }
}

fn ok<T>(r: Result<T, EngineError>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// A created stack: what the service would keep between operations.
struct Stack {
    params: ResolvedParams,
    conditions: Conditions,
    order: Vec<String>,
    resources: BTreeMap<String, Provisioned>,
    properties: BTreeMap<String, Value>,
}

/// CreateStack without the service: order, evaluate, check, provision.
fn create(t: &Template, given: &[(&str, &str)], ctx: &Context, seed: u64) -> Stack {
    let given: Vec<(String, String)> = given
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let params = ok(resolve_parameters(t, &given));
    let conditions = ok(evaluate_conditions(t, &params, ctx));
    let order = ok(dependency_order(t, &conditions));
    let mut rng = Random::new(seed);
    let mut resources = BTreeMap::new();
    let mut properties = BTreeMap::new();
    for id in &order {
        let decl = t
            .resource(id)
            .unwrap_or_else(|| panic!("{id} not declared"));
        let scope = Scope {
            template: t,
            params: &params,
            ctx,
            conditions: &conditions,
            resources: &resources,
        };
        let props = ok(evaluate_properties(decl, &scope));
        let spec = resource_spec(&decl.resource_type)
            .unwrap_or_else(|| panic!("{} unknown", decl.resource_type));
        let p = provision(spec, id, &props, ctx, &mut rng)
            .unwrap_or_else(|reason| panic!("{id}: {reason}"));
        resources.insert(id.clone(), p);
        properties.insert(id.clone(), props);
    }
    Stack {
        params,
        conditions,
        order,
        resources,
        properties,
    }
}

fn outputs(t: &Template, s: &Stack, ctx: &Context) -> BTreeMap<String, EvaluatedOutput> {
    let scope = Scope {
        template: t,
        params: &s.params,
        ctx,
        conditions: &s.conditions,
        resources: &s.resources,
    };
    ok(evaluate_outputs(t, &scope))
        .into_iter()
        .map(|o| (o.key.clone(), o))
        .collect()
}

const EVERYTHING: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Description: every intrinsic
Parameters:
  Env:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
  DbPassword:
    Type: String
    NoEcho: true
  Subnets:
    Type: CommaDelimitedList
    Default: subnet-a,subnet-b
  Ports:
    Type: List<Number>
    Default: "80, 443"
  Retention:
    Type: Number
    Default: 14
Mappings:
  RegionMap:
    eu-west-1: { Ami: ami-eu }
    us-east-1: { Ami: ami-us }
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  InEurope: !Equals [!Select [0, !Split ["-", !Ref "AWS::Region"]], eu]
  ProdInEurope: !And [!Condition IsProd, !Condition InEurope]
  DevOrEurope: !Or [!Condition IsDev, !Condition InEurope]
Resources:
  Function:
    Type: AWS::Lambda::Function
    Properties:
      Role: !GetAtt Role.Arn
      Code: { ZipFile: "exports.handler = async () => 1" }
      Environment:
        Variables:
          TOPIC: !Sub "${Topic}"
          TOPIC_NAME: !Sub "${Topic.TopicName}"
          LITERAL: !Sub "${!NotAVar}-${AWS::Region}"
          PASSWORD: !Ref DbPassword
          SUBNET: !Select [1, !Ref Subnets]
          PORT: !Select [1, !Ref Ports]
          URL: !Sub "https://s3.${AWS::Region}.${AWS::URLSuffix}/${Bucket}"
          PARTITION: !Ref AWS::Partition
          STACK: !Ref AWS::StackId
          USERDATA: !Base64 "hello world"
          MODE: !If [IsProd, production, !If [DevOrEurope, dev-eu, other]]
          DROPPED: !If [IsProd, kept, !Ref AWS::NoValue]
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${AWS::StackName}-${Env}-${AWS::AccountId}"
      Tags:
        - { Key: ami, Value: !FindInMap [RegionMap, !Ref "AWS::Region", Ami] }
        - { Key: azs, Value: !Join [",", !GetAZs ""] }
        - { Key: second-az, Value: !Select [1, !GetAZs ""] }
        - { Key: vpc, Value: !ImportValue shared-vpc-id }
        - !If [IsProd, { Key: prod, Value: "yes" }, !Ref "AWS::NoValue"]
  Key:
    Type: AWS::KMS::Key
    Properties:
      Description: !Sub "key of ${AWS::StackName} in ${AWS::Region}"
  ProdTopic:
    Type: AWS::SNS::Topic
    Condition: IsProd
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      KmsMasterKeyId: !GetAtt [Key, Arn]
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Join ["-", [!Ref "AWS::StackName", role]]
      Path: !If [IsProd, /prod/, !Ref "AWS::NoValue"]
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: { Service: lambda.amazonaws.com }
            Action: sts:AssumeRole
  LogGroup:
    Type: AWS::Logs::LogGroup
    DependsOn: [Function]
    Properties:
      LogGroupName: !Sub
        - "/app/${Name}/${Bucket}"
        - Name: !Ref Env
      RetentionInDays: !Ref Retention
Outputs:
  BucketName:
    Value: !Ref Bucket
    Export: { Name: !Sub "${AWS::StackName}-bucket" }
  ProdOnly:
    Condition: IsProd
    Value: !Ref ProdTopic
  Subnets:
    Value: !Join [";", !Ref Subnets]
  Europe:
    Value: !If [InEurope, "yes", "no"]
  RoleArn:
    Description: the role
    Value: !GetAtt Role.Arn
"#;

#[test]
fn every_intrinsic_in_a_yaml_template() {
    let t = parse(EVERYTHING);
    assert_eq!(t.description.as_deref(), Some("every intrinsic"));
    let names: Vec<&str> = t.resources.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "Function",
            "Bucket",
            "Key",
            "ProdTopic",
            "Topic",
            "Role",
            "LogGroup"
        ]
    );

    let c = ctx();
    let s = create(&t, &[("DbPassword", "s3cret")], &c, 7);
    assert_eq!(s.conditions.get("IsProd"), Some(false));
    assert_eq!(s.conditions.get("IsDev"), Some(true));
    assert_eq!(s.conditions.get("InEurope"), Some(true));
    assert_eq!(s.conditions.get("ProdInEurope"), Some(false));
    assert_eq!(s.conditions.get("DevOrEurope"), Some(true));
    // Conditioned-out resources are skipped; dependencies first, template order otherwise.
    assert_eq!(
        s.order,
        ["Bucket", "Key", "Topic", "Role", "Function", "LogGroup"]
    );

    let vars = &s.properties["Function"]["Environment"]["Variables"];
    let topic_arn = s.resources["Topic"].physical_id.clone();
    assert!(topic_arn.starts_with("arn:aws:sns:eu-west-1:123456789012:demo-Topic-"));
    assert_eq!(vars["TOPIC"], json!(topic_arn));
    assert_eq!(vars["TOPIC_NAME"], json!(topic_arn.rsplit(':').next()));
    assert_eq!(vars["LITERAL"], "${NotAVar}-eu-west-1");
    assert_eq!(vars["PASSWORD"], "s3cret");
    assert_eq!(vars["SUBNET"], "subnet-b");
    assert_eq!(vars["PORT"], "443");
    assert_eq!(
        vars["URL"],
        "https://s3.eu-west-1.amazonaws.com/demo-dev-123456789012"
    );
    assert_eq!(vars["PARTITION"], "aws");
    assert_eq!(vars["STACK"], json!(c.stack_id));
    assert_eq!(vars["USERDATA"], "aGVsbG8gd29ybGQ=");
    assert_eq!(vars["MODE"], "dev-eu");
    assert!(
        vars.get("DROPPED").is_none(),
        "AWS::NoValue removes the key"
    );
    assert_eq!(
        s.properties["Function"]["Role"],
        "arn:aws:iam::123456789012:role/demo-role"
    );

    assert_eq!(
        s.properties["Bucket"]["Tags"],
        json!([
            { "Key": "ami", "Value": "ami-eu" },
            { "Key": "azs", "Value": "eu-west-1a,eu-west-1b,eu-west-1c" },
            { "Key": "second-az", "Value": "eu-west-1b" },
            { "Key": "vpc", "Value": "vpc-123" }
        ])
    );
    assert!(s.properties["Role"].get("Path").is_none());
    assert_eq!(
        s.properties["LogGroup"],
        json!({ "LogGroupName": "/app/dev/demo-dev-123456789012", "RetentionInDays": "14" })
    );
    let key = &s.resources["Key"];
    assert_eq!(
        s.properties["Topic"]["KmsMasterKeyId"],
        json!(format!(
            "arn:aws:kms:eu-west-1:123456789012:key/{}",
            key.physical_id
        ))
    );

    let out = outputs(&t, &s, &c);
    assert_eq!(out["BucketName"].value, "demo-dev-123456789012");
    assert_eq!(
        out["BucketName"].export_name.as_deref(),
        Some("demo-bucket")
    );
    assert!(!out.contains_key("ProdOnly"));
    assert_eq!(out["Subnets"].value, "subnet-a;subnet-b");
    assert_eq!(out["Europe"].value, "yes");
    assert_eq!(out["RoleArn"].description.as_deref(), Some("the role"));

    // NoEcho values are masked in DescribeStacks, defaults are reported as used.
    let described: BTreeMap<String, String> = s.params.describe().into_iter().collect();
    assert_eq!(described["DbPassword"], "****");
    assert_eq!(described["Env"], "dev");
    assert!(s.params.get("Env").is_some_and(|p| p.from_default));
}

#[test]
fn production_parameters_flip_the_conditions() {
    let t = parse(EVERYTHING);
    let c = Context {
        region: "us-east-1".into(),
        ..ctx()
    };
    let s = create(&t, &[("DbPassword", "x"), ("Env", "prod")], &c, 1);
    assert!(s.order.contains(&"ProdTopic".to_string()));
    assert_eq!(s.properties["Role"]["Path"], "/prod/");
    assert!(
        s.resources["Role"].attributes["Arn"]
            .as_str()
            .is_some_and(|a| a.ends_with(":role/prod/demo-role"))
    );
    let vars = &s.properties["Function"]["Environment"]["Variables"];
    assert_eq!(vars["MODE"], "production");
    assert_eq!(vars["DROPPED"], "kept");
    let tags = s.properties["Bucket"]["Tags"].as_array().map(Vec::len);
    assert_eq!(tags, Some(5));
    assert_eq!(s.properties["Bucket"]["Tags"][0]["Value"], "ami-us");
    let out = outputs(&t, &s, &c);
    assert_eq!(out["ProdOnly"].value, s.resources["ProdTopic"].physical_id);
    assert_eq!(out["Europe"].value, "no");
}

#[test]
fn import_of_a_missing_export_fails() {
    let t = parse(EVERYTHING);
    let c = Context {
        exports: HashMap::new(),
        ..ctx()
    };
    let params = ok(resolve_parameters(&t, &[("DbPassword".into(), "x".into())]));
    let conditions = ok(evaluate_conditions(&t, &params, &c));
    let scope = Scope {
        template: &t,
        params: &params,
        ctx: &c,
        conditions: &conditions,
        resources: &NoResources,
    };
    let bucket = t
        .resource("Bucket")
        .map(|b| b.properties.clone())
        .unwrap_or_default();
    let e = evaluate(&bucket, &scope).map_err(|e| (e.code, e.message));
    assert_eq!(
        e.err(),
        Some((
            "ValidationError".into(),
            "No export named shared-vpc-id found".into()
        ))
    );
}

const ORDERED: &str = r#"{
  "Resources": {
    "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "ComparisonOperator": "GreaterThanThreshold", "EvaluationPeriods": 1,
        "AlarmActions": [{"Fn::Sub": "${Topic}"}]}},
    "Topic": {"Type": "AWS::SNS::Topic", "Properties": {
        "KmsMasterKeyId": {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/${Key}"}}},
    "Rule": {"Type": "AWS::Events::Rule", "DependsOn": ["Alarm", "Topic"]},
    "Key": {"Type": "AWS::KMS::Key"},
    "Table": {"Type": "AWS::DynamoDB::Table", "DependsOn": "Key",
      "Properties": {"KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}}
  }
}"#;

#[test]
fn dependency_order_follows_sub_getatt_and_depends_on() {
    let t = parse(ORDERED);
    let order = ok(dependency_order(&t, &Conditions::default()));
    assert_eq!(order, ["Key", "Topic", "Alarm", "Rule", "Table"]);
    assert_eq!(dependencies(&t, "Rule"), ["Alarm", "Topic"]);
    assert_eq!(dependencies(&t, "Alarm"), ["Topic"]);
    assert_eq!(
        references(&json!({"Fn::Sub": ["${A}-${B.Arn}-${Local}", {"Local": {"Ref": "C"}}]})),
        ["A", "B", "C"]
    );
    // Deletion is the reverse.
    let deletion: Vec<&str> = order.iter().rev().map(String::as_str).collect();
    assert_eq!(deletion, ["Table", "Rule", "Alarm", "Topic", "Key"]);
}

#[test]
fn cycles_are_reported_with_their_members_only() {
    let msg = parse_err(
        r#"{"Resources": {
            "A": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "B"}}},
            "Waiting": {"Type": "AWS::SNS::Topic", "DependsOn": "A"},
            "B": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::Sub": "${A.TopicName}"}}}
        }}"#,
    );
    assert_eq!(msg, "Circular dependency between resources: [A, B]");
}

#[test]
fn conditioned_out_dependencies_are_unresolved() {
    let t = parse(
        "Parameters: { On: { Type: String, Default: 'no' } }\nConditions: { Yes: !Equals [!Ref On, 'yes'] }\n\
         Resources:\n  A: { Type: AWS::SNS::Topic, Condition: Yes }\n  B:\n    Type: AWS::SNS::Topic\n    Properties: { DisplayName: !Ref A }\n  C:\n    Type: AWS::SNS::Topic\n    Properties: { DisplayName: !If [Yes, !Ref A, none] }\n",
    );
    let params = ok(resolve_parameters(&t, &[]));
    let conditions = ok(evaluate_conditions(&t, &params, &ctx()));
    let e = dependency_order(&t, &conditions).map_err(|e| e.message);
    assert_eq!(
        e.err().as_deref(),
        Some(
            "Template format error: Unresolved resource dependencies [A] in the Resources block of the template"
        )
    );
}

const V1: &str = r#"
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties: { BucketName: data-v1, Tags: [{ Key: team, Value: a }] }
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: { LogGroupName: /app, RetentionInDays: 7 }
  Policy:
    Type: AWS::S3::BucketPolicy
    Properties: { Bucket: !Ref Bucket, PolicyDocument: { Statement: [] } }
  Topic:
    Type: AWS::SNS::Topic
    Properties: { DisplayName: old }
  Old:
    Type: AWS::SNS::Topic
"#;

const V2: &str = r#"
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties: { BucketName: data-v2, Tags: [{ Key: team, Value: a }] }
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: { LogGroupName: /app, RetentionInDays: 30 }
  Policy:
    Type: AWS::S3::BucketPolicy
    Properties: { Bucket: !Ref Bucket, PolicyDocument: { Statement: [] } }
  Topic:
    Type: AWS::SNS::Topic
    Properties: { DisplayName: old, Tags: [{ Key: team, Value: b }] }
  New:
    Type: AWS::SNS::Topic
    Properties: { DisplayName: !GetAtt Topic.TopicName }
"#;

fn snapshots(t: &Template, s: &Stack, c: &Context) -> Vec<ResourceSnapshot> {
    let scope = Scope {
        template: t,
        params: &s.params,
        ctx: c,
        conditions: &s.conditions,
        resources: &s.resources,
    };
    snapshot(t, &scope)
}

#[test]
fn change_sets_add_modify_remove_and_replace() {
    let c = ctx();
    let (v1, v2) = (parse(V1), parse(V2));
    let s = create(&v1, &[], &c, 3);
    let before = snapshots(&v1, &s, &c);
    let changes = ok(diff(&before, &snapshots(&v2, &s, &c)));
    let by_id: BTreeMap<&str, &Change> =
        changes.iter().map(|c| (c.logical_id.as_str(), c)).collect();
    let summary: Vec<(&str, &str, Option<&str>)> = changes
        .iter()
        .map(|c| {
            (
                c.logical_id.as_str(),
                c.action.as_str(),
                c.replacement.map(Replacement::as_str),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("Bucket", "Modify", Some("True")),
            ("Logs", "Modify", Some("False")),
            ("Topic", "Modify", Some("False")),
            ("New", "Add", None),
            ("Policy", "Modify", Some("Conditional")),
            ("Old", "Remove", None),
        ]
    );
    let bucket = by_id["Bucket"];
    assert_eq!(bucket.scope, ["Properties"]);
    assert_eq!(bucket.details[0].name.as_deref(), Some("BucketName"));
    assert_eq!(
        bucket.details[0].requires_recreation,
        RequiresRecreation::Always
    );
    assert_eq!(bucket.physical_id.as_deref(), Some("data-v1"));
    assert_eq!(
        by_id["Logs"].details[0].name.as_deref(),
        Some("RetentionInDays")
    );
    assert_eq!(by_id["Topic"].scope, ["Tags"]);
    // The policy changes because the bucket it names is replaced; AWS cannot tell statically
    // whether the new value replaces it too, hence Conditional.
    let policy = &by_id["Policy"].details[0];
    assert_eq!(policy.change_source, "ResourceReference");
    assert_eq!(policy.causing_entity.as_deref(), Some("Bucket"));
    assert_eq!(policy.evaluation, Evaluation::Dynamic);
    assert_eq!(
        by_id["Old"].physical_id,
        Some(s.resources["Old"].physical_id.clone())
    );

    // The same template again: nothing to do.
    let same = ok(diff(&before, &snapshots(&v1, &s, &c)));
    assert!(no_changes(&same), "{same:?}");

    let retyped = V1.replace(
        "Old:\n    Type: AWS::SNS::Topic",
        "Old:\n    Type: AWS::KMS::Key",
    );
    let e = diff(&before, &snapshots(&parse(&retyped), &s, &c)).map_err(|e| e.message);
    assert!(
        e.err()
            .is_some_and(|m| m.starts_with("Update of resource type is not permitted"))
    );
}

// ---- the templates pipetui renders ----

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rendered(path: &Path) -> String {
    let loaded = pipetui::config::load(
        pipetui::config::ConfigFile::Explicit(path.to_path_buf()),
        std::iter::empty(),
        &Default::default(),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    pipetui::stack::render(&loaded.config).to_json_pretty()
}

/// Variants that switch on the optional resource families (ECS + image + history table;
/// Lambda + GitHub + secrets; EC2 + VPC + cross-account).
const VARIANTS: &[&str] = &[
    "[project]\nservice = \"orders\"\n[deploy]\ntarget = \"ecs\"\nstrategy = \"canary\"\nload_balancer = \"alb\"\n\
     [image]\nenabled = true\n[pipeline]\nexecution_mode = \"parallel\"\nhistory_table = true\n\
     [[environments]]\nname = \"staging\"\n[[environments]]\nname = \"production\"\napproval = true\nplain_http = true\n",
    "[project]\nservice = \"orders\"\ncompany = \"\"\nsuffix = \"pr42\"\n[source]\nprovider = \"github\"\n\
     repository = \"acme/orders\"\n[deploy]\ntarget = \"lambda\"\nstrategy = \"linear\"\n\
     [security]\nkms = \"aws_managed\"\n[secrets]\ndatabase_credentials = true\n",
    "[project]\nservice = \"orders\"\n[source]\nprovider = \"s3\"\nbucket = \"acme-sources\"\nobject_key = \"o.zip\"\n\
     [deploy]\nstrategy = \"blue_green\"\nload_balancer = \"alb\"\n[deploy.ec2]\nauto_scaling_group = \"orders-asg\"\n\
     [security.vpc]\nenabled = true\n[image]\nenabled = true\n\
     [[environments]]\nname = \"staging\"\n[[environments]]\nname = \"production\"\naccount_id = \"210987654321\"\nplain_http = true\n",
];

/// Values for the parameters pipetui's templates declare without defaults.
fn parameter_values(t: &Template) -> Vec<(String, String)> {
    t.parameters
        .iter()
        .filter(|(_, p)| p.default.is_none())
        .map(|(k, p)| {
            let v = match p.param_type.as_str() {
                "AWS::EC2::VPC::Id" => "vpc-0abc".to_string(),
                t if t.starts_with("List<") => "subnet-1,subnet-2".to_string(),
                _ if k.contains("Connection") => {
                    "arn:aws:codestar-connections:eu-west-1:123456789012:connection/x".to_string()
                }
                _ => format!("arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/{k}"),
            };
            (k.clone(), v)
        })
        .collect()
}

fn check_pipetui_template(body: &str) -> Vec<String> {
    let t = parse(body);
    for (id, r) in &t.resources {
        let spec = resource_spec(&r.resource_type)
            .unwrap_or_else(|| panic!("{id}: {} not in the registry", r.resource_type));
        for req in spec.required {
            assert!(
                r.properties.get(*req).is_some(),
                "{id} ({}) lacks {req}",
                r.resource_type
            );
        }
    }
    let given: Vec<(String, String)> = parameter_values(&t);
    let given: Vec<(&str, &str)> = given
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let c = ctx();
    let s = create(&t, &given, &c, 11);
    assert_eq!(s.order.len(), s.resources.len());
    let out = outputs(&t, &s, &c);
    assert!(out.values().all(|o| {
        o.export_name
            .as_deref()
            .is_some_and(|e| e.starts_with("demo-"))
    }));
    // An unchanged template has no changes.
    let snaps = snapshots(&t, &s, &c);
    assert!(no_changes(&ok(diff(&snaps, &snaps))));
    t.resources
        .iter()
        .map(|(_, r)| r.resource_type.clone())
        .collect()
}

#[test]
fn the_template_pipetui_renders_for_the_example_config_deploys() {
    let body = rendered(&root().join("config.example.toml"));
    let types = check_pipetui_template(&body);
    assert!(types.iter().any(|t| t == "AWS::CodePipeline::Pipeline"));
    let t = parse(&body);
    let order = ok(dependency_order(&t, &Conditions::default()));
    let pos = |id: &str| order.iter().position(|o| o == id).unwrap_or(usize::MAX);
    assert!(pos("PipelineRole") < pos("Pipeline"));
    assert!(pos("ArtifactBucket") < pos("ArtifactBucketPolicy"));
    assert!(pos("StagingDeploymentGroup") < pos("Pipeline"));
}

#[test]
fn the_templates_of_config_variants_deploy() {
    let mut seen: Vec<String> = Vec::new();
    for v in VARIANTS {
        let f = tempfile::Builder::new()
            .suffix(".toml")
            .tempfile()
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(f.path(), v).unwrap_or_else(|e| panic!("{e}"));
        for t in check_pipetui_template(&rendered(f.path())) {
            if !seen.contains(&t) {
                seen.push(t);
            }
        }
    }
    for t in [
        "AWS::ECR::Repository",
        "AWS::DynamoDB::Table",
        "AWS::SecretsManager::Secret",
        "AWS::EC2::SecurityGroup",
    ] {
        assert!(
            seen.iter().any(|s| s == t),
            "no variant emits {t}: {seen:?}"
        );
    }
}
