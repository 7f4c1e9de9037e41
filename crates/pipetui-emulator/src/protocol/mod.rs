//! Wire protocols, apart from service logic. A request is decoded into a [`Call`] (service,
//! operation, protocol-neutral JSON input); a service answers with JSON output or a
//! [`ServiceError`]; the same protocol that decoded the request encodes the answer.
//!
//! The protocol is detected per request (path, content type, target header, form fields), never
//! assumed per service, so CloudWatch answers RPC v2 CBOR, awsQuery and JSON 1.0 alike.

pub mod cbor;
pub mod query;
mod types;
pub mod value;

use serde_json::Value;

pub use value::{Input, Output, ts};

/// Largest request body accepted (PutLogEvents allows 1 MiB, templates 1 MB by URL).
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// The services the emulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceId {
    CodePipeline,
    CodeDeploy,
    CodeBuild,
    Logs,
    CloudFormation,
    CloudWatch,
    Sts,
}

impl ServiceId {
    /// The awsJson `X-Amz-Target` prefix (the Smithy service shape name).
    pub fn target_prefix(self) -> &'static str {
        match self {
            ServiceId::CodePipeline => "CodePipeline_20150709",
            ServiceId::CodeDeploy => "CodeDeploy_20141006",
            ServiceId::CodeBuild => "CodeBuild_20161006",
            ServiceId::Logs => "Logs_20140328",
            ServiceId::CloudFormation => "CloudFormation",
            ServiceId::CloudWatch => "GraniteServiceVersion20100801",
            ServiceId::Sts => "AWSSecurityTokenServiceV20110615",
        }
    }

    fn from_target_prefix(prefix: &str) -> Option<Self> {
        [
            ServiceId::CodePipeline,
            ServiceId::CodeDeploy,
            ServiceId::CodeBuild,
            ServiceId::Logs,
            ServiceId::CloudWatch,
            ServiceId::Sts,
        ]
        .into_iter()
        .find(|s| s.target_prefix() == prefix)
    }

    /// The awsQuery API version that identifies the service in form-encoded requests.
    fn from_query_version(version: &str) -> Option<Self> {
        match version {
            "2010-05-15" => Some(ServiceId::CloudFormation),
            "2010-08-01" => Some(ServiceId::CloudWatch),
            "2011-06-15" => Some(ServiceId::Sts),
            _ => None,
        }
    }

    pub fn xml_namespace(self) -> &'static str {
        match self {
            ServiceId::CloudFormation => "http://cloudformation.amazonaws.com/doc/2010-05-15/",
            ServiceId::CloudWatch => "http://monitoring.amazonaws.com/doc/2010-08-01/",
            ServiceId::Sts => "https://sts.amazonaws.com/doc/2011-06-15/",
            _ => "",
        }
    }

    /// The service named as in the config's `[emulator.faults]` keys.
    pub fn from_config_name(name: &str) -> Option<Self> {
        Some(match name {
            "codepipeline" => ServiceId::CodePipeline,
            "codedeploy" => ServiceId::CodeDeploy,
            "codebuild" => ServiceId::CodeBuild,
            "logs" => ServiceId::Logs,
            "cloudformation" => ServiceId::CloudFormation,
            "cloudwatch" => ServiceId::CloudWatch,
            "sts" => ServiceId::Sts,
            _ => return None,
        })
    }

    /// The name of the service's throttling error code.
    pub fn throttle_code(self) -> &'static str {
        match self {
            ServiceId::CloudFormation | ServiceId::CloudWatch | ServiceId::Sts => "Throttling",
            ServiceId::CodeDeploy => "ThrottlingException",
            _ => "ThrottlingException",
        }
    }
}

/// How the request was encoded, which decides how the answer is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    AwsJson11,
    AwsJson10,
    AwsQuery,
    RpcV2Cbor,
}

/// A decoded request.
#[derive(Debug, Clone)]
pub struct Call {
    pub service: ServiceId,
    pub operation: String,
    pub protocol: Protocol,
    pub input: Value,
}

/// A service error as data: the protocol layer decides its envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceError {
    /// The code clients match on (`PipelineNotFoundException`, `ValidationError`, …).
    pub code: String,
    pub message: String,
    pub status: u16,
    /// Sender (client) fault rather than Receiver (server) fault.
    pub sender: bool,
}

impl ServiceError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            status: 400,
            sender: true,
        }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self.sender = status < 500;
        self
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationError", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("InternalFailure", message).with_status(500)
    }
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ServiceError {}

/// A transport-neutral HTTP request.
#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A transport-neutral HTTP response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why a request could not even be decoded; answered in the detected protocol's envelope.
#[derive(Debug)]
pub struct Rejected {
    pub protocol: Protocol,
    pub service: Option<ServiceId>,
    pub operation: String,
    pub error: ServiceError,
}

