#include "common/registry_auth.h"

#include <gtest/gtest.h>

namespace shoal {
namespace {

TEST(ParseAuthChallengeTest, BearerWithQuotedParamsAndCommasInScope) {
  AuthChallenge c = ParseAuthChallenge(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",)"
      R"(scope="repository:library/alpine:pull,push")");
  EXPECT_EQ(c.scheme, AuthChallenge::Scheme::kBearer);
  EXPECT_EQ(c.realm, "https://auth.docker.io/token");
  EXPECT_EQ(c.service, "registry.docker.io");
  EXPECT_EQ(c.scope, "repository:library/alpine:pull,push");
}

TEST(ParseAuthChallengeTest, BasicAndUnknownSchemes) {
  EXPECT_EQ(ParseAuthChallenge(R"(Basic realm="Registry Realm")").scheme,
            AuthChallenge::Scheme::kBasic);
  EXPECT_EQ(ParseAuthChallenge("basic").scheme, AuthChallenge::Scheme::kBasic);
  EXPECT_EQ(ParseAuthChallenge("Negotiate abc").scheme, AuthChallenge::Scheme::kUnknown);
  EXPECT_EQ(ParseAuthChallenge("").scheme, AuthChallenge::Scheme::kUnknown);
}

TEST(ParseAuthChallengeTest, UnquotedParams) {
  AuthChallenge c = ParseAuthChallenge("Bearer realm=http://h/token, service=reg");
  EXPECT_EQ(c.realm, "http://h/token");
  EXPECT_EQ(c.service, "reg");
  EXPECT_EQ(c.scope, "");
}

TEST(BasicAuthorizationTest, EncodesUserAndPassword) {
  EXPECT_EQ(BasicAuthorization({"aladdin", "opensesame"}), "Basic YWxhZGRpbjpvcGVuc2VzYW1l");
}

TEST(ParseTokenResponseTest, TokenOrAccessTokenAndExpiry) {
  absl::Time now = absl::FromUnixSeconds(1000000);
  auto t = ParseTokenResponse(R"({"token":"abc","expires_in":300})", now);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->token, "abc");
  EXPECT_GT(t->expires, now + absl::Seconds(280));
  EXPECT_LT(t->expires, now + absl::Seconds(300));
  auto a = ParseTokenResponse(R"({"access_token":"xyz"})", now);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->token, "xyz");
  EXPECT_LT(a->expires, now + absl::Seconds(60));  // default life, renewed early
  EXPECT_GT(a->expires, now + absl::Seconds(40));
  EXPECT_FALSE(ParseTokenResponse("not json", now).ok());
  EXPECT_FALSE(ParseTokenResponse(R"({"token":""})", now).ok());
}

TEST(ParseRetryAfterTest, SecondsAndHttpDate) {
  absl::Time now = absl::FromUnixSeconds(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(ParseRetryAfter("8", now), absl::Seconds(8));
  EXPECT_EQ(ParseRetryAfter(" 120 ", now), absl::Seconds(120));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:50:07 GMT", now), absl::Seconds(30));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
}

TEST(RegistryAuthCacheTest, TokensAreKeptPerScopeUntilExpiry) {
  RegistryAuthCache cache;
  absl::Time now = absl::FromUnixSeconds(1000);
  RegistryCredentials none;
  EXPECT_EQ(cache.HeaderFor("r:5000", "repository:a:pull", none, now), "");
  AuthChallenge c;
  c.scheme = AuthChallenge::Scheme::kBearer;
  c.realm = "http://r/token";
  c.scope = "repository:a:pull";
  cache.RememberBearer("r:5000", c);
  cache.StoreToken("r:5000", "repository:a:pull", {"tok-a", now + absl::Seconds(60)});
  EXPECT_EQ(cache.HeaderFor("r:5000", "repository:a:pull", none, now), "Bearer tok-a");
  EXPECT_EQ(cache.HeaderFor("r:5000", "repository:b:pull", none, now), "");
  EXPECT_EQ(cache.HeaderFor("r:5000", "repository:a:pull", none, now + absl::Seconds(61)), "");
  auto remembered = cache.BearerChallenge("r:5000");
  ASSERT_TRUE(remembered.has_value());
  EXPECT_EQ(remembered->realm, "http://r/token");
  EXPECT_EQ(remembered->scope, "");  // scope is per request, not per registry
}

TEST(RegistryAuthCacheTest, BasicRegistrySendsCredentialsUpFront) {
  RegistryAuthCache cache;
  absl::Time now = absl::FromUnixSeconds(1000);
  cache.RememberBasic("r:5000");
  EXPECT_EQ(cache.HeaderFor("r:5000", "x", {"u", "p"}, now), BasicAuthorization({"u", "p"}));
  EXPECT_EQ(cache.HeaderFor("r:5000", "x", {}, now), "");
  EXPECT_FALSE(cache.BearerChallenge("r:5000").has_value());
}

}  // namespace
}  // namespace shoal
