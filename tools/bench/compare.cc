// caseledger_bench --mode=compare: caseledger's event log against
// PostgreSQL (libpq) with the same events and the same concurrency.
//
// PostgreSQL side: one table in the common event-store layout
//   events(position bigserial primary key, stream_id text, version bigint,
//          payload bytea, unique (stream_id, version))
// in the bench's own schema `caseledger_bench` (dropped and re-created by
// the bench; nothing else in the database is touched), on the server
// given by --pg (loopback or a Unix socket, checked from the connection
// string before connecting; tools/compare_postgres.sh
// starts a private cluster with fsync and synchronous_commit on). An append
// of B events is one statement (one round trip, one transaction, one
// durable commit): it reads the stream's current version and inserts the B
// rows with the following versions; the unique constraint guards against
// concurrent writers of the same stream.
// caseledger side: EventLog::Append with sync on (the WAL fsync'ed before
// the acknowledgement), ExpectedVersion any, in a fresh directory.
// Both sides: W writer threads (one connection each on PostgreSQL), each
// cycling over 100 cases of its own, B events per append, each event the
// same serialized caseledger Event (~400-byte note payload, ~560 bytes in
// all), for `seconds`; `runs` runs, medians reported. Reading: one case of
// `read_events` events read whole (ordered by version) `reads` times on one
// thread; events are decoded on both sides (caseledger also re-checks every
// event's hash).

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "engine/event_log.h"
#include "engine/ids.h"
#include "tools/bench/bench_util.h"
#include "tools/bench/modes.h"

#if CASELEDGER_HAVE_LIBPQ
#include <arpa/inet.h>
#include <libpq-fe.h>
#endif

