#ifndef CASELEDGER_PROJECTIONS_DATES_H_
#define CASELEDGER_PROJECTIONS_DATES_H_

// Calendar arithmetic on v1::Date (proleptic Gregorian calendar, no time
// zone). An "unset" date is the default message (year, month and day all 0);
// every other date these functions receive is expected to be a valid calendar
// date, which the engine's validation guarantees for stored events. Pure
// functions; thread-safe.

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "caseledger/v1/common.pb.h"

namespace caseledger::projections {

// True unless `date` is the unset (all-zero) date.
bool IsSet(const v1::Date& date);

// True if `date` is a calendar date: year 1..9999, month 1..12, day within
// the month (leap years included).
bool IsValidDate(const v1::Date& date);

// Days since 1970-01-01 (negative before it).
// REQUIRES: IsValidDate(date). Out-of-range fields are normalised the way
// absl::CivilDay does (e.g. 2024-02-30 counts as 2024-03-01).
int64_t DaysFromCivil(const v1::Date& date);

// The date `days` days after 1970-01-01 (before it when negative).
v1::Date DateFromDays(int64_t days);

// b - a in days: positive when b is later than a.
// REQUIRES: IsValidDate(a) && IsValidDate(b).
int64_t DaysBetween(const v1::Date& a, const v1::Date& b);

// `date` moved by `days` days (backwards when negative).
// REQUIRES: IsValidDate(date).
v1::Date AddDays(const v1::Date& date, int64_t days);

// -1, 0 or 1 as `a` is before, equal to or after `b`, comparing (year, month,
// day) in that order; so the unset date sorts before every set date.
int Compare(const v1::Date& a, const v1::Date& b);

// The date with the given fields (not validated).
v1::Date MakeDate(int year, int month, int day);

// The UTC calendar day containing `t`.
v1::Date DateFromTime(absl::Time t);

// "YYYY-MM-DD" (years below 1000 zero-padded); "YYYY-MM" for a date with
// day 0 (a month, as the de-identified outputs coarsen dates), "YYYY" for a
// year alone; "" for the unset date.
std::string FormatDate(const v1::Date& date);

}  // namespace caseledger::projections

#endif  // CASELEDGER_PROJECTIONS_DATES_H_
