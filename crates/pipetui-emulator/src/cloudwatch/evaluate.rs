//! Metric alarm evaluation and statistics over stored samples (pure: the caller selects the
//! samples of the alarm's metric — namespace, name, dimensions, unit — and passes `now`).
//!
//! Periods are aligned to multiples of `Period` since the epoch; the current partial period is
//! never evaluated. Missing data: `breaching`/`notBreaching` fill the last `EvaluationPeriods`
//! periods; `missing`/`ignore` use the most recent `EvaluationPeriods` present datapoints within
//! an evaluation range [`LOOKBACK_EXTRA_PERIODS`] periods longer (AWS looks back further too).

use std::fmt::Write as _;

/// How many periods beyond `EvaluationPeriods` `missing`/`ignore` alarms look back.
pub const LOOKBACK_EXTRA_PERIODS: i64 = 2;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("Comparison operator {0} requires an anomaly detection model, which is not supported")]
    AnomalyDetection(String),
    #[error("Invalid value '{0}' for {1}")]
    InvalidValue(String, &'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum StateValue {
    Ok,
    Alarm,
    InsufficientData,
}

impl StateValue {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
    pub fn parse(s: &str) -> Result<Self, EvalError> {
        s.parse()
            .map_err(|_| EvalError::InvalidValue(s.to_string(), "StateValue"))
    }
}

/// `Statistic` or `ExtendedStatistic` (`pNN`, `pNN.N`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Statistic {
    SampleCount,
    Average,
    Sum,
    Minimum,
    Maximum,
    Percentile(f64),
}

