//! Out of file descriptors: the server's accepts fail for as long as a connection waits in the
//! backlog. It must pause and warn once, not spin and flood the log, and serve again once
//! descriptors are free. Runs in a child process with a low descriptor limit, so the other
//! tests keep theirs.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tracing::span;

use super::slow::identity_request;
use crate::common;
use pipetui_emulator::serve;

const CHILD: &str = "PIPETUI_TEST_FD_CHILD";
const NAME: &str =
    "hostile_net::fds::running_out_of_file_descriptors_neither_spins_nor_floods_the_log";

#[test]
fn running_out_of_file_descriptors_neither_spins_nor_floods_the_log() {
    if std::env::var_os(CHILD).is_some() {
        return out_of_descriptors();
    }
    let exe = std::env::current_exe().expect("the test binary");
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 256 && exec \"$0\" \"$@\"")
        .arg(exe)
        .args([NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
}

/// The child's side: take every descriptor, connect, count warnings for a second, let go.
fn out_of_descriptors() {
    let warnings = Arc::new(AtomicUsize::new(0));
    tracing::subscriber::set_global_default(CountWarnings(warnings.clone()))
        .expect("the only subscriber");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server = rt.block_on(serve(common::emulator(), 0)).expect("serve");
    let addr = server.addr;
    let mut hog = Vec::new();
    while let Ok(f) = std::fs::File::open("/dev/null") {
        hog.push(f);
    }
    // The last free descriptor is the client's; the server has none left to accept with.
    hog.pop().expect("some descriptors were free");
    let mut client = TcpStream::connect(addr).expect("connect with the last descriptor");
    std::thread::sleep(Duration::from_secs(1));
    let logged = warnings.load(Ordering::Relaxed);
    drop(hog);
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    client
        .write_all(&identity_request(addr, false))
        .expect("write");
    let mut answer = Vec::new();
    let _ = client.read_to_end(&mut answer);
    println!("warnings in one second out of descriptors: {logged}");
    assert!((1..=2).contains(&logged), "{logged} warnings in one second");
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "served once descriptors are free: {}",
        String::from_utf8_lossy(&answer)
    );
    server.abort();
}

/// Counts warnings and errors, whatever they say.
struct CountWarnings(Arc<AtomicUsize>);

impl tracing::Subscriber for CountWarnings {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        *metadata.level() <= tracing::Level::WARN
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, _: &tracing::Event<'_>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}
