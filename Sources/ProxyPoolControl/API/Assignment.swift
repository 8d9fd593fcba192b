import ProxyPoolCore

// App assignment chains: `assign`, `unassign`, `assignment.list`.

public struct Assignment: Codable, Sendable, Equatable {
    public var app: String
    public var credentials: [String]
    public init(app: String, credentials: [String]) { self.app = app; self.credentials = credentials }
}

extension RPC {
    public enum Assign: RPCMethod {
        public static let name = "assign"; public static let mutates = true
        public typealias Params = Assignment; public typealias Result = Assignment
    }

    public enum Unassign: RPCMethod {
        public static let name = "unassign"; public static let mutates = true
        public struct Params: Codable, Sendable {
            public var app: String
            public init(app: String) { self.app = app }
        }
        public typealias Result = Empty
    }

    public enum AssignmentList: RPCMethod {
        public static let name = "assignment.list"; public static let mutates = false
        public typealias Params = NoParams; public typealias Result = [Assignment]
    }
}
