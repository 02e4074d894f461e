#include "projections/dates.h"

#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"

namespace caseledger::projections {
namespace {

constexpr absl::CivilDay kEpoch(1970, 1, 1);

absl::CivilDay ToCivilDay(const v1::Date& date) {
  return absl::CivilDay(date.year(), date.month(), date.day());
}

v1::Date FromCivilDay(absl::CivilDay day) {
  return MakeDate(static_cast<int>(day.year()), day.month(), day.day());
}

bool IsLeapYear(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

}  // namespace

bool IsSet(const v1::Date& date) {
  return date.year() != 0 || date.month() != 0 || date.day() != 0;
}

bool IsValidDate(const v1::Date& date) {
  static constexpr int kDaysInMonth[] = {31, 28, 31, 30, 31, 30,
                                         31, 31, 30, 31, 30, 31};
  if (date.year() < 1 || date.year() > 9999) return false;
  if (date.month() < 1 || date.month() > 12) return false;
  int days = kDaysInMonth[date.month() - 1];
  if (date.month() == 2 && IsLeapYear(date.year())) days = 29;
  return date.day() >= 1 && date.day() <= days;
}

int64_t DaysFromCivil(const v1::Date& date) {
  return ToCivilDay(date) - kEpoch;
}

v1::Date DateFromDays(int64_t days) { return FromCivilDay(kEpoch + days); }

int64_t DaysBetween(const v1::Date& a, const v1::Date& b) {
  return ToCivilDay(b) - ToCivilDay(a);
}

v1::Date AddDays(const v1::Date& date, int64_t days) {
  return FromCivilDay(ToCivilDay(date) + days);
}

int Compare(const v1::Date& a, const v1::Date& b) {
  if (a.year() != b.year()) return a.year() < b.year() ? -1 : 1;
  if (a.month() != b.month()) return a.month() < b.month() ? -1 : 1;
  if (a.day() != b.day()) return a.day() < b.day() ? -1 : 1;
  return 0;
}

v1::Date MakeDate(int year, int month, int day) {
  v1::Date date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

v1::Date DateFromTime(absl::Time t) {
  return FromCivilDay(absl::ToCivilDay(t, absl::UTCTimeZone()));
}

std::string FormatDate(const v1::Date& date) {
  if (!IsSet(date)) return "";
  if (date.month() == 0) return absl::StrFormat("%04d", date.year());
  if (date.day() == 0) {
    return absl::StrFormat("%04d-%02d", date.year(), date.month());
  }
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(),
                         date.day());
}

}  // namespace caseledger::projections