namespace caseledger::bench {

#if !CASELEDGER_HAVE_LIBPQ

absl::StatusOr<std::string> RunCompareMode(const CompareConfig&,
                                           const std::string&, std::FILE*) {
  return absl::FailedPreconditionError(
      "caseledger_bench was built without libpq (install libpq-dev and "
      "re-run cmake); tools/compare_postgres.sh does both");
}

#else

namespace {

namespace fs = std::filesystem;
namespace v1 = ::caseledger::v1;

constexpr int kCasesPerWriter = 100;

// One side's figure for one configuration run.
struct Figure {
  double events_per_sec = 0;
  double appends_per_sec = 0;
  Latency latency;
};

// Runs `op(writer, n)` on `writers` threads for `duration`; `op` returns
// the status of one append. Latency per call.
absl::StatusOr<Figure> RunThreads(
    int writers, int batch, absl::Duration duration,
    const std::function<absl::Status(int, int64_t)>& op) {
  std::vector<std::vector<absl::Duration> > latencies(writers);
  std::atomic<bool> failed{false};
  absl::Mutex mu;
  absl::Status first_error;
  std::vector<std::thread> threads;
  const absl::Time t0 = absl::Now();
  const absl::Time deadline = t0 + duration;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      for (int64_t n = 0; !failed.load() && absl::Now() < deadline; ++n) {
        const absl::Time begin = absl::Now();
        absl::Status status = op(w, n);
        latencies[w].push_back(absl::Now() - begin);
        if (!status.ok()) {
          absl::MutexLock lock(&mu);
          if (first_error.ok()) first_error = std::move(status);
          failed.store(true);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - t0);
  if (!first_error.ok()) return first_error;
  std::vector<absl::Duration> all;
  for (const auto& mine : latencies) {
    all.insert(all.end(), mine.begin(), mine.end());
  }
  Figure figure;
  figure.latency = Summarize(std::move(all));
  figure.appends_per_sec = figure.latency.count / seconds;
  figure.events_per_sec = figure.appends_per_sec * batch;
  return figure;
}

// A fresh event (new event id and note id, same size) from `payload`.
v1::Event FreshEvent(const v1::EventPayload& payload, int writer) {
  v1::Event event = MakeEvent(payload, writer);
  event.mutable_payload()->mutable_note_recorded()->set_note_id(
      event.envelope().event_id());
  return event;
}

std::string CaseId(int writer, int64_t n) {
  return absl::StrFormat("cmp-w%d-c%d", writer,
                         static_cast<int>(n % kCasesPerWriter));
}

absl::StatusOr<std::unique_ptr<engine::EventLog> > FreshLog(
    const std::string& path) {
  engine::EventLogOptions options;
  options.path = path;
  options.sync = true;
  options.create_if_missing = true;
  return engine::EventLog::Open(options);
}

absl::StatusOr<Figure> CaseledgerAppends(const std::string& path, int writers,
                                         int batch, absl::Duration duration,
                                         const v1::EventPayload& payload) {
  absl::StatusOr<std::unique_ptr<engine::EventLog> > log = FreshLog(path);
  if (!log.ok()) return log.status();
  engine::EventLog& event_log = **log;
  return RunThreads(writers, batch, duration,
                    [&](int w, int64_t n) -> absl::Status {
                      engine::AppendRequest request;
                      request.case_id = CaseId(w, n);
                      request.expected = engine::ExpectedVersion::Any();
                      for (int e = 0; e < batch; ++e) {
                        request.events.push_back(FreshEvent(payload, w));
                      }
                      return event_log.Append(request).status();
                    });
}

// A libpq connection; closed when destroyed.
struct PgConnection {
  PGconn* conn = nullptr;
  ~PgConnection() {
    if (conn != nullptr) PQfinish(conn);
  }
};

// The bench's own schema: the only thing it creates, writes or drops in
// the database --pg names (never a table of someone else's).
constexpr char kBenchSchema[] = "caseledger_bench";

// True if `host` (one entry of libpq's host or hostaddr list) is a Unix
// socket directory or a loopback address.
bool IsLocalHost(const std::string& host) {
  return host.empty() || host[0] == '/' || host[0] == '@' ||
         absl::StartsWith(host, "127.") || host == "::1" || host == "localhost";
}

// Checks, from the connection string alone (before any connection), that
// every host and hostaddr is loopback or a Unix socket. A `service` (whose
// file could name any host) is refused; an unset host falls back to
// PGHOST/PGHOSTADDR, which are checked the same way.
absl::Status CheckLocalConninfo(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    if (error != nullptr) PQfreemem(error);
    return absl::InvalidArgumentError(
        "--pg: not a valid libpq connection "
        "string");
  }
  std::string host;
  std::string hostaddr;
  bool service = false;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string keyword = o->keyword;
    if (keyword == "host") host = o->val;
    if (keyword == "hostaddr") hostaddr = o->val;
    if (keyword == "service" && o->val[0] != '\0') service = true;
  }
  PQconninfoFree(options);
  if (service) {
    return absl::InvalidArgumentError(
        "--pg: `service` is not accepted; name a loopback host or a Unix "
        "socket directory");
  }
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return std::string(v == nullptr ? "" : v);
  };
  if (host.empty()) host = env("PGHOST");
  if (hostaddr.empty()) hostaddr = env("PGHOSTADDR");
  for (const std::string& list : {host, hostaddr}) {
    for (absl::string_view h : absl::StrSplit(list, ',')) {
      if (!IsLocalHost(std::string(h))) {
        return absl::InvalidArgumentError(
            "--pg: loopback or a Unix socket only");
      }
    }
  }
  return absl::OkStatus();
}

// Connects (after CheckLocalConninfo) with search_path set to the bench's
// schema, so every unqualified table below is the bench's own.
absl::StatusOr<std::unique_ptr<PgConnection> > PgConnect(
    const std::string& conninfo) {
  if (absl::Status s = CheckLocalConninfo(conninfo); !s.ok()) return s;
  auto connection = std::make_unique<PgConnection>();
  connection->conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(connection->conn) != CONNECTION_OK) {
    return absl::UnavailableError(
        absl::StrCat("PostgreSQL: ", PQerrorMessage(connection->conn)));
  }
  PGresult* result =
      PQexec(connection->conn,
             absl::StrCat("SET search_path = ", kBenchSchema).c_str());
  const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
  PQclear(result);
  if (!ok) return absl::InternalError("PostgreSQL: SET search_path failed");
  return connection;
}

