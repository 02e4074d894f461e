// casectl: the command line for caseledger (talks gRPC to caseledgerd).
//
// Exit codes: 0 ok; 1 other error; 2 usage; 3 not found; 4 version conflict;
// 5 server unavailable; 6 verification found a broken chain; 7 not
// authenticated or not allowed.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "caseledger/v1/access_log_service.grpc.pb.h"
#include "caseledger/v1/erasure.grpc.pb.h"
#include "caseledger/v1/ledger_service.grpc.pb.h"
#include "caseledger/v1/transfer.grpc.pb.h"
#include "engine/ids.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "projections/dates.h"
#include "services/client_auth.h"
#include "tools/casectl/format.h"
#include "tools/casectl/progress.h"
#include "tools/caseload/caseload.h"

namespace caseledger::casectl {
namespace {

enum ExitCode {
  kOk = 0,
  kError = 1,
  kUsage = 2,
  kNotFound = 3,
  kConflict = 4,
  kUnavailable = 5,
  kBroken = 6,
  kDenied = 7,
};

struct CommandHelp {
  const char* name;
  const char* synopsis;
  const char* summary;  // one line, for the overview
  const char* details;  // for "casectl COMMAND --help"
  const char* example;
  // Flags the command takes besides the global ones.
  std::vector<std::string> flags;
};

const std::vector<CommandHelp>& Commands() {
  static const auto* commands = new std::vector<CommandHelp>{
      {"plan",
       "plan CASE [--as-of=TIME|POSITION] [--occurred]",
       "the current plan of a case, grouped by goal",
       "Prints the plan: status, program, strengths, goals with their steps\n"
       "and GAS scale, resources, support network, consents, measures.\n"
       "--as-of shows the plan as the record stood at a global position or\n"
       "an RFC 3339 time / YYYY-MM-DD; with --occurred, as things were at\n"
       "that time (events dated by when they happened).",
       "casectl plan case-000001 --as-of=2025-03-01 --occurred",
       {"as-of", "occurred"}},
      {"timeline",
       "timeline CASE [--since=TIME] [--until=TIME] [--type=T,...]",
       "a case's events, one line each",
       "One line per event (occurred-at, type, actor, summary). --since and\n"
       "--until filter by occurred-at; --type by event type (comma-separated;\n"
       "--kind is an older spelling). Paged: --page-size=N, then\n"
       "--page-token=T from the previous page.",
       "casectl timeline case-000001 --type=GoalSet,GoalRevised",
       {"since", "until", "type", "kind", "page-size", "page-token"}},
      {"history",
       "history CASE [--backward] [--page-size=N] [--page-token=T]",
       "the full auditable history of a case: actor, times, hash, chain",
       "Every stored event of the case with its actor, occurred and recorded\n"
       "times, global position, hash and whether its chain link holds.",
       "casectl history case-000001 --backward --page-size=20",
       {"backward", "page-size", "page-token"}},
      {"verify",
       "verify [CASE] [--progress=MODE]",
       "recompute hash chains: a case, or the whole log",
       "Recomputes the SHA-256 chains and prints a clear OK with counts, or\n"
       "the first broken global position and why (exit code 6). Checking the\n"
       "whole log shows progress (Transfer.VerifyLog streams it).",
       "casectl verify",
       {"progress"}},
      {"metrics",
       "metrics [--by=program|case-manager|team|cohort|period|training-cycle]"
       " [--as-of=YYYY-MM-DD] [--program=P] [--case-manager=ID] [--team=T]"
       " [--cohort=YYYY-MM] [--training-cycle=C] [--from=YYYY-MM-DD]"
       " [--to=YYYY-MM-DD]",
       "outcome metrics as an aligned table, small groups suppressed",
       "GAS, goal attainment, step completion, time to plan, measures and\n"
       "their change, return to work, reopenings; grouped with --by,\n"
       "filtered with --program, --case-manager, --team, --cohort (month\n"
       "opened), --training-cycle and the period --from/--to (inclusive\n"
       "bounds on the day a case opened); --as-of fixes the day that ages\n"
       "are taken at.",
       "casectl metrics --by=program --team=team-north --from=2025-01-01 "
       "--to=2025-12-31",
       {"by", "as-of", "program", "case-manager", "team", "cohort",
        "training-cycle", "from", "to"}},
      {"append",
       "append CASE [--expect=any|no-stream|exists|N] [--file=FILE]",
       "append events written in protobuf JSON; prints version and position",
       "Reads one Event, a JSON array of Events or {\"events\": [...]} from\n"
       "FILE (or stdin, or --file=-). Give envelope.event_id to make a retry\n"
       "idempotent (missing ids are generated). --expect is the optimistic\n"
       "concurrency check: a wrong version exits 4.",
       "casectl append case-000001 --expect=12 --file=events.json",
       {"expect", "file"}},
      {"tail",
       "tail [--from=POSITION] [--type=T,...] [--case=CASE]",
       "follow the event stream live until interrupted",
       "One line per event (with --json: one Event per line), from now or\n"
       "from a global position (1 = the beginning), filtered by event types\n"
       "and case. Runs until Ctrl-C.",
       "casectl tail --from=1 --type=GoalSet,CaseClosed",
       {"from", "type", "case"}},
      {"status",
       "status",
       "projection positions and lag",
       "Each projection's position, the log's position, the lag and whether\n"
       "it is rebuilding.",
       "casectl status",
       {}},
      {"rebuild",
       "rebuild [--wait] [--progress=MODE]",
       "rebuild the projections from position 0",
       "Starts a rebuild beside the serving store (queries keep working).\n"
       "With --wait, follows it with progress until it has caught up.",
       "casectl rebuild --wait",
       {"wait", "progress"}},
      {"backup",
       "backup NAME",
       "consistent online backup of the log on the server",
       "Writes a snapshot of the log to <data_dir>/backups/NAME (a plain\n"
       "name, no path) and prints the position it covers. Restore: stop the\n"
       "server and put the backup in place as <data_dir>/log.",
       "casectl backup before-upgrade",
       {}},
      {"erase",
       "erase CASE --reason=TEXT --legal-basis=TEXT [--by=USER]",
       "crypto-shred a case (administrators; cannot be undone)",
       "Destroys the case's data key, appends a CaseErased record (who, when,\n"
       "why) and purges the case from plans, timelines and metrics. History\n"
       "then shows its events as [erased]; plan and timeline are not found;\n"
       "appends to it are refused. Reason and legal basis outlive the\n"
       "erasure: they must not identify the client. Without --by the erasure\n"
       "is recorded as done by the authenticated principal.",
       "casectl erase case-000002 --reason='request 2026-118' "
       "--legal-basis='GDPR art. 17(1)(a)'",
       {"reason", "legal-basis", "by"}},
      {"export",
       "export --out=FILE.jsonl [--progress=MODE]",
       "the whole log as JSON lines, in global order",
       "Writes every event (envelope and payload, protobuf JSON, one event\n"
       "a line, in global order) up to the log's end when the export\n"
       "reaches it; appends made meanwhile by others may or may not be in\n"
       "it, and the file is always a gap-free prefix of the log. hash and\n"
       "prev_hash are left out: they depend on how a ledger stores its\n"
       "bytes. The file is written as FILE.partial and renamed at the end;\n"
       "--out=- writes to stdout.",
       "casectl export --out=ledger.jsonl",
       {"out", "progress"}},
      {"import",
       "import FILE.jsonl [--batch=N] [--progress=MODE]",
       "import an export; idempotent, keeps versions and times",
       "First checks every line (a malformed line stops the import before\n"
       "anything is written, naming its line number), then imports in\n"
       "batches of --batch events (default 500), each all or nothing. A line\n"
       "the server rejects (version out of sequence, id stored with other\n"
       "content, invalid event) stops the import with its line number; every\n"
       "line before it is imported and nothing from it on. Re-running an\n"
       "import adds nothing; running the fixed file completes it. Events\n"
       "keep their case versions and recorded times; into an empty ledger\n"
       "also their global positions. An operator action.",
       "casectl --server=127.0.0.1:50052 import ledger.jsonl",
       {"batch", "progress"}},
      {"demo",
       "demo [--cases=N] [--seed=S] [--progress=MODE]",
       "load a deterministic demo caseload through the API",
       "Housing-first recovery, burnout and brain-injury return to work,\n"
       "with consents, measures at intake and exit, GAS ratings, corrections,\n"
       "reopenings, recurrences and caseworker training cycles. The same\n"
       "seed and size give the same events; re-running adds nothing.",
       "casectl demo --cases=200 --seed=7",
       {"cases", "seed", "progress"}},
      {"access-log",
       "access-log query|verify [--case=CASE] [--principal=P] [--since=TIME]"
       " [--until=TIME]",
       "who accessed what (auditors), and the access log's chain check",
       "query: one line per access record (time, decision, principal, role,\n"
       "output, case, event range, withheld, purpose, peer, reason), filtered\n"
       "by --case (who accessed case X), --principal (what did P read) and\n"
       "--since/--until; paged with --page-size and --page-token.\n"
       "verify: recomputes the access log's SHA-256 chains (exit code 6 if\n"
       "broken). Auditor role.",
       "casectl --token-file=auditor.token access-log query --case=case-000001",
       {"case", "principal", "since", "until", "page-size", "page-token"}},
  };
  return *commands;
}

// Options that take a value (also as "--name VALUE").
bool TakesValue(const std::string& name) {
  static const auto* kValued = new std::set<std::string>{
      "server",  "timeout",   "as-of",      "since",   "until",   "type",
      "kind",    "page-size", "page-token", "by",      "program", "expect",
      "file",    "from",      "case",       "cases",   "seed",    "out",
      "batch",   "progress",  "token-file", "purpose", "tls-ca",  "tls-cert",
      "tls-key", "principal"};
  return kValued->count(name) > 0;
}

const CommandHelp* FindCommand(const std::string& name) {
  for (const CommandHelp& c : Commands()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

std::string Overview() {
  std::string text =
      "casectl: the command line for caseledger\n\n"
      "Usage: casectl [--server=HOST:PORT] [--json] [--timeout=SECONDS] "
      "COMMAND ...\n\nCommands:\n";
  for (const CommandHelp& c : Commands()) {
    absl::StrAppend(&text, "  ", c.synopsis, "\n      ", c.summary,
                    "\n      e.g. ", c.example, "\n");
  }
  absl::StrAppend(
      &text,
      "\nGlobal flags: --server (default 127.0.0.1:50051), --json (machine\n"
      "output: protobuf JSON on stdout), --timeout (seconds per call,\n"
      "default 30), --help. Flags take --name=value or --name value.\n"
      "Long work (export, import, rebuild --wait, verify, demo) shows\n"
      "progress on stderr: --progress=auto (a bar on a terminal, plain lines\n"
      "otherwise), bar, lines or none.\n"
      "Identity: --token-file=FILE (a bearer token; the file holds only the\n"
      "token), --purpose=TEXT (why you read, sent with every call;\n"
      "\"break-glass:REASON\" for emergency access), --tls-ca=FILE (the\n"
      "server's CA: TLS instead of plaintext), --tls-cert=FILE\n"
      "--tls-key=FILE (a client certificate: mutual TLS).\n\n"
      "Exit codes: 0 ok, 1 error, 2 usage or bad input, 3 not found,\n"
      "4 version conflict, 5 server unavailable, 6 broken hash chain,\n"
      "7 not authenticated or not allowed.\n\n"
      "casectl COMMAND --help explains a command.\n");
  return text;
}

std::string CommandUsage(const CommandHelp& c) {
  return absl::StrCat("Usage: casectl [global flags] ", c.synopsis, "\n\n",
                      c.summary, ".\n\n", c.details, "\n\nExample:\n  ",
                      c.example,
                      "\n\nGlobal flags: --server, --json, "
                      "--timeout; see casectl --help.\n");
}

struct Args {
  std::string command;
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  // --key=value / --flag ("")
  std::string error;                           // a parse problem

  bool Has(const std::string& key) const { return options.count(key) > 0; }
  std::string Get(const std::string& key, const std::string& def = "") const {
    auto it = options.find(key);
    return it == options.end() ? def : it->second;
  }
};

Args Parse(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
      const size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        args.options[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
      } else if (TakesValue(arg.substr(2))) {
        if (i + 1 >= argc) {
          args.error = absl::StrCat(arg, " needs a value");
        } else {
          args.options[arg.substr(2)] = argv[++i];
        }
      } else {
        args.options[arg.substr(2)] = "";
      }
    } else if (args.command.empty()) {
      args.command = arg;
    } else {
      args.positional.push_back(arg);
    }
  }
  return args;
}

// A usage error: the problem, then how to get help.
int Usage(const std::string& problem) {
  std::fprintf(stderr, "casectl: %s (see casectl --help)\n", problem.c_str());
  return kUsage;
}

// Bad input (a file, JSON): the problem only, without the usage text.
int InputError(const std::string& problem) {
  std::fprintf(stderr, "casectl: %s\n", problem.c_str());
  return kUsage;
}

// What to check when the server cannot be reached (set by Connect; names
// flags, never their contents).
std::string& UnavailableHint() {
  static std::string* hint = new std::string;
  return *hint;
}

int Fail(const grpc::Status& status) {
  std::fprintf(stderr, "casectl: %s: %s\n",
               absl::StatusCodeToString(
                   static_cast<absl::StatusCode>(status.error_code()))
                   .c_str(),
               status.error_message().c_str());
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
      !UnavailableHint().empty()) {
    std::fprintf(stderr, "casectl: %s\n", UnavailableHint().c_str());
  }
  switch (status.error_code()) {
    case grpc::StatusCode::NOT_FOUND:
      return kNotFound;
    case grpc::StatusCode::ABORTED:
      return kConflict;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return kUnavailable;
    case grpc::StatusCode::INVALID_ARGUMENT:
      return kUsage;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return kDenied;
    default:
      return kError;
  }
}

// A description of a protobuf JSON parse failure without any of the input:
// protobuf's own message quotes ~20 characters around the error and the
// offending value, which may be record content. Keeps the parser's fixed
// description of a syntax error, or the field path (quoted map keys
// replaced by "?") of a bad value.
std::string ContentFreeJsonError(absl::string_view message) {
  const std::vector<absl::string_view> lines = absl::StrSplit(message, '\n');
  const absl::string_view first = lines.empty() ? "" : lines[0];
  if (lines.size() >= 3) {
    // Syntax error: fixed text, then a context line and a caret line.
    return absl::StrCat("JSON syntax: ", first);
  }
  if (absl::StartsWith(first, "(")) {
    const size_t close = first.find("): ");
    if (close != absl::string_view::npos) {
      std::string path;
      bool quoted = false;
      for (const char c : first.substr(1, close - 1)) {
        if (c == '"') {
          quoted = !quoted;
          if (quoted) path += '?';
          continue;
        }
        if (quoted) continue;
        if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
            c == '.' || c == '[' || c == ']') {
          path += c;
        }
      }
      return absl::StrCat("invalid value for field ", path);
    }
  }
  if (absl::EndsWith(first, "Cannot find field.")) return "an unknown field";
  return "not valid protobuf JSON";
}

