// The memory allocator caseledger's programs run on.
//
// caseledgerd, casectl, caseledger_bench and the tests link jemalloc
// (CMake option CASELEDGER_MALLOC, default "jemalloc"; "system" for the
// sanitizer and fuzzing builds, whose runtimes bring their own allocator).
// Linked into the program, jemalloc's malloc/free replace glibc's for the
// whole process, gRPC, protobuf and RocksDB included. README,
// "Dependencies", says why.

#ifndef CASELEDGER_SERVICES_ALLOCATOR_H_
#define CASELEDGER_SERVICES_ALLOCATOR_H_

#include <string>

namespace caseledger::services {

// "jemalloc <version>" when jemalloc serves this process's malloc, else
// "system". Thread-safe.
std::string AllocatorName();

}  // namespace caseledger::services

#endif  // CASELEDGER_SERVICES_ALLOCATOR_H_