impl Statistic {
    pub fn parse(s: &str) -> Result<Self, EvalError> {
        let bad = || EvalError::InvalidValue(s.to_string(), "Statistic");
        Ok(match s {
            "SampleCount" => Statistic::SampleCount,
            "Average" => Statistic::Average,
            "Sum" => Statistic::Sum,
            "Minimum" => Statistic::Minimum,
            "Maximum" => Statistic::Maximum,
            _ => {
                let p: f64 = s
                    .strip_prefix('p')
                    .ok_or_else(bad)?
                    .parse()
                    .map_err(|_| bad())?;
                if !(0.0..=100.0).contains(&p) {
                    return Err(bad());
                }
                Statistic::Percentile(p)
            }
        })
    }
    /// The API name (`Average`, `p99`, `p99.9`).
    pub fn name(&self) -> String {
        match self {
            Statistic::SampleCount => "SampleCount".into(),
            Statistic::Average => "Average".into(),
            Statistic::Sum => "Sum".into(),
            Statistic::Minimum => "Minimum".into(),
            Statistic::Maximum => "Maximum".into(),
            Statistic::Percentile(p) => format!("p{p}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComparisonOperator {
    GreaterThanOrEqualToThreshold,
    GreaterThanThreshold,
    LessThanThreshold,
    LessThanOrEqualToThreshold,
}

impl ComparisonOperator {
    /// The three anomaly-band operators are refused with [`EvalError::AnomalyDetection`].
    pub fn parse(s: &str) -> Result<Self, EvalError> {
        match s {
            "GreaterThanOrEqualToThreshold" => Ok(Self::GreaterThanOrEqualToThreshold),
            "GreaterThanThreshold" => Ok(Self::GreaterThanThreshold),
            "LessThanThreshold" => Ok(Self::LessThanThreshold),
            "LessThanOrEqualToThreshold" => Ok(Self::LessThanOrEqualToThreshold),
            "LessThanLowerOrGreaterThanUpperThreshold"
            | "LessThanLowerThreshold"
            | "GreaterThanUpperThreshold" => Err(EvalError::AnomalyDetection(s.to_string())),
            _ => Err(EvalError::InvalidValue(s.to_string(), "ComparisonOperator")),
        }
    }
    pub fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Self::GreaterThanOrEqualToThreshold => value >= threshold,
            Self::GreaterThanThreshold => value > threshold,
            Self::LessThanThreshold => value < threshold,
            Self::LessThanOrEqualToThreshold => value <= threshold,
        }
    }
    fn words(self) -> &'static str {
        match self {
            Self::GreaterThanOrEqualToThreshold => "greater than or equal to",
            Self::GreaterThanThreshold => "greater than",
            Self::LessThanThreshold => "less than",
            Self::LessThanOrEqualToThreshold => "less than or equal to",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TreatMissingData {
    #[default]
    Missing,
    NotBreaching,
    Breaching,
    Ignore,
}

impl TreatMissingData {
    /// `None` (parameter omitted) is `missing`.
    pub fn parse(s: Option<&str>) -> Result<Self, EvalError> {
        match s {
            None | Some("missing") => Ok(Self::Missing),
            Some("notBreaching") => Ok(Self::NotBreaching),
            Some("breaching") => Ok(Self::Breaching),
            Some("ignore") => Ok(Self::Ignore),
            Some(other) => Err(EvalError::InvalidValue(
                other.to_string(),
                "TreatMissingData",
            )),
        }
    }
}

/// One stored observation: `sample_count` copies of `value` (PutMetricData `Values`/`Counts` or
/// `Value`), or a statistic set (`value: None`, no percentiles).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub timestamp: f64,
    pub sample_count: f64,
    pub sum: f64,
    pub minimum: f64,
    pub maximum: f64,
    pub value: Option<f64>,
}

impl Sample {
    pub fn value(timestamp: f64, value: f64) -> Self {
        Self::repeated(timestamp, value, 1.0)
    }
    pub fn repeated(timestamp: f64, value: f64, count: f64) -> Self {
        Sample {
            timestamp,
            sample_count: count,
            sum: value * count,
            minimum: value,
            maximum: value,
            value: Some(value),
        }
    }
    pub fn statistic_set(
        timestamp: f64,
        sample_count: f64,
        sum: f64,
        minimum: f64,
        maximum: f64,
    ) -> Self {
        Sample {
            timestamp,
            sample_count,
            sum,
            minimum,
            maximum,
            value: None,
        }
    }
}

impl From<(f64, f64)> for Sample {
    fn from((timestamp, value): (f64, f64)) -> Self {
        Sample::value(timestamp, value)
    }
}

/// One period's statistics; `timestamp` is the period start (epoch seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct Datapoint {
    pub timestamp: f64,
    pub sample_count: f64,
    pub sum: f64,
    pub minimum: f64,
    pub maximum: f64,
    /// Requested percentiles, `(p, value)`; absent when the period holds only statistic sets.
    pub percentiles: Vec<(f64, f64)>,
}

impl Datapoint {
    pub fn average(&self) -> f64 {
        self.sum / self.sample_count
    }
    pub fn get(&self, stat: &Statistic) -> Option<f64> {
        match stat {
            Statistic::SampleCount => Some(self.sample_count),
            Statistic::Average => Some(self.average()),
            Statistic::Sum => Some(self.sum),
            Statistic::Minimum => Some(self.minimum),
            Statistic::Maximum => Some(self.maximum),
            Statistic::Percentile(p) => self
                .percentiles
                .iter()
                .find(|(q, _)| q == p)
                .map(|(_, v)| *v),
        }
    }
}

/// GetMetricStatistics / GetMetricData: samples with `start <= t < end`, bucketed into periods
/// aligned to multiples of `period` seconds; only periods with data, ascending by time.
/// Percentiles are computed for the `Percentile` entries of `statistics` (nearest rank).
pub fn aggregate(
    points: &[Sample],
    start: f64,
    end: f64,
    period: i64,
    statistics: &[Statistic],
) -> Vec<Datapoint> {
    let period = period.max(1) as f64;
    let mut inside: Vec<&Sample> = points
        .iter()
        .filter(|s| s.timestamp >= start && s.timestamp < end)
        .collect();
    inside.sort_by(|a, b| a.timestamp.total_cmp(&b.timestamp));
    let mut out: Vec<Datapoint> = Vec::new();
    let mut i = 0;
    while let Some(first) = inside.get(i) {
        let bucket = (first.timestamp / period).floor() * period;
        // At least the first sample: where `bucket + period` rounds back to `bucket` (huge
        // timestamps), counting none would never move `i` on.
        let n = inside[i..]
            .iter()
            .take_while(|s| s.timestamp < bucket + period)
            .count()
            .max(1);
        let group = &inside[i..i + n];
        i += n;
        let mut values: Vec<(f64, f64)> = group
            .iter()
            .filter_map(|s| s.value.map(|v| (v, s.sample_count)))
            .collect();
        values.sort_by(|a, b| a.0.total_cmp(&b.0));
        let percentiles = statistics
            .iter()
            .filter_map(|s| match s {
                Statistic::Percentile(p) => percentile(&values, *p).map(|v| (*p, v)),
                _ => None,
            })
            .collect();
        out.push(Datapoint {
            timestamp: bucket,
            sample_count: group.iter().map(|s| s.sample_count).sum(),
            sum: group.iter().map(|s| s.sum).sum(),
            minimum: group
                .iter()
                .map(|s| s.minimum)
                .fold(f64::INFINITY, f64::min),
            maximum: group
                .iter()
                .map(|s| s.maximum)
                .fold(f64::NEG_INFINITY, f64::max),
            percentiles,
        });
    }
    out
}

/// Nearest-rank percentile over `(value, count)` sorted by value.
fn percentile(sorted: &[(f64, f64)], p: f64) -> Option<f64> {
    let total: f64 = sorted.iter().map(|(_, c)| c).sum();
    let rank = (p / 100.0 * total).ceil().max(1.0);
    let mut seen = 0.0;
    for (v, c) in sorted {
        seen += c;
        if seen >= rank {
            return Some(*v);
        }
    }
    sorted.last().map(|(v, _)| *v)
}

/// A metric alarm's evaluation settings (PutMetricAlarm).
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmDefinition {
    pub statistic: Statistic,
    pub period: i64,
    pub evaluation_periods: u32,
    /// `None` means `EvaluationPeriods`.
    pub datapoints_to_alarm: Option<u32>,
    pub threshold: f64,
    pub comparison: ComparisonOperator,
    pub treat_missing_data: TreatMissingData,
}

/// The evaluated state with AWS-style `StateReason` and `StateReasonData` (a JSON string).
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub state: StateValue,
    pub reason: String,
    pub reason_data: String,
}