// True if `message` or any message inside it carries fields this build of
// casectl does not know (they would be dropped silently by the JSON
// printer).
bool HasUnknownFields(const google::protobuf::Message& message) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  if (!reflection->GetUnknownFields(message).empty()) return true;
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    if (field->cpp_type() !=
        google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      continue;
    }
    if (field->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        if (HasUnknownFields(
                reflection->GetRepeatedMessage(message, field, i))) {
          return true;
        }
      }
    } else if (HasUnknownFields(reflection->GetMessage(message, field))) {
      return true;
    }
  }
  return false;
}

// The last line of an export file: how many events it holds and the last
// global position, so that import can refuse a truncated file.
std::string ExportTrailer(uint64_t events, uint64_t last_position) {
  return absl::StrCat("{\"export_trailer\":{\"events\":", events,
                      ",\"last_position\":", last_position, "}}");
}

constexpr absl::string_view kTrailerStart = "{\"export_trailer\":";

// Parses a line written by ExportTrailer; false if it is not exactly one.
bool ParseExportTrailer(absl::string_view line, uint64_t* events,
                        uint64_t* last_position) {
  line = absl::StripAsciiWhitespace(line);
  if (!absl::ConsumePrefix(&line, "{\"export_trailer\":{\"events\":")) {
    return false;
  }
  const size_t comma = line.find(',');
  if (comma == absl::string_view::npos ||
      !absl::SimpleAtoi(line.substr(0, comma), events)) {
    return false;
  }
  line.remove_prefix(comma);
  if (!absl::ConsumePrefix(&line, ",\"last_position\":") ||
      !absl::ConsumeSuffix(&line, "}}")) {
    return false;
  }
  return absl::SimpleAtoi(line, last_position);
}

