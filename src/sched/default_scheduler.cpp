// The process-wide scheduler behind tessera::default_scheduler(): created on first use, drained
// at exit.
#include "tessera/sched/scheduler.hpp"

namespace tessera {

scheduler& default_scheduler() {
  static scheduler instance{{.thread_name = "tessera", .name = "default"}};
  return instance;
}

}  // namespace tessera
