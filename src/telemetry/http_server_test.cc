#include "meshid/telemetry/http_server.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace meshid::telemetry {
namespace {

using ::testing::HasSubstr;

TEST(HttpServerTest, ServesMetricsHealthAndReadiness) {
  Metrics metrics;
  prometheus::Counter& counter = prometheus::BuildCounter()
                                     .Name("meshid_test_events_total")
                                     .Help("Events seen by the test.")
                                     .Register(metrics.registry())
                                     .Add({{"result", "ok"}});
  counter.Increment(3);
  bool ready = false;
  absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Start(
      "127.0.0.1:0", metrics,
      [&ready] { return ready ? absl::OkStatus() : absl::UnavailableError("no issuing CA yet"); });
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);

  httplib::Client client("127.0.0.1", (*server)->port());
  httplib::Result m = client.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_THAT(m->body, HasSubstr("meshid_test_events_total{result=\"ok\"} 3"));
  EXPECT_THAT(m->get_header_value("Content-Type"), HasSubstr("version=0.0.4"));

  httplib::Result h = client.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  httplib::Result r = client.Get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_THAT(r->body, HasSubstr("no issuing CA yet"));
  ready = true;
  EXPECT_EQ(client.Get("/readyz")->status, 200);
  EXPECT_EQ(client.Get("/nope")->status, 404);
}

TEST(HttpServerTest, BadAddresses) {
  Metrics metrics;
  for (const char* bad : {"", "nohost", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:x"}) {
    EXPECT_EQ(HttpServer::Start(bad, metrics, [] { return absl::OkStatus(); }).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  absl::StatusOr<std::unique_ptr<HttpServer>> first =
      HttpServer::Start("127.0.0.1:0", metrics, [] { return absl::OkStatus(); });
  ASSERT_TRUE(first.ok());
  std::string taken = "127.0.0.1:" + std::to_string((*first)->port());
  EXPECT_EQ(HttpServer::Start(taken, metrics, [] { return absl::OkStatus(); }).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(SplitHostPortTest, Forms) {
  EXPECT_EQ(*SplitHostPort("127.0.0.1:8080"), std::make_pair(std::string("127.0.0.1"), 8080));
  EXPECT_EQ(*SplitHostPort("[::1]:0"), std::make_pair(std::string("::1"), 0));
  EXPECT_EQ(*SplitHostPort("localhost:9"), std::make_pair(std::string("localhost"), 9));
}

}  // namespace
}  // namespace meshid::telemetry