struct Slot {
    start: f64,
    point: Option<Datapoint>,
    value: Option<f64>,
}

/// Evaluates an alarm at `now` (epoch seconds) against the metric's samples.
pub fn evaluate(
    def: &AlarmDefinition,
    points: &[Sample],
    now: f64,
    current: StateValue,
) -> Result<Evaluation, EvalError> {
    let n = def.evaluation_periods;
    let m = def.datapoints_to_alarm.unwrap_or(n);
    // Seven days is PutMetricAlarm's longest evaluation range; nothing longer is looped over.
    if def.period < 1
        || n < 1
        || m < 1
        || m > n
        || def.period.saturating_mul(i64::from(n)) > 604_800
    {
        let what = format!(
            "Period={} EvaluationPeriods={n} DatapointsToAlarm={m}",
            def.period
        );
        return Err(EvalError::InvalidValue(what, "alarm definition"));
    }
    let (period, n_us, m_us) = (def.period as f64, n as usize, m as usize);
    let end = (now / period).floor() * period;
    let lookback = match def.treat_missing_data {
        TreatMissingData::Missing | TreatMissingData::Ignore => {
            i64::from(n) + LOOKBACK_EXTRA_PERIODS
        }
        _ => i64::from(n),
    };
    let stats = [def.statistic];
    let dps = aggregate(
        points,
        end - lookback as f64 * period,
        end,
        def.period,
        &stats,
    );
    // Most recent first.
    let slots: Vec<Slot> = (1..=lookback)
        .map(|k| {
            let start = end - k as f64 * period;
            let point = dps.iter().find(|d| d.timestamp == start).cloned();
            let value = point.as_ref().and_then(|d| d.get(&def.statistic));
            Slot {
                start,
                point,
                value,
            }
        })
        .collect();
    let evaluated: Vec<&Slot> = match def.treat_missing_data {
        TreatMissingData::Missing | TreatMissingData::Ignore => slots
            .iter()
            .filter(|s| s.value.is_some())
            .take(n_us)
            .collect(),
        _ => slots.iter().take(n_us).collect(),
    };
    let breaches = |s: &&Slot| match s.value {
        Some(v) => def.comparison.breaches(v, def.threshold),
        None => def.treat_missing_data == TreatMissingData::Breaching,
    };
    let breaching: Vec<&Slot> = evaluated.iter().copied().filter(breaches).collect();
    let real = evaluated.iter().filter(|s| s.value.is_some()).count();
    let missing = evaluated.len() - real;
    let (b, threshold, op) = (
        breaching.len(),
        fmt_f64(def.threshold),
        def.comparison.words(),
    );
    let state = if real == 0 && missing == 0 {
        match def.treat_missing_data {
            TreatMissingData::Ignore => current,
            _ => StateValue::InsufficientData,
        }
    } else if b >= m_us {
        StateValue::Alarm
    } else if evaluated.len() < m_us && b == evaluated.len() && b > 0 {
        // Fewer present datapoints than DatapointsToAlarm, all breaching.
        match def.treat_missing_data {
            TreatMissingData::Ignore => current,
            _ => StateValue::Alarm,
        }
    } else {
        StateValue::Ok
    };
    let reals = |list: &[&Slot]| -> Vec<(f64, f64)> {
        list.iter()
            .filter_map(|s| s.value.map(|v| (s.start, v)))
            .collect()
    };
    let reason = if real == 0 && missing == 0 {
        match state {
            StateValue::InsufficientData => format!(
                "Insufficient Data: {} {} unknown.",
                plural(n_us, "datapoint"),
                verb(n_us)
            ),
            _ => format!(
                "Unchanged: no datapoints were received for {} and missing data is ignored.",
                plural(lookback as usize, "period")
            ),
        }
    } else if real == 0 {
        let how = if state == StateValue::Alarm {
            "Breaching"
        } else {
            "NonBreaching"
        };
        let what = plural(missing, "missing datapoint");
        format!(
            "Threshold Crossed: no datapoints were received for {} and {what} {} treated as [{how}].",
            plural(missing, "period"),
            verb(missing)
        )
    } else if state == StateValue::Ok && b == 0 {
        let shown = reals(&evaluated);
        let k = shown.len();
        format!(
            "Threshold Crossed: {} {} {} not {op} the threshold ({threshold}).",
            plural(k, "datapoint"),
            list(&shown),
            verb(k)
        )
    } else if m_us == n_us && state == StateValue::Alarm {
        let shown = reals(&breaching);
        format!(
            "Threshold Crossed: {} {} {} {op} the threshold ({threshold}).",
            plural(b, "datapoint"),
            list(&shown),
            verb(b)
        )
    } else {
        let shown = reals(&breaching);
        let (from, to) = (current.as_str(), state.as_str());
        format!(
            "Threshold Crossed: {b} out of the last {} datapoints {} {} {op} the threshold ({threshold}) (minimum {} for {from} -> {to} transition).",
            evaluated.len(),
            list(&shown),
            verb(b),
            plural(m_us, "datapoint"),
        )
    };
    let reason_data = reason_data(def, now, &evaluated, &slots);
    Ok(Evaluation {
        state,
        reason,
        reason_data,
    })
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn verb(n: usize) -> &'static str {
    if n == 1 { "was" } else { "were" }
}

