//! Shared by the benchmarks so every figure is computed and printed the same way. Benchmarks
//! report against the budgets of DESIGN.md §5; they never fail on a timing.

use std::time::{Duration, Instant};

/// `--bench` is how `cargo bench` runs a harness-less bench; `cargo test --all-targets` runs it
/// without, and then the bench only says how to get figures.
pub fn running_as_bench(name: &str) -> bool {
    let bench = std::env::args().any(|a| a == "--bench");
    if !bench {
        println!("{name}: run with `cargo bench` for figures");
    }
    bench
}

/// Timings of one operation.
#[derive(Debug, Clone)]
pub struct Samples(Vec<Duration>);

impl Samples {
    /// Times `f` `rounds` times after `warmup` untimed runs.
    pub fn measure(warmup: usize, rounds: usize, mut f: impl FnMut()) -> Self {
        (0..warmup).for_each(|_| f());
        Self::from(
            (0..rounds)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed()
                })
                .collect::<Vec<_>>(),
        )
    }

    /// The nearest-rank percentile, `q` in 0..=1.
    pub fn percentile(&self, q: f64) -> Duration {
        self.0[((self.0.len() - 1) as f64 * q).round() as usize]
    }

    pub fn median(&self) -> Duration {
        self.percentile(0.5)
    }

    pub fn p99(&self) -> Duration {
        self.percentile(0.99)
    }

    pub fn max(&self) -> Duration {
        *self.0.last().expect("at least one sample")
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `median … p99 … max …` in milliseconds.
    pub fn summary(&self) -> String {
        format!("median {}  p99 {}  max {}", ms(self.median()), ms(self.p99()), ms(self.max()))
    }

    /// Whether the p99 is within `budget`, in the words the reports use.
    pub fn verdict(&self, budget: Duration) -> String {
        format!("budget p99 <= {}: {}", ms(budget), if self.p99() <= budget { "within" } else { "OVER" })
    }
}

impl From<Vec<Duration>> for Samples {
    fn from(mut v: Vec<Duration>) -> Self {
        assert!(!v.is_empty(), "no samples");
        v.sort();
        Self(v)
    }
}

/// A duration in milliseconds with three decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let s = Samples::from((1..=100).rev().map(Duration::from_millis).collect::<Vec<_>>());
        assert_eq!(s.median(), Duration::from_millis(51));
        assert_eq!(s.p99(), Duration::from_millis(99));
        assert_eq!(s.max(), Duration::from_millis(100));
        assert_eq!(ms(Duration::from_micros(1500)), "1.500 ms");
        assert!(s.verdict(Duration::from_millis(100)).ends_with("within"));
        assert!(s.verdict(Duration::from_millis(10)).ends_with("OVER"));
    }
}
