//! Checks on values that must be references, not the thing itself: a `[*.secrets]` value names
//! a Secrets Manager secret (it is rendered into the template, so it must never be the secret);
//! an emulator fault's probabilities are of one request, so they cannot sum over 1.

use super::problem::{Problem, Problems};
use super::schema::Config;
use super::tree::Node;

/// Characters of a Secrets Manager secret name.
fn is_secret_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 512
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
}

/// A CodeBuild `SECRETS_MANAGER` value: a secret ARN, or `secret-id:json-key` (optionally
/// `:version-stage:version-id`). A bare word is refused: it cannot be told from a password.
pub fn is_secret_reference(value: &str) -> bool {
    if value.contains(char::is_whitespace) || value.len() > 2048 {
        return false;
    }
    if let Some(rest) = value.strip_prefix("arn:") {
        // arn:<partition>:secretsmanager:<region>:<account>:secret:<name>[:json-key…]
        let parts: Vec<&str> = rest.splitn(6, ':').collect();
        return parts.len() == 6
            && parts[0].starts_with("aws")
            && parts[1] == "secretsmanager"
            && !parts[2].is_empty()
            && parts[3].len() == 12
            && parts[3].chars().all(|c| c.is_ascii_digit())
            && parts[4] == "secret"
            && parts[5].split(':').next().is_some_and(is_secret_name);
    }
    let mut parts = value.split(':');
    let id = parts.next().unwrap_or("");
    let key = parts.next().unwrap_or("");
    is_secret_name(id) && !key.is_empty() && parts.count() <= 2
}

/// Every `[<project>.secrets]` value must be a reference.
pub fn secret_references(config: &Config, root: &Node, problems: &mut Problems) {
    for (key, b) in [
        ("build", &config.build),
        ("test", &config.test),
        ("image.build", &config.image.build),
    ] {
        for (name, reference) in &b.secrets {
            if is_secret_reference(reference) {
                continue;
            }
            let path = format!("{key}.secrets.{name}");
            // The value is never echoed: it may be the secret.
            problems.push(
                Problem::new(
                    &path,
                    root.nearest_origin(&path),
                    "this is not a Secrets Manager reference (it may be the secret itself)",
                )
                .with_hint(
                    "write \"secret-id:json-key\" or a secret ARN; the value itself belongs in \
                     Secrets Manager, never in this file",
                ),
            );
        }
    }
}

/// A fault's throttle, server-error and drop probabilities exclude each other per request.
pub fn fault_probabilities(config: &Config, root: &Node, problems: &mut Problems) {
    for (key, f) in &config.emulator.faults {
        let sum = f.throttle + f.server_error + f.drop_connection;
        if sum > 1.0 + 1e-9 {
            let path = format!("emulator.faults.{key}");
            problems.push(
                Problem::new(
                    &path,
                    root.nearest_origin(&path),
                    format!(
                        "throttle + server_error + drop_connection is {sum}; one request can \
                         meet at most one fault, so the sum must be at most 1"
                    ),
                )
                .with_hint("lower the probabilities"),
            );
        }
    }
}
