//! What the engine knows about each resource type: required properties, how the physical id
//! and ARN are made, which attributes `Fn::GetAtt` can read, which changes force replacement.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Context;
use super::intrinsics::ResourceLookup;
use super::registry_table::SPECS;
use super::template::scalar_text;

/// What `Ref` returns for a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// The physical name (`BucketName`, `RoleName`, ...).
    Name,
    /// The ARN (SNS topics, secrets, managed policies, ECS services).
    Arn,
    /// A service-made id (`sg-...`, a KMS key id, a generated token).
    Id,
}

/// How a name is made when the template does not give one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameStyle {
    /// `{stack}-{logical}-{RANDOM13}`, cut to `max`; lowercase for S3 and ECR.
    Stack { max: usize, lower: bool },
    /// `{logical}-{RANDOM12}` (Secrets Manager).
    Logical,
    /// A UUID (KMS key ids).
    Uuid,
    /// `prefix` + this many hex digits (`sg-` + 17).
    Hex(&'static str, usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceSpec {
    pub type_name: &'static str,
    pub required: &'static [&'static str],
    /// The property that names the resource, if the type has one.
    pub name_property: Option<&'static str>,
    pub name_style: NameStyle,
    pub ref_kind: RefKind,
    /// ARN template: `{partition} {region} {account} {suffix} {name} {id} {path}
    /// {prop:X|default} {uuid} {rand6}`.
    pub arn: Option<&'static str>,
    /// Attribute → value template (same placeholders, plus `{arn}`). A template starting with
    /// `?Prop|` exists only when property `Prop` is set.
    pub attributes: &'static [(&'static str, &'static str)],
    /// Properties whose change replaces the resource; `"*"` means every property.
    pub replace_on: &'static [&'static str],
}

impl ResourceSpec {
    pub fn has_attribute(&self, attr: &str) -> bool {
        self.attributes.iter().any(|(a, _)| *a == attr)
    }

    /// Whether changing `property` replaces the resource.
    pub fn replaces_on(&self, property: &str) -> bool {
        self.replace_on.iter().any(|p| *p == "*" || *p == property)
    }

    /// AWS's reason for a resource created without its required properties, if any are missing.
    pub fn missing_required(&self, logical_id: &str, properties: &Value) -> Option<String> {
        let missing: Vec<String> = self
            .required
            .iter()
            .filter(|p| properties.get(**p).is_none_or(Value::is_null))
            .map(|p| format!("#: required key [{p}] not found"))
            .collect();
        let message = match missing.as_slice() {
            [] => return None,
            [one] => one.clone(),
            many => format!("[{}]", many.join(", ")),
        };
        Some(format!(
            "Properties validation failed for resource {logical_id} with message: {message}"
        ))
    }
}

/// The spec of a resource type pipetui can emit, or `None` for a type the emulator cannot create.
pub fn resource_spec(type_name: &str) -> Option<&'static ResourceSpec> {
    SPECS.iter().find(|s| s.type_name == type_name)
}

/// A deterministic random source (splitmix64), seeded by the caller so runs can be replayed.
#[derive(Debug, Clone)]
pub struct Random {
    state: u64,
}

impl Random {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick(&mut self, len: usize, alphabet: &[u8]) -> String {
        (0..len)
            .map(|_| {
                let i = (self.next_u64() % alphabet.len() as u64) as usize;
                char::from(alphabet[i])
            })
            .collect()
    }

