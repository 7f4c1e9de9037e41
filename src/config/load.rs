//! Layers, later wins: embedded `config.example.toml` → the file → `PIPETUI_*` variables → flags.

use std::path::{Path, PathBuf};

use super::problem::{Problem, Problems};
use super::schema::{Config, read_config};
use super::tree::{Entry, Layer, Node, Origin, Value, parse_toml};
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
    let defaults = root.clone();
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
    match &config {
        Some(config) => validate(config, &root, &mut problems),
        None => validate_around(&root, &defaults, &mut problems),
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

/// Decode problems leave no typed config to validate. With the defaults standing in for each bad
/// value the rest is still checked, so one run lists every problem; checks that involve a
/// stood-in value are left out (they would be about the default, not the user's value).
fn validate_around(root: &Node, defaults: &Node, problems: &mut Problems) {
    let mut bad: Vec<String> = problems
        .iter()
        .map(|p| p.path.clone())
        .filter(|p| !p.is_empty())
        .collect();
    let mut repaired = root.clone();
    // A stand-in may uncover a problem the first decode did not reach: a few rounds at most.
    for _ in 0..4 {
        for path in &bad {
            let parts: Vec<&str> = path.split('.').collect();
            replace_at(&mut repaired, &parts, defaults.lookup(path).cloned());
        }
        let mut again = Problems::default();
        match read_config(&repaired, &mut again) {
            Some(config) => {
                let mut found = Problems::default();
                validate(&config, &repaired, &mut found);
                for p in found.0 {
                    if !bad.iter().any(|b| involves(&p, b)) {
                        problems.push(p);
                    }
                }
                return;
            }
            None => {
                let more: Vec<String> = again
                    .iter()
                    .map(|p| p.path.clone())
                    .filter(|p| !p.is_empty() && !bad.contains(p))
                    .collect();
                if more.is_empty() {
                    return;
                }
                bad.extend(more);
            }
        }
    }
}

/// Whether a validation problem is about (or mentions) the stood-in key `bad`.
fn involves(p: &Problem, bad: &str) -> bool {
    // The key's name, or for an array element the array's ("environments", not "1").
    let leaf = bad
        .rsplit('.')
        .find(|part| part.parse::<usize>().is_err())
        .unwrap_or(bad);
    p.path == bad
        || p.path.starts_with(&format!("{bad}."))
        || bad.starts_with(&format!("{}.", p.path))
        || p.message.contains(leaf)
        || p.hint.as_deref().is_some_and(|h| h.contains(leaf))
}

/// Replaces the node at a dotted path (array elements by index), or removes a table key when
/// there is no replacement.
fn replace_at(node: &mut Node, path: &[&str], with: Option<Node>) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    match &mut node.value {
        Value::Table(entries) => {
            if !rest.is_empty() {
                if let Some(e) = entries.iter_mut().find(|e| e.key == *first) {
                    replace_at(&mut e.node, rest, with);
                }
                return;
            }
            match with {
                Some(n) => match entries.iter_mut().find(|e| e.key == *first) {
                    Some(e) => e.node = n,
                    None => entries.push(Entry {
                        key: (*first).to_string(),
                        key_origin: n.origin.clone(),
                        node: n,
                    }),
                },
                None => entries.retain(|e| e.key != *first),
            }
        }
        Value::Array(items) => {
            let Some(item) = first.parse::<usize>().ok().and_then(|i| items.get_mut(i)) else {
                return;
            };
            if !rest.is_empty() {
                replace_at(item, rest, with);
            } else if let Some(n) = with {
                // Removing an element would renumber the rest: only a stand-in replaces it.
                *item = n;
            }
        }
        _ => {}
    }
}
