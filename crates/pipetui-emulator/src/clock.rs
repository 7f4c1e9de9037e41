//! The emulator's clock: real time, real time sped up for demos, or a manual clock that tests
//! advance explicitly so they never sleep.

use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone)]
pub enum Clock {
    Real,
    /// Emulated time runs `speed` times faster than real time from the moment it was made.
    Scaled {
        speed: f64,
        start_real: Instant,
        start_epoch: f64,
    },
    /// Time moves only when [`Clock::advance`] is called.
    Manual(Arc<Mutex<f64>>),
}

fn wall() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Clock {
    pub fn scaled(speed: f64) -> Self {
        if (speed - 1.0).abs() < f64::EPSILON {
            return Clock::Real;
        }
        Clock::Scaled {
            speed,
            start_real: Instant::now(),
            start_epoch: wall(),
        }
    }

    pub fn manual(start_epoch: f64) -> Self {
        Clock::Manual(Arc::new(Mutex::new(start_epoch)))
    }

    /// Now, in epoch seconds.
    pub fn now(&self) -> f64 {
        match self {
            Clock::Real => wall(),
            Clock::Scaled {
                speed,
                start_real,
                start_epoch,
            } => start_epoch + start_real.elapsed().as_secs_f64() * speed,
            Clock::Manual(t) => *t.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }

    /// Now, in epoch milliseconds (CloudWatch Logs' unit).
    pub fn now_millis(&self) -> i64 {
        (self.now() * 1000.0) as i64
    }

    /// A scaled clock restarted by a new process would otherwise begin again at the wall
    /// clock, before the emulated times it already stored (10× for an hour is 10 hours
    /// ahead); it resumes from `t` instead, so emulated time never runs backwards.
    pub fn resume_from(&mut self, t: f64) {
        if let Clock::Scaled { start_epoch, .. } = self
            && *start_epoch < t
        {
            *start_epoch = t;
        }
    }

    /// Moves a manual clock forward; other clocks ignore it.
    pub fn advance(&self, seconds: f64) {
        if let Clock::Manual(t) = self {
            *t.lock().unwrap_or_else(|p| p.into_inner()) += seconds;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = Clock::manual(100.0);
        assert_eq!(c.now(), 100.0);
        c.advance(2.5);
        assert_eq!(c.now(), 102.5);
        assert_eq!(c.now_millis(), 102_500);
    }

    #[test]
    fn a_scaled_clock_resumes_after_the_time_it_reached() {
        let mut c = Clock::scaled(10.0);
        let ahead = c.now() + 36_000.0;
        c.resume_from(ahead);
        assert!(c.now() >= ahead);
        let mut real = Clock::Real;
        real.resume_from(ahead);
        assert!(real.now() < ahead, "real time is never moved");
    }
}