absl::Status PgExec(PGconn* conn, const std::string& sql) {
  PGresult* result = PQexec(conn, sql.c_str());
  const ExecStatusType status = PQresultStatus(result);
  absl::Status out = absl::OkStatus();
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    out = absl::InternalError(
        absl::StrCat("PostgreSQL: ", PQresultErrorMessage(result)));
  }
  PQclear(result);
  return out;
}

// The append statement for `batch` events: $1 stream id, $2.. payloads.
std::string AppendSql(int batch) {
  std::string values;
  for (int i = 1; i <= batch; ++i) {
    if (i > 1) values += ",";
    absl::StrAppend(&values, "(", i, ",$", i + 1, "::bytea)");
  }
  return absl::StrCat(
      "INSERT INTO events (stream_id, version, payload) "
      "SELECT $1, cur.v + n.i, n.p FROM "
      "(SELECT coalesce(max(version), 0) AS v FROM events WHERE stream_id = "
      "$1) AS cur, (VALUES ",
      values, ") AS n(i, p)");
}

absl::Status PgResetTable(const std::string& conninfo) {
  absl::StatusOr<std::unique_ptr<PgConnection> > c = PgConnect(conninfo);
  if (!c.ok()) return c.status();
  // Only the bench's own schema is dropped and re-created; `events` is
  // created in it (search_path names it first).
  return PgExec((*c)->conn,
                absl::StrCat("SET client_min_messages = warning; "
                             "DROP SCHEMA IF EXISTS ",
                             kBenchSchema, " CASCADE; CREATE SCHEMA ",
                             kBenchSchema, "; CREATE TABLE ", kBenchSchema,
                             ".events (position bigserial PRIMARY KEY, "
                             "stream_id text NOT NULL, version bigint NOT "
                             "NULL, payload bytea NOT NULL, UNIQUE "
                             "(stream_id, version)); CHECKPOINT;"));
}

// Runs `sql` (prepared as "append") with text $1 and binary payloads.
absl::Status PgAppend(PGconn* conn, const std::string& stream,
                      const std::vector<std::string>& payloads) {
  std::vector<const char*> values = {stream.c_str()};
  std::vector<int> lengths = {0};
  std::vector<int> formats = {0};
  for (const std::string& p : payloads) {
    values.push_back(p.data());
    lengths.push_back(static_cast<int>(p.size()));
    formats.push_back(1);
  }
  PGresult* result =
      PQexecPrepared(conn, "append", static_cast<int>(values.size()),
                     values.data(), lengths.data(), formats.data(), 0);
  absl::Status out = absl::OkStatus();
  if (PQresultStatus(result) != PGRES_COMMAND_OK ||
      std::string(PQcmdTuples(result)) != std::to_string(payloads.size())) {
    out = absl::InternalError(
        absl::StrCat("PostgreSQL append: ", PQresultErrorMessage(result)));
  }
  PQclear(result);
  return out;
}

absl::StatusOr<Figure> PostgresAppends(const std::string& conninfo, int writers,
                                       int batch, absl::Duration duration,
                                       const v1::EventPayload& payload) {
  if (absl::Status s = PgResetTable(conninfo); !s.ok()) return s;
  std::vector<std::unique_ptr<PgConnection> > connections;
  for (int w = 0; w < writers; ++w) {
    absl::StatusOr<std::unique_ptr<PgConnection> > c = PgConnect(conninfo);
    if (!c.ok()) return c.status();
    PGresult* prepared =
        PQprepare((*c)->conn, "append", AppendSql(batch).c_str(), 0, nullptr);
    const bool ok = PQresultStatus(prepared) == PGRES_COMMAND_OK;
    const std::string error = PQresultErrorMessage(prepared);
    PQclear(prepared);
    if (!ok) return absl::InternalError("PostgreSQL prepare: " + error);
    connections.push_back(*std::move(c));
  }
  return RunThreads(
      writers, batch, duration, [&](int w, int64_t n) -> absl::Status {
        std::vector<std::string> payloads;
        for (int e = 0; e < batch; ++e) {
          payloads.push_back(FreshEvent(payload, w).SerializeAsString());
        }
        return PgAppend(connections[w]->conn, CaseId(w, n), payloads);
      });
}

