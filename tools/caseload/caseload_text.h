#ifndef CASELEDGER_TOOLS_CASELOAD_CASELOAD_TEXT_H_
#define CASELEDGER_TOOLS_CASELOAD_CASELOAD_TEXT_H_

// The phrase banks of the caseload generator: fictional names and practice
// text in the client's and case manager's words. Internal to caseload.cc;
// the order of entries is part of the generated content (changing it changes
// every caseload).

#include <cstddef>

#include "caseledger/v1/common.pb.h"
#include "caseledger/v1/events.pb.h"

namespace caseledger::caseload::text {

template <typename T, size_t N>
constexpr size_t Count(const T (&)[N]) {
  return N;
}

// Fictional names.
inline constexpr const char* kFirstNames[] = {
    "Mara",   "Luca",  "Noemi",  "Jonas",  "Aylin",  "Tomasz",
    "Fatima", "Elias", "Giulia", "Kwame",  "Ines",   "Ruben",
    "Leonie", "Dario", "Amira",  "Samuel", "Chiara", "Mehmet",
    "Hanna",  "Tariq", "Lena",   "Matteo", "Zoe",    "Bogdan",
    "Priya",  "Oskar", "Selin",  "Nico",   "Maren",  "Yusuf"};
inline constexpr const char* kSurnames[] = {
    "Brunner",  "Okafor",   "Rossi",   "Meier",   "Haddad", "Lindqvist",
    "Kowalski", "Ferreira", "Nguyen",  "Bianchi", "Schmid", "Yilmaz",
    "Dubois",   "Keller",   "Mensah",  "Novak",   "Graf",   "Costa",
    "Weber",    "Amrani",   "Fischer", "Moretti", "Hoxha",  "Baumann"};
// Supporters: [0] women's names, [1] men's names (matched to relations such
// as "sister" or "brother").
inline constexpr const char* kSupporterNames[2][10] = {
    {"Anna", "Carla", "Esther", "Gabi", "Irene", "Karin", "Monika", "Nadia",
     "Rita", "Vera"},
    {"Beat", "Dominik", "Felix", "Hamid", "Jan", "Luis", "Pascal", "Stefan",
     "Theo", "Kofi"}};
// Relation of a natural supporter; gender 0 female, 1 male, -1 either.
struct Relation {
  const char* relation;
  int gender;
};
inline constexpr Relation kNaturalRelations[] = {
    {"sister", 0},   {"brother", 1}, {"mother", 0},           {"father", 1},
    {"daughter", 0}, {"son", 1},     {"neighbour", -1},       {"friend", -1},
    {"partner", -1}, {"cousin", -1}, {"former colleague", -1}};
inline constexpr const char* kPaidRelations[] = {
    "peer worker", "psychotherapist", "job coach", "occupational therapist"};
// Who certifies work capacity, per archetype (the first unused).
inline constexpr const char* kDoctors[3][3] = {
    {"Dr. Weiss (GP)", "Dr. Okoro (GP)", "Dr. Sutter (psychiatrist)"},
    {"Dr. Weiss (GP)", "Dr. Lanz (occupational physician)",
     "Dr. Sutter (psychiatrist)"},
    {"Dr. Ferri (neurologist)", "Dr. Lanz (occupational physician)",
     "Dr. Okoro (GP)"}};

// Team areas and organisations (fictional).
inline constexpr const char* kTeamAreas[] = {"north",    "south",    "east",
                                             "west",     "harbour",  "valley",
                                             "old-town", "riverside"};
inline constexpr const char* kOrganizations[] = {
    "Northgate Community Case Management", "Harbourside Social Services",
    "Valley Return-to-Work Partners", "Riverside Resilience Centre"};
inline constexpr const char* kEmployers[] = {
    "Kessler Logistics",         "Nordtal Public Utilities",
    "Gruenwald Kitchens",        "Alpine Print & Media",
    "Lakeshore Hospital",        "Medico Retail",
    "Brightside Primary School", "Rhine Valley Insurance",
    "Sonnenberg Care Home",      "Falk Engineering"};

// Strengths Model life domains (3rd ed.), the default configuration.
inline constexpr const char* kDomainConfigVersion = "strengths-model-3ed-v1";
inline constexpr const char* kDomainHome = "Home/Daily Living";
inline constexpr const char* kDomainAssets = "Assets";
inline constexpr const char* kDomainWork =
    "Employment/Education/Specialized Knowledge";
inline constexpr const char* kDomainRelationships = "Supportive Relationships";
inline constexpr const char* kDomainHealth = "Wellness/Health";
inline constexpr const char* kDomainLeisure = "Leisure/Recreation";
inline constexpr const char* kDomainSpirituality = "Spirituality/Culture";
inline constexpr const char* kDomains[] = {
    kDomainHome,   kDomainAssets,  kDomainWork,        kDomainRelationships,
    kDomainHealth, kDomainLeisure, kDomainSpirituality};

// One strengths-assessment domain: what's going on today, what I want, what
// I have used in the past.
struct DomainText {
  const char* current;
  const char* desires;
  const char* resources;
};

// Per archetype (housing, burnout, brain injury) and domain (kDomains
// order), two variants.
inline constexpr DomainText kDomainTexts[3][7][2] = {
    {
        // housing-first
        {{"Sleeping at the night shelter on Mill Road, out during the day.",
          "A place of my own with a door I can lock.",
          "Kept a flat for four years before; good at keeping things tidy."},
         {"Sleeping in the park or at friends' when the shelter is full.",
          "Somewhere quiet, near the tram, where my dog is allowed.",
          "Lived with my aunt for a while; knows how to cook on a budget."}},
        {{"Only the basic benefit; often out of money by the 20th.",
          "Money that lasts the month and no more debt collectors.",
          "Used to do the household accounts for my mother."},
         {"Debts from an old phone contract; no bank account at the moment.",
          "A bank account and a small savings pot.",
          "Sold drawings at the market once and it worked."}},
        {{"No work for two years; helps out at the soup kitchen sometimes.",
          "Part-time work with my hands, maybe in a workshop.",
          "Trained as a painter and decorator; worked ten years."},
         {"Did a few day jobs on building sites last summer.",
          "A steady job, even a small one, and a reference.",
          "Good with people; worked in a cafe for three years."}},
        {{"In touch with my sister by phone, not much else.",
          "See my daughter every weekend again.",
          "My sister has always picked up the phone."},
         {"A few friends from the street; a neighbour from the old flat.",
          "Friends who are not drinking.",
          "Old friends from the football club still say hello."}},
        {{"Anxious in crowds; sleeps badly at the shelter.",
          "Feel calmer and sleep through the night.",
          "Walking helps; used to see a counsellor who was good."},
         {"Drinking less than last year but still most days.",
          "Cut down the drinking to weekends.",
          "Stopped once for eight months with the help of a group."}},
        {{"Draws in a notebook when things are quiet.",
          "Paint again and show my pictures.",
          "Art classes at the community centre years ago."},
         {"Walks by the river every morning.",
          "Join the walking group or the community garden.",
          "Grew vegetables on my grandfather's allotment."}},
        {{"Goes to the church cafe on Sundays for the warm meal.",
          "Sing in the choir again.", "Sang in the church choir for years."},
         {"Misses the mosque community from the old neighbourhood.",
          "Go to Friday prayers again and feel part of something.",
          "The imam knew my family and helped before."}},
    },
    {
        // return-to-work (burnout)
        {{"At home all day, struggles to get going in the morning.",
          "A normal daily rhythm with time for myself.",
          "Used to have a good routine with sport and cooking."},
         {"Household falls to my partner at the moment.",
          "Share the housework fairly again.",
          "Good at planning the week when I'm well."}},
        {{"Full sick pay for now; worried about what happens after.",
          "Keep my income and my job.",
          "Insurance through the employer; savings for three months."},
         {"Mortgage payments are tight with the reduced pay.",
          "No money worries hanging over me.",
          "Did our budget together with my partner last year."}},
        {{"Off sick from work; team lead calls every two weeks.",
          "Go back to my job without ending up in the same hole.",
          "Eleven years in the company; respected for my expertise."},
         {"Signed off after months of overtime and a restructuring.",
          "A job where I can say no when it's too much.",
          "Trained apprentices and enjoyed it."}},
        {{"Partner is supportive but tired; kids notice I'm not well.",
          "Have energy for my family in the evening.",
          "My brother and I used to run together every Sunday."},
         {"Withdrew from friends over the last year.",
          "See my friends again without feeling guilty.",
          "A colleague who went through the same thing."}},
        {{"Exhausted, sleeps badly, heart races before work emails.",
          "Sleep through the night and wake up rested.",
          "Breathing exercises from a course years ago helped."},
         {"Headaches and no appetite; sees the GP every three weeks.",
          "Feel like myself again.",
          "Yoga on Tuesday evenings, before it all got too much."}},
        {{"Stopped all hobbies in the last year.",
          "Run again on Sunday mornings.", "Ran two half-marathons."},
         {"Reads a little, mostly watches TV.",
          "Play music again with the band.",
          "Played bass in a band for years."}},
        {{"Not much room for this right now.",
          "Time to go to the mountains and be quiet.",
          "Hiking trips with the family every summer."},
         {"Used to volunteer at the parish festival.",
          "Do something that has meaning beyond work.",
          "Organised the parish festival twice."}},
    },
    {
        // brain-injury-rtw
        {{"Needs reminders for appointments; partner does the shopping.",
          "Manage my week without being reminded of everything.",
          "Always kept a diary; good with lists."},
         {"Gets tired quickly; naps after lunch every day.",
          "Get through the day without a nap.",
          "The occupational therapist's daily plan worked in rehab."}},
        {{"Accident insurer pays daily allowance; lots of paperwork.",
          "Understand the insurance letters and keep on top of them.",
          "My daughter helped with the forms at the clinic."},
         {"Income dropped; partner works more hours.",
          "Back to a stable income.", "We had some savings for emergencies."}},
        {{"Off work since the injury; the employer keeps the job open.",
          "Do my old job again, even if it looks a bit different.",
          "Twenty years as an electrician; knows the trade inside out."},
         {"Tried a few hours in the office; noise was too much.",
          "Work in a quiet place with clear tasks.",
          "Experienced planner; trained new staff."}},
        {{"Partner and children very present; friends call less.",
          "Keep my friendships even if I'm slower now.",
          "Friends from the football club visited in hospital."},
         {"Feels irritable with family since the injury.",
          "Be patient with my kids again.",
          "We talk things through as a family."}},
        {{"Headaches, fatigue after an hour of concentration.",
          "Concentrate for a whole morning.",
          "Neuro-rehabilitation exercises; walking helps the headaches."},
         {"Not allowed to drive yet; neurologist check in three months.",
          "Drive again.", "Followed the rehab programme every day."}},
        {{"Watches football; can't play any more.",
          "Help with the juniors at the football club.",
          "Coached the under-12s for three years."},
         {"Used to go fishing with friends.",
          "Go fishing again on a quiet lake.",
          "Has all the gear and a friend with a boat."}},
        {{"Thinks a lot about what the injury means.",
          "Accept what has changed and go on.",
          "Faith helped when my father died."},
         {"Not much on this at the moment.",
          "Take part in the village festival again.",
          "Played in the village band."}},
    },
};

inline constexpr const char* kPriorityTexts[3][4] = {
    {"Get housed first, then everything else.",
     "Sort out the money so the flat is safe.", "Reconnect with my daughter.",
     "Start painting again."},
    {"Sleep and energy before anything else.",
     "A return to work that I can keep up.",
     "Time for my family in the evening.", "Get back to running."},
    {"A structured day I can manage.", "Back to work with the right set-up.",
     "Drive again when the doctors agree.",
     "Be part of the football club again."},
};

struct StepTemplate {
  const char* text;
  v1::ResponsibleParty who;
  const char* who_name;  // for natural supporters and others
};

struct GoalTemplate {
  const char* statement;  // in the client's own words
  // How a hurried first entry paraphrased it (fixed later by EventCorrected
  // in cases that carry a goal correction).
  const char* paraphrase;
  const char* why;
  const char* domain;
  const char* strengths[2];
  const char* gas[5];  // levels -2..+2
  StepTemplate steps[3];
};

inline constexpr GoalTemplate kGoals[3][5] = {
    {
        // housing-first
        {"I want a place of my own where I can lock the door and sleep "
         "through the night.",
         "Obtain stable housing.",
         "In the shelter I never really sleep, and until I have my own door "
         "I can't think about anything else.",
         kDomainHome,
         {"knows every service in the city", "keeps going when it gets hard"},
         {"Still sleeping rough or at the shelter most nights",
          "At the shelter, viewing flats with support",
          "Moved into a Housing First flat",
          "In the flat three months, rent paid on time",
          "Settled in the flat six months and feels at home"},
         {{"Go together to the Housing First office and fill in the "
           "application",
           v1::RESPONSIBLE_PARTY_CASE_MANAGER, ""},
          {"Collect my ID card and benefit letter from the shelter storage",
           v1::RESPONSIBLE_PARTY_CLIENT, ""},
          {"Ask my brother to help move my things on the day",
           v1::RESPONSIBLE_PARTY_NATURAL_SUPPORTER, "brother"}}},
        {"I want to get back to painting and sell some of my pictures at the "
         "Saturday market.",
         "Resume artistic activity.",
         "Painting is the one thing that always made me feel like myself.",
         kDomainLeisure,
         {"talented painter", "good eye for colour"},
         {"Not painting at all", "Sketching now and then",
          "Painting once a week at the community art room",
          "Has a set of pictures ready to sell",
          "Sold pictures at the Saturday market"},
         {{"Visit the open studio at the community centre on Thursday",
           v1::RESPONSIBLE_PARTY_CLIENT, ""},
          {"Find out what a market stall costs and who to ask",
           v1::RESPONSIBLE_PARTY_CASE_MANAGER, ""},
          {"Bring six finished pictures to the studio to frame",
           v1::RESPONSIBLE_PARTY_CLIENT, ""}}},
        {"I want to see my daughter every weekend again.",
         "Improve family contact.",
         "She is the reason I keep going.",
         kDomainRelationships,
         {"loving parent", "honest about past mistakes"},
         {"No contact with my daughter", "Phone calls now and then",
          "Seeing her twice a month", "Seeing her most weekends",
          "She stays over at my flat every other weekend"},
         {{"Call my daughter's mother to talk about visits",
           v1::RESPONSIBLE_PARTY_CLIENT, ""},
          {"Set up a corner of the flat where she can sleep",
           v1::RESPONSIBLE_PARTY_CLIENT, ""},
          {"Come with me to the family mediation appointment",
           v1::RESPONSIBLE_PARTY_CASE_MANAGER, ""}}},
        {"I want to sort out my money so I don't run out before the end of "
         "the month.",
         "Budgeting and debt management.",
         "When the money runs out I end up back on the street or borrowing "
         "from people I shouldn't.",
         kDomainAssets,
         {"good with numbers when calm", "asks for help"},
         {"Out of money in the first two weeks", "Out of money in week three",
          "Money lasts the month with help",
          "Money lasts the month; paying off one debt",
          "Does the budget alone and has a small savings pot"},
         {{"Apply for the housing allowance at the social services office",
           v1::RESPONSIBLE_PARTY_CASE_MANAGER, ""},
          {"Write down what I spend for two weeks",
           v1::RESPONSIBLE_PARTY_CLIENT, ""},
          {"First appointment at the debt counselling service",
           v1::RESPONSIBLE_PARTY_OTHER, "debt counsellor"}}},
        {"I want to feel calmer when there are a lot of people around me.",
         "Reduce anxiety symptoms.",
         "Crowds make me panic, then I leave and lose everything I planned "
         "that day.",
         kDomainHealth,
         {"knows what calms me down", "walks a lot"},
         {"Avoids buses and shops altogether",
          "Manages short trips with someone",
          "Takes the bus alone to appointments",
          "Goes shopping alone at quiet times",
          "Goes to the Saturday market alone"},
         {{"Try the breathing exercise before getting on the bus",
           v1::RESPONSIBLE_PARTY_CLIENT, ""},
          {"Ask the GP about the anxiety group at the health centre",
           v1::RESPONSIBLE_PARTY_CLIENT, ""},
          {"Walk to the market together on a quiet morning",
           v1::RESPONSIBLE_PARTY_CASE_MANAGER, ""}}},
    },
    {
        // return-to-work (burnout)
        {"I want to go back to my job without ending up in the same hole "
         "again.",
         "Return to work.",
         "I like my work and my team; I don't want to lose that, but I can't "
         "go back to how it was.",
         kDomainWork,
         {"experienced and respected in the team", "conscientious"},
         {"Still fully off work", "Back at 50% but struggling",
          "Working 50% then 80% as agreed",
          "Back at full hours with the agreed limits",
          "Full hours for three months and can say no to extra work"},
         {{"Write down which tasks drain me and which give me energy",
           v1::RESPONSIBLE_PARTY_CLIENT, ""},
          {"Prepare the meeting with my team lead and HR",
           v1::RESPONSIBLE_PARTY_CASE_MANAGER, ""},
          {"Draft the graded hours plan for the first eight weeks",
           v1::RESPONSIBLE_PARTY_OTHER, "HR partner"}}},
        {"I want to sleep through the night and wake up rested.",
         "Improve sleep hygiene.",
         "When I don't sleep everything feels impossible the next day.",
         kDomainHealth,
         {"disciplined", "willing to try new things"},
         {"Under four hours of sleep most nights", "Five hours, waking often",
          "Six hours most nights", "Seven hours most nights",
          "Wakes rested most mornings"},
         {{"No laptop or work phone after 8 pm", v1::RESPONSIBLE_PARTY_CLIENT,
           ""},
          {"Ask the GP about the sleep clinic", v1::RESPONSIBLE_PARTY_CLIENT,
           ""},
          {"Evening walk together three times a week",
           v1::RESPONSIBLE_PARTY_NATURAL_SUPPORTER, "partner"}}},
        {"I want to learn to say no at work when my plate is already full.",
         "Assertiveness at work.",
         "I always said yes, and that's how I ended up burnt out.",
         kDomainWork,
         {"clear communicator", "cares about doing things well"},
         {"Takes on every request", "Notices overload but still says yes",
          "Says no once a week with a reason",
          "Negotiates deadlines with the team lead",
          "Keeps to the agreed workload without guilt"},
         {{"Practise the 'not now, but on Thursday' answer with my partner",
           v1::RESPONSIBLE_PARTY_CLIENT, ""},
          {"Agree one fixed contact person for new requests",
           v1::RESPONSIBLE_PARTY_OTHER, "team lead"},
          {"Review in supervision which requests I accepted",
           v1::RESPONSIBLE_PARTY_CASE_MANAGER, ""}}},
        {"I want to get back to running on Sunday mornings with my brother.",
         "Resume physical activity.",
         "Running was my way to clear my head; I stopped when work took over.",
         kDomainLeisure,
         {"sporty", "enjoys company"},
         {"No exercise at all", "Walks at the weekend", "Runs 3 km once a week",
          "Runs with my brother most Sundays",
          "Running twice a week and signed up for a 10 km"},
         {{"Find my running shoes and go for a 20-minute walk-run",
           v1::RESPONSIBLE_PARTY_CLIENT, ""},
          {"Call my brother and fix the first Sunday",
           v1::RESPONSIBLE_PARTY_NATURAL_SUPPORTER, "brother"},
          {"Check with the GP that the heart is fine for running",
           v1::RESPONSIBLE_PARTY_CLIENT, ""}}},
        {"I want to have energy left for my kids in the evening.",
         "Work-life balance.",
         "They deserve a parent who is there, not just a tired body on the "
         "sofa.",
         kDomainRelationships,
         {"caring parent", "good at planning"},
         {"Too exhausted for the kids most evenings", "One good evening a week",
          "Good evenings most weekdays",
          "Cooks and plays with the kids most evenings",
          "Plans weekend trips with the family again"},
         {{"Keep one evening a week free for a game night",
           v1::RESPONSIBLE_PARTY_CLIENT, ""},
          {"Talk with my partner about sharing the evening tasks",
           v1::RESPONSIBLE_PARTY_NATURAL_SUPPORTER, "partner"},
          {"Look at the energy diary together every two weeks",
           v1::RESPONSIBLE_PARTY_CASE_MANAGER, ""}}},
    },
    {
        // brain-injury-rtw
        {"I want to do my old job again, even if it has to look a bit "
         "different.",
         "Vocational reintegration.",
         "My work is a big part of who I am; I don't want the accident to "
         "take that too.",
         kDomainWork,
         {"twenty years of trade experience", "patient and precise"},
         {"Not working", "Working a few hours with frequent breaks",
          "Working half-days with the agreed set-up",
          "Working most days with the set-up, few headaches",
          "Back in the old role with the adapted workplace"},
         {{"Visit the workplace with the case manager and list what's too "
           "loud or too busy",
           v1::RESPONSIBLE_PARTY_CASE_MANAGER, ""},
          {"Try the noise-cancelling headphones for a week at home",
           v1::RESPONSIBLE_PARTY_CLIENT, ""},
          {"Set up the quiet workstation and the written task board",
           v1::RESPONSIBLE_PARTY_OTHER, "team lead"}}},
        {"I want to get through a whole morning without losing track of what "
         "I'm doing.",
         "Improve concentration and executive function.",
         "Losing the thread makes me feel stupid, and I'm not.",
         kDomainHealth,
         {"determined", "good with lists"},
         {"Loses track within 30 minutes", "Manages an hour with breaks",
          "Manages two hours with a checklist",
          "Manages a morning with planned breaks",
          "Manages a full morning without the checklist"},
         {{"Use the daily checklist from rehab every morning",
           v1::RESPONSIBLE_PARTY_CLIENT, ""},
          {"Book the neuropsychology follow-up", v1::RESPONSIBLE_PARTY_CLIENT,
           ""},
          {"Practise one task at a time with the occupational therapist",
           v1::RESPONSIBLE_PARTY_OTHER, "occupational therapist"}}},
        {"I want to drive again.",
         "Regain driving licence.",
         "Without the car I depend on others for everything.",
         kDomainHome,
         {"careful driver for 25 years", "follows medical advice"},
         {"Not allowed to drive, no assessment booked", "Assessment booked",
          "Passed the medical check", "Driving short trips in daylight",
          "Driving to work on my own"},
         {{"Ask the neurologist when the driving assessment is possible",
           v1::RESPONSIBLE_PARTY_CLIENT, ""},
          {"Book the driving assessment at the traffic medicine centre",
           v1::RESPONSIBLE_PARTY_CASE_MANAGER, ""},
          {"Practise short trips with my partner in the passenger seat",
           v1::RESPONSIBLE_PARTY_NATURAL_SUPPORTER, "partner"}}},
        {"I want to manage my week without my partner having to remind me of "
         "everything.",
         "Independence in daily planning.",
         "My partner has become my secretary; I want us to be a couple again.",
         kDomainHome,
         {"used to running a household", "good sense of humour"},
         {"Partner reminds me of almost everything",
          "Uses the phone calendar with help",
          "Plans the week with the calendar",
          "Keeps the week on my own most weeks",
          "Plans appointments and shopping alone"},
         {{"Set up phone reminders for every appointment",
           v1::RESPONSIBLE_PARTY_CLIENT, ""},
          {"Sunday planning half-hour together, then on my own",
           v1::RESPONSIBLE_PARTY_NATURAL_SUPPORTER, "partner"},
          {"Show the calendar app to the occupational therapist",
           v1::RESPONSIBLE_PARTY_OTHER, "occupational therapist"}}},
        {"I want to go back to the football club, even if it's only helping "
         "with the juniors.",
         "Social participation.",
         "The club is where my friends are.",
         kDomainLeisure,
         {"good with kids", "knows the club well"},
         {"Not going to the club", "Watched one match",
          "Goes to training once a week to watch",
          "Helps at the junior training regularly",
          "Co-coaches the juniors on Saturdays"},
         {{"Call the junior coach and ask how I could help",
           v1::RESPONSIBLE_PARTY_CLIENT, ""},
          {"Go to a Saturday match with my friend Luis",
           v1::RESPONSIBLE_PARTY_NATURAL_SUPPORTER, "friend"},
          {"Plan rest before and after training days",
           v1::RESPONSIBLE_PARTY_CASE_MANAGER, ""}}},
    },
};

// ProtectiveFactorIdentified in the client's words, per archetype and
// factor (social support, self-efficacy, self-acceptance, coping, optimism).
inline constexpr const char* kFactorWords[3][5][2] = {
    {{"My sister always picks up, even at midnight.",
      "The people at the church cafe know my name."},
     {"I kept a flat for four years, I know I can do it.",
      "I got myself to every appointment this month."},
     {"I made mistakes, but they're not all of me.",
      "I'm not ashamed to ask for help any more."},
     {"When it gets too much I go for a walk by the river.",
      "I draw when my head gets loud."},
     {"Next summer I'll be painting at the market, you'll see.",
      "Having a key of my own changes everything."}},
    {{"My partner believes in me more than I do.",
      "My brother checks on me every Sunday."},
     {"I've handled hard projects before; this is one more.",
      "When I make a list, I get things done."},
     {"I don't have to be perfect to be good at my job.",
      "Being tired is not a weakness."},
     {"Breathing slowly before the meeting really helps.",
      "A walk at lunch and the afternoon is different."},
     {"I think this time it will work out.",
      "I can see myself enjoying work again."}},
    {{"The guys at the club still ask about me.",
      "My family is patient with me, even on bad days."},
     {"I got through rehab, I can get through this.",
      "My hands still know the trade."},
     {"I'm slower now, and that's all right.",
      "I can't change the accident; I can change what I do next."},
     {"I write it down and then it stops going round in my head.",
      "A quiet half-hour after lunch keeps the headaches away."},
     {"Things are slowly getting better.", "Every month I can do a bit more."}},
};

struct CopingText {
  const char* category;
  const char* description;
  const char* practice;
};
inline constexpr CopingText kCoping[3][3] = {
    {{"stress management", "Leave the situation and walk for ten minutes",
      "Whenever the shelter gets loud; tell staff I'm going out"},
     {"daily structure", "A fixed morning routine: coffee, shower, walk",
      "Every morning before 9, written on the fridge"},
     {"relapse prevention", "Call my sponsor instead of going to the kiosk",
      "When the craving starts, especially on Friday evenings"}},
    {{"stress management", "Three-minute breathing space before meetings",
      "Before every meeting and when emails pile up"},
     {"work structuring", "Block focus time; check email at 10 and 15 only",
      "Every working day, agreed with the team lead"},
     {"boundary setting", "Work phone off after 18:00 and at weekends",
      "Every evening; team lead informed"}},
    {{"energy management", "Plan the day in 90-minute blocks with breaks",
      "Every working day, with a timer on the phone"},
     {"work structuring", "Written task board: one task at a time",
      "At the start of each shift, with the team lead"},
     {"memory aids", "Phone reminders and a notebook for every conversation",
      "All day, reviewed each evening"}},
};

struct ResourceText {
  const char* name;
  v1::ResourceKind kind;
  const char* domain;
  const char* description;
};
inline constexpr ResourceText kResources[3][6] = {
    {{"Sunday lunch at my sister's", v1::RESOURCE_KIND_NATURAL,
      kDomainRelationships, "Weekly meal and a place to wash clothes"},
     {"Neighbour who helps with letters", v1::RESOURCE_KIND_NATURAL,
      kDomainAssets, "Reads official letters with me"},
     {"Open studio at the community centre", v1::RESOURCE_KIND_COMMUNITY,
      kDomainLeisure, "Free painting sessions on Thursdays"},
     {"Church cafe and choir", v1::RESOURCE_KIND_COMMUNITY, kDomainSpirituality,
      "Warm meal on Sundays, choir practice Wednesdays"},
     {"Housing First flat, Harbour Housing Association",
      v1::RESOURCE_KIND_FORMAL, kDomainHome,
      "Own tenancy with weekly support visits"},
     {"Debt counselling service", v1::RESOURCE_KIND_FORMAL, kDomainAssets,
      "Budget plan and negotiation with creditors"}},
    {{"Sunday runs with my brother", v1::RESOURCE_KIND_NATURAL, kDomainLeisure,
      "Fixed Sunday-morning run"},
     {"Partner's support with the evening routine", v1::RESOURCE_KIND_NATURAL,
      kDomainRelationships, "Shares the evenings and the school run"},
     {"Peer group 'After burnout'", v1::RESOURCE_KIND_COMMUNITY, kDomainHealth,
      "Fortnightly peer group at the health centre"},
     {"Yoga class at the community centre", v1::RESOURCE_KIND_COMMUNITY,
      kDomainHealth, "Tuesday evening class"},
     {"Psychotherapy, cognitive behavioural", v1::RESOURCE_KIND_FORMAL,
      kDomainHealth, "Weekly sessions, covered by insurance"},
     {"Occupational physician", v1::RESOURCE_KIND_FORMAL, kDomainWork,
      "Assesses work capacity for the graded return"}},
    {{"Partner's help with the weekly plan", v1::RESOURCE_KIND_NATURAL,
      kDomainHome, "Sunday planning together"},
     {"Friend with a boat", v1::RESOURCE_KIND_NATURAL, kDomainLeisure,
      "Quiet fishing trips at the weekend"},
     {"Brain injury peer group", v1::RESOURCE_KIND_COMMUNITY,
      kDomainRelationships, "Monthly meeting of people with brain injuries"},
     {"Football club junior section", v1::RESOURCE_KIND_COMMUNITY,
      kDomainLeisure, "Helping at junior training"},
     {"Outpatient neuro-rehabilitation", v1::RESOURCE_KIND_FORMAL,
      kDomainHealth, "Neuropsychology and occupational therapy"},
     {"Traffic medicine centre", v1::RESOURCE_KIND_FORMAL, kDomainHome,
      "Driving assessment after brain injury"}},
};

struct ReferralText {
  const char* organization;
  const char* service;
  v1::ResourceKind kind;
};
inline constexpr ReferralText kReferrals[3][3] = {
    {{"Harbour Housing Association", "Housing First tenancy",
      v1::RESOURCE_KIND_FORMAL},
     {"City Health Centre", "Anxiety group", v1::RESOURCE_KIND_FORMAL},
     {"Addiction outpatient service", "Alcohol counselling",
      v1::RESOURCE_KIND_FORMAL}},
    {{"City Health Centre", "Sleep clinic", v1::RESOURCE_KIND_FORMAL},
     {"Psychotherapy practice Lindenhof", "Cognitive behavioural therapy",
      v1::RESOURCE_KIND_FORMAL},
     {"Health centre peer groups", "Peer group 'After burnout'",
      v1::RESOURCE_KIND_COMMUNITY}},
    {{"Outpatient neuro-rehabilitation", "Neuropsychology follow-up",
      v1::RESOURCE_KIND_FORMAL},
     {"Traffic medicine centre", "Driving assessment",
      v1::RESOURCE_KIND_FORMAL},
     {"Brain injury association", "Peer group", v1::RESOURCE_KIND_COMMUNITY}},
};

inline constexpr const char* kReferralSources[3][4] = {
    {"street outreach team", "emergency night shelter", "hospital social work",
     "self-referral"},
    {"employer HR", "daily-allowance insurer", "GP", "occupational physician"},
    {"neuro-rehabilitation clinic", "accident insurer", "GP", "employer HR"},
};

inline constexpr const char* kAbsenceCauses[3][3] = {
    {"", "", ""},
    {"burnout", "exhaustion depression (burnout)",
     "burnout after a long period of overtime"},
    {"acquired brain injury after a fall from a ladder",
     "traumatic brain injury after a cycling accident",
     "acquired brain injury (stroke)"},
};

inline constexpr const char* kRecurrenceCauses[3][3] = {
    {"", "", ""},
    {"exhaustion again after a team restructuring",
     "panic attacks before work, sleep gone again",
     "relapse after the increase to full hours"},
    {"fatigue and headaches after the increase in hours",
     "epileptic seizure at work", "concentration broke down under noise"},
};

// A routine contact: what it was for and where it usually happens.
struct ContactText {
  const char* purpose;
  v1::ContactLocation location;
};
inline constexpr ContactText kContactPurposes[3][8] = {
    {{"Outreach at the day centre; talked about what a good day looks like",
      v1::CONTACT_LOCATION_COMMUNITY},
     {"Home visit; looked at the letters together", v1::CONTACT_LOCATION_HOME},
     {"Went to the social services office together",
      v1::CONTACT_LOCATION_COMMUNITY},
     {"Coffee at the market; reviewed the painting goal",
      v1::CONTACT_LOCATION_COMMUNITY},
     {"Walk by the river; talked about sleep and worries",
      v1::CONTACT_LOCATION_COMMUNITY},
     {"Accompanied to the GP appointment", v1::CONTACT_LOCATION_COMMUNITY},
     {"Planning session at the office; budget and next steps",
      v1::CONTACT_LOCATION_OFFICE},
     {"Phone call to fix the next meeting and check how the week went",
      v1::CONTACT_LOCATION_REMOTE}},
    {{"Progress conversation; looked at the energy diary",
      v1::CONTACT_LOCATION_OFFICE},
     {"Phone check-in; how the week went", v1::CONTACT_LOCATION_REMOTE},
     {"Prepared the next employer meeting", v1::CONTACT_LOCATION_OFFICE},
     {"Reviewed the stress-management strategies", v1::CONTACT_LOCATION_OFFICE},
     {"Walk and talk; sleep and evening routine",
      v1::CONTACT_LOCATION_COMMUNITY},
     {"Home visit with the partner; evenings and family time",
      v1::CONTACT_LOCATION_HOME},
     {"Short visit at the workplace with the team lead",
      v1::CONTACT_LOCATION_WORKPLACE},
     {"Video call; reviewed the plan steps", v1::CONTACT_LOCATION_REMOTE}},
    {{"Reviewed the daily checklist and fatigue diary",
      v1::CONTACT_LOCATION_OFFICE},
     {"Workplace visit: looked at the noise and lighting",
      v1::CONTACT_LOCATION_WORKPLACE},
     {"Phone check-in; headaches and energy", v1::CONTACT_LOCATION_REMOTE},
     {"Accompanied to the neuropsychology follow-up",
      v1::CONTACT_LOCATION_COMMUNITY},
     {"Home visit; planned the week with the partner",
      v1::CONTACT_LOCATION_HOME},
     {"Reviewed the task board with the team lead",
      v1::CONTACT_LOCATION_WORKPLACE},
     {"Walk in the park; talked about the football club",
      v1::CONTACT_LOCATION_COMMUNITY},
     {"Video call; reviewed the plan steps", v1::CONTACT_LOCATION_REMOTE}},
};

struct NoteText {
  const char* text;
  v1::SensitivityLabel label;  // UNSPECIFIED: none
};
inline constexpr NoteText kNotes[3][4] = {
    {{"Client spoke about the years on the street and the loss of the flat; "
      "we agreed to go at the client's pace.",
      v1::SENSITIVITY_LABEL_TRAUMA},
     {"Client reports drinking less since moving in; wants to keep the "
      "weekend rule.",
      v1::SENSITIVITY_LABEL_SUBSTANCE_USE_PART2},
     {"Rent paid on time this month; proud of it.",
      v1::SENSITIVITY_LABEL_FINANCIAL},
     {"Had a bad week, but came to the appointment anyway and said so.",
      v1::SENSITIVITY_LABEL_UNSPECIFIED}},
    {{"Client describes waking at 4 am with the heart racing; GP informed "
      "with consent.",
      v1::SENSITIVITY_LABEL_HEALTH},
     {"Talked about the guilt of being off work; counsellor to pick it up.",
      v1::SENSITIVITY_LABEL_COUNSELLING_NOTES},
     {"First week back went better than feared; kept the email times.",
      v1::SENSITIVITY_LABEL_UNSPECIFIED},
     {"Worried about the reduced pay; looked at the budget together.",
      v1::SENSITIVITY_LABEL_FINANCIAL}},
    {{"Headaches after afternoons at the screen; neurologist to review.",
      v1::SENSITIVITY_LABEL_HEALTH},
     {"Client frustrated about forgetting a meeting; used the notebook "
      "afterwards and it helped.",
      v1::SENSITIVITY_LABEL_UNSPECIFIED},
     {"Spoke about the accident and the fear of falling again.",
      v1::SENSITIVITY_LABEL_TRAUMA},
     {"Partner says the evenings are calmer since the new routine.",
      v1::SENSITIVITY_LABEL_UNSPECIFIED}},
};

inline constexpr const char* kReopenReasons[3][3] = {
    {"Lost the flat after rent arrears; asked for help again",
     "Crisis after a relationship ended; back at the shelter",
     "Asked for support again after a hospital stay"},
    {"Signs of exhaustion again after the team was restructured",
     "Employer asks for mediation about a new role",
     "Signed off again by the GP"},
    {"New job offer needs a workplace assessment",
     "Fatigue increased after changing shifts",
     "Employer asks for a review of the workplace set-up"},
};

inline constexpr const char* kTransferReasons[] = {
    "Case manager on parental leave", "Client moved to another district",
    "Caseload balancing in the team",
    "Client asked for a different case manager"};

inline constexpr const char* kSupervisionTopics[] = {
    "emotional load after a client's relapse",
    "boundaries in outreach work",
    "staying impartial in employer mediation",
    "a client's trauma story and my own reaction",
    "keeping the plan in the client's words",
    "hope when progress is slow",
    "working with families after brain injury",
    "closing cases well"};
inline constexpr const char* kReflections[] = {
    "Noticed I took over the client's decisions when I felt under pressure; "
    "agreed to ask before acting.",
    "The client's anger was about the situation, not me; naming it helped "
    "both of us.",
    "I was siding with the client against the employer; refocused on a "
    "solution both can carry.",
    "Felt overwhelmed after the home visit; planned a debrief with a "
    "colleague after difficult visits.",
    "Small steps count: the client's progress is real even if the housing "
    "goal takes longer.",
    "Used the assisted-resilience principles to prepare the next meeting."};

}  // namespace caseledger::caseload::text

#endif  // CASELEDGER_TOOLS_CASELOAD_CASELOAD_TEXT_H_
