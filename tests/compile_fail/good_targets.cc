// Targets and arguments that must compile: the harness's control case.
// EXPECT: compiles

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mp/pipe.h"
#include "mp/process.h"
#include "mp/queue.h"
#include "mp/sync.h"

struct Point {
  int x = 0;
  std::string label;
  MP_FIELDS(x, label);
};

void Worker(mp::Lock& lock, const std::string& tag, std::vector<Point> points,
            int& scratch) {}
int Counted(std::map<std::string, std::optional<int>> counts) noexcept {
  return 0;
}
void Consumer(mp::Queue queue, mp::Connection conn, mp::Event& event) {}

class Server : public mp::Process {
 public:
  Server(int port, std::string name)
      : Process(mp::RunsAs<Server>(), port, name), port_(port) {}
  void Run() override { (void)port_; }

 private:
  int port_;
};

void Use(mp::Lock lock, mp::Queue queue, mp::Connection conn, mp::Event event) {
  mp::Process a(Worker, lock, "tag", std::vector<Point>(2), 7);
  mp::Process b(Counted, std::map<std::string, std::optional<int>>{});
  mp::Process c([](int n, const Point& p) {}, 7L, Point{});
  mp::Process d(Consumer, queue, conn, event);
  Server server(80, "http");
  (void)conn.Send(Point{});
  (void)queue.Put(std::vector<int>{1, 2});
  (void)queue.Get<Point>();
}
