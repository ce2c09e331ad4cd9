#include <cstdio>
#include <vector>

#include "absl/time/clock.h"
#include "mp/init.h"
#include "mp/process.h"
#include "mp/shared_memory.h"

// The seed lesson's ticket counter: each buyer reads how many tickets are
// left, waits for the network, and writes back one fewer, under the lock.
void Buy(mp::Value<int> tickets, int buyer) {
  mp::Guard<mp::Lock> guard(tickets.GetLock());  // with tickets.get_lock():
  if (!guard.held()) return;
  // guard.status() is OwnerDied if a buyer died holding the lock: what it
  // wrote is still there (an int's Store is whole, so nothing to repair).
  const int left = tickets.Load();
  absl::SleepFor(absl::Milliseconds(10));  // the network
  if (left > 0) {
    tickets.Store(left - 1);
    std::printf("buyer %d got a ticket\n", buyer);
  } else {
    std::printf("buyer %d: sold out\n", buyer);
  }
}

int main(int argc, char** argv) {
  mp::MainScope scope = mp::Init(argc, argv);
  absl::StatusOr<mp::Value<int>> tickets = mp::Value<int>::Create(3);
  if (!tickets.ok()) return 1;
  std::vector<mp::Process> buyers;
  for (int i = 0; i < 10; ++i) {
    buyers.emplace_back(Buy, *tickets, i);  // the same int in every buyer
    if (!buyers.back().Start().ok()) return 1;
  }
  for (mp::Process& buyer : buyers) (void)buyer.Join();
  std::printf("tickets left: %d\n", tickets->Load());
  return 0;
}