    /// `A-Z0-9`, the suffix style of CloudFormation-generated names.
    pub fn upper_alnum(&mut self, len: usize) -> String {
        self.pick(len, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    }

    pub fn mixed_alnum(&mut self, len: usize) -> String {
        self.pick(
            len,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        )
    }

    pub fn hex(&mut self, len: usize) -> String {
        self.pick(len, b"0123456789abcdef")
    }

    /// A version-4-shaped UUID.
    pub fn uuid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-4{}-a{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }
}

/// A created resource: what Ref and Fn::GetAtt give.
#[derive(Debug, Clone, PartialEq)]
pub struct Provisioned {
    pub physical_id: String,
    /// The name, for types that have one (equal to the id for id-only types).
    pub name: String,
    pub arn: Option<String>,
    pub attributes: BTreeMap<String, Value>,
}

/// Ref/GetAtt over resources created so far, keyed by logical id.
impl ResourceLookup for BTreeMap<String, Provisioned> {
    fn physical_id(&self, logical: &str) -> Option<String> {
        self.get(logical).map(|p| p.physical_id.clone())
    }
    fn attribute(&self, logical: &str, attr: &str) -> Option<Value> {
        self.get(logical)?.attributes.get(attr).cloned()
    }
}

/// Creates (on paper) one resource from its evaluated properties. `Err` is the
/// ResourceStatusReason of a `CREATE_FAILED` event. On an update without replacement, callers
/// keep the old physical id and may call this again only to refresh attributes.
pub fn provision(
    spec: &ResourceSpec,
    logical_id: &str,
    properties: &Value,
    ctx: &Context,
    rng: &mut Random,
) -> Result<Provisioned, String> {
    if let Some(reason) = spec.missing_required(logical_id, properties) {
        return Err(reason);
    }
    let given = spec
        .name_property
        .and_then(|p| properties.get(p))
        .and_then(scalar_text);
    let name = match given {
        Some(n) => n,
        None => generated_name(spec.name_style, logical_id, &ctx.stack_name, rng),
    };
    let fill = Filler {
        ctx,
        name: &name,
        properties,
    };
    let arn = spec.arn.and_then(|t| fill.fill(t, None, rng));
    let physical_id = match (spec.ref_kind, &arn) {
        (RefKind::Arn, Some(a)) => a.clone(),
        _ => name.clone(),
    };
    let mut attributes = BTreeMap::new();
    for (attr, t) in spec.attributes {
        if let Some(v) = fill.fill(t, arn.as_deref(), rng) {
            attributes.insert((*attr).to_string(), Value::String(v));
        }
    }
    Ok(Provisioned {
        physical_id,
        name,
        arn,
        attributes,
    })
}

fn generated_name(style: NameStyle, logical: &str, stack: &str, rng: &mut Random) -> String {
    match style {
        NameStyle::Stack { max, lower } => {
            let suffix = rng.upper_alnum(13);
            let prefix: String = format!("{stack}-{logical}")
                .chars()
                .take(max.saturating_sub(suffix.len() + 1))
                .collect();
            let name = format!("{prefix}-{suffix}");
            if lower { name.to_lowercase() } else { name }
        }
        NameStyle::Logical => format!("{logical}-{}", rng.mixed_alnum(12)),
        NameStyle::Uuid => rng.uuid(),
        NameStyle::Hex(prefix, len) => format!("{prefix}{}", rng.hex(len)),
    }
}

struct Filler<'a> {
    ctx: &'a Context,
    name: &'a str,
    properties: &'a Value,
}

impl Filler<'_> {
    /// Expands a template; `None` when it needs a property that is not set.
    fn fill(&self, template: &str, arn: Option<&str>, rng: &mut Random) -> Option<String> {
        let template = match template.strip_prefix('?') {
            Some(rest) => {
                let (prop, t) = rest.split_once('|')?;
                self.properties.get(prop)?;
                t
            }
            None => template,
        };
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}')? + start;
            out.push_str(&self.placeholder(&rest[start + 1..end], arn, rng)?);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        Some(out)
    }

    fn placeholder(&self, key: &str, arn: Option<&str>, rng: &mut Random) -> Option<String> {
        Some(match key {
            "partition" => self.ctx.partition().into(),
            "region" => self.ctx.region.clone(),
            "account" => self.ctx.account_id.clone(),
            "suffix" => self.ctx.url_suffix().into(),
            "name" | "id" => self.name.into(),
            "arn" => arn?.into(),
            "uuid" => rng.uuid(),
            "rand6" => rng.mixed_alnum(6),
            "RAND17" => rng.upper_alnum(17),
            "path" => self
                .properties
                .get("Path")
                .and_then(scalar_text)
                .unwrap_or_else(|| "/".into()),
            other => {
                let spec = other.strip_prefix("prop:")?;
                let (prop, default) = match spec.split_once('|') {
                    Some((p, d)) => (p, Some(d)),
                    None => (spec, None),
                };
                match self.properties.get(prop).and_then(scalar_text) {
                    Some(v) => v,
                    None => default?.into(),
                }
            }
        })
    }
}
