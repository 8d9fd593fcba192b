import ProxyPoolCore

// Model aliases: `alias.*`.

public struct AliasInfo: Codable, Sendable, Equatable {
    public var name: String
    public var model: String
    public init(name: String, model: String) { self.name = name; self.model = model }
}

extension RPC {
    public enum AliasList: RPCMethod {
        public static let name = "alias.list"; public static let mutates = false
        public typealias Params = NoParams; public typealias Result = [AliasInfo]
    }

    public enum AliasSet: RPCMethod {
        public static let name = "alias.set"; public static let mutates = true
        public typealias Params = AliasInfo; public typealias Result = AliasInfo
    }

    public enum AliasRemove: RPCMethod {
        public static let name = "alias.remove"; public static let mutates = true
        public struct Params: Codable, Sendable {
            public var name: String
            public init(name: String) { self.name = name }
        }
        public typealias Result = Empty
    }
}