fn reject(protocol: Protocol, service: Option<ServiceId>, op: &str, e: ServiceError) -> Rejected {
    Rejected {
        protocol,
        service,
        operation: op.to_string(),
        error: e,
    }
}

/// The protocol and service a request claims, from its path and headers alone (the body is not
/// read yet), as [`decode`] detects them; a form-encoded call names its service in the body.
pub fn detect(req: &HttpRequest) -> (Protocol, Option<ServiceId>) {
    if let Some(idx) = req.path.find("/service/") {
        let shape = req.path[idx + "/service/".len()..].split('/').next();
        return (
            Protocol::RpcV2Cbor,
            shape.and_then(ServiceId::from_target_prefix),
        );
    }
    if let Some(target) = req.header("x-amz-target") {
        let json10 = req
            .header("content-type")
            .is_some_and(|c| c.to_ascii_lowercase().contains("x-amz-json-1.0"));
        let protocol = if json10 {
            Protocol::AwsJson10
        } else {
            Protocol::AwsJson11
        };
        let prefix = target.split_once('.').map_or(target, |(p, _)| p);
        return (protocol, ServiceId::from_target_prefix(prefix));
    }
    (Protocol::AwsQuery, None)
}

/// Detects the protocol and decodes the request.
pub fn decode(req: &HttpRequest) -> Result<Call, Rejected> {
    let content_type = req
        .header("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let too_large = || {
        ServiceError::new(
            "RequestEntityTooLargeException",
            format!("Request body exceeds the limit of {MAX_BODY} bytes"),
        )
        .with_status(413)
    };
    // RPC v2 CBOR: POST /service/{ServiceShape}/operation/{Operation}
    if let Some(idx) = req.path.find("/service/") {
        let rest = &req.path[idx + "/service/".len()..];
        let mut parts = rest.split('/');
        let shape = parts.next().unwrap_or("");
        let op = match (parts.next(), parts.next()) {
            (Some("operation"), Some(op)) => op.split('?').next().unwrap_or(op),
            _ => "",
        };
        let service = ServiceId::from_target_prefix(shape);
        if req.body.len() > MAX_BODY {
            return Err(reject(Protocol::RpcV2Cbor, service, op, too_large()));
        }
        let Some(service) = service else {
            return Err(reject(Protocol::RpcV2Cbor, None, op, unknown_op(shape, op)));
        };
        let body = match req.header("content-encoding") {
            Some(enc) if enc.eq_ignore_ascii_case("gzip") => {
                gunzip(&req.body).map_err(|e| reject(Protocol::RpcV2Cbor, Some(service), op, e))?
            }
            _ => req.body.clone(),
        };
        let input = if body.is_empty() {
            Value::Object(Default::default())
        } else {
            cbor::decode(&body).map_err(|m| {
                reject(
                    Protocol::RpcV2Cbor,
                    Some(service),
                    op,
                    ServiceError::new("SerializationException", m),
                )
            })?
        };
        types::check(service, op, Protocol::RpcV2Cbor, &input)
            .map_err(|e| reject(Protocol::RpcV2Cbor, Some(service), op, e))?;
        return Ok(Call {
            service,
            operation: op.to_string(),
            protocol: Protocol::RpcV2Cbor,
            input,
        });
    }
    // awsJson 1.0 / 1.1: X-Amz-Target: {ServiceShape}.{Operation}
    if let Some(target) = req.header("x-amz-target") {
        let protocol = if content_type.contains("x-amz-json-1.0") {
            Protocol::AwsJson10
        } else {
            Protocol::AwsJson11
        };
        let (prefix, op) = target.split_once('.').unwrap_or((target, ""));
        let service = ServiceId::from_target_prefix(prefix);
        if req.body.len() > MAX_BODY {
            return Err(reject(protocol, service, op, too_large()));
        }
        let Some(service) = service else {
            return Err(reject(protocol, None, op, unknown_op(prefix, op)));
        };
        let input = if req.body.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Default::default())
        } else {
            serde_json::from_slice(&req.body).map_err(|e| {
                reject(
                    protocol,
                    Some(service),
                    op,
                    ServiceError::new("SerializationException", format!("Malformed JSON: {e}")),
                )
            })?
        };
        types::check(service, op, protocol, &input)
            .map_err(|e| reject(protocol, Some(service), op, e))?;
        return Ok(Call {
            service,
            operation: op.to_string(),
            protocol,
            input,
        });
    }
    // awsQuery: form-encoded Action and Version (body, or the query string of a GET).
    let form: Vec<u8> = if req.body.is_empty() {
        req.path
            .split_once('?')
            .map(|(_, q)| q.as_bytes().to_vec())
            .unwrap_or_default()
    } else {
        req.body.clone()
    };
    if form.len() > MAX_BODY {
        return Err(reject(Protocol::AwsQuery, None, "", too_large()));
    }
    let query::Form {
        action,
        version,
        input,
    } = query::decode_form(&form).map_err(|m| {
        reject(
            Protocol::AwsQuery,
            query_service(&form),
            "",
            ServiceError::validation(m),
        )
    })?;
    let service = version.as_deref().and_then(ServiceId::from_query_version);
    match (action, service) {
        (Some(action), Some(service)) => {
            types::check(service, &action, Protocol::AwsQuery, &input)
                .map_err(|e| reject(Protocol::AwsQuery, Some(service), &action, e))?;
            Ok(Call {
                service,
                operation: action,
                protocol: Protocol::AwsQuery,
                input,
            })
        }
        (action, service) => {
            let action = action.unwrap_or_default();
            let e = ServiceError::new(
                "InvalidAction",
                format!("The action {action} is not valid for this web service."),
            );
            Err(reject(Protocol::AwsQuery, service, &action, e))
        }
    }
}

