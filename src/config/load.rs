//! Layers, later wins: embedded `config.example.toml` → the file → `PIPETUI_*` variables → flags.

use std::path::{Path, PathBuf};

use super::problem::Problems;
use super::schema::{Config, read_config};
use super::tree::{Layer, Node, Origin, Value, parse_toml};
use super::validate::validate;

/// The fully commented example, which is also the defaults layer.
pub const EXAMPLE: &str = include_str!("../../config.example.toml");
pub const EXAMPLE_NAME: &str = "config.example.toml (embedded defaults)";

/// Tables whose keys are chosen by the user; a layer replaces them whole instead of merging.
const USER_MAPS: &[&str] = &[
    "tags",
    "*.env",
    "*.secrets",
    "image.build.env",
    "image.build.secrets",
    "deploy.ec2.instance_tags",
    "emulator.faults",
];

/// Command-line values that override every other layer.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub read_only: bool,
}

/// Which file (if any) supplied the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigFile {
    /// Given with `--config` or `PIPETUI_CONFIG`.
    Explicit(PathBuf),
    /// `./pipetui.toml`.
    Local(PathBuf),
    /// `$XDG_CONFIG_HOME/pipetui/config.toml`.
    User(PathBuf),
    /// No file: the embedded example runs as is (the demo on the emulator).
    None,
}

impl ConfigFile {
    pub fn path(&self) -> Option<&Path> {
        match self {
            ConfigFile::Explicit(p) | ConfigFile::Local(p) | ConfigFile::User(p) => Some(p),
            ConfigFile::None => None,
        }
    }

    pub fn describe(&self) -> String {
        self.path()
            .map_or_else(|| EXAMPLE_NAME.to_string(), |p| p.display().to_string())
    }
}

#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub file: ConfigFile,
    /// The merged tree, kept so later checks can still point at line:column.
    pub tree: Node,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(Problems),
}

/// Finds the config file: `--config`, else `./pipetui.toml`, else the user's config dir.
pub fn locate(explicit: Option<&Path>) -> ConfigFile {
    if let Some(p) = explicit {
        return ConfigFile::Explicit(p.to_path_buf());
    }
    let local = PathBuf::from("pipetui.toml");
    if local.is_file() {
        return ConfigFile::Local(local);
    }
    if let Some(dirs) = directories::ProjectDirs::from("", "", "pipetui") {
        let user = dirs.config_dir().join("config.toml");
        if user.is_file() {
            return ConfigFile::User(user);
        }
    }
    ConfigFile::None
}

/// Loads, merges, decodes and validates; returns every problem found, or the config.
pub fn load(
    file: ConfigFile,
    env: impl IntoIterator<Item = (String, String)>,
    overrides: &Overrides,
) -> Result<Loaded, LoadError> {
    let mut problems = Problems::default();
    let mut root = match parse_toml(EXAMPLE, EXAMPLE_NAME, Layer::Defaults) {
        Ok(n) => n,
        Err(p) => return Err(LoadError::Invalid(p)),
    };
    if let Some(path) = file.path() {
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let node = parse_toml(&text, &path.display().to_string(), Layer::File)
            .map_err(LoadError::Invalid)?;
        // [project] is the user's identity, not a default: the example's demo names (company,
        // service, owner) must never leak into someone else's resource names and tags.
        root.remove("project");
        root.merge(node, "", USER_MAPS);
    }
    for (name, value) in env {
        apply_env(&mut root, &name, value);
    }
    apply_flags(&mut root, overrides);

    let config = read_config(&root, &mut problems);
    if let Some(config) = &config {
        validate(config, &root, &mut problems);
    }
    problems.sort();
    match config {
        Some(config) if problems.is_empty() => Ok(Loaded {
            config,
            file,
            tree: root,
        }),
        _ => Err(LoadError::Invalid(problems)),
    }
}

/// `PIPETUI_AWS__REGION=eu-west-1` sets `aws.region`: `__` separates levels, names are
/// lower-cased. Variables without `__` are flags' environment names, not config keys.
fn apply_env(root: &mut Node, name: &str, value: String) {
    let Some(rest) = name.strip_prefix("PIPETUI_") else {
        return;
    };
    if !rest.contains("__") {
        return;
    }
    let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
    let parts: Vec<&str> = path.iter().map(String::as_str).collect();
    let node = Node {
        value: Value::Str(value),
        origin: Origin::unplaced(Layer::Env, format!("environment variable {name}")),
    };
    root.set(&parts, node);
}

fn apply_flags(root: &mut Node, o: &Overrides) {
    let flag = |name: &str, v: &str| Node {
        value: Value::Str(v.to_string()),
        origin: Origin::unplaced(Layer::Flag, name.to_string()),
    };
    if let Some(p) = &o.profile {
        root.set(&["aws", "profile"], flag("--profile", p));
        // A profile means real AWS unless an endpoint says otherwise.
        if o.endpoint_url.is_none() {
            root.set(&["aws", "endpoint"], flag("--profile", "aws"));
        }
    }
    if let Some(r) = &o.region {
        root.set(&["aws", "region"], flag("--region", r));
    }
    if let Some(u) = &o.endpoint_url {
        root.set(&["aws", "endpoint"], flag("--endpoint-url", u));
    }
    if o.read_only {
        root.set(&["console", "read_only"], flag("--read-only", "true"));
    }
}
