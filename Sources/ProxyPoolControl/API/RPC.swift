import ProxyPoolCore

/// The control protocol shared by `proxypoold` and `proxypoolctl`: one type per method, its params and result.
/// The methods are declared by noun in this folder (Credential.swift, Tier.swift, …), each beside its wire types.
public protocol RPCMethod {
    associatedtype Params: Codable & Sendable
    associatedtype Result: Codable & Sendable
    static var name: String { get }
    /// Whether the method changes state. The server refuses it to a read-only caller (`read-only`).
    static var mutates: Bool { get }
}

public struct NoParams: Codable, Sendable, Equatable { public init() {} }
public struct Empty: Codable, Sendable, Equatable { public init() {} }

/// The namespace of the methods. Add a method to `all`; tests then insist that the daemon handles it and
/// that docs/control-protocol.md documents it.
public enum RPC {
    /// Every method, in the order docs/control-protocol.md describes them.
    public static var all: [any RPCMethod.Type] { [
        Status.self,
        CredentialAdd.self, CredentialList.self, CredentialShow.self, CredentialRemove.self, CredentialUpdate.self, CredentialSetEnabled.self,
        CredentialTest.self,
        Assign.self, Unassign.self, AssignmentList.self,
        KeyCreate.self, KeyList.self, KeyRevoke.self,
        TierList.self, TierSet.self,
        AliasList.self, AliasSet.self, AliasRemove.self,
        SettingsGet.self, SettingsSet.self,
        AppList.self, Usage.self,
        AppRuleList.self, AppRuleAdd.self, AppRuleRemove.self,
        TierClassify.self, TierRuleList.self, TierRuleAdd.self, TierRuleRemove.self,
        DashboardLink.self, DashboardLogoutAll.self,
        ConfigurePreview.self, ConfigureApply.self,
    ] }

    /// Every method's name, for documentation checks and the server's registry.
    public static let allNames: [String] = all.map { $0.name }

    /// The names of the methods that change state.
    public static let mutatingNames: [String] = all.filter { $0.mutates }.map { $0.name }
}
