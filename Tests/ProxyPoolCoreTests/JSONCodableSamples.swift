import ProxyPoolCore
import ProxyPoolControl

/// Values of the project's real wire types (control RPC params and results, the JSON-RPC envelope, quota
/// windows) for JSONCodableTests: what JSON.encode printed for them when it was Foundation's JSONEncoder is kept
/// there as literal text, and our encoder must print the same bytes.
enum JSONCodableSamples {
    static let window = QuotaWindow(name: "5h", usedPercent: 37.5, windowMinutes: 300, resetsAtMillis: 1_767_225_600_000)

    static let status: StatusInfo = {
        var s = StatusInfo(version: "1.4.0", pid: 4242, startedAt: "2026-12-03T18:00:00Z", uptimeSeconds: 9_223_372_036_854_775_807,
                           listen: "127.0.0.1:8787", controlSocket: "/run/proxypool/control.sock",
                           stateDirectory: "/var/lib/proxypool", database: "/var/lib/proxypool/state.db", credentials: 3,
                           enabledCredentials: 2, apps: 1, accessKeys: 0,
                           settings: Settings(freeModels: true, fallbackToPool: false, requireAccessKey: true,
                                              freeModelsByApp: ["codex": false, "Claude-Code": true, "aider": true]),
                           health: [CredentialHealth(name: "work", state: .cooling, until: "2026-12-03T19:00:00Z", model: "",
                                                     reason: "429 from upstream", secondsLeft: 3600),
                                    CredentialHealth(name: "old", state: .authFailed, until: nil, model: nil, reason: nil)])
        var account = AccountStatus(name: "me", provider: .openai, email: "me@example.com", plan: nil, login: "ok",
                                    windows: [window, QuotaWindow(name: "week", usedPercent: 100, windowMinutes: nil,
                                                                  resetsAtMillis: nil, rejected: true),
                                              QuotaWindow(name: "week (gpt-5)", usedPercent: 0.1, windowMinutes: 10080, resetsAtMillis: -1)])
        account.credits = AccountCredits(hasCredits: true, unlimited: false, balance: "5.39")
        s.accounts = [account]
        return s
    }()

    static let credential: CredentialInfo = {
        var c = CredentialInfo(name: "team/shared", provider: .azureOpenAI, secretRedacted: "sk-…abcd",
                               baseURL: "https://example.openai.azure.com/openai/v1/", options: ["deployment": "gpt-4o", "api-version": "2024-10-21"],
                               enabled: true, free: false, createdAt: "2026-01-01T00:00:00Z", updatedAt: "2026-01-02T00:00:00Z",
                               lastTest: TestResult(at: "2026-01-02T00:00:00Z", ok: false, message: "HTTP 401: \"bad key\"\n\tretry"),
                               assignedTo: ["codex", "claude-code"])
        c.quota = []
        return c
    }()

    static let addParams = RPC.CredentialAdd.Params(name: "acct", provider: "chatgpt", secret: "rt-\u{1}\u{7f}é😀",
                                                    options: [:], accessToken: "at", accessTokenExpiresAtMillis: -9_223_372_036_854_775_808)

    static let request = RPCRequest(id: .number(7), method: "credential.add", params: .object([
        "name": .string("a/b"), "n": .int(-3), "ratio": .double(0.25), "whole": .double(2), "big": .double(1e21),
        "tiny": .double(1.5e-7), "none": .null, "list": .array([.bool(true), .array([]), .object([:])]),
    ]))

    static let errorReply = RPCResponse(id: .string("x"), error: .inUse("credential 'a' is assigned", hint: "use --force"))
    static let resultReply = RPCResponse(id: .null, result: .array([.string("ok"), .int(1)]))
    static let usage = [UsageRow(day: "2026-12-03", app: "codex", credential: "me", model: "gpt-5", requests: 12, errors: 1,
                                 inputTokens: 1000, outputTokens: 2000, cachedTokens: 0)]
    static let removed = RPC.CredentialRemove.Result(name: "a", unassignedFrom: [])
}
