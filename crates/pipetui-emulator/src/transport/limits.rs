//! What bounds the TCP server: how many connections it holds, how long each may stall, how it
//! backs off when the system runs out of file descriptors, and how often it repeats a warning.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// Bounds on the TCP server's clients. The defaults suit an AWS SDK or CLI on the same machine.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    /// Time for a request's head to arrive, counted from when the connection opens or its
    /// previous answer was sent: so it is also how long an idle keep-alive connection stays.
    pub header_timeout: Duration,
    /// Time for a request's body to arrive once its head has.
    pub body_timeout: Duration,
    /// Time an answer may wait for the client to read it.
    pub write_timeout: Duration,
    /// Connections served at once; any more are answered 503 and closed.
    pub max_connections: usize,
    /// A repeated warning (failed accepts, refused connections) is logged at most once per
    /// interval, with the number held back.
    pub log_interval: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            max_connections: 256,
            log_interval: Duration::from_secs(10),
        }
    }
}

/// The pause after a failed accept. When file descriptors run out, accept fails at once for as
/// long as the connection waits in the backlog: retrying without a pause spins a core.
#[derive(Debug)]
pub struct AcceptBackoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl AcceptBackoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max,
            next: min,
        }
    }

    /// The pause after one more failure: it doubles from `min` up to `max`.
    pub fn failed(&mut self) -> Duration {
        let pause = self.next;
        self.next = (self.next * 2).min(self.max);
        pause
    }

    /// An accept succeeded: the next failure pauses `min` again.
    pub fn succeeded(&mut self) {
        self.next = self.min;
    }
}

/// Lets a repeated log line through at most once per interval, counting those held back.
#[derive(Debug)]
pub struct LogLimiter {
    interval: Duration,
    last: Option<Instant>,
    held: u64,
}

impl LogLimiter {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last: None,
            held: 0,
        }
    }

    /// `Some(lines held back since the last one)` when this line may be logged at `now`.
    pub fn allow(&mut self, now: Instant) -> Option<u64> {
        if self
            .last
            .is_some_and(|last| now.saturating_duration_since(last) < self.interval)
        {
            self.held += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.held))
    }
}

/// A stream whose writes fail once they have waited `timeout` for the peer to read, so a
/// client that never reads its answer cannot hold a connection.
#[derive(Debug)]
pub struct StallGuard<S> {
    inner: S,
    timeout: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<S> StallGuard<S> {
    pub fn new(inner: S, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            stalled: None,
        }
    }

    /// Runs one write-side poll: progress resets the clock, waiting past the timeout fails.
    fn guard<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: impl FnOnce(Pin<&mut S>, &mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>>
    where
        S: Unpin,
    {
        match poll(Pin::new(&mut self.inner), cx) {
            Poll::Ready(r) => {
                self.stalled = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let timeout = self.timeout;
                let sleep = self
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client stopped reading its answer",
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for StallGuard<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for StallGuard<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().guard(cx, |s, cx| s.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .guard(cx, |s, cx| s.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().guard(cx, |s, cx| s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().guard(cx, |s, cx| s.poll_shutdown(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_failures_back_off_up_to_the_cap_and_reset_on_success() {
        let mut b = AcceptBackoff::new(Duration::from_millis(10), Duration::from_millis(50));
        let pauses: Vec<u128> = (0..5).map(|_| b.failed().as_millis()).collect();
        assert_eq!(pauses, [10, 20, 40, 50, 50]);
        b.succeeded();
        assert_eq!(b.failed(), Duration::from_millis(10));
    }

    #[test]
    fn a_repeated_line_is_logged_once_per_interval_with_the_count_held_back() {
        let mut log = LogLimiter::new(Duration::from_secs(10));
        let t0 = Instant::now();
        assert_eq!(log.allow(t0), Some(0));
        let held = (1..=1000)
            .filter(|i| log.allow(t0 + Duration::from_millis(*i)).is_some())
            .count();
        assert_eq!(held, 0, "nothing more within the interval");
        assert_eq!(log.allow(t0 + Duration::from_secs(10)), Some(1000));
        assert_eq!(log.allow(t0 + Duration::from_secs(11)), None);
    }

    /// A peer that never reads: every write waits.
    struct Stuck;

    impl AsyncWrite for Stuck {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &[u8],
        ) -> Poll<io::Result<usize>> {
            Poll::Pending
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Pending
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Pending
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_nobody_reads_fails_after_the_timeout() {
        let mut guarded = StallGuard::new(Stuck, Duration::from_secs(5));
        let started = tokio::time::Instant::now();
        let e = std::future::poll_fn(|cx| Pin::new(&mut guarded).poll_write(cx, b"answer"))
            .await
            .expect_err("the peer never reads");
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_secs(5));
    }
}