// An export file being written: created 0600 and exclusively (never
// through a symlink), buffered, fsync'ed before it is renamed into place.
class ExportFile {
 public:
  ~ExportFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  // False (and errno) if the file cannot be created.
  bool Create(const std::string& path) {
    fd_ = ::open(path.c_str(),
                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    return fd_ >= 0;
  }
  void Write(absl::string_view text) {
    buffer_.append(text.data(), text.size());
    if (buffer_.size() >= (1u << 20)) Flush();
  }
  // Writes what is buffered; false if any write so far failed.
  bool Flush() {
    size_t done = 0;
    while (ok_ && done < buffer_.size()) {
      const ssize_t n =
          ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0)
        ok_ = false;
      else
        done += static_cast<size_t>(n);
    }
    buffer_.clear();
    return ok_;
  }
  // Flushes, fsyncs and closes; false if anything failed.
  bool Close() {
    const bool flushed = Flush() && ::fsync(fd_) == 0;
    const bool closed = ::close(fd_) == 0;
    fd_ = -1;
    return flushed && closed;
  }

 private:
  int fd_ = -1;
  bool ok_ = true;
  std::string buffer_;
};

// fsyncs the directory holding `path` (so a rename into it is durable).
bool SyncParentDirectory(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

void PrintJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  std::cout << json << "\n";
}

class Cli {
 public:
  explicit Cli(const Args& args) : args_(args) {
    double seconds = 30;
    if (args.Has("timeout") &&
        !absl::SimpleAtod(args.Get("timeout"), &seconds)) {
      seconds = 30;
    }
    timeout_ = absl::Seconds(seconds);
  }

  int Run() {
    if (std::string problem = Connect(); !problem.empty()) {
      return InputError(problem);
    }
    const std::string& c = args_.command;
    if (c == "plan") return Plan();
    if (c == "timeline") return Timeline();
    if (c == "history") return History();
    if (c == "verify") return Verify();
    if (c == "metrics") return Metrics();
    if (c == "status") return Status();
    if (c == "append") return Append();
    if (c == "tail") return Tail();
    if (c == "rebuild") return Rebuild();
    if (c == "backup") return Backup();
    if (c == "erase") return Erase();
    if (c == "demo") return Demo();
    if (c == "export") return Export();
    if (c == "import") return Import();
    if (c == "access-log") return AccessLog();
    return Usage(absl::StrCat("unknown command '", c, "'"));
  }

