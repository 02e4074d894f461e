#include "tools/casectl/progress.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace caseledger::casectl {

Progress::Mode Progress::AutoMode() {
  return ::isatty(STDERR_FILENO) ? Mode::kBar : Mode::kLines;
}

bool Progress::ParseMode(const std::string& text, Mode* mode) {
  if (text == "auto" || text.empty()) {
    *mode = AutoMode();
  } else if (text == "bar") {
    *mode = Mode::kBar;
  } else if (text == "lines") {
    *mode = Mode::kLines;
  } else if (text == "none") {
    *mode = Mode::kNone;
  } else {
    return false;
  }
  return true;
}

Progress::Progress(std::string label, uint64_t total, std::string unit,
                   Mode mode, std::FILE* out, absl::Duration interval)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      mode_(mode),
      out_(out),
      interval_(interval),
      start_(absl::Now()),
      last_draw_(start_) {}

std::string Progress::FormatDuration(absl::Duration d) {
  const int64_t s = absl::ToInt64Seconds(d);
  if (s < 60) return absl::StrFormat("%.1fs", absl::ToDoubleSeconds(d));
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%dh%02dm", s / 3600, (s / 60) % 60);
}

std::string Progress::Line(uint64_t done, double seconds, bool bar) const {
  const double rate = seconds > 0 ? done / seconds : 0;
  std::string line = absl::StrCat(label_, ": ");
  if (bar && total_ > 0) {
    constexpr int kWidth = 24;
    const int filled =
        static_cast<int>(std::min<uint64_t>(done, total_) * kWidth / total_);
    absl::StrAppend(&line, "[", std::string(filled, '#'),
                    std::string(kWidth - filled, '-'), "] ");
  }
  absl::StrAppend(&line, done);
  if (total_ > 0) {
    absl::StrAppend(&line, "/", total_, " ", unit_,
                    absl::StrFormat(" (%d%%)", std::min<uint64_t>(
                                                   done * 100 / total_, 100)));
  } else {
    absl::StrAppend(&line, " ", unit_);
  }
  absl::StrAppend(&line, absl::StrFormat(", %.0f/s", rate));
  if (total_ > 0 && rate > 0 && done < total_) {
    absl::StrAppend(&line, ", ETA ",
                    FormatDuration(absl::Seconds((total_ - done) / rate)));
  } else if (total_ == 0 || rate == 0) {
    absl::StrAppend(&line, ", ", FormatDuration(absl::Seconds(seconds)));
  }
  return line;
}

bool Progress::Due() {
  if (mode_ == Mode::kNone) return false;
  const absl::Time now = absl::Now();
  const absl::Duration every =
      mode_ == Mode::kBar ? std::min(interval_, absl::Milliseconds(100))
                          : interval_;
  if (now - last_draw_ < every) return false;
  last_draw_ = now;
  return true;
}

void Progress::Draw(const std::string& line) {
  if (mode_ == Mode::kBar) {
    // Pad to overwrite a longer previous line.
    std::fprintf(out_, "\r%-78s", line.c_str());
    drawn_ = true;
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

void Progress::Update(uint64_t done) {
  if (!Due()) return;
  Draw(Line(done, absl::ToDoubleSeconds(absl::Now() - start_),
            mode_ == Mode::kBar));
}

void Progress::Waiting(const std::string& what) {
  if (!Due()) return;
  Draw(absl::StrCat(label_, ": ", what, ", ",
                    FormatDuration(absl::Now() - start_)));
}

void Progress::Clear() {
  if (mode_ == Mode::kBar && drawn_) {
    std::fprintf(out_, "\r%78s\r", "");
    std::fflush(out_);
    drawn_ = false;
  }
}

void Progress::Finish(uint64_t done, const std::string& note) {
  if (mode_ == Mode::kNone) return;
  Clear();
  const absl::Duration took = absl::Now() - start_;
  const double seconds = absl::ToDoubleSeconds(took);
  std::fprintf(out_, "%s: %llu %s in %s (%.0f/s)%s\n", label_.c_str(),
               static_cast<unsigned long long>(done), unit_.c_str(),
               FormatDuration(took).c_str(), seconds > 0 ? done / seconds : 0.0,
               note.c_str());
  std::fflush(out_);
}

}  // namespace caseledger::casectl
