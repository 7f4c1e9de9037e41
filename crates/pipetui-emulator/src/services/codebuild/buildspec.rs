//! The buildspec (version 0.2) as the runner needs it: environment, the four command phases
//! with `on-failure` and `finally`, and the artifacts section.

use serde_yaml_ng::Value as Yaml;

/// The phases a buildspec may define, in the order CodeBuild runs them.
pub const COMMAND_PHASES: [(&str, &str); 4] = [
    ("install", "INSTALL"),
    ("pre_build", "PRE_BUILD"),
    ("build", "BUILD"),
    ("post_build", "POST_BUILD"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnFailure {
    #[default]
    Abort,
    Continue,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhaseSpec {
    pub commands: Vec<String>,
    pub finally: Vec<String>,
    pub on_failure: OnFailure,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArtifactSpec {
    pub files: Vec<String>,
    pub base_directory: Option<String>,
    pub discard_paths: bool,
    pub name: Option<String>,
}

/// A secret the buildspec asks for: (variable, reference, where it lives).
#[derive(Debug, Clone, PartialEq)]
pub struct SecretRef {
    pub variable: String,
    pub reference: String,
    pub store: &'static str,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Buildspec {
    pub version: String,
    pub shell: Option<String>,
    pub variables: Vec<(String, String)>,
    pub secrets: Vec<SecretRef>,
    /// `env.exported-variables`: reported as the build's exportedEnvironmentVariables.
    pub exported_variables: Vec<String>,
    /// Indexed like [`COMMAND_PHASES`]; a phase the file leaves out has no commands.
    pub phases: [PhaseSpec; 4],
    pub artifacts: Option<ArtifactSpec>,
}

impl Buildspec {
    /// Phases that have at least one command, as CodeBuild counts them in its log.
    pub fn defined_phases(&self) -> usize {
        self.phases
            .iter()
            .filter(|p| !p.commands.is_empty() || !p.finally.is_empty())
            .count()
    }
}

fn scalar(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn key<'a>(map: &'a Yaml, name: &str) -> Option<&'a Yaml> {
    map.as_mapping()?.get(Yaml::String(name.to_string()))
}

fn string_list(v: Option<&Yaml>, what: &str) -> Result<Vec<String>, String> {
    match v {
        None | Some(Yaml::Null) => Ok(Vec::new()),
        Some(Yaml::Sequence(items)) => items
            .iter()
            .map(|i| scalar(i).ok_or_else(|| format!("Expected {what} to be a list of strings")))
            .collect(),
        Some(other) => scalar(other)
            .map(|s| vec![s])
            .ok_or_else(|| format!("Expected {what} to be a list of strings")),
    }
}

fn pairs(v: Option<&Yaml>, what: &str) -> Result<Vec<(String, String)>, String> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let map = v
        .as_mapping()
        .ok_or_else(|| format!("Expected {what} to be a map"))?;
    map.iter()
        .map(|(k, v)| match (scalar(k), scalar(v)) {
            (Some(k), Some(v)) => Ok((k, v)),
            _ => Err(format!("Invalid entry in {what}")),
        })
        .collect()
}

fn yes(v: Option<&Yaml>) -> bool {
    match v {
        Some(Yaml::Bool(b)) => *b,
        Some(Yaml::String(s)) => matches!(s.to_ascii_lowercase().as_str(), "yes" | "true"),
        _ => false,
    }
}

/// Parses a buildspec; the error is the message CodeBuild reports with `YAML_FILE_ERROR`.
pub fn parse(text: &str) -> Result<Buildspec, String> {
    if crate::cloudformation::engine::yaml::yaml_too_deep(text) {
        return Err("Invalid YAML: the document nests too deeply".into());
    }
    let doc: Yaml = serde_yaml_ng::from_str(text).map_err(|e| format!("Invalid YAML: {e}"))?;
    if doc.as_mapping().is_none() {
        return Err("Invalid buildspec: expected a YAML map".into());
    }
    let version = key(&doc, "version").and_then(scalar).unwrap_or_default();
    if version != "0.2" && version != "0.1" {
        return Err(format!(
            "invalid buildSpec version '{version}': only 0.1 and 0.2 are supported"
        ));
    }
    let mut spec = Buildspec {
        version,
        ..Default::default()
    };
    if let Some(env) = key(&doc, "env").filter(|e| !e.is_null()) {
        spec.shell = key(env, "shell").and_then(scalar);
        spec.variables = pairs(key(env, "variables"), "env.variables")?;
        spec.exported_variables =
            string_list(key(env, "exported-variables"), "env.exported-variables")?;
        for (section, store) in [
            ("parameter-store", "PARAMETER_STORE"),
            ("secrets-manager", "SECRETS_MANAGER"),
        ] {
            for (variable, reference) in pairs(key(env, section), &format!("env.{section}"))? {
                spec.secrets.push(SecretRef {
                    variable,
                    reference,
                    store,
                });
            }
        }
    }
    if let Some(phases) = key(&doc, "phases").filter(|p| !p.is_null()) {
        let Some(map) = phases.as_mapping() else {
            return Err("Expected phases to be a map".into());
        };
        // A misspelt phase would silently skip its commands: CodeBuild refuses the file.
        for name in map.keys().filter_map(Yaml::as_str) {
            if !COMMAND_PHASES.iter().any(|(n, _)| *n == name) {
                return Err(format!(
                    "invalid phase name {name}: expected install, pre_build, build or post_build"
                ));
            }
        }
        for (i, (name, _)) in COMMAND_PHASES.iter().enumerate() {
            let Some(p) = key(phases, name).filter(|p| !p.is_null()) else {
                continue;
            };
            let on_failure = match key(p, "on-failure").and_then(scalar).as_deref() {
                None | Some("ABORT") => OnFailure::Abort,
                Some("CONTINUE") => OnFailure::Continue,
                Some(other) => {
                    return Err(format!(
                        "invalid value for on-failure in phase {name}: {other}"
                    ));
                }
            };
            spec.phases[i] = PhaseSpec {
                commands: string_list(key(p, "commands"), &format!("phases.{name}.commands"))?,
                finally: string_list(key(p, "finally"), &format!("phases.{name}.finally"))?,
                on_failure,
            };
        }
    }
    if let Some(a) = key(&doc, "artifacts").filter(|a| !a.is_null()) {
        spec.artifacts = Some(ArtifactSpec {
            files: string_list(key(a, "files"), "artifacts.files")?,
            base_directory: key(a, "base-directory").and_then(scalar),
            discard_paths: yes(key(a, "discard-paths")),
            name: key(a, "name").and_then(scalar),
        });
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_section() {
        let spec = parse(
            "version: 0.2\nenv:\n  shell: bash\n  variables:\n    A: 1\n  parameter-store:\n    P: /x/y\n\
             phases:\n  build:\n    on-failure: CONTINUE\n    commands:\n      - echo hi\n    finally:\n      - echo bye\n\
             artifacts:\n  base-directory: dist\n  discard-paths: yes\n  files:\n    - '**/*'\n",
        )
        .unwrap();
        assert_eq!(spec.shell.as_deref(), Some("bash"));
        assert_eq!(spec.variables, vec![("A".to_string(), "1".to_string())]);
        assert_eq!(spec.secrets[0].store, "PARAMETER_STORE");
        assert_eq!(spec.phases[2].commands, vec!["echo hi"]);
        assert_eq!(spec.phases[2].finally, vec!["echo bye"]);
        assert_eq!(spec.phases[2].on_failure, OnFailure::Continue);
        let a = spec.artifacts.clone().unwrap();
        assert!(a.discard_paths);
        assert_eq!(a.base_directory.as_deref(), Some("dist"));
        assert_eq!(spec.defined_phases(), 1);
    }

    #[test]
    fn rejects_a_bad_version_and_bad_yaml() {
        assert!(parse("version: 9\n").unwrap_err().contains("version"));
        assert!(parse("version: 0.2\nphases: [").is_err());
        assert!(
            parse("version: 0.2\nphases:\n  prebuild:\n    commands: [ls]\n")
                .unwrap_err()
                .contains("prebuild")
        );
        assert!(
            parse("version: 0.2\nphases:\n  build:\n    on-failure: MAYBE\n")
                .unwrap_err()
                .contains("on-failure")
        );
    }
}
