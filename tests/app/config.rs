//! Configuration: the example is valid, every invalid fixture reports its key and line, and the
//! layers override in the documented order.

use std::path::{Path, PathBuf};

use pipetui::config::{
    ConfigFile, DeployTarget, EndpointSetting, LoadError, Overrides, Problems, Strategy, load,
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load_file(
    path: &Path,
    env: &[(&str, &str)],
    o: &Overrides,
) -> Result<pipetui::config::Loaded, LoadError> {
    let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    load(ConfigFile::Explicit(path.to_path_buf()), env, o)
}

fn problems(path: &Path) -> Problems {
    match load_file(path, &[], &Overrides::default()) {
        Err(LoadError::Invalid(p)) => p,
        Err(e) => panic!("{}: unexpected error {e}", path.display()),
        Ok(_) => panic!("{} was accepted", path.display()),
    }
}

fn write_temp(text: &str) -> tempfile::NamedTempFile {
    let f = tempfile::Builder::new()
        .suffix(".toml")
        .tempfile()
        .expect("temp file");
    std::fs::write(f.path(), text).expect("write");
    f
}

#[test]
fn example_config_is_valid() {
    let loaded = load_file(
        &root().join("config.example.toml"),
        &[],
        &Overrides::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let c = loaded.config;
    assert_eq!(c.project.service, "orders");
    assert_eq!(c.aws.endpoint, EndpointSetting::Embedded);
    assert_eq!(c.environments.len(), 2);
    assert!(c.environments[1].approval);
}

#[test]
fn no_file_runs_the_embedded_example() {
    let loaded = load(ConfigFile::None, std::iter::empty(), &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.config.project.service, "orders");
}

/// Each fixture starts with `# expect: <key path> @ <line>` lines; the problems reported must be
/// exactly those, and each rendered message must show `file:line:` and the key path.
#[test]
fn every_invalid_fixture_names_its_keys_and_lines() {
    let dir = root().join("tests/app/invalid_configs");
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 25, "only {} fixtures", fixtures.len());
    let mut failures = Vec::new();
    for path in &fixtures {
        let text = std::fs::read_to_string(path).expect("read fixture");
        let expected: Vec<(String, usize)> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .map(|l| {
                let (key, line) = l.split_once(" @ ").expect("expect line format");
                (
                    key.trim().to_string(),
                    line.trim().parse().expect("line number"),
                )
            })
            .collect();
        assert!(
            !expected.is_empty(),
            "{} has no expectations",
            path.display()
        );
        let found = problems(path);
        let rendered = found.to_string();
        let got: Vec<(String, usize)> = found
            .iter()
            .map(|p| {
                let key = if p.path.is_empty() {
                    "<syntax>".to_string()
                } else {
                    p.path.clone()
                };
                (key, p.origin.line)
            })
            .collect();
        let mut ok = got.len() == expected.len();
        for (key, line) in &expected {
            ok &= got.contains(&(key.clone(), *line));
            ok &= rendered.contains(&format!("{}:{line}:", path.display()));
            if key != "<syntax>" {
                ok &= rendered.contains(&format!(": {key}: "));
            }
        }
        if !ok {
            failures.push(format!(
                "{}\n  expected {expected:?}\n  got      {got:?}\n{rendered}",
                path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn enum_errors_list_the_choices() {
    let p = problems(&root().join("tests/app/invalid_configs/bad_enum_strategy.toml"));
    let msg = p.to_string();
    assert!(
        msg.contains(
            "unknown strategy \"blue-gren\"; expected one of rolling, blue_green, all_at_once"
        ),
        "{msg}"
    );
    assert!(msg.contains("did you mean \"blue_green\"?"), "{msg}");
}

#[test]
fn three_mistakes_are_all_reported_at_once() {
    let f = write_temp(
        "[project]\nservice = \"orders\"\n[deploy]\nstrategy = \"blue-gren\"\n[aws]\nmax_attempts = 0\n[build]\ntimeout = 5\n",
    );
    let p = problems(f.path());
    let keys: Vec<&str> = p.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        keys,
        ["deploy.strategy", "aws.max_attempts", "build.timeout"],
        "{p}"
    );
}

#[test]
fn layers_override_in_order_file_env_flags() {
    let f = write_temp(
        "[project]\nservice = \"orders\"\n[aws]\nregion = \"eu-west-1\"\nmax_attempts = 5\n[deploy]\ntarget = \"lambda\"\nstrategy = \"canary\"\n",
    );
    // File beats defaults.
    let c = load_file(f.path(), &[], &Overrides::default())
        .expect("valid")
        .config;
    assert_eq!(c.aws.region, "eu-west-1");
    assert_eq!(c.aws.max_attempts, 5);
    assert_eq!(c.deploy.target, DeployTarget::Lambda);
    assert_eq!(c.deploy.strategy, Strategy::Canary);
    // Environment beats the file; values are typed by the schema.
    let env = [
        ("PIPETUI_AWS__REGION", "eu-central-1"),
        ("PIPETUI_AWS__MAX_ATTEMPTS", "7"),
        ("PIPETUI_CONFIG", "ignored"),
    ];
    let c = load_file(f.path(), &env, &Overrides::default())
        .expect("valid")
        .config;
    assert_eq!(c.aws.region, "eu-central-1");
    assert_eq!(c.aws.max_attempts, 7);
    // Flags beat the environment; a profile means real AWS.
    let o = Overrides {
        region: Some("ap-southeast-2".into()),
        profile: Some("prod".into()),
        read_only: true,
        ..Default::default()
    };
    let c = load_file(f.path(), &env, &o).expect("valid").config;
    assert_eq!(c.aws.region, "ap-southeast-2");
    assert_eq!(c.aws.endpoint, EndpointSetting::Aws);
    assert_eq!(c.aws.profile.as_deref(), Some("prod"));
    assert!(c.console.read_only);
    let o = Overrides {
        endpoint_url: Some("http://127.0.0.1:4566".into()),
        ..Default::default()
    };
    let c = load_file(f.path(), &[], &o).expect("valid").config;
    assert_eq!(
        c.aws.endpoint,
        EndpointSetting::Url("http://127.0.0.1:4566".into())
    );
}

#[test]
fn bad_environment_values_name_the_variable() {
    let f = write_temp("[project]\nservice = \"orders\"\n");
    let env = [
        ("PIPETUI_AWS__MAX_ATTEMPTS", "many"),
        ("PIPETUI_DEPLOY__STRATEGI", "rolling"),
    ];
    let err = load_file(f.path(), &env, &Overrides::default()).expect_err("invalid");
    let msg = err.to_string();
    assert!(
        msg.contains(
            "environment variable PIPETUI_AWS__MAX_ATTEMPTS: aws.max_attempts: expected an integer"
        ),
        "{msg}"
    );
    assert!(
        msg.contains("environment variable PIPETUI_DEPLOY__STRATEGI: deploy.strategi: unknown key"),
        "{msg}"
    );
}

#[test]
fn user_maps_replace_defaults_instead_of_merging() {
    let f = write_temp("[project]\nservice = \"orders\"\n[build.env]\nNODE_ENV = \"production\"\n");
    let c = load_file(f.path(), &[], &Overrides::default())
        .expect("valid")
        .config;
    assert_eq!(c.build.env.keys().collect::<Vec<_>>(), ["NODE_ENV"]);
}

#[test]
fn missing_file_is_a_clear_error() {
    let err = load_file(
        Path::new("/nonexistent/pipetui.toml"),
        &[],
        &Overrides::default(),
    )
    .expect_err("missing");
    assert!(
        err.to_string()
            .contains("cannot read config file /nonexistent/pipetui.toml")
    );
}