 private:
  static bool ReadFile(const std::string& path, std::string* out) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    *out = text.str();
    return static_cast<bool>(in);
  }

  // Builds the channel from the identity flags; returns a problem or "".
  // The token is read from a file so that it is not in the process list.
  std::string Connect() {
    std::string token;
    if (args_.Has("token-file")) {
      if (!ReadFile(args_.Get("token-file"), &token)) {
        return "--token-file: cannot read the file";
      }
      token = std::string(absl::StripAsciiWhitespace(token));
      if (token.empty()) return "--token-file: the file is empty";
    }
    std::shared_ptr<grpc::ChannelCredentials> credentials =
        grpc::InsecureChannelCredentials();
    if (args_.Has("tls-ca")) {
      grpc::SslCredentialsOptions ssl;
      if (!ReadFile(args_.Get("tls-ca"), &ssl.pem_root_certs)) {
        return "--tls-ca: cannot read the file";
      }
      if (args_.Has("tls-cert") != args_.Has("tls-key")) {
        return "--tls-cert and --tls-key go together";
      }
      if (args_.Has("tls-cert") &&
          (!ReadFile(args_.Get("tls-cert"), &ssl.pem_cert_chain) ||
           !ReadFile(args_.Get("tls-key"), &ssl.pem_private_key))) {
        return "--tls-cert/--tls-key: cannot read the files";
      }
      credentials = grpc::SslCredentials(ssl);
      UnavailableHint() =
          "no TLS connection: check --server, that --tls-ca holds the CA "
          "that signed the server's certificate, and that a --tls-cert is "
          "signed by a CA the server trusts for clients";
    } else if (args_.Has("tls-cert")) {
      return "--tls-cert needs --tls-ca";
    } else {
      UnavailableHint() =
          "no connection: check --server; a server that uses TLS needs "
          "--tls-ca";
    }
    channel_ =
        services::CreateAuthChannel(args_.Get("server", "127.0.0.1:50051"),
                                    credentials, token, args_.Get("purpose"));
    return "";
  }

  void Prepare(grpc::ClientContext* context) const {
    context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  }
  bool json() const { return args_.Has("json"); }

  // The --progress mode; false (after printing why) if it is unknown.
  bool ProgressMode(Progress::Mode* mode) const {
    if (Progress::ParseMode(args_.Get("progress", "auto"), mode)) return true;
    Usage("--progress: auto, bar, lines or none");
    return false;
  }

  // The log's last position as the server reports it (0 if unknown).
  uint64_t LogPosition() {
    auto stub = v1::Operations::NewStub(channel_);
    grpc::ClientContext context;
    Prepare(&context);
    v1::GetProjectionStatusResponse response;
    if (!stub->GetProjectionStatus(&context, {}, &response).ok() ||
        response.projections().empty()) {
      return 0;
    }
    return response.projections(0).log_position();
  }

  // Copies --page-size and --page-token into `request`; false if the size
  // is not a number.
  template <typename Request>
  bool SetPaging(Request* request) const {
    uint32_t page_size = 0;
    if (args_.Has("page-size") &&
        !absl::SimpleAtoi(args_.Get("page-size"), &page_size)) {
      return false;
    }
    request->set_page_size(page_size);
    request->set_page_token(args_.Get("page-token"));
    return true;
  }

  // The comma-separated values of option `key` ("GoalSet,GoalRevised").
  std::vector<std::string> List(const std::string& key) const {
    return absl::StrSplit(args_.Get(key), ',', absl::SkipEmpty());
  }

  template <typename Response, typename Format>
  int Output(const grpc::Status& status, const Response& response,
             Format format) {
    if (!status.ok()) return Fail(status);
    if (json()) {
      PrintJson(response);
    } else {
      std::cout << format(response);
    }
    return kOk;
  }

  static bool ParseTime(const std::string& text,
                        google::protobuf::Timestamp* ts) {
    absl::Time t;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, text, &t, &err)) {
      absl::CivilDay day;
      if (!absl::ParseCivilTime(text, &day)) return false;
      t = absl::FromCivil(day, absl::UTCTimeZone());
    }
    ts->set_seconds(absl::ToUnixSeconds(t));
    return true;
  }

  int Plan() {
    if (args_.positional.size() != 1) return Usage("plan needs CASE");
    v1::GetPlanRequest request;
    request.set_case_id(args_.positional[0]);
    if (args_.Has("as-of")) {
      const std::string as_of = args_.Get("as-of");
      uint64_t position = 0;
      if (absl::SimpleAtoi(as_of, &position)) {
        if (args_.Has("occurred")) {
          return Usage("--occurred takes a time, not a position");
        }
        request.set_recorded_position(position);
      } else {
        google::protobuf::Timestamp ts;
        if (!ParseTime(as_of, &ts)) {
          return Usage("--as-of: a position, YYYY-MM-DD or an RFC 3339 time");
        }
        if (args_.Has("occurred")) {
          *request.mutable_occurred_at() = ts;
        } else {
          *request.mutable_recorded_at() = ts;
        }
      }
    }
    auto stub = v1::Queries::NewStub(channel_);
    grpc::ClientContext context;
    Prepare(&context);
    v1::GetPlanResponse response;
    return Output(stub->GetPlan(&context, request, &response), response,
                  [](const v1::GetPlanResponse& r) {
                    std::string out = FormatPlan(r.plan());
                    if (r.withheld() > 0) {
                      absl::StrAppend(
                          &out, "(", r.withheld(),
                          " plan element(s) withheld: sensitivity labels "
                          "without the role or consent)\n");
                    }
                    return out;
                  });
  }

  int Timeline() {
    if (args_.positional.size() != 1) return Usage("timeline needs CASE");
    v1::GetTimelineRequest request;
    request.set_case_id(args_.positional[0]);
    if (args_.Has("since") &&
        !ParseTime(args_.Get("since"), request.mutable_since())) {
      return Usage("--since: YYYY-MM-DD or an RFC 3339 time");
    }
    if (args_.Has("until") &&
        !ParseTime(args_.Get("until"), request.mutable_until())) {
      return Usage("--until: YYYY-MM-DD or an RFC 3339 time");
    }
    for (const std::string& type : List("kind")) request.add_event_types(type);
    for (const std::string& type : List("type")) request.add_event_types(type);
    if (!SetPaging(&request)) return Usage("--page-size: a number");
    auto stub = v1::Queries::NewStub(channel_);
    grpc::ClientContext context;
    Prepare(&context);
    v1::GetTimelineResponse response;
    return Output(stub->GetTimeline(&context, request, &response), response,
                  &FormatTimeline);
  }

  int History() {
    if (args_.positional.size() != 1) return Usage("history needs CASE");
    v1::ReadCaseHistoryRequest request;
    request.set_case_id(args_.positional[0]);
    request.set_backward(args_.Has("backward"));
    if (!SetPaging(&request)) return Usage("--page-size: a number");
    auto stub = v1::Audit::NewStub(channel_);
    grpc::ClientContext context;
    Prepare(&context);
    v1::ReadCaseHistoryResponse response;
    return Output(stub->ReadCaseHistory(&context, request, &response), response,
                  &FormatHistory);
  }

  int Verify() {
    if (args_.positional.size() > 1) return Usage("verify takes at most CASE");
    Progress::Mode mode;
    if (!ProgressMode(&mode)) return kUsage;
    v1::VerifyRequest request;
    const bool whole = args_.positional.empty();
    if (!whole) request.set_case_id(args_.positional[0]);
    auto stub = v1::Audit::NewStub(channel_);
    grpc::ClientContext context;
    // The whole log may take long: an hour unless --timeout says otherwise.
    if (whole && !args_.Has("timeout")) {
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Hours(1)));
    } else {
      Prepare(&context);
    }
    v1::VerifyResponse response;
    grpc::Status status;
    if (whole) {
      // Transfer.VerifyLog: the same check, with progress as it goes.
      Progress progress("verify", LogPosition(), "events", mode);
      auto transfer = v1::Transfer::NewStub(channel_);
      std::unique_ptr<grpc::ClientReader<v1::VerifyLogProgress>> reader =
          transfer->VerifyLog(&context, v1::VerifyLogRequest());
      v1::VerifyLogProgress message;
      bool finished = false;
      while (reader->Read(&message)) {
        progress.set_total(message.log_position());
        if (message.has_result()) {
          response = message.result();
          finished = true;
        } else {
          progress.Update(message.events_checked());
        }
      }
      status = reader->Finish();
      if (status.ok() && !finished) {
        status = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              "verify: the stream ended without a result");
      }
      if (status.ok()) {
        progress.Finish(response.events_checked(),
                        response.ok() ? "" : " (broken)");
      } else {
        progress.Clear();
      }
    } else {
      status = stub->Verify(&context, request, &response);
    }
    const int code = Output(status, response, &FormatVerify);
    if (code == kOk && !response.ok()) return kBroken;
    return code;
  }

  int Metrics() {
    static const std::map<std::string, v1::MetricsGroupBy> kBy = {
        {"program", v1::METRICS_GROUP_BY_PROGRAM},
        {"case-manager", v1::METRICS_GROUP_BY_CASE_MANAGER},
        {"team", v1::METRICS_GROUP_BY_TEAM},
        {"cohort", v1::METRICS_GROUP_BY_COHORT},
        {"period", v1::METRICS_GROUP_BY_PERIOD},
        {"training-cycle", v1::METRICS_GROUP_BY_TRAINING_CYCLE},
    };
    v1::GetMetricsRequest request;
    if (args_.Has("by")) {
      auto it = kBy.find(args_.Get("by"));
      if (it == kBy.end()) return Usage("--by: unknown grouping");
      request.set_group_by(it->second);
    }
    if (args_.Has("as-of")) {
      absl::CivilDay day;
      if (!absl::ParseCivilTime(args_.Get("as-of"), &day)) {
        return Usage("--as-of: YYYY-MM-DD");
      }
      *request.mutable_as_of() = projections::MakeDate(
          static_cast<int>(day.year()), day.month(), day.day());
    }
    v1::MetricsFilters* filters = request.mutable_filters();
    if (args_.Has("program")) filters->set_program(args_.Get("program"));
    if (args_.Has("case-manager")) {
      filters->set_case_manager_id(args_.Get("case-manager"));
    }
    if (args_.Has("team")) filters->set_team(args_.Get("team"));
    if (args_.Has("cohort")) filters->set_cohort(args_.Get("cohort"));
    if (args_.Has("training-cycle")) {
      filters->set_training_cycle(args_.Get("training-cycle"));
    }
    for (const char* flag : {"from", "to"}) {
      if (!args_.Has(flag)) continue;
      absl::CivilDay day;
      if (!absl::ParseCivilTime(args_.Get(flag), &day)) {
        return Usage(absl::StrCat("--", flag, ": YYYY-MM-DD"));
      }
      v1::Date* date = std::string(flag) == "from"
                           ? filters->mutable_opened_from()
                           : filters->mutable_opened_to();
      *date = projections::MakeDate(static_cast<int>(day.year()), day.month(),
                                    day.day());
    }
    auto stub = v1::Analytics::NewStub(channel_);
    grpc::ClientContext context;
    Prepare(&context);
    v1::GetMetricsResponse response;
    return Output(stub->GetMetrics(&context, request, &response), response,
                  [](const v1::GetMetricsResponse& r) {
                    return FormatMetrics(r.report());
                  });
  }

  int Append() {
    if (args_.positional.size() != 1) return Usage("append needs CASE");
    std::string text;
    if (args_.Has("file") && args_.Get("file") != "-") {
      std::ifstream in(args_.Get("file"));
      if (!in) return InputError("--file: cannot read the file");
      std::stringstream buffer;
      buffer << in.rdbuf();
      text = buffer.str();
    } else {
      std::stringstream buffer;
      buffer << std::cin.rdbuf();
      text = buffer.str();
    }
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) {
      return InputError("append: no events given");
    }
    v1::AppendEventsRequest request;
    google::protobuf::util::JsonParseOptions options;
    const auto parsed =
        text[first] == '['
            ? google::protobuf::util::JsonStringToMessage(
                  absl::StrCat("{\"events\":", text, "}"), &request, options)
        : text.find("\"events\"") != std::string::npos
            ? google::protobuf::util::JsonStringToMessage(text, &request,
                                                          options)
            : google::protobuf::util::JsonStringToMessage(
                  text, request.add_events(), options);
    if (!parsed.ok()) {
      return InputError(
          absl::StrCat("append: not valid event JSON: ",
                       ContentFreeJsonError(std::string(parsed.message()))));
    }
    request.set_case_id(args_.positional[0]);
    const std::string expect = args_.Get("expect", "any");
    uint64_t version = 0;
    if (expect == "no-stream") {
      request.mutable_expected()->set_no_stream(true);
    } else if (expect == "exists") {
      request.mutable_expected()->set_stream_exists(true);
    } else if (absl::SimpleAtoi(expect, &version)) {
      request.mutable_expected()->set_exact(version);
    } else if (expect != "any") {
      return Usage("--expect: any, no-stream, exists or a version number");
    }
    for (v1::Event& event : *request.mutable_events()) {
      if (event.envelope().event_id().empty()) {
        event.mutable_envelope()->set_event_id(engine::NewEventId());
      }
    }
    auto stub = v1::CaseWriter::NewStub(channel_);
    grpc::ClientContext context;
    Prepare(&context);
    v1::AppendEventsResponse response;
    return Output(
        stub->AppendEvents(&context, request, &response), response,
        [](const v1::AppendEventsResponse& r) {
          return absl::StrCat(
              r.replayed() ? "already stored: " : "appended: ", "version ",
              r.last_version(), ", position ", r.last_position(),
              " (commit position ", r.commit_position(), ")\n");
        });
  }

  int Tail() {
    v1::SubscribeRequest request;
    if (args_.Has("from")) {
      uint64_t from = 0;
      if (!absl::SimpleAtoi(args_.Get("from"), &from) || from == 0) {
        return Usage("--from: a global position (1 = the beginning)");
      }
      request.set_from_position(from);
    } else {
      request.set_from_now(true);
    }
    for (const std::string& type : List("type")) request.add_event_types(type);
    request.set_case_id(args_.Get("case"));
    auto stub = v1::Subscriptions::NewStub(channel_);
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    // A stream that ends Resumable() (a server restart, or the connection
    // closed after max_connection_age) is resumed from the last
    // resume_from: never skipping nor repeating an event. At most
    // kResumeAttempts times in a row without a message in between.
    int failures = 0;
    for (;;) {
      grpc::ClientContext context;  // no deadline: follows until interrupted
      std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
          stub->Subscribe(&context, request);
      v1::SubscribeResponse message;
      while (reader->Read(&message)) {
        failures = 0;
        for (const v1::Event& event : message.events()) {
          if (json()) {
            std::string line;
            (void)google::protobuf::util::MessageToJsonString(event, &line,
                                                              options);
            std::cout << line << "\n";
          } else {
            const v1::EventEnvelope& e = event.envelope();
            std::cout << e.global_position() << "  " << e.case_id() << " v"
                      << e.stream_version() << "  " << e.event_type() << "  "
                      << e.actor().user_id() << "\n";
          }
        }
        std::cout.flush();
        if (message.resume_from() > 0) {
          // from_position and from_now are one oneof: this clears from_now.
          request.set_from_position(message.resume_from());
        }
      }
      const grpc::Status finished = reader->Finish();
      if (!Resumable(finished) || ++failures > kResumeAttempts) {
        return finished.ok() ? kOk : Fail(finished);
      }
      absl::SleepFor(ResumeBackoff(failures));
    }
  }

  int Status() {
    auto stub = v1::Operations::NewStub(channel_);
    grpc::ClientContext context;
    Prepare(&context);
    v1::GetProjectionStatusResponse response;
    return Output(stub->GetProjectionStatus(&context, {}, &response), response,
                  &FormatStatus);
  }

  int Rebuild() {
    auto stub = v1::Operations::NewStub(channel_);
    grpc::ClientContext context;
    Prepare(&context);
    v1::RebuildProjectionsResponse response;
    Progress::Mode mode;
    if (!ProgressMode(&mode)) return kUsage;
    const uint64_t target = LogPosition();
    grpc::Status status = stub->RebuildProjections(&context, {}, &response);
    if (!status.ok()) return Fail(status);
    if (!args_.Has("wait")) {
      if (json()) {
        PrintJson(response);
      } else {
        std::cout << "rebuild started; see 'casectl status'\n";
      }
      return kOk;
    }
    // Follow the rebuild until every projection has caught up with the log
    // as it stood when the rebuild started.
    Progress progress("rebuild", target, "events", mode);
    v1::GetProjectionStatusResponse last;
    for (;;) {
      grpc::ClientContext poll;
      Prepare(&poll);
      last.Clear();
      status = stub->GetProjectionStatus(&poll, {}, &last);
      if (!status.ok()) {
        progress.Clear();
        return Fail(status);
      }
      uint64_t done = target;
      bool finished = true;
      for (const v1::ProjectionStatusInfo& p : last.projections()) {
        const uint64_t at =
            p.rebuilding() ? p.rebuild_position() : p.position();
        done = std::min(done, at);
        if (p.rebuilding() || p.position() < target) finished = false;
      }
      if (finished) break;
      progress.Update(done);
      absl::SleepFor(absl::Milliseconds(100));
    }
    progress.Finish(target);
    return Output(status, last, &FormatStatus);
  }

  int Erase() {
    if (args_.positional.size() != 1) return Usage("erase needs CASE");
    if (args_.Get("reason").empty() || args_.Get("legal-basis").empty()) {
      return Usage("erase needs --reason and --legal-basis");
    }
    v1::EraseCaseRequest request;
    request.set_case_id(args_.positional[0]);
    request.set_reason(args_.Get("reason"));
    request.set_legal_basis(args_.Get("legal-basis"));
    // Without --by the server records the authenticated principal.
    if (args_.Has("by")) {
      request.mutable_actor()->set_user_id(args_.Get("by"));
      request.mutable_actor()->set_role("admin");
    }
    auto stub = v1::Erasure::NewStub(channel_);
    grpc::ClientContext context;
    Prepare(&context);
    v1::EraseCaseResponse response;
    grpc::Status status = stub->EraseCase(&context, request, &response);
    if (!status.ok()) return Fail(status);
    if (json()) {
      PrintJson(response);
    } else {
      std::cout << "case " << request.case_id()
                << (response.already_erased() ? " was already erased"
                                              : " erased")
                << "; erasure record at position "
                << response.erasure_position() << "\n";
    }
    return kOk;
  }

  int Backup() {
    if (args_.positional.size() != 1) return Usage("backup needs DIR");
    v1::BackupRequest request;
    request.set_directory(args_.positional[0]);
    auto stub = v1::Operations::NewStub(channel_);
    grpc::ClientContext context;
    Prepare(&context);
    v1::BackupResponse response;
    grpc::Status status = stub->Backup(&context, request, &response);
    if (!status.ok()) return Fail(status);
    if (json()) {
      PrintJson(response);
    } else {
      std::cout << "backup written to " << response.directory()
                << " (all events up to position " << response.position()
                << ")\n";
    }
    return kOk;
  }

  // Loads the deterministic demo caseload through AppendEvents. Re-running
  // it with the same seed adds nothing (the event ids repeat).
  int Demo() {
    caseload::CaseloadOptions options;
    int cases = 60;
    if (args_.Has("cases") && !absl::SimpleAtoi(args_.Get("cases"), &cases)) {
      return Usage("--cases: a number");
    }
    uint64_t seed = 1;
    if (args_.Has("seed") && !absl::SimpleAtoi(args_.Get("seed"), &seed)) {
      return Usage("--seed: a number");
    }
    options.cases = cases;
    options.seed = seed;
    if (absl::Status s = caseload::ValidateOptions(options); !s.ok()) {
      return Usage(std::string(s.message()));
    }
    Progress::Mode mode;
    if (!ProgressMode(&mode)) return kUsage;
    caseload::CaseloadGenerator generator(options);
    Progress progress("demo", generator.stream_count(), "streams", mode);
    uint64_t streams = 0;
    absl::Mutex mu;
    grpc::Status failure;
    uint64_t events = 0, replayed = 0;
    auto stub = v1::CaseWriter::NewStub(channel_);
    const auto worker = [&] {
      for (;;) {
        caseload::StreamScript script;
        {
          absl::MutexLock lock(&mu);
          if (!failure.ok() || !generator.Next(&script)) return;
        }
        for (const engine::AppendRequest& append : script.appends) {
          v1::AppendEventsRequest request;
          request.set_case_id(append.case_id);
          switch (append.expected.kind()) {
            case engine::ExpectedVersion::Kind::kExact:
              request.mutable_expected()->set_exact(append.expected.version());
              break;
            case engine::ExpectedVersion::Kind::kNoStream:
              request.mutable_expected()->set_no_stream(true);
              break;
            case engine::ExpectedVersion::Kind::kStreamExists:
              request.mutable_expected()->set_stream_exists(true);
              break;
            case engine::ExpectedVersion::Kind::kAny:
              break;
          }
          for (const v1::Event& e : append.events) *request.add_events() = e;
          grpc::ClientContext context;
          Prepare(&context);
          v1::AppendEventsResponse response;
          grpc::Status status =
              stub->AppendEvents(&context, request, &response);
          absl::MutexLock lock(&mu);
          if (!status.ok()) {
            if (failure.ok()) failure = status;
            return;
          }
          events += append.events.size();
          if (response.replayed()) replayed += append.events.size();
        }
        absl::MutexLock lock(&mu);
        progress.Update(++streams);
      }
    };
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    if (!failure.ok()) {
      progress.Clear();
      return Fail(failure);
    }
    progress.Finish(streams);
    std::cout << "demo caseload: " << cases << " cases (seed " << seed << "), "
              << events << " events"
              << (replayed > 0
                      ? absl::StrCat(", ", replayed, " already present")
                      : "")
              << "\n";
    return kOk;
  }

  // The whole log as JSON lines: Subscribe from position 1 until the first
  // caught_up message, each event without hash and prev_hash.
  int Export() {
    if (!args_.positional.empty()) return Usage("export takes no arguments");
    if (!args_.Has("out") || args_.Get("out").empty()) {
      return Usage("export needs --out=FILE (or --out=- for stdout)");
    }
    Progress::Mode mode;
    if (!ProgressMode(&mode)) return kUsage;
    const std::string out_path = args_.Get("out");
    const bool to_stdout = out_path == "-";
    const std::string partial = out_path + ".partial";
    ExportFile file;
    if (!to_stdout && !file.Create(partial)) {
      return InputError(
          errno == EEXIST
              ? absl::StrCat("--out: ", partial,
                             " exists (another export, or a leftover of one "
                             "that failed: remove it)")
              : "--out: cannot create the file");
    }
    const auto write = [&](absl::string_view text) {
      if (to_stdout) {
        std::cout << text;
      } else {
        file.Write(text);
      }
    };
    const auto abandon = [&] {
      if (!to_stdout) {
        (void)file.Close();
        std::error_code ec;
        std::filesystem::remove(partial, ec);
      }
    };
    Progress progress("export", LogPosition(), "events", mode);
    v1::SubscribeRequest request;
    request.set_from_position(1);
    request.set_max_batch(1000);
    auto stub = v1::Subscriptions::NewStub(channel_);
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    uint64_t next = 1;
    bool complete = false;
    std::string line;
    std::string problem;    // set: give up (nothing is exported)
    uint32_t withheld = 0;  // set: events withheld from this principal
    // A stream that ends Resumable() (a server restart, or the connection
    // closed after max_connection_age) resumes from `next`, at most
    // kResumeAttempts times in a row without a message between.
    int failures = 0;
    grpc::Status finished;
    while (!complete && problem.empty()) {
      request.set_from_position(next);
      grpc::ClientContext context;  // no deadline: a large log takes long
      std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
          stub->Subscribe(&context, request);
      v1::SubscribeResponse message;
      while (problem.empty() && reader->Read(&message)) {
        failures = 0;
        if (message.withheld() > 0) {
          // The principal may not see some events (labels, consent, types):
          // an export must be whole, so stop.
          withheld = message.withheld();
          problem = "events withheld";
          break;
        }
        for (v1::Event& event : *message.mutable_events()) {
          const unsigned long long position = next;
          if (event.envelope().global_position() != next) {
            problem = absl::StrCat("the stream skipped position ", position);
            break;
          }
          ++next;
          // Nothing may be lost silently: the JSON printer drops unknown
          // fields, and an unknown payload kind would export as no payload.
          // (An erased case's events have no payload, and say so.)
          if (HasUnknownFields(event) ||
              (event.payload().kind_case() == v1::EventPayload::KIND_NOT_SET &&
               !event.payload_erased())) {
            problem = absl::StrCat(
                "the event at position ", position,
                " has fields or a payload kind this casectl does not know "
                "(use a casectl as new as the server)");
            break;
          }
          // Ledger-specific storage fields (they depend on how the bytes
          // are stored, e.g. encrypted) stay out of the export.
          event.clear_hash();
          event.mutable_envelope()->clear_prev_hash();
          line.clear();
          if (!google::protobuf::util::MessageToJsonString(event, &line,
                                                           options)
                   .ok() ||
              line.empty()) {
            problem = absl::StrCat("the event at position ", position,
                                   " could not be printed as JSON");
            break;
          }
          line += '\n';
          write(line);
        }
        progress.Update(next - 1);
        if (message.caught_up()) {
          complete = true;
          break;
        }
      }
      // Cancel only a stream still open (caught up, or given up on): one
      // that ended has a status of its own, which a cancel would turn into
      // CANCELLED (resumed as if the server had stopped).
      if (complete || !problem.empty()) context.TryCancel();
      finished = reader->Finish();
      if (complete || !problem.empty()) break;
      if (!Resumable(finished) || ++failures > kResumeAttempts) break;
      absl::SleepFor(ResumeBackoff(failures));
    }
    if (withheld > 0) {
      progress.Clear();
      abandon();
      std::fprintf(stderr,
                   "casectl: export: %u event(s) withheld from this "
                   "principal; exporting needs a principal that may read "
                   "every event\n",
                   withheld);
      return kDenied;
    }
    if (!problem.empty()) {
      progress.Clear();
      abandon();
      std::fprintf(stderr, "casectl: export: %s; nothing was exported\n",
                   problem.c_str());
      return kError;
    }
    if (!complete) {
      progress.Clear();
      abandon();
      return Fail(finished.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                               "the stream ended early")
                                : finished);
    }
    const uint64_t events = next - 1;
    // The trailer: import refuses a file without it (a truncated file).
    write(absl::StrCat(ExportTrailer(events, events), "\n"));
    if (to_stdout) {
      std::cout.flush();
      if (!std::cout) {
        progress.Clear();
        return InputError("--out: cannot write to stdout");
      }
    } else {
      std::error_code ec;
      if (!file.Close() ||
          (std::filesystem::rename(partial, out_path, ec), ec) ||
          !SyncParentDirectory(out_path)) {
        progress.Clear();
        abandon();
        return InputError("--out: cannot write the file");
      }
    }
    progress.Finish(events);
    if (to_stdout) return kOk;
    if (json()) {
      std::cout << "{\"events\": " << events
                << ", \"last_position\": " << events << "}\n";
    } else {
      std::cout << "exported " << events << " events (positions 1-" << events
                << ") to " << out_path << "\n";
    }
    return kOk;
  }

  // True if a subscription (tail, export) that ended with `status` is to be
  // resumed. UNAVAILABLE: the server stopping gracefully ("server shutting
  // down"), killed or restarting (the connection reset or refused), or
  // closing the connection after max_connection_age. CANCELLED: a stream
  // caught in the server's shutdown (the transport cancels it); casectl
  // never cancels these streams itself before reading their status.
  static bool Resumable(const grpc::Status& status) {
    return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
           status.error_code() == grpc::StatusCode::CANCELLED;
  }

  // Times in a row a subscription (tail, export) is resumed before giving
  // up, and the wait before resume `failures`.
  static constexpr int kResumeAttempts = 10;
  static absl::Duration ResumeBackoff(int failures) {
    return std::min(absl::Milliseconds(100) * (1 << std::min(failures, 6)),
                    absl::Seconds(5));
  }

  // Attempts of one import batch when the server answers with a transient
  // error (UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED).
  static constexpr int kImportAttempts = 5;

  // One checked line of an import file.
  struct ImportLine {
    size_t line = 0;
    v1::Event event;
  };

  // The export trailer of an import file, once read.
  struct Trailer {
    bool seen = false;
    uint64_t events = 0;
    uint64_t last_position = 0;
  };

  // Reads the next event line of `in` into `next`; false at the end. Blank
  // lines are skipped; the trailer line fills `trailer`. A line that is not
  // an Event in protobuf JSON (or anything after the trailer) sets `error`.
  static bool ReadImportLine(std::istream& in, size_t* line_number,
                             ImportLine* next, Trailer* trailer,
                             std::string* error) {
    std::string text;
    while (std::getline(in, text)) {
      ++*line_number;
      if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
      next->line = *line_number;
      next->event.Clear();
      if (trailer->seen) {
        *error = "a line after the export trailer";
        return true;
      }
      if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(text),
                           kTrailerStart)) {
        if (!ParseExportTrailer(text, &trailer->events,
                                &trailer->last_position)) {
          *error = "a malformed export trailer";
          return true;
        }
        trailer->seen = true;
        continue;
      }
      const auto parsed =
          google::protobuf::util::JsonStringToMessage(text, &next->event);
      if (!parsed.ok()) {
        *error =
            absl::StrCat("not an event in protobuf JSON: ",
                         ContentFreeJsonError(std::string(parsed.message())));
      } else if (next->event.envelope().event_id().empty() ||
                 next->event.envelope().case_id().empty() ||
                 next->event.envelope().stream_version() == 0 ||
                 !next->event.envelope().has_recorded_at()) {
        *error =
            "an exported event needs envelope.event_id, case_id, "
            "stream_version and recorded_at";
      }
      return true;
    }
    return false;
  }

  // The index N of a server message "events[N]...", if it has one.
  static std::optional<size_t> EventIndexOf(const std::string& message) {
    if (!absl::StartsWith(message, "events[")) return std::nullopt;
    size_t index = 0;
    const size_t close = message.find(']');
    if (close == std::string::npos ||
        !absl::SimpleAtoi(message.substr(7, close - 7), &index)) {
      return std::nullopt;
    }
    return index;
  }

  int Import() {
    if (args_.positional.size() != 1) return Usage("import needs FILE");
    Progress::Mode mode;
    if (!ProgressMode(&mode)) return kUsage;
    uint32_t batch_size = 500;
    if (args_.Has("batch") &&
        (!absl::SimpleAtoi(args_.Get("batch"), &batch_size) ||
         batch_size == 0 || batch_size > 2000)) {
      return Usage("--batch: a number from 1 to 2000");
    }
    const std::string path = args_.positional[0];
    // Pass 1: every line must be an event before anything is written.
    size_t lines = 0;
    {
      std::ifstream in(path, std::ios::binary);
      if (!in) return InputError(absl::StrCat(path, ": cannot read the file"));
      Progress checking("import: checking", 0, "lines", mode);
      size_t line_number = 0;
      ImportLine next;
      Trailer trailer;
      uint64_t last_position = 0;
      std::string error;
      while (ReadImportLine(in, &line_number, &next, &trailer, &error)) {
        if (!error.empty()) {
          checking.Clear();
          return InputError(absl::StrCat(path, ":", next.line, ": ", error,
                                         "; nothing was imported"));
        }
        last_position = next.event.envelope().global_position();
        ++lines;
        checking.Update(lines);
      }
      checking.Clear();
      // The trailer proves the file is whole: a truncated export is refused
      // rather than imported as a shorter prefix.
      if (!trailer.seen) {
        return InputError(absl::StrCat(
            path,
            ": no export trailer at the end: the file is truncated (or was "
            "not written by casectl export); nothing was imported"));
      }
      if (trailer.events != lines || trailer.last_position != last_position) {
        return InputError(
            absl::StrCat(path, ": the export trailer says ", trailer.events,
                         " events up to position ", trailer.last_position,
                         ", the file has ", lines, " up to position ",
                         last_position, "; nothing was imported"));
      }
    }
    // Pass 2: import in batches, each all or nothing on the server.
    std::ifstream in(path, std::ios::binary);
    if (!in) return InputError(absl::StrCat(path, ": cannot read the file"));
    Progress progress("import", lines, "events", mode);
    auto stub = v1::Transfer::NewStub(channel_);
    v1::ImportEventsResponse total;
    size_t line_number = 0, sent = 0;
    ImportLine next;
    Trailer trailer;
    std::string error;
    std::vector<size_t> batch_lines;
    v1::ImportEventsRequest request;
    // One ImportEvents call; transient failures (the server busy, restarting
    // or slow) are retried with the same batch and a bounded backoff: the
    // RPC is idempotent (events already stored are skipped).
    const auto send = [&](const v1::ImportEventsRequest& r,
                          v1::ImportEventsResponse* response) {
      absl::Duration backoff = absl::Milliseconds(100);
      for (int attempt = 1;; ++attempt) {
        grpc::ClientContext context;
        Prepare(&context);
        response->Clear();
        const grpc::Status status = stub->ImportEvents(&context, r, response);
        const bool transient =
            status.error_code() == grpc::StatusCode::UNAVAILABLE ||
            status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ||
            status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
        if (!transient || attempt == kImportAttempts) return status;
        absl::SleepFor(backoff);
        backoff = std::min(backoff * 2, absl::Seconds(5));
      }
    };
    const auto add = [&](const v1::ImportEventsResponse& r) {
      total.set_imported(total.imported() + r.imported());
      total.set_already_present(total.already_present() + r.already_present());
      total.set_positions_kept(total.positions_kept() + r.positions_kept());
      total.set_commit_position(r.commit_position());
    };
    // The index of the refused event if `status` refuses one event of the
    // batch (not for storage or transport errors, which name none).
    const auto refused_index =
        [](const grpc::Status& status) -> std::optional<size_t> {
      if (status.error_code() != grpc::StatusCode::INVALID_ARGUMENT &&
          status.error_code() != grpc::StatusCode::ABORTED &&
          status.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
        return std::nullopt;
      }
      return EventIndexOf(status.error_message());
    };
    const auto unknown_outcome = [&](const grpc::Status& status) {
      std::fprintf(stderr,
                   "casectl: %s: the batch of lines %zu-%zu failed; lines "
                   "before %zu are imported, the outcome of the batch is "
                   "unknown; re-run (idempotent)\n",
                   path.c_str(), batch_lines.front(), batch_lines.back(),
                   batch_lines.front());
      return Fail(status);
    };
    const auto flush = [&]() -> int {
      if (request.events().empty()) return kOk;
      v1::ImportEventsResponse response;
      grpc::Status status = send(request, &response);
      if (status.ok()) {
        add(response);
        sent += request.events_size();
        progress.Update(sent);
        request.Clear();
        batch_lines.clear();
        return kOk;
      }
      progress.Clear();
      std::optional<size_t> bad = refused_index(status);
      if (!bad || *bad >= batch_lines.size()) return unknown_outcome(status);
      // Import exactly the lines before the bad one, then stop. If the
      // prefix is refused too (an earlier event, now that the batch is
      // shorter), repeat on that index until the first bad line is found.
      while (*bad > 0) {
        v1::ImportEventsRequest prefix;
        prefix.mutable_events()->CopyFrom(request.events());
        prefix.mutable_events()->DeleteSubrange(
            static_cast<int>(*bad),
            request.events_size() - static_cast<int>(*bad));
        v1::ImportEventsResponse partial;
        const grpc::Status again = send(prefix, &partial);
        if (again.ok()) {
          add(partial);
          break;
        }
        const std::optional<size_t> earlier = refused_index(again);
        if (!earlier || *earlier >= *bad) return unknown_outcome(again);
        bad = earlier;
        status = again;
      }
      std::fprintf(stderr,
                   "casectl: %s:%zu: refused by the server; every line before "
                   "it is imported (%llu new, %llu already present), nothing "
                   "from it on\n",
                   path.c_str(), batch_lines[*bad],
                   static_cast<unsigned long long>(total.imported()),
                   static_cast<unsigned long long>(total.already_present()));
      // The server names the event by its index in the batch: name the line.
      const std::string message = status.error_message();
      std::string rest = message.substr(message.find(']') + 1);
      if (absl::StartsWith(rest, "."))
        rest = absl::StrCat(": ", rest.substr(1));
      return Fail(grpc::Status(status.error_code(),
                               absl::StrCat("line ", batch_lines[*bad], rest)));
    };
    size_t request_bytes = 0;
    while (ReadImportLine(in, &line_number, &next, &trailer, &error)) {
      if (!error.empty()) {
        // The file changed since the check.
        progress.Clear();
        return InputError(absl::StrCat(path, ":", next.line, ": ", error));
      }
      const size_t bytes = next.event.ByteSizeLong();
      if (!request.events().empty() &&
          (request.events_size() >= static_cast<int>(batch_size) ||
           request_bytes + bytes > (1u << 20))) {
        if (const int code = flush(); code != kOk) return code;
        request_bytes = 0;
      }
      *request.add_events() = std::move(next.event);
      batch_lines.push_back(next.line);
      request_bytes += bytes;
    }
    if (const int code = flush(); code != kOk) return code;
    progress.Finish(lines);
    if (json()) {
      PrintJson(total);
    } else {
      std::cout << "imported " << total.imported() << " events ("
                << total.already_present() << " already present, "
                << total.positions_kept()
                << " at their original global position); log position "
                << total.commit_position() << "\n";
    }
    return kOk;
  }

  int AccessLog() {
    if (args_.positional.size() != 1) {
      return Usage("access-log needs query or verify");
    }
    auto stub = v1::AccessLogService::NewStub(channel_);
    grpc::ClientContext context;
    Prepare(&context);
    if (args_.positional[0] == "verify") {
      v1::VerifyAccessLogRequest request;
      v1::VerifyAccessLogResponse response;
      const int code = Output(
          stub->VerifyAccessLog(&context, request, &response), response,
          [](const v1::VerifyAccessLogResponse& r) {
            return r.ok() ? absl::StrCat("OK: ", r.records_checked(),
                                         " access records verified; hash "
                                         "chains intact\n")
                          : absl::StrCat("BROKEN at access log position ",
                                         r.first_broken_position(), ": ",
                                         r.problem(), "\n");
          });
      if (code == kOk && !response.ok()) return kBroken;
      return code;
    }
    if (args_.positional[0] != "query") {
      return Usage("access-log needs query or verify");
    }
    v1::QueryAccessLogRequest request;
    request.set_case_id(args_.Get("case"));
    request.set_principal(args_.Get("principal"));
    if (args_.Has("since") &&
        !ParseTime(args_.Get("since"), request.mutable_since())) {
      return Usage("--since: YYYY-MM-DD or an RFC 3339 time");
    }
    if (args_.Has("until") &&
        !ParseTime(args_.Get("until"), request.mutable_until())) {
      return Usage("--until: YYYY-MM-DD or an RFC 3339 time");
    }
    if (!SetPaging(&request)) return Usage("--page-size: a number");
    v1::QueryAccessLogResponse response;
    return Output(stub->QueryAccessLog(&context, request, &response), response,
                  &FormatAccessLog);
  }

  const Args& args_;
  std::shared_ptr<grpc::Channel> channel_;
  absl::Duration timeout_;
};

}  // namespace
}  // namespace caseledger::casectl

