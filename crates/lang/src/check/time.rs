//! Checking when: time ranges and date-times, read the way harmony-py's datetimes print.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use crate::ast::{Arg, ArgKind, Clause, Term, TermKind};
use crate::diagnostic::Diagnostic;
use crate::query::*;

use super::{Checker, single_term, term_source};

impl Checker {
    pub(super) fn time_range(&mut self, clause: &Clause, args: &[Arg]) -> Option<TimeRange> {
        let usage = "write time(START .. STOP), e.g. time(2020-04-27 .. 2020-05-28); either end may be left out";
        let [arg] = args else {
            self.error(
                Diagnostic::error(
                    "time-arity",
                    format!("time expected one range START .. STOP, found {} arguments", args.len()),
                    clause.span,
                )
                .with_hint(usage),
            );
            return None;
        };
        let ArgKind::Range(start, stop) = &arg.kind else {
            let mut diagnostic =
                Diagnostic::error("time-not-range", "time expects a range START .. STOP", arg.span).with_hint(usage);
            if let Some(term) = single_term(arg)
                && let Some(day) = term.node.text().and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
                && let Some(next) = day.succ_opt()
            {
                let fix = format!("{day} .. {next}");
                diagnostic =
                    diagnostic.with_hint(format!("for that whole day write time({fix})")).with_fix(arg.span, fix);
            }
            self.error(diagnostic);
            return None;
        };
        if start.is_none() && stop.is_none() {
            self.error(
                Diagnostic::error("time-empty", "the time range needs a start or a stop", arg.span).with_hint(usage),
            );
            return None;
        }
        let start_value = match start {
            Some(term) => Some(self.datetime(term)?),
            None => None,
        };
        let stop_value = match stop {
            Some(term) => Some(self.datetime(term)?),
            None => None,
        };
        if let (Some(a), Some(b), Some(start_term), Some(stop_term)) = (&start_value, &stop_value, start, stop)
            && a.to_utc() >= b.to_utc()
        {
            let fix = format!("{} .. {}", term_source(stop_term), term_source(start_term));
            let mut diagnostic =
                Diagnostic::error("time-order", "the time range's start must be earlier than its stop", arg.span)
                    .with_label(format!("{} is not before {}", a.isoformat(), b.isoformat()));
            if a.to_utc() > b.to_utc() {
                diagnostic = diagnostic.with_hint(format!("swap them: time({fix})")).with_fix(arg.span, fix);
            }
            self.error(diagnostic);
            return None;
        }
        Some(TimeRange { start: start_value, stop: stop_value })
    }

    pub(super) fn datetime(&mut self, term: &Term) -> Option<DateTime> {
        let text = match &term.node {
            TermKind::DateTime(text) | TermKind::Str(text) => text.clone(),
            other => {
                self.error(Diagnostic::error(
                    "expected-date",
                    format!("expected a date such as 2020-04-27 or 2020-04-27T12:00:00Z, found {}", other.describe()),
                    term.span,
                ));
                return None;
            }
        };
        match parse_datetime(&text) {
            Ok(value) => Some(value),
            Err(message) => {
                self.error(Diagnostic::error("bad-date", message, term.span).with_hint(
                    "dates are YYYY-MM-DD, optionally followed by Thh:mm[:ss[.ffffff]] and a zone such as Z or +02:00",
                ));
                None
            }
        }
    }
}

/// Reads `YYYY-MM-DD[(T| )hh:mm[:ss[.f]]][Z|±hh[:]mm]` into a checked [`DateTime`].
pub fn parse_datetime(text: &str) -> Result<DateTime, String> {
    let text = text.trim();
    let (date_part, rest) = text.split_at(text.len().min(10));
    let date =
        NaiveDate::parse_from_str(date_part, "%Y-%m-%d").map_err(|_| format!("{date_part} is not a calendar date"))?;
    let mut rest = rest;
    let mut offset_seconds = None;
    if let Some(stripped) = rest.strip_suffix(['Z', 'z']) {
        rest = stripped;
        offset_seconds = Some(0);
    } else if let Some(position) = rest.rfind(['+', '-']) {
        // The clock has no signs, so a sign after the date starts the zone.
        let zone = &rest[position..];
        let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
        let valid = digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit());
        let hours: i32 = digits.get(..2).and_then(|d| d.parse().ok()).unwrap_or(99);
        let minutes: i32 = digits.get(2..).and_then(|d| d.parse().ok()).unwrap_or(99);
        if !valid || hours > 23 || minutes > 59 {
            return Err(format!("{zone} is not a time zone offset"));
        }
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        offset_seconds = Some(sign * (hours * 3600 + minutes * 60));
        rest = &rest[..position];
    }
    let time = if rest.is_empty() {
        NaiveTime::MIN
    } else {
        let clock = &rest[1..];
        let (main, fraction) = clock.split_once('.').unwrap_or((clock, ""));
        let format = if main.len() == 5 { "%H:%M" } else { "%H:%M:%S" };
        let base = NaiveTime::parse_from_str(main, format).map_err(|_| format!("{clock} is not a time of day"))?;
        let micros: u32 = if fraction.is_empty() {
            0
        } else {
            let padded: String = fraction.chars().chain(std::iter::repeat('0')).take(6).collect();
            padded.parse().map_err(|_| format!("{clock} is not a time of day"))?
        };
        base + chrono::Duration::microseconds(i64::from(micros))
    };
    Ok(DateTime { local: NaiveDateTime::new(date, time), offset_seconds })
}
