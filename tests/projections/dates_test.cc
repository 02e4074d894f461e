#include "projections/dates.h"

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace caseledger::projections {
namespace {

TEST(DatesTest, IsSetOnlyFalseForAllZero) {
  EXPECT_FALSE(IsSet(v1::Date()));
  EXPECT_TRUE(IsSet(MakeDate(2024, 1, 1)));
  EXPECT_TRUE(IsSet(MakeDate(0, 0, 1)));
}

TEST(DatesTest, IsValidDateChecksCalendar) {
  EXPECT_TRUE(IsValidDate(MakeDate(2024, 2, 29)));   // divisible by 4
  EXPECT_FALSE(IsValidDate(MakeDate(2023, 2, 29)));  // not a leap year
  EXPECT_FALSE(IsValidDate(MakeDate(1900, 2, 29)));  // century, not by 400
  EXPECT_TRUE(IsValidDate(MakeDate(2000, 2, 29)));   // divisible by 400
  EXPECT_TRUE(IsValidDate(MakeDate(2024, 4, 30)));
  EXPECT_FALSE(IsValidDate(MakeDate(2024, 4, 31)));
  EXPECT_FALSE(IsValidDate(MakeDate(2024, 13, 1)));
  EXPECT_FALSE(IsValidDate(MakeDate(2024, 0, 1)));
  EXPECT_FALSE(IsValidDate(MakeDate(2024, 1, 0)));
  EXPECT_FALSE(IsValidDate(MakeDate(0, 1, 1)));
  EXPECT_FALSE(IsValidDate(MakeDate(10000, 1, 1)));
  EXPECT_TRUE(IsValidDate(MakeDate(1, 1, 1)));
  EXPECT_TRUE(IsValidDate(MakeDate(9999, 12, 31)));
  EXPECT_FALSE(IsValidDate(v1::Date()));
}

TEST(DatesTest, DaysFromCivilCountsFromUnixEpoch) {
  EXPECT_EQ(DaysFromCivil(MakeDate(1970, 1, 1)), 0);
  EXPECT_EQ(DaysFromCivil(MakeDate(1970, 1, 2)), 1);
  EXPECT_EQ(DaysFromCivil(MakeDate(1969, 12, 31)), -1);
  // 30 years of 365 days plus the 7 leap days 1972..1996 give 2000-01-01 =
  // 10957; January (31) and leap February (29) add 60.
  EXPECT_EQ(DaysFromCivil(MakeDate(2000, 3, 1)), 11017);
}

TEST(DatesTest, DaysBetweenIsSecondMinusFirst) {
  EXPECT_EQ(DaysBetween(MakeDate(2024, 2, 28), MakeDate(2024, 3, 1)), 2);
  EXPECT_EQ(DaysBetween(MakeDate(2023, 2, 28), MakeDate(2023, 3, 1)), 1);
  EXPECT_EQ(DaysBetween(MakeDate(1900, 2, 28), MakeDate(1900, 3, 1)), 1);
  EXPECT_EQ(DaysBetween(MakeDate(2000, 1, 1), MakeDate(2001, 1, 1)), 366);
  EXPECT_EQ(DaysBetween(MakeDate(2024, 3, 1), MakeDate(2024, 1, 1)), -60);
  EXPECT_EQ(DaysBetween(MakeDate(2024, 5, 5), MakeDate(2024, 5, 5)), 0);
}

TEST(DatesTest, AddDaysCrossesMonthsAndYears) {
  EXPECT_EQ(FormatDate(AddDays(MakeDate(2024, 12, 31), 1)), "2025-01-01");
  EXPECT_EQ(FormatDate(AddDays(MakeDate(2024, 3, 1), -1)), "2024-02-29");
  EXPECT_EQ(FormatDate(AddDays(MakeDate(2023, 3, 1), -1)), "2023-02-28");
  EXPECT_EQ(FormatDate(AddDays(MakeDate(2024, 3, 1), 90)), "2024-05-30");
  EXPECT_EQ(FormatDate(AddDays(MakeDate(2024, 3, 1), 0)), "2024-03-01");
  // A month (day 0), as de-identified outputs coarsen dates: no "-00".
  EXPECT_EQ(FormatDate(MakeDate(2026, 12, 0)), "2026-12");
  EXPECT_EQ(FormatDate(MakeDate(987, 1, 0)), "0987-01");
  EXPECT_EQ(FormatDate(MakeDate(2026, 0, 0)), "2026");
}

TEST(DatesTest, DateFromDaysInvertsDaysFromCivil) {
  for (int64_t days = -800; days <= 30000; days += 7) {
    const v1::Date date = DateFromDays(days);
    ASSERT_TRUE(IsValidDate(date)) << days;
    ASSERT_EQ(DaysFromCivil(date), days);
  }
  EXPECT_EQ(FormatDate(DateFromDays(0)), "1970-01-01");
  EXPECT_EQ(FormatDate(DateFromDays(11017)), "2000-03-01");
}

TEST(DatesTest, CompareOrdersByYearMonthDay) {
  EXPECT_EQ(Compare(MakeDate(2024, 1, 31), MakeDate(2024, 2, 1)), -1);
  EXPECT_EQ(Compare(MakeDate(2024, 2, 1), MakeDate(2024, 1, 31)), 1);
  EXPECT_EQ(Compare(MakeDate(2023, 12, 31), MakeDate(2024, 1, 1)), -1);
  EXPECT_EQ(Compare(MakeDate(2024, 3, 3), MakeDate(2024, 3, 2)), 1);
  EXPECT_EQ(Compare(MakeDate(2024, 3, 3), MakeDate(2024, 3, 3)), 0);
  EXPECT_EQ(Compare(v1::Date(), MakeDate(1, 1, 1)), -1);
  EXPECT_EQ(Compare(v1::Date(), v1::Date()), 0);
}

TEST(DatesTest, DateFromTimeUsesUtc) {
  EXPECT_EQ(FormatDate(DateFromTime(absl::UnixEpoch())), "1970-01-01");
  EXPECT_EQ(FormatDate(DateFromTime(absl::FromUnixSeconds(-1))), "1969-12-31");
  const absl::TimeZone utc = absl::UTCTimeZone();
  EXPECT_EQ(FormatDate(DateFromTime(absl::FromCivil(
                absl::CivilSecond(2024, 5, 6, 23, 59, 59), utc))),
            "2024-05-06");
  // 23:30 at UTC-5 is 04:30 the next day in UTC.
  const absl::TimeZone minus5 = absl::FixedTimeZone(-5 * 3600);
  EXPECT_EQ(FormatDate(DateFromTime(absl::FromCivil(
                absl::CivilSecond(2024, 5, 6, 23, 30, 0), minus5))),
            "2024-05-07");
}

TEST(DatesTest, FormatDatePadsAndLeavesUnsetEmpty) {
  EXPECT_EQ(FormatDate(MakeDate(2024, 3, 5)), "2024-03-05");
  EXPECT_EQ(FormatDate(MakeDate(999, 1, 2)), "0999-01-02");
  EXPECT_EQ(FormatDate(v1::Date()), "");
}

}  // namespace
}  // namespace caseledger::projections
