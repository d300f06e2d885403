import CofferSSH
import Testing

@Suite("ssh-agent messages")
struct SSHAgentProtocolTests {
    @Test("Requests parse; malformed ones are refused, unknown ones named")
    func parsing() {
        #expect(SSHAgentProtocol.parse([11]) == .listIdentities)
        #expect(SSHAgentProtocol.parse([]) == nil)
        #expect(SSHAgentProtocol.parse([11, 0]) == nil)
        #expect(SSHAgentProtocol.parse([17, 1, 2]) == .unsupported(17))
        let sign: [UInt8] = [13, 0, 0, 0, 2, 0xAA, 0xBB, 0, 0, 0, 1, 0xCC, 0, 0, 0, 4]
        #expect(SSHAgentProtocol.parse(sign) == .sign(publicKeyBlob: [0xAA, 0xBB], data: [0xCC], flags: 4))
        #expect(SSHAgentProtocol.parse(Array(sign.dropLast())) == nil)
        #expect(SSHAgentProtocol.parse([13, 0xFF, 0xFF, 0xFF, 0xFF, 1]) == nil)
    }

    @Test("Identities list every key with its comment")
    func identities() {
        let key = SSHPrivateKey.generateEd25519(comment: "")
        let answer = SSHAgentProtocol.identities([.init(key: key, comment: "Work laptop")])
        #expect(answer.first == 12)
        #expect(Array(answer[1..<5]) == [0, 0, 0, 1])
        #expect(String(decoding: answer.suffix(11), as: UTF8.self) == "Work laptop")
    }
}
