/// Hashes the random tokens Switchboard stores only as hashes: API keys, OAuth states (and the
/// PKCE verifiers derived from them), re-authorization and authorize tokens. Each carries 256
/// random bits, so a fast cryptographic hash is enough: there is nothing to brute-force.
public protocol TokenHasher: Sendable {
    func hash(_ token: String) -> [UInt8]
}
