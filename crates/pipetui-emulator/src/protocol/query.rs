//! awsQuery: form-encoded requests (`Action`, `Version`, `Name.member.N`, `Map.entry.N.key`) and
//! XML responses wrapped in `<{Op}Response><{Op}Result>`, errors in `<ErrorResponse>`.

use std::collections::BTreeMap;

use quick_xml::Writer;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use serde_json::{Map, Value};

use super::value::{Output, as_timestamp, iso8601};
use super::{ServiceError, ServiceId};

#[derive(Debug, Default)]
enum Node {
    #[default]
    Empty,
    Leaf(String),
    Fields(BTreeMap<String, Node>),
    Items(BTreeMap<usize, Node>),
}

impl Node {
    fn insert(&mut self, path: &[&str], value: String) {
        let Some((head, rest)) = path.split_first() else {
            *self = Node::Leaf(value);
            return;
        };
        // `member.N` and `entry.N` are list positions; a bare number is one too.
        if (*head == "member" || *head == "entry")
            && let Some((idx, rest2)) = rest.split_first()
            && let Ok(i) = idx.parse::<usize>()
        {
            return self.item(i).insert(rest2, value);
        }
        if let Ok(i) = head.parse::<usize>() {
            return self.item(i).insert(rest, value);
        }
        if !matches!(self, Node::Fields(_)) {
            *self = Node::Fields(BTreeMap::new());
        }
        if let Node::Fields(f) = self {
            f.entry((*head).to_string())
                .or_default()
                .insert(rest, value);
        }
    }

    fn item(&mut self, i: usize) -> &mut Node {
        if !matches!(self, Node::Items(_)) {
            *self = Node::Items(BTreeMap::new());
        }
        match self {
            Node::Items(items) => items.entry(i).or_default(),
            _ => unreachable!("the node was made an Items node just above"),
        }
    }

    fn into_json(self) -> Value {
        match self {
            Node::Empty => Value::Null,
            Node::Leaf(s) => Value::String(s),
            Node::Fields(f) => {
                Value::Object(f.into_iter().map(|(k, v)| (k, v.into_json())).collect())
            }
            Node::Items(items) => {
                let values: Vec<Value> = items.into_values().map(Node::into_json).collect();
                // A map is sent as entry.N.key / entry.N.value pairs.
                let is_map = !values.is_empty()
                    && values.iter().all(|v| {
                        v.as_object()
                            .is_some_and(|o| o.len() <= 2 && o.contains_key("key"))
                    });
                if is_map {
                    let m: Map<String, Value> = values
                        .into_iter()
                        .filter_map(|v| {
                            let k = v.get("key")?.as_str()?.to_string();
                            Some((k, v.get("value").cloned().unwrap_or(Value::Null)))
                        })
                        .collect();
                    Value::Object(m)
                } else {
                    Value::Array(values)
                }
            }
        }
    }
}

/// Most dot-separated segments a form key may have. Building, converting and dropping the member
/// tree recurse once per segment, so a hostile `a.a.a…` key must not reach them unbounded; real
/// requests stay below ten (`Parameters.member.1.ParameterKey`).
pub const MAX_KEY_SEGMENTS: usize = 64;

/// A decoded form: `Action`, `Version` and the other members as nested JSON (scalars as text).
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub action: Option<String>,
    pub version: Option<String>,
    pub input: Value,
}

/// Decodes a form body. A key nested deeper than [`MAX_KEY_SEGMENTS`] is refused; the message
/// is what the validation error says.
pub fn decode_form(body: &[u8]) -> Result<Form, String> {
    let mut action = None;
    let mut version = None;
    let mut root = Node::Fields(BTreeMap::new());
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "Action" => action = Some(v.into_owned()),
            "Version" => version = Some(v.into_owned()),
            key => {
                let parts: Vec<&str> = key.split('.').take(MAX_KEY_SEGMENTS + 1).collect();
                if parts.len() > MAX_KEY_SEGMENTS {
                    let shown: String = key.chars().take(40).collect();
                    return Err(format!(
                        "The parameter {shown}... is nested more than {MAX_KEY_SEGMENTS} levels deep."
                    ));
                }
                root.insert(&parts, v.into_owned());
            }
        }
    }
    Ok(Form {
        action,
        version,
        input: root.into_json(),
    })
}

