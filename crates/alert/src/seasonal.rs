//! A seasonal baseline of per-minute counts that knows the hour of the day and the day of the week.
//!
//! Three exponentially weighted means are learnt from every completed minute: one per
//! (weekday, hour) bucket (168), one per hour of the day (24) and one overall level. The expected
//! rate comes from the most specific mean that has seen enough minutes, so the baseline works
//! after a few hours (level), better after a day (hour of day), and knows Monday mornings after a
//! week. Each mean starts as a plain average (weight `1/n`) and becomes exponential once `n`
//! passes its memory, so early estimates are not biased towards zero.

use serde::{Deserialize, Serialize};

/// An exponentially weighted mean that starts as a running average.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Ewma {
    /// The current mean.
    pub mean: f64,
    /// Samples learnt.
    pub n: u64,
}

impl Ewma {
    /// Learns one sample; `memory` is the number of samples after which older ones fade.
    pub fn learn(&mut self, value: f64, memory: f64) {
        self.n += 1;
        let weight = (1.0 / self.n as f64).max(1.0 / memory.max(1.0));
        self.mean += weight * (value - self.mean);
    }
}

/// A (weekday, hour) position in local time; weekday 0 is Monday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Bucket {
    /// Day of the week, 0 (Monday) to 6 (Sunday).
    pub weekday: u8,
    /// Hour of the day, 0 to 23.
    pub hour: u8,
}

impl Bucket {
    fn weekly(self) -> usize {
        usize::from(self.weekday.min(6)) * 24 + usize::from(self.hour.min(23))
    }

    fn daily(self) -> usize {
        usize::from(self.hour.min(23))
    }
}

/// Minutes a (weekday, hour) or hour-of-day mean must have seen before it is trusted.
const TRUSTED: u64 = 60;
/// The smallest expected rate per minute, so an empty history does not make every post a spike.
const FLOOR: f64 = 0.02;

/// The baseline of one scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeasonalBaseline {
    weekly: Vec<Ewma>,
    daily: Vec<Ewma>,
    level: Ewma,
}

impl Default for SeasonalBaseline {
    fn default() -> Self {
        SeasonalBaseline {
            weekly: vec![Ewma::default(); 168],
            daily: vec![Ewma::default(); 24],
            level: Ewma::default(),
        }
    }
}

impl SeasonalBaseline {
    /// Minutes learnt in total.
    pub fn minutes(&self) -> u64 {
        self.level.n
    }

    /// The expected count per minute in `bucket`, or `None` during the warm-up: before `warmup`
    /// minutes were learnt, and until this hour of the day has been seen for an hour (the overall
    /// level alone would mistake every morning rise for a spike).
    pub fn expected(&self, bucket: Bucket, warmup: u64) -> Option<f64> {
        if self.level.n < warmup {
            return None;
        }
        let weekly = self.weekly.get(bucket.weekly()).filter(|m| m.n >= TRUSTED);
        let daily = self.daily.get(bucket.daily()).filter(|m| m.n >= TRUSTED);
        weekly.or(daily).map(|m| m.mean.max(FLOOR))
    }

    /// The expected count per minute ignoring the warm-up (the overall level when this hour has
    /// not been seen yet); used to cap what a spike teaches the baseline.
    pub fn expected_or_level(&self, bucket: Bucket) -> f64 {
        self.expected(bucket, 0)
            .unwrap_or(self.level.mean.max(FLOOR))
    }

    /// Learns the count of one completed minute in `bucket`.
    pub fn learn(&mut self, bucket: Bucket, count: f64) {
        if let Some(mean) = self.weekly.get_mut(bucket.weekly()) {
            mean.learn(count, 120.0);
        }
        if let Some(mean) = self.daily.get_mut(bucket.daily()) {
            mean.learn(count, 180.0);
        }
        self.level.learn(count, 1440.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hour_of_day_is_learnt_after_an_hour_of_it() {
        let mut baseline = SeasonalBaseline::default();
        let night = Bucket {
            weekday: 0,
            hour: 3,
        };
        let day = Bucket {
            weekday: 0,
            hour: 12,
        };
        assert_eq!(baseline.expected(day, 1), None);
        for _ in 0..60 {
            baseline.learn(night, 1.0);
            baseline.learn(day, 10.0);
        }
        let night_rate = baseline.expected(night, 1).unwrap();
        let day_rate = baseline.expected(day, 1).unwrap();
        assert!((night_rate - 1.0).abs() < 1e-9, "{night_rate}");
        assert!((day_rate - 10.0).abs() < 1e-9, "{day_rate}");
        let tuesday_noon = Bucket {
            weekday: 1,
            hour: 12,
        };
        assert!((baseline.expected(tuesday_noon, 1).unwrap() - 10.0).abs() < 1e-9);
    }
}