int main(int argc, char** argv) {
  using namespace caseledger::casectl;
  const Args args = Parse(argc, argv);
  if (args.command.empty() || args.command == "help") {
    const CommandHelp* topic =
        args.positional.empty() ? nullptr : FindCommand(args.positional[0]);
    const bool asked = args.Has("help") || args.command == "help";
    const std::string text = topic ? CommandUsage(*topic) : Overview();
    std::fputs(text.c_str(), asked ? stdout : stderr);
    return asked ? kOk : kUsage;
  }
  const CommandHelp* command = FindCommand(args.command);
  if (command == nullptr) {
    return Usage(absl::StrCat("unknown command '", args.command, "'"));
  }
  if (args.Has("help")) {
    std::fputs(CommandUsage(*command).c_str(), stdout);
    return kOk;
  }
  if (!args.error.empty()) return Usage(args.error);
  for (const auto& [name, value] : args.options) {
    // Global flags, identity included.
    if (name == "server" || name == "json" || name == "timeout" ||
        name == "token-file" || name == "purpose" || name == "tls-ca" ||
        name == "tls-cert" || name == "tls-key") {
      continue;
    }
    if (std::find(command->flags.begin(), command->flags.end(), name) ==
        command->flags.end()) {
      return Usage(absl::StrCat(args.command, " does not take --", name));
    }
  }
  return Cli(args).Run();
}
