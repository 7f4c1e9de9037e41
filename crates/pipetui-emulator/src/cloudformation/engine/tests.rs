//! Wording and registry details, checked below the public API's integration tests.

use std::collections::HashMap;

use serde_json::json;

use super::*;

fn ctx() -> Context {
    Context {
        account_id: "123456789012".into(),
        region: "eu-west-1".into(),
        stack_name: "demo".into(),
        stack_id: "arn:aws:cloudformation:eu-west-1:123456789012:stack/demo/0f6c3b1e".into(),
        notification_arns: vec![],
        exports: HashMap::new(),
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

#[test]
fn parameter_errors_use_aws_wording() {
    let t = parse(
        "Parameters:\n  Env: { Type: String, Default: dev, AllowedValues: [dev, prod] }\n  \
         DbPassword: { Type: String, NoEcho: true }\n  Retention: { Type: Number, Default: 14 }\n  \
         Ports: { Type: List<Number>, Default: '80,443' }\nResources:\n  T: { Type: AWS::SNS::Topic }\n",
    );
    let resolve = |given: &[(&str, &str)]| {
        let given: Vec<(String, String)> = given
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        resolve_parameters(&t, &given).map_err(|e| e.message)
    };
    assert_eq!(
        resolve(&[]).err().as_deref(),
        Some("Parameters: [DbPassword] must have values")
    );
    assert_eq!(
        resolve(&[("DbPassword", "x"), ("Nope", "1"), ("Other", "2")])
            .err()
            .as_deref(),
        Some("Parameters: [Nope, Other] do not exist in the template")
    );
    assert_eq!(
        resolve(&[("DbPassword", "x"), ("Env", "staging")])
            .err()
            .as_deref(),
        Some("Parameter 'Env' must be one of AllowedValues")
    );
    assert_eq!(
        resolve(&[("DbPassword", "x"), ("Retention", "two weeks")])
            .err()
            .as_deref(),
        Some("Parameter 'Retention' must be a number.")
    );
    assert_eq!(
        resolve(&[("DbPassword", "x"), ("Ports", "80,http")])
            .err()
            .as_deref(),
        Some("Parameter 'Ports' must be a number.")
    );
    let patterned = parse(
        r#"{"Parameters": {"Arn": {"Type": "String", "AllowedPattern": "^arn:aws[a-z-]*:elasticloadbalancing:.+$"},
             "Short": {"Type": "String", "Default": "ab", "MinLength": 3, "ConstraintDescription": "three or more"}},
            "Resources": {"T": {"Type": "AWS::SNS::Topic"}}}"#,
    );
    let given = |v: &str| {
        vec![
            ("Arn".to_string(), v.to_string()),
            ("Short".into(), "abc".into()),
        ]
    };
    assert!(resolve_parameters(&patterned, &given("arn:aws:elasticloadbalancing:x")).is_ok());
    let e = resolve_parameters(&patterned, &given("arn:aws:s3:::x")).map_err(|e| e.message);
    assert_eq!(
        e.err().as_deref(),
        Some("Parameter 'Arn' must match pattern ^arn:aws[a-z-]*:elasticloadbalancing:.+$")
    );
    let e = resolve_parameters(
        &patterned,
        &[("Arn".into(), "arn:aws:elasticloadbalancing:x".into())],
    );
    assert_eq!(
        e.map_err(|e| e.message).err().as_deref(),
        Some("Parameter 'Short' failed to satisfy constraint: three or more")
    );
}