fn list(points: &[(f64, f64)]) -> String {
    let items: Vec<String> = points
        .iter()
        .map(|(t, v)| format!("{} ({})", fmt_f64(*v), short_date(*t)))
        .collect();
    format!("[{}]", items.join(", "))
}

/// Java-like double text: `12.0`, `0.5`, `1.0E21`.
fn fmt_f64(v: f64) -> String {
    let s = format!("{v:?}");
    s.replace('e', "E")
}

fn reason_data(def: &AlarmDefinition, now: f64, evaluated: &[&Slot], slots: &[Slot]) -> String {
    let oldest = evaluated
        .last()
        .map_or_else(|| slots.last().map_or(now, |s| s.start), |s| s.start);
    let recent: Vec<String> = evaluated
        .iter()
        .rev()
        .filter_map(|s| s.value.map(json_f64))
        .collect();
    let mut out = format!(
        r#"{{"version":"1.0","queryDate":"{}","startDate":"{}","statistic":"{}","period":{},"recentDatapoints":[{}],"threshold":{}"#,
        iso(now),
        iso(oldest),
        def.statistic.name(),
        def.period,
        recent.join(","),
        json_f64(def.threshold)
    );
    if !evaluated.is_empty() {
        out.push_str(r#","evaluatedDatapoints":["#);
        for (i, s) in evaluated.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let _ = write!(out, r#"{sep}{{"timestamp":"{}""#, iso(s.start));
            if let (Some(p), Some(v)) = (&s.point, s.value) {
                let _ = write!(
                    out,
                    r#","sampleCount":{},"value":{}"#,
                    json_f64(p.sample_count),
                    json_f64(v)
                );
            }
            out.push('}');
        }
        out.push(']');
    }
    out.push('}');
    out
}

fn json_f64(v: f64) -> String {
    serde_json::Value::from(v).to_string()
}

/// (year, month, day, hour, minute, second, millis) of epoch seconds, UTC.
fn civil(t: f64) -> (i64, i64, i64, i64, i64, i64, i64) {
    let ms = (t * 1000.0).round() as i64;
    let (secs, millis) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    (y, mo, d, sod / 3600, sod % 3600 / 60, sod % 60, millis)
}

/// `2023-11-26T10:01:00.000+0000` (StateReasonData).
pub fn iso(t: f64) -> String {
    let (y, mo, d, h, mi, s, ms) = civil(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}+0000")
}

/// `26/11/23 10:01:00` (dd/MM/yy HH:mm:ss, as in StateReason).
pub fn short_date(t: f64) -> String {
    let (y, mo, d, h, mi, s, _) = civil(t);
    format!(
        "{d:02}/{mo:02}/{:02} {h:02}:{mi:02}:{s:02}",
        y.rem_euclid(100)
    )
}