/// Escapes text as AWS's XML writers do: the five markup characters as entities, and line
/// breaks (`\r`, `\n`, U+0085, U+2028) as character references so they survive XML's
/// end-of-line normalisation. Characters XML 1.0 cannot carry at all (C0 controls but tab,
/// U+FFFE, U+FFFF) are written as character references too, which the SDK's parser decodes,
/// rather than raw, which would make the whole answer unreadable.
pub fn escape_text(s: &str) -> std::borrow::Cow<'_, str> {
    let special = |c: char| {
        matches!(
            c,
            '&' | '<' | '>' | '\'' | '"' | '\u{85}' | '\u{2028}' | '\u{FFFE}' | '\u{FFFF}'
        ) || (c.is_ascii_control() && c != '\t' && c != '\u{7F}')
    };
    if !s.contains(special) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c if special(c) => out.push_str(&format!("&#x{:X};", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Whether `s` can be an element name as AWS's member names are: an ASCII letter or `_`, then
/// letters, digits, `_`, `-` or `.`.
fn is_xml_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn text(w: &mut Writer<Vec<u8>>, name: &str, s: &str) {
    let _ = w.write_event(Event::Start(BytesStart::new(name)));
    let _ = w.write_event(Event::Text(BytesText::from_escaped(escape_text(s))));
    let _ = w.write_event(Event::End(BytesEnd::new(name)));
}

fn element(w: &mut Writer<Vec<u8>>, name: &str, v: &Value) {
    if let Some(t) = as_timestamp(v) {
        return text(w, name, &iso8601(t));
    }
    match v {
        Value::Null => {}
        Value::Bool(b) => text(w, name, if *b { "true" } else { "false" }),
        Value::Number(n) => text(w, name, &n.to_string()),
        Value::String(s) => text(w, name, s),
        Value::Array(items) => {
            let _ = w.write_event(Event::Start(BytesStart::new(name)));
            for i in items {
                element(w, "member", i);
            }
            let _ = w.write_event(Event::End(BytesEnd::new(name)));
        }
        Value::Object(m) => {
            let _ = w.write_event(Event::Start(BytesStart::new(name)));
            // Keys become element names: one a client slipped into stored JSON (AWS's
            // deserialisers drop unknown members) must not break or inject markup.
            for (k, v) in m.iter().filter(|(k, _)| is_xml_name(k)) {
                element(w, k, v);
            }
            let _ = w.write_event(Event::End(BytesEnd::new(name)));
        }
    }
}

/// `<{Op}Response xmlns=…><{Op}Result>…</{Op}Result><ResponseMetadata>…`.
pub fn encode_response(service: ServiceId, op: &str, output: &Output, request_id: &str) -> String {
    let mut w = Writer::new(Vec::new());
    let root = format!("{op}Response");
    let mut start = BytesStart::new(root.as_str());
    start.push_attribute(("xmlns", service.xml_namespace()));
    let _ = w.write_event(Event::Start(start));
    if !output.is_empty() {
        let result = format!("{op}Result");
        let _ = w.write_event(Event::Start(BytesStart::new(result.as_str())));
        if let Some(fields) = output.value.as_object() {
            for (k, v) in fields.iter().filter(|(k, _)| is_xml_name(k)) {
                element(&mut w, k, v);
            }
        }
        if let Some((key, items)) = &output.shared {
            let _ = w.write_event(Event::Start(BytesStart::new(*key)));
            for item in items {
                element(&mut w, "member", item);
            }
            let _ = w.write_event(Event::End(BytesEnd::new(*key)));
        }
        let _ = w.write_event(Event::End(BytesEnd::new(result.as_str())));
    }
    let _ = w.write_event(Event::Start(BytesStart::new("ResponseMetadata")));
    text(&mut w, "RequestId", request_id);
    let _ = w.write_event(Event::End(BytesEnd::new("ResponseMetadata")));
    let _ = w.write_event(Event::End(BytesEnd::new(root.as_str())));
    String::from_utf8_lossy(&w.into_inner()).into_owned()
}

/// `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
pub fn encode_error(service: Option<ServiceId>, e: &ServiceError, request_id: &str) -> String {
    let mut w = Writer::new(Vec::new());
    let mut start = BytesStart::new("ErrorResponse");
    if let Some(s) = service {
        start.push_attribute(("xmlns", s.xml_namespace()));
    }
    let _ = w.write_event(Event::Start(start));
    let _ = w.write_event(Event::Start(BytesStart::new("Error")));
    text(&mut w, "Type", if e.sender { "Sender" } else { "Receiver" });
    text(&mut w, "Code", &e.code);
    text(&mut w, "Message", &e.message);
    let _ = w.write_event(Event::End(BytesEnd::new("Error")));
    text(&mut w, "RequestId", request_id);
    let _ = w.write_event(Event::End(BytesEnd::new("ErrorResponse")));
    String::from_utf8_lossy(&w.into_inner()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_lists_structures_and_maps() {
        let body = b"Action=CreateStack&Version=2010-05-15&StackName=s&Parameters.member.1.ParameterKey=A&Parameters.member.1.ParameterValue=1&Parameters.member.2.ParameterKey=B&Capabilities.member.1=CAPABILITY_IAM&Tags.entry.1.key=k&Tags.entry.1.value=v";
        let form = decode_form(body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(form.action.as_deref(), Some("CreateStack"));
        assert_eq!(form.version.as_deref(), Some("2010-05-15"));
        assert_eq!(
            form.input,
            serde_json::json!({
                "StackName": "s",
                "Parameters": [{"ParameterKey": "A", "ParameterValue": "1"}, {"ParameterKey": "B"}],
                "Capabilities": ["CAPABILITY_IAM"],
                "Tags": {"k": "v"}
            })
        );
    }

    #[test]
    fn keys_that_are_no_element_names_are_left_out_and_text_is_escaped() {
        let xml = encode_response(
            ServiceId::CloudWatch,
            "DescribeAlarms",
            &serde_json::json!({"A": {"<b x=\"1\">": "v", "Ok": "a\u{1}\r\n"}}).into(),
            "r1",
        );
        assert!(xml.contains("<A><Ok>a&#x1;&#xD;&#xA;</Ok></A>"), "{xml}");
        assert!(!xml.contains("<b"), "{xml}");
    }

    #[test]
    fn response_envelope() {
        let xml = encode_response(
            ServiceId::CloudFormation,
            "DescribeStacks",
            &serde_json::json!({"Stacks": [{"StackName": "a & b"}]}).into(),
            "r1",
        );
        assert_eq!(
            xml,
            "<DescribeStacksResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><DescribeStacksResult><Stacks><member><StackName>a &amp; b</StackName></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></DescribeStacksResponse>"
        );
    }
}
