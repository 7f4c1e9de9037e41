//! Admission for the TCP server: only requests that look like an AWS client's reach the
//! emulator. Any web page the user opens can send requests to 127.0.0.1 (and read the answers
//! after a DNS rebinding), so whatever a browser sends, or a page can forge, is refused.

use crate::protocol::{self, HttpRequest, Protocol, ServiceError, ServiceId};

/// Why a request was refused, answered in the envelope of the protocol it claims.
#[derive(Debug)]
pub struct Refusal {
    pub protocol: Protocol,
    pub service: Option<ServiceId>,
    pub error: ServiceError,
}

/// Headers every browser adds to requests a page makes; no AWS SDK or CLI sends them.
const BROWSER_HEADERS: [&str; 5] = [
    "origin",
    "sec-fetch-site",
    "sec-fetch-mode",
    "sec-fetch-dest",
    "sec-fetch-user",
];

/// Admits a request from its head (method, path, headers) before its body is read. `authority`
/// is the request target's host when it was sent in absolute form; `port` is the served port.
pub fn admit(req: &HttpRequest, authority: Option<&str>, port: u16) -> Result<(), Refusal> {
    let (protocol, service) = protocol::detect(req);
    let refuse = |kind: Kind, message: String| Refusal {
        protocol,
        service,
        error: kind.error(protocol, service, message),
    };
    let host = req.header("host").unwrap_or("");
    if !is_local(host, port) || authority.is_some_and(|a| !is_local(a, port)) {
        return Err(refuse(
            Kind::AccessDenied,
            format!(
                "Host '{host}' is not this emulator (127.0.0.1:{port}); requests that reach it \
                 under another name are refused"
            ),
        ));
    }
    if let Some(name) = BROWSER_HEADERS.iter().find(|h| req.header(h).is_some()) {
        return Err(refuse(
            Kind::AccessDenied,
            format!("Requests from web pages are refused (the request carries {name})"),
        ));
    }
    signature(req).map_err(|(kind, m)| refuse(kind, m))?;
    content_type(req, protocol).map_err(|(kind, m)| refuse(kind, m))
}

/// The refusals, each named as AWS names it.
#[derive(Debug, Clone, Copy)]
enum Kind {
    AccessDenied,
    MissingAuthenticationToken,
    IncompleteSignature,
    UnsupportedMediaType,
}

impl Kind {
    fn error(
        self,
        protocol: Protocol,
        service: Option<ServiceId>,
        message: String,
    ) -> ServiceError {
        // awsQuery services, and CloudWatch in any protocol (it is query-compatible), use the
        // query codes; awsJson and RPC v2 services add "Exception".
        let query = protocol == Protocol::AwsQuery || service == Some(ServiceId::CloudWatch);
        let (code, status) = match self {
            Kind::AccessDenied => ("AccessDenied", 403),
            Kind::MissingAuthenticationToken => ("MissingAuthenticationToken", 403),
            Kind::IncompleteSignature => ("IncompleteSignature", 400),
            // A form-encoded call whose body is not a form names no action.
            Kind::UnsupportedMediaType if protocol == Protocol::AwsQuery => {
                return ServiceError::new("MissingAction", message);
            }
            Kind::UnsupportedMediaType => ("UnsupportedMediaType", 415),
        };
        let code = if query {
            code.to_string()
        } else {
            format!("{code}Exception")
        };
        ServiceError::new(code, message).with_status(status)
    }
}

/// Whether `host` (a Host header or URI authority) names this server: a loopback name and the
/// served port, so a page's own name rebound to 127.0.0.1 does not pass.
fn is_local(host: &str, port: u16) -> bool {
    let host = host.trim().to_ascii_lowercase();
    // Clients leave out the default port; "[::1]" alone has colons but no port.
    let (name, given) = match host.rsplit_once(':') {
        Some((name, p)) if !p.ends_with(']') => (name, p.parse::<u16>().ok()),
        _ => (host.as_str(), Some(80)),
    };
    matches!(name, "127.0.0.1" | "localhost" | "[::1]") && given == Some(port)
}

