// tessera showcase: one program that touches every module that has landed, printing what it did.
#include <cstdio>
#include <tessera/tessera.hpp>

int main() {
  const auto info = tessera::build_info();
  std::printf("tessera %s built with %s (mimalloc %s, oneTBB interop %s, assertions %s)\n",
              info.version.c_str(), info.compiler.c_str(), info.mimalloc ? "on" : "off",
              info.tbb ? "on" : "off", info.assertions ? "on" : "off");

  std::printf("priorities, most important first:");
  for (auto p : tessera::all_priorities) std::printf(" %s", tessera::to_string(p).data());
  std::printf("\n");
  return 0;
}
