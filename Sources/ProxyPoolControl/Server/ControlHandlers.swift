import ProxyPoolCore

/// Method name → handler. Typed registration keeps params and results tied to the shared `RPCMethod` types,
/// and carries each method's `mutates` so that `handle` refuses a changing method to a read-only caller
/// before its handler runs.
public struct ControlHandlers: Sendable {
    // Untyped `throws` here: typed throws in these generic closures crashes swift-frontend 6.3.1 (SILGen).
    // Anything that is not an RPCError is reported as internal-error by `handle`.
    public typealias Raw = @Sendable (JSONValue?, ControlCaller) throws -> JSONValue
    struct Entry: Sendable {
        var mutates: Bool
        var run: Raw
    }
    private(set) var table: [String: Entry] = [:]

    public init() {}

    public mutating func register<M: RPCMethod>(_ method: M.Type,
                                                _ body: @escaping @Sendable (M.Params, ControlCaller) throws -> M.Result) {
        let name = M.name
        table[name] = Entry(mutates: M.mutates) { (raw, caller) throws -> JSONValue in
            let params: M.Params
            do { params = try JSON.convert(raw ?? .object([:]), to: M.Params.self) } catch {
                throw RPCError.invalidParams("invalid params for '\(name)': \(JSON.describe(error))")
            }
            let result = try body(params, caller)
            do { return try JSON.value(result) } catch { throw RPCError.internalError("cannot encode result: \(error)") }
        }
    }

    /// The names of the registered methods, sorted.
    public var methods: [String] { table.keys.sorted() }

    /// Handle one request line; nil for a notification (a request without id gets no reply).
    public func handle(line: [UInt8], caller: ControlCaller) -> RPCResponse? {
        switch RPCEnvelope.parseRequest(line) {
        case .failure(let e):
            return RPCResponse(id: e.id, error: e.error)
        case .success(let req):
            let id = req.id ?? .null
            let reply: RPCResponse
            if let entry = table[req.method] {
                if entry.mutates && !caller.mayMutate {
                    reply = RPCResponse(id: id, error: .readOnly(req.method))
                } else {
                    do { reply = RPCResponse(id: id, result: try entry.run(req.params, caller)) } catch let e as RPCError {
                        reply = RPCResponse(id: id, error: e)
                    } catch {
                        reply = RPCResponse(id: id, error: .internalError("\(error)"))
                    }
                }
            } else {
                reply = RPCResponse(id: id, error: .methodNotFound(req.method))
            }
            return req.id == nil ? nil : reply
        }
    }
}
