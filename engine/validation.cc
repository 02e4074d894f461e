#include "engine/validation.h"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "engine/ids.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/unknown_field_set.h"

namespace caseledger::engine {
namespace {

// Seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z (the range of
// google.protobuf.Timestamp).
constexpr int64_t kMinSeconds = -62135596800;
constexpr int64_t kMaxSeconds = 253402300799;

// Longest accepted free-text or id string field; the event size limit bounds
// the total.
constexpr size_t kMaxShortString = 256;

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

absl::Status CheckTimestamp(const google::protobuf::Timestamp& ts,
                            absl::string_view field) {
  if (ts.seconds() < kMinSeconds || ts.seconds() > kMaxSeconds ||
      ts.nanos() < 0 || ts.nanos() > 999999999) {
    return Invalid(field, "out of range");
  }
  return absl::OkStatus();
}

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// An unset Date (all zero) is allowed when `required` is false.
absl::Status CheckDate(const v1::Date& date, absl::string_view field,
                       bool required) {
  if (date.year() == 0 && date.month() == 0 && date.day() == 0) {
    return required ? Invalid(field, "required") : absl::OkStatus();
  }
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (date.year() < 1 || date.year() > 9999 || date.month() < 1 ||
      date.month() > 12 || date.day() < 1) {
    return Invalid(field, "not a valid calendar date");
  }
  int days = kDays[date.month() - 1];
  if (date.month() == 2 && IsLeapYear(date.year())) days = 29;
  if (date.day() > days) return Invalid(field, "not a valid calendar date");
  return absl::OkStatus();
}

absl::Status RequireId(const std::string& value, absl::string_view field) {
  if (value.empty()) return Invalid(field, "required");
  if (value.size() > kMaxShortString) {
    return Invalid(field, absl::StrCat("longer than ", kMaxShortString));
  }
  return absl::OkStatus();
}

absl::Status CheckPercent(uint32_t value, absl::string_view field) {
  if (value > 100) return Invalid(field, "must be 0..100");
  return absl::OkStatus();
}

absl::Status CheckGasLevel(int32_t level, absl::string_view field) {
  if (level < -2 || level > 2) return Invalid(field, "must be -2..+2");
  return absl::OkStatus();
}

// Item count and answer range per instrument (DOMAIN.md, "measures").
struct InstrumentShape {
  uint32_t items;
  int32_t min;
  int32_t max;
};

absl::Status CheckMeasure(const v1::MeasureAdministered& m,
                          absl::string_view field) {
  InstrumentShape shape;
  switch (m.instrument()) {
    case v1::INSTRUMENT_BRS:
      shape = {6, 1, 5};
      break;
    case v1::INSTRUMENT_GSE:
      shape = {10, 1, 4};
      break;
    case v1::INSTRUMENT_MSPSS:
      shape = {12, 1, 7};
      break;
    default:
      return Invalid(absl::StrCat(field, ".instrument"), "required");
  }
  if (m.time_point() == v1::TIME_POINT_UNSPECIFIED) {
    return Invalid(absl::StrCat(field, ".time_point"), "required");
  }
  std::set<uint32_t> seen;
  for (int i = 0; i < m.responses_size(); ++i) {
    const v1::ItemResponse& r = m.responses(i);
    const std::string item_field = absl::StrCat(field, ".responses[", i, "]");
    if (r.item() < 1 || r.item() > shape.items) {
      return Invalid(absl::StrCat(item_field, ".item"),
                     absl::StrCat("must be 1..", shape.items));
    }
    if (!seen.insert(r.item()).second) {
      return Invalid(absl::StrCat(item_field, ".item"), "answered twice");
    }
    if (r.value() < shape.min || r.value() > shape.max) {
      return Invalid(absl::StrCat(item_field, ".value"),
                     absl::StrCat("must be ", shape.min, "..", shape.max));
    }
  }
  return CheckDate(m.administered_on(), absl::StrCat(field, ".administered_on"),
                   /*required=*/false);
}

absl::Status CheckPayloadFields(const v1::EventPayload& p,
                                const std::string& f) {
  using K = v1::EventPayload::KindCase;
  switch (p.kind_case()) {
    case K::kCaseOpened:
      if (p.case_opened().program().empty()) {
        return Invalid(f + ".case_opened.program", "required");
      }
      return RequireId(p.case_opened().case_manager_id(),
                       f + ".case_opened.case_manager_id");
    case K::kCaseAssigned:
      return RequireId(p.case_assigned().case_manager_id(),
                       f + ".case_assigned.case_manager_id");
    case K::kCaseTransferred:
      return RequireId(p.case_transferred().to_case_manager_id(),
                       f + ".case_transferred.to_case_manager_id");
    case K::kCaseClosed:
      if (p.case_closed().outcome() == v1::CASE_OUTCOME_UNSPECIFIED) {
        return Invalid(f + ".case_closed.outcome", "required");
      }
      return absl::OkStatus();
    case K::kConsentGiven:
      if (p.consent_given().purposes().empty()) {
        return Invalid(f + ".consent_given.purposes", "at least one required");
      }
      if (auto s = CheckDate(p.consent_given().expires_on(),
                             f + ".consent_given.expires_on", false);
          !s.ok()) {
        return s;
      }
      return RequireId(p.consent_given().consent_id(),
                       f + ".consent_given.consent_id");
    case K::kConsentRevoked:
      return RequireId(p.consent_revoked().consent_id(),
                       f + ".consent_revoked.consent_id");
    case K::kStrengthsAssessmentRecorded: {
      const auto& a = p.strengths_assessment_recorded();
      if (a.priorities_size() > 4) {
        return Invalid(f + ".strengths_assessment_recorded.priorities",
                       "at most 4");
      }
      for (int i = 0; i < a.domains_size(); ++i) {
        if (a.domains(i).domain().empty()) {
          return Invalid(absl::StrCat(f, ".strengths_assessment_recorded.",
                                      "domains[", i, "].domain"),
                         "required");
        }
      }
      return RequireId(a.assessment_id(),
                       f + ".strengths_assessment_recorded.assessment_id");
    }
    case K::kStrengthsAssessmentDomainUpdated:
      if (p.strengths_assessment_domain_updated().domain().domain().empty()) {
        return Invalid(f + ".strengths_assessment_domain_updated.domain.domain",
                       "required");
      }
      return absl::OkStatus();
    case K::kGoalSet: {
      const auto& g = p.goal_set();
      if (g.statement().empty()) {
        return Invalid(f + ".goal_set.statement", "required");
      }
      if (auto s =
              CheckDate(g.target_date(), f + ".goal_set.target_date", false);
          !s.ok()) {
        return s;
      }
      return RequireId(g.goal_id(), f + ".goal_set.goal_id");
    }
    case K::kGoalRevised:
      if (auto s = CheckDate(p.goal_revised().target_date(),
                             f + ".goal_revised.target_date", false);
          !s.ok()) {
        return s;
      }
      return RequireId(p.goal_revised().goal_id(), f + ".goal_revised.goal_id");
    case K::kGoalStatusChanged:
      if (p.goal_status_changed().lifecycle_status() ==
              v1::GOAL_LIFECYCLE_STATUS_UNSPECIFIED &&
          p.goal_status_changed().achievement_status() ==
              v1::GOAL_ACHIEVEMENT_STATUS_UNSPECIFIED) {
        return Invalid(f + ".goal_status_changed",
                       "lifecycle_status or achievement_status required");
      }
      return RequireId(p.goal_status_changed().goal_id(),
                       f + ".goal_status_changed.goal_id");
    case K::kPlanStepAdded: {
      const auto& s = p.plan_step_added();
      if (s.description().empty()) {
        return Invalid(f + ".plan_step_added.description", "required");
      }
      if (auto st = CheckDate(s.target_date(),
                              f + ".plan_step_added.target_date", false);
          !st.ok()) {
        return st;
      }
      if (auto st = RequireId(s.goal_id(), f + ".plan_step_added.goal_id");
          !st.ok()) {
        return st;
      }
      return RequireId(s.step_id(), f + ".plan_step_added.step_id");
    }
    case K::kPlanStepCompleted:
      if (auto s = CheckDate(p.plan_step_completed().completed_on(),
                             f + ".plan_step_completed.completed_on", true);
          !s.ok()) {
        return s;
      }
      return RequireId(p.plan_step_completed().step_id(),
                       f + ".plan_step_completed.step_id");
    case K::kPlanStepRevised:
      if (auto s = CheckDate(p.plan_step_revised().target_date(),
                             f + ".plan_step_revised.target_date", false);
          !s.ok()) {
        return s;
      }
      return RequireId(p.plan_step_revised().step_id(),
                       f + ".plan_step_revised.step_id");
    case K::kPlanStepDropped:
      return RequireId(p.plan_step_dropped().step_id(),
                       f + ".plan_step_dropped.step_id");
    case K::kGasScaleDefined: {
      const auto& g = p.gas_scale_defined();
      if (auto s = CheckGasLevel(g.baseline_level(),
                                 f + ".gas_scale_defined.baseline_level");
          !s.ok()) {
        return s;
      }
      if (g.has_weight() && !(g.weight() >= 0.0 && g.weight() <= 1000.0)) {
        return Invalid(f + ".gas_scale_defined.weight", "must be 0..1000");
      }
      std::set<int32_t> levels;
      for (int i = 0; i < g.levels_size(); ++i) {
        const std::string lf =
            absl::StrCat(f, ".gas_scale_defined.levels[", i, "].level");
        if (auto s = CheckGasLevel(g.levels(i).level(), lf); !s.ok()) return s;
        if (!levels.insert(g.levels(i).level()).second) {
          return Invalid(lf, "defined twice");
        }
      }
      return RequireId(g.goal_id(), f + ".gas_scale_defined.goal_id");
    }
    case K::kGasRated:
      if (p.gas_rated().time_point() == v1::TIME_POINT_UNSPECIFIED) {
        return Invalid(f + ".gas_rated.time_point", "required");
      }
      if (auto s = CheckGasLevel(p.gas_rated().level(), f + ".gas_rated.level");
          !s.ok()) {
        return s;
      }
      return RequireId(p.gas_rated().goal_id(), f + ".gas_rated.goal_id");
    case K::kResourceConnected:
      if (p.resource_connected().kind() == v1::RESOURCE_KIND_UNSPECIFIED) {
        return Invalid(f + ".resource_connected.kind", "required");
      }
      return RequireId(p.resource_connected().resource_id(),
                       f + ".resource_connected.resource_id");
    case K::kResourceDisconnected:
      return RequireId(p.resource_disconnected().resource_id(),
                       f + ".resource_disconnected.resource_id");
    case K::kReferralMade:
      return RequireId(p.referral_made().referral_id(),
                       f + ".referral_made.referral_id");
    case K::kReferralStatusChanged:
      if (p.referral_status_changed().status() ==
          v1::REFERRAL_STATUS_UNSPECIFIED) {
        return Invalid(f + ".referral_status_changed.status", "required");
      }
      return RequireId(p.referral_status_changed().referral_id(),
                       f + ".referral_status_changed.referral_id");
    case K::kSupportPersonAdded:
      return RequireId(p.support_person_added().person_id(),
                       f + ".support_person_added.person_id");
    case K::kSupportPersonChanged:
      return RequireId(p.support_person_changed().person_id(),
                       f + ".support_person_changed.person_id");
    case K::kSupportPersonRemoved:
      return RequireId(p.support_person_removed().person_id(),
                       f + ".support_person_removed.person_id");
    case K::kProtectiveFactorIdentified:
      if (p.protective_factor_identified().factor() ==
          v1::RESILIENCE_FACTOR_UNSPECIFIED) {
        return Invalid(f + ".protective_factor_identified.factor", "required");
      }
      return absl::OkStatus();
    case K::kCopingStrategyAgreed:
      return RequireId(p.coping_strategy_agreed().strategy_id(),
                       f + ".coping_strategy_agreed.strategy_id");
    case K::kCopingStrategyReviewed:
      if (p.coping_strategy_reviewed().outcome() ==
          v1::COPING_REVIEW_OUTCOME_UNSPECIFIED) {
        return Invalid(f + ".coping_strategy_reviewed.outcome", "required");
      }
      return RequireId(p.coping_strategy_reviewed().strategy_id(),
                       f + ".coping_strategy_reviewed.strategy_id");
    case K::kContactRecorded:
      if (p.contact_recorded().location() == v1::CONTACT_LOCATION_UNSPECIFIED) {
        return Invalid(f + ".contact_recorded.location", "required");
      }
      return absl::OkStatus();
    case K::kOutreachAttempted:
      if (p.outreach_attempted().outcome() ==
          v1::OUTREACH_OUTCOME_UNSPECIFIED) {
        return Invalid(f + ".outreach_attempted.outcome", "required");
      }
      return absl::OkStatus();
    case K::kAbsenceStarted: {
      const auto& a = p.absence_started();
      if (a.contracted_percent() < 1 || a.contracted_percent() > 100) {
        return Invalid(f + ".absence_started.contracted_percent",
                       "must be 1..100");
      }
      return CheckDate(a.first_day(), f + ".absence_started.first_day", true);
    }
    case K::kWorkCapacityCertified: {
      const auto& w = p.work_capacity_certified();
      if (auto s =
              CheckPercent(w.capacity_percent(),
                           f + ".work_capacity_certified.capacity_percent");
          !s.ok()) {
        return s;
      }
      return CheckDate(w.valid_from(),
                       f + ".work_capacity_certified.valid_from", true);
    }
    case K::kEmployerDiscussionMediated: {
      const auto& d = p.employer_discussion_mediated();
      for (int i = 0; i < d.agreements_size(); ++i) {
        const std::string af = absl::StrCat(
            f, ".employer_discussion_mediated.agreements[", i, "]");
        if (d.agreements(i).kind() == v1::AGREEMENT_KIND_UNSPECIFIED) {
          return Invalid(af + ".kind", "required");
        }
        if (auto s = CheckDate(d.agreements(i).due_on(), af + ".due_on", false);
            !s.ok()) {
          return s;
        }
      }
      return RequireId(d.discussion_id(),
                       f + ".employer_discussion_mediated.discussion_id");
    }
    case K::kReturnToWorkStarted:
      if (auto s = CheckPercent(p.return_to_work_started().percent(),
                                f + ".return_to_work_started.percent");
          !s.ok()) {
        return s;
      }
      return CheckDate(p.return_to_work_started().first_day(),
                       f + ".return_to_work_started.first_day", true);
    case K::kWorkScheduleChanged:
      if (auto s = CheckPercent(p.work_schedule_changed().percent(),
                                f + ".work_schedule_changed.percent");
          !s.ok()) {
        return s;
      }
      return CheckDate(p.work_schedule_changed().effective_from(),
                       f + ".work_schedule_changed.effective_from", true);
    case K::kAbsenceRecurred:
      return CheckDate(p.absence_recurred().first_day(),
                       f + ".absence_recurred.first_day", true);
    case K::kEmploymentStatusRecorded:
      if (p.employment_status_recorded().status() ==
          v1::EMPLOYMENT_STATUS_UNSPECIFIED) {
        return Invalid(f + ".employment_status_recorded.status", "required");
      }
      return CheckPercent(p.employment_status_recorded().percent(),
                          f + ".employment_status_recorded.percent");
    case K::kMeasureAdministered:
      return CheckMeasure(p.measure_administered(),
                          f + ".measure_administered");
    case K::kHospitalizationRecorded:
      return CheckDate(p.hospitalization_recorded().admitted_on(),
                       f + ".hospitalization_recorded.admitted_on", true);
    case K::kSupervisionHeld:
      return RequireId(p.supervision_held().caseworker_id(),
                       f + ".supervision_held.caseworker_id");
    case K::kTrainingCycleCompleted:
      if (p.training_cycle_completed().cycle() ==
          v1::TRAINING_CYCLE_UNSPECIFIED) {
        return Invalid(f + ".training_cycle_completed.cycle", "required");
      }
      return RequireId(p.training_cycle_completed().caseworker_id(),
                       f + ".training_cycle_completed.caseworker_id");
    case K::kEventEnteredInError:
      if (!IsValidEventId(p.event_entered_in_error().target_event_id())) {
        return Invalid(f + ".event_entered_in_error.target_event_id",
                       "must be a lower-case UUID");
      }
      return absl::OkStatus();
    case K::kEventCorrected: {
      const auto& c = p.event_corrected();
      if (!IsValidEventId(c.target_event_id())) {
        return Invalid(f + ".event_corrected.target_event_id",
                       "must be a lower-case UUID");
      }
      if (c.corrected().kind_case() == K::KIND_NOT_SET) {
        return Invalid(f + ".event_corrected.corrected", "required");
      }
      if (c.corrected().has_event_corrected() ||
          c.corrected().has_event_entered_in_error()) {
        return Invalid(f + ".event_corrected.corrected",
                       "a correction cannot be corrected this way");
      }
      return ValidatePayload(c.corrected(), f + ".event_corrected.corrected");
    }
    case K::kCaseErased:
      return Invalid(f + ".case_erased",
                     "written by the engine only (use the Erasure API)");
    case K::kCaseReopened:
    case K::kDisclosureMade:
    case K::kPlanReviewed:
    case K::kNoteRecorded:
    case K::kLifeStatusRecorded:
      return absl::OkStatus();
    case K::kAccessRecorded:
      // Written by the server into the access log only; the services refuse
      // it from clients (services/ledger_services.cc).
      if (p.access_recorded().decision() == v1::ACCESS_DECISION_UNSPECIFIED) {
        return Invalid(f + ".access_recorded.decision", "required");
      }
      return absl::OkStatus();
    case K::KIND_NOT_SET:
      return Invalid(f, "exactly one payload kind required");
  }
  return Invalid(f, "unknown payload kind");
}

}  // namespace

absl::Status ValidatePayload(const v1::EventPayload& payload,
                             absl::string_view field) {
  return CheckPayloadFields(payload, std::string(field));
}

bool IsKnownEventType(absl::string_view type) {
  static const auto* kTypes = [] {
    auto* types = new absl::flat_hash_set<std::string>();
    const google::protobuf::OneofDescriptor* oneof =
        v1::EventPayload::descriptor()->FindOneofByName("kind");
    for (int i = 0; i < oneof->field_count(); ++i) {
      types->insert(oneof->field(i)->message_type()->name());
    }
    return types;
  }();
  return kTypes->contains(type);
}

absl::Status ValidateEnvelope(const v1::Event& event, absl::string_view field) {
  const std::string f(field);
  const v1::EventEnvelope& env = event.envelope();
  if (!IsValidEventId(env.event_id())) {
    return Invalid(f + ".envelope.event_id",
                   "must be a UUID in lower-case RFC 4122 text form");
  }
  if (env.stream_version() != 0) {
    return Invalid(f + ".envelope.stream_version", "assigned by the server");
  }
  if (env.global_position() != 0) {
    return Invalid(f + ".envelope.global_position", "assigned by the server");
  }
  if (!env.event_type().empty()) {
    return Invalid(f + ".envelope.event_type",
                   "assigned by the server from the payload");
  }
  if (env.has_recorded_at()) {
    return Invalid(f + ".envelope.recorded_at", "assigned by the server");
  }
  if (!env.prev_hash().empty() || !event.hash().empty()) {
    return Invalid(f + ".envelope.prev_hash", "assigned by the server");
  }
  if (env.schema_version() > 1) {
    return Invalid(f + ".envelope.schema_version",
                   "newer than this server supports (1)");
  }
  if (!env.has_occurred_at()) {
    return Invalid(f + ".envelope.occurred_at", "required");
  }
  if (auto s = CheckTimestamp(env.occurred_at(), f + ".envelope.occurred_at");
      !s.ok()) {
    return s;
  }
  if (env.actor().user_id().empty()) {
    return Invalid(f + ".envelope.actor.user_id", "required");
  }
  if (env.actor().role().empty()) {
    return Invalid(f + ".envelope.actor.role", "required");
  }
  if (env.actor().user_id().size() > kMaxShortString ||
      env.actor().role().size() > kMaxShortString ||
      env.actor().organization().size() > kMaxShortString) {
    return Invalid(f + ".envelope.actor", "field longer than 256");
  }
  if (!env.causation_id().empty() && !IsValidEventId(env.causation_id())) {
    return Invalid(f + ".envelope.causation_id", "must be an event id");
  }
  if (env.correlation_id().size() > kMaxShortString) {
    return Invalid(f + ".envelope.correlation_id", "longer than 256");
  }
  if (env.source().size() > kMaxShortString) {
    return Invalid(f + ".envelope.source", "longer than 256");
  }
  for (int l = 0; l < env.sensitivity_size(); ++l) {
    if (env.sensitivity(l) == v1::SENSITIVITY_LABEL_UNSPECIFIED ||
        !v1::SensitivityLabel_IsValid(env.sensitivity(l))) {
      return Invalid(absl::StrCat(f, ".envelope.sensitivity[", l, "]"),
                     "unknown label");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateKnownFields(const google::protobuf::Message& message,
                                 absl::string_view field) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  const google::protobuf::UnknownFieldSet& unknown =
      reflection->GetUnknownFields(message);
  if (!unknown.empty()) {
    return Invalid(field,
                   absl::StrCat("unknown field ", unknown.field(0).number()));
  }
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const google::protobuf::FieldDescriptor* f : fields) {
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      continue;
    }
    const std::string path = absl::StrCat(field, ".", f->name());
    if (f->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(message, f); ++i) {
        if (auto s = ValidateKnownFields(
                reflection->GetRepeatedMessage(message, f, i),
                absl::StrCat(path, "[", i, "]"));
            !s.ok()) {
          return s;
        }
      }
    } else if (auto s = ValidateKnownFields(reflection->GetMessage(message, f),
                                            path);
               !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateAppendRequest(const AppendRequest& request,
                                   const ValidationLimits& limits) {
  if (!IsValidCaseId(request.case_id)) {
    return Invalid("case_id",
                   "must be 1..128 characters of [A-Za-z0-9._:-], starting "
                   "with a letter or digit");
  }
  if (request.events.empty()) return Invalid("events", "at least one required");
  if (request.events.size() > limits.max_events_per_append) {
    return Invalid("events",
                   absl::StrCat("at most ", limits.max_events_per_append,
                                " events per append"));
  }
  if (request.index_terms.size() > kMaxIndexTerms) {
    return Invalid("index_terms",
                   absl::StrCat("at most ", kMaxIndexTerms, " terms"));
  }
  absl::flat_hash_set<absl::string_view> terms;
  for (size_t i = 0; i < request.index_terms.size(); ++i) {
    const std::string& term = request.index_terms[i];
    if (term.empty() || term.size() > kMaxIndexTermBytes) {
      return Invalid(absl::StrCat("index_terms[", i, "]"),
                     absl::StrCat("1..", kMaxIndexTermBytes, " bytes"));
    }
    if (!terms.insert(term).second) {
      return Invalid(absl::StrCat("index_terms[", i, "]"), "repeated");
    }
  }
  absl::flat_hash_set<absl::string_view> ids;
  for (size_t i = 0; i < request.events.size(); ++i) {
    const v1::Event& event = request.events[i];
    const std::string f = absl::StrCat("events[", i, "]");
    const v1::EventEnvelope& env = event.envelope();
    if (auto s = ValidateEnvelope(event, f); !s.ok()) return s;
    if (!ids.insert(env.event_id()).second) {
      return Invalid(f + ".envelope.event_id", "repeated within the append");
    }
    if (!env.case_id().empty() && env.case_id() != request.case_id) {
      return Invalid(f + ".envelope.case_id", "differs from the append's case");
    }
    if (auto s = ValidatePayload(event.payload(), f + ".payload"); !s.ok()) {
      return s;
    }
    if (auto s = ValidateKnownFields(event, f); !s.ok()) return s;
    const size_t bytes = event.ByteSizeLong();
    if (bytes > limits.max_event_bytes) {
      return Invalid(f,
                     absl::StrCat("event is ", bytes, " bytes; the limit is ",
                                  limits.max_event_bytes));
    }
  }
  return absl::OkStatus();
}

}  // namespace caseledger::engine
