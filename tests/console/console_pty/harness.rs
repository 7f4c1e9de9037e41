//! The pseudo-terminal harness: the real binary at 120×40 under vt100, keys in, screen text
//! out; `pipetui init` and `pipetui emulator serve` helpers; screen predicates.
// Each test uses a different subset.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

pub const ROWS: u16 = 40;
pub const COLS: u16 = 120;
/// Generous: a slow shared machine must not fail a test; nothing here measures speed.
pub const PATIENCE: Duration = Duration::from_secs(90);
pub const PIPELINE: &str = "acme-orders-cicd-pipeline";

pub fn example_config() -> String {
    format!("{}/config.example.toml", env!("CARGO_MANIFEST_DIR"))
}

/// The environment every run gets: the example config on a fast emulator clock in `state`.
pub fn base_command(state: &Path, args: &[&str]) -> CommandBuilder {
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_pipetui"));
    cmd.arg("--config");
    cmd.arg(example_config());
    for a in args {
        cmd.arg(a);
    }
    cmd.cwd(state);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("PIPETUI_") || k == "NO_COLOR") {
        cmd.env_remove(k);
    }
    cmd.env("PIPETUI_STATE_DIR", state);
    cmd.env("PIPETUI_EMULATOR__CLOCK_SPEED", "50");
    cmd.env("TERM", "xterm-256color");
    cmd
}

pub struct Term {
    pub parser: Arc<Mutex<vt100::Parser>>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    pub child: Box<dyn Child + Send + Sync>,
    reader: Option<JoinHandle<()>>,
    _master: Box<dyn MasterPty + Send>,
}

impl Term {
    pub fn spawn(cmd: CommandBuilder) -> Term {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut out = pair.master.try_clone_reader().unwrap();
        let writer = Arc::new(Mutex::new(pair.master.take_writer().unwrap()));
        let parser = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let (p, w) = (parser.clone(), writer.clone());
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match out.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let bytes = &buf[..n];
                        p.lock().unwrap().process(bytes);
                        // Answer a cursor-position query like a real terminal would.
                        if bytes.windows(4).any(|w| w == b"\x1b[6n") {
                            let _ = w.lock().unwrap().write_all(b"\x1b[1;1R");
                        }
                    }
                }
            }
        });
        Term {
            parser,
            writer,
            child,
            reader: Some(reader),
            _master: pair.master,
        }
    }

    pub fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// Waits until the screen satisfies `ok`; on timeout fails with the screen as it is.
    pub fn wait_until(&mut self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("pipetui exited ({status:?}) while waiting for {what}; screen:\n{screen}");
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_for(&mut self, text: &str) -> String {
        self.wait_until(text, |s| s.contains(text))
    }

    pub fn keys(&self, keys: &str) {
        let mut w = self.writer.lock().unwrap();
        w.write_all(keys.as_bytes()).unwrap();
        w.flush().unwrap();
    }

    /// Pastes `text` as a terminal does: wrapped in bracketed-paste markers when the program
    /// turned bracketed paste on, else as plain typed bytes.
    pub fn paste(&self, text: &str) {
        let bracketed = self.parser.lock().unwrap().screen().bracketed_paste();
        if bracketed {
            self.keys(&format!("\x1b[200~{text}\x1b[201~"));
        } else {
            self.keys(text);
        }
    }

    /// Sends a signal (`TERM`, `HUP`, `INT`, `QUIT`) to the process, as `kill -s NAME` does.
    pub fn signal(&self, name: &str) {
        let pid = self.child.process_id().expect("a pid");
        let status = std::process::Command::new("kill")
            .args(["-s", name, &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -s {name} {pid}: {status:?}");
    }

    /// Waits for the process to end and the last output to be parsed; its exit status.
    pub fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "pipetui did not exit; screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        status
    }

    /// The terminal is back to normal: main screen, cursor visible, no mouse capture, no bracketed
    /// paste.
    pub fn assert_restored(&self) {
        let parser = self.parser.lock().unwrap();
        let screen = parser.screen();
        assert!(!screen.alternate_screen(), "still on the alternate screen");
        assert!(!screen.hide_cursor(), "the cursor is still hidden");
        assert_eq!(
            screen.mouse_protocol_mode(),
            vt100::MouseProtocolMode::None,
            "mouse capture is still on"
        );
        assert!(!screen.bracketed_paste(), "bracketed paste is still on");
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        // A failed test must not leave a console running.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
    }
}

/// Provisions the example stack on the embedded emulator in `state` (no terminal UI).
pub fn init(state: &Path) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pipetui"))
        .args(["--config", &example_config(), "init", "--yes", "--no-tui"])
        .current_dir(state)
        .env("PIPETUI_STATE_DIR", state)
        .env("PIPETUI_EMULATOR__CLOCK_SPEED", "50")
        .env_remove("PIPETUI_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "init failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn term_is_alternate(parser: &Arc<Mutex<vt100::Parser>>) -> bool {
    parser.lock().unwrap().screen().alternate_screen()
}

/// A release waiting for its approval on `pipetui emulator serve` (whose engine keeps running
/// between commands); the server and its URL.
pub fn waiting_release(state: &Path) -> (Server, String) {
    let config = state.join("fast.toml");
    std::fs::write(
        &config,
        "[project]\nservice = \"orders\"\n[emulator]\nclock_speed = 50.0\n",
    )
    .unwrap();
    let (server, url) = serve(state, &config, 0);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pipetui"))
        .args(["--config", &example_config(), "init", "--yes", "--no-tui"])
        .current_dir(state)
        .env("PIPETUI_STATE_DIR", state)
        .env("PIPETUI_AWS__ENDPOINT", &url)
        .envs(STATIC_KEYS)
        .env_remove("PIPETUI_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (server, url)
}

/// Static keys: no credential-chain probing (IMDS) in a test.
pub const STATIC_KEYS: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

/// The pipeline view has loaded the approval action and it waits (keys before that find no
/// approval to answer).
pub fn wait_for_waiting_approval(term: &mut Term) {
    term.wait_until("the waiting approval in the pipeline view", |s| {
        s.lines()
            .any(|l| l.contains("[approval]") && l.contains("InProgress"))
    });
}

/// The row of `PIPELINE` in the pipelines view (with its stage cells), if shown.
pub fn pipeline_row(screen: &str) -> Option<&str> {
    screen
        .lines()
        .find(|l| l.trim_start().starts_with(PIPELINE) && l.contains("Source"))
}

/// A `pipetui emulator serve` process, killed when dropped (also when a test fails).
pub struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `pipetui emulator serve` on `port` (0 = any) over `state` with `config`; the child and its URL.
pub fn serve(state: &Path, config: &Path, port: u16) -> (Server, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pipetui"))
        .args(["emulator", "serve", "--port", &port.to_string(), "--config"])
        .arg(config)
        .current_dir(state)
        .env("PIPETUI_STATE_DIR", state)
        .env_remove("PIPETUI_CONFIG")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    // Keep draining its output, as a terminal would.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_string();
    (Server(child), url)
}