// Reads of one case of `count` events on each side.
struct ReadFigures {
  Latency caseledger;
  Latency postgres;
};

absl::StatusOr<ReadFigures> CompareReads(const CompareConfig& config,
                                         const std::string& dir,
                                         const v1::EventPayload& payload) {
  const std::string case_id = "cmp-read-case";
  std::vector<v1::Event> events;
  for (int i = 0; i < config.read_events; ++i) {
    events.push_back(FreshEvent(payload, 0));
  }
  ReadFigures figures;
  // caseledger.
  {
    absl::StatusOr<std::unique_ptr<engine::EventLog> > log =
        FreshLog((fs::path(dir) / "read-log").string());
    if (!log.ok()) return log.status();
    for (int i = 0; i < config.read_events; i += 10) {
      engine::AppendRequest request;
      request.case_id = case_id;
      request.expected = engine::ExpectedVersion::Any();
      for (int e = i; e < std::min(i + 10, config.read_events); ++e) {
        request.events.push_back(events[e]);
      }
      if (absl::Status s = (*log)->Append(request).status(); !s.ok()) {
        return s;
      }
    }
    std::vector<absl::Duration> samples;
    for (int r = 0; r < config.reads; ++r) {
      const absl::Time begin = absl::Now();
      engine::ReadCaseRequest request;
      request.case_id = case_id;
      request.max_count = static_cast<uint32_t>(config.read_events);
      size_t got = 0;
      for (;;) {
        absl::StatusOr<engine::ReadPage> page = (*log)->ReadCase(request);
        if (!page.ok()) return page.status();
        got += page->events.size();
        if (page->end || page->events.empty()) break;
        request.from_version = page->next;
      }
      samples.push_back(absl::Now() - begin);
      if (got != events.size()) {
        return absl::InternalError(
            absl::StrCat("caseledger read ", got, " events"));
      }
    }
    figures.caseledger = Summarize(std::move(samples));
  }
  // PostgreSQL.
  {
    if (absl::Status s = PgResetTable(config.pg_conninfo); !s.ok()) return s;
    absl::StatusOr<std::unique_ptr<PgConnection> > c =
        PgConnect(config.pg_conninfo);
    if (!c.ok()) return c.status();
    PGconn* conn = (*c)->conn;
    PGresult* prepared =
        PQprepare(conn, "append", AppendSql(10).c_str(), 0, nullptr);
    PQclear(prepared);
    for (int i = 0; i < config.read_events; i += 10) {
      std::vector<std::string> payloads;
      for (int e = i; e < std::min(i + 10, config.read_events); ++e) {
        payloads.push_back(events[e].SerializeAsString());
      }
      if (payloads.size() != 10) {
        return absl::InvalidArgumentError(
            "read_events must be a multiple of 10");
      }
      if (absl::Status s = PgAppend(conn, case_id, payloads); !s.ok()) {
        return s;
      }
    }
    if (absl::Status s = PgExec(conn, "ANALYZE events"); !s.ok()) return s;
    prepared = PQprepare(conn, "read",
                         "SELECT position, version, payload FROM events "
                         "WHERE stream_id = $1 ORDER BY version",
                         1, nullptr);
    PQclear(prepared);
    std::vector<absl::Duration> samples;
    for (int r = 0; r < config.reads; ++r) {
      const absl::Time begin = absl::Now();
      const char* values[] = {case_id.c_str()};
      PGresult* result =
          PQexecPrepared(conn, "read", 1, values, nullptr, nullptr, 1);
      if (PQresultStatus(result) != PGRES_TUPLES_OK) {
        const std::string error = PQresultErrorMessage(result);
        PQclear(result);
        return absl::InternalError("PostgreSQL read: " + error);
      }
      const int rows = PQntuples(result);
      std::vector<v1::Event> decoded(rows);
      for (int i = 0; i < rows; ++i) {
        if (!decoded[i].ParseFromArray(PQgetvalue(result, i, 2),
                                       PQgetlength(result, i, 2))) {
          PQclear(result);
          return absl::DataLossError("PostgreSQL read: bad payload");
        }
      }
      PQclear(result);
      samples.push_back(absl::Now() - begin);
      if (rows != config.read_events) {
        return absl::InternalError(
            absl::StrCat("PostgreSQL read ", rows, " rows"));
      }
    }
    figures.postgres = Summarize(std::move(samples));
  }
  return figures;
}

