#include "services/allocator.h"

#include <dlfcn.h>

#include <cstddef>

namespace caseledger::services {

std::string AllocatorName() {
  // jemalloc's control interface; looked up at run time so that this
  // compiles and runs the same without jemalloc (no header, no link).
  using Mallctl = int (*)(const char*, void*, size_t*, void*, size_t);
  void* symbol = dlsym(RTLD_DEFAULT, "mallctl");
  if (symbol == nullptr) return "system";
  const char* version = nullptr;
  size_t size = sizeof(version);
  if (reinterpret_cast<Mallctl>(symbol)("version", &version, &size, nullptr,
                                        0) != 0 ||
      version == nullptr) {
    return "jemalloc";
  }
  return std::string("jemalloc ") + version;
}

}  // namespace caseledger::services