#[test]
fn template_validation_errors_use_aws_wording() {
    assert_eq!(
        parse_err(r#"{"Description": "x"}"#),
        "Template format error: At least one Resources member must be defined."
    );
    assert_eq!(
        parse_err("Resources:\n  A: { Type: AWS::Foo::Bar }\n  B: { Type: AWS::Baz::Qux }\n"),
        "Template format error: Unrecognized resource types: [AWS::Foo::Bar, AWS::Baz::Qux]"
    );
    assert_eq!(
        parse_err(
            "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties: { TopicName: !Ref Missing }\n"
        ),
        "Template format error: Unresolved resource dependencies [Missing] in the Resources block of the template"
    );
    assert_eq!(
        parse_err(
            "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties: { TopicName: !Sub '${Gone}-x' }\n"
        ),
        "Template format error: Unresolved resource dependencies [Gone] in the Resources block of the template"
    );
    assert_eq!(
        parse_err("Resources:\n  A: { Type: AWS::SNS::Topic, DependsOn: Ghost }\n"),
        "Template format error: Unresolved resource dependencies [Ghost] in the Resources block of the template"
    );
    assert_eq!(
        parse_err("Resources:\n  A: { Type: AWS::SNS::Topic }\nOutputs:\n  O: { Value: !Ref B }\n"),
        "Template format error: Unresolved resource dependencies [B] in the Outputs block of the template"
    );
    assert_eq!(
        parse_err(
            "Resources:\n  A: { Type: AWS::SNS::Topic }\n  B:\n    Type: AWS::SNS::Topic\n    Properties: { TopicName: !GetAtt A.Nope }\n"
        ),
        "Template error: resource A does not support attribute type Nope in Fn::GetAtt"
    );
    assert_eq!(
        parse_err("Resources:\n  A: { Type: AWS::SNS::Topic, Condition: Maybe }\n"),
        "Template format error: Condition Maybe is not defined."
    );
    assert_eq!(
        parse_err(
            "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties: {}\n  B: { Properties: {} }\n"
        ),
        "Template format error: [/Resources/B] Every Resources object must contain a Type member."
    );
    assert!(
        parse_err("{\"Resources\": ").starts_with("Template format error: JSON not well-formed.")
    );
    assert!(
        parse_err("Resources: [\n").starts_with("Template format error: YAML not well-formed.")
    );
}

#[test]
fn registry_names_ids_and_required_properties() {
    let c = ctx();
    let mut rng = Random::new(42);
    let role = resource_spec("AWS::IAM::Role").unwrap_or_else(|| panic!("role"));
    let missing = provision(role, "Role", &json!({}), &c, &mut rng).err();
    assert_eq!(
        missing.as_deref(),
        Some(
            "Properties validation failed for resource Role with message: #: required key [AssumeRolePolicyDocument] not found"
        )
    );
    let p = provision(
        role,
        "Role",
        &json!({"AssumeRolePolicyDocument": {}}),
        &c,
        &mut rng,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (prefix, random) = p.physical_id.rsplit_once('-').unwrap_or_default();
    assert_eq!(prefix, "demo-Role");
    assert_eq!(random.len(), 13);
    assert!(
        random
            .chars()
            .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit())
    );
    assert!(
        p.attributes["RoleId"]
            .as_str()
            .is_some_and(|id| id.starts_with("AROA"))
    );

    // Same seed, same names: runs replay exactly.
    let again = provision(
        role,
        "Role",
        &json!({"AssumeRolePolicyDocument": {}}),
        &c,
        &mut Random::new(42),
    );
    let first = provision(
        role,
        "Role",
        &json!({"AssumeRolePolicyDocument": {}}),
        &c,
        &mut Random::new(42),
    );
    assert_eq!(again, first);

    let bucket = resource_spec("AWS::S3::Bucket").unwrap_or_else(|| panic!("bucket"));
    let b = provision(bucket, "ArtifactBucket", &json!({}), &c, &mut rng)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(b.physical_id, b.physical_id.to_lowercase());
    assert_eq!(
        b.attributes["RegionalDomainName"],
        json!(format!("{}.s3.eu-west-1.amazonaws.com", b.physical_id))
    );

    let repo = resource_spec("AWS::ECR::Repository").unwrap_or_else(|| panic!("ecr"));
    let r = provision(
        repo,
        "Images",
        &json!({"RepositoryName": "orders"}),
        &c,
        &mut rng,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        r.attributes["RepositoryUri"],
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders"
    );

    let secret = resource_spec("AWS::SecretsManager::Secret").unwrap_or_else(|| panic!("secret"));
    let s = provision(secret, "Db", &json!({"Name": "db"}), &c, &mut rng)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        s.physical_id
            .starts_with("arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-")
    );
    assert_eq!(s.attributes["Id"], json!(s.physical_id));

    let sg = resource_spec("AWS::EC2::SecurityGroup").unwrap_or_else(|| panic!("sg"));
    let g = provision(
        sg,
        "Sg",
        &json!({"GroupDescription": "x", "VpcId": "vpc-1"}),
        &c,
        &mut rng,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(g.physical_id.starts_with("sg-") && g.physical_id.len() == 20);
    assert_eq!(g.attributes["VpcId"], "vpc-1");

    assert!(resource_spec("AWS::Foo::Bar").is_none());
    let dg = resource_spec("AWS::CodeDeploy::DeploymentConfig").unwrap_or_else(|| panic!("dc"));
    assert!(dg.replaces_on("ComputePlatform") && dg.replaces_on("MinimumHealthyHosts"));
}
