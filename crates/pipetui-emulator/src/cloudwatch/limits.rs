//! CloudWatch's documented bounds on metric input, checked before any work whose size the input
//! decides: how far data may lie in the past or future, which periods exist, how many
//! datapoints one call may ask for, and how much one PutMetricData may carry.

use crate::protocol::ServiceError;

/// Data points older than two weeks are refused.
pub const MAX_AGE_SECS: f64 = 14.0 * 86_400.0;
/// Data points more than two hours ahead are refused.
pub const MAX_AHEAD_SECS: f64 = 2.0 * 3_600.0;
/// GetMetricStatistics returns at most this many datapoints per call.
pub const MAX_DATAPOINTS: f64 = 1_440.0;
/// One PutMetricData carries at most this many MetricDatum items.
pub const MAX_METRIC_DATA: usize = 1_000;
/// One MetricDatum carries at most this many `Values`.
pub const MAX_VALUES: usize = 150;
/// A metric has at most this many dimensions.
pub const MAX_DIMENSIONS: usize = 30;
/// One GetMetricData carries at most this many queries.
pub const MAX_QUERIES: usize = 500;

fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::new("InvalidParameterValue", message)
}

fn combination(message: impl Into<String>) -> ServiceError {
    ServiceError::new("InvalidParameterCombination", message)
}

/// A period CloudWatch aggregates by: 1, 5, 10, 20 or 30 seconds (high resolution) or a
/// multiple of 60.
pub fn period(name: &str, period: i64) -> Result<(), ServiceError> {
    if matches!(period, 1 | 5 | 10 | 20 | 30) || (period > 0 && period % 60 == 0) {
        return Ok(());
    }
    Err(invalid(format!(
        "The parameter {name} must be a multiple of 60, or 1, 5, 10, 20 or 30 for high-resolution metrics."
    )))
}

/// `[start, end)` must be a real, non-empty range.
pub fn range(start: f64, end: f64) -> Result<(), ServiceError> {
    if !start.is_finite() || !end.is_finite() {
        return Err(invalid(
            "The parameters StartTime and EndTime must be valid timestamps.",
        ));
    }
    if start >= end {
        return Err(invalid(
            "The parameter StartTime must be less than the parameter EndTime.",
        ));
    }
    Ok(())
}

/// GetMetricStatistics' limit: `(end - start) / period` datapoints at most 1,440.
pub fn datapoints(start: f64, end: f64, period: i64) -> Result<(), ServiceError> {
    let requested = ((end - start) / period.max(1) as f64).ceil();
    if requested > MAX_DATAPOINTS {
        return Err(combination(format!(
            "You have requested up to {requested} datapoints, which exceeds the limit of 1,440. \
             You may reduce the datapoints requested by increasing Period, or decreasing the time range."
        )));
    }
    Ok(())
}

/// A data point's timestamp: within the last two weeks and at most two hours ahead of `now`.
pub fn timestamp(member: usize, t: f64, now: f64) -> Result<(), ServiceError> {
    let name = format!("MetricData.member.{member}.Timestamp");
    if !t.is_finite() || t > now + MAX_AHEAD_SECS {
        return Err(invalid(format!(
            "The parameter {name} must specify a time no more than two hours in the future."
        )));
    }
    if t < now - MAX_AGE_SECS {
        return Err(invalid(format!(
            "The parameter {name} must specify a time within the past two weeks."
        )));
    }
    Ok(())
}

/// A value CloudWatch stores: a finite number (NaN and the infinities are refused).
pub fn value(member: usize, field: &str, v: f64) -> Result<(), ServiceError> {
    if v.is_finite() {
        return Ok(());
    }
    Err(invalid(format!(
        "The value {v} for parameter MetricData.member.{member}.{field} is invalid."
    )))
}

/// A collection member may hold at most `max` items.
pub fn size(name: &str, len: usize, max: usize) -> Result<(), ServiceError> {
    if len > max {
        return Err(invalid(format!(
            "The collection {name} must not have a size greater than {max}."
        )));
    }
    Ok(())
}

/// PutMetricAlarm: the evaluation range (`EvaluationPeriods × Period`) is at most one day for
/// periods under an hour and seven days otherwise.
pub fn evaluation_range(period: i64, evaluation_periods: i64) -> Result<(), ServiceError> {
    if evaluation_periods < 1 {
        return Err(invalid(
            "The parameter EvaluationPeriods must be greater than or equal to 1.",
        ));
    }
    let limit: i64 = if period < 3_600 { 86_400 } else { 604_800 };
    if period.saturating_mul(evaluation_periods) > limit {
        return Err(combination(format!(
            "Metrics cannot be evaluated over more than {limit} seconds: EvaluationPeriods ({evaluation_periods}) \
             multiplied by Period ({period}) exceeds it."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_cloudwatchs() {
        assert!(period("Period", 60).is_ok() && period("Period", 10).is_ok());
        assert!(period("Period", 7).is_err() && period("Period", 0).is_err());
        assert!(range(1.0, 2.0).is_ok() && range(2.0, 2.0).is_err());
        assert!(range(f64::NAN, 2.0).is_err());
        assert!(datapoints(0.0, 86_400.0, 60).is_ok());
        assert_eq!(
            datapoints(0.0, 86_460.0, 60).unwrap_err().code,
            "InvalidParameterCombination"
        );
        assert!(timestamp(1, 1e18, 0.0).is_err());
        assert!(timestamp(1, -MAX_AGE_SECS - 1.0, 0.0).is_err());
        assert!(timestamp(1, MAX_AHEAD_SECS, 0.0).is_ok());
        assert!(value(1, "Value", f64::INFINITY).is_err());
        assert!(evaluation_range(60, 1_440).is_ok() && evaluation_range(60, 1_441).is_err());
        assert!(evaluation_range(3_600, 168).is_ok() && evaluation_range(3_600, 169).is_err());
    }
}
