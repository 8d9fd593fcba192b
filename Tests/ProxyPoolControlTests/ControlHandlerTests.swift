import Testing
import ProxyPoolCore
@testable import ProxyPoolSystem
@testable import ProxyPoolControl

@Suite struct ControlHandlerTests {
    let caller = ControlCaller(peer: PeerCredentials(uid: 0, gid: 0, pid: 1), mayMutate: true)

    func handlers() -> ControlHandlers {
        var h = ControlHandlers()
        h.register(RPC.CredentialShow.self) { p, _ in
            guard p.name == "known" else { throw RPCError.notFound("no credential named '\(p.name)'") }
            return CredentialInfo(name: "known", provider: .openai, secretRedacted: "sk-…abcd", baseURL: nil, options: [:],
                                  enabled: true, free: false, createdAt: "t", updatedAt: "t", lastTest: nil, assignedTo: [])
        }
        h.register(RPC.CredentialSetEnabled.self) { p, _ in
            struct Boom: Error {}
            if p.name == "boom" { throw Boom() }
            throw RPCError.notFound("x")
        }
        return h
    }

    func reply(_ line: String) -> RPCResponse? { handlers().handle(line: Array(line.utf8), caller: caller) }

    @Test func dispatchesTypedParamsAndResults() {
        let r = reply(#"{"jsonrpc":"2.0","id":1,"method":"credential.show","params":{"name":"known"}}"#)
        #expect(r?.error == nil && r?.result?["secretRedacted"] == .string("sk-…abcd") && r?.id == .number(1))
    }

    @Test func namedErrors() {
        #expect(reply(#"{"jsonrpc":"2.0","id":1,"method":"nope"}"#)?.error?.name == "method-not-found")
        #expect(reply(#"{"jsonrpc":"2.0","id":1,"method":"credential.show","params":{"name":"other"}}"#)?.error?.name == "not-found")
        let missing = reply(#"{"jsonrpc":"2.0","id":1,"method":"credential.show","params":{}}"#)?.error
        #expect(missing?.name == "invalid-params" && missing?.message == "invalid params for 'credential.show': missing field 'name'")
        let wrongType = reply(#"{"jsonrpc":"2.0","id":1,"method":"credential.set-enabled","params":{"name":"a","enabled":"yes"}}"#)?.error
        #expect(wrongType?.name == "invalid-params" && wrongType?.message.contains("'enabled' must be of type boolean") == true)
        #expect(reply(#"{"jsonrpc":"2.0","id":1,"method":"credential.set-enabled","params":{"name":"boom","enabled":true}}"#)?.error?.name == "internal-error")
    }

    @Test func notificationsGetNoReply() {
        #expect(reply(#"{"jsonrpc":"2.0","method":"credential.show","params":{"name":"known"}}"#) == nil)
    }
}
