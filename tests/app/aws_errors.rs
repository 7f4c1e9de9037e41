//! Real SDK clients against tiny local HTTP servers, checking that SDK errors
//! map to the one-line messages the console shows.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use aws_config::web_identity_token::{StaticConfiguration, WebIdentityTokenCredentialsProvider};
use pipetui::aws::{
    AwsError, Clients, ConnectionSettings, Endpoint, SdkResultExt, Target, embedded_sdk_config,
    from_sdk, load_sdk_config,
};

use crate::common;

const PIPELINE_NOT_FOUND: &str = r#"{"__type":"PipelineNotFoundException","message":"The account with id '000000000000' does not include a pipeline with the name nope"}"#;
const STACK_NOT_FOUND: &str = "<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code>\
<Message>Stack with id x does not exist</Message></Error><RequestId>r</RequestId></ErrorResponse>";

fn settings(url: String) -> ConnectionSettings {
    ConnectionSettings {
        endpoint: Endpoint::Url(url),
        profile: None,
        region: Some("us-east-1".to_owned()),
        max_attempts: 1,
        connect_timeout: Duration::from_secs(2),
        operation_timeout: Duration::from_secs(5),
    }
}

/// Serve every request on 127.0.0.1 with `status`, `content_type` and `body`.
fn serve(status: u16, content_type: &'static str, body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind test server");
    let addr = listener.local_addr().expect("test server address");
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            // A failed exchange shows up as a test assertion failure instead.
            let _ = answer(stream, status, content_type, body);
        }
    });
    format!("http://{addr}")
}

/// Read one request (headers and Content-Length body) and write the response.
fn answer(stream: TcpStream, status: u16, content_type: &str, body: &str) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut request_body = vec![0; content_length];
    reader.read_exact(&mut request_body)?;

    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} Bad Request\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nx-amzn-RequestId: test\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

async fn clients(url: String) -> Clients {
    let settings = settings(url);
    let config = load_sdk_config(&settings).await.expect("sdk config");
    let target = Target::for_config(&settings, &config);
    Clients::new(&config, target)
}

#[tokio::test]
async fn json_service_error_shows_code_and_message() {
    let url = serve(400, "application/x-amz-json-1.1", PIPELINE_NOT_FOUND);
    let clients = clients(url.clone()).await;
    assert_eq!(
        clients.target,
        Target::Endpoint {
            url: url.clone(),
            region: "us-east-1".to_owned()
        }
    );
    assert_eq!(clients.target.to_string(), url);

    let err = clients
        .codepipeline
        .get_pipeline()
        .name("nope")
        .send()
        .await
        .expect_err("server always fails");
    let err = from_sdk("GetPipeline", &clients.endpoint(), err);
    assert_eq!(
        err.to_string(),
        "PipelineNotFoundException: The account with id '000000000000' does not include a pipeline with the name nope"
    );
    assert!(
        matches!(err, AwsError::Service { ref code, operation: "GetPipeline", .. } if code == "PipelineNotFoundException")
    );
}

#[tokio::test]
async fn query_service_error_shows_code_and_message() {
    let url = serve(400, "text/xml", STACK_NOT_FOUND);
    let clients = clients(url).await;
    let err = clients
        .cloudformation
        .describe_stacks()
        .stack_name("x")
        .send()
        .await
        .or_aws("DescribeStacks", &clients.endpoint())
        .expect_err("server always fails");
    assert_eq!(
        err.to_string(),
        "ValidationError: Stack with id x does not exist"
    );
}

#[tokio::test]
async fn refused_connection_is_unreachable() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind probe");
    let addr = listener.local_addr().expect("probe address");
    drop(listener);

    let clients = clients(format!("http://{addr}")).await;
    let err = clients
        .codepipeline
        .list_pipelines()
        .send()
        .await
        .or_aws("ListPipelines", &clients.endpoint())
        .expect_err("nothing listens on the port");
    let text = err.to_string();
    assert!(text.starts_with("cannot reach"), "got: {text}");
    assert!(text.contains(&addr.to_string()), "got: {text}");
}

#[tokio::test]
async fn failing_credential_provider_asks_for_login() {
    let url = serve(400, "application/x-amz-json-1.1", PIPELINE_NOT_FOUND);
    let config = load_sdk_config(&settings(url.clone()))
        .await
        .expect("sdk config");
    // Fails before any network call: the token file does not exist.
    let provider = WebIdentityTokenCredentialsProvider::builder()
        .static_configuration(StaticConfiguration {
            web_identity_token_file: "/nonexistent/pipetui/token".into(),
            role_arn: "arn:aws:iam::000000000000:role/pipetui".to_owned(),
            session_name: "pipetui-test".to_owned(),
        })
        .build();
    let conf = aws_sdk_codepipeline::config::Builder::from(&config)
        .credentials_provider(provider)
        .build();
    let client = aws_sdk_codepipeline::Client::from_conf(conf);

    let err = client
        .list_pipelines()
        .send()
        .await
        .or_aws("ListPipelines", &url)
        .expect_err("no credentials");
    assert!(matches!(err, AwsError::Credentials(_)), "got: {err:?}");
    assert!(err.to_string().contains("aws sso login"), "got: {err}");
}

#[tokio::test]
async fn embedded_emulator_is_unavailable() {
    let settings = ConnectionSettings {
        endpoint: Endpoint::Embedded,
        ..settings(String::new())
    };
    let err = load_sdk_config(&settings)
        .await
        .expect_err("no emulator yet");
    assert!(matches!(err, AwsError::Unavailable(_)), "got: {err:?}");
    assert_eq!(
        err.to_string(),
        "the embedded emulator runs in process: build its config with aws::embedded_sdk_config"
    );
}

#[tokio::test]
async fn silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind silent server");
    let addr = listener.local_addr().expect("silent server address");
    thread::spawn(move || {
        // Hold connections open without ever answering.
        let held: Vec<TcpStream> = listener.incoming().flatten().collect();
        drop(held);
    });
    let settings = ConnectionSettings {
        operation_timeout: Duration::from_millis(300),
        ..settings(format!("http://{addr}"))
    };
    let clients = Clients::connect(&settings).await.expect("clients");
    let err = clients
        .codepipeline
        .list_pipelines()
        .send()
        .await
        .or_aws("ListPipelines", &clients.endpoint())
        .expect_err("server never answers");
    assert!(matches!(err, AwsError::Timeout { .. }), "got: {err:?}");
    assert_eq!(err.to_string(), "ListPipelines timed out");
}

/// Moved from the emulator's tests: the SDK's retries against the embedded emulator end in the
/// app's own `Code: message` sentence.
#[tokio::test]
async fn throttling_is_retried_by_the_sdk_then_reported() {
    let emu = common::emulator();
    emu.faults.seed(7);
    emu.faults.set(
        pipetui_emulator::ServiceId::Sts,
        Some("GetCallerIdentity"),
        pipetui_emulator::Fault {
            throttle: 1.0,
            ..Default::default()
        },
    );
    let sts = aws_sdk_sts::Client::new(&embedded_sdk_config(emu.clone(), &common::settings(3)));
    let err = sts
        .get_caller_identity()
        .send()
        .await
        .expect_err("throttled");
    assert_eq!(
        emu.requests.load(std::sync::atomic::Ordering::Relaxed),
        3,
        "the SDK retried twice"
    );
    let msg = from_sdk("GetCallerIdentity", "embedded", err).to_string();
    assert_eq!(msg, "Throttling: Rate exceeded");
}