/// The service a form names by its `Version`, for the envelope of a form that failed to decode.
fn query_service(form: &[u8]) -> Option<ServiceId> {
    form_urlencoded::parse(form)
        .find(|(k, _)| k == "Version")
        .and_then(|(_, v)| ServiceId::from_query_version(&v))
}

fn unknown_op(prefix: &str, op: &str) -> ServiceError {
    ServiceError::new(
        "UnknownOperationException",
        format!("Unknown operation {prefix}.{op}"),
    )
}

fn gunzip(body: &[u8]) -> Result<Vec<u8>, ServiceError> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| ServiceError::new("SerializationException", format!("Bad gzip body: {e}")))?;
    if out.len() > MAX_BODY {
        return Err(
            ServiceError::new("RequestEntityTooLargeException", "Request body too large")
                .with_status(413),
        );
    }
    Ok(out)
}

fn json_content_type(protocol: Protocol) -> &'static str {
    if protocol == Protocol::AwsJson10 {
        "application/x-amz-json-1.0"
    } else {
        "application/x-amz-json-1.1"
    }
}

fn base_headers(request_id: &str) -> Vec<(String, String)> {
    vec![
        ("x-amzn-RequestId".into(), request_id.to_string()),
        ("Date".into(), httpdate_now()),
    ]
}

fn httpdate_now() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    now.format(&fmt).unwrap_or_default()
}

/// Encodes a successful answer in the protocol of the request.
pub fn encode_ok(call: &Call, output: &Output, request_id: &str) -> HttpResponse {
    let mut headers = base_headers(request_id);
    let body = match call.protocol {
        Protocol::AwsJson11 | Protocol::AwsJson10 => {
            headers.push((
                "Content-Type".into(),
                json_content_type(call.protocol).into(),
            ));
            serde_json::to_vec(&value::WireOutput(output)).unwrap_or_else(|_| b"{}".to_vec())
        }
        Protocol::AwsQuery => {
            headers.push(("Content-Type".into(), "text/xml".into()));
            query::encode_response(call.service, &call.operation, output, request_id).into_bytes()
        }
        Protocol::RpcV2Cbor => {
            headers.push(("Content-Type".into(), "application/cbor".into()));
            headers.push(("smithy-protocol".into(), "rpc-v2-cbor".into()));
            cbor::encode_output(output)
        }
    };
    HttpResponse {
        status: 200,
        headers,
        body,
    }
}

/// Encodes an error in the envelope each SDK parser expects.
pub fn encode_err(
    protocol: Protocol,
    service: Option<ServiceId>,
    error: &ServiceError,
    request_id: &str,
) -> HttpResponse {
    let mut headers = base_headers(request_id);
    let fault = if error.sender { "Sender" } else { "Receiver" };
    let query_compatible = matches!(service, Some(ServiceId::CloudWatch));
    let body = match protocol {
        Protocol::AwsJson11 | Protocol::AwsJson10 => {
            headers.push(("Content-Type".into(), json_content_type(protocol).into()));
            if query_compatible {
                headers.push((
                    "x-amzn-query-error".into(),
                    format!("{};{fault}", error.code),
                ));
            }
            serde_json::to_vec(&serde_json::json!({"__type": error.code, "message": error.message}))
                .unwrap_or_default()
        }
        Protocol::AwsQuery => {
            headers.push(("Content-Type".into(), "text/xml".into()));
            query::encode_error(service, error, request_id).into_bytes()
        }
        Protocol::RpcV2Cbor => {
            headers.push(("Content-Type".into(), "application/cbor".into()));
            headers.push(("smithy-protocol".into(), "rpc-v2-cbor".into()));
            if query_compatible {
                headers.push((
                    "x-amzn-query-error".into(),
                    format!("{};{fault}", error.code),
                ));
            }
            let ns = match service {
                Some(ServiceId::CloudWatch) => "com.amazonaws.cloudwatch",
                _ => "com.amazonaws",
            };
            cbor::encode(&serde_json::json!({
                "__type": format!("{ns}#{}", error.code),
                "message": error.message,
            }))
        }
    };
    HttpResponse {
        status: error.status,
        headers,
        body,
    }
}