/// A SigV4 `Authorization` header, or a presigned query, complete in form. Its signature is not
/// checked: the emulator accepts any credentials, so it has no secret to check it with.
fn signature(req: &HttpRequest) -> Result<(), (Kind, String)> {
    let incomplete = |m: &str| (Kind::IncompleteSignature, m.to_string());
    let Some(auth) = req.header("authorization") else {
        return presigned(req);
    };
    let Some(params) = auth.trim().strip_prefix("AWS4-HMAC-SHA256 ") else {
        return Err(incomplete(
            "Authorization header must use the AWS4-HMAC-SHA256 signing algorithm",
        ));
    };
    let param = |name: &str| {
        params
            .split(',')
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    let missing: Vec<String> = ["Credential", "SignedHeaders", "Signature"]
        .into_iter()
        .filter(|p| param(p).is_none())
        .map(|p| format!("Authorization header requires '{p}' parameter."))
        .collect();
    if !missing.is_empty() {
        return Err(incomplete(&missing.join(" ")));
    }
    if !param("Credential").is_some_and(credential_scope) {
        return Err(incomplete(
            "Credential must have the form <key>/<date>/<region>/<service>/aws4_request.",
        ));
    }
    if req.header("x-amz-date").is_none() && req.header("date").is_none() {
        return Err(incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        ));
    }
    Ok(())
}

/// A presigned query string: the SigV4 parameters in the URL instead of a header.
fn presigned(req: &HttpRequest) -> Result<(), (Kind, String)> {
    let query = req.path.split_once('?').map_or("", |(_, q)| q);
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let Some(algorithm) = get("X-Amz-Algorithm") else {
        return Err((
            Kind::MissingAuthenticationToken,
            "Missing Authentication Token".to_string(),
        ));
    };
    let complete = algorithm == "AWS4-HMAC-SHA256"
        && get("X-Amz-Credential").is_some_and(credential_scope)
        && ["X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"]
            .iter()
            .all(|p| get(p).is_some());
    if complete {
        Ok(())
    } else {
        Err((
            Kind::IncompleteSignature,
            "A presigned request requires X-Amz-Algorithm=AWS4-HMAC-SHA256, X-Amz-Credential, \
             X-Amz-Date, X-Amz-SignedHeaders and X-Amz-Signature."
                .to_string(),
        ))
    }
}

/// `<key>/<yyyymmdd>/<region>/<service>/aws4_request`.
fn credential_scope(credential: &str) -> bool {
    let parts: Vec<&str> = credential.split('/').collect();
    parts.len() == 5
        && parts[..4].iter().all(|p| !p.is_empty())
        && parts[1].len() == 8
        && parts[1].bytes().all(|b| b.is_ascii_digit())
        && parts[4] == "aws4_request"
}

/// The content type the claimed protocol's clients send; a page can send only text/plain,
/// form and multipart bodies without asking the server first.
fn content_type(req: &HttpRequest, protocol: Protocol) -> Result<(), (Kind, String)> {
    let media = req
        .header("content-type")
        .and_then(|c| c.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let unsupported = |expected: &str| {
        Err((
            Kind::UnsupportedMediaType,
            format!("Content-Type '{media}' is not {expected}"),
        ))
    };
    match protocol {
        Protocol::RpcV2Cbor => {
            if media != "application/cbor" {
                return unsupported("application/cbor");
            }
            let smithy = req.header("smithy-protocol").map(str::trim);
            if !smithy.is_some_and(|p| p.eq_ignore_ascii_case("rpc-v2-cbor")) {
                return Err((
                    Kind::UnsupportedMediaType,
                    "RPC v2 CBOR requests require the header smithy-protocol: rpc-v2-cbor"
                        .to_string(),
                ));
            }
            Ok(())
        }
        Protocol::AwsJson10 | Protocol::AwsJson11 => {
            if media == "application/x-amz-json-1.0" || media == "application/x-amz-json-1.1" {
                Ok(())
            } else {
                unsupported("application/x-amz-json-1.0 or application/x-amz-json-1.1")
            }
        }
        // A query call sent as GET carries its parameters in the URL and has no body.
        Protocol::AwsQuery if req.method.eq_ignore_ascii_case("GET") => Ok(()),
        Protocol::AwsQuery => {
            if media == "application/x-www-form-urlencoded" {
                Ok(())
            } else {
                unsupported("application/x-www-form-urlencoded")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_hosts_need_the_served_port() {
        assert!(is_local("127.0.0.1:4566", 4566));
        assert!(is_local("LOCALHOST:4566", 4566));
        assert!(is_local("[::1]:4566", 4566));
        assert!(!is_local("127.0.0.1", 4566));
        assert!(is_local("127.0.0.1", 80));
        assert!(!is_local("[::1]", 4566));
        assert!(!is_local("127.0.0.1:4567", 4566));
        assert!(!is_local("attacker.example:4566", 4566));
        assert!(!is_local("127.0.0.1.attacker.example:4566", 4566));
    }

    #[test]
    fn credential_scopes() {
        assert!(credential_scope(
            "AKID/20260101/us-east-1/logs/aws4_request"
        ));
        assert!(!credential_scope("AKID/20260101/us-east-1/logs"));
        assert!(!credential_scope("AKID/2026/us-east-1/logs/aws4_request"));
        assert!(!credential_scope("/20260101/us-east-1/logs/aws4_request"));
    }
}
