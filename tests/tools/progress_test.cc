// casectl's progress display: a redrawn bar with rate and ETA for a
// terminal, plain lines otherwise, nothing with --progress=none.

#include "tools/casectl/progress.h"

#include <cstdio>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace caseledger::casectl {
namespace {

// What `draw` wrote through a Progress into a temporary file.
template <typename Draw>
std::string Capture(Draw draw) {
  std::FILE* file = std::tmpfile();
  draw(file);
  std::fflush(file);
  std::rewind(file);
  std::string text;
  char buffer[1024];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) {
    text.append(buffer, n);
  }
  std::fclose(file);
  return text;
}

TEST(ProgressTest, BarRedrawsOneLineWithPercentRateAndEta) {
  const std::string text = Capture([](std::FILE* out) {
    Progress progress("export", 1000, "events", Progress::Mode::kBar, out,
                      absl::ZeroDuration());
    progress.Update(250);
    progress.Update(500);
    progress.Finish(1000);
  });
  EXPECT_TRUE(absl::StrContains(text,
                                "\rexport: [######------------------] "
                                "250/1000 events (25%)"))
      << text;
  EXPECT_TRUE(absl::StrContains(text, "(50%)")) << text;
  EXPECT_TRUE(absl::StrContains(text, "/s, ETA ")) << text;
  // The bar is wiped before the summary, which ends the output.
  EXPECT_TRUE(absl::StrContains(text, "\rexport: 1000 events in ")) << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST(ProgressTest, LinesAreWholeLinesWithoutCarriageReturns) {
  const std::string text = Capture([](std::FILE* out) {
    Progress progress("import", 200, "events", Progress::Mode::kLines, out,
                      absl::ZeroDuration());
    progress.Update(100);
    progress.Finish(200, " (note)");
  });
  EXPECT_FALSE(absl::StrContains(text, "\r")) << text;
  EXPECT_TRUE(absl::StrContains(text, "import: 100/200 events (50%)")) << text;
  EXPECT_TRUE(absl::StrContains(text, "\nimport: 200 events in ")) << text;
  EXPECT_TRUE(absl::EndsWith(text, " (note)\n")) << text;
}

TEST(ProgressTest, LinesAreRateLimitedButTheSummaryAlwaysComes) {
  const std::string text = Capture([](std::FILE* out) {
    Progress progress("import", 0, "events", Progress::Mode::kLines, out,
                      absl::Hours(1));
    for (int i = 1; i <= 1000; ++i) progress.Update(i);
    progress.Finish(1000);
  });
  EXPECT_FALSE(absl::StrContains(text, "import: 1/")) << text;
  EXPECT_TRUE(absl::StartsWith(text, "import: 1000 events in ")) << text;
}

TEST(ProgressTest, NoneWritesNothing) {
  const std::string text = Capture([](std::FILE* out) {
    Progress progress("verify", 10, "events", Progress::Mode::kNone, out,
                      absl::ZeroDuration());
    progress.Update(5);
    progress.Waiting("checking");
    progress.Finish(10);
  });
  EXPECT_TRUE(text.empty()) << text;
}

TEST(ProgressTest, ModesAndDurationsParse) {
  Progress::Mode mode;
  EXPECT_TRUE(Progress::ParseMode("bar", &mode));
  EXPECT_EQ(mode, Progress::Mode::kBar);
  EXPECT_TRUE(Progress::ParseMode("lines", &mode));
  EXPECT_EQ(mode, Progress::Mode::kLines);
  EXPECT_TRUE(Progress::ParseMode("none", &mode));
  EXPECT_EQ(mode, Progress::Mode::kNone);
  EXPECT_FALSE(Progress::ParseMode("fancy", &mode));
  EXPECT_EQ(Progress::FormatDuration(absl::Seconds(1.25)), "1.2s");
  EXPECT_EQ(Progress::FormatDuration(absl::Seconds(184)), "3m04s");
  EXPECT_EQ(Progress::FormatDuration(absl::Minutes(62)), "1h02m");
}

}  // namespace
}  // namespace caseledger::casectl