std::string ServerVersion(const std::string& conninfo) {
  absl::StatusOr<std::unique_ptr<PgConnection> > c = PgConnect(conninfo);
  if (!c.ok()) return "?";
  PGresult* result = PQexec((*c)->conn,
                            "SELECT version(), current_setting('fsync'), "
                            "current_setting('synchronous_commit')");
  std::string out = "?";
  if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1) {
    std::string version = PQgetvalue(result, 0, 0);
    version = version.substr(0, version.find(" on "));
    out = absl::StrCat(version, ", fsync=", PQgetvalue(result, 0, 1),
                       ", synchronous_commit=", PQgetvalue(result, 0, 2));
  }
  PQclear(result);
  return out;
}

}  // namespace

absl::StatusOr<std::string> RunCompareMode(const CompareConfig& config,
                                           const std::string& dir,
                                           std::FILE* human) {
  // Loopback or a Unix socket only, checked before any connection.
  if (absl::Status s = CheckLocalConninfo(config.pg_conninfo); !s.ok()) {
    return s;
  }
  const v1::EventPayload payload = MakeNotePayload(config.payload_bytes);
  const size_t event_bytes = FreshEvent(payload, 0).ByteSizeLong();
  std::fprintf(human, "caseledger_bench: compare (caseledger vs PostgreSQL)\n");
  std::fprintf(human, "  machine:    %s; load average %s at start\n",
               MachineSummary().c_str(), LoadAverage().c_str());
  std::fprintf(human, "  PostgreSQL: %s\n",
               ServerVersion(config.pg_conninfo).c_str());
  std::fprintf(human,
               "  events:     one serialized caseledger Event each (%zu "
               "bytes; %d-byte note payload), ExpectedVersion any, each "
               "writer cycling over its own %d cases\n",
               event_bytes, config.payload_bytes, kCasesPerWriter);
  std::fprintf(human,
               "  runs:       %d x %.0f s per configuration (median); "
               "both sides durable (fsync'ed before the acknowledgement)\n",
               config.runs, absl::ToDoubleSeconds(config.seconds));
  std::fflush(human);

  struct Row {
    int writers = 0;
    int batch = 0;
    std::vector<Figure> ours, theirs;
  };
  std::vector<Row> rows;
  int run_dir = 0;
  for (int batch : config.batches) {
    for (int writers : config.writers) {
      Row row;
      row.writers = writers;
      row.batch = batch;
      for (int r = 0; r < config.runs; ++r) {
        const std::string path =
            (fs::path(dir) / absl::StrCat("log-", ++run_dir)).string();
        absl::StatusOr<Figure> ours =
            CaseledgerAppends(path, writers, batch, config.seconds, payload);
        if (!ours.ok()) return ours.status();
        std::error_code ec;
        fs::remove_all(path, ec);
        absl::StatusOr<Figure> theirs = PostgresAppends(
            config.pg_conninfo, writers, batch, config.seconds, payload);
        if (!theirs.ok()) return theirs.status();
        std::fprintf(stderr,
                     "  %d writers x %d event(s), run %d: caseledger %.0f "
                     "events/s, PostgreSQL %.0f events/s\n",
                     writers, batch, r + 1, ours->events_per_sec,
                     theirs->events_per_sec);
        row.ours.push_back(*ours);
        row.theirs.push_back(*theirs);
      }
      rows.push_back(std::move(row));
    }
  }
  absl::StatusOr<ReadFigures> reads = CompareReads(config, dir, payload);
  if (!reads.ok()) return reads.status();

  auto median = [](const std::vector<Figure>& figures, auto f) {
    std::vector<double> values;
    for (const Figure& figure : figures) values.push_back(f(figure));
    return Median(values);
  };
  std::fprintf(human, "\n%-22s %14s %9s %9s %14s %9s %9s %8s\n", "appends",
               "caseledger ev/s", "p50 ms", "p99 ms", "PostgreSQL ev/s",
               "p50 ms", "p99 ms", "ratio");
  std::string json = "[";
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    const double ours =
        median(row.ours, [](const Figure& f) { return f.events_per_sec; });
    const double theirs =
        median(row.theirs, [](const Figure& f) { return f.events_per_sec; });
    const double ours_p50 =
        median(row.ours, [](const Figure& f) { return Ms(f.latency.p50); });
    const double ours_p99 =
        median(row.ours, [](const Figure& f) { return Ms(f.latency.p99); });
    const double theirs_p50 =
        median(row.theirs, [](const Figure& f) { return Ms(f.latency.p50); });
    const double theirs_p99 =
        median(row.theirs, [](const Figure& f) { return Ms(f.latency.p99); });
    std::fprintf(human, "%-22s %14.0f %9.3f %9.3f %14.0f %9.3f %9.3f %8.2f\n",
                 absl::StrFormat("%d writers x %d event%s", row.writers,
                                 row.batch, row.batch == 1 ? "" : "s")
                     .c_str(),
                 ours, ours_p50, ours_p99, theirs, theirs_p50, theirs_p99,
                 ours / theirs);
    if (i > 0) json += ",";
    absl::StrAppend(&json, "{\"writers\":", row.writers,
                    ",\"events_per_append\":", row.batch,
                    ",\"caseledger_events_per_sec\":", JsonNumber(ours),
                    ",\"caseledger_p50_ms\":", JsonNumber(ours_p50),
                    ",\"caseledger_p99_ms\":", JsonNumber(ours_p99),
                    ",\"postgres_events_per_sec\":", JsonNumber(theirs),
                    ",\"postgres_p50_ms\":", JsonNumber(theirs_p50),
                    ",\"postgres_p99_ms\":", JsonNumber(theirs_p99),
                    ",\"ratio\":", JsonNumber(ours / theirs), "}");
  }
  json += "]";
  std::fprintf(
      human, "%-22s %14s %9.3f %9.3f %14s %9.3f %9.3f %8.2f\n",
      absl::StrFormat("read 1 case (%d ev)", config.read_events).c_str(), "",
      Ms(reads->caseledger.p50), Ms(reads->caseledger.p99), "",
      Ms(reads->postgres.p50), Ms(reads->postgres.p99),
      Ms(reads->postgres.p50) / Ms(reads->caseledger.p50));
  std::fprintf(human,
               "ratio: appends = caseledger events/s / PostgreSQL events/s; "
               "read = PostgreSQL p50 / caseledger p50 (above 1: caseledger "
               "faster). Load average %s at the end.\n",
               LoadAverage().c_str());
  std::fflush(human);
  return absl::StrCat(
      "{\"machine\":", JsonString(MachineSummary()),
      ",\"postgres\":", JsonString(ServerVersion(config.pg_conninfo)),
      ",\"event_bytes\":", event_bytes,
      ",\"seconds\":", JsonNumber(absl::ToDoubleSeconds(config.seconds)),
      ",\"runs\":", config.runs, ",\"appends\":", json,
      ",\"read\":{\"events\":", config.read_events, ",\"reads\":", config.reads,
      ",\"caseledger_p50_ms\":", JsonNumber(Ms(reads->caseledger.p50)),
      ",\"caseledger_p99_ms\":", JsonNumber(Ms(reads->caseledger.p99)),
      ",\"postgres_p50_ms\":", JsonNumber(Ms(reads->postgres.p50)),
      ",\"postgres_p99_ms\":", JsonNumber(Ms(reads->postgres.p99)), "}}");
}

#endif  // CASELEDGER_HAVE_LIBPQ

}  // namespace caseledger::bench
