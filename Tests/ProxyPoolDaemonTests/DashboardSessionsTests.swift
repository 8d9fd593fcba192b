import Testing
import ProxyPoolCore
@testable import ProxyPoolDaemon

/// Sign-in links and sessions, with the clock in the test's hands.
@Suite struct DashboardSessionsTests {
    let t0: Int64 = 1_800_000_000_000

    @Test func aLinkWorksOnceAndOnlyWithinFiveMinutes() throws {
        let s = DashboardSessions()
        let link = s.newLink(nowMillis: t0)
        #expect(link.count == 64)
        let (cookie, session) = try #require(s.redeem(link, nowMillis: t0 + 1000))
        #expect(cookie != link && session.csrf != cookie && session.id.count == 8)
        #expect(s.redeem(link, nowMillis: t0 + 2000) == nil, "a second use")
        let late = s.newLink(nowMillis: t0)
        #expect(s.redeem(late, nowMillis: t0 + DashboardSessions.linkLifetimeMillis) == nil, "at 5 minutes it is gone")
        let onTime = s.newLink(nowMillis: t0)
        #expect(s.redeem(onTime, nowMillis: t0 + DashboardSessions.linkLifetimeMillis - 1) != nil)
    }

    @Test func aSessionLastsEightHours() throws {
        let s = DashboardSessions()
        let (cookie, session) = try #require(s.redeem(s.newLink(nowMillis: t0), nowMillis: t0))
        #expect(s.session(cookie: cookie, nowMillis: t0 + DashboardSessions.sessionLifetimeMillis - 1) == session)
        #expect(s.session(cookie: cookie, nowMillis: t0 + DashboardSessions.sessionLifetimeMillis) == nil)
        #expect(s.liveSessions == 0, "an expired session is dropped when seen")
    }

    @Test func malformedAndUnknownTokensAreRefused() {
        let s = DashboardSessions()
        let link = s.newLink(nowMillis: t0)
        for bad in ["", link.uppercased(), String(link.dropLast()), link + "0", String(repeating: "g", count: 64), "../" + link] {
            #expect(s.redeem(bad, nowMillis: t0) == nil, "\(bad)")
            #expect(s.session(cookie: bad, nowMillis: t0) == nil)
        }
        #expect(s.redeem(link, nowMillis: t0) != nil, "the real one still works after the failed tries")
    }

    @Test func logoutAllEndsSessionsAndUnusedLinks() throws {
        let s = DashboardSessions()
        let (a, _) = try #require(s.redeem(s.newLink(nowMillis: t0), nowMillis: t0))
        let (b, _) = try #require(s.redeem(s.newLink(nowMillis: t0), nowMillis: t0))
        let pending = s.newLink(nowMillis: t0)
        #expect(s.endAll() == 2)
        #expect(s.session(cookie: a, nowMillis: t0) == nil && s.session(cookie: b, nowMillis: t0) == nil)
        #expect(s.redeem(pending, nowMillis: t0) == nil)
    }

    @Test func countsAreCappedOldestFirst() throws {
        let s = DashboardSessions()
        let links = (0...DashboardSessions.maxLinks).map { s.newLink(nowMillis: t0 + Int64($0)) }
        #expect(s.redeem(links[0], nowMillis: t0 + 100) == nil, "the oldest link went to make room")
        #expect(s.redeem(links[1], nowMillis: t0 + 100) != nil)
        var cookies: [String] = []
        for i in 0...DashboardSessions.maxSessions {
            let now = t0 + 1000 + Int64(i)
            cookies.append(try #require(s.redeem(s.newLink(nowMillis: now), nowMillis: now)).cookie)
        }
        #expect(s.liveSessions == DashboardSessions.maxSessions)
        #expect(s.session(cookie: cookies[0], nowMillis: t0 + 5000) == nil, "the oldest session went")
        #expect(s.session(cookie: cookies.last!, nowMillis: t0 + 5000) != nil)
    }

    @Test func controlErrorsMapToHTTPStatuses() {
        #expect(DashboardService.status(for: .invalidParams("x")) == 400)
        #expect(DashboardService.status(for: .notFound("x")) == 404)
        #expect(DashboardService.status(for: .alreadyExists("x")) == 409)
        #expect(DashboardService.status(for: .readOnly("x")) == 403)
        #expect(DashboardService.status(for: .storeFailure("x")) == 500)
        #expect(DashboardService.validMethodName("credential.add"))
        for p in ["/", "/ui/app.js", "/ui/login", "/api/v0/status"] { #expect(DashboardService.owns(p[...]), "\(p)") }
        for p in ["", "/v1/models", "/ui", "/api/v1/x", "/apix", "/healthz", "/metrics", "//", "x/"] { #expect(!DashboardService.owns(p[...]), "\(p)") }
        #expect(!DashboardService.validMethodName("credential add") && !DashboardService.validMethodName("") && !DashboardService.validMethodName("../x"))
    }
}
